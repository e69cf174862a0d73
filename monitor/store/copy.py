"""Copying a SQLite database into an empty PostgreSQL database (`brand-monitor store copy`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from monitor.store.dbfile import StoreError
from monitor.store.postgres import PostgresDb, PostgresStore
from monitor.store.postgres_target import PostgresTarget
from monitor.store.schema import MIGRATIONS as SQLITE_MIGRATIONS
from monitor.store.schema_pg import IDENTITY_TABLES, TABLES
from monitor.store.tx import Tx

# Rows read from SQLite and written with one COPY at a time; progress is told after each.
BATCH = 5000
# (table, rows copied so far, rows in the table)
Progress = Callable[[str, int, int], None]


def _source(path: Path) -> sqlite3.Connection:
    """The SQLite database, read-only, at the newest schema; StoreError otherwise."""
    if not path.is_file():
        raise StoreError(f"no SQLite database at {path}")
    try:
        # Read on the store's worker thread, one job at a time.
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        version = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()[0]
    except sqlite3.Error as exc:
        raise StoreError(f"cannot read {path} as a brand-monitor database: {exc}") from None
    newest = SQLITE_MIGRATIONS[-1][0]
    if version != newest:
        conn.close()
        raise StoreError(
            f"{path} is at schema version {version}, not {newest}: open it once with this "
            "version of brand-monitor (e.g. `brand-monitor sources --db PATH`) to upgrade it, "
            "then copy"
        )
    return conn


def _copy_all(tx: Tx, source: sqlite3.Connection, target: str, progress: Progress) -> int:
    db = tx.db
    assert isinstance(db, PostgresDb), "the copy writes through a PostgreSQL store"
    alive = db.execute("SELECT count(*) FROM daemons WHERE seen_until >= now()").fetchone()
    if alive and alive[0]:
        raise StoreError(
            f"{target} is in use by {alive[0]} running brand-monitor daemon(s): stop them first"
        )
    for table in TABLES:
        row = db.execute(f"SELECT count(*) FROM {table}").fetchone()
        found = int(row[0]) if row else 0
        if found:
            raise StoreError(
                f"{target} is not empty ({table} has {found} rows): copy only into a new, "
                "empty database"
            )
    conn = db.conn
    assert conn is not None
    copied = 0
    for table in TABLES:
        columns = [row[1] for row in source.execute(f"PRAGMA table_info({table})")]
        names = ", ".join(columns)
        total = int(source.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        done = 0
        progress(table, done, total)
        rows = source.execute(f"SELECT {names} FROM {table}")
        while batch := rows.fetchmany(BATCH):
            with conn.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in batch:
                    copy.write_row(row)
            done += len(batch)
            progress(table, done, total)
        copied += done
    # Mentions copied without a score wait in the scoring queue, as if stored here.
    tx.cluster.queue_unscored()
    for table in IDENTITY_TABLES:
        # Rows came with their ids: new rows must be numbered after them.
        db.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"coalesce(max(id), 0) + 1, false) FROM {table}"
        )
    return copied


async def copy_to_postgres(source: Path, target: PostgresTarget, progress: Progress) -> int:
    """Copy every row of the SQLite database at `source` into the empty PostgreSQL database
    `target`, in one transaction; returns how many rows were copied.

    StoreError when the source cannot be read, the target is not empty, or a daemon runs on
    it (stop the daemons first: the copy must be the only writer).
    """
    conn = _source(source)
    try:
        store = await PostgresStore(target).open()
        try:
            return await store.transaction(_copy_all, conn, target.url, progress)
        finally:
            await store.close()
    finally:
        conn.close()
