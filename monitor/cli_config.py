"""`brand-monitor init`, `check-config` and `routes test`: write, check and try a config file."""

from __future__ import annotations

import asyncio
import json
import os
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.text import Text

from monitor.alerting.config import QuietHours, RouteConfig
from monitor.cli_common import (
    CONFIG_ENV,
    ConfigOption,
    DbOption,
    JsonOption,
    _db_location,
    _load,
    clean,
    config_path,
    fail,
    json_time,
    match_brand,
    out,
    print_json,
    say,
    table_time,
    warn,
)
from monitor.config import Config, ConfigError, exposure_warnings, parse_config
from monitor.records import HARM_CATEGORIES, INCIDENT_KINDS, SEVERITIES
from monitor.store.postgres_target import PostgresTarget

routes_app = typer.Typer(help="Try the alert routes of a config.", no_args_is_help=True)


# -- init -------------------------------------------------------------------------------------


def _toml_string(value: str) -> str:
    # A JSON string (ensure_ascii off) is also a TOML basic string: same quotes and escapes.
    return json.dumps(value, ensure_ascii=False)


def starter_config(brands: list[str]) -> str:
    """A commented config that runs as-is: SQLite file, embedded models, console alerts."""
    brand_tables = "\n".join(
        f"[[brands]]\nname = {_toml_string(name)}\n"
        "# aliases = []      # other names, matched as words\n"
        "# exclusions = []   # a mention containing any of these is not about this brand\n"
        for name in brands
    )
    query = quote(" OR ".join(f'"{name}"' for name in brands), safe="")
    return f"""\
# brand-monitor config, written by `brand-monitor init`.
# config.example.toml in the source tree documents every option with its default.
# Check it after editing:  brand-monitor check-config
# Every command reads this file: --config, else ${CONFIG_ENV}, else ./config.toml.

{brand_tables}
# One source to start with: Google News search results for the brands above (no account needed).
# Without a network the daemon keeps running; the source shows as failing in
# `brand-monitor sources` and is retried with backoff.
[[sources]]
kind = "rss"
name = "google-news"
url = "https://news.google.com/rss/search?q={query}&hl=en-US&gl=US&ceid=US:en"
interval = "10m"

[storage]
path = "brand-monitor.db"   # SQLite file, relative to the working directory
retention_days = 90

# Scoring uses the embedded models shipped with the package (offline, CPU); see [models] in
# config.example.toml for Hugging Face models.

# Alerts go to the terminal. Add Slack, email or webhook channels from config.example.toml;
# secrets are references to environment variables, e.g. webhook_url = {{ env = "SLACK_WEBHOOK" }}.
[[channels]]
kind = "console"
name = "console"

[alerting]
group_wait = "30s"       # wait after an incident opens so related mentions arrive together
min_severity = "low"     # without [[routes]], lower severities are recorded, not sent

[server]
host = "127.0.0.1"       # /healthz and /metrics; keep it on loopback
port = 8787
"""


def init_command(
    brand: Annotated[
        list[str], typer.Option("--brand", "-b", help="A brand to watch (repeat for more).")
    ],
    config: ConfigOption = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented starter config.toml for your brands (runs as-is, alerts to the console)."""
    env = os.environ.get(CONFIG_ENV) or None
    path = config or Path(env or "config.toml")
    if path.exists() and not force:
        raise fail(f"{path} already exists; pass --force to overwrite it, or --config NEW_PATH")
    names = [name.strip() for name in brand]
    if not all(names):
        raise fail("--brand: a brand name cannot be empty")
    text = starter_config(names)
    try:
        # Checked before writing: a brand name that breaks the file is refused here, not later.
        parse_config(tomllib.loads(text), str(path))
    except ConfigError as exc:
        raise fail(f"cannot write {path}: " + "; ".join(exc.problems)) from None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise fail(f"cannot write {path}: {exc.strerror or exc}; choose another --config") from None
    say(f"wrote {path} for {', '.join(names)}")
    if path != Path("config.toml") and config is not None and env is None:
        say(f"commands read ./config.toml by default: pass --config {path} or export "
            f"{CONFIG_ENV}={path}")
    say("next: brand-monitor check-config, then brand-monitor run")


# -- check-config ----------------------------------------------------------------------------


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def _quiet(quiet: QuietHours | None) -> str:
    return f"{quiet.start}-{quiet.end} {quiet.timezone}" if quiet else "none"


def _route_line(index: int, route: RouteConfig) -> str:
    match = [
        f"brands {', '.join(route.brands)}" if route.brands else "any brand",
        f"categories {', '.join(route.categories)}" if route.categories else "any category",
        f"severity {route.min_severity}..{route.max_severity}",
    ]
    if route.kinds:
        match.append(f"kinds {', '.join(route.kinds)}")
    extras = []
    if route.quiet_hours:
        extras.append(f"quiet hours {_quiet(route.quiet_hours)}"
                      + (" (critical overrides)" if route.critical_overrides_quiet else ""))
    if route.digest is not None:
        extras.append(f"digest every {_duration(route.digest)}")
    if route.continue_:
        extras.append("continue")
    if route.send_resolved:
        extras.append("send resolved")
    name = route.name or f"route-{index + 1}"
    tail = f" [{'; '.join(extras)}]" if extras else ""
    return f"    {name}: {'; '.join(match)} -> {', '.join(route.channels)}{tail}"


def summary_lines(cfg: Config) -> list[str]:
    """What check-config prints for a valid config: brands, sources, alerting, storage, server."""
    from monitor.alerting.settings import default_channels

    lines = [f"  brands:  {', '.join(b.name for b in cfg.brands)}"]
    enabled = cfg.enabled_sources()
    lines.append(f"  sources: {len(enabled)} enabled, {len(cfg.sources) - len(enabled)} disabled")
    lines += [f"    ({'on ' if s.enabled else 'off'}) {s.name} ({s.kind})" for s in cfg.sources]
    channels = list(cfg.channels) or default_channels()
    lines.append("  channels: " + ", ".join(
        f"{c.name} ({c.kind}{'' if c.enabled else ', disabled'})" for c in channels
    ) + ("" if cfg.channels else "  (default: none configured)"))
    alerting = cfg.alerting
    if cfg.routes:
        lines.append(f"  routes:   {len(cfg.routes)} (first match wins unless continue)")
        lines += [_route_line(i, route) for i, route in enumerate(cfg.routes)]
        unmatched = ("every enabled channel" if alerting.unmatched_channels is None
                     else ", ".join(alerting.unmatched_channels) or "nobody")
        lines.append(f"    unmatched incidents ({alerting.min_severity} and up) -> {unmatched}")
    else:
        lines.append(
            f"  routes:   none: {alerting.min_severity} and up go to every enabled channel"
        )
    quiet = [(r.name or f"route-{i + 1}", r.quiet_hours) for i, r in enumerate(cfg.routes)
             if r.quiet_hours]
    lines.append("  quiet hours: " + (
        ", ".join(f"{name} {_quiet(q)}" for name, q in quiet) if quiet else "none"))
    if alerting.escalation_after is None:
        lines.append("  escalation: off")
    else:
        lines.append(
            f"  escalation: critical incidents unacknowledged for "
            f"{_duration(alerting.escalation_after)} -> {', '.join(alerting.escalation_channels)}"
        )
    lines.append(f"  group wait: {_duration(alerting.group_wait)}")
    lines.append(f"  storage: {cfg.storage.describe()} (keep {cfg.storage.retention_days} days)")
    if cfg.server.enabled:
        lines.append(f"  server:  http://{cfg.server.host}:{cfg.server.port}")
    return lines


def check_config(
    path: Annotated[
        Path | None,
        typer.Argument(help="Config file to check (default: as every command finds it).",
                       show_default=False),
    ] = None,
) -> None:
    """Validate a config file; print a summary and warnings, or every problem and exit 2."""
    cfg = _load(path)
    found = config_path(path)
    # Config values are the user's text: printed with markup off and controls removed.
    out.print(Text("ok", style="green").append(f" {clean(str(found))}", style=""))
    for line in summary_lines(cfg):
        say(line)
    for warning in exposure_warnings(cfg):
        warn(warning)


# -- routes test ------------------------------------------------------------------------------


def _parse_at(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise fail(f"--at {value!r}: use an ISO time such as 2026-12-06T23:30:00Z "
                   "(no zone means UTC)") from None
    return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)


def _choice(option: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise fail(f"{option} {value!r}: use one of {', '.join(choices)}")
    return value


def _active_silence(
    location: Path | PostgresTarget, incident: Any, at: datetime
) -> dict[str, Any] | None:
    """The silence in the database that would mute this incident at `at`, if any."""
    from monitor.alerting.silences import matching_silence
    from monitor.store import Store, StoreError

    if isinstance(location, Path) and not location.exists():
        return None

    async def find() -> Any:
        store = await Store(location).open()
        try:
            return await store.read(matching_silence, incident, at)
        finally:
            await store.close()

    try:
        silence = asyncio.run(find())
    except StoreError as exc:
        raise fail(str(exc)) from None
    if silence is None:
        return None
    return {"id": silence.id, "until": json_time(silence.ends_at), "reason": silence.reason,
            "created_by": silence.created_by}


@routes_app.command("test")
def routes_test(
    brand: Annotated[str, typer.Option("--brand", "-b", help="Brand of the incident.")],
    severity: Annotated[str, typer.Option("--severity", "-s", help="info ... critical.")],
    category: Annotated[
        str, typer.Option("--category", help="Harm category, e.g. health_safety.")
    ] = "none",
    kind: Annotated[str, typer.Option("--kind", help="Incident kind.")] = "viral_claim",
    at: Annotated[
        str | None, typer.Option("--at", help="When it opens, ISO time (default: now).")
    ] = None,
    as_json: JsonOption = False,
    config: ConfigOption = None,
    db: DbOption = None,
) -> None:
    """Which routes and channels an incident would alert, and what would hold it back."""
    from monitor.alerting.routing import Router
    from monitor.records import Incident

    cfg = _load(config, secrets=False)
    when = _parse_at(at)
    incident = Incident(
        id=0, brand=match_brand(brand, [b.name for b in cfg.brands]) or brand,
        kind=_choice("--kind", kind, INCIDENT_KINDS),
        severity=_choice("--severity", severity, SEVERITIES),
        status="open", summary="routes test",
        category=_choice("--category", category, HARM_CATEGORIES),
        opened_at=when, updated_at=when,
    )
    router = Router(cfg)
    matched = router.matching_routes(incident)
    channels = router.route(incident, "opened")
    # The database is read only for silences; without a SQLite file yet, none apply.
    silence = _active_silence(_db_location(config, db, cfg, must_exist=False), incident, when)
    delivery = []
    for name in channels:
        quiet = router.quiet_until(incident, name, when)
        delivery.append({"channel": name, "held_until": json_time(quiet),
                         "why": "quiet hours" if quiet else None})
    digests = [router.route_name(i) for i in matched if cfg.routes[i].digest is not None]
    escalation = (
        {"after_seconds": cfg.alerting.escalation_after,
         "channels": router.escalation_channels()}
        if incident.severity == "critical" and cfg.alerting.escalation_after is not None
        and not router.digest_only(incident) else None
    )
    result = {
        "incident": {"brand": incident.brand, "severity": incident.severity,
                     "category": incident.category, "kind": incident.kind,
                     "at": json_time(when)},
        "routes": [router.route_name(i) for i in matched],
        "unmatched": bool(cfg.routes) and not matched,
        "channels": delivery,
        "digest_routes": digests,
        "group_wait_seconds": router.delay("opened"),
        "silence": silence,
        "escalation": escalation,
    }
    if as_json:
        print_json(result)
        return
    _print_route_test(result, when)


def _print_route_test(result: dict[str, Any], when: datetime) -> None:
    inc = result["incident"]
    say(f"incident: {inc['brand']}, {inc['severity']}, {inc['category']}, {inc['kind']}, "
        f"opening at {table_time(when)}")
    if result["routes"]:
        say(f"routes:   {', '.join(result['routes'])}")
    elif result["unmatched"]:
        say("routes:   none match: [alerting] unmatched_channels applies")
    else:
        say("routes:   none configured: every enabled channel at [alerting] min_severity and up")
    if not result["channels"]:
        say("channels: none: this incident would be recorded, not sent")
    for item in result["channels"]:
        if item["held_until"]:
            say(f"  {item['channel']}: held by quiet hours until {table_time(item['held_until'])}")
        else:
            say(f"  {item['channel']}: sent after the {_duration(result['group_wait_seconds'])} "
                "group wait")
    for name in result["digest_routes"]:
        say(f"  digest route {name}: listed in its next digest")
    silence = result["silence"]
    if silence:
        say(f"silence:  silence {silence['id']} until {table_time(silence['until'])} would "
            f"mute it ({silence['reason']}); `brand-monitor silence remove {silence['id']}` "
            "ends it")
    else:
        say("silence:  none active")
    escalation = result["escalation"]
    if escalation:
        say(f"escalation: if unacknowledged for {_duration(escalation['after_seconds'])} -> "
            f"{', '.join(escalation['channels']) or 'no enabled channel'}")

