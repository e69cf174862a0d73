"""The PostgreSQL backend: jobs run on one worker thread over a psycopg connection pool."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any, Concatenate, ParamSpec, TypeVar

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from monitor.clock import iso
from monitor.store.base import Store
from monitor.store.dbfile import StoreError
from monitor.store.postgres_target import PostgresTarget
from monitor.store.schema_pg import MIGRATIONS
from monitor.store.sql import Dialect
from monitor.store.tx import Tx

log = logging.getLogger("monitor.store")
T = TypeVar("T")
P = ParamSpec("P")
# Transaction advisory lock taken while migrating, so that two daemons starting together never
# both apply a migration; the number spells "brmon" + 1.
MIGRATION_LOCK = 0x62726D6F6E + 1
CONNECT_TIMEOUT = 10  # seconds


@lru_cache(maxsize=512)
def placeholders(sql: str) -> str:
    """The repositories' `?` placeholders as psycopg's `%s` (a literal % doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")


class PostgresDb:
    """The repositories' `Db` over the pooled connection of the job now running."""

    def __init__(self) -> None:
        self.conn: psycopg.Connection[Any] | None = None  # set for the length of one job

    @property
    def dialect(self) -> Dialect:
        """PostgreSQL's SQL."""
        return "postgresql"

    def _conn(self) -> psycopg.Connection[Any]:
        if self.conn is None:
            raise StoreError("no store job is running: the Tx handle escaped its function")
        return self.conn

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> psycopg.Cursor[Any]:
        """Run one statement; rows come back as tuples."""
        if not parameters:
            return self._conn().execute(sql)  # as written: no placeholders to convert
        return self._conn().execute(placeholders(sql), list(parameters))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement for each parameter row."""
        batch = [list(row) for row in rows]
        if batch:
            with self._conn().cursor() as cur:
                cur.executemany(placeholders(sql), batch)

    def query(self, sql: str, params: Sequence[Any] = ()) -> Iterator[dict[str, Any]]:
        """Run one query; rows come back as dicts by column name."""
        with self._conn().cursor(row_factory=dict_row) as cur:
            if params:
                cur.execute(placeholders(sql), list(params))
            else:
                cur.execute(sql)
            return iter(cur.fetchall())


class PostgresStore(Store):
    """The store in a PostgreSQL database. Every call runs on one worker thread, in submission
    order, on a connection from a small pool (which replaces connections that broke)."""

    def __init__(
        self,
        target: PostgresTarget,
        *,
        exclusive: bool = False,
        on_write: Callable[[float], None] | None = None,
        pool_size: int = 2,
    ) -> None:
        # `exclusive` is SQLite's one-daemon lock; several daemons may share a PostgreSQL
        # database (monitor/cluster.py), so it changes nothing here.
        self.target = target
        self.pool_size = pool_size
        self._on_write = on_write
        self._db = PostgresDb()
        self._tx = Tx(self._db)  # one handle: the outbox's wake-ups live in it
        self._pool: ConnectionPool[psycopg.Connection[Any]] | None = None
        super().__init__(target)

    @property
    def shared(self) -> bool:
        """Several daemons may use this database at once."""
        return True

    def _connect_args(self) -> dict[str, Any]:
        args: dict[str, Any] = {"autocommit": True, "connect_timeout": CONNECT_TIMEOUT}
        if self.target.password is not None:
            args["password"] = self.target.password
        return args

    async def open(self) -> PostgresStore:
        """Connect and apply migrations.

        Raises StoreError with one plain line when the server cannot be reached or refuses the
        login.
        """
        await self._call(self._open_sync)
        return self

    def _open_sync(self) -> None:
        try:
            with psycopg.connect(self.target.url, **self._connect_args()) as session:
                self._migrate(session)
            pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
                self.target.url, kwargs=self._connect_args(), min_size=1,
                max_size=self.pool_size, open=False, name="brand-monitor",
                check=ConnectionPool.check_connection,
            )
            pool.open(wait=True, timeout=CONNECT_TIMEOUT)
            self._pool = pool
        except BaseException as exc:
            self._close_sync()
            if isinstance(exc, psycopg.Error | PoolTimeout):
                reason = str(exc).strip().splitlines()
                raise StoreError(
                    f"cannot use PostgreSQL database {self.target.url}: "
                    f"{reason[0] if reason else type(exc).__name__}"
                ) from None
            raise

    def _migrate(self, session: psycopg.Connection[Any]) -> None:
        with session.transaction():
            # Two processes starting together must not both apply a migration.
            session.execute("SELECT pg_advisory_xact_lock(%s)", [MIGRATION_LOCK])
            session.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            applied = {r[0] for r in session.execute("SELECT version FROM schema_migrations")}
            for version, name, script in MIGRATIONS:
                if version in applied:
                    continue
                session.execute(script)  # several statements and no parameters: one round trip
                session.execute(
                    "INSERT INTO schema_migrations VALUES (%s, %s, %s)",
                    [version, name, iso(datetime.now().astimezone())],
                )
                log.info("applied PostgreSQL schema migration %d (%s)", version, name)

    def schema_version(self) -> int:
        """Highest applied migration (sync; for tests and `check-config`)."""
        with self._require_pool().connection() as conn:
            row = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0) if row else 0

    def _require_pool(self) -> ConnectionPool[psycopg.Connection[Any]]:
        if self._pool is None:
            raise StoreError("store is not open")
        return self._pool

    def _run(self, fn: Callable[[Tx], T], write: bool) -> T:
        """Run `fn` in one transaction on a pooled connection (on the worker thread)."""
        started = time.perf_counter()
        with self._require_pool().connection() as conn:
            self._db.conn = conn
            try:
                with conn.transaction():
                    result = fn(self._tx)
            finally:
                self._db.conn = None
        if write and self._on_write is not None:
            self._on_write(time.perf_counter() - started)
        return result

    async def transaction(
        self, fn: Callable[Concatenate[Tx, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run `fn(tx, *args, **kwargs)` as one transaction (BEGIN ... COMMIT) on the worker
        thread; it commits when `fn` returns and rolls back when it raises."""
        return await self._call(self._run, lambda tx: fn(tx, *args, **kwargs), True)

    async def read(
        self, fn: Callable[Concatenate[Tx, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run `fn(tx, *args, **kwargs)` on the worker thread, in a transaction of its own so
        that its queries see one state of the database."""
        return await self._call(self._run, lambda tx: fn(tx, *args, **kwargs), False)

    def _close_sync(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    async def close(self) -> None:
        """Finish queued work and close the pool; safe to call twice."""
        if self._closed:
            return
        await self._call(self._close_sync)
        self._closed = True
        self._executor.shutdown(wait=False)

    async def ping(self) -> bool:
        """True when a pooled connection answers a trivial query."""
        return await self.read(lambda tx: tx.db.execute("SELECT 1").fetchone()[0] == 1)
