"""Silences mute matching alerts at dispatch time, and only those, and only while active."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from monitor.alerting import outbox, silences
from monitor.alerting.dispatcher import AlertDispatcher
from monitor.alerting.routing import AlertPlan, Router
from monitor.alerting.settings import WebhookSettings
from monitor.clock import VirtualClock
from monitor.configtypes import EnvSecret
from monitor.store import PostgresTarget, Store, Tx
from tests.alerting.dispatch_support import (
    HOOK_SECRET,
    HOOK_SECRET_ENV,
    Receiver,
    insert_incident,
    webhook_channel,
)
from tests.store_backends import postgres_server, store_location  # noqa: F401 - fixtures

T0 = datetime(2024, 5, 17, 14, 0, tzinfo=UTC)
ServerFactory = Callable[[web.Application], Awaitable[TestServer]]


@pytest.fixture
async def store(store_location: Path | PostgresTarget) -> AsyncIterator[Store]:  # noqa: F811
    s = await Store(store_location).open()
    yield s
    await s.close()


async def test_silence_mutes_matching_incidents_only_while_active(
    store: Store, aiohttp_server: ServerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(HOOK_SECRET_ENV, HOOK_SECRET)
    receiver = Receiver()
    server = await aiohttp_server(receiver.app())
    clock = VirtualClock(T0)
    settings = WebhookSettings(kind="webhook", name="hook", url=str(server.make_url("/hook")),
                               secret=EnvSecret(env=HOOK_SECRET_ENV))
    dispatcher = AlertDispatcher(
        store, Router(AlertPlan(channels=[settings])),
        {"hook": webhook_channel(server, clock)}, clock=clock, rng=random.Random(1),
    )

    def setup(db: Tx) -> dict[str, Any]:
        silence = silences.add_silence(
            db, brand="Acme", category="health_safety", starts_at=T0,
            ends_at=T0 + timedelta(hours=2), reason="recall already announced",
        )
        health = insert_incident(db, T0)
        fraud = insert_incident(db, T0, category="fraud_scam")
        other = insert_incident(db, T0, brand="Globex")
        for incident in (health, fraud, other):
            outbox.enqueue_alert(db, incident_id=incident, reason="opened", severity="high",
                                 channels=["hook"], now=T0)
        return {"silence": silence, "health": health, "fraud": fraud, "other": other}

    ids = await store.transaction(setup)
    while await dispatcher.run_once():  # each round sends up to max_in_flight_per_channel
        pass
    rows = {r.incident_id: r for r in await store.read(lambda tx: tx.outbox.recent())}
    assert rows[ids["health"]].status == "silenced"
    assert "recall already announced" in (rows[ids["health"]].last_error or "")
    assert rows[ids["fraud"]].status == "sent" and rows[ids["other"]].status == "sent"
    assert sorted(r["incident"]["id"] for r in receiver.requests) == [ids["fraud"], ids["other"]]

    # After the silence ends, a new change about the same incident is sent.
    clock.advance(3 * 3600)
    await store.transaction(lambda db: outbox.enqueue_alert(
        db, incident_id=ids["health"], reason="escalated", severity="critical",
        channels=["hook"], now=clock.now()))
    await dispatcher.run_once()
    assert receiver.requests[-1]["incident"]["id"] == ids["health"]
    await dispatcher.stop()


async def test_ending_a_silence_and_listing(store: Store) -> None:
    def run(db: Tx) -> list[list[int]]:
        a = silences.add_silence(db, brand="Acme", category=None, starts_at=T0,
                                 ends_at=T0 + timedelta(hours=1), reason="maintenance")
        silences.add_silence(db, brand=None, category="outage", starts_at=T0,
                             ends_at=T0 + timedelta(minutes=5), reason="known outage")
        before = [s.id for s in silences.list_silences(db, T0)]
        silences.end_silence(db, a.id, T0 + timedelta(minutes=1))
        after = [s.id for s in silences.list_silences(db, T0 + timedelta(minutes=2))]
        with pytest.raises(ValueError, match="already ended"):
            silences.end_silence(db, a.id, T0 + timedelta(minutes=3))
        with pytest.raises(ValueError, match="must end after"):
            silences.add_silence(db, brand="Acme", category=None, starts_at=T0, ends_at=T0,
                                 reason="x")
        return [before, after]

    before, after = await store.transaction(run)
    assert len(before) == 2 and len(after) == 1
