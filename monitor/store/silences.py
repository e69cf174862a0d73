"""What the store keeps about silences: who muted which brand and category, when, and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor.clock import from_iso, iso
from monitor.records import Incident
from monitor.store.sql import Db


@dataclass(frozen=True, slots=True)
class Silence:
    """One row of the `silences` table."""

    id: int
    brand: str | None  # None: every brand
    category: str | None  # None: every category
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_by: str | None

    def active(self, now: datetime) -> bool:
        """True while the silence mutes alerts."""
        return self.starts_at <= now < self.ends_at

    def matches(self, incident: Incident) -> bool:
        """True when the silence covers the incident's brand and category."""
        return (self.brand is None or self.brand == incident.brand) and (
            self.category is None or self.category == incident.category
        )


def _silence(row: tuple[object, ...]) -> Silence:
    starts, ends = from_iso(str(row[3])), from_iso(str(row[4]))
    assert starts is not None and ends is not None
    return Silence(
        id=int(str(row[0])),
        brand=None if row[1] is None else str(row[1]),
        category=None if row[2] is None else str(row[2]),
        starts_at=starts,
        ends_at=ends,
        reason=str(row[5]),
        created_by=None if row[6] is None else str(row[6]),
    )


_COLUMNS = "id, brand, category, starts_at, ends_at, reason, created_by"


class SilenceRows:
    """The `silences` table."""

    def __init__(self, db: Db) -> None:
        self._db = db

    def add(
        self,
        *,
        brand: str | None,
        category: str | None,
        starts_at: datetime,
        ends_at: datetime,
        reason: str,
        created_by: str | None,
    ) -> Silence:
        """Insert a silence as given (the caller has checked it)."""
        cur = self._db.execute(
            "INSERT INTO silences (brand, category, starts_at, ends_at, reason, created_by) "
            "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            [brand, category, iso(starts_at), iso(ends_at), reason, created_by],
        )
        return Silence(
            int(cur.fetchone()[0]), brand, category, starts_at, ends_at, reason, created_by
        )

    def current(self, now: datetime, *, include_expired: bool = False) -> list[Silence]:
        """Silences that are active or upcoming (or all), soonest ending first."""
        where = "" if include_expired else " WHERE ends_at > ?"
        args = [] if include_expired else [iso(now)]
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM silences{where} ORDER BY ends_at, id", args
        )
        return [_silence(r) for r in rows.fetchall()]

    def get(self, silence_id: int) -> Silence | None:
        """One silence by id."""
        row = self._db.execute(
            f"SELECT {_COLUMNS} FROM silences WHERE id = ?", [silence_id]
        ).fetchone()
        return None if row is None else _silence(row)

    def end(self, silence_id: int, now: datetime) -> None:
        """Make a silence end now (and start no later than now); the row stays."""
        self._db.execute(
            "UPDATE silences SET ends_at = ?, "
            "starts_at = CASE WHEN starts_at < ? THEN starts_at ELSE ? END WHERE id = ?",
            [iso(now), iso(now), iso(now), silence_id],
        )

    def matching(self, brand: str, category: str, now: datetime) -> Silence | None:
        """The active silence covering this brand and category that ends last, if any."""
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM silences WHERE starts_at <= ? AND ends_at > ? "
            "AND (brand IS NULL OR brand = ?) AND (category IS NULL OR category = ?) "
            "ORDER BY ends_at DESC LIMIT 1",
            [iso(now), iso(now), brand, category],
        ).fetchall()
        return _silence(rows[0]) if rows else None
