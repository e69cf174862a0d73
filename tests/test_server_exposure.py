"""A server bound beyond loopback is reported by check-config (a warning, not an error)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.config import exposure_warnings, is_loopback_host, parse_config

cli = CliRunner(env={"COLUMNS": "250"})


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.53", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("0.0.0.0", False),
        ("::", False),
        ("", False),  # an empty host binds every interface
        ("192.168.1.20", False),
        ("10.0.0.5", False),
        ("fe80::1", False),
        ("monitor.internal", False),  # a name may resolve to any interface
    ],
)
def test_is_loopback_host(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def config_data(host: str, *, enabled: bool = True) -> dict[str, object]:
    return {
        "brands": [{"name": "Acme"}],
        "server": {"host": host, "port": 9000, "enabled": enabled},
    }


def test_exposure_warnings_name_what_is_reachable_and_the_fix() -> None:
    assert exposure_warnings(parse_config(config_data("127.0.0.1"))) == []
    assert exposure_warnings(parse_config(config_data("0.0.0.0", enabled=False))) == []
    [warning] = exposure_warnings(parse_config(config_data("0.0.0.0")))
    assert "'0.0.0.0' is not a loopback address" in warning
    assert "/healthz" in warning and "/metrics" in warning and "port 9000" in warning
    assert 'host = "127.0.0.1"' in warning and "reverse proxy" in warning
    assert "/ingest" not in warning


def test_exposure_warning_names_the_webhook_intake(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZAPIER_SECRET", "x" * 32)
    data = config_data("::")
    data["sources"] = [{"kind": "webhook", "name": "zapier", "secret": {"env": "ZAPIER_SECRET"}}]
    [warning] = exposure_warnings(parse_config(data))
    assert "/ingest/zapier" in warning


def write(tmp_path: Path, host: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[[brands]]\nname = "Acme"\n[server]\nhost = "{host}"\n', encoding="utf-8")
    return path


def test_check_config_warns_about_a_wildcard_host_and_still_passes(tmp_path: Path) -> None:
    result = cli.invoke(app, ["check-config", str(write(tmp_path, "0.0.0.0"))])
    assert result.exit_code == 0, result.output
    assert "server:  http://0.0.0.0:8787" in result.stdout
    assert "warning:" in result.stderr
    assert "/healthz and /metrics" in result.stderr and "reverse proxy" in result.stderr


def test_check_config_is_quiet_on_loopback(tmp_path: Path) -> None:
    result = cli.invoke(app, ["check-config", str(write(tmp_path, "127.0.0.1"))])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output
