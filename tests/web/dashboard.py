"""A real dashboard for tests: a temporary store with incidents, mounted on an aiohttp app."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from aiohttp import web

from monitor.clock import VirtualClock
from monitor.detection.settings import DetectionConfig
from monitor.incidents import IncidentBook
from monitor.records import Assessment, Incident, RiskFactor
from monitor.store import SourceState, Store
from monitor.web.api import WebContext
from monitor.web.app import Dashboard, mount
from monitor.web.auth import hash_password
from monitor.web.settings import WebConfig
from tests.detection.factory import at, mention

T = TypeVar("T")
SECRET_ENV = "BM_TEST_WEB_SECRET"
PASSWORD = "correct horse battery staple"
# One hash for every test: argon2 is slow on purpose.
PASSWORD_HASH = hash_password(PASSWORD)
HOSTILE = "Acme made me sick \u202egnp.exe <script>alert('x')</script> & <b>bold</b>"


def route(incident: Incident, reason: str) -> list[str]:
    return ["console"]


def web_config(**overrides: Any) -> WebConfig:
    """A [web] table with user "ana" and the test secret."""
    data: dict[str, Any] = {
        "secret": {"env": SECRET_ENV},
        "users": [{"name": "ana", "password_hash": PASSWORD_HASH}],
        "public_url": "http://127.0.0.1:8787",
        "refresh": 0,
    }
    return WebConfig.model_validate(data | overrides)


async def seed(store: Store, book: IncidentBook) -> None:
    """Two incidents: #1 a viral claim with engagement, #2 a claim with hostile text."""
    saved = await store.save_mentions([
        mention(n, f"Acme cola made my kids ill, post {n}", minutes=n * 4, likes=n * 10,
                brand="Acme", author=f"parent{n}", reach=1000 * n)
        for n in range(1, 9)
    ])
    await book.apply(Assessment(
        brand="Acme", kind="viral_claim", key="claim:acme:1", category="health_safety",
        risk=0.82, severity="high", factors=[
            RiskFactor("spread", 0.9, "8 authors on 1 platform in 28 min"),
            RiskFactor("harm", 0.8, "health/safety claim"),
        ],
        summary="Acme cola made my kids ill", mention_ids=[m.id or 0 for m in saved],
        author_count=8, platforms=["mastodon"], at=at(30),
    ))
    [hostile] = await store.save_mentions(
        [mention(50, HOSTILE, minutes=40, brand="Acme", author="\u202emallory")]
    )
    await book.apply(Assessment(
        brand="Acme", kind="viral_claim", key="claim:acme:2", category="health_safety",
        risk=0.5, severity="medium", factors=[RiskFactor("spread", 0.5, HOSTILE)],
        summary=HOSTILE, mention_ids=[hostile.id or 0], author_count=1,
        platforms=["mastodon"], at=at(41),
    ))
    await store.save_source_state(SourceState(
        name="news", kind="rss", last_success=at(40), consecutive_failures=0,
    ))


async def build(path: Path, config: WebConfig | None = None) -> tuple[web.Application, Dashboard]:
    """An app with the dashboard over a seeded store at `path` (closed with the app)."""
    store = await Store(path).open()
    clock = VirtualClock(at(45))
    book = IncidentBook(store, route, clock, DetectionConfig())
    await seed(store, book)
    app = web.Application()
    ctx = WebContext(store=store, book=book, clock=clock, brands=["Acme"],
                     sources={"news": "rss"}, channels={"console": "console"})
    dash = mount(app, ctx, config or web_config())

    async def close(_app: web.Application) -> None:
        await store.close()

    app.on_cleanup.append(close)
    return app, dash


@dataclass
class LiveDashboard:
    """The dashboard on a real socket, served from its own thread and event loop.

    A browser driver blocks its caller, so the server cannot share the test's loop.
    """

    url: str
    dash: Dashboard
    loop: asyncio.AbstractEventLoop

    def call(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run a coroutine on the server's loop (e.g. a store read) and wait for its result."""
        async def run() -> T:
            return await work()

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout=30)


def serve_in_thread(
    path: Path, config: WebConfig | None = None
) -> tuple[LiveDashboard, Callable[[], None]]:
    """Start the dashboard on 127.0.0.1 (a free port); returns it and a stop function."""
    loop = asyncio.new_event_loop()
    ready: Future[LiveDashboard] = Future()
    stopped = threading.Event()
    holder: dict[str, web.AppRunner] = {}

    async def start() -> None:
        app, dash = await build(path, config)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        holder["runner"] = runner
        port = runner.addresses[0][1]
        ready.set_result(LiveDashboard(f"http://127.0.0.1:{port}", dash, loop))

    def main() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(start())
        except BaseException as exc:  # report start-up failures to the test, not the thread
            ready.set_exception(exc)
            return
        loop.run_forever()
        loop.run_until_complete(holder["runner"].cleanup())
        loop.close()
        stopped.set()

    thread = threading.Thread(target=main, name="dashboard", daemon=True)
    thread.start()
    live = ready.result(timeout=60)

    def stop() -> None:
        loop.call_soon_threadsafe(loop.stop)
        stopped.wait(timeout=30)

    return live, stop


async def log_in(
    http: aiohttp.ClientSession, base: str, user: str, password: str
) -> aiohttp.ClientResponse:
    """Post the login form as a browser does (its CSRF token first); lands on /incidents."""
    page = await (await http.get(base + "login")).text()
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token, "the login page carries a CSRF token"
    return await http.post(base + "login", data={
        "csrf": token.group(1), "username": user, "password": password, "next": "/incidents"})
