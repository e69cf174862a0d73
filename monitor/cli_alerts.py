"""CLI for alerts: `alerts list|retry`, `silence add|list|remove`, `test-alert`.

Mounted by `monitor.cli` (one line each):
    app.add_typer(alerts_app, name="alerts")
    app.add_typer(silence_app, name="silence")
    app.command("test-alert")(test_alert)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.table import Table
from rich.text import Text

from monitor.alerting import outbox, silences
from monitor.cli_common import (
    ConfigOption,
    CsvOption,
    DbOption,
    JsonOption,
    _db_location,
    _load,
    brand_names,
    fail,
    json_time,
    one_format,
    os_user,
    out,
    plain,
    print_csv,
    print_json,
    say,
    table_time,
)
from monitor.config import parse_duration
from monitor.store import Tx

T = TypeVar("T")
alerts_app = typer.Typer(help="Outgoing alerts: list deliveries, re-send failed ones.",
                         no_args_is_help=True)
silence_app = typer.Typer(help="Mute alerts about a brand for a while.", no_args_is_help=True)


def _with_db(config: Path | None, db: Path | None, fn: Callable[..., T], *args: Any) -> T:
    """Run `fn(tx, *args)` in one write transaction on the configured database."""
    from monitor.store import Store, StoreError

    location = _db_location(config, db)

    async def run() -> T:
        store = await Store(location).open()
        try:
            return await store.transaction(fn, *args)
        finally:
            await store.close()

    try:
        return asyncio.run(run())
    except StoreError as exc:
        raise fail(str(exc)) from None


def waiting_for(row: outbox.AlertRow, now: datetime, held: tuple[str, outbox.AlertRow] | None
                ) -> str:
    """What an alert row is waiting for, in words (empty when it waits for nothing)."""
    if row.status == "sending":
        return "being sent now"
    if row.status == "silenced":
        return row.last_error or "silenced"
    if row.status != "pending":
        return ""
    until = table_time(row.not_before)
    if row.not_before > now:
        if row.last_error and row.last_error.startswith("quiet hours"):
            return f"quiet hours until {until}"
        if row.reason == "opened" and row.attempts == 0 and not row.last_error:
            return f"group wait until {until}"
        if row.attempts > 0 and row.last_error:
            return f"backoff until {until} (attempt {row.attempts} failed)"
        return f"scheduled for {until}"
    if held is not None:
        kind, other = held
        if kind == "group_wait":
            return f"group wait of alert {other.id} until {table_time(other.not_before)}"
        return f"alert {other.id} for this incident is being sent on {other.channel}"
    if row.last_error and row.last_error.startswith("quiet hours"):
        return "due (quiet hours over): the running daemon sends it at its next round"
    return "due: the running daemon sends it at its next round (is it running?)"


# -- alerts -----------------------------------------------------------------------------------


@alerts_app.command("list")
def alerts_list(
    status: Annotated[
        str | None, typer.Option("--status", help="pending, sending, sent, failed, silenced...")
    ] = None,
    incident: Annotated[int | None, typer.Option("--incident", help="Only this incident.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=10000)] = 50,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
    config: ConfigOption = None,
    db: DbOption = None,
) -> None:
    """Recent alerts, newest first: delivery status, what each waiting one waits for, last error."""
    one_format(as_json, as_csv)
    if status is not None and status not in outbox.STATUSES:
        raise fail(f"--status {status!r}: use one of {', '.join(outbox.STATUSES)}")
    now = datetime.now(UTC)

    def read(tx: Tx) -> list[tuple[outbox.AlertRow, str]]:
        rows = tx.outbox.recent(status=status, incident_id=incident, limit=limit)
        return [
            (r, waiting_for(r, now, tx.outbox.holding_row(r, now)
                            if r.status == "pending" and r.not_before <= now else None))
            for r in rows
        ]

    rows = _with_db(config, db, read)
    data = [
        {
            "id": r.id, "incident_id": r.incident_id, "channel": r.channel,
            "reason": r.reason, "severity": r.severity, "status": r.status,
            "waiting_for": waiting or None,
            "idempotency_key": r.idempotency_key, "attempts": r.attempts,
            "created_at": json_time(r.created_at), "not_before": json_time(r.not_before),
            "sent_at": json_time(r.sent_at), "last_error": r.last_error,
        }
        for r, waiting in rows
    ]
    if as_json:
        print_json(data)
        return
    if as_csv:
        print_csv(list(data[0]) if data else ["id"], data)
        return
    if not rows:
        out.print("no alerts" + (f" with status {status}" if status else ""))
        return
    table = Table("id", "incident", "channel", "reason", "severity", "status", "tries",
                  "created", "waiting for", "last error")
    colours = {"sent": "green", "failed": "red", "pending": "yellow", "silenced": "dim"}
    for r, waiting in rows:
        table.add_row(
            str(r.id), str(r.incident_id or ""), plain(r.channel), plain(r.reason),
            plain(r.severity),
            Text(r.status, style=colours.get(r.status, "")), str(r.attempts),
            table_time(r.created_at), plain(waiting, 90),
            plain("" if r.status == "silenced" else r.last_error, 90),
        )
    out.print(table)


@alerts_app.command("retry")
def alerts_retry(
    alert_id: Annotated[int, typer.Argument(help="Alert id from `alerts list`.")],
    config: ConfigOption = None,
    db: DbOption = None,
) -> None:
    """Re-queue a failed (or silenced) alert; the running daemon sends it within seconds."""
    def run(tx: Tx) -> outbox.AlertRow | str:
        now = datetime.now(UTC)
        row = tx.outbox.get(alert_id)
        if row is not None and row.status == "silenced" and row.incident_id is not None:
            # Re-queued under a silence that still holds, it would only be silenced again.
            found = tx.incidents.get(row.incident_id)
            silence = silences.matching_silence(tx, found, now) if found else None
            if silence is not None:
                return (
                    f"alert {alert_id} is silenced by silence {silence.id} until "
                    f"{table_time(silence.ends_at)} ({silence.reason}); it would be silenced "
                    f"again: end the silence first (`brand-monitor silence remove "
                    f"{silence.id}`), then retry"
                )
        try:
            return outbox.requeue(tx, alert_id, now)
        except ValueError as exc:
            return str(exc)

    row = _with_db(config, db, run)
    if isinstance(row, str):
        raise fail(row)
    say(f"alert {row.id} ({row.channel}, {row.reason}) is queued again; "
        "the running daemon sends it at its next poll")


# -- silences ---------------------------------------------------------------------------------


@silence_app.command("add")
def silence_add(
    brand: Annotated[str, typer.Option("--brand", "-b", help="Brand to mute.")],
    duration: Annotated[str, typer.Option("--for", help="How long, e.g. 30m, 2h, 1d.")],
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why, for colleagues.")],
    category: Annotated[
        str | None, typer.Option("--category", help="Only this harm category.")
    ] = None,
    config: ConfigOption = None,
    db: DbOption = None,
) -> None:
    """Mute alerts about a brand (optionally one harm category) from now for a duration."""
    try:
        seconds = parse_duration(duration)
    except ValueError as exc:
        raise fail(f"--for: {exc}") from None
    now = datetime.now(UTC)
    # Brands are matched case-insensitively; an unknown one is refused (with the closest name).
    known = brand_names(config)
    if known is not None:
        brand = next((b for b in known if b.casefold() == brand.casefold()), brand)

    def run(tx: Tx) -> silences.Silence | str:
        try:
            return silences.add_silence(
                tx, brand=brand, category=category, starts_at=now,
                ends_at=now + timedelta(seconds=seconds), reason=reason,
                created_by=os_user(), known_brands=known,
            )
        except ValueError as exc:
            return str(exc)

    silence = _with_db(config, db, run)
    if isinstance(silence, str):
        raise fail(silence)
    scope = f"{brand}" + (f" / {category}" if category else "")
    say(f"silence {silence.id}: alerts about {scope} muted until {table_time(silence.ends_at)}")


@silence_app.command("list")
def silence_list(
    include_expired: Annotated[bool, typer.Option("--all", help="Include ended silences.")] = False,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
    config: ConfigOption = None,
    db: DbOption = None,
) -> None:
    """Active and upcoming silences."""
    one_format(as_json, as_csv)
    now = datetime.now(UTC)
    rows = _with_db(
        config, db, lambda tx: silences.list_silences(tx, now, include_expired=include_expired)
    )
    data = [
        {"id": s.id, "brand": s.brand, "category": s.category,
         "starts_at": json_time(s.starts_at), "ends_at": json_time(s.ends_at), "reason": s.reason,
         "created_by": s.created_by, "active": s.active(now)}
        for s in rows
    ]
    if as_json:
        print_json(data)
        return
    if as_csv:
        print_csv(["id", "brand", "category", "starts_at", "ends_at", "reason", "created_by",
                   "active"], data)
        return
    if not rows:
        out.print("no active silences")
        return
    table = Table("id", "brand", "category", "until", "by", "reason")
    for s in rows:
        table.add_row(str(s.id), plain(s.brand or "(all)"), plain(s.category or "(all)"),
                      table_time(s.ends_at), plain(s.created_by), plain(s.reason, 80))
    out.print(table)


@silence_app.command("remove")
def silence_remove(
    silence_id: Annotated[int, typer.Argument(help="Silence id from `silence list`.")],
    config: ConfigOption = None,
    db: DbOption = None,
) -> None:
    """End a silence now; alerts that arrive from now on are sent again."""
    now = datetime.now(UTC)

    def run(tx: Tx) -> silences.Silence | str:
        try:
            return silences.end_silence(tx, silence_id, now)
        except ValueError as exc:
            return str(exc)

    silence = _with_db(config, db, run)
    if isinstance(silence, str):
        raise fail(silence)
    say(f"silence {silence.id} ended")


# -- test alert -------------------------------------------------------------------------------


def test_alert(
    channel: Annotated[
        str, typer.Option("--channel", help=r"Channel name from a \[\[channels]] table.")
    ],
    config: ConfigOption = None,
) -> None:
    """Send a clearly marked test alert through one channel and report the exact result."""
    from monitor.alerting.channels import build_channel
    from monitor.alerting.settings import default_channels
    from monitor.records import AlertMessage, Incident

    cfg = _load(config)
    configured = list(cfg.channels) or default_channels()
    settings = next((c for c in configured if c.name == channel), None)
    if settings is None:
        names = ", ".join(c.name for c in configured)
        raise fail(f"no channel named {channel!r} in {config} (configured: {names})")
    now = datetime.now(UTC)
    incident = Incident(
        id=0, brand=cfg.brands[0].name, kind="viral_claim", severity="info", status="open",
        summary="TEST ALERT from brand-monitor: checking this channel works. No action needed.",
        opened_at=now, updated_at=now,
    )
    message = AlertMessage(
        alert_id=0, idempotency_key=f"test-{int(now.timestamp())}", reason="test",
        incident=incident, created_at=now,
    )

    async def send() -> tuple[bool, str]:
        sender = build_channel(settings)
        try:
            delivery = await sender.send(message)
        finally:
            await sender.close()
        return delivery.ok, delivery.detail

    ok, detail = asyncio.run(send())
    if not ok:
        raise fail(f"test alert to {channel} failed: {detail}")
    say(f"test alert sent to {channel}: {detail}")
