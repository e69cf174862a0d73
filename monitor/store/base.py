"""What every backend's store offers on top of `transaction` and `read`: the hot-path methods."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from monitor.clock import iso
from monitor.records import EngagementUpdate, Mention, Score
from monitor.store.dbfile import StoreError
from monitor.store.postgres_target import PostgresTarget
from monitor.store.sources import SourceState
from monitor.store.tx import Tx

T = TypeVar("T")
P = ParamSpec("P")
# Mentions deleted per write job when pruning: small enough that ingestion, incidents and alert
# delivery queued behind a prune wait milliseconds, not the whole prune.
PRUNE_BATCH = 500


class Store:
    """The store, whichever backend holds it: `Store(path)` is SQLite (monitor/store/sqlite.py),
    `Store(PostgresTarget(...))` PostgreSQL (monitor/store/postgres.py).

    Its jobs run on one worker thread, in submission order, off the event loop. The backends
    define `open`, `close`, `ping`, `transaction` and `read`; the hot-path methods below are
    built on the last two.
    """

    def __new__(cls, location: str | Path | PostgresTarget, **options: Any) -> Store:
        """The backend's store for this location."""
        if cls is Store:
            # Imported here: both backends import this module, and psycopg only when needed.
            if isinstance(location, PostgresTarget):
                from monitor.store.postgres import PostgresStore

                cls = PostgresStore
            else:
                from monitor.store.sqlite import SqliteStore

                cls = SqliteStore
        return object.__new__(cls)

    def __init__(self, location: str | Path | PostgresTarget, **options: Any) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        self._pending = 0
        self._closed = False

    @property
    def shared(self) -> bool:
        """Whether several daemons may use this database at once (PostgreSQL: yes)."""
        return False

    @property
    def pending(self) -> int:
        """Operations queued or running on the store thread."""
        return self._pending

    async def open(self) -> Store:
        """Connect and apply migrations; StoreError with one plain line when that fails."""
        raise NotImplementedError(type(self).__name__)

    async def close(self) -> None:
        """Finish queued work and disconnect; safe to call twice."""
        raise NotImplementedError(type(self).__name__)

    async def ping(self) -> bool:
        """True when the database answers a trivial query."""
        raise NotImplementedError(type(self).__name__)

    async def transaction(
        self, fn: Callable[Concatenate[Tx, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run `fn(tx, *args, **kwargs)` as one write transaction on the store thread.

        `tx` is the store's `Tx` handle: every write made through it commits when `fn` returns
        and none does when it raises. It must not escape `fn`.
        """
        raise NotImplementedError(type(self).__name__)

    async def read(
        self, fn: Callable[Concatenate[Tx, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run `fn(tx, *args, **kwargs)` on the store thread without a write transaction."""
        raise NotImplementedError(type(self).__name__)

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        if self._closed:
            raise StoreError("store is closed")
        self._pending += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        finally:
            self._pending -= 1

    # -- mentions ---------------------------------------------------------------------------

    async def save_mentions(self, mentions: Sequence[Mention]) -> list[Mention]:
        """Insert mentions not seen before (by platform+id or canonical URL); return new ones."""
        batch = list(mentions)  # as it is now, whatever the caller does while this waits
        return await self.transaction(lambda tx: tx.mentions.save(batch))

    async def add_engagement(self, updates: Sequence[EngagementUpdate]) -> int:
        """Store engagement snapshots for known mentions; returns how many were stored."""
        batch = list(updates)
        return await self.transaction(lambda tx: tx.mentions.add_engagement(batch))

    async def refresh_candidates(self, source: str, since: datetime, limit: int) -> list[str]:
        """External ids of a source's mentions to re-read: open-incident evidence, then newest."""
        return await self.read(lambda tx: tx.mentions.refresh_candidates(source, since, limit))

    async def save_scores(self, scored: Sequence[tuple[Mention, Score]], at: datetime) -> None:
        """Store model scores and count negative mentions into the volume buckets."""
        batch = list(scored)
        await self.transaction(lambda tx: tx.mentions.save_scores(batch, at))

    async def unscored_mentions(self, limit: int = 256) -> list[Mention]:
        """Stored mentions that have no score yet (e.g. the model was unavailable), oldest first."""
        return await self.read(lambda tx: tx.mentions.unscored(limit))

    async def scored_mentions(
        self, since: datetime, *, unread: bool = True
    ) -> list[tuple[Mention, Score]]:
        """Mentions first seen since a time with their scores, oldest first (detection restore);
        `unread=False` leaves out those the detection queue still holds (PostgreSQL)."""
        return await self.read(lambda tx: tx.mentions.scored_since(since, unread=unread))

    async def search_mentions(
        self,
        query: str | None = None,
        *,
        brand: str | None = None,
        since: datetime | None = None,
        limit: int = 20,
    ) -> list[dict[str, Any]]:
        """Mentions matching an FTS5 query, newest first; StoreError on a malformed query."""
        return await self.read(lambda tx: tx.mentions.search(query, brand, since, limit))

    async def count_mentions(self) -> int:
        """Number of stored mentions."""
        return await self.read(lambda tx: tx.mentions.count())

    async def volume(self, brand: str, since: datetime) -> list[tuple[datetime, int, int]]:
        """(bucket start, total, negative) for a brand since a time, oldest first."""
        return await self.read(lambda tx: tx.detectors.volume(brand, since))

    async def prune(self, older_than: datetime, *, batch: int = PRUNE_BATCH) -> int:
        """Delete mentions (and their scores, engagement) first seen before `older_than`.

        Works in write jobs of at most `batch` mentions so that other store work (ingestion,
        incidents, alert delivery) runs between them; returns how many mentions were deleted.
        """
        cutoff = iso(older_than) or ""
        batch = max(1, batch)
        removed = 0
        after: tuple[str, int] | None = None
        while True:
            deleted, after = await self.transaction(
                lambda tx, start: tx.mentions.prune(cutoff, start, batch), after
            )
            removed += deleted
            if after is None:
                break
        while await self.transaction(lambda tx: tx.detectors.prune_buckets(cutoff, batch)) == batch:
            pass
        return removed

    # -- source state -----------------------------------------------------------------------

    async def source_state(self, name: str) -> SourceState | None:
        """Persisted state of one source, or None before its first poll."""
        return await self.read(lambda tx: tx.sources.get(name))

    async def source_states(self) -> list[SourceState]:
        """All persisted source states, by name."""
        return await self.read(lambda tx: tx.sources.all())

    async def save_source_state(self, state: SourceState) -> None:
        """Insert or replace one source's state."""
        await self.transaction(lambda tx: tx.sources.save(state))

    # -- detector state ---------------------------------------------------------------------

    async def load_detector_state(self, key: str) -> dict[str, Any] | None:
        """Saved state of a streaming detector, or None."""
        return await self.read(lambda tx: tx.detectors.state(key))

    async def save_detector_states(self, states: dict[str, dict[str, Any]], at: datetime) -> None:
        """Persist several detectors' states in one transaction."""
        saved = dict(states)
        await self.transaction(lambda tx: tx.detectors.save_states(saved, at))


def retention_cutoff(now: datetime, days: int) -> datetime:
    """The time before which mentions are pruned."""
    return now - timedelta(days=days)
