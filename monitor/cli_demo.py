"""`brand-monitor demo`: a scripted day for two fictional brands, played through the daemon."""

from __future__ import annotations

import asyncio
import tempfile
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from monitor.cli_common import clean, fail, inline, out, plain, say
from monitor.demo.script import DAY_HOURS, DAY_START

if TYPE_CHECKING:  # the run module pulls in aiohttp and aiosmtpd: only when the demo runs
    from monitor.alerting.outbox import AlertRow
    from monitor.demo.run import DemoReport, HourMark

SEVERITY_STYLE = {
    "info": "dim", "low": "cyan", "medium": "yellow", "high": "bold red",
    "critical": "bold white on red",
}
SUMMARY_CHARS = 100
STATUS_STYLE = {"sent": "green", "merged": "green", "failed": "red", "pending": "yellow",
                "silenced": "dim"}


def _when(when: datetime | None) -> str:
    return when.strftime("%a %H:%M") if when else ""


def _hour_line(mark: HourMark) -> None:
    stored = clean(", ".join(f"{brand} {n}" for brand, n in mark.stored.items()) or "none yet")
    out.print(
        Text.assemble(
            (f"{mark.now:%a %H:%M} UTC", "bold"),
            f"  {mark.published} posts published · stored: {stored} · open incidents: "
            f"{mark.open_incidents} · alerts sent: {mark.alerts_sent}",
        ),
        soft_wrap=True,
    )


def _print_incidents(report: DemoReport) -> None:
    say("Incidents")
    for incident in report.incidents:
        status = incident.status
        if incident.resolved_at:
            status += f" {_when(incident.resolved_at)}"
        line = Text(f"  #{incident.id:<3} {inline(incident.brand):<8} ")
        line.append(f"{incident.severity:<10}", SEVERITY_STYLE.get(incident.severity, ""))
        line.append(f"{incident.kind:<12} {incident.category:<14} opened "
                    f"{_when(incident.opened_at)}  {status}")
        out.print(line, soft_wrap=True)
        summary = plain(incident.summary, SUMMARY_CHARS)
        if len(incident.summary) > SUMMARY_CHARS:
            summary.append("…")
        out.print(Text.assemble("       ", summary), soft_wrap=True)


def _print_alerts(report: DemoReport) -> None:
    say("Where the alerts went (virtual time sent, reason, severity, channel, to, status)")
    by_incident: dict[int | None, list[AlertRow]] = {}
    for row in report.alerts:
        by_incident.setdefault(row.incident_id, []).append(row)
    brands = {i.id: i.brand for i in report.incidents}
    for incident_id, rows in by_incident.items():
        say(f"  incident #{incident_id} ({brands.get(incident_id or 0, '?')})"
             if incident_id is not None else "  no incident")
        for row in rows:
            line = Text(f"    {_when(row.sent_at) or 'not sent':<10} {row.reason:<10} ")
            line.append(f"{row.severity:<10}", SEVERITY_STYLE.get(row.severity, ""))
            line.append(f"{inline(row.channel):<8} ")
            line.append(f"{inline(report.destinations.get(row.channel, '')):<24} ")
            line.append(row.status, STATUS_STYLE.get(row.status, ""))
            if row.status not in ("sent", "merged") and row.last_error:
                line.append(f": {inline(row.last_error)[:100]}")
            out.print(line, soft_wrap=True)


def _print_report(report: DemoReport) -> None:
    stored = sum(report.stored.values())
    per_brand = ", ".join(f"{brand} {n}" for brand, n in report.stored.items())
    out.print()
    say(
        f"Day over: {report.start:%a %H:%M} to {report.end:%a %H:%M} UTC played in "
        f"{report.seconds:.1f} s; {report.published} posts published, {stored} mentions stored "
        f"({per_brand})."
    )
    requests = ", ".join(f"{platform} {n}" for platform, n in sorted(report.requests.items()))
    say(f"The sources made {sum(report.requests.values())} requests to the feed server "
         f"({requests}).")
    out.print()
    if report.incidents:
        _print_incidents(report)
    else:
        say("No incidents were opened.")
    out.print()
    if report.alerts:
        _print_alerts(report)
    else:
        say("No alerts were sent.")
    out.print()
    say(f"Email: {len(report.emails)} message(s) in the capture mailbox {report.mbox}")
    say("  (open it with any mail reader, e.g. mutt -f FILE)")
    db = report.database
    first = report.incidents[0].id if report.incidents else 1
    out.print()
    say(f"Next steps: everything is kept in {report.out_dir}")
    for command in (
        f"brand-monitor incidents list --db {db}",
        f"brand-monitor incidents show {first} --db {db}",
        f"brand-monitor alerts list --db {db}",
        f'brand-monitor mentions search "sick" --db {db}',
    ):
        say(f"  {command}")
    say(f"  the config the daemon ran with: {report.config_file}")


def demo_command(
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Directory for the database, mailbox and config (default: a "
                     "new directory under the system temp directory, kept afterwards)."),
    ] = None,
    hours: Annotated[
        float,
        typer.Option("--hours", min=1, max=DAY_HOURS,
                     help="How much of the scripted day to play, from 06:00 UTC."),
    ] = DAY_HOURS,
    serve: Annotated[
        bool,
        typer.Option("--serve", help="Afterwards, open the web dashboard over the demo's "
                     "database on 127.0.0.1 until Ctrl-C (a one-off login is printed)."),
    ] = False,
) -> None:
    """Play a scripted day for two fictional brands through the real daemon, offline."""
    from monitor.demo.run import DemoError, run_demo
    from monitor.logs import setup_logging

    setup_logging("WARNING", "text")
    target = out_dir or Path(tempfile.mkdtemp(prefix="brand-monitor-demo-"))
    say("brand-monitor demo: a scripted day for two fictional brands, Kestrel (snack bars) "
         "and Voltra (phones)")
    say("  feeds:  news (RSS), Reddit, Mastodon, Bluesky, X and YouTube, served on 127.0.0.1")
    say("  alerts: this console, and email to a capture mailbox on 127.0.0.1")
    say(f"  output: {target}")
    say(f"  virtual time: {hours:g} h from {DAY_START:%a %Y-%m-%d %H:%M} UTC, as fast as this "
         "machine goes (loading the models takes a few seconds)")
    out.print()
    try:
        report = asyncio.run(run_demo(target, hours=hours, progress=_hour_line))
    except DemoError as exc:
        raise fail(str(exc)) from None
    except KeyboardInterrupt:
        raise fail(f"interrupted; what the daemon stored so far is in {target}", 130) from None
    _print_report(report)
    if serve:
        _serve(report.database, sorted(report.stored))


def _serve(database: Path, brands: list[str]) -> None:
    """The dashboard over the demo's database until Ctrl-C."""
    from monitor.web.serve import Served, serve_database

    def ready(served: Served) -> None:
        out.print()
        say(f"Dashboard: {served.url}")
        say(f"  user {served.user}, password {served.password} (valid until you stop it)")
        say("  Ctrl-C stops it.")

    try:
        asyncio.run(serve_database(database, brands, ready))
    except KeyboardInterrupt:
        say("dashboard stopped")
    except OSError as exc:
        raise fail(f"cannot start the dashboard: {exc}") from None
