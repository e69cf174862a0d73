"""Retention pruning: small write jobs that let the daemon's other work through, evidence kept."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from blockbuster import BlockBuster

from monitor.clock import VirtualClock
from monitor.detection.settings import DetectionConfig
from monitor.incidents import IncidentBook
from monitor.records import Assessment, Engagement, Incident, Mention, RiskFactor, Score
from monitor.store import PRUNE_BATCH, PostgresTarget, Store
from tests.store_backends import postgres_server, store_location  # noqa: F401 - fixtures

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
CUTOFF = NOW - timedelta(days=90)


def mention(i: int, days_old: float, text: str = "Acme cola made me sick") -> Mention:
    return Mention(
        platform="rss", external_id=f"id-{i}", source="feed", text=f"{text} #{i}",
        fetched_at=NOW, published_at=NOW - timedelta(days=days_old, seconds=i),
        brands=("Acme",), engagement=Engagement(likes=i, shares=1),
    )


@pytest.fixture
async def store(store_location: Path | PostgresTarget) -> AsyncIterator[Store]:  # noqa: F811
    s = await Store(store_location).open()
    yield s
    await s.close()


async def test_other_writes_run_between_prune_batches(
    store: Store, no_blocking: BlockBuster
) -> None:
    old = await store.save_mentions([mention(i, days_old=100) for i in range(3 * PRUNE_BATCH)])
    score = Score("negative", 0.9, 0.05, 0.05, 0.8, "health_safety", 0.9, "test-model")
    await store.save_scores([(m, score) for m in old], NOW)

    pruning = asyncio.create_task(store.prune(CUTOFF))
    await asyncio.sleep(0)  # the prune queues its first write job
    # An ingest batch arriving now is stored after one batch, not after the whole prune.
    fresh = await store.save_mentions([mention(10_000, days_old=0)])
    assert len(fresh) == 1
    assert not pruning.done()
    assert await pruning == 3 * PRUNE_BATCH
    assert await store.count_mentions() == 1
    assert [h["external_id"] for h in await store.search_mentions("sick")] == ["id-10000"]
    buckets = await store.volume("Acme", NOW - timedelta(days=365))
    assert [(total, negative) for _, total, negative in buckets] == [(1, 0)]


def assessment(mention_ids: list[int]) -> Assessment:
    return Assessment(
        brand="Acme", kind="viral_claim", key="claim:acme:sick", category="health_safety",
        risk=0.8, severity="high", factors=[RiskFactor("spread", 0.9, "12 authors")],
        summary="Acme cola made people sick", mention_ids=mention_ids,
        author_count=len(mention_ids), platforms=["rss"], at=NOW,
    )


async def test_prune_keeps_mentions_that_are_evidence_of_an_incident(store: Store) -> None:
    total = 2 * PRUNE_BATCH + 300
    old = await store.save_mentions([mention(i, days_old=95) for i in range(total)])
    evidence = [m.id for m in old[::97] if m.id is not None]  # spread over every batch
    book = IncidentBook(store, lambda incident, reason: ["ops"], VirtualClock(NOW),
                        DetectionConfig(), group_wait=60)
    incident = await book.apply(assessment(evidence))
    assert isinstance(incident, Incident) and incident.status == "open"

    assert await store.prune(CUTOFF) == total - len(evidence)
    assert await store.count_mentions() == len(evidence)
    shown = await book.top_mentions(incident.id, limit=len(evidence))
    assert sorted(m["id"] for m in shown) == sorted(evidence)
    assert await store.prune(CUTOFF) == 0  # and a later prune keeps them too


async def test_prune_removes_only_what_is_older_than_the_cutoff(store: Store) -> None:
    await store.save_mentions(
        [mention(i, days_old=91) for i in range(PRUNE_BATCH)]
        + [mention(PRUNE_BATCH + i, days_old=89) for i in range(PRUNE_BATCH)]
    )
    assert await store.prune(CUTOFF) == PRUNE_BATCH  # exactly one full batch, then the end
    assert await store.count_mentions() == PRUNE_BATCH
    kept = await store.volume("Acme", NOW - timedelta(days=365))
    assert sum(total for _, total, _ in kept) == PRUNE_BATCH
    assert min(start for start, _, _ in kept) >= CUTOFF - timedelta(minutes=5)
