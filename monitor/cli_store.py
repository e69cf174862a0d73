"""`brand-monitor store ...`: moving the database between backends."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Annotated

import typer

from monitor.cli_common import _db_path, fail, say
from monitor.store import PostgresTarget, StoreError
from monitor.store.postgres_target import is_postgres_url

app = typer.Typer(help="The database: copy it to PostgreSQL.", no_args_is_help=True)


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
    source = _db_path(config, db)
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
