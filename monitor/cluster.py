"""Several daemons on one PostgreSQL database: membership, leases and the detection leader.

There is no coordinator: every daemon runs every role and the database decides who does what.
- Each daemon beats every `[storage] heartbeat` seconds; one silent for `[storage] lease` is
  dead, and the alerts it was sending go back to pending (sent again: at most one repeat each).
- A source is polled by the daemon holding its lease ("source:NAME"); the others skip it. A
  lease outlives a few polls and is taken over when its holder stops renewing it.
- Mentions are scored by whichever daemon claims them from the scoring queue (monitor/scoring.py).
- Detection runs on one daemon at a time, the holder of the "detection" lease: claim clusters
  and volume baselines need every scored mention of a brand in one place, and detection costs
  little beside scoring. The leader reads scored mentions (with their embeddings) from the
  detection queue, in order; a new leader first rebuilds its state from the stored mentions
  that the queue no longer holds, exactly as a restarted daemon does, then reads the queue.
  Reminders, escalations, digests, auto-resolve and retention run on the leader too.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from monitor.store import Store, Tx
from monitor.store.cluster import LEADER_LEASE

if TYPE_CHECKING:
    from monitor.detection.engine import DetectionEngine

log = logging.getLogger(__name__)
FORGET_AFTER = 3600.0  # a dead daemon's row is kept this long for `status`, then deleted
DETECTION_BATCH = 256  # scored mentions the leader reads per step


def holder_name() -> str:
    """This daemon's name in the database: host, process id and a random suffix (a restarted
    daemon is a new member even when the process id repeats)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Membership:
    """This daemon's heartbeat and leases on a shared database."""

    def __init__(self, store: Store, *, heartbeat: float = 5.0, lease: float = 30.0) -> None:
        self.store = store
        self.heartbeat = heartbeat  # seconds between beats
        self.lease = lease  # seconds a silent daemon keeps its leases and claims
        self.holder = holder_name()
        self.host = socket.gethostname()
        self.pid = os.getpid()

    async def beat(self) -> None:
        """Say this daemon is alive (registers it the first time)."""
        holder, host, pid, ttl = self.holder, self.host, self.pid, self.lease
        await self.store.transaction(lambda tx: tx.cluster.heartbeat(holder, host, pid, ttl))

    async def hold(self, name: str, ttl: float) -> bool:
        """Take or renew a lease for `ttl` seconds; False while another daemon holds it."""
        holder = self.holder
        return await self.store.transaction(lambda tx: tx.cluster.hold(name, holder, ttl))

    async def leave(self) -> None:
        """Drop this daemon's heartbeat, leases and scoring claims (a clean stop)."""
        holder = self.holder
        await self.store.transaction(lambda tx: tx.cluster.leave(holder))

    async def tidy(self) -> int:
        """Send again the alerts dead daemons were sending and forget long-dead daemons;
        returns how many alerts went back to pending."""

        def tidy(tx: Tx) -> int:
            tx.cluster.forget_dead(FORGET_AFTER)
            return tx.outbox.release_in_flight()

        released = await self.store.transaction(tidy)
        if released:
            log.warning(
                "%d alert(s) were being sent by a daemon that stopped; sending them again "
                "(receivers can drop a repeat by its idempotency key)", released,
            )
        return released


class DetectionLeader:
    """Detection on whichever daemon holds the detection lease, fed from the database."""

    def __init__(
        self,
        membership: Membership,
        make_engine: Callable[[], DetectionEngine],
        *,
        batch: int = DETECTION_BATCH,
    ) -> None:
        self.membership = membership
        self.store = membership.store
        self.make_engine = make_engine
        self.batch = batch
        self.engine: DetectionEngine | None = None
        self._renewed = float("-inf")

    @property
    def leading(self) -> bool:
        """Whether this daemon leads detection now."""
        return self.engine is not None

    async def _hold(self) -> bool:
        """Renew the lease at most once a heartbeat; step down when it is lost."""
        now = time.monotonic()
        if self.leading and now - self._renewed < self.membership.heartbeat:
            return True
        if await self.membership.hold(LEADER_LEASE, self.membership.lease):
            self._renewed = now
            return True
        if self.engine is not None:
            log.warning("another daemon leads detection now; this one stops detecting")
            self.engine = None
        return False

    async def step(self) -> int:
        """Lead if the lease is free or ours, and read one batch; returns mentions read."""
        if not await self._hold():
            return 0
        engine = self.engine
        if engine is None:
            engine = self.make_engine()
            restored = await engine.restore(unread=False)
            queued = await self.store.transaction(lambda tx: tx.cluster.queue_unscored())
            self.engine = engine
            log.info(
                "this daemon (%s) leads detection now: %d claim clusters restored%s",
                self.membership.holder, restored,
                f", {queued} unscored mentions queued for scoring" if queued else "",
            )
        holder, limit = self.membership.holder, self.batch
        items = await self.store.read(lambda tx: tx.cluster.detection_batch(holder, limit))
        if not items:
            return 0
        await engine.on_scored([(m, replace(s, embedding=e)) for m, s, e in items])
        ids = [m.id for m, _, _ in items if m.id is not None]
        done = await self.store.transaction(lambda tx: tx.cluster.detection_done(holder, ids))
        if done < len(ids):
            # The lease ran out while reading: the next leader reads these again from scratch.
            log.warning("lost the detection lease while reading a batch; stepping down")
            self.engine = None
        return len(items)
