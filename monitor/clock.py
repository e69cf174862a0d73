"""Injected time: the same pipeline runs live, in replay and in tests."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Protocol

# Publication dates before this are not real for a web mention: a feed that says year 999 or
# 1970 (an epoch of 0) is wrong, and such a date would skew buckets and sort oddly as text.
EARLIEST_PUBLISHED = datetime(1990, 1, 1, tzinfo=UTC)
# Rows written before 0.3 stored years under 1000 without zero padding ("999-06-01...").
_SHORT_YEAR = re.compile(r"^(\d{1,3})-")


class Clock(Protocol):
    """Anything that tells the current UTC time."""

    def now(self) -> datetime:
        """Current time, timezone-aware UTC."""
        ...


class SystemClock:
    """Wall-clock time."""

    def now(self) -> datetime:
        """Current time, timezone-aware UTC."""
        return datetime.now(UTC)


class VirtualClock:
    """Time that moves only when told to (replay, demo, tests)."""

    def __init__(self, start: datetime) -> None:
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        """The virtual current time."""
        return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self._now += timedelta(seconds=seconds)

    def set(self, when: datetime) -> None:
        """Jump to `when` (never backwards)."""
        self._now = max(self._now, when.astimezone(UTC))


def iso(when: datetime | None) -> str | None:
    """UTC ISO-8601 text for storage (sorts correctly as text)."""
    if when is None:
        return None
    utc = as_utc(when)
    # Built by hand: strftime's %Y does not zero-pad years under 1000, which breaks both
    # parsing and text order.
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T"
        f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}.{utc.microsecond:06d}Z"
    )


def from_iso(text: str | None) -> datetime | None:
    """Parse what `iso` wrote."""
    if not text:
        return None
    text = _SHORT_YEAR.sub(lambda m: m.group(1).zfill(4) + "-", text.strip())
    return as_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))


def as_utc(when: datetime) -> datetime:
    """`when` in UTC; a naive time is taken to be UTC already."""
    if when.tzinfo is None:
        return when.replace(tzinfo=UTC)
    try:
        return when.astimezone(UTC)
    except OverflowError:  # an offset that pushes year 1 or 9999 out of range
        return when.replace(tzinfo=UTC)


def sane_published(when: datetime | None, now: datetime) -> datetime | None:
    """A publication time fit to store: future times become `now`, pre-web times unknown."""
    if when is None:
        return None
    utc = as_utc(when)
    if utc < EARLIEST_PUBLISHED:
        return None
    return min(utc, now)
