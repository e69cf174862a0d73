"""Helpers every `brand-monitor` sub-command shares: consoles, config loading, errors."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from monitor.alerting.sanitize import one_line
from monitor.config import Config, ConfigError, load_config, parse_duration

out = Console(highlight=False, soft_wrap=False)
err = Console(stderr=True, highlight=False)

DEFAULT_CONFIG = os.environ.get("BRAND_MONITOR_CONFIG", "config.toml")
ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="Config file (env BRAND_MONITOR_CONFIG).")
]
DbOption = Annotated[
    Path | None, typer.Option("--db", help="Database file (default: [storage] path in config).")
]


def plain(text: str | None, width: int | None = None) -> Text:
    """Untrusted text as one inert line: no terminal escapes, no rich markup."""
    line = one_line(text or "")
    return Text(line[:width] if width else line)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print an error line and return the Exit to raise."""
    err.print(f"[bold red]error:[/] {message}", markup=True)
    return typer.Exit(code)


def _load(path: Path) -> Config:
    try:
        return load_config(path)
    except ConfigError as exc:
        err.print(f"[bold red]{exc.path}[/]: {len(exc.problems)} problem(s)")
        for problem in exc.problems:
            err.print(f"  - {problem}", markup=False)
        raise typer.Exit(2) from None


def _db_path(config_path: Path, db: Path | None) -> Path:
    if db is not None:
        return db
    return _load(config_path).storage.path


def parse_since(value: str | None) -> datetime | None:
    """A relative duration ("24h", "7d") or an ISO date/time, as a UTC datetime."""
    if not value:
        return None
    try:
        return datetime.now(UTC) - timedelta(seconds=parse_duration(value))
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise fail(f"--since {value!r}: use a duration such as 24h or 7d, or an ISO date") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)
