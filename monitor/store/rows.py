"""Reading stored rows: a row whose stored values cannot be read is skipped with a log line."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

log = logging.getLogger("monitor.store")  # one logger for everything the store reports
T = TypeVar("T")
# What a converter raises on a value another version or tool wrote oddly (a timestamp that is
# not one, JSON cut short, a number where text belongs).
_UNREADABLE = (ValueError, TypeError, AttributeError, KeyError, OverflowError)
# Ids per `IN (...)` list: below SQLite's bound-parameter limit.
CHUNK = 500


def readable(
    rows: Iterable[dict[str, Any]], convert: Callable[[dict[str, Any]], T], table: str,
    key: str = "id",
) -> list[T]:
    """Convert rows, skipping with one log line each any row whose stored values cannot be read."""
    converted: list[T] = []
    for row in rows:
        try:
            converted.append(convert(row))
        except _UNREADABLE as exc:
            log.warning(
                "skipped %s row %s=%r: a stored value cannot be read (%s: %s); the row stays "
                "in the database until fixed or deleted with sqlite3",
                table, key, row.get(key), type(exc).__name__, exc,
            )
    return converted


def chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    """Sorted distinct ids in slices small enough for one `IN (...)` list."""
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


def marks(values: Sequence[object]) -> str:
    """`?, ?, ?` for an `IN (...)` list of these values."""
    return ", ".join("?" for _ in values)
