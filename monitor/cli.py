"""The `brand-monitor` command line (typer + rich). The only place that prints."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

app = typer.Typer(
    help="Watch public feeds for damaging claims about your brands and alert the right people.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
mentions_app = typer.Typer(help="Query stored mentions.", no_args_is_help=True)
app.add_typer(mentions_app, name="mentions")
detect_app = typer.Typer(help="Run detectors offline over your own data.", no_args_is_help=True)
app.add_typer(detect_app, name="detect")

from monitor.cli_common import (  # noqa: E402 - re-exported for sub-commands and tests
    DEFAULT_CONFIG,
    ConfigOption,
    DbOption,
    _db_path,
    _load,
    clean,
    fail,
    out,
    parse_since,
    plain,
    print_json,
    say,
    warn,
)


@app.command()
def run(
    config: ConfigOption = Path(DEFAULT_CONFIG),
    log_format: Annotated[
        str | None, typer.Option("--log-format", help="text or json (overrides config).")
    ] = None,
    log_level: Annotated[str | None, typer.Option("--log-level", help="DEBUG, INFO, ...")] = None,
) -> None:
    """Run the daemon until SIGTERM or Ctrl-C."""
    from monitor.logs import setup_logging
    from monitor.service import run_service
    from monitor.store import StoreError

    cfg = _load(config)
    setup_logging(
        (log_level or cfg.logging.level).upper(), log_format or cfg.logging.format
    )
    try:
        asyncio.run(run_service(cfg))
    except (StoreError, RuntimeError) as exc:
        raise fail(str(exc)) from None


@app.command("check-config")
def check_config(path: Annotated[Path, typer.Argument(help="Config file to check.")]) -> None:
    """Validate a config file; print a summary and warnings, or every problem and exit non-zero."""
    from monitor.config import exposure_warnings

    cfg = _load(path)
    # Config values are the user's text: printed with markup off and controls removed.
    out.print(Text("ok", style="green").append(f" {clean(str(path))}", style=""))
    say(f"  brands:  {', '.join(b.name for b in cfg.brands)}")
    enabled = cfg.enabled_sources()
    say(f"  sources: {len(enabled)} enabled, {len(cfg.sources) - len(enabled)} disabled")
    for source in cfg.sources:
        state = "on " if source.enabled else "off"
        say(f"    [{state}] {source.name} ({source.kind})")
    say(f"  storage: {cfg.storage.path} (keep {cfg.storage.retention_days} days)")
    if cfg.server.enabled:
        say(f"  server:  http://{cfg.server.host}:{cfg.server.port}")
    for warning in exposure_warnings(cfg):
        warn(warning)


@app.command()
def sources(
    config: ConfigOption = Path(DEFAULT_CONFIG),
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Show each source's health, last success, last error and rate budget."""
    from monitor.runner import health_of
    from monitor.store import Store

    cfg = _load(config)

    async def load() -> dict[str, Any]:
        store = await Store(cfg.storage.path).open()
        try:
            return {s.name: s for s in await store.source_states()}
        finally:
            await store.close()

    states = asyncio.run(load())
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    for source in cfg.sources:
        state = states.get(source.name)
        budget = state.budget if state and state.budget else None
        rows.append({
            "name": source.name,
            "kind": source.kind,
            "enabled": source.enabled,
            "health": health_of(state, now) if source.enabled else "disabled",
            "last_success": state.last_success.isoformat() if state and state.last_success
            else None,
            "last_error": state.last_error if state else None,
            "consecutive_failures": state.consecutive_failures if state else 0,
            "retry_at": state.disabled_until.isoformat()
            if state and state.disabled_until and state.disabled_until > now else None,
            "mentions": state.mentions_total if state else 0,
            "budget": budget,
        })
    if as_json:
        print_json(rows)
        return
    table = Table("source", "kind", "health", "last success", "mentions", "budget", "last error")
    colours = {"ok": "green", "failing": "red", "parked": "red", "rate_limited": "yellow"}
    for row in rows:
        budget = row["budget"]
        budget_text = (
            f"{budget['remaining']}/{budget['limit'] or '?'} {budget['unit']}"
            if budget and budget.get("remaining") is not None else ""
        )
        colour = colours.get(row["health"], "dim")
        table.add_row(
            plain(row["name"]), plain(row["kind"]), Text(row["health"], style=colour),
            _ago(row["last_success"], now), str(row["mentions"]), plain(budget_text),
            plain(row["last_error"], 80),
        )
    out.print(table)


def _ago(when: str | None, now: datetime) -> str:
    if not when:
        return "never"
    seconds = (now - datetime.fromisoformat(when)).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit} ago"
    return f"{int(seconds)}s ago"


@mentions_app.command("search")
def mentions_search(
    query: Annotated[str, typer.Argument(help='FTS5 query, e.g. recall OR "made me sick".')],
    brand: Annotated[str | None, typer.Option("--brand", "-b", help="Only this brand.")] = None,
    since: Annotated[str | None, typer.Option("--since", help="e.g. 24h, 7d, 2026-11-01.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=10000)] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    config: ConfigOption = Path(DEFAULT_CONFIG),
    db: DbOption = None,
) -> None:
    """Full-text search over stored mentions, newest first."""
    from monitor.store import Store, StoreError

    path = _db_path(config, db)
    if not path.exists():
        raise fail(f"no database at {path}: run the daemon first, or pass --db")
    since_at = parse_since(since)

    async def search() -> list[dict[str, Any]]:
        store = await Store(path).open()
        try:
            return await store.search_mentions(query, brand=brand, since=since_at, limit=limit)
        finally:
            await store.close()

    try:
        rows = asyncio.run(search())
    except StoreError as exc:
        raise fail(str(exc)) from None
    if as_json:
        print_json(rows)
        return
    if not rows:
        out.print("no mentions found")
        return
    table = Table("seen", "brands", "platform", "sentiment", "text", "url")
    for row in rows:
        table.add_row(
            row["seen_at"][:16].replace("T", " "),
            plain(", ".join(json.loads(row["brands"]))),
            plain(row["platform"]),
            plain(row.get("sentiment") or "-"),
            plain(row["text"], 120),
            plain(row["url"]),
        )
    out.print(table)


@detect_app.command("volume")
def detect_volume(
    input_csv: Annotated[Path, typer.Option("--input", help="CSV with timestamp,value rows.")],
    output_csv: Annotated[Path, typer.Option("--output", help="Where to write the scores.")],
) -> None:
    """Score a mention-count series in order: timestamp,value,anomaly_score,alert (defaults)."""
    from monitor.detection.volume import detect_csv

    try:
        rows = detect_csv(input_csv, output_csv)
    except (OSError, ValueError) as exc:
        raise fail(str(exc)) from None
    say(f"{rows} rows scored -> {output_csv}")


def _mount_subcommands() -> None:
    """Sub-apps live in their own modules; imported here (cheap: no models, no torch)."""
    from models.cli import app as models_app
    from monitor.cli_alerts import alerts_app, silence_app, test_alert
    from monitor.cli_demo import demo_command
    from monitor.cli_incidents import app as incidents_app
    from monitor.cli_replay import backtest_command, replay_command

    app.add_typer(incidents_app, name="incidents")
    app.add_typer(models_app, name="models")
    app.add_typer(alerts_app, name="alerts")
    app.add_typer(silence_app, name="silence")
    app.command("test-alert")(test_alert)
    app.command("replay")(replay_command)
    app.command("backtest")(backtest_command)
    app.command("demo")(demo_command)


_mount_subcommands()


def main() -> None:
    """Console-script entry point."""
    app()
