"""`brand-monitor web hash-password` prints a hash the dashboard accepts."""

from __future__ import annotations

from typer.testing import CliRunner

from monitor.cli import app
from monitor.web.auth import verify_password


def test_hash_password_prints_a_verifiable_argon2_hash() -> None:
    result = CliRunner().invoke(app, ["web", "hash-password"],
                                input="a long passphrase\na long passphrase\n")
    assert result.exit_code == 0, result.output
    printed = result.output.strip().splitlines()[-1]
    assert printed.startswith("$argon2id$")
    assert verify_password(printed, "a long passphrase")
    assert not verify_password(printed, "another passphrase")


def test_hash_password_refuses_a_short_one() -> None:
    result = CliRunner().invoke(app, ["web", "hash-password"], input="short\nshort\n")
    assert result.exit_code != 0
    assert "at least 10 characters" in result.output
