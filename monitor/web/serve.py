"""The dashboard on its own over a database (SQLite or PostgreSQL): `brand-monitor demo --serve`."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from monitor.clock import SystemClock
from monitor.incidents import IncidentBook
from monitor.records import Incident
from monitor.store import PostgresTarget, Store
from monitor.web.api import WebContext
from monitor.web.app import mount
from monitor.web.auth import hash_password
from monitor.web.settings import WebConfig

SECRET_ENV = "BRAND_MONITOR_DEMO_WEB_SECRET"


@dataclass(frozen=True, slots=True)
class Served:
    """Where the dashboard listens and the one-off login for it."""

    url: str
    user: str
    password: str


def _no_alerts(incident: Incident, reason: str) -> list[str]:
    return []  # no channels here: changes are recorded, nothing is sent


async def serve_database(
    database: Path | PostgresTarget,
    brands: list[str],
    on_ready: Callable[[Served], None],
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    stop: asyncio.Event | None = None,
) -> None:
    """Serve the dashboard over `database` with a fresh random login until `stop` is set."""
    import os

    password = secrets.token_urlsafe(12)
    os.environ[SECRET_ENV] = secrets.token_hex(32)
    config = WebConfig.model_validate({
        "secret": {"env": SECRET_ENV},
        "users": [{"name": "demo", "password_hash": hash_password(password)}],
        "refresh": 0,
    })
    store = await Store(database).open()
    runner: web.AppRunner | None = None
    try:
        states = await store.source_states()
        ctx = WebContext(
            store=store, book=IncidentBook(store, _no_alerts, SystemClock()),
            clock=SystemClock(), brands=brands, sources={s.name: s.kind for s in states},
        )
        app = web.Application()
        mount(app, ctx, config)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = runner.addresses[0][1]
        on_ready(Served(f"http://{host}:{bound}/", "demo", password))
        await (stop or asyncio.Event()).wait()
    finally:
        if runner is not None:
            await runner.cleanup()
        await store.close()
