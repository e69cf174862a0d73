"""Real `brand-monitor run` daemons sharing one PostgreSQL database, for the crash test and the
scale-out benchmark: configs, start, signed pushes, SIGKILL, and what the database holds.

Each daemon has one signed webhook source (any daemon takes pushes), the embedded models and,
when given, a signed webhook alert channel with a route for every severity from `low`.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import psycopg

from connectors.webhook import SIGNATURE_HEADER, sign

ROOT = Path(__file__).resolve().parents[1]
PUSH_SECRET = "push-secret-cluster-0123456789"
PUSH_SECRET_ENV = "BM_CLUSTER_PUSH_SECRET"
HOOK_SECRET_ENV = "BM_CLUSTER_HOOK_SECRET"
HOOK_SECRET = "whsec-cluster-0123456789"


def daemon_config(
    url: str | Path, *, hook_url: str | None, heartbeat: float = 0.5, lease: float = 5.0,
    claim: float = 10.0, brand: str = "Acme", group_wait: float = 2.0,
) -> str:
    """A daemon's config TOML: the database (a PostgreSQL URL, or a SQLite file's path), one
    push source, and the alert hook."""
    if isinstance(url, Path):
        storage = f'path = "{url}"'
    else:
        storage = (
            f'url = "{url}"\nheartbeat = "{heartbeat}s"\nlease = "{lease}s"\n'
            f'scoring_claim = "{claim}s"'
        )
    text = f"""
[[brands]]
name = "{brand}"

[[sources]]
kind = "webhook"
name = "push"
secret = {{ env = "{PUSH_SECRET_ENV}" }}
max_body_bytes = 10000000

[storage]
{storage}

[server]
port = 0

[logging]
status_interval = 0

[alerting]
group_wait = {group_wait}
poll_interval = 0.5
# One send in flight per channel: a kill then repeats at most one alert.
max_in_flight_per_channel = 1
"""
    if hook_url:
        text += f"""
[[channels]]
name = "hook"
kind = "webhook"
url = "{hook_url}"
secret = {{ env = "{HOOK_SECRET_ENV}" }}
timeout = 5

[[routes]]
name = "everything"
min_severity = "low"
channels = ["hook"]
"""
    return text


@dataclass
class Daemon:
    """One `brand-monitor run` process; restartable after a kill."""

    name: str
    config: Path
    log: Path
    proc: asyncio.subprocess.Process | None = None
    base: str | None = None
    lines: list[str] = field(default_factory=list)
    _reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the process; `ready()` waits until it serves and its models have loaded."""
        env = {
            **os.environ, PUSH_SECRET_ENV: PUSH_SECRET, HOOK_SECRET_ENV: HOOK_SECRET,
            "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT),
        }
        self.base = None
        self.lines = []
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "monitor", "run", "--config", str(self.config),
            cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        with self.log.open("a", encoding="utf-8", buffering=1) as log:
            while line := await self.proc.stdout.readline():
                text = line.decode(errors="replace")
                self.lines.append(text)
                log.write(text)
                if "HTTP server on " in text:
                    self.base = text.split("HTTP server on ", 1)[1].strip()

    async def ready(self, timeout: float = 180.0) -> None:  # noqa: ASYNC109 - a start budget
        """Wait until the daemon serves HTTP and has loaded its models."""
        deadline = time.monotonic() + timeout
        while not (self.base and any("models loaded" in line for line in self.lines)):
            output = "".join(self.lines)[-4000:]
            if self.proc is None or self.proc.returncode is not None:
                raise AssertionError(f"daemon {self.name} exited:\n{output}")
            if time.monotonic() > deadline:
                raise AssertionError(f"daemon {self.name} not ready:\n{output}")
            await asyncio.sleep(0.1)

    @property
    def alive(self) -> bool:
        """Whether the process runs."""
        return self.proc is not None and self.proc.returncode is None

    async def kill(self) -> None:
        """SIGKILL: no clean-up of any kind."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
            await self.proc.wait()
        if self._reader is not None:
            await self._reader
        self.base = None

    async def stop(self) -> None:
        """SIGTERM and wait (a clean stop)."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 60)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        if self._reader is not None:
            await self._reader


def make_daemons(workdir: Path, count: int, config_text: str) -> list[Daemon]:
    """`count` daemons on one config (each its own port and log file)."""
    config = workdir / "cluster.toml"
    config.write_text(config_text, encoding="utf-8")
    return [Daemon(f"d{n}", config, workdir / f"d{n}.log") for n in range(count)]


async def push(session: aiohttp.ClientSession, base: str, mentions: list[dict[str, Any]]) -> bool:
    """Push one signed batch; True when the daemon answered 2xx (then every mention is stored)."""
    body = json.dumps({"mentions": mentions}).encode()
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(PUSH_SECRET, body, int(time.time())),
    }
    try:
        async with session.post(
            f"{base}/ingest/push", data=body, headers=headers,
            timeout=aiohttp.ClientTimeout(total=60),
        ) as resp:
            await resp.read()
            return 200 <= resp.status < 300
    except (aiohttp.ClientError, TimeoutError):
        return False  # the daemon died under it: the sender pushes the batch elsewhere


async def push_until_taken(
    session: aiohttp.ClientSession, daemons: list[Daemon], batch: list[dict[str, Any]],
    rng: random.Random,
) -> str:
    """Push a batch to a random running daemon until one takes it; returns which one did."""
    while True:
        ready = [d for d in daemons if d.alive and d.base]
        if ready:
            daemon = rng.choice(ready)
            assert daemon.base is not None
            if await push(session, daemon.base, batch):
                return daemon.name
        await asyncio.sleep(0.1)


def counts(url: str) -> dict[str, int]:
    """What the shared database holds now (mentions, scores, queues, alerts by state)."""
    with psycopg.connect(url) as conn:
        one = {
            "mentions": "SELECT count(*) FROM mentions",
            "scored": "SELECT count(*) FROM scores",
            "scoring_queue": "SELECT count(*) FROM scoring_queue",
            "detection_queue": "SELECT count(*) FROM detection_queue",
            "incidents": "SELECT count(*) FROM incidents",
            "alerts": "SELECT count(*) FROM alerts",
            "alerts_waiting": "SELECT count(*) FROM alerts WHERE status IN ('pending', 'sending')",
            "alerts_sent": "SELECT count(*) FROM alerts WHERE status = 'sent'",
        }
        return {name: int(conn.execute(sql).fetchone()[0]) for name, sql in one.items()}  # type: ignore[index]
