"""Helpers for outbox/dispatcher tests: incident rows, a recording webhook receiver."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from monitor.alerting.channels.webhook import WebhookChannel
from monitor.alerting.settings import WebhookSettings
from monitor.clock import Clock, iso
from monitor.configtypes import EnvSecret
from monitor.store import Tx

HOOK_SECRET_ENV = "BM_TEST_HOOK_SECRET"
HOOK_SECRET = "whsec-dispatch-0123456789"


def insert_incident(tx: Tx, now: datetime, **fields: Any) -> int:
    """An open high-severity health claim about Acme, as the incidents module would write it."""
    db = tx.db  # either backend
    row: dict[str, Any] = {
        "brand": "Acme",
        "kind": "viral_claim",
        "category": "health_safety",
        "severity": "high",
        "status": "open",
        "summary": "Acme cola made people sick at the Riverside festival",
        "risk": 0.8,
        "factors": json.dumps([{"name": "spread", "value": 0.8, "detail": "31 authors"}]),
        "opened_at": iso(now),
        "updated_at": iso(now),
        "mention_count": 3,
        "author_count": 3,
        "platforms": json.dumps(["reddit"]),
    }
    row.update(fields)
    cols = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    cur = db.execute(
        f"INSERT INTO incidents ({cols}) VALUES ({marks}) RETURNING id", list(row.values())
    )
    incident_id = int(cur.fetchone()[0])
    for n in range(3):
        at = now - timedelta(minutes=10 - 3 * n)
        m = db.execute(
            "INSERT INTO mentions (platform, external_id, source, text, fetched_at, seen_at, "
            "brands, author) VALUES ('reddit', ?, 'reddit-food', ?, ?, ?, '[\"Acme\"]', ?) "
            "RETURNING id",
            [f"t3_{incident_id}_{n}", f"Acme cola made me sick {n}", iso(at), iso(at), f"u/{n}"],
        )
        mention_id = int(m.fetchone()[0])
        db.execute(
            "INSERT INTO engagement (mention_id, observed_at, likes, shares) VALUES (?, ?, ?, ?)",
            [mention_id, iso(at), 10 * n, n],
        )
        db.execute("INSERT INTO incident_mentions VALUES (?, ?)", [incident_id, mention_id])
    return incident_id


def update_incident(tx: Tx, incident_id: int, **fields: Any) -> None:
    """Change incident columns in place."""
    db = tx.db  # either backend
    sets = ", ".join(f"{k} = ?" for k in fields)
    db.execute(f"UPDATE incidents SET {sets} WHERE id = ?", [*fields.values(), incident_id])


@dataclass
class Receiver:
    """A webhook endpoint that records each request and answers from a script (default 200)."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    delay: float = 0.0
    hold: asyncio.Event | None = None  # when given, every answer waits until it is set
    arrived: asyncio.Event = field(default_factory=asyncio.Event)  # set at each request
    handling: int = 0  # requests being handled now
    peak: int = 0  # most requests handled at once

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append({"key": request.headers["Idempotency-Key"], **body})
        self.arrived.set()
        self.handling += 1
        self.peak = max(self.peak, self.handling)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            if self.hold is not None:
                await self.hold.wait()
        finally:
            self.handling -= 1
        if self.script:
            status, headers = self.script.pop(0)
            return web.Response(status=status, text="scripted", headers=headers)
        return web.Response(status=200, text="ok")

    @property
    def keys(self) -> list[str]:
        return [r["key"] for r in self.requests]

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        return app


def webhook_channel(server: TestServer, clock: Clock, name: str = "hook") -> WebhookChannel:
    """A real webhook channel pointed at a local receiver (needs HOOK_SECRET_ENV set)."""
    settings = WebhookSettings(
        kind="webhook",
        name=name,
        url=str(server.make_url("/hook")),
        secret=EnvSecret(env=HOOK_SECRET_ENV),
        timeout=5,
    )
    return WebhookChannel(settings, clock=clock)
