"""`demo --serve`'s dashboard: a database file served with a printed one-off login."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from monitor.clock import VirtualClock
from monitor.detection.settings import DetectionConfig
from monitor.incidents import IncidentBook
from monitor.store import Store
from monitor.web.serve import Served, serve_database
from tests.detection.factory import at
from tests.web.dashboard import log_in, route, seed


async def test_served_database_accepts_the_printed_login(tmp_path: Path) -> None:
    db = tmp_path / "bm.db"
    store = await Store(db).open()
    await seed(store, IncidentBook(store, route, VirtualClock(at(45)), DetectionConfig()))
    await store.close()
    ready: asyncio.Future[Served] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    serving = asyncio.create_task(serve_database(db, ["Acme"], ready.set_result, stop=stop))
    try:
        served = await asyncio.wait_for(ready, 30)
        assert served.url.startswith("http://127.0.0.1:")
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            wrong = await log_in(http, served.url, "demo", "guess")
            assert wrong.status == 401
            listed = await log_in(http, served.url, served.user, served.password)
            assert listed.status == 200
            assert "Acme cola made my kids ill" in await listed.text()
    finally:
        stop.set()
        await asyncio.wait_for(serving, 30)
