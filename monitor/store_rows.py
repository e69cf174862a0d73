"""Stored rows as records; a row whose stored values cannot be read is skipped with a log line."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from monitor.clock import from_iso
from monitor.records import Mention, Score

log = logging.getLogger("monitor.store")  # one logger for everything the store reports
T = TypeVar("T")
# What a converter raises on a value another version or tool wrote oddly (a timestamp that is
# not one, JSON cut short, a number where text belongs).
_UNREADABLE = (ValueError, TypeError, AttributeError, KeyError, OverflowError)


@dataclass(slots=True)
class SourceState:
    """Persisted polling state and health of one source."""

    name: str
    kind: str
    config_fingerprint: str | None = None
    cursor: dict[str, Any] | None = None
    etag: str | None = None
    last_modified: str | None = None
    last_attempt: datetime | None = None
    last_success: datetime | None = None
    last_error: str | None = None
    consecutive_failures: int = 0
    disabled_until: datetime | None = None
    parked: bool = False
    budget: dict[str, Any] | None = None
    polls: int = 0
    mentions_total: int = 0


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


def row_to_scored(row: dict[str, Any]) -> tuple[Mention, Score]:
    """A mention row joined with its score columns (prefixed s_)."""
    return row_to_mention(row), Score(
        sentiment=row["s_sentiment"], p_negative=row["s_p_negative"],
        p_neutral=row["s_p_neutral"], p_positive=row["s_p_positive"],
        complaint=row["s_complaint"], harm_category=row["s_harm_category"],
        harm_confidence=row["s_harm_confidence"], model=row["s_model"],
    )


def row_to_bucket(row: dict[str, Any]) -> tuple[datetime, int, int]:
    """(bucket start, total, negative) of a volume_buckets row."""
    start = from_iso(row["bucket_start"])
    if start is None:
        raise ValueError("empty bucket_start")
    return start, row["total"], row["negative"]


def row_to_detector_state(row: dict[str, Any]) -> dict[str, Any]:
    """The saved JSON object of a detector_state row."""
    state = json.loads(row["state"])
    if not isinstance(state, dict):
        raise TypeError(f"saved state is a JSON {type(state).__name__}, not an object")
    return state


def row_to_mention(row: dict[str, Any]) -> Mention:
    """A mentions row as a Mention."""
    return Mention(
        id=row["id"],
        platform=row["platform"],
        external_id=row["external_id"],
        source=row["source"],
        url=row["url"],
        canonical_url=row["canonical_url"],
        title=row["title"],
        text=row["text"],
        author=row["author"],
        author_reach=row["author_reach"],
        published_at=from_iso(row["published_at"]),
        fetched_at=from_iso(row["fetched_at"]),
        lang=row["lang"],
        parent_id=row["parent_id"],
        brands=tuple(json.loads(row["brands"])),
    )


def row_to_state(row: dict[str, Any]) -> SourceState:
    """A source_state row as a SourceState."""
    return SourceState(
        name=row["name"],
        kind=row["kind"],
        config_fingerprint=row["config_fingerprint"],
        cursor=json.loads(row["cursor"]) if row["cursor"] else None,
        etag=row["etag"],
        last_modified=row["last_modified"],
        last_attempt=from_iso(row["last_attempt"]),
        last_success=from_iso(row["last_success"]),
        last_error=row["last_error"],
        consecutive_failures=row["consecutive_failures"],
        disabled_until=from_iso(row["disabled_until"]),
        parked=bool(row["parked"]),
        budget=json.loads(row["budget"]) if row["budget"] else None,
        polls=row["polls"],
        mentions_total=row["mentions_total"],
    )
