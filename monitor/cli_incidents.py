"""`brand-monitor incidents ...`: list, show, acknowledge, note and resolve incidents.

Mention text, summaries, authors and notes are untrusted: they reach the terminal only through
`cli_common.plain` (escape sequences, control and bidi characters stripped, rich `Text`, never
markup), `cli_common.print_json` (those characters escaped) or `_cell` (stripped, for CSV).
"""

from __future__ import annotations

import asyncio
import csv
import sys
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.table import Table
from rich.text import Text

from monitor import cli_common as base
from monitor.records import Incident

app = typer.Typer(help="List, inspect, acknowledge and resolve incidents.", no_args_is_help=True)

T = TypeVar("T")
ConfigOption = base.ConfigOption
DbOption = base.DbOption
SEVERITY_STYLE = {
    "info": "dim", "low": "cyan", "medium": "yellow", "high": "bold red",
    "critical": "bold white on red",
}
# Spreadsheets run cells starting with these as formulas: neutralise untrusted text in CSV.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _run_book(
    config: Path | None,
    db: Path | None,
    work: Callable[[Any], Awaitable[T]],
    *,
    routed: bool = False,
) -> T:
    """Open the store, build an IncidentBook and run `work(book)`; errors become exit 1."""
    from monitor.alerting.routing import AlertPlan, Router
    from monitor.clock import SystemClock
    from monitor.detection.settings import DetectionConfig
    from monitor.incidents import IncidentBook, IncidentError
    from monitor.store import Store, StoreError

    settings = DetectionConfig()
    plan: Any = AlertPlan()
    cfg = None
    if db is None or (routed and base.config_found(config)):
        # Changes that alert (resolve) route like the daemon does, so load the same config; only
        # alert rows are written here, nothing is sent, so no channel secret is needed.
        cfg = base._load(config, secrets=False)
        plan = cfg
        settings = getattr(cfg, "detection", settings)
    location = base._db_location(config, db, cfg)
    router = Router(plan)

    async def go() -> T:
        store = await Store(location).open()
        try:
            book = IncidentBook(
                store, router.route, SystemClock(), settings,
                group_wait=getattr(getattr(plan, "alerting", None), "group_wait", 30.0),
            )
            return await work(book)
        finally:
            await store.close()

    try:
        return asyncio.run(go())
    except (IncidentError, StoreError) as exc:
        raise base.fail(str(exc)) from None


def _incident_row(incident: Incident) -> dict[str, Any]:
    row = asdict(incident)
    for key in ("opened_at", "updated_at", "resolved_at"):
        row[key] = base.json_time(row[key])
    return row


def _cell(value: Any) -> str:
    """A CSV cell from untrusted text: no terminal escapes or bidi controls, never a formula."""
    # Cleaned first: "\u202e=HYPERLINK(...)" must not slip past the formula check.
    text = base.clean("" if value is None else str(value), keep_newlines=True)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _when(value: datetime | None) -> str:
    return base.table_time(value)


def _severity(severity: str) -> Text:
    return Text(base.clean(severity), style=SEVERITY_STYLE.get(severity, ""))


@app.command("list")
def list_incidents(
    status: Annotated[
        str | None, typer.Option("--status", help="open, acknowledged or resolved.")
    ] = None,
    brand: Annotated[str | None, typer.Option("--brand", "-b", help="Only this brand.")] = None,
    severity: Annotated[
        str | None,
        typer.Option("--severity", help="This severity or higher, e.g. high (default: low)."),
    ] = None,
    show_all: Annotated[
        bool, typer.Option("--all", help="Include info incidents (recorded, never paged).")
    ] = False,
    since: Annotated[
        str | None, typer.Option("--since", help="Opened or changed since: 24h, 7d, 2026-11-01.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=10000)] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV output.")] = False,
    config: ConfigOption = None,
    db: DbOption = None,
) -> None:
    """Incidents, newest first."""
    if as_json and as_csv:
        raise base.fail("choose one of --json and --csv")
    since_at = base.parse_since(since)
    brand = base.match_brand(brand, base.brand_names(config))  # case-insensitive
    # info incidents are notes (never paged): hidden unless asked for.
    lowest = severity or (None if show_all else "low")
    incidents: list[Incident] = _run_book(
        config, db,
        lambda book: book.list(
            status=status, brand=brand, min_severity=lowest, since=since_at, limit=limit
        ),
    )
    if as_json:
        base.print_json([_incident_row(i) for i in incidents])
        return
    if as_csv:
        columns = ["id", "opened_at", "brand", "kind", "category", "severity", "status", "risk",
                   "mention_count", "author_count", "platforms", "acknowledged_by", "summary"]
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        for incident in incidents:
            row = _incident_row(incident)
            row["platforms"] = " ".join(incident.platforms)
            row["risk"] = f"{incident.risk:.3f}"
            writer.writerow([_cell(row[c]) for c in columns])
        return
    if not incidents:
        hidden = "" if lowest is None else " (info incidents are hidden; --all shows them)"
        base.out.print(f"no incidents found{hidden}")
        return
    table = Table("id", "opened", "brand", "severity", "status", "kind", "mentions", "authors",
                  "platforms", "summary")
    for incident in incidents:
        table.add_row(
            str(incident.id), _when(incident.opened_at), base.plain(incident.brand),
            _severity(incident.severity), base.plain(incident.status),
            base.plain(f"{incident.kind}/{incident.category}"), str(incident.mention_count),
            str(incident.author_count), base.plain(", ".join(incident.platforms)),
            base.plain(incident.summary, 80),
        )
    base.out.print(table)


@app.command()
def show(
    incident_id: Annotated[int, typer.Argument(help="Incident id (see `incidents list`).")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    config: ConfigOption = None,
    db: DbOption = None,
) -> None:
    """One incident: summary, why (risk factors), timeline, top mentions and growth curve."""

    async def gather(book: Any) -> dict[str, Any]:
        incident = await book.get(incident_id)
        if incident is None:
            return {}
        return {
            "incident": incident,
            "events": await book.events(incident_id),
            "mentions": await book.top_mentions(incident_id, 5),
            "times": await book.mention_times(incident_id),
            "engagement": await book.engagement(incident_id),
        }

    found = _run_book(config, db, gather)
    if not found:
        raise base.fail(
            f"there is no incident {incident_id}; `brand-monitor incidents list` shows the ids"
        )
    incident: Incident = found["incident"]
    if as_json:
        data = {
            "incident": _incident_row(incident),
            "events": [
                {"at": base.json_time(e.at), "kind": e.kind, "actor": e.actor, "detail": e.detail}
                for e in found["events"]
            ],
            "top_mentions": [
                {**row, "seen_at": base.json_time(row.get("seen_at"))} for row in found["mentions"]
            ],
        }
        base.print_json(data)
        return
    _print_incident(incident, found)


def _print_incident(incident: Incident, found: dict[str, Any]) -> None:
    from monitor.detection.virality import (
        EngagementSnapshot,
        bucket_counts,
        sparkline,
        totals_over_time,
    )

    out = base.out
    head = Text(f"incident {incident.id}  ")
    head.append_text(_severity(incident.severity))
    head.append(base.clean(f"  {incident.status}  {incident.kind}/{incident.category}  brand "))
    head.append_text(base.plain(incident.brand))
    out.print(head)
    out.print(base.plain(incident.summary))
    out.print(
        f"opened {_when(incident.opened_at)}, updated {_when(incident.updated_at)}"
        + (f", resolved {_when(incident.resolved_at)}" if incident.resolved_at else ""),
        markup=False,
    )
    line = Text(
        f"{incident.mention_count} mentions, {incident.author_count} authors, platforms: "
    )
    line.append_text(base.plain(", ".join(incident.platforms) or "-"))
    if incident.acknowledged_by:
        line.append("; acknowledged by ")
        line.append_text(base.plain(incident.acknowledged_by))
    out.print(line)
    if incident.projection:
        out.print(base.plain(incident.projection))

    times: list[datetime] = found["times"]
    if len(times) >= 2:
        counts = bucket_counts(times, times[0], times[-1], buckets=min(24, len(times)))
        out.print(
            f"mentions  {sparkline([n for _, n in counts])}  "
            f"{_when(times[0])} .. {_when(times[-1])}",
            markup=False,
        )
    snapshots = [
        EngagementSnapshot(
            r["mention_id"], datetime.fromisoformat(r["observed_at"].replace("Z", "+00:00")),
            likes=r["likes"], shares=r["shares"], comments=r["comments"], views=r["views"],
        )
        for r in found["engagement"]
    ]
    for counter in ("shares", "likes"):
        series = totals_over_time(snapshots, counter)
        if len(series) >= 2:
            out.print(
                f"{counter:<9} {sparkline([v for _, v in series])}  {series[-1][1]} "
                f"at {_when(series[-1][0])}",
                markup=False,
            )
            break

    why = Table("factor", "value", "detail", title="why")
    for factor in incident.factors:
        why.add_row(base.plain(factor.name), f"{factor.value:.2f}", base.plain(factor.detail))
    out.print(why)

    timeline = Table("at", "event", "by", "detail", title="timeline")
    for event in found["events"]:
        detail = ", ".join(f"{k}={v}" for k, v in event.detail.items() if v not in (None, ""))
        timeline.add_row(
            _when(event.at), base.plain(event.kind), base.plain(event.actor),
            base.plain(detail, 100),
        )
    out.print(timeline)

    mentions = Table("platform", "author", "reach", "engagement", "text", "link",
                     title="top mentions")
    for row in found["mentions"]:
        mentions.add_row(
            base.plain(row["platform"]), base.plain(row["author"], 30),
            str(row["author_reach"] or "-"), str(row["engagement"]),
            base.plain(row["text"], 100), base.plain(row["url"]),
        )
    out.print(mentions)


@app.command()
def ack(
    incident_id: Annotated[int, typer.Argument(help="Incident id.")],
    by: Annotated[
        str | None, typer.Option("--by", help="Who is acknowledging (default: your OS user).")
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="Why, or what happens next.")] = None,
    config: ConfigOption = None,
    db: DbOption = None,
) -> None:
    """Acknowledge an open incident (stops reminders)."""
    incident: Incident = _run_book(
        config, db, lambda book: book.ack(incident_id, by or base.os_user(), note)
    )
    text = Text(f"incident {incident.id} acknowledged by ")
    text.append_text(base.plain(incident.acknowledged_by))
    base.out.print(text)


@app.command()
def resolve(
    incident_id: Annotated[int, typer.Argument(help="Incident id.")],
    by: Annotated[
        str | None, typer.Option("--by", help="Who is resolving (default: your OS user).")
    ] = None,
    config: ConfigOption = None,
    db: DbOption = None,
) -> None:
    """Resolve an incident now (a "resolved" alert is queued where routes ask for one)."""
    incident: Incident = _run_book(
        config, db, lambda book: book.resolve(incident_id, by or base.os_user()), routed=True
    )
    base.say(f"incident {incident.id} resolved at {_when(incident.resolved_at)}")


@app.command("note")
def add_note(
    incident_id: Annotated[int, typer.Argument(help="Incident id.")],
    text: Annotated[str, typer.Argument(help="The note.")],
    by: Annotated[
        str | None, typer.Option("--by", help="Who is writing (default: your OS user).")
    ] = None,
    config: ConfigOption = None,
    db: DbOption = None,
) -> None:
    """Add a note to an incident's timeline."""
    _run_book(config, db, lambda book: book.note(incident_id, text, by or base.os_user()))
    base.out.print(f"note added to incident {incident_id}")

