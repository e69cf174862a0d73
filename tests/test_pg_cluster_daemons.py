"""Three real daemons on one PostgreSQL database, SIGKILLed at random while claims spread.

The alerting crash test, scaled out: pushes go to whichever daemon is up, the detection leader
is among those killed, alerts go to a slow signed webhook so that kills land mid-send. At the
end: every mention a daemon accepted is stored and scored once, every alert is delivered, at
most one repeat per kill, and each claim has one incident.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.alerting.dispatch_support import Receiver
from tests.daemon_cluster import (
    Daemon,
    counts,
    daemon_config,
    make_daemons,
    push_until_taken,
)
from tests.pg_server import PostgresServer
from tests.store_backends import fresh_database, postgres_server  # noqa: F401

ServerFactory = Callable[[web.Application], Awaitable[TestServer]]
# Two claims that spread among everyday chatter (new texts, written for this test).
CLAIMS = {
    "health_safety": [
        "my Acme kettle exploded this morning and burned my daughter's hand",
        "Acme kettles are exploding, my neighbour got burned badly",
        "second Acme kettle this week to blow up and scald someone, this is dangerous",
        "the Acme kettle burst and sprayed boiling water on my son, we were in the ER",
        "PSA: Acme kettle exploded on my counter, glass everywhere, my wife's arm is burned",
    ],
    "privacy_security": [
        "Acme leaked my credit card number, someone just bought stuff with it",
        "got an email that Acme's customer database was hacked and our passwords leaked",
        "Acme data breach: my card details were stolen after ordering from them",
        "Acme exposed customer addresses and card numbers, change your passwords now",
        "my bank says the fraud came from the Acme breach, they leaked our cards",
    ],
}
CHATTER = [
    "my Acme order is late again", "Acme support took forever to answer",
    "love my new Acme blender", "where can I buy Acme filters?",
    "the Acme app keeps logging me out",
]
BATCHES, BATCH = 12, 20
SETTLE = 240.0  # seconds for the survivors to finish after the last push (2 loaded cores)


def posts(start: int, rng: random.Random) -> list[dict[str, Any]]:
    batch = []
    for i in range(start, start + BATCH):
        draw = rng.random()
        if draw < 0.35:
            text = rng.choice(CLAIMS["health_safety"])
        elif draw < 0.7:
            text = rng.choice(CLAIMS["privacy_security"])
        else:
            text = rng.choice(CHATTER)
        batch.append({
            "id": f"m{i}", "text": f"{text} ({i})", "author": f"user{i}",
            "url": f"https://social.example/p/{i}",
            "published_at": datetime.now(UTC).isoformat(),
        })
    return batch


def leader_of(url: str, daemons: list[Daemon]) -> Daemon | None:
    """The daemon holding the detection lease now, by its process id."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT holder FROM leases WHERE name = 'detection' AND expires_at >= now()"
        ).fetchone()
    if row is None:
        return None
    pid = int(str(row[0]).split(":")[1])
    return next((d for d in daemons if d.proc is not None and d.proc.pid == pid), None)


async def settled(url: str, pushed: int, seconds: float) -> dict[str, int]:
    """Wait until every accepted mention is scored and read, and no alert waits."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        now = await asyncio.to_thread(counts, url)
        done = (now["mentions"] == pushed and now["scored"] == pushed
                and now["scoring_queue"] == 0 and now["detection_queue"] == 0
                and now["alerts"] > 0 and now["alerts_waiting"] == 0)
        if done or loop.time() > deadline:
            return now
        await asyncio.sleep(0.5)


async def test_three_daemons_killed_at_random_lose_nothing(
    tmp_path: Path, postgres_server: PostgresServer, aiohttp_server: ServerFactory,  # noqa: F811
) -> None:
    receiver = Receiver(delay=0.3)  # slow enough that kills land while alerts are in flight
    hook = await aiohttp_server(receiver.app())
    url = fresh_database(postgres_server)
    daemons = make_daemons(tmp_path, 3, daemon_config(url, hook_url=str(hook.make_url("/hook"))))
    rng = random.Random(20261206)
    kills: list[str] = []
    try:
        for daemon in daemons:
            await daemon.start()
        for daemon in daemons:
            await daemon.ready()
        async with aiohttp.ClientSession() as session:
            for n in range(BATCHES):
                await push_until_taken(session, daemons, posts(n * BATCH, rng), rng)
                if n in (2, 5, 8, 10):
                    # The first and third kill take the detection leader; the others any daemon.
                    victim = leader_of(url, daemons) if n in (2, 8) else None
                    victim = victim or rng.choice([d for d in daemons if d.alive])
                    await victim.kill()
                    kills.append(victim.name)
                    await asyncio.sleep(rng.uniform(0.2, 1.5))
                    await victim.start()  # not waited for: the others go on meanwhile
                await asyncio.sleep(rng.uniform(0.2, 0.8))
        pushed = BATCHES * BATCH
        final = await settled(url, pushed, SETTLE)
        logs = "\n".join(f"--- {d.name}\n{d.log.read_text()[-3000:]}" for d in daemons)

        # 0 mentions lost, each scored once.
        assert final["mentions"] == pushed, (final, logs)
        assert final["scored"] == pushed and final["scoring_queue"] == 0, (final, logs)
        assert final["detection_queue"] == 0, (final, logs)
        with psycopg.connect(url) as conn:
            statuses = Counter(r[0] for r in conn.execute("SELECT status FROM alerts"))
            sent_keys = {
                r[0] for r in conn.execute(
                    "SELECT idempotency_key FROM alerts WHERE status = 'sent'"
                )
            }
            incidents = conn.execute(
                "SELECT category, cluster_key, status FROM incidents WHERE kind = 'viral_claim'"
            ).fetchall()
        # 0 alerts lost: none waiting or failed, every sent row reached the receiver.
        assert set(statuses) <= {"sent", "merged"}, (statuses, logs)
        received = Counter(receiver.keys)
        assert sent_keys <= set(received), (sent_keys - set(received), logs)
        # At most one repeat per kill.
        repeats = sum(n - 1 for n in received.values())
        assert repeats <= len(kills), (received, kills)
        # One incident per claim, and never two active incidents for one cluster key.
        per_claim = Counter(category for category, _, _ in incidents)
        assert per_claim == {"health_safety": 1, "privacy_security": 1}, (incidents, logs)
        active = Counter(key for _, key, status in incidents if status != "resolved")
        assert all(n == 1 for n in active.values()), incidents
        assert len(kills) == 4
    finally:
        for daemon in daemons:
            await daemon.stop()
