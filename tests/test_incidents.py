"""Incident lifecycle against a real store (SQLite and PostgreSQL), with virtual time and a
lambda router."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.clock import VirtualClock, iso
from monitor.detection.claims import ClaimIndex
from monitor.detection.risk import assess_claim
from monitor.detection.settings import DetectionConfig
from monitor.incidents import IncidentBook, IncidentError
from monitor.records import SEVERITIES, Assessment, Incident, Mention, RiskFactor
from monitor.store import PostgresTarget, Store
from tests.detection.factory import T0, at, claim_vector, mention, score
from tests.store_backends import postgres_server, select, store_location  # noqa: F401 - fixtures

SICK = "Acme cola gave my whole family food poisoning, do not drink it"
SETTINGS = DetectionConfig(quiet_period="2h", reopen_window="1d")
GROUP_WAIT = 90.0


def to_slack(incident: Incident, reason: str) -> list[str]:
    return ["slack-ops"]


@pytest.fixture
async def store(store_location: Path | PostgresTarget) -> AsyncIterator[Store]:  # noqa: F811
    s = await Store(store_location).open()
    yield s
    await s.close()


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(T0)


@pytest.fixture
def book(store: Store, clock: VirtualClock) -> IncidentBook:
    return IncidentBook(store, to_slack, clock, SETTINGS, group_wait=GROUP_WAIT)


async def saved(store: Store, mentions: list[Mention]) -> list[Mention]:
    return await store.save_mentions(mentions)


def rows(store: Store, sql: str) -> list[tuple[Any, ...]]:
    return select(store, sql)


def verdict(
    key: str = "claim:acme:1",
    *,
    severity: str | None = "high",
    risk: float = 0.7,
    minutes: float = 0,
    mention_ids: list[int] | None = None,
    category: str = "health_safety",
    platforms: list[str] | None = None,
) -> Assessment:
    return Assessment(
        brand="acme", kind="viral_claim", key=key, category=category, risk=risk,
        severity=severity,
        factors=[RiskFactor("spread", 0.9, "12 authors on 2 platforms in 40 min")],
        summary="Acme cola made people sick", mention_ids=mention_ids or [],
        author_count=len(mention_ids or []), platforms=platforms or ["mastodon"], at=at(minutes),
    )


async def test_growing_claim_opens_at_high_before_its_peak_and_alerts_once_per_change(
    store: Store, book: IncidentBook, clock: VirtualClock
) -> None:
    # 3 hours of one claim: it accelerates to a peak at 90 minutes and then fades.
    index = ClaimIndex(SETTINGS)
    minute_marks = [m for m in range(0, 180) if (m < 90 and m % max(1, 10 - m // 10) == 0)
                    or (m >= 90 and m % 15 == 0)]
    platforms = ("mastodon", "bluesky", "reddit")
    high_at = None
    for n, minute in enumerate(minute_marks, start=1):
        clock.set(at(minute))
        [stored] = await saved(store, [mention(n, SICK + f" #{n}", minutes=minute,
                                               platform=platforms[n % 3])])
        for cluster in index.add([(stored, score(harm="health_safety", harm_confidence=0.85),
                                   claim_vector(0, n))], now=at(minute)):
            incident = await book.apply(assess_claim(cluster, at(minute), SETTINGS))
            if incident and high_at is None and SEVERITIES.index(incident.severity) >= 3:
                high_at = minute
    assert high_at is not None and high_at < 90
    [incident] = await book.list()
    assert incident.status == "open" and incident.mention_count == len(minute_marks)
    assert incident.platforms == ["bluesky", "mastodon", "reddit"]
    kinds = [e.kind for e in await book.events(incident.id)]
    assert kinds[0] == "opened" and "escalated" in kinds and kinds.count("opened") == 1
    alerts = rows(store, "SELECT reason, channel, severity, created_at, not_before FROM alerts "
                         "ORDER BY id")
    assert alerts[0][0:2] == ("opened", "slack-ops")
    opened_at = alerts[0][3]
    assert alerts[0][4] == iso(from_text(opened_at) + timedelta(seconds=90))  # group wait
    severities = [a[2] for a in alerts]
    assert severities == sorted(set(severities), key=SEVERITIES.index)  # one alert per rise


def from_text(text: str) -> Any:
    from monitor.clock import from_iso

    return from_iso(text)


async def test_single_small_account_post_opens_nothing(store: Store, book: IncidentBook) -> None:
    [stored] = await saved(store, [mention(1, SICK, reach=40)])
    [cluster] = ClaimIndex(SETTINGS).add(
        [(stored, score(harm="health_safety", harm_confidence=0.9), None)], now=at(0)
    )
    assert await book.apply(assess_claim(cluster, at(0), SETTINGS)) is None
    assert rows(store, "SELECT count(*) FROM incidents") == [(0,)]
    assert rows(store, "SELECT count(*) FROM alerts") == [(0,)]


async def test_severity_never_goes_down_automatically(store: Store, book: IncidentBook) -> None:
    ids = [m.id for m in await saved(store, [mention(n, SICK + str(n)) for n in range(1, 5)])]
    first = await book.apply(verdict(severity="critical", risk=0.85, mention_ids=ids[:2]))
    later = await book.apply(verdict(severity="low", risk=0.4, minutes=30, mention_ids=ids))
    assert first is not None and later is not None and later.id == first.id
    assert later.severity == "critical" and later.mention_count == 4
    # The incident keeps the risk (and reasons) of its worst moment: "why" explains "critical".
    assert pytest.approx(later.risk) == 0.85
    kinds = [e.kind for e in await book.events(first.id)]
    assert kinds == ["opened", "grew"]
    assert rows(store, "SELECT reason FROM alerts") == [("opened",)]


async def test_unchanged_reassessment_writes_nothing(store: Store, book: IncidentBook) -> None:
    ids = [m.id for m in await saved(store, [mention(1, SICK)])]
    await book.apply(verdict(mention_ids=ids))
    again = await book.apply(verdict(mention_ids=ids, minutes=5, risk=0.71))
    assert again is not None and again.updated_at == at(0)
    assert len(await book.events(again.id)) == 1


async def test_quiet_incident_auto_resolves_and_alerts(
    store: Store, book: IncidentBook
) -> None:
    ids = [m.id for m in await saved(store, [mention(n, SICK + str(n)) for n in range(1, 3)])]
    incident = await book.apply(verdict(mention_ids=ids[:1]))
    await book.apply(verdict(mention_ids=ids, minutes=60))  # new mention: activity at 60 min
    assert incident is not None
    assert await book.tick(at(60 + 119)) == []
    [resolved] = await book.tick(at(60 + 120))
    assert resolved.id == incident.id and resolved.status == "resolved"
    assert resolved.resolved_at == at(180)
    last = (await book.events(incident.id))[-1]
    assert (last.kind, last.actor, last.detail["reason"]) == ("resolved", "detector", "quiet")
    assert rows(store, "SELECT reason FROM alerts ORDER BY id") == [("opened",), ("resolved",)]
    assert await book.tick(at(600)) == []


async def test_returning_claim_reopens_instead_of_opening_a_second_incident(
    store: Store, book: IncidentBook
) -> None:
    ids = [m.id for m in await saved(store, [mention(n, SICK + str(n)) for n in range(1, 4)])]
    first = await book.apply(verdict(mention_ids=ids[:1]))
    await book.tick(at(150))
    # Detection keeps the claim's identity for the reopen window: it returns with its key.
    back = await book.apply(verdict(severity="medium", risk=0.55, minutes=300,
                                    mention_ids=ids[2:]))
    assert first is not None and back is not None
    assert back.id == first.id and back.status == "open" and back.resolved_at is None
    assert back.severity == "medium"  # what the returning posts justify, not the old peak
    assert back.mention_count == 2
    assert rows(store, "SELECT count(*) FROM incidents") == [(1,)]
    kinds = [e.kind for e in await book.events(first.id)]
    assert kinds == ["opened", "resolved", "reopened"]
    alerts = rows(store, "SELECT reason, idempotency_key FROM alerts ORDER BY id")
    assert [a[0] for a in alerts] == ["opened", "resolved", "opened"]
    assert len({a[1] for a in alerts}) == 3  # the reopen alert is not dropped as a repeat
    # Resolving again in the new cycle alerts again too.
    await book.tick(at(300 + 120))
    assert rows(store, "SELECT count(*) FROM alerts WHERE reason = 'resolved'") == [(2,)]


async def test_a_new_claim_of_the_same_category_does_not_reopen_an_old_incident(
    store: Store, book: IncidentBook
) -> None:
    first = await book.apply(verdict())
    await book.tick(at(150))
    other = await book.apply(verdict("claim:acme:9", minutes=300))
    assert first is not None and other is not None
    assert other.id != first.id
    assert (await book.get(first.id)).status == "resolved"  # type: ignore[union-attr]


async def test_claim_returning_after_the_reopen_window_opens_a_new_incident(
    store: Store, book: IncidentBook
) -> None:
    first = await book.apply(verdict())
    await book.tick(at(120))
    again = await book.apply(verdict(minutes=120 + 24 * 60 + 1))
    assert first is not None and again is not None and again.id != first.id


async def test_other_category_for_same_brand_is_a_separate_incident(
    store: Store, book: IncidentBook
) -> None:
    first = await book.apply(verdict())
    await book.tick(at(120))
    other = await book.apply(verdict("claim:acme:9", category="fraud_scam", minutes=130))
    assert first is not None and other is not None and other.id != first.id


async def test_failing_router_rolls_back_the_incident_change(
    store: Store, clock: VirtualClock
) -> None:
    def broken(incident: Incident, reason: str) -> list[str]:
        raise RuntimeError("routing table unavailable")

    failing = IncidentBook(store, broken, clock, SETTINGS, group_wait=GROUP_WAIT)
    with pytest.raises(RuntimeError):
        await failing.apply(verdict())
    for table in ("incidents", "incident_events", "alerts"):
        assert rows(store, f"SELECT count(*) FROM {table}") == [(0,)]
    # Same for a resolve: the incident stays open when its alert cannot be written.
    book = IncidentBook(store, to_slack, clock, SETTINGS, group_wait=GROUP_WAIT)
    opened = await book.apply(verdict())
    assert opened is not None
    with pytest.raises(RuntimeError):
        await failing.resolve(opened.id, by="dana")
    assert rows(store, "SELECT status FROM incidents") == [("open",)]
    assert rows(store, "SELECT kind FROM incident_events") == [("opened",)]


async def test_people_ack_note_and_resolve_with_their_names(
    store: Store, book: IncidentBook, clock: VirtualClock
) -> None:
    incident = await book.apply(verdict(severity="medium", risk=0.55))
    assert incident is not None
    clock.set(at(10))
    acked = await book.ack(incident.id, by="dana", note="looking into it")
    assert (acked.status, acked.acknowledged_by) == ("acknowledged", "dana")
    with pytest.raises(IncidentError, match="already acknowledged by dana"):
        await book.ack(incident.id, by="lee")
    # An acknowledged incident still escalates, and that alerts.
    escalated = await book.apply(verdict(severity="critical", risk=0.9, minutes=20))
    assert escalated is not None and escalated.status == "acknowledged"
    clock.set(at(30))
    await book.note(incident.id, "press office informed", by="lee")
    done = await book.resolve(incident.id, by="dana")
    assert done.status == "resolved" and done.resolved_at == at(30)
    timeline = [(e.kind, e.actor) for e in await book.events(incident.id)]
    assert timeline == [
        ("opened", "detector"), ("acknowledged", "dana"), ("escalated", "detector"),
        ("note", "lee"), ("resolved", "dana"),
    ]
    assert rows(store, "SELECT reason, severity FROM alerts ORDER BY id") == [
        ("opened", "medium"), ("escalated", "critical"), ("resolved", "critical")
    ]
    with pytest.raises(IncidentError, match="already resolved"):
        await book.resolve(incident.id, by="dana")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda b: b.ack(99, by="dana"), "no incident 99"),
        (lambda b: b.resolve(99, by="dana"), "no incident 99"),
        (lambda b: b.note(99, "x", by="dana"), "no incident 99"),
        (lambda b: b.note(1, "   ", by="dana"), "note is empty"),
        (lambda b: b.ack(1, by="  "), "--by"),
        (lambda b: b.ack(1, by="detector"), "reserved"),
    ],
)
async def test_bad_requests_are_refused_with_a_reason(
    book: IncidentBook, call: Any, message: str
) -> None:
    await book.apply(verdict())
    with pytest.raises(IncidentError, match=message):
        await call(book)


async def test_list_filters(store: Store, book: IncidentBook, clock: VirtualClock) -> None:
    a = await book.apply(verdict("claim:acme:1", severity="low", risk=0.4))
    b = await book.apply(verdict("claim:acme:2", severity="critical", risk=0.9, minutes=5,
                                 category="fraud_scam"))
    assert a is not None and b is not None
    clock.set(at(10))
    await book.resolve(a.id, by="dana")
    assert [i.id for i in await book.list()] == [b.id, a.id]
    assert [i.id for i in await book.list(status="open")] == [b.id]
    assert [i.id for i in await book.list(min_severity="high")] == [b.id]
    assert [i.id for i in await book.list(since=at(3))] == [b.id, a.id]  # a was updated later
    assert await book.list(brand="globex") == []
    with pytest.raises(IncidentError, match="unknown severity"):
        await book.list(min_severity="urgent")


async def test_merging_two_incidents_of_one_claim_keeps_the_older_and_cancels_pending_alerts(
    store: Store, book: IncidentBook
) -> None:
    ids = [m.id for m in await saved(store, [mention(n, SICK + str(n)) for n in range(1, 5)])]
    older = await book.apply(verdict("claim:acme:1", mention_ids=ids[:2]))
    younger = await book.apply(verdict("claim:acme:3", severity="medium", risk=0.55,
                                       minutes=1, mention_ids=ids[2:]))
    assert older is not None and younger is not None and older.id != younger.id
    merged = await book.merge("claim:acme:1", "claim:acme:3", at(2))
    assert merged is not None and merged.id == older.id
    assert merged.mention_count == 4 and merged.severity == "high"
    gone = await book.get(younger.id)
    assert gone is not None and gone.status == "resolved"
    assert [e.kind for e in await book.events(younger.id)] == ["opened", "merged", "resolved"]
    assert (await book.events(older.id))[-1].detail["incident"] == younger.id
    # The younger incident's "opened" alert was still in its group wait: it is never sent.
    assert rows(store, f"SELECT status FROM alerts WHERE incident_id = {younger.id}") == [
        ("merged",)
    ]
    assert rows(store, "SELECT count(*) FROM alerts WHERE reason = 'resolved'") == [(0,)]
    # The claim goes on under the older incident's key; the merged one never reopens.
    again = await book.apply(verdict("claim:acme:1", minutes=5, mention_ids=ids))
    assert again is not None and again.id == older.id
