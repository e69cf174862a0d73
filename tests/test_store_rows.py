"""No stored row stops a start: rows the store cannot read are skipped with one log line each."""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.clock import VirtualClock
from monitor.config import parse_config
from monitor.detection.engine import MEANINGS
from monitor.records import Mention, Score
from monitor.service import Service
from monitor.store import SourceState, Store

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SCORE = Score("negative", 0.9, 0.05, 0.05, 0.8, "health_safety", 0.9, "test-model")


async def seeded(path: Path) -> None:
    """A database with three scored mentions from the last hour and two sources' states."""
    store = await Store(path).open()
    saved = await store.save_mentions([
        Mention(platform="rss", external_id=f"id-{i}", source="news", fetched_at=NOW,
                text=f"Acme cola made me sick {i}", brands=("Acme",),
                published_at=NOW - timedelta(minutes=10 + i))
        for i in range(3)
    ])
    await store.save_scores([(m, SCORE) for m in saved], NOW)
    for name in ("news", "blog"):
        await store.save_source_state(SourceState(name=name, kind="rss", last_success=NOW))
    await store.close()


def damage(path: Path, *statements: str) -> None:
    """Write odd values the way another tool or an older version might have."""
    with sqlite3.connect(path) as conn:
        for statement in statements:
            conn.execute(statement)


def skipped(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("skipped ")]


async def test_unreadable_rows_are_skipped_and_named(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "bm.db"
    await seeded(db)
    damage(
        db,
        "UPDATE source_state SET last_success = 'yesterday' WHERE name = 'blog'",
        "UPDATE mentions SET published_at = '2026-02-30T10:00:00Z' WHERE external_id = 'id-1'",
        "DELETE FROM scores",
        "INSERT INTO volume_buckets (brand, bucket_start, total) VALUES ('Acme', 'soon', 1)",
        "INSERT INTO detector_state VALUES ('volume:Acme:all', '{\"mean\": ', 'x')",
    )
    store = await Store(db).open()
    try:
        with caplog.at_level(logging.WARNING, logger="monitor.store"):
            assert [s.name for s in await store.source_states()] == ["news"]
            assert await store.source_state("blog") is None  # polls afresh, overwrites the row
            assert [m.external_id for m in await store.unscored_mentions()] == ["id-0", "id-2"]
            buckets = await store.volume("Acme", NOW - timedelta(days=1))
            assert [total for _, total, _ in buckets] == [2, 1]
            assert await store.load_detector_state("volume:Acme:all") is None
    finally:
        await store.close()
    lines = skipped(caplog)
    assert any("source_state row name='blog'" in line and "yesterday" in line for line in lines)
    assert any("mentions row id=2" in line and "day is out of range" in line for line in lines)
    assert any("volume_buckets row bucket_start='soon'" in line for line in lines)
    assert any("detector_state row key='volume:Acme:all'" in line for line in lines)
    assert all("\n" not in line for line in lines)


async def test_daemon_starts_past_rows_it_cannot_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "bm.db"
    await seeded(db)
    damage(
        db,
        "UPDATE mentions SET published_at = '2026-02-30T10:00:00Z' WHERE external_id = 'id-1'",
        f"INSERT INTO detector_state VALUES ('{MEANINGS}', '[1, 2', 'x')",
    )
    config = parse_config({
        "brands": [{"name": "Acme"}],
        "sources": [{"kind": "rss", "name": "news", "url": "https://news.example/feed"}],
        "storage": {"path": str(db)},
        "server": {"enabled": False},
    })
    service = Service(config, clock=VirtualClock(NOW))
    with caplog.at_level(logging.INFO):
        await service.start(realtime=False)
        await service.stop()
    lines = skipped(caplog)
    assert any("mentions row id=2" in line for line in lines)
    assert any(f"detector_state row key='{MEANINGS}'" in line for line in lines)
    restored = [r.getMessage() for r in caplog.records if "detection restored" in r.getMessage()]
    assert restored and "from 2 recent mentions" in restored[0]
