"""`brand-monitor store ...`: moving the database between backends, and the daemons that share a
PostgreSQL database."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from monitor.cli_common import (
    ConfigOption,
    JsonOption,
    _db_location,
    fail,
    json_time,
    out,
    plain,
    print_json,
    say,
)
from monitor.store import PostgresTarget, Store, StoreError
from monitor.store.cluster import Member
from monitor.store.postgres_target import is_postgres_url

app = typer.Typer(
    help="The database: copy it to PostgreSQL; the daemons sharing it.", no_args_is_help=True
)


@app.command("copy")
def copy_command(
    to: Annotated[str, typer.Option("--to", help="postgresql://user@host:port/database (empty)")],
    config: Annotated[Path | None, typer.Option("--config", help="config file")] = None,
    db: Annotated[Path | None, typer.Option("--db", help="SQLite database to copy")] = None,
    password_env: Annotated[str, typer.Option(
        "--password-env", help="environment variable holding the PostgreSQL password, if any"
    )] = "BRAND_MONITOR_DB_PASSWORD",
) -> None:
    """Copy the SQLite database into an empty PostgreSQL database, in one transaction."""
    from monitor.store.copy import copy_to_postgres

    if not is_postgres_url(to):
        raise fail(f"--to {to!r}: give a PostgreSQL URL, postgresql://user@host:port/database")
    source = _db_location(config, db, must_exist=False)  # the copy names a missing file
    if not isinstance(source, Path):
        raise fail(
            f"the config's [storage] is already PostgreSQL ({source.url}): give the SQLite "
            "database to copy with --db"
        )
    try:
        target = PostgresTarget(to, os.environ.get(password_env) or None)
    except ValueError as exc:
        raise fail(f"--to: {exc}") from None
    last = [0.0]

    def progress(table: str, done: int, total: int) -> None:
        now = time.monotonic()
        if done == total or now - last[0] >= 1.0:  # at most a line a second, and each total
            last[0] = now
            say(f"{table}: {done:,} of {total:,} rows")

    say(f"copying {source} -> {to}")
    try:
        copied = asyncio.run(copy_to_postgres(source, target, progress))
    except StoreError as exc:
        raise fail(str(exc)) from None
    say(f"copied {copied:,} rows; set [storage] url = \"{to}\" (and remove path) to use it")


@app.command("daemons")
def daemons_command(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """The daemons sharing the configured PostgreSQL database: alive or not, and their leases."""
    location = _db_location(config, None)
    if not isinstance(location, PostgresTarget):
        raise fail(
            f"{location} is a SQLite database, which one daemon holds: several daemons share "
            "only a PostgreSQL database ([storage] url)"
        )

    async def load() -> list[Member]:
        store = await Store(location).open()
        try:
            return await store.read(lambda tx: tx.cluster.members())
        finally:
            await store.close()

    try:
        members = asyncio.run(load())
    except StoreError as exc:
        raise fail(str(exc)) from None
    rows: list[dict[str, Any]] = [{
        "daemon": m.holder, "host": m.host, "pid": m.pid, "alive": m.alive,
        "started_at": json_time(m.started_at), "seen_until": json_time(m.seen_until),
        "leases": list(m.leases),
    } for m in members]
    if as_json:
        print_json(rows)
        return
    if not rows:
        say("no daemon has used this database in the last hour")
        return
    table = Table("daemon", "alive", "started", "leases")
    for row in rows:
        alive = Text("yes", style="green") if row["alive"] else Text("no", style="red")
        table.add_row(
            plain(row["daemon"]), alive, plain(row["started_at"]),
            plain(", ".join(row["leases"]) or "-"),
        )
    out.print(table)
