"""A dispatcher killed between send and confirmation loses nothing and repeats at most once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from monitor.alerting import outbox
from monitor.store import Store
from tests.alerting.dispatch_support import HOOK_SECRET, HOOK_SECRET_ENV, Receiver, insert_incident

ServerFactory = Callable[[web.Application], Awaitable[TestServer]]
ROOT = Path(__file__).resolve().parents[2]


async def wait_for(check: Callable[[], Awaitable[bool]], seconds: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting for the dispatcher process")
        await asyncio.sleep(0.05)  # real time: another process is doing the work


async def start_dispatcher(db: Path, url: str) -> asyncio.subprocess.Process:
    env = {**os.environ, HOOK_SECRET_ENV: HOOK_SECRET, "PYTHONPATH": str(ROOT)}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.alerting.crash_dispatcher", str(db), url,
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE,
    )


async def statuses(db: Path) -> list[str]:
    store = await Store(db).open()
    try:
        rows = await store.read(lambda d: outbox.list_alerts(d))
    finally:
        await store.close()
    return [r.status for r in rows]


async def test_kill_between_send_and_confirmation(
    tmp_path: Path, aiohttp_server: ServerFactory
) -> None:
    receiver = Receiver(delay=30.0)  # holds the 200 back: the kill lands while it waits
    server = await aiohttp_server(receiver.app())
    url = str(server.make_url("/hook"))
    db = tmp_path / "crash.db"
    store = await Store(db).open()
    now = datetime.now(UTC)

    def write(d: object) -> list[int]:
        incident = insert_incident(d, now)  # type: ignore[arg-type]
        return outbox.enqueue_alert(
            d, incident_id=incident, reason="opened", severity="high",  # type: ignore[arg-type]
            channels=["hook"], now=now,
        )

    [alert_id] = await store.transaction(write)
    await store.close()

    first = await start_dispatcher(db, url)
    try:
        await wait_for(lambda: asyncio.sleep(0, result=bool(receiver.requests)))
        assert await statuses(db) == ["sending"]  # the receiver has it; no confirmation yet
        first.send_signal(signal.SIGKILL)
        await first.wait()
    finally:
        if first.returncode is None:
            first.kill()
            await first.wait()
    assert await statuses(db) == ["sending"]

    receiver.delay = 0.0
    second = await start_dispatcher(db, url)
    try:
        async def sent() -> bool:
            return await statuses(db) == ["sent"]

        await wait_for(sent)
    finally:
        second.send_signal(signal.SIGKILL)
        await second.wait()
    keys = receiver.keys
    assert keys == [keys[0]] * 2  # delivered; repeated at most once, under the same key
    assert keys[0].startswith("incident-") and keys[0].endswith(":opened:high")
    store = await Store(db).open()
    attempts = await store.read(lambda d: outbox.attempts_of(d, alert_id))
    await store.close()
    assert [a["ok"] for a in attempts] == [1]


pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
