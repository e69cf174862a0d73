"""What detection keeps: per-brand volume buckets and the detectors' saved state."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from monitor.clock import from_iso, iso
from monitor.store.rows import readable
from monitor.store.sql import Db

BUCKET_SECONDS = 300


def bucket_start(when: datetime, seconds: int = BUCKET_SECONDS) -> datetime:
    """Start of the fixed-size bucket containing `when`."""
    epoch = int(when.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=when.tzinfo)


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


def add_totals(db: Db, counts: dict[tuple[str, str], int]) -> None:
    """Count new mentions into their (brand, bucket start) buckets."""
    db.executemany(
        "INSERT INTO volume_buckets (brand, bucket_start, total) VALUES (?, ?, ?) "
        "ON CONFLICT (brand, bucket_start) "
        "DO UPDATE SET total = volume_buckets.total + excluded.total",
        [(brand, bucket, n) for (brand, bucket), n in counts.items()],
    )


def add_negatives(db: Db, counts: dict[tuple[str, str], int]) -> None:
    """Count newly scored negative mentions into their existing buckets."""
    db.executemany(
        "UPDATE volume_buckets SET negative = negative + ? WHERE brand = ? AND bucket_start = ?",
        [(n, brand, bucket) for (brand, bucket), n in counts.items()],
    )


class DetectorRows:
    """The `volume_buckets` and `detector_state` tables."""

    def __init__(self, db: Db) -> None:
        self._db = db

    def volume(self, brand: str, since: datetime) -> list[tuple[datetime, int, int]]:
        """(bucket start, total, negative) for a brand since a time, oldest first."""
        rows = self._db.query(
            "SELECT bucket_start, total, negative FROM volume_buckets "
            "WHERE brand = ? AND bucket_start >= ? ORDER BY bucket_start",
            [brand, iso(since)],
        )
        return readable(rows, row_to_bucket, "volume_buckets", key="bucket_start")

    def prune_buckets(self, cutoff: str, batch: int) -> int:
        """Delete up to `batch` volume buckets that start before `cutoff`; returns how many."""
        cur = self._db.execute(
            "DELETE FROM volume_buckets WHERE (brand, bucket_start) IN "
            "(SELECT brand, bucket_start FROM volume_buckets WHERE bucket_start < ? LIMIT ?)",
            [cutoff, batch],
        )
        return int(cur.rowcount)

    def state(self, key: str) -> dict[str, Any] | None:
        """Saved state of a streaming detector, or None."""
        rows = self._db.query("SELECT key, state FROM detector_state WHERE key = ?", [key])
        # An unreadable state reads as none saved: the detector learns afresh.
        states = readable(rows, row_to_detector_state, "detector_state", key="key")
        return states[0] if states else None

    def save_states(self, states: dict[str, dict[str, Any]], at: datetime) -> None:
        """Insert or replace several detectors' states."""
        self._db.executemany(
            "INSERT INTO detector_state (key, state, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET state = excluded.state, "
            "updated_at = excluded.updated_at",
            [(k, json.dumps(v), iso(at)) for k, v in states.items()],
        )
