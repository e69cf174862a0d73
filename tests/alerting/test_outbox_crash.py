"""A dispatcher killed between send and confirmation loses nothing, and repeats at most what it
had in flight per channel, under the same idempotency key."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
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


async def start_dispatcher(db: Path, *urls: str, in_flight: int = 2) -> asyncio.subprocess.Process:
    env = {**os.environ, HOOK_SECRET_ENV: HOOK_SECRET, "PYTHONPATH": str(ROOT)}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.alerting.crash_dispatcher", str(db), *urls,
        "--in-flight", str(in_flight), cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE,
    )


async def kill(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGKILL)
        await process.wait()


async def statuses(db: Path) -> list[str]:
    store = await Store(db).open()
    try:
        rows = await store.read(lambda tx: tx.outbox.recent())
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
    attempts = await store.read(lambda tx: tx.outbox.attempts(alert_id))
    await store.close()
    assert [a["ok"] for a in attempts] == [1]


async def test_kill_with_many_alerts_due_repeats_at_most_the_sends_in_flight_per_channel(
    tmp_path: Path, aiohttp_server: ServerFactory
) -> None:
    in_flight = 2
    # Two slow receivers that answer nothing until released: the kill lands while they hold
    # every send the dispatcher started.
    receivers = {"hook": Receiver(hold=asyncio.Event()), "hook2": Receiver(hold=asyncio.Event())}
    urls = [
        str((await aiohttp_server(r.app())).make_url("/hook")) for r in receivers.values()
    ]
    db = tmp_path / "crash.db"
    store = await Store(db).open()
    now = datetime.now(UTC)

    def write(d: object) -> list[int]:
        # Six incidents alerting at once, each on both channels.
        incidents = [insert_incident(d, now) for _ in range(6)]  # type: ignore[arg-type]
        for incident in incidents:
            outbox.enqueue_alert(
                d, incident_id=incident, reason="opened", severity="high",  # type: ignore[arg-type]
                channels=list(receivers), now=now,
            )
        return incidents

    incidents = await store.transaction(write)
    await store.close()

    first = await start_dispatcher(db, *urls, in_flight=in_flight)
    try:
        await wait_for(lambda: asyncio.sleep(
            0, result=all(len(r.requests) >= in_flight for r in receivers.values())
        ))
        # Only what is being sent is marked `sending`; the other alerts wait their turn.
        expected = {"sending": 2 * in_flight, "pending": 12 - 2 * in_flight}
        assert Counter(await statuses(db)) == expected
    finally:
        await kill(first)
    held = {name: r.keys for name, r in receivers.items()}
    assert {name: len(keys) for name, keys in held.items()} == {"hook": 2, "hook2": 2}
    assert all(r.peak == in_flight for r in receivers.values())

    for receiver in receivers.values():
        assert receiver.hold is not None
        receiver.hold.set()  # answer at once from now on
    second = await start_dispatcher(db, *urls, in_flight=in_flight)
    try:
        async def all_sent() -> bool:
            return await statuses(db) == ["sent"] * 12

        await wait_for(all_sent)
    finally:
        await kill(second)

    for name, receiver in receivers.items():
        # Every alert arrived; each incident's requests all carry one key, its change's.
        keys_by_incident: dict[int, set[str]] = {}
        for request in receiver.requests:
            keys_by_incident.setdefault(request["incident"]["id"], set()).add(request["key"])
        assert sorted(keys_by_incident) == sorted(incidents)
        assert all(
            keys == {f"incident-{incident}:opened:high"}
            for incident, keys in keys_by_incident.items()
        )
        # The repeats are exactly the sends that were in flight at the kill: two per channel.
        repeats = {key: n for key, n in Counter(receiver.keys).items() if n > 1}
        assert repeats == dict.fromkeys(held[name], 2), name
        assert len(receiver.requests) == len(incidents) + in_flight


pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
