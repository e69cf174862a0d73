"""Running store-level tests on each backend: SQLite in a temporary file, PostgreSQL in a fresh
database of the session's throwaway cluster (tests/pg_server.py).

A test module imports `store_location` (and `postgres_server`, which it uses) and takes
`store_location` where it used to build a path; `Store(store_location)` is then that backend's
store. The PostgreSQL case skips with the cluster fixture's reason only when no server can be
had.
"""

from __future__ import annotations

import itertools
import sqlite3
from pathlib import Path
from typing import Any

import psycopg
import pytest

from monitor.store import PostgresTarget, Store
from monitor.store.postgres import PostgresStore
from monitor.store.sqlite import SqliteStore
from tests.pg_server import PostgresServer, postgres_server

__all__ = ["BACKENDS", "fresh_database", "postgres_server", "select", "store_location"]
BACKENDS = ["sqlite", "postgresql"]
_numbers = itertools.count(1)


def fresh_database(server: PostgresServer) -> str:
    """Create an empty database in the cluster; returns its URL."""
    name = f"bm_test_{next(_numbers)}"
    with psycopg.connect(server.url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return f"postgresql://{server.user}@{server.host}:{server.port}/{name}"


@pytest.fixture(params=BACKENDS)
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> Path | PostgresTarget:
    """Where a test's store lives: a SQLite file, or an empty PostgreSQL database."""
    if request.param == "sqlite":
        return tmp_path / "bm.db"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return PostgresTarget(fresh_database(server))


def select(store: Store, sql: str) -> list[tuple[Any, ...]]:
    """Rows of a plain query (no parameters), read beside the store over a connection of its
    own, on either backend."""
    if isinstance(store, PostgresStore):
        with psycopg.connect(store.target.url) as pg:
            return [tuple(row) for row in pg.execute(sql).fetchall()]
    assert isinstance(store, SqliteStore)
    with sqlite3.connect(store.path) as conn:
        return conn.execute(sql).fetchall()
