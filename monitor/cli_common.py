"""Helpers every `brand-monitor` sub-command shares: consoles, config loading, errors, output.

Every string that did not come from this program (mention text, authors, titles, config values,
error details quoting them) reaches the terminal only as inert text: through `plain`/`clean`
(escape sequences, control and bidi characters removed, printed as rich `Text` or with
markup off) or through `print_json` (those characters escaped as \\uXXXX).
"""

from __future__ import annotations

import json
import os
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from monitor.alerting.sanitize import one_line, strip_terminal
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


def _load(path: Path) -> Config:
    try:
        return load_config(path)
    except ConfigError as exc:
        head = Text(clean(exc.path), style="bold red")
        err.print(head.append(f": {len(exc.problems)} problem(s)", style=""))
        for problem in exc.problems:
            err.print(Text(f"  - {clean(problem)}"))
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
