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
    ConfigOption,
    CsvOption,
    DbOption,
    JsonOption,
    _db_location,
    _load,
    brand_names,
    config_found,
    config_path,
    fail,
    json_time,
    match_brand,
    one_format,
    out,
    parse_since,
    plain,
    print_csv,
    print_json,
    say,
    table_time,
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("brand-monitor")
        except PackageNotFoundError:  # run from a source tree that was never installed
            number = "unknown (not installed; run `pip install -e .`)"
        say(f"brand-monitor {number}")
        raise typer.Exit()


@app.callback()
def _main(
    show_version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Watch public feeds for damaging claims about your brands and alert the right people."""


@app.command()
def run(
    config: ConfigOption = None,
    log_format: Annotated[
        str | None, typer.Option("--log-format", help="text or json (overrides config).")
    ] = None,
    log_level: Annotated[str | None, typer.Option("--log-level", help="DEBUG, INFO, ...")] = None,
) -> None:
    """Run the daemon until SIGTERM or Ctrl-C."""
    from monitor.heap import tune_allocator
    from monitor.logs import setup_logging
    from monitor.service import run_service
    from monitor.store import StoreError
    from monitor.worker_thread import exit_now_if_busy

    tune_allocator()  # before any thread starts: arenas are per thread
    cfg = _load(config)
    setup_logging(
        (log_level or cfg.logging.level).upper(), log_format or cfg.logging.format
    )
    try:
        asyncio.run(run_service(cfg, config_path=config_path(config)))
    except (StoreError, RuntimeError) as exc:
        raise fail(str(exc)) from None
    exit_now_if_busy()  # a model call still running must not abort the exit


@app.command()
def sources(
    config: ConfigOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """Show each source's health, last success, last error and rate budget (reads the database)."""
    from monitor.runner import health_of
    from monitor.store import SourceState, Store, StoreError

    one_format(as_json, as_csv)
    # The config lists the sources (enabled or not); with --db alone, the stored ones are shown.
    cfg = _load(config, secrets=False) if db is None or config_found(config) else None
    location = _db_location(config, db, cfg)

    async def load() -> dict[str, SourceState]:
        store = await Store(location).open()
        try:
            return {s.name: s for s in await store.source_states()}
        finally:
            await store.close()

    try:
        states = asyncio.run(load())
    except StoreError as exc:
        raise fail(str(exc)) from None
    now = datetime.now(UTC)
    listed = (
        [(s.name, s.kind, s.enabled) for s in cfg.sources] if cfg
        else [(s.name, s.kind, True) for s in states.values()]
    )
    rows: list[dict[str, Any]] = []
    for name, kind, enabled in listed:
        state = states.get(name)
        budget = state.budget if state and state.budget else None
        rows.append({
            "name": name,
            "kind": kind,
            "enabled": enabled,
            "health": health_of(state, now) if enabled else "disabled",
            "last_success": json_time(state.last_success if state else None),
            "last_error": state.last_error if state else None,
            "consecutive_failures": state.consecutive_failures if state else 0,
            "retry_at": json_time(state.disabled_until)
            if state and state.disabled_until and state.disabled_until > now else None,
            "mentions": state.mentions_total if state else 0,
            "budget": budget,
        })
    if as_json:
        print_json(rows)
        return
    if as_csv:
        print_csv(["name", "kind", "enabled", "health", "last_success", "last_error",
                   "consecutive_failures", "retry_at", "mentions"], rows)
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
    seconds = (now - datetime.fromisoformat(when.replace("Z", "+00:00"))).total_seconds()
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
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
    config: ConfigOption = None,
    db: DbOption = None,
) -> None:
    """Full-text search over stored mentions, newest first."""
    from monitor.store import Store, StoreError

    one_format(as_json, as_csv)
    # Stored mentions carry the configured spelling of each brand: match --brand to it.
    brand = match_brand(brand, brand_names(config))
    location = _db_location(config, db)
    since_at = parse_since(since)

    async def search() -> list[dict[str, Any]]:
        store = await Store(location).open()
        try:
            return await store.search_mentions(query, brand=brand, since=since_at, limit=limit)
        finally:
            await store.close()

    try:
        rows = asyncio.run(search())
    except StoreError as exc:
        raise fail(str(exc)) from None
    for row in rows:
        row["brands"] = json.loads(row["brands"]) if row.get("brands") else []
        for key in ("published_at", "fetched_at", "seen_at"):
            if key in row:
                row[key] = json_time(row[key])
    if as_json:
        print_json(rows)
        return
    if as_csv:
        print_csv(
            ["id", "seen_at", "published_at", "brands", "platform", "author", "sentiment",
             "harm_category", "url", "text"],
            [{**row, "brands": " ".join(row["brands"])} for row in rows],
        )
        return
    if not rows:
        out.print("no mentions found")
        return
    table = Table("seen", "brands", "platform", "sentiment", "text", "url")
    for row in rows:
        table.add_row(
            table_time(row["seen_at"]),
            plain(", ".join(row["brands"])),
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
    from monitor.cli_config import check_config, init_command, routes_app
    from monitor.cli_demo import demo_command
    from monitor.cli_incidents import app as incidents_app
    from monitor.cli_replay import backtest_command, replay_command
    from monitor.cli_store import app as store_app
    from monitor.web.cli import app as web_app

    app.add_typer(incidents_app, name="incidents")
    app.add_typer(models_app, name="models")
    app.add_typer(alerts_app, name="alerts")
    app.add_typer(silence_app, name="silence")
    app.add_typer(routes_app, name="routes")
    app.add_typer(web_app, name="web")
    app.add_typer(store_app, name="store")
    app.command("init")(init_command)
    app.command("check-config")(check_config)
    app.command("test-alert")(test_alert)
    app.command("replay")(replay_command)
    app.command("backtest")(backtest_command)
    app.command("demo")(demo_command)


_mount_subcommands()


def main() -> None:
    """Console-script entry point."""
    app()
