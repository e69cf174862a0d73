"""Typed `[alerting]` and `[[routes]]` tables; `[[channels]]` come from `settings`."""

from __future__ import annotations

import re
from datetime import time
from functools import cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from monitor.configtypes import Duration, Strict
from monitor.records import HARM_CATEGORIES, INCIDENT_KINDS, SEVERITIES

Severity = Literal["info", "low", "medium", "high", "critical"]
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
DAY = 86400.0
MIN_DIGEST = 3600.0


def _period_words(seconds: float) -> str:
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def severity_rank(severity: str) -> int:
    """0 for info ... 4 for critical; unknown severities rank lowest."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else -1


@cache
def _zone(name: str) -> ZoneInfo:
    """A timezone, read from disk once per process: `zone()` is called on the event loop, and
    ZoneInfo's own cache keeps only the last few zones for sure."""
    return ZoneInfo(name)


class QuietHours(Strict):
    """A daily window, in a timezone, during which a route's alerts wait until it ends."""

    start: str  # "22:00"
    end: str  # "07:00"; an end before the start means the window spans midnight
    timezone: str = "UTC"

    @field_validator("start", "end")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        if not _CLOCK.match(value):
            raise ValueError(f"expected a time of day such as 22:00, got {value!r}")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            _zone(value)  # read here, where the config is loaded, not later on the loop
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown timezone {value!r}; use an IANA name such as Europe/Berlin"
            ) from None
        return value

    def start_time(self) -> time:
        """Start as a time of day."""
        hour, minute = self.start.split(":")
        return time(int(hour), int(minute))

    def end_time(self) -> time:
        """End as a time of day."""
        hour, minute = self.end.split(":")
        return time(int(hour), int(minute))

    def zone(self) -> ZoneInfo:
        """The window's timezone."""
        return _zone(self.timezone)


class RouteConfig(Strict):
    """A `[[routes]]` table: which incidents go to which channels, and how."""

    name: str | None = None  # for logs; default "route-<n>"
    brands: list[str] = []  # empty matches every brand
    categories: list[str] = []  # harm categories; empty matches all
    kinds: list[str] = []  # incident kinds; empty matches all
    min_severity: Severity = "info"
    max_severity: Severity = "critical"
    channels: list[str] = Field(min_length=1)
    # Like Alertmanager: the first matching route wins unless it says `continue = true`.
    continue_: bool = Field(default=False, alias="continue")
    send_resolved: bool = False
    quiet_hours: QuietHours | None = None
    critical_overrides_quiet: bool = False
    # Collect matching incidents and send one message per period instead of alerting on each.
    digest: Duration | None = None

    @field_validator("digest")
    @classmethod
    def _digest_period(cls, value: float | None) -> float | None:
        if value is None:
            return value
        # Periods that divide a day start at the same UTC clock times every day.
        if not MIN_DIGEST <= value <= DAY or DAY % value:
            raise ValueError(
                f"a digest period runs from 1h to 1d and divides a day evenly "
                f"(1h, 2h, 3h, 4h, 6h, 8h, 12h or 1d); got {_period_words(value)}"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> RouteConfig:
        if severity_rank(self.min_severity) > severity_rank(self.max_severity):
            raise ValueError(
                f"min_severity {self.min_severity!r} is above max_severity "
                f"{self.max_severity!r}; the route would match nothing"
            )
        if self.digest is not None:
            if not self.name:
                raise ValueError(
                    "a digest route needs a name: the name keeps track of which periods were "
                    'already sent across restarts (add name = "...")'
                )
            if self.send_resolved:
                raise ValueError(
                    "send_resolved does not apply to a digest route: resolved incidents are "
                    "listed in the period's digest; remove send_resolved"
                )
        return self

    @field_validator("categories")
    @classmethod
    def _known_categories(cls, value: list[str]) -> list[str]:
        bad = [c for c in value if c not in HARM_CATEGORIES]
        if bad:
            raise ValueError(f"unknown categories {bad}; known: {', '.join(HARM_CATEGORIES)}")
        return value

    @field_validator("kinds")
    @classmethod
    def _known_kinds(cls, value: list[str]) -> list[str]:
        bad = [k for k in value if k not in INCIDENT_KINDS]
        if bad:
            raise ValueError(f"unknown kinds {bad}; known: {', '.join(INCIDENT_KINDS)}")
        return value


class RepeatIntervals(Strict):
    """Reminder period per severity while an incident stays unacknowledged; unset means never."""

    critical: Duration | None = 3600.0
    high: Duration | None = 4 * 3600.0
    medium: Duration | None = 24 * 3600.0
    low: Duration | None = None
    info: Duration | None = None

    def for_severity(self, severity: str) -> float | None:
        """Seconds between reminders for this severity, or None."""
        value: float | None = getattr(self, severity, None)
        return value


class AlertingConfig(Strict):
    """The `[alerting]` table: timing of alerts, retries and escalation."""

    group_wait: Duration = Field(default=30.0, ge=0)  # wait after open so related news joins
    repeat_interval: RepeatIntervals = RepeatIntervals()
    escalation_after: Duration | None = None  # unacknowledged critical incidents escalate
    escalation_channels: list[str] = []
    # Channels for incidents no route matches; unset means every enabled channel, [] drops them.
    unmatched_channels: list[str] | None = None
    send_resolved: bool = False  # when no [[routes]] are configured
    # Without [[routes]] (and for unmatched incidents) lower severities are recorded, not sent.
    min_severity: Severity = "low"
    give_up_after: Duration = Field(default=24 * 3600.0, gt=0)
    retry_initial: Duration = Field(default=30.0, gt=0)
    retry_max: Duration = Field(default=900.0, gt=0)
    # Rows this daemon writes wake the dispatcher at once, and it sleeps exactly until the next
    # group wait or backoff ends; the poll only finds rows other processes wrote (`alerts retry`).
    poll_interval: Duration = Field(default=5.0, gt=0)
    # Sends in flight per channel. A crash re-sends what was in flight (at least once), so this
    # is also the most duplicates one crash can cause on a channel.
    max_in_flight_per_channel: int = Field(default=2, ge=1, le=50)

    @model_validator(mode="after")
    def _escalation_pair(self) -> AlertingConfig:
        if self.escalation_after is not None and not self.escalation_channels:
            raise ValueError("escalation_after needs escalation_channels (where to escalate)")
        return self


def route_problems(
    alerting: AlertingConfig, routes: list[RouteConfig], channel_names: list[str]
) -> list[str]:
    """Unknown channel references and clashing digest route names, as "key.path: message"."""
    known = set(channel_names)
    problems = []

    def check(where: str, names: list[str]) -> None:
        for name in names:
            if name not in known:
                problems.append(
                    f"{where}: no channel named {name!r} (configured: "
                    f"{', '.join(sorted(known)) or 'none'})"
                )

    digest_names: set[str] = set()
    for i, route in enumerate(routes):
        check(f"routes[{i}].channels", route.channels)
        if route.digest is not None and route.name is not None:
            if route.name in digest_names:
                problems.append(
                    f"routes[{i}].name: another digest route is also named {route.name!r}; "
                    "digest routes need distinct names"
                )
            digest_names.add(route.name)
    check("alerting.escalation_channels", alerting.escalation_channels)
    check("alerting.unmatched_channels", alerting.unmatched_channels or [])
    return problems
