"""The store: migrations, dedupe, full-text search, daemon lock, retention.

Tests taking `store` run on SQLite and on PostgreSQL (tests/store_backends.py); the others are
about SQLite's file, its FTS5 syntax or its file lock (PostgreSQL's: tests/test_pg_store.py).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.records import Engagement, EngagementUpdate, Mention, Score
from monitor.store import PostgresTarget, SourceState, Store, StoreError
from monitor.store.schema import MIGRATIONS
from tests.store_backends import postgres_server, store_location  # noqa: F401 - fixtures

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def mention(i: int, text: str = "Acme made me sick", **kw: object) -> Mention:
    fields: dict[str, object] = {
        "platform": "rss", "external_id": f"id-{i}", "text": text, "fetched_at": NOW,
        "published_at": NOW - timedelta(minutes=i), "brands": ("Acme",), "source": "feed",
    }
    fields.update(kw)
    return Mention(**fields)  # type: ignore[arg-type]


@pytest.fixture
async def store(store_location: Path | PostgresTarget) -> Store:  # noqa: F811
    s = await Store(store_location).open()
    yield s
    await s.close()


async def test_migrations_are_recorded_once(tmp_path: Path) -> None:
    path = tmp_path / "bm.db"
    for _ in range(2):  # reopening applies nothing twice
        s = await Store(path).open()
        await s.close()
    rows = sqlite3.connect(path).execute("SELECT version, name FROM schema_migrations").fetchall()
    assert rows == [(version, name) for version, name, _ in MIGRATIONS]
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_repeated_polls_never_duplicate(store: Store) -> None:
    first = await store.save_mentions([mention(i) for i in range(5)])
    again = await store.save_mentions([mention(i) for i in range(7)])
    assert len(first) == 5
    assert [m.external_id for m in again] == ["id-5", "id-6"]
    assert await store.count_mentions() == 7


async def test_same_canonical_url_is_one_mention(store: Store) -> None:
    a = mention(1, url="https://news.example/a?utm_source=x", canonical_url="https://news.example/a")
    b = mention(2, url="https://news.example/a", canonical_url="https://news.example/a")
    c = mention(3, canonical_url="https://news.example/a", platform="reddit")
    assert len(await store.save_mentions([a, b])) == 1  # within one batch
    assert await store.save_mentions([c]) == []  # and across batches


async def test_full_text_search(store: Store) -> None:
    await store.save_mentions([
        mention(1, "Acme cola gave my kids food poisoning"),
        mention(2, "Loving the new Acme rocket skates"),
        mention(3, "Acmeの新製品で食中毒になった"),
    ])
    hits = await store.search_mentions("poisoning")
    assert [h["external_id"] for h in hits] == ["id-1"]
    assert [h["external_id"] for h in await store.search_mentions('"rocket skates"')] == ["id-2"]
    assert [h["external_id"] for h in await store.search_mentions("食中毒")] == ["id-3"]
    assert len(await store.search_mentions("acme", since=NOW - timedelta(minutes=1.5))) == 1


async def test_malformed_query_is_a_clear_error(tmp_path: Path) -> None:
    # FTS5 syntax; PostgreSQL's web-search syntax has no malformed queries.
    store = await Store(tmp_path / "bm.db").open()
    with pytest.raises(StoreError, match="cannot search for"):
        await store.search_mentions('"unterminated')
    await store.close()


async def test_second_daemon_on_same_database_is_refused(tmp_path: Path) -> None:
    first = await Store(tmp_path / "bm.db", exclusive=True).open()
    with pytest.raises(StoreError, match="another brand-monitor daemon .* is already using"):
        await Store(tmp_path / "bm.db", exclusive=True).open()
    await first.close()
    second = await Store(tmp_path / "bm.db", exclusive=True).open()  # free again after close
    await second.close()


async def test_prune_keeps_recent_mentions(store: Store) -> None:
    old = mention(1, published_at=NOW - timedelta(days=100))
    await store.save_mentions([old, mention(2)])
    assert await store.prune(NOW - timedelta(days=90)) == 1
    assert [h["external_id"] for h in await store.search_mentions("sick")] == ["id-2"]


async def test_volume_buckets_count_totals_and_negatives(store: Store) -> None:
    batch = [mention(i, published_at=NOW.replace(minute=1)) for i in range(3)]
    saved = await store.save_mentions(batch)
    score = Score("negative", 0.9, 0.05, 0.05, 0.8, "health_safety", 0.9, "test-model")
    await store.save_scores([(saved[0], score), (saved[1], score)], NOW)
    assert await store.volume("Acme", NOW - timedelta(hours=1)) == [(NOW, 3, 2)]
    assert len(await store.unscored_mentions()) == 1


async def test_engagement_snapshots(store: Store) -> None:
    await store.save_mentions([mention(1, engagement=Engagement(likes=3, shares=1))])
    update = EngagementUpdate("rss", "id-1", Engagement(likes=30, shares=12), NOW)
    unknown = EngagementUpdate("rss", "nope", update.engagement, NOW)
    assert await store.add_engagement([update, unknown]) == 1


async def test_source_state_round_trip(store: Store) -> None:
    state = SourceState(
        name="feed", kind="rss", cursor={"seen": ["a"]}, etag='"v1"',
        last_success=NOW, consecutive_failures=2, disabled_until=NOW + timedelta(minutes=5),
        budget={"remaining": 10, "limit": 100, "resets_at": None, "unit": "requests"},
    )
    await store.save_source_state(state)
    assert await store.source_state("feed") == state
    assert await store.source_state("other") is None
