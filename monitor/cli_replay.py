"""`brand-monitor replay` and `backtest`: the live pipeline over recorded mentions."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from monitor.cli_common import (
    ConfigOption,
    _db_location,
    _load,
    err,
    fail,
    out,
    parse_since,
    print_json,
    say,
)
from monitor.configtypes import parse_duration
from monitor.replay import ReplayError, ReplayRecord, ReplayReport, format_lines, read_records

JsonOption = Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]
TailOption = Annotated[
    str | None,
    typer.Option("--tail", help="Virtual time to run on after the last mention (default: the "
                 "quiet period + 10m, so quiet incidents resolve)."),
]


def _run(
    records: list[ReplayRecord], config_path: Path | None, db: Path | None, tail: str | None,
    as_json: bool,
) -> None:
    from monitor.logs import setup_logging
    from monitor.replay import replay

    cfg = _load(config_path)
    setup_logging("WARNING", "text")
    try:
        tail_seconds = parse_duration(tail) if tail else None
    except ValueError as exc:
        raise fail(f"--tail: {exc}") from None
    with tempfile.TemporaryDirectory(prefix="brand-monitor-replay-") as scratch:
        target = db or Path(scratch) / "replay.db"

        def progress(done: int, total: int) -> None:
            err.print(f"  {done}/{total} mentions", markup=False)

        try:
            report: ReplayReport = asyncio.run(
                replay(records, cfg, target, tail=tail_seconds,
                       progress=None if as_json else progress)
            )
        except ReplayError as exc:
            raise fail(str(exc)) from None
    if as_json:
        print_json(report.as_dict())
        return
    # format_lines quotes brands, platforms and projections as they are: clean every line.
    for line in format_lines(report):
        say(line)
    if db is None:
        out.print("(replay database was temporary; keep one with --db FILE)", markup=False)


def replay_command(
    input_file: Annotated[Path, typer.Option("--input", "-i", help="JSON Lines of mentions.")],
    config: ConfigOption = None,
    db: Annotated[
        Path | None, typer.Option("--db", help="New database to keep the replay in.")
    ] = None,
    tail: TailOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run mentions from a JSONL file through the live pipeline in virtual time."""
    try:
        records = read_records(input_file)
    except ReplayError as exc:
        raise fail(str(exc)) from None
    _run(records, config, db, tail, as_json)


def backtest_command(
    since: Annotated[str, typer.Option("--since", help="How far back: 30d, 12h or a date.")],
    config: ConfigOption = None,
    db: Annotated[
        Path | None,
        typer.Option("--db", help=r"The daemon's SQLite database (default: the \[storage] "
                     "path or url in the config)."),
    ] = None,
    output_db: Annotated[
        Path | None, typer.Option("--output-db", help="New database to keep the backtest in.")
    ] = None,
    tail: TailOption = None,
    as_json: JsonOption = False,
) -> None:
    """Replay the mentions already stored since a time, with the current config and models."""
    from monitor.replay import stored_records
    from monitor.store import StoreError

    cutoff = parse_since(since)
    assert cutoff is not None
    source = _db_location(config, db, _load(config), must_exist=False)
    try:
        records = asyncio.run(stored_records(source, cutoff))
    except (ReplayError, StoreError) as exc:
        raise fail(str(exc)) from None
    if not records:
        raise fail(f"{source} holds no mentions since {cutoff:%Y-%m-%d %H:%M} UTC")
    _run(records, config, output_db, tail, as_json)
