"""Silences: mute alerts about a brand (optionally one harm category) for a while."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from datetime import datetime

from monitor.clock import iso
from monitor.records import HARM_CATEGORIES, Incident
from monitor.store import Silence, Tx

__all__ = ["Silence", "add_silence", "end_silence", "list_silences", "matching_silence"]


def add_silence(
    tx: Tx,
    *,
    brand: str | None,
    category: str | None,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
    created_by: str | None = None,
    known_brands: Sequence[str] | None = None,
) -> Silence:
    """Add a silence (inside a store transaction); ValueError for an impossible one.

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
    return tx.silences.add(
        brand=brand, category=category, starts_at=starts_at, ends_at=ends_at, reason=reason,
        created_by=created_by,
    )


def list_silences(tx: Tx, now: datetime, *, include_expired: bool = False) -> list[Silence]:
    """Silences that are active or upcoming (or all), soonest ending first."""
    return tx.silences.current(now, include_expired=include_expired)


def end_silence(tx: Tx, silence_id: int, now: datetime) -> Silence:
    """End a silence now (the row stays, for the record); ValueError when there is none."""
    silence = tx.silences.get(silence_id)
    if silence is None:
        raise ValueError(f"no silence with id {silence_id}; see `brand-monitor silence list`")
    if silence.ends_at <= now:
        raise ValueError(f"silence {silence_id} already ended at {iso(silence.ends_at)}")
    tx.silences.end(silence_id, now)
    return silence


def matching_silence(tx: Tx, incident: Incident, now: datetime) -> Silence | None:
    """The active silence covering this incident, if any."""
    return tx.silences.matching(incident.brand, incident.category, now)
