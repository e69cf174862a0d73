"""What the store keeps per source: polling cursor, conditional-GET validators, health, budget."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from monitor.clock import from_iso, iso
from monitor.store.rows import readable
from monitor.store.sql import Db


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


class SourceRows:
    """The `source_state` table."""

    def __init__(self, db: Db) -> None:
        self._db = db

    def get(self, name: str) -> SourceState | None:
        """Persisted state of one source, or None before its first poll."""
        rows = self._db.query("SELECT * FROM source_state WHERE name = ?", [name])
        # An unreadable row reads as no state: the source starts afresh and overwrites it.
        states = readable(rows, row_to_state, "source_state", key="name")
        return states[0] if states else None

    def all(self) -> list[SourceState]:
        """All persisted source states, by name."""
        rows = self._db.query("SELECT * FROM source_state ORDER BY name")
        return readable(rows, row_to_state, "source_state", key="name")

    def save(self, state: SourceState) -> None:
        """Insert or replace one source's state."""
        row = asdict(state)
        for key in ("cursor", "budget"):
            row[key] = json.dumps(row[key]) if row[key] is not None else None
        for key in ("last_attempt", "last_success", "disabled_until"):
            row[key] = iso(row[key])
        row["parked"] = int(row["parked"])
        # Raw SQL: sqlite-utils' upsert commits on its own, which would end our transaction.
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        updates = ", ".join(f"{column} = excluded.{column}" for column in row if column != "name")
        self._db.execute(
            f"INSERT INTO source_state ({columns}) VALUES ({marks}) ON CONFLICT (name) "
            f"DO UPDATE SET {updates}",
            list(row.values()),
        )
