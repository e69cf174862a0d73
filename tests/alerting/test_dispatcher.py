"""Dispatcher: outbox rows delivered through real channels to local servers, in virtual time."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from monitor.alerting import outbox
from monitor.alerting.config import AlertingConfig, RouteConfig
from monitor.alerting.dispatcher import AlertDispatcher, due_reminders
from monitor.alerting.routing import AlertPlan, Router
from monitor.alerting.settings import WebhookSettings
from monitor.clock import Clock, SystemClock, VirtualClock, iso
from monitor.configtypes import EnvSecret
from monitor.incidents import IncidentBook
from monitor.records import Assessment, Mention, RiskFactor
from monitor.store import PostgresTarget, Store, Tx
from tests.alerting.dispatch_support import (
    HOOK_SECRET,
    HOOK_SECRET_ENV,
    Receiver,
    insert_incident,
    update_incident,
    webhook_channel,
)
from tests.alerting.test_slack import BOT_TOKEN, FakeSlack, bot_channel
from tests.store_backends import postgres_server, store_location  # noqa: F401 - fixtures

T0 = datetime(2024, 5, 17, 14, 0, tzinfo=UTC)
ServerFactory = Callable[[web.Application], Awaitable[TestServer]]


@pytest.fixture
async def store(store_location: Path | PostgresTarget) -> AsyncIterator[Store]:  # noqa: F811
    s = await Store(store_location).open()
    yield s
    await s.close()


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[Store]:
    """For tests that reach for SQLite's own switches (PRAGMA query_only)."""
    s = await Store(tmp_path / "bm.db").open()
    yield s
    await s.close()


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(T0)


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
async def server(
    receiver: Receiver, aiohttp_server: ServerFactory, monkeypatch: pytest.MonkeyPatch
) -> TestServer:
    monkeypatch.setenv(HOOK_SECRET_ENV, HOOK_SECRET)
    return await aiohttp_server(receiver.app())


def hook_settings(server: TestServer, name: str = "hook") -> WebhookSettings:
    return WebhookSettings(
        kind="webhook", name=name, url=str(server.make_url("/hook")),
        secret=EnvSecret(env=HOOK_SECRET_ENV),
    )


def make_dispatcher(
    store: Store,
    server: TestServer,
    clock: Clock,
    *,
    routes: list[dict[str, Any]] | None = None,
    extra_channels: tuple[str, ...] = (),
    **alerting: Any,
) -> AlertDispatcher:
    names = ("hook", *extra_channels)
    plan = AlertPlan(
        alerting=AlertingConfig.model_validate(alerting),
        routes=[RouteConfig.model_validate(r) for r in routes or []],
        channels=[hook_settings(server, n) for n in names],
    )
    channels = {n: webhook_channel(server, clock, n) for n in names}
    return AlertDispatcher(store, Router(plan), channels, clock=clock, rng=random.Random(7))


async def new_incident(store: Store, clock: Clock, **fields: Any) -> int:
    return await store.transaction(lambda db: insert_incident(db, clock.now(), **fields))


async def change(store: Store, incident_id: int, **fields: Any) -> None:
    await store.transaction(lambda db: update_incident(db, incident_id, **fields))


async def enqueue(
    store: Store, incident_id: int, reason: str, severity: str, now: datetime,
    delay: float = 0.0, channels: tuple[str, ...] = ("hook",),
) -> list[int]:
    def run(tx: Tx) -> list[int]:
        return outbox.enqueue_alert(
            tx, incident_id=incident_id, reason=reason, severity=severity,
            channels=list(channels), now=now, delay=delay,
        )

    return await store.transaction(run)


async def rows(store: Store, **filters: Any) -> list[outbox.AlertRow]:
    return list(reversed(await store.read(lambda tx: tx.outbox.recent(**filters))))


async def test_enqueue_is_idempotent_per_change_and_channel(
    store: Store, clock: VirtualClock
) -> None:
    incident = await new_incident(store, clock)
    first = await enqueue(store, incident, "opened", "high", clock.now(), 30, ("a", "b"))
    again = await enqueue(store, incident, "opened", "high", clock.now(), 30, ("a", "b"))
    assert len(first) == 2 and again == []
    [row, _] = await rows(store)
    assert row.idempotency_key == f"incident-{incident}:opened:high"
    assert row.not_before == T0 + timedelta(seconds=30)
    # A severity change is a new key; every reminder too.
    assert await enqueue(store, incident, "escalated", "critical", clock.now(), 0, ("a",))
    r1 = await enqueue(store, incident, "reminder", "critical", clock.now(), 0, ("a",))
    r2 = await enqueue(store, incident, "reminder", "critical", clock.now(), 0, ("a",))
    keys = [r.idempotency_key for r in await rows(store) if r.id in (*r1, *r2)]
    assert keys == [f"incident-{incident}:reminder:critical:r1",
                    f"incident-{incident}:reminder:critical:r2"]


async def test_changes_within_group_wait_go_out_as_one_message(
    store: Store, server: TestServer, receiver: Receiver, clock: VirtualClock
) -> None:
    dispatcher = make_dispatcher(store, server, clock)
    incident = await new_incident(store, clock)
    await enqueue(store, incident, "opened", "high", clock.now(), delay=30)
    clock.advance(10)
    await change(store, incident, severity="critical")
    await enqueue(store, incident, "escalated", "critical", clock.now())

    assert await dispatcher.run_once() == 0  # the escalation waits for the group
    assert receiver.requests == []
    clock.advance(21)
    assert await dispatcher.run_once() == 2
    [request] = receiver.requests
    assert request["reason"] == "opened"
    assert request["incident"]["severity"] == "critical"
    assert request["key"] == f"incident-{incident}:opened:high"
    assert len(request["top_mentions"]) == 3
    assert [r.status for r in await rows(store)] == ["sent", "merged"]
    await dispatcher.stop()


async def test_retry_with_backoff_after_500_then_success(
    store: Store, server: TestServer, receiver: Receiver, clock: VirtualClock
) -> None:
    dispatcher = make_dispatcher(store, server, clock, retry_initial="30s")
    incident = await new_incident(store, clock)
    await enqueue(store, incident, "opened", "high", clock.now())
    receiver.script = [(500, {})]

    await dispatcher.run_once()
    [row] = await rows(store)
    assert row.status == "pending" and "HTTP 500" in (row.last_error or "")
    assert T0 + timedelta(seconds=15) <= row.not_before <= T0 + timedelta(seconds=30)
    assert await dispatcher.run_once() == 0  # not before the backoff is over
    clock.set(row.not_before)
    await dispatcher.run_once()
    [row] = await rows(store)
    assert row.status == "sent" and row.attempts == 2
    attempts = await store.read(lambda tx: tx.outbox.attempts(row.id))
    assert [a["ok"] for a in attempts] == [0, 1]
    assert receiver.keys == [row.idempotency_key] * 2  # same key: the receiver may drop one
    await dispatcher.stop()


async def test_backoff_doubles_to_the_cap_and_honours_retry_after(
    store: Store, server: TestServer, receiver: Receiver, clock: VirtualClock
) -> None:
    dispatcher = make_dispatcher(store, server, clock, retry_initial="30s", retry_max="15m")
    waits = [dispatcher.backoff(n) for n in range(1, 10)]
    assert all(15 <= w <= 900 for w in waits) and max(waits[6:]) > 450
    incident = await new_incident(store, clock)
    await enqueue(store, incident, "opened", "high", clock.now())
    receiver.script = [(429, {"Retry-After": "600"})]
    await dispatcher.run_once()
    [row] = await rows(store)
    assert row.not_before >= T0 + timedelta(seconds=600)
    await dispatcher.stop()


async def test_gives_up_after_give_up_after_and_on_permanent_errors(
    store: Store, server: TestServer, receiver: Receiver, clock: VirtualClock
) -> None:
    dispatcher = make_dispatcher(store, server, clock, give_up_after="10m")
    first = await new_incident(store, clock)
    second = await new_incident(store, clock)
    await enqueue(store, first, "opened", "high", clock.now())
    await enqueue(store, second, "opened", "high", clock.now())
    receiver.script = [(500, {}), (400, {})]
    await dispatcher.run_once()
    by_incident = {r.incident_id: r for r in await rows(store)}
    statuses = sorted(r.status for r in by_incident.values())
    assert statuses == ["failed", "pending"]  # the 400 cannot be fixed by retrying
    receiver.script = [(500, {})] * 50
    for _ in range(20):
        clock.advance(120)
        await dispatcher.run_once()
    assert sorted(r.status for r in await rows(store)) == ["failed", "failed"]
    gave_up = [r for r in await rows(store) if "gave up" in (r.last_error or "")]
    assert len(gave_up) == 1 and "alerts retry" in (gave_up[0].last_error or "")
    await dispatcher.stop()


async def test_pending_rows_survive_a_restart_and_sending_rows_are_resent(
    tmp_path: Path, server: TestServer, receiver: Receiver, clock: VirtualClock
) -> None:
    path = tmp_path / "restart.db"
    store = await Store(path).open()
    incident = await new_incident(store, clock)
    await enqueue(store, incident, "opened", "high", clock.now())
    second = await new_incident(store, clock)
    await enqueue(store, second, "opened", "high", clock.now())
    # A crash after claiming the second row: it is stuck in `sending`.
    await store.transaction(
        lambda tx: tx.sqlite.execute(
            "UPDATE alerts SET status = 'sending' WHERE incident_id = ?", [second]
        )
    )
    await store.close()

    store = await Store(path).open()
    dispatcher = make_dispatcher(store, server, clock)
    assert await dispatcher.recover() == 1
    assert await dispatcher.run_once() == 2
    assert sorted(r.status for r in await rows(store)) == ["sent", "sent"]
    assert len(receiver.requests) == 2
    await dispatcher.stop()
    await store.close()


async def test_reminders_repeat_while_unacknowledged(
    store: Store, server: TestServer, receiver: Receiver, clock: VirtualClock
) -> None:
    dispatcher = make_dispatcher(store, server, clock)  # high: every 4h
    router = dispatcher.router
    incident = await new_incident(store, clock)
    await enqueue(store, incident, "opened", "high", clock.now())
    await dispatcher.run_once()
    clock.advance(3 * 3600)
    assert await due_reminders(store, router, clock.now()) == []
    clock.advance(3600)
    assert len(await due_reminders(store, router, clock.now())) == 1
    assert await due_reminders(store, router, clock.now()) == []  # once per interval
    await dispatcher.run_once()
    clock.advance(4 * 3600)
    assert len(await due_reminders(store, router, clock.now())) == 1
    await dispatcher.run_once()
    assert [r["key"].rsplit(":", 1)[-1] for r in receiver.requests] == ["high", "r1", "r2"]
    assert [r["reason"] for r in receiver.requests] == ["opened", "reminder", "reminder"]
    # Acknowledged: no more reminders.
    await change(store, incident, status="acknowledged",
                            acknowledged_by="ana")
    clock.advance(8 * 3600)
    assert await due_reminders(store, router, clock.now()) == []
    await dispatcher.stop()


async def test_unacknowledged_critical_escalates_once(
    store: Store, server: TestServer, receiver: Receiver, clock: VirtualClock
) -> None:
    dispatcher = make_dispatcher(
        store, server, clock, extra_channels=("pager",), escalation_after="15m",
        escalation_channels=["pager"], routes=[{"channels": ["hook"]}],
    )
    incident = await new_incident(store, clock, severity="critical")
    await enqueue(store, incident, "opened", "critical", clock.now())
    await dispatcher.run_once()
    clock.advance(10 * 60)
    assert await due_reminders(store, dispatcher.router, clock.now()) == []
    clock.advance(6 * 60)
    assert len(await due_reminders(store, dispatcher.router, clock.now())) == 1
    clock.advance(5 * 60)
    assert await due_reminders(store, dispatcher.router, clock.now()) == []
    await dispatcher.run_once()
    pages = [r for r in await rows(store) if r.channel == "pager"]
    assert [(p.reason, p.status) for p in pages] == [("escalated", "sent")]
    assert receiver.requests[-1]["reason"] == "escalated"
    await dispatcher.stop()


async def test_quiet_hours_delay_until_the_window_ends_unless_critical_overrides(
    store: Store, server: TestServer, receiver: Receiver, clock: VirtualClock
) -> None:
    quiet = {"start": "22:00", "end": "07:00", "timezone": "Europe/Berlin"}
    clock.set(datetime(2024, 5, 17, 21, 30, tzinfo=UTC))  # 23:30 in Berlin (CEST)
    dispatcher = make_dispatcher(
        store, server, clock,
        routes=[{"channels": ["hook"], "quiet_hours": quiet, "critical_overrides_quiet": True}],
    )
    high = await new_incident(store, clock)
    critical = await new_incident(store, clock, severity="critical")
    await enqueue(store, high, "opened", "high", clock.now())
    await enqueue(store, critical, "opened", "critical", clock.now())
    await dispatcher.run_once()
    assert [r["incident"]["severity"] for r in receiver.requests] == ["critical"]
    [held] = await rows(store, status="pending")
    assert held.not_before == datetime(2024, 5, 18, 5, 0, tzinfo=UTC)  # 07:00 Berlin
    assert "quiet hours" in (held.last_error or "") and held.attempts == 0
    clock.set(held.not_before)
    await dispatcher.run_once()
    assert len(receiver.requests) == 2
    await dispatcher.stop()


async def test_slack_thread_ref_is_kept_per_incident(
    store: Store, aiohttp_server: ServerFactory, monkeypatch: pytest.MonkeyPatch,
    clock: VirtualClock,
) -> None:
    slack = FakeSlack()
    slack_server = await aiohttp_server(slack.app())
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    channel = bot_channel(slack_server)
    router = Router(AlertPlan(channels=[channel.settings]))
    dispatcher = AlertDispatcher(store, router, {channel.name: channel}, clock=clock)
    incident = await new_incident(store, clock)
    await enqueue(store, incident, "opened", "high", clock.now(), channels=(channel.name,))
    await dispatcher.run_once()
    clock.advance(60)
    await change(store, incident, severity="critical")
    await enqueue(store, incident, "escalated", "critical", clock.now(), channels=(channel.name,))
    await dispatcher.run_once()
    root, reply = slack.posts
    assert "thread_ts" not in root and reply["thread_ts"] == root["_ts"]
    sent = await rows(store)
    assert sent[0].external_ref == sent[1].external_ref == f"C0ALERTS:{root['_ts']}"
    await dispatcher.stop()


async def test_background_task_delivers_and_stops(
    store: Store, server: TestServer, receiver: Receiver, clock: VirtualClock
) -> None:
    dispatcher = make_dispatcher(store, server, clock, poll_interval="50ms")
    await dispatcher.start()
    incident = await new_incident(store, clock)
    await enqueue(store, incident, "opened", "high", clock.now())
    dispatcher.wake()
    for _ in range(100):
        if receiver.requests:
            break
        await store.ping()  # yields to the loop while the task works
    await dispatcher.stop(timeout=5)
    assert len(receiver.requests) == 1
    assert iso((await rows(store))[0].sent_at) == iso(T0)


# -- the live loop: woken by outbox writes, sleeping until the next due time ------------------


async def open_claim(store: Store, clock: Clock, book: IncidentBook, n: int) -> int:
    """Open an incident through the incident book, as detection does; returns its id."""
    now = clock.now()
    mentions = await store.save_mentions([
        Mention(
            platform="reddit", external_id=f"t3_wake{n}_{i}", text=f"Acme cola made me sick {i}",
            author=f"u/wake{n}_{i}", published_at=now, source="reddit-food", brands=("Acme",),
            fetched_at=now,
        )
        for i in range(3)
    ])
    incident = await book.apply(Assessment(
        brand="Acme", kind="viral_claim", key=f"claim:wake-{n}", category="health_safety",
        risk=0.72, severity="high", factors=[RiskFactor("harm", 0.74, "health/safety claim")],
        summary=f"Acme cola made people sick (claim {n})",
        mention_ids=[m.id for m in mentions if m.id is not None], author_count=3,
        platforms=["reddit"], at=now,
    ))
    assert incident is not None
    return incident.id


async def test_an_opened_incident_wakes_the_dispatcher_instead_of_waiting_for_its_poll(
    store: Store, server: TestServer, receiver: Receiver
) -> None:
    clock = SystemClock()
    # A poll this slow would make the alert late by up to 30 s; the outbox write must wake it.
    dispatcher = make_dispatcher(store, server, clock, poll_interval="30s")
    book = IncidentBook(store, dispatcher.router.route, clock, group_wait=0)
    await dispatcher.start()
    try:
        await asyncio.wait_for(dispatcher.wait_idle(), 10)  # it looked once and now sleeps
        incident = await open_claim(store, clock, book, 1)
        await asyncio.wait_for(receiver.arrived.wait(), 10)
        [request] = receiver.requests
        assert request["key"] == f"incident-{incident}:opened:high"
        # Again once it is idle: each new row wakes it, not only the first.
        await asyncio.wait_for(dispatcher.wait_idle(), 10)
        receiver.arrived.clear()
        second = await open_claim(store, clock, book, 2)
        await asyncio.wait_for(receiver.arrived.wait(), 10)
        assert receiver.keys[-1] == f"incident-{second}:opened:high"
    finally:
        await dispatcher.stop(timeout=5)


async def test_the_end_of_a_group_wait_wakes_the_dispatcher(
    store: Store, server: TestServer, receiver: Receiver
) -> None:
    clock = SystemClock()
    dispatcher = make_dispatcher(store, server, clock, poll_interval="30s")
    group_wait = 0.3
    book = IncidentBook(store, dispatcher.router.route, clock, group_wait=group_wait)
    await dispatcher.start()
    try:
        incident = await open_claim(store, clock, book, 1)
        await asyncio.wait_for(receiver.arrived.wait(), 10)  # the poll would take 30 s
        arrived = clock.now()
        assert receiver.keys == [f"incident-{incident}:opened:high"]
        # Sent when the group wait ended, not as soon as the row was written.
        [row] = await rows(store)
        assert row.not_before - row.created_at == timedelta(seconds=group_wait)
        assert arrived >= row.not_before
    finally:
        await dispatcher.stop(timeout=5)


async def test_a_slow_channel_does_not_hold_up_the_others(
    store: Store, server: TestServer, receiver: Receiver, aiohttp_server: ServerFactory
) -> None:
    slow = Receiver(hold=asyncio.Event())
    slow_server = await aiohttp_server(slow.app())
    plan = AlertPlan(
        alerting=AlertingConfig(poll_interval=30, max_in_flight_per_channel=2),
        channels=[hook_settings(server), hook_settings(slow_server, "slow")],
    )
    clock = SystemClock()
    channels = {"hook": webhook_channel(server, clock), "slow": webhook_channel(
        slow_server, clock, "slow")}
    dispatcher = AlertDispatcher(store, Router(plan), channels, clock=clock)
    incidents = [await new_incident(store, clock) for _ in range(5)]
    for incident in incidents:
        await enqueue(store, incident, "opened", "high", clock.now(), channels=("slow", "hook"))
    await dispatcher.start()
    try:
        async def fast_done() -> None:
            while len(receiver.requests) < len(incidents):
                receiver.arrived.clear()
                await receiver.arrived.wait()

        # Every alert reaches the fast channel while the slow one holds its two sends.
        await asyncio.wait_for(fast_done(), 10)
        assert sorted(r["incident"]["id"] for r in receiver.requests) == incidents
        assert len(slow.requests) == 2 and slow.peak == 2
        assert slow.hold is not None
        slow.hold.set()
        async def slow_done() -> None:
            while len(slow.requests) < len(incidents):
                slow.arrived.clear()
                await slow.arrived.wait()

        await asyncio.wait_for(slow_done(), 10)
        assert slow.peak == 2  # never more than max_in_flight_per_channel at once
    finally:
        await dispatcher.stop(timeout=5)
    assert sorted(r.status for r in await rows(store)) == ["sent"] * 10


async def test_a_failing_wake_up_does_not_undo_the_incident_change(
    store: Store, clock: VirtualClock
) -> None:
    def broken() -> None:
        raise RuntimeError("event loop is closed")

    unwatch = await store.read(lambda tx: tx.outbox.watch(broken))
    try:
        incident = await new_incident(store, clock)
        assert await enqueue(store, incident, "opened", "high", clock.now())
    finally:
        unwatch()
    assert [r.status for r in await rows(store)] == ["pending"]


async def test_a_send_whose_outcome_the_store_refused_does_not_hold_its_channel(
    sqlite_store: Store, server: TestServer, receiver: Receiver
) -> None:
    store = sqlite_store
    clock = SystemClock()
    dispatcher = make_dispatcher(
        store, server, clock, poll_interval="30s", max_in_flight_per_channel=1
    )
    first = await new_incident(store, clock)
    second = await new_incident(store, clock)
    await enqueue(store, first, "opened", "high", clock.now())
    await enqueue(store, second, "opened", "high", clock.now())
    receiver.hold = asyncio.Event()

    def read_only(tx: Tx, on: bool) -> None:
        tx.sqlite.execute(f"PRAGMA query_only = {'ON' if on else 'OFF'}")

    await dispatcher.start()
    try:
        await asyncio.wait_for(receiver.arrived.wait(), 10)
        # The database refuses writes while the receiver answers: neither the delivery nor
        # its failure can be recorded.
        await store.read(read_only, True)
        receiver.hold.set()
        await asyncio.wait_for(dispatcher.wait_idle(), 10)
        assert [r.status for r in await rows(store)] == ["sending", "pending"]
        await store.read(read_only, False)
        dispatcher.wake()

        async def both_sent() -> None:
            while len(receiver.requests) < 3:
                receiver.arrived.clear()
                await receiver.arrived.wait()

        await asyncio.wait_for(both_sent(), 10)
    finally:
        await dispatcher.stop(timeout=5)
    # The first alert went again (at least once, same key) and the channel's one slot was free
    # for the second.
    assert receiver.keys == [f"incident-{first}:opened:high"] * 2 + [
        f"incident-{second}:opened:high"
    ]
    assert [r.status for r in await rows(store)] == ["sent", "sent"]


async def test_a_requeued_alert_wakes_the_dispatcher(
    store: Store, server: TestServer, receiver: Receiver
) -> None:
    clock = SystemClock()
    dispatcher = make_dispatcher(store, server, clock, poll_interval="30s")
    incident = await new_incident(store, clock)
    [alert_id] = await enqueue(store, incident, "opened", "high", clock.now())
    receiver.script = [(400, {})]  # permanent: the alert fails until someone re-queues it
    await dispatcher.start()
    try:
        await asyncio.wait_for(receiver.arrived.wait(), 10)
        await asyncio.wait_for(dispatcher.wait_idle(), 10)
        assert [r.status for r in await rows(store)] == ["failed"]
        receiver.arrived.clear()
        await store.transaction(outbox.requeue, alert_id, clock.now())
        await asyncio.wait_for(receiver.arrived.wait(), 10)  # not at the 30 s poll
    finally:
        await dispatcher.stop(timeout=5)
    assert [r.status for r in await rows(store)] == ["sent"]
