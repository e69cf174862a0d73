"""`brand-monitor incidents ack ID`, exactly as alerts print it, works without --by."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.test_cli_incidents import build, invoke


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "bm.db"
    asyncio.run(build(path))
    return path


def test_ack_without_by_records_the_os_user(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGNAME", "dana")  # getpass.getuser() reads LOGNAME first
    code, output = invoke(db, "ack", "1")
    assert code == 0, output
    assert "acknowledged by dana" in output
