"""Routes: first match unless `continue`, resolved handling, quiet hours, config errors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from monitor.alerting.config import AlertingConfig, QuietHours, RouteConfig
from monitor.alerting.routing import AlertPlan, Router, quiet_end
from monitor.alerting.settings import ConsoleSettings
from monitor.config import ConfigError, parse_config
from tests.alerting.factory import make_incident
from tests.zone_files import zone_files_opened

NAMES = ("slack", "email", "pager", "digest")


def router(routes: list[dict[str, Any]], **alerting: Any) -> Router:
    return Router(AlertPlan(
        alerting=AlertingConfig.model_validate(alerting),
        routes=[RouteConfig.model_validate(r) for r in routes],
        channels=[ConsoleSettings(kind="console", name=n) for n in NAMES],
    ))


ROUTES = [
    {"name": "acme-health", "brands": ["Acme"], "categories": ["health_safety"],
     "min_severity": "high", "channels": ["pager"], "continue": True},
    {"name": "acme", "brands": ["Acme"], "min_severity": "medium", "channels": ["slack"]},
    {"name": "everything", "channels": ["email"], "send_resolved": True},
]


@pytest.mark.parametrize(
    ("incident", "reason", "expected"),
    [
        ({}, "opened", ["pager", "slack"]),  # continue = true lets the next route add slack
        ({"severity": "medium"}, "opened", ["slack"]),
        ({"category": "fraud_scam"}, "opened", ["slack"]),
        ({"severity": "low"}, "opened", ["email"]),  # below acme's min_severity
        ({"brand": "Globex"}, "reminder", ["email"]),
        ({}, "resolved", []),  # neither matching route asked for resolved alerts
        ({"brand": "Globex"}, "resolved", ["email"]),
    ],
)
def test_first_match_with_continue(
    incident: dict[str, Any], reason: str, expected: list[str]
) -> None:
    assert router(ROUTES).route(make_incident(**incident), reason) == expected


def test_unmatched_incidents_and_no_routes() -> None:
    only_acme = [{"brands": ["Acme"], "channels": ["slack"]}]
    globex = make_incident(brand="Globex")
    assert router(only_acme).route(globex, "opened") == list(NAMES)  # never silently dropped
    assert router(only_acme, unmatched_channels=["email"]).route(globex, "opened") == ["email"]
    assert router(only_acme, unmatched_channels=[]).route(globex, "opened") == []
    assert router([]).route(globex, "opened") == list(NAMES)
    assert router([]).route(globex, "resolved") == []
    assert router([], send_resolved=True).route(globex, "resolved") == list(NAMES)


def test_group_wait_applies_to_open_only() -> None:
    r = router([], group_wait="45s")
    assert r.delay("opened") == 45 and r.delay("escalated") == 0


@pytest.mark.parametrize(
    ("now", "end"),
    [
        (datetime(2024, 5, 17, 21, 30, tzinfo=UTC), datetime(2024, 5, 18, 5, 0, tzinfo=UTC)),
        (datetime(2024, 5, 18, 3, 0, tzinfo=UTC), datetime(2024, 5, 18, 5, 0, tzinfo=UTC)),
        (datetime(2024, 5, 18, 5, 0, tzinfo=UTC), None),  # 07:00 Berlin: over
        (datetime(2024, 5, 17, 12, 0, tzinfo=UTC), None),
        # Winter time (CET, UTC+1): the same wall-clock window is an hour later in UTC.
        (datetime(2024, 1, 10, 22, 30, tzinfo=UTC), datetime(2024, 1, 11, 6, 0, tzinfo=UTC)),
        # Night of the spring DST change (31 March 2024): 07:00 CEST is 05:00 UTC.
        (datetime(2024, 3, 30, 23, 0, tzinfo=UTC), datetime(2024, 3, 31, 5, 0, tzinfo=UTC)),
    ],
)
def test_quiet_end_across_midnight_and_dst(now: datetime, end: datetime | None) -> None:
    quiet = QuietHours(start="22:00", end="07:00", timezone="Europe/Berlin")
    assert quiet_end(quiet, now) == end


def test_quiet_until_needs_every_route_to_the_channel_quiet() -> None:
    quiet = {"start": "22:00", "end": "07:00", "timezone": "Europe/Berlin"}
    night = datetime(2024, 5, 17, 23, 0, tzinfo=UTC)
    r = router([
        {"brands": ["Acme"], "channels": ["slack"], "quiet_hours": quiet, "continue": True},
        {"channels": ["slack", "pager"]},
    ])
    assert r.quiet_until(make_incident(), "slack", night) is None  # the second route is loud
    r = router([{"channels": ["slack"], "quiet_hours": quiet}])
    assert r.quiet_until(make_incident(), "slack", night) == datetime(2024, 5, 18, 5, 0, tzinfo=UTC)
    assert r.quiet_until(make_incident(severity="critical"), "slack", night) is not None
    r = router([{"channels": ["slack"], "quiet_hours": quiet, "critical_overrides_quiet": True}])
    assert r.quiet_until(make_incident(severity="critical"), "slack", night) is None


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ({"routes": [{"channels": ["nope"]}]}, "routes[0].channels: no channel named 'nope'"),
        ({"routes": [{"channels": ["console"], "brands": ["Globex"]}]}, "no brand named 'Globex'"),
        ({"routes": [{"channels": ["console"], "categories": ["weather"]}]}, "unknown categories"),
        ({"routes": [{"channels": ["console"], "chanels": []}]}, "unknown key"),
        ({"routes": [{"channels": ["console"], "quiet_hours": {"start": "22:00", "end": "7",
                                                               "timezone": "Europe/Berlin"}}]},
         "time of day"),
        ({"routes": [{"channels": ["console"], "quiet_hours": {"start": "22:00", "end": "07:00",
                                                               "timezone": "Mars/Olympus"}}]},
         "unknown timezone"),
        ({"alerting": {"escalation_after": "15m"}}, "needs escalation_channels"),
        ({"alerting": {"group_wait": "soon"}}, "expected a duration"),
        ({"alerting": {"escalation_after": "15m", "escalation_channels": ["pager"]}},
         "alerting.escalation_channels: no channel named 'pager'"),
    ],
)
def test_config_errors_name_the_key(extra: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"brands": [{"name": "Acme"}], **extra})
    assert problem in str(info.value)


def test_config_example_parses() -> None:
    config = parse_config({
        "brands": [{"name": "Acme"}],
        "alerting": {"group_wait": "30s", "escalation_after": "15m",
                     "escalation_channels": ["console"],
                     "repeat_interval": {"critical": "1h", "low": "7d"}},
        "routes": [{"brands": ["Acme"], "min_severity": "high", "channels": ["console"],
                    "quiet_hours": {"start": "22:00", "end": "07:00",
                                    "timezone": "Europe/Berlin"}}],
    })
    r = Router(config)
    assert r.route(make_incident(), "opened") == ["console"]
    assert config.alerting.repeat_interval.for_severity("low") == 7 * 86400


def test_info_incidents_are_recorded_not_sent_unless_a_route_asks() -> None:
    info = make_incident(severity="info")
    assert router([]).route(info, "opened") == []
    assert router([]).route(make_incident(severity="low"), "opened") == list(NAMES)
    assert router([], min_severity="info").route(info, "opened") == list(NAMES)
    only_globex = [{"brands": ["Globex"], "channels": ["slack"]}]
    assert router(only_globex).route(info, "opened") == []  # unmatched and below the floor
    everything = [{"channels": ["email"]}]  # a route's own min_severity (info) decides
    assert router(everything).route(info, "opened") == ["email"]


# Ten quiet-hours zones: more than ZoneInfo's own cache keeps for sure.
ZONES = ["Europe/Berlin", "Europe/Paris", "America/New_York", "America/Chicago", "Asia/Tokyo",
         "Asia/Kolkata", "Australia/Sydney", "Africa/Lagos", "America/Sao_Paulo", "Europe/Madrid"]
LOAD_CONFIG = f"""
from zoneinfo import ZoneInfo

from monitor.config import parse_config

config = parse_config({{"brands": [{{"name": "Acme"}}], "routes": [
    {{"channels": ["console"], "quiet_hours": {{"start": "22:00", "end": "07:00", "timezone": z}}}}
    for z in {ZONES!r}
]}})
ZoneInfo.clear_cache()
"""


def test_quiet_hours_zones_are_read_when_the_config_loads_not_when_routing() -> None:
    # The router asks each route for its zone on the event loop: no zone file may open then.
    ask = "for route in config.routes:\n    route.quiet_hours.zone()\n"
    assert zone_files_opened(LOAD_CONFIG, ask) == []
