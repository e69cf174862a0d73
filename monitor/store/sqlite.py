"""The SQLite backend: one thread owns the connection; async methods queue to it."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlite_utils import Database

from monitor.clock import iso
from monitor.records import EngagementUpdate, Mention, Score
from monitor.store.dbfile import DatabaseLock, StoreError, explain, not_writable
from monitor.store.schema import MIGRATIONS
from monitor.store.sources import SourceState
from monitor.store.tx import Tx

log = logging.getLogger("monitor.store")
T = TypeVar("T")
P = ParamSpec("P")
# Mentions deleted per write job when pruning: small enough that ingestion, incidents and alert
# delivery queued behind a prune wait milliseconds, not the whole prune.
PRUNE_BATCH = 500


class Store:
    """The only door to SQLite. Every call runs on one dedicated thread, in submission order."""

    def __init__(
        self,
        path: str | Path,
        *,
        exclusive: bool = False,
        on_write: Callable[[float], None] | None = None,
        busy_timeout: float = 10.0,
    ) -> None:
        self.path = Path(path)
        self.exclusive = exclusive
        self.busy_timeout = busy_timeout  # seconds to wait for another process's write lock
        self._on_write = on_write
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        self._db: Database | None = None
        self._tx: Tx | None = None  # the handle over `_db`, made once per connection
        self._lock: DatabaseLock | None = None
        self._pending = 0
        self._closed = False

    @property
    def pending(self) -> int:
        """Operations queued or running on the store thread."""
        return self._pending

    async def open(self) -> Store:
        """Take the daemon lock (if exclusive), open the database and apply migrations.

        Raises StoreError with one plain line when the database is locked, damaged, read-only
        or in a directory this user cannot write to.
        """
        await self._call(self._open_sync)
        return self

    def _open_sync(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create directory {self.path.parent} for database {self.path}: "
                f"{exc.strerror or exc}. Create it, or set [storage] path to a writable place"
            ) from None
        # A daemon must write; a command that only reads may use a read-only file.
        problem = not_writable(self.path, check_file=self.exclusive)
        if problem:
            raise StoreError(problem)
        if self.exclusive:
            self._lock = DatabaseLock.acquire(self.path)
        doing = ["opening it"]  # the step under way, for the error message
        try:
            self._connect(doing)
        except BaseException as exc:
            if self._db is not None:
                self._db.conn.close()
                self._db = None
                self._tx = None
            if self._lock is not None:
                self._lock.release()
                self._lock = None
            if isinstance(exc, sqlite3.Error):
                raise StoreError(explain(self.path, exc, doing[-1], self.busy_timeout)) from None
            raise

    def _connect(self, doing: list[str]) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=True)
        self._db = Database(conn)
        self._tx = Tx(self._db)
        conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
        conn.execute("PRAGMA journal_mode = WAL")  # the first read: damage shows here
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        self._migrate(doing)
        if self.exclusive:
            # A daemon writes from its first poll: find out now, not in the first job, when
            # another process holds the write lock.
            doing.append("checking at start that it can be written")
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("COMMIT")

    def _migrate(self, doing: list[str]) -> None:
        db = self._require_db()
        doing.append("reading its schema version")
        db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        applied = {row[0] for row in db.execute("SELECT version FROM schema_migrations")}
        for version, name, script in MIGRATIONS:
            if version in applied:
                continue
            doing.append(f"applying schema migration {version} ({name})")
            statements = list(sqlite_statements(script))
            db.execute("BEGIN IMMEDIATE")
            try:
                for statement in statements:
                    db.execute(statement)
                db.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                    [version, name, iso(datetime.now().astimezone())],
                )
                db.execute("COMMIT")
            except Exception:
                db.execute("ROLLBACK")
                raise
            log.info("applied schema migration %d (%s)", version, name)

    def schema_version(self) -> int:
        """Highest applied migration (sync; for tests and `check-config`)."""
        row = self._require_db().execute("SELECT max(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    def _require_db(self) -> Database:
        if self._db is None:
            raise StoreError("store is not open")
        return self._db

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        if self._closed:
            raise StoreError("store is closed")
        self._pending += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        finally:
            self._pending -= 1

    def _require_tx(self) -> Tx:
        if self._tx is None:
            raise StoreError("store is not open")
        return self._tx

    async def transaction(
        self, fn: Callable[Concatenate[Tx, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run `fn(tx, *args, **kwargs)` as one write transaction on the store thread.

        `tx` is the store's `Tx` handle: every write made through it commits when `fn` returns
        and none does when it raises. It must not escape `fn`.
        """

        def run() -> T:
            db = self._require_db()
            tx = self._require_tx()
            started = time.perf_counter()
            try:
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(
                    explain(self.path, exc, "starting a write", self.busy_timeout)
                ) from None
            try:
                result = fn(tx, *args, **kwargs)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            if self._on_write is not None:
                self._on_write(time.perf_counter() - started)
            return result

        return await self._call(run)

    async def read(
        self, fn: Callable[Concatenate[Tx, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run `fn(tx, *args, **kwargs)` on the store thread without a write transaction."""
        return await self._call(lambda: fn(self._require_tx(), *args, **kwargs))

    async def close(self) -> None:
        """Finish queued work, checkpoint the WAL and close; safe to call twice."""
        if self._closed:
            return

        def shutdown() -> None:
            if self._db is not None:
                try:
                    self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                finally:
                    self._db.conn.close()
                    self._db = None
                    self._tx = None
            if self._lock is not None:  # after the connection: see monitor.store.dbfile
                self._lock.release()
                self._lock = None

        await self._call(shutdown)
        self._closed = True
        self._executor.shutdown(wait=False)  # its last task is done: nothing to wait for

    async def ping(self) -> bool:
        """True when the store thread answers a trivial query."""
        return await self._call(lambda: self._require_db().execute("SELECT 1").fetchone()[0] == 1)

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

    async def scored_mentions(self, since: datetime) -> list[tuple[Mention, Score]]:
        """Mentions first seen since a time with their scores, oldest first (detection restore)."""
        return await self.read(lambda tx: tx.mentions.scored_since(since))

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


def sqlite_statements(script: str) -> Iterable[str]:
    """Yield complete SQL statements from `script` using sqlite3.complete_statement."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer.strip()
            buffer = ""
    if buffer.strip():
        yield buffer.strip()


def has_detector_state(path: Path, key: str) -> bool:
    """Whether the database file at `path` holds a detector state under `key` (read-only;
    False when it cannot be read as a brand-monitor database)."""
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            found = conn.execute("SELECT 1 FROM detector_state WHERE key = ?", [key]).fetchone()
    except sqlite3.Error:
        return False
    return found is not None


def retention_cutoff(now: datetime, days: int) -> datetime:
    """The time before which mentions are pruned."""
    return now - timedelta(days=days)
