"""What the repositories need from a database connection, whichever backend holds it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Literal, Protocol

from sqlite_utils import Database

Dialect = Literal["sqlite", "postgresql"]


class Rows(Protocol):
    """The cursor an `execute` returns: rows as tuples."""

    @property
    def rowcount(self) -> int:
        """Rows the statement changed."""

    def fetchone(self) -> Any:
        """The next row, or None."""

    def fetchall(self) -> list[Any]:
        """The remaining rows."""

    def __iter__(self) -> Iterator[Any]:
        """The remaining rows, one at a time."""


class Db(Protocol):
    """A connection the repositories write SQL for: `?` placeholders, both dialects' common
    SQL (`ON CONFLICT`, `RETURNING`), and `dialect` where they must differ."""

    @property
    def dialect(self) -> Dialect:
        """Which SQL the connection speaks."""

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> Rows:
        """Run one statement; rows come back as tuples."""

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement for each parameter row."""

    def query(self, sql: str, params: Sequence[Any] = ()) -> Iterator[dict[str, Any]]:
        """Run one query; rows come back as dicts by column name."""


class SqliteDb(Database):
    """sqlite-utils' Database with the rest of `Db`."""

    @property
    def dialect(self) -> Dialect:
        """SQLite's SQL."""
        return "sqlite"

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement for each parameter row."""
        self.conn.executemany(sql, rows)


def json_text(db: Db, column: str, key: str) -> str:
    """SQL for the text of a top-level key of a JSON object stored as text."""
    if db.dialect == "postgresql":
        return f"({column}::jsonb ->> '{key}')"
    return f"json_extract({column}, '$.{key}')"
