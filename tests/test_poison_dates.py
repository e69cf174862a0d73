"""Dates from the outside world: no publication date, stored row or year can stop the daemon."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.clock import from_iso, iso
from monitor.config import parse_config
from monitor.records import Mention, Score
from monitor.service import Service
from monitor.store import Store
from tests.connectors.replay_server import ReplayServer, Reply
from tests.test_service import wait_for
from tests.test_stop import Daemon, _config

POISONED_FEED = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
    "<item><title>Acme skates recalled</title><link>https://n.example/1</link><guid>1</guid>"
    "<pubDate>Sat, 01 Jun 0999 00:00:00 GMT</pubDate></item>"
    "<item><title>Acme skates are fine</title><link>https://n.example/2</link><guid>2</guid>"
    "<pubDate>Thu, 01 Jan 1970 00:00:00 GMT</pubDate></item>"
    "<item><title>Acme skates review</title><link>https://n.example/3</link><guid>3</guid>"
    "<pubDate>Mon, 30 Nov 2026 10:00:00 GMT</pubDate></item>"
    "</channel></rss>"
)


@pytest.mark.parametrize("year", [1, 999, 1000, 1969, 2026, 9999])
def test_timestamps_round_trip_and_sort_for_every_year(year: int) -> None:
    when = datetime(year, 6, 1, 12, 30, 5, 123456, tzinfo=UTC)
    text = iso(when)
    assert text is not None and text.startswith(f"{year:04d}-06-01T12:30:05.123456")
    assert from_iso(text) == when
    later = iso(datetime(year, 6, 1, 12, 30, 6, tzinfo=UTC))
    assert later is not None and text < later < "9999-12-31T23:59:59.999999Z~"


def test_rows_written_by_older_versions_with_short_years_still_parse() -> None:
    assert from_iso("999-06-01T00:00:00.000000Z") == datetime(999, 6, 1, tzinfo=UTC)


async def test_a_pre_web_publication_date_is_stored_as_unknown_and_detection_keeps_running(
    tmp_path: Path, aiohttp_server: Any, caplog: pytest.LogCaptureFixture,
) -> None:
    replay = ReplayServer(repeat_last=True)
    replay.add("/feed.xml", Reply(body=POISONED_FEED.encode(), content_type="application/rss+xml"))
    feed = await aiohttp_server(replay.app())
    config = parse_config({
        "brands": [{"name": "Acme"}],
        "sources": [{"kind": "rss", "name": "news", "url": str(feed.make_url("/feed.xml"))}],
        "storage": {"path": str(tmp_path / "bm.db")},
        "server": {"enabled": False},
    })
    service = Service(config)
    await service.start()
    try:
        await wait_for(lambda: bool(
            service.runners["news"].state and service.runners["news"].state.last_success
        ))
        rows = await service.store.read(lambda tx: list(tx.sqlite.query(
            "SELECT title, published_at, seen_at, fetched_at FROM mentions ORDER BY id"
        )))
        assert len(rows) == 3
        by_title = {r["title"]: r for r in rows}
        for bad in ("Acme skates recalled", "Acme skates are fine"):
            assert by_title[bad]["published_at"] is None
            assert by_title[bad]["seen_at"] == by_title[bad]["fetched_at"]
        assert by_title["Acme skates review"]["published_at"].startswith("2026-11-30T10:00")
        caplog.clear()
        await service.detection.tick()  # the volume watch reads every bucket
        assert "failed" not in caplog.text
    finally:
        await service.stop()


def _poison_as_an_older_version_did(db: Path) -> None:
    """A store holding what v0.2 wrote for a year-999 date, before the repair migration."""

    async def build() -> None:
        store = await Store(db).open()
        now = datetime.now(UTC)
        [saved] = await store.save_mentions([Mention(
            platform="rss", external_id="poison", source="news", brands=("Acme",),
            text="Acme skates recalled", published_at=now - timedelta(hours=1), fetched_at=now,
        )])
        assert saved.id is not None
        await store.save_scores([(saved, Score(
            sentiment="negative", p_negative=0.8, p_neutral=0.1, p_positive=0.1, complaint=0.5,
            harm_category="legal_regulatory", harm_confidence=0.8, model="test",
        ))], now)
        await store.close()

    asyncio.run(build())
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE mentions SET published_at = ?, seen_at = ?",
                     ["999-06-01T00:00:00.000000Z"] * 2)
        conn.execute("INSERT INTO volume_buckets (brand, bucket_start, total, negative) "
                     "VALUES ('Acme', '999-06-01T00:00:00.000000Z', 1, 1)")
        conn.execute("DELETE FROM schema_migrations WHERE version >= 6")
    conn.close()


def test_a_store_poisoned_by_an_older_version_starts_and_is_repaired(tmp_path: Path) -> None:
    db = tmp_path / "bm.db"
    _poison_as_an_older_version_did(db)
    daemon = Daemon(_config(tmp_path))
    try:
        daemon.wait_for("brand-monitor started")
        daemon.terminate(timeout=30)
    finally:
        daemon.kill()
    out = "".join(daemon.lines)
    assert "Traceback" not in out and "Invalid isoformat" not in out, out
    conn = sqlite3.connect(db)
    published, seen, fetched = conn.execute(
        "SELECT published_at, seen_at, fetched_at FROM mentions"
    ).fetchone()
    [poisoned_buckets] = conn.execute(
        "SELECT count(*) FROM volume_buckets WHERE bucket_start LIKE '999-%'"
    ).fetchone()
    conn.close()
    assert published is None and seen == fetched
    assert poisoned_buckets == 0
