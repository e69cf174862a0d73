"""What the YouTube video and comment readers share: quota units, Pacific days, errors, fields.

The Data API is metered in quota units per Google Cloud project (10,000 a day by default),
reset at midnight Pacific time.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from connectors.base import SourceError
from connectors.textutil import parse_date
from monitor.httpclient import HttpResponse

# Documented costs (developers.google.com/youtube/v3/determine_quota_cost).
SEARCH_COST = 100
LIST_COST = 1  # videos.list, channels.list, commentThreads.list, comments.list
# Comment reading stops while the units left would not pay for the next poll's search.
SEARCH_RESERVE = SEARCH_COST + LIST_COST
PACIFIC = "America/Los_Angeles"  # the zone YouTube's quota day is counted in


async def load_pacific() -> ZoneInfo:
    """Pacific time from the tz database, read in a worker thread: a file read the first time."""
    return await asyncio.to_thread(ZoneInfo, PACIFIC)


def pacific_day(now: datetime, pacific: tzinfo) -> str:
    """The Pacific-time date that YouTube's daily quota is counted on."""
    return now.astimezone(pacific).date().isoformat()


def next_quota_reset(now: datetime, pacific: tzinfo) -> datetime:
    """The next midnight Pacific time, in UTC."""
    tomorrow = now.astimezone(pacific).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(0), tzinfo=pacific).astimezone(UTC)


@dataclass(slots=True)
class QuotaLedger:
    """Units spent on one Pacific-time day against the configured daily quota."""

    day: str
    used: int
    limit: int
    pacific: tzinfo

    def affordable(self, units: int) -> bool:
        """True when `units` more still fit in today's quota."""
        return self.used + units <= self.limit

    def remaining(self) -> int:
        """Units left today."""
        return max(0, self.limit - self.used)

    def next_reset(self, now: datetime) -> datetime:
        """When the quota is next refilled (midnight Pacific), in UTC."""
        return next_quota_reset(now, self.pacific)


class MeteredCall(Protocol):
    """One API call booked on the ledger; errors raise unless their reason is tolerated."""

    async def __call__(
        self,
        ledger: QuotaLedger,
        method: str,
        params: Mapping[str, str | int],
        cost: int,
        now: datetime,
        tolerate: frozenset[str] = frozenset(),
    ) -> HttpResponse:
        """The response: a success, or an error whose reason is in `tolerate`."""
        ...


def error_reasons(resp: HttpResponse) -> tuple[set[str], str]:
    """The `reason` codes and message of a Google API error body (empty when not one)."""
    try:
        error = resp.json().get("error", {})
    except (SourceError, AttributeError):
        return set(), ""
    if not isinstance(error, dict):
        return set(), ""
    entries = [
        entry
        for key in ("errors", "details")
        if isinstance(error.get(key), list)
        for entry in error[key]
        if isinstance(entry, dict)
    ]
    reasons = {str(entry.get("reason")) for entry in entries}
    message = re.sub(r"<[^>]+>", "", str(error.get("message", "")))[:200]
    return reasons - {"None"}, message


def text_field(value: Any) -> str | None:
    """A non-blank string, else None."""
    return value if isinstance(value, str) and value.strip() else None


def count_field(value: Any) -> int | None:
    """YouTube sends counters as decimal strings; absent means hidden or disabled."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def time_field(value: Any) -> datetime | None:
    """An RFC 3339 time, else None."""
    return parse_date(value) if isinstance(value, str) else None


def rfc3339(when: datetime) -> str:
    """A time as the API writes it (UTC, whole seconds)."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def watch_url(video_id: str) -> str:
    """The canonical watch page of a video."""
    return f"https://www.youtube.com/watch?v={video_id}"
