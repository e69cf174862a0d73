"""Which channels hear about an incident change, and when (routes, quiet hours, group wait).

Routes are tried in order; the first one that matches wins unless it says `continue = true`
(Alertmanager's semantics). An incident no route matches goes to `[alerting]
unmatched_channels` (default: every enabled channel), so a gap in the routes never drops it.
A digest route (`digest = "1d"`) sends nothing per incident: its incidents are collected and
sent once per period by `monitor.alerting.digest`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from monitor.alerting.config import AlertingConfig, QuietHours, RouteConfig, severity_rank
from monitor.alerting.settings import ChannelSettings, default_channels
from monitor.records import Incident


class AlertingSetup(Protocol):
    """What the router needs from the whole config (`monitor.config.Config` fits)."""

    @property
    def alerting(self) -> AlertingConfig: ...

    @property
    def routes(self) -> Sequence[RouteConfig]: ...

    @property
    def channels(self) -> Sequence[ChannelSettings]: ...


@dataclass(frozen=True, slots=True)
class AlertPlan:
    """Plain settings holder, for building a Router without a full Config."""

    alerting: AlertingConfig = field(default_factory=AlertingConfig)
    routes: Sequence[RouteConfig] = ()
    channels: Sequence[ChannelSettings] = ()


def quiet_end(quiet: QuietHours, now: datetime) -> datetime | None:
    """When the quiet window containing `now` ends (UTC), or None when `now` is not inside one."""
    zone = quiet.zone()
    local = now.astimezone(zone)
    start, end = quiet.start_time(), quiet.end_time()
    if start == end:
        return None
    at = local.time().replace(tzinfo=None)
    day = local.date()
    if start < end:
        inside = start <= at < end
        end_day = day
    else:  # spans midnight: 22:00-07:00
        inside = at >= start or at < end
        end_day = day + timedelta(days=1) if at >= start else day
    if not inside:
        return None
    # Wall-clock end in the zone; zoneinfo resolves DST gaps/folds to a real instant.
    return datetime.combine(end_day, end, tzinfo=zone).astimezone(UTC)


class Router:
    """Decides the channels for each incident change, from `[[routes]]` and `[alerting]`."""

    def __init__(self, config: AlertingSetup) -> None:
        self.alerting = config.alerting
        self.routes = list(config.routes)
        channels = list(config.channels) or default_channels()
        self.channel_names = [c.name for c in channels if c.enabled]

    def route_name(self, index: int) -> str:
        """A route's name, or "route-<n>" (1-based) when it has none."""
        return self.routes[index].name or f"route-{index + 1}"

    def matching_routes(self, incident: Incident) -> list[int]:
        """Indexes of the routes that apply to the incident, honouring first-match/continue."""
        matched = []
        for i, route in enumerate(self.routes):
            if self._matches(route, incident):
                matched.append(i)
                if not route.continue_:
                    break
        return matched

    @staticmethod
    def _matches(route: RouteConfig, incident: Incident) -> bool:
        return (
            (not route.brands or incident.brand in route.brands)
            and (not route.categories or incident.category in route.categories)
            and (not route.kinds or incident.kind in route.kinds)
            and severity_rank(route.min_severity)
            <= severity_rank(incident.severity)
            <= severity_rank(route.max_severity)
        )

    def route(self, incident: Incident, reason: str) -> list[str]:
        """Channel names to alert now for this change (reason: opened/escalated/reminder/resolved).

        Resolved alerts go only where a route asks for them (`send_resolved`). Digest routes
        take no part: their incidents wait for the period's digest. Without a matching route,
        incidents below `[alerting] min_severity` alert nobody (they are still recorded).
        """
        enabled = set(self.channel_names)
        below = severity_rank(incident.severity) < severity_rank(self.alerting.min_severity)
        if not self.routes:
            if below or (reason == "resolved" and not self.alerting.send_resolved):
                return []
            return list(self.channel_names)
        matched = self.matching_routes(incident)
        if not matched:
            if below or (reason == "resolved" and not self.alerting.send_resolved):
                return []
            unmatched = self.alerting.unmatched_channels
            names = self.channel_names if unmatched is None else unmatched
            return [n for n in names if n in enabled]
        out: list[str] = []
        for i in matched:
            route = self.routes[i]
            if route.digest is not None:
                continue
            if reason == "resolved" and not route.send_resolved:
                continue
            out.extend(n for n in route.channels if n in enabled and n not in out)
        return out

    def delay(self, reason: str) -> float:
        """Seconds to hold a new alert: the group wait on open, nothing otherwise."""
        return self.alerting.group_wait if reason == "opened" else 0.0

    def quiet_until(self, incident: Incident, channel: str, now: datetime) -> datetime | None:
        """If every route sending this incident to `channel` is in quiet hours, when they end."""
        ends: list[datetime] = []
        for i in self.matching_routes(incident):
            route = self.routes[i]
            if channel not in route.channels or route.digest is not None:
                continue
            if route.quiet_hours is None:
                return None
            if incident.severity == "critical" and route.critical_overrides_quiet:
                return None
            end = quiet_end(route.quiet_hours, now)
            if end is None:
                return None
            ends.append(end)
        return min(ends) if ends else None

    def digest_only(self, incident: Incident) -> bool:
        """True when only digest routes match the incident (then no reminders, no escalation)."""
        matched = self.matching_routes(incident)
        return bool(matched) and all(self.routes[i].digest is not None for i in matched)

    def digest_route(self, name: str) -> RouteConfig | None:
        """The digest route called `name`, or None when the config no longer has it."""
        for i, route in enumerate(self.routes):
            if route.digest is not None and self.route_name(i) == name:
                return route
        return None

    def digest_quiet_until(self, name: str, now: datetime) -> datetime | None:
        """When the digest route's quiet hours end, if `now` is inside them."""
        route = self.digest_route(name)
        if route is None or route.quiet_hours is None:
            return None
        return quiet_end(route.quiet_hours, now)

    def escalation_channels(self) -> list[str]:
        """Channels for unacknowledged critical incidents, when escalation is configured."""
        if self.alerting.escalation_after is None:
            return []
        enabled = set(self.channel_names)
        return [n for n in self.alerting.escalation_channels if n in enabled]
