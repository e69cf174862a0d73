"""Several daemons on one PostgreSQL database, at the store: leases, the scoring and detection
queues, alerts in flight of a dead daemon, and incident changes from two daemons at once.

Each "daemon" here is a Store of its own (its own worker thread and connection pool), as in
separate processes; the whole daemons run in test_pg_cluster_daemons.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import numpy as np
import psycopg
import pytest

from monitor.alerting import outbox
from monitor.clock import VirtualClock
from monitor.config import ConfigError, parse_config
from monitor.detection.settings import DetectionConfig
from monitor.incidents import IncidentBook
from monitor.records import Assessment, Mention, Score
from monitor.store import PostgresTarget, Store, Tx
from tests.alerting.dispatch_support import insert_incident
from tests.pg_server import PostgresServer
from tests.store_backends import fresh_database, postgres_server  # noqa: F401

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def mention(i: int, text: str = "Acme cola made my kids sick") -> Mention:
    return Mention(
        platform="reddit", external_id=f"t3_{i}", text=f"{text} #{i}", fetched_at=NOW,
        published_at=NOW, brands=("Acme",), source="reddit", author=f"user{i}",
    )


def score(i: int) -> Score:
    return Score(
        sentiment="negative", p_negative=0.9, p_neutral=0.05, p_positive=0.05, complaint=0.2,
        harm_category="health_safety", harm_confidence=0.9, model="test",
        extra={"harm_evidence": ["made my kids sick"]},
        embedding=np.full(4, i, dtype=np.float32),
    )


@pytest.fixture
async def daemons(postgres_server: PostgresServer) -> AsyncIterator[list[Store]]:  # noqa: F811
    target = PostgresTarget(fresh_database(postgres_server))
    stores = [await Store(target).open() for _ in range(3)]
    yield stores
    for store in stores:
        await store.close()


async def hold(store: Store, name: str, holder: str, ttl: float = 30.0) -> bool:
    return await store.transaction(lambda tx: tx.cluster.hold(name, holder, ttl))


async def test_a_lease_has_one_holder_until_it_runs_out(daemons: list[Store]) -> None:
    a, b, _ = daemons
    assert await hold(a, "source:reddit", "a", ttl=0.5)
    assert not await hold(b, "source:reddit", "b")  # a holds it
    assert await hold(a, "source:reddit", "a", ttl=0.5)  # a renews
    assert await hold(b, "source:news", "b")  # another name is free
    await asyncio.sleep(0.7)  # a stops renewing: its lease runs out
    assert await hold(b, "source:reddit", "b")
    assert not await hold(a, "source:reddit", "a")
    await b.transaction(lambda tx: tx.cluster.leave("b"))  # a clean stop
    assert await hold(a, "source:reddit", "a")  # given back: free at once


async def test_a_dead_daemons_lease_is_free_before_it_runs_out(daemons: list[Store]) -> None:
    a, b, _ = daemons
    await a.transaction(lambda tx: tx.cluster.heartbeat("a", "host", 1, 0.3))
    assert await hold(a, "source:reddit", "a", ttl=600)  # three long poll intervals
    assert not await hold(b, "source:reddit", "b")  # a is alive
    await asyncio.sleep(0.5)  # a's heartbeat stops
    assert await hold(b, "source:reddit", "b")


async def test_daemons_claim_disjoint_batches_and_a_dead_claim_comes_back(
    daemons: list[Store],
) -> None:
    a, b, c = daemons
    await a.save_mentions([mention(i) for i in range(10)])

    async def claim(store: Store, holder: str, limit: int, ttl: float = 60.0) -> list[int]:
        got = await store.transaction(lambda tx: tx.cluster.claim_for_scoring(holder, limit, ttl))
        return [m.id for m in got if m.id is not None]

    first, second = await asyncio.gather(claim(a, "a", 4, ttl=0.5), claim(b, "b", 4))
    assert len(first) == len(second) == 4 and not set(first) & set(second)
    rest = await claim(c, "c", 10)
    assert sorted(first + second + rest) == sorted(set(first + second + rest))
    assert len(rest) == 2
    assert await claim(c, "c", 10) == []  # every mention is claimed
    await asyncio.sleep(0.7)  # a died holding its batch: the claim runs out
    assert sorted(await claim(c, "c", 10)) == sorted(first)


async def test_a_score_leaves_the_scoring_queue_and_reaches_the_leader_once(
    daemons: list[Store],
) -> None:
    a, b, _ = daemons
    saved = await a.save_mentions([mention(i) for i in range(3)])
    await b.save_scores([(m, score(i)) for i, m in enumerate(saved)], NOW)
    await a.save_scores([(saved[0], score(7))], NOW)  # scored twice (a claim ran out): kept once
    assert await a.read(lambda tx: tx.cluster.scoring_backlog()) == 0
    # The brand's volume baseline counts each negative mention once, whoever scored it.
    buckets = await a.volume("Acme", NOW - timedelta(hours=1))
    assert [(total, negative) for _, total, negative in buckets] == [(3, 3)]
    assert await hold(a, "detection", "a")  # a leads detection
    batch = await b.read(lambda tx: tx.cluster.detection_batch("b", 10))
    assert batch == []  # b does not lead: it reads nothing
    batch = await a.read(lambda tx: tx.cluster.detection_batch("a", 10))
    assert [m.id for m, _, _ in batch] == [m.id for m in saved]
    first_mention, first_score, vector = batch[0]
    assert first_mention.text.startswith("Acme cola made my kids sick")
    assert first_score.extra == {"harm_evidence": ["made my kids sick"]}
    assert vector.tolist() == [0.0, 0.0, 0.0, 0.0]  # the first score's embedding, not the repeat
    # Restoring a new leader leaves out what the queue still holds: it reads those next.
    assert await a.scored_mentions(NOW - timedelta(hours=1), unread=False) == []
    assert len(await a.scored_mentions(NOW - timedelta(hours=1))) == 3
    done = await a.transaction(lambda tx: tx.cluster.detection_done("a", [saved[0].id or 0]))
    assert done == 1
    restored = await a.scored_mentions(NOW - timedelta(hours=1), unread=False)
    assert [m.id for m, _ in restored] == [saved[0].id]


async def test_a_leader_that_lost_its_lease_cannot_drop_its_successors_work(
    daemons: list[Store],
) -> None:
    a, b, _ = daemons
    saved = await a.save_mentions([mention(1)])
    await a.save_scores([(saved[0], score(1))], NOW)
    assert await hold(a, "detection", "a", ttl=0.3)
    batch = await a.read(lambda tx: tx.cluster.detection_batch("a", 10))
    assert len(batch) == 1
    await asyncio.sleep(0.5)  # a stalls past its lease; b takes over
    assert await hold(b, "detection", "b")
    ids = [saved[0].id or 0]
    assert await a.transaction(lambda tx: tx.cluster.detection_done("a", ids)) == 0
    assert len(await b.read(lambda tx: tx.cluster.detection_batch("b", 10))) == 1


async def test_only_a_dead_daemons_alerts_in_flight_are_sent_again(daemons: list[Store]) -> None:
    a, b, _ = daemons
    await a.transaction(lambda tx: tx.cluster.heartbeat("alive", "host", 1, 30.0))
    await a.transaction(lambda tx: tx.cluster.heartbeat("dead", "host", 2, 0.2))
    incident = await a.transaction(lambda tx: insert_incident(tx, NOW))
    await a.transaction(lambda tx: tx.outbox.insert(
        incident_id=incident, key="k", reason="opened", severity="high",
        channels=["slack", "email"], now=NOW, not_before=NOW,
    ))
    claimed = await a.transaction(outbox.claim_due, NOW, 2, 100, "alive")
    assert sorted(r.channel for g in claimed.groups for r in g) == ["email", "slack"]
    slack = next(r for g in claimed.groups for r in g if r.channel == "slack")
    await b.transaction(lambda tx: tx.db.execute(
        "UPDATE alerts SET claimed_by = 'dead' WHERE id = ?", [slack.id]
    ))
    await asyncio.sleep(0.4)  # "dead" stopped beating
    assert await b.transaction(lambda tx: tx.outbox.release_in_flight()) == 1
    rows = {r.channel: r.status for r in await b.read(lambda tx: tx.outbox.recent())}
    assert rows == {"slack": "pending", "email": "sending"}  # the live daemon's send goes on


async def test_three_dispatchers_claiming_at_once_never_share_a_row(daemons: list[Store]) -> None:
    first = daemons[0]
    for n in range(12):
        def opened(tx: Tx, n: int = n) -> None:
            incident = insert_incident(tx, NOW, summary=f"claim {n}")
            tx.outbox.insert(
                incident_id=incident, key=f"k{n}", reason="opened", severity="high",
                channels=["slack"], now=NOW, not_before=NOW,
            )

        await first.transaction(opened)
    claims = await asyncio.gather(*(
        store.transaction(outbox.claim_due, NOW, 4, 100, f"d{n}")
        for n, store in enumerate(daemons)
    ))
    ids = [r.id for claim in claims for group in claim.groups for r in group]
    assert len(ids) == len(set(ids)) == 4  # four slots on the channel in all, not four each


async def test_two_daemons_applying_one_new_claim_open_one_incident(
    daemons: list[Store],
) -> None:
    saved = await daemons[0].save_mentions([mention(i) for i in range(6)])
    clock = VirtualClock(NOW)
    books = [
        IncidentBook(store, lambda _incident, _reason: ["slack"], clock, DetectionConfig())
        for store in daemons
    ]
    assessment = Assessment(
        key="claim:Acme:1", brand="Acme", kind="viral_claim", category="health_safety",
        severity="high", risk=0.8, summary="Acme cola made kids sick", factors=[],
        mention_ids=[m.id or 0 for m in saved], author_count=6, platforms=["reddit"], at=NOW,
    )
    results = await asyncio.gather(*(book.apply(assessment) for book in books))
    assert len({r.id for r in results if r is not None}) == 1
    url = daemons[0].target.url  # type: ignore[attr-defined]
    with psycopg.connect(url) as conn:
        opened = conn.execute("SELECT count(*) FROM incidents").fetchone()
        alerts = conn.execute("SELECT count(*) FROM alerts").fetchone()
    assert opened == (1,) and alerts == (1,)


def test_a_lease_shorter_than_three_heartbeats_is_refused() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config({"brands": [{"name": "Acme"}], "storage": {
            "url": "postgresql://bm@db.example/brand", "heartbeat": "10s", "lease": "20s",
        }})
    assert any("lease must be at least three heartbeats" in p for p in err.value.problems)
