"""Silences: mute alerts about a brand (optionally one harm category) for a while."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from monitor.clock import from_iso, iso
from monitor.records import HARM_CATEGORIES, Incident


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


def add_silence(
    db: Database,
    *,
    brand: str | None,
    category: str | None,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
    created_by: str | None = None,
    known_brands: Sequence[str] | None = None,
) -> Silence:
    """Insert a silence (inside a transaction); ValueError for an impossible one.

    With `known_brands`, a brand that is not among them is refused: a silence for a misspelt
    brand would mute nothing while everyone believes the alerts are muted.
    """
    if brand is not None and known_brands is not None and brand not in known_brands:
        close = difflib.get_close_matches(brand, list(known_brands), n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ValueError(
            f"no brand named {brand!r} in the config; {hint}configured brands: "
            f"{', '.join(known_brands) or 'none'}"
        )
    if ends_at <= starts_at:
        raise ValueError("a silence must end after it starts; give a positive duration")
    if category is not None and category not in HARM_CATEGORIES:
        raise ValueError(
            f"unknown category {category!r}; known: {', '.join(HARM_CATEGORIES)}"
        )
    if not reason.strip():
        raise ValueError("say why the alerts are muted (--reason), so colleagues know")
    cur = db.execute(
        "INSERT INTO silences (brand, category, starts_at, ends_at, reason, created_by) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [brand, category, iso(starts_at), iso(ends_at), reason, created_by],
    )
    return Silence(
        int(cur.lastrowid or 0), brand, category, starts_at, ends_at, reason, created_by
    )


def list_silences(db: Database, now: datetime, *, include_expired: bool = False) -> list[Silence]:
    """Silences that are active or upcoming (or all), soonest ending first."""
    where = "" if include_expired else " WHERE ends_at > ?"
    args = [] if include_expired else [iso(now)]
    rows = db.execute(f"SELECT {_COLUMNS} FROM silences{where} ORDER BY ends_at, id", args)
    return [_silence(r) for r in rows.fetchall()]


def end_silence(db: Database, silence_id: int, now: datetime) -> Silence:
    """End a silence now (the row stays, for the record); ValueError when there is none."""
    row = db.execute(f"SELECT {_COLUMNS} FROM silences WHERE id = ?", [silence_id]).fetchone()
    if row is None:
        raise ValueError(f"no silence with id {silence_id}; see `brand-monitor silence list`")
    silence = _silence(row)
    if silence.ends_at <= now:
        raise ValueError(f"silence {silence_id} already ended at {iso(silence.ends_at)}")
    db.execute(
        "UPDATE silences SET ends_at = ?, starts_at = min(starts_at, ?) WHERE id = ?",
        [iso(now), iso(now), silence_id],
    )
    return silence


def matching_silence(db: Database, incident: Incident, now: datetime) -> Silence | None:
    """The active silence covering this incident, if any."""
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM silences WHERE starts_at <= ? AND ends_at > ? "
        "AND (brand IS NULL OR brand = ?) AND (category IS NULL OR category = ?) "
        "ORDER BY ends_at DESC LIMIT 1",
        [iso(now), iso(now), incident.brand, incident.category],
    ).fetchall()
    return _silence(rows[0]) if rows else None
