"""The detection glue on the live path: stored, scored mentions -> incidents and outbox rows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from monitor.alerting.routing import Router
from monitor.clock import VirtualClock
from monitor.config import parse_config
from monitor.detection.engine import DetectionEngine
from monitor.incidents import IncidentBook
from monitor.store import Store
from tests.detection.factory import T0, at, claim_vector, mention, score

CLAIM = "Acme cola made my whole family sick, food poisoning, see {url}"
LINK = "https://news.example/acme-cola-poisoning"


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[tuple[DetectionEngine, Store, VirtualClock]]:
    config = parse_config({"brands": [{"name": "acme"}]})
    store = await Store(tmp_path / "bm.db").open()
    clock = VirtualClock(T0)
    book = IncidentBook(
        store, Router(config).route, clock, config.detection,
        group_wait=config.alerting.group_wait,
    )
    yield DetectionEngine(store, book, clock, config.detection), store, clock
    await store.close()


async def feed(engine: DetectionEngine, store: Store, clock: VirtualClock, batch: list) -> None:
    saved = await store.save_mentions([m for m, _ in batch])
    by_id = {m.external_id: s for m, s in batch}
    scored = [(m, by_id[m.external_id]) for m in saved]
    await store.save_scores(scored, clock.now())
    await engine.on_scored(scored)


async def test_spreading_harm_claim_opens_one_high_incident_with_alerts(
    rig: tuple[DetectionEngine, Store, VirtualClock],
) -> None:
    engine, store, clock = rig
    platforms = ["x", "reddit", "mastodon"]
    for minute in range(0, 50, 5):  # ten batches of three posts, three platforms, one link
        clock.set(T0.replace(minute=minute))
        batch = []
        for k in range(3):
            n = minute * 10 + k + 1
            m = mention(n, CLAIM.format(url=LINK), minutes=minute, platform=platforms[k],
                        reach=2000, url=f"https://{platforms[k]}.example/{n}")
            m.id = None  # the store assigns ids
            batch.append((m, score(harm="health_safety", harm_confidence=0.9)))
        await feed(engine, store, clock, batch)
    incidents = await engine.book.list()
    assert len(incidents) == 1
    incident = incidents[0]
    assert incident.kind == "viral_claim" and incident.category == "health_safety"
    assert incident.severity in ("high", "critical")
    assert incident.author_count >= 20 and len(incident.platforms) == 3
    rows = await store.read(lambda tx: tx.sqlite.execute("SELECT reason FROM alerts").fetchall())
    assert ("opened",) in rows  # the outbox row was written with the incident


async def test_single_angry_post_from_small_account_is_no_incident(
    rig: tuple[DetectionEngine, Store, VirtualClock],
) -> None:
    engine, store, clock = rig
    m = mention(1, "Acme support is useless, I am furious", reach=40)
    m.id = None
    await feed(engine, store, clock, [(m, score(complaint=0.95))])
    assert await engine.book.list() == []


async def test_embeddings_join_paraphrases_into_one_cluster(
    rig: tuple[DetectionEngine, Store, VirtualClock],
) -> None:
    engine, store, clock = rig
    texts = ["Acme app leaked my card details", "acme exposed my payment card to strangers",
             "the Acme app breach put my card number online", "Acme sold my location data"]
    topics = [3, 3, 3, 7]  # three paraphrases of one privacy claim, one other privacy claim
    batch = []
    for n, (text, topic) in enumerate(zip(texts, topics, strict=True), start=1):
        m = mention(n, text, minutes=n, platform=["x", "reddit", "bluesky", "x"][n - 1])
        m.id = None
        asserting = score(harm="privacy_security", harm_confidence=0.8)
        batch.append((m, replace(asserting, extra={"harm_evidence": ["leaked"]},
                                 embedding=claim_vector(topic, jitter=n))))
    clock.set(at(5))
    await feed(engine, store, clock, batch)
    sizes = sorted(c.mention_count for c in engine.claims.clusters("acme"))
    assert sizes == [1, 3]


async def test_restart_restores_clusters_so_a_growing_claim_keeps_its_incident(
    tmp_path: Path,
) -> None:
    config = parse_config({"brands": [{"name": "acme"}]})
    clock = VirtualClock(T0)

    async def engine_on(store: Store) -> DetectionEngine:
        book = IncidentBook(store, Router(config).route, clock, config.detection)
        engine = DetectionEngine(store, book, clock, config.detection)
        await engine.restore()
        return engine

    def wave(start: int, count: int) -> list:
        batch = []
        for n in range(start, start + count):
            m = mention(n, CLAIM.format(url=LINK), minutes=n, platform=["x", "reddit"][n % 2],
                        reach=5000, url=f"https://x.example/{n}")
            m.id = None
            batch.append((m, score(harm="health_safety", harm_confidence=0.9)))
        return batch

    store = await Store(tmp_path / "bm.db").open()
    engine = await engine_on(store)
    clock.set(at(20))
    await feed(engine, store, clock, wave(1, 20))
    first = await engine.book.list()
    assert len(first) == 1
    await store.close()

    store = await Store(tmp_path / "bm.db").open()  # the daemon restarts
    engine = await engine_on(store)
    assert engine.active and len(engine.claims) == 1
    clock.set(at(40))
    await feed(engine, store, clock, wave(21, 20))
    after = await engine.book.list()
    assert [i.id for i in after] == [first[0].id]
    assert after[0].mention_count == 40
    await store.close()


async def test_restart_keeps_the_incident_of_a_claim_whose_members_came_out_of_order(
    tmp_path: Path,
) -> None:
    """A feed item published before the claim's first post but stored after it anchors the
    cluster when it is rebuilt in published order; the open incident must still be found."""
    config = parse_config({"brands": [{"name": "acme"}]})
    clock = VirtualClock(T0)
    texts = [
        "Acme cola made my whole family sick last night",
        "after one can of acme cola my son was vomiting for hours",
        "two of us got food poisoning from the acme cola bottles",
        "my wife ended up in hospital after drinking acme cola",
        "acme cola gave my roommate the worst stomach cramps",
    ]

    def post(n: int, text: str, minutes: float, link: str | None = None) -> tuple:
        m = mention(n, text + (f" {link}" if link else ""), minutes=minutes, reach=20_000,
                    platform=["x", "reddit", "mastodon"][n % 3])
        m.id = None
        s = replace(score(harm="health_safety", harm_confidence=0.9),
                    embedding=claim_vector(4, jitter=n))
        return m, s

    async def engine_on(store: Store) -> DetectionEngine:
        book = IncidentBook(store, Router(config).route, clock, config.detection)
        engine = DetectionEngine(store, book, clock, config.detection)
        await engine.restore()
        return engine

    store = await Store(tmp_path / "bm.db").open()
    engine = await engine_on(store)
    clock.set(at(20))
    await feed(engine, store, clock, [post(n, texts[n - 1], 10 + n) for n in range(1, 5)])
    # Published at minute 2 (before all of them) but fetched late; it joins by meaning.
    await feed(engine, store, clock, [post(5, texts[4], 2, link="https://v.example/cola")])
    [first] = await engine.book.list()
    await store.close()

    store = await Store(tmp_path / "bm.db").open()  # the daemon restarts
    engine = await engine_on(store)
    assert engine.claims.get(first.cluster_key) is not None
    clock.set(at(30))
    # New posts: one says the same thing in other words, one shares the late item's link.
    await feed(engine, store, clock, [post(6, "my daughter threw up all night after one can", 25)])
    assert [(i.id, i.mention_count) for i in await engine.book.list()] == [(first.id, 6)]
    await feed(engine, store, clock, [
        post(7, "Acme cola is poisoning people, look", 26, link="https://v.example/cola"),
    ])
    after = await engine.book.list()
    assert [i.id for i in after] == [first.id], [(i.id, i.cluster_key) for i in after]
    assert after[0].mention_count == 7
    await store.close()
