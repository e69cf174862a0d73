"""The SQLite backend: one thread owns the connection; async methods queue to it."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from monitor.clock import iso
from monitor.store.base import PRUNE_BATCH, Store, retention_cutoff
from monitor.store.dbfile import DatabaseLock, StoreError, explain, not_writable
from monitor.store.schema import MIGRATIONS
from monitor.store.sql import SqliteDb
from monitor.store.tx import Tx

log = logging.getLogger("monitor.store")
T = TypeVar("T")
P = ParamSpec("P")
__all__ = ["PRUNE_BATCH", "SqliteStore", "has_detector_state", "retention_cutoff"]


class SqliteStore(Store):
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
        self._db: SqliteDb | None = None
        self._tx: Tx | None = None  # the handle over `_db`, made once per connection
        self._lock: DatabaseLock | None = None
        super().__init__(path)

    async def open(self) -> SqliteStore:
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
        self._db = SqliteDb(conn)
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

    def _require_db(self) -> SqliteDb:
        if self._db is None:
            raise StoreError("store is not open")
        return self._db

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

