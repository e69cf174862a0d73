"""Helpers every `brand-monitor` sub-command shares: consoles, config loading, errors, output.

Every string that did not come from this program (mention text, authors, titles, config values,
error details quoting them) reaches the terminal only as inert text: through `plain`/`clean`
(escape sequences, control and bidi characters removed, printed as rich `Text` or with
markup off) or through `print_json` (those characters escaped as \\uXXXX).
"""

from __future__ import annotations

import csv
import difflib
import getpass
import json
import os
import re
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from monitor.alerting.sanitize import one_line, strip_terminal
from monitor.clock import as_utc, from_iso
from monitor.config import Config, ConfigError, load_config, parse_duration
from monitor.store.postgres_target import PostgresTarget

out = Console(highlight=False, soft_wrap=False)
err = Console(stderr=True, highlight=False)

CONFIG_ENV = "BRAND_MONITOR_CONFIG"
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c",
        help=f"Config file (default: ${CONFIG_ENV}, else ./config.toml).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output (JSON).")]
CsvOption = Annotated[bool, typer.Option("--csv", help="CSV output, one row per table row.")]
DbOption = Annotated[
    Path | None,
    # Help text is rich markup: "\[" keeps "[storage]" from being read as a style tag.
    typer.Option(
        "--db",
        help=r"SQLite database file (default: the \[storage] path or url in the config).",
    ),
]


# Invisible characters that reorder or disguise a terminal line (bidi embeddings, overrides,
# isolates and marks). sanitize's control set covers all but U+061C ARABIC LETTER MARK.
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# What JSON output escapes on top of json.dumps (which already escapes C0 controls): DEL, the
# C1 controls (U+009B is an 8-bit CSI), bidi controls, and the Unicode line/paragraph separators.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def clean(text: str | None, *, keep_newlines: bool = False) -> str:
    """Untrusted text without terminal escapes, control or bidi characters (spacing kept)."""
    return strip_terminal(_BIDI.sub("", text or ""), keep_newlines=keep_newlines)


def inline(text: str | None) -> str:
    """Untrusted text as one clean line: `clean`, with line breaks and runs of spaces folded."""
    return one_line(_BIDI.sub("", text or ""))


def plain(text: str | None, width: int | None = None) -> Text:
    """Untrusted text as one inert line: no terminal escapes, bidi controls or rich markup."""
    line = inline(text)
    return Text(line[:width] if width else line)


def say(text: str) -> None:
    """Print one line that may quote config or user values: controls removed, never markup."""
    # A Text, not a str: rich reads neither markup nor emoji codes (":warning:") in it.
    out.print(Text(clean(text)), soft_wrap=True)


def json_text(data: Any) -> str:
    """`data` as indented JSON whose raw text holds no control or bidi character.

    Such characters are escaped as \\uXXXX rather than removed: a program that parses the JSON
    gets every value exactly as stored (an author's U+202E included), while a person who reads
    it on a terminal sees the escape instead of a reordered or recoloured line. Both forms are
    the same JSON string, so the output stays valid.
    """
    text = json.dumps(data, ensure_ascii=False, indent=2)
    # json.dumps writes structure in ASCII, so these characters can only be inside strings,
    # where a \\uXXXX escape means exactly the character it replaces.
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def print_json(data: Any) -> None:
    """Write machine-readable output: plain JSON on stdout, no colour, no wrapping."""
    sys.stdout.write(json_text(data) + "\n")


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print an error line (its text never read as markup) and return the Exit to raise."""
    # soft_wrap: under systemd or a pipe rich would wrap at 80 columns, one error per lines.
    err.print(
        Text("error: ", style="bold red").append(clean(message, keep_newlines=True)),
        soft_wrap=True,
    )
    return typer.Exit(code)


def warn(message: str) -> None:
    """Print a warning line on stderr; the text is never read as markup."""
    err.print(
        Text("warning: ", style="bold yellow").append(clean(message, keep_newlines=True)),
        soft_wrap=True,
    )


def config_path(flag: Path | None) -> Path:
    """The config file every command uses: --config, else $BRAND_MONITOR_CONFIG, else ./config.toml.

    Exits with one message naming each place looked at when the file is not there.
    """
    env = os.environ.get(CONFIG_ENV) or None
    if flag is not None:
        path, origin = flag, "given on the command line"
    elif env is not None:
        path, origin = Path(env), f"from ${CONFIG_ENV}"
    else:
        path, origin = Path("config.toml"), ""
    if path.exists():
        return path
    if origin:
        raise fail(
            f"no config file at {path} ({origin}); check the path, or write a starter "
            f"there with `brand-monitor init --config {path} --brand NAME`",
            code=2,
        )
    raise fail(
        f"no config: looked for --config (not given), ${CONFIG_ENV} (not set) and "
        "./config.toml (not found); run `brand-monitor init --brand NAME` to write one, "
        "or pass --config",
        code=2,
    )


def config_found(flag: Path | None) -> bool:
    """Whether `config_path` would find a file (for commands where a config is optional)."""
    env = os.environ.get(CONFIG_ENV) or None
    return (flag or Path(env or "config.toml")).exists()


def _load(flag: Path | None, *, secrets: bool = True) -> Config:
    """The validated config (see `config_path`); problems are listed and exit with code 2.

    `secrets=False` is for commands that only read the database: unset environment variables
    for channels and sources are not their concern.
    """
    path = config_path(flag)
    try:
        return load_config(path, check_secrets=secrets)
    except ConfigError as exc:
        head = Text(clean(exc.path), style="bold red")
        err.print(head.append(f": {len(exc.problems)} problem(s)", style=""), soft_wrap=True)
        for problem in exc.problems:
            err.print(Text(f"  - {clean(problem)}"), soft_wrap=True)
        raise typer.Exit(2) from None


def _db_location(
    config: Path | None, db: Path | None, cfg: Config | None = None, *, must_exist: bool = True
) -> Path | PostgresTarget:
    """Where a command's store lives: --db (a SQLite file), else the config's [storage].

    `cfg` is the config when the command has loaded it already. A SQLite file that is not
    there exits unless `must_exist` is False; a PostgreSQL password whose environment variable
    is unset exits naming the variable. A PostgreSQL server is only reached by `Store.open`.
    """
    if db is not None:
        location: Path | PostgresTarget = db
    else:
        storage = (cfg or _load(config, secrets=False)).storage
        try:
            location = storage.location()
        except ValueError as exc:  # the only cause: the password's variable is unset
            raise fail(
                f"[storage] password for {storage.describe()}: {exc}; export it, or pass "
                "--db FILE to read a SQLite database instead"
            ) from None
    if must_exist and isinstance(location, Path) and not location.exists():
        raise fail(f"no database at {location}: run the daemon first, or pass --db")
    return location


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


# -- one timestamp format for all output -------------------------------------------------------
# JSON carries ISO 8601 UTC to the second ("2026-12-06T09:30:00Z"); tables show
# "2026-12-06 09:30 UTC". Both are UTC so a table and its JSON twin never disagree.


def _as_datetime(value: datetime | str | None) -> datetime | None:
    if value is None or value == "":
        return None
    return as_utc(value) if isinstance(value, datetime) else from_iso(value)


def json_time(value: datetime | str | None) -> str | None:
    """A timestamp for JSON output: ISO 8601 in UTC to the second, `2026-12-06T09:30:00Z`."""
    when = _as_datetime(value)
    if when is None:
        return None
    return (
        f"{when.year:04d}-{when.month:02d}-{when.day:02d}T"
        f"{when.hour:02d}:{when.minute:02d}:{when.second:02d}Z"
    )


def table_time(value: datetime | str | None, empty: str = "-") -> str:
    """A timestamp for tables and messages: `2026-12-06 09:30 UTC`."""
    when = _as_datetime(value)
    if when is None:
        return empty
    return f"{when.year:04d}-{when.month:02d}-{when.day:02d} {when.hour:02d}:{when.minute:02d} UTC"


# -- shared option handling --------------------------------------------------------------------


def one_format(as_json: bool, as_csv: bool) -> None:
    """Refuse --json together with --csv."""
    if as_json and as_csv:
        raise fail("choose one of --json and --csv")


def csv_cell(value: Any) -> str:
    """A CSV cell from untrusted text: no terminal escapes or bidi controls, never a formula."""
    # Cleaned first: "\u202e=HYPERLINK(...)" must not slip past the formula check. Spreadsheets
    # run cells starting with these as formulas.
    text = clean("" if value is None else str(value), keep_newlines=True)
    return "'" + text if text.startswith(("=", "+", "-", "@", "\t", "\r")) else text


def print_csv(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> None:
    """Write rows as CSV on stdout: a header, then each row's `columns` as safe cells."""
    writer = csv.writer(sys.stdout)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell(row.get(c)) for c in columns])


def os_user() -> str:
    """Who is running the CLI, for "acknowledged by" and "created by" (the OS login name)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER (some containers)
        return "cli"


def brand_names(config: Path | None) -> list[str] | None:
    """The configured brands, or None when no config can be found (then names go unchecked)."""
    if not config_found(config):
        return None
    return [b.name for b in _load(config, secrets=False).brands]


def closest(name: str, known: Sequence[str]) -> str:
    """" (did you mean 'X'?)" for the closest known name, or "" when none is close."""
    lowered = {k.casefold(): k for k in known}
    match = difflib.get_close_matches(name.casefold(), list(lowered), n=1, cutoff=0.6)
    return f" (did you mean {lowered[match[0]]!r}?)" if match else ""


def match_brand(name: str | None, known: Sequence[str] | None) -> str | None:
    """The configured spelling of a --brand value, matched case-insensitively; exits if unknown.

    Without a config (`known` is None) the value is used as given.
    """
    if name is None or known is None:
        return name
    for brand in known:
        if brand.casefold() == name.casefold():
            return brand
    raise fail(
        f"--brand {name!r}: no such brand in the config{closest(name, known)}; "
        f"configured brands: {', '.join(known)}"
    )
