"""Hostile text from mentions, config and the database reaches no CLI output raw.

Every command runs through the real entry point (`monitor.cli.app`) against a temporary
database holding a mention, incident, alert, silence and source state written by an attacker:
an author name with a right-to-left override, text with rich markup, ANSI and 8-bit CSI
sequences and HTML.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.cli_common import json_text
from monitor.clock import VirtualClock
from monitor.detection.settings import DetectionConfig
from monitor.incidents import IncidentBook
from monitor.records import Assessment, Incident, RiskFactor
from monitor.store import SourceState, Store
from tests.detection.factory import at, mention

cli = CliRunner(env={"COLUMNS": "250"})

AUTHOR = "\u202egnp.exe\u202c mallory\u061c"
TEXT = (
    "Acme made me sick [/foo] [bold]boom[/bold] \x1b[31mred\x1b[0m \x9b2J "
    "<script>alert(1)</script> \u2066isolated\u2069\u200f \u061cend"
)
ERROR = "HTTP 500 \u202e[red]spoof[/red] \x1b]8;;http://evil.example\x07link\x1b]8;;\x07"
# What must never reach a terminal raw: C0 controls but tab and newline, DEL, C1 controls,
# and the bidi controls and marks.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# JSON output also escapes the Unicode line and paragraph separators.
JSON_UNSAFE = re.compile(UNSAFE.pattern[:-1] + "\u2028\u2029]")


def route(incident: Incident, reason: str) -> list[str]:
    return ["console"]


async def build(db: Path) -> None:
    store = await Store(db).open()
    try:
        [saved] = await store.save_mentions([mention(1, TEXT, author=AUTHOR, brand="Acme")])
        book = IncidentBook(store, route, VirtualClock(at(0)), DetectionConfig())
        await book.apply(Assessment(
            brand="Acme", kind="viral_claim", key="claim:acme:1", category="health_safety",
            risk=0.8, severity="high", factors=[RiskFactor("spread", 0.9, TEXT)],
            summary=TEXT, mention_ids=[saved.id or 0], author_count=1, platforms=["mastodon"],
            at=at(1),
        ))
        await store.save_source_state(SourceState(
            name="news", kind="rss", last_success=datetime.now(UTC),
            consecutive_failures=1, last_error=ERROR,
        ))

        def fail_opened_alert(d: object) -> None:
            # Opening the incident queued its "opened" alert; its delivery failed hostilely.
            [alert] = d.outbox.recent(incident_id=1)  # type: ignore[attr-defined]
            d.outbox.mark_failed(alert.id, datetime.now(UTC), ERROR)  # type: ignore[attr-defined]

        await store.transaction(fail_opened_alert)
    finally:
        await store.close()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    db = tmp_path / "bm.db"
    asyncio.run(build(db))
    path = tmp_path / "config.toml"
    path.write_text(
        f'[[brands]]\nname = "Acme"\n[[sources]]\nkind = "rss"\nname = "news"\n'
        f'url = "https://news.example/feed"\n[storage]\npath = "{db}"\n',
        encoding="utf-8",
    )
    return path


def invoke(*args: str) -> tuple[int, str, str]:
    """Exit code, stdout and stdout+stderr; a crash (such as a rich MarkupError) is re-raised."""
    result = cli.invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.output


def assert_inert(output: str) -> None:
    found = sorted({f"U+{ord(c):04X}" for c in UNSAFE.findall(output)})
    assert not found, f"raw control or bidi characters in output: {found}"
    assert "Traceback" not in output


def parse_json(stdout: str) -> object:
    found = sorted({f"U+{ord(c):04X}" for c in JSON_UNSAFE.findall(stdout)})
    assert not found, f"raw control or bidi characters in JSON text: {found}"
    return json.loads(stdout)


def test_mentions_search_text_shows_markup_literally_without_controls(config: Path) -> None:
    code, _, output = invoke("mentions", "search", "sick", "-c", str(config))
    assert code == 0, output
    assert_inert(output)
    assert "[/foo] [bold]boom[/bold]" in output
    assert "<script>alert(1)</script>" in output


def test_mentions_search_json_escapes_bidi_and_keeps_the_stored_value(config: Path) -> None:
    code, stdout, output = invoke("mentions", "search", "sick", "-c", str(config), "--json")
    assert code == 0, output
    [row] = parse_json(stdout)  # type: ignore[misc]
    assert "\\u202e" in stdout and "\\u009b" in stdout  # visible escapes, not raw characters
    assert row["author"] == AUTHOR and row["text"] == TEXT  # a parser gets the exact value


def test_search_for_markup_finds_and_shows_it_literally(config: Path) -> None:
    # Quoted, "[/foo]" is a valid phrase search: it finds the mention and shows it literally.
    code, _, output = invoke("mentions", "search", '"[/foo]"', "-c", str(config))
    assert code == 0, output
    assert_inert(output)
    assert "[/foo]" in output and "made me sick" in output


def test_search_with_unquoted_markup_is_one_error_line(config: Path) -> None:
    # Bare, "[/foo]" is not valid FTS5 syntax: one error line quoting it, not a MarkupError.
    code, _, output = invoke("mentions", "search", "[/foo]", "-c", str(config))
    assert code == 1, output
    assert_inert(output)
    assert "cannot search for '[/foo]'" in output and "MarkupError" not in output


def test_incidents_list_text_json_and_csv(config: Path) -> None:
    db = config.parent / "bm.db"
    code, _, output = invoke("incidents", "list", "--db", str(db))
    assert code == 0, output
    assert_inert(output)
    assert "[/foo] [bold]boom[/bold]" in output
    code, stdout, output = invoke("incidents", "list", "--db", str(db), "--json")
    assert code == 0, output
    [row] = parse_json(stdout)  # type: ignore[misc]
    assert row["summary"] == TEXT
    code, stdout, output = invoke("incidents", "list", "--db", str(db), "--csv")
    assert code == 0, output
    assert_inert(stdout)
    [cell] = [r["summary"] for r in csv.DictReader(io.StringIO(stdout))]
    assert cell.startswith("Acme made me sick [/foo]") and "<script>" in cell


def test_incidents_show_text_and_json(config: Path) -> None:
    db = config.parent / "bm.db"
    code, _, output = invoke("incidents", "show", "1", "--db", str(db))
    assert code == 0, output
    assert_inert(output)
    assert "gnp.exe mallory" in output  # the author, without the override that reverses it
    assert "[bold]boom[/bold]" in output
    code, stdout, output = invoke("incidents", "show", "1", "--db", str(db), "--json")
    assert code == 0, output
    data = parse_json(stdout)
    assert data["top_mentions"][0]["author"] == AUTHOR  # type: ignore[index]
    assert data["incident"]["factors"][0]["detail"] == TEXT  # type: ignore[index]


def test_csv_formula_hidden_behind_a_bidi_override_is_neutralised(config: Path) -> None:
    db = config.parent / "bm.db"

    async def plant() -> None:
        store = await Store(db).open()
        try:
            await store.transaction(lambda d: d.sqlite.execute(
                "UPDATE incidents SET summary = ? WHERE id = 1",
                ['\u202e=HYPERLINK("http://evil.example","click")'],
            ))
        finally:
            await store.close()

    asyncio.run(plant())
    code, stdout, output = invoke("incidents", "list", "--db", str(db), "--csv")
    assert code == 0, output
    [cell] = [r["summary"] for r in csv.DictReader(io.StringIO(stdout))]
    assert cell == "'=HYPERLINK(\"http://evil.example\",\"click\")"


def test_bad_since_with_markup_is_an_error_line(config: Path) -> None:
    code, _, output = invoke("incidents", "list", "--db", str(config.parent / "bm.db"),
                             "--since", "[/x]\u202e")
    assert code == 1, output
    assert_inert(output)
    assert "--since '[/x]" in output and "MarkupError" not in output


def test_alerts_and_sources_text_and_json(config: Path) -> None:
    db = config.parent / "bm.db"
    code, _, output = invoke("alerts", "list", "--db", str(db))
    assert code == 0, output
    assert_inert(output)
    assert "[red]spoof[/red]" in output
    code, stdout, output = invoke("alerts", "list", "--db", str(db), "--json")
    assert code == 0, output
    [alert] = parse_json(stdout)  # type: ignore[misc]
    assert alert["last_error"] == ERROR
    code, _, output = invoke("sources", "-c", str(config))
    assert code == 0, output
    assert_inert(output)
    code, stdout, output = invoke("sources", "-c", str(config), "--json")
    assert code == 0, output
    [source] = parse_json(stdout)  # type: ignore[misc]
    assert source["last_error"] == ERROR


def test_silences_text_and_json(config: Path) -> None:
    db = config.parent / "bm.db"
    code, _, output = invoke("silence", "add", "--brand", "[/b]Ac\u202eme", "--for", "1h",
                             "--reason", "<script>[bold]x\x1b[2J", "--db", str(db))
    assert code == 0, output
    assert_inert(output)
    assert "alerts about [/b]Acme muted" in output
    code, _, output = invoke("silence", "list", "--db", str(db))
    assert code == 0, output
    assert_inert(output)
    assert "<script>[bold]x" in output
    code, stdout, output = invoke("silence", "list", "--db", str(db), "--json")
    assert code == 0, output
    [silence] = parse_json(stdout)  # type: ignore[misc]
    assert silence["brand"] == "[/b]Ac\u202eme" and silence["reason"] == "<script>[bold]x\x1b[2J"


def test_check_config_prints_config_values_literally(tmp_path: Path) -> None:
    (tmp_path / "[").mkdir()  # so that the file's path reads ".../[/x] bm.toml"
    path = tmp_path / "[/x] bm.toml"
    path.write_text(
        f'[[brands]]\nname = "Ac\u202eme [bold] :warning:"\n'
        f'[storage]\npath = "{tmp_path}/[/foo].db"\n',
        encoding="utf-8",
    )
    code, _, output = invoke("check-config", str(path))
    assert code == 0, output
    assert_inert(output)
    assert "[/x] bm.toml" in output and "[/foo].db" in output
    assert "Acme [bold] :warning:" in output  # neither markup nor an emoji code
    code, _, output = invoke("check-config", str(tmp_path / "[/missing].toml"))
    assert code == 2, output
    assert_inert(output)
    assert "no config file at" in output and "[/missing].toml (given on the command line)" in output


def test_json_text_escapes_only_unsafe_characters() -> None:
    value = {"a\u202eb": ["\x1b[2J", "\x85\x9b", "\u2028", "plain é ✓ 日本", "back\\\u202e"]}
    text = json_text(value)
    assert not JSON_UNSAFE.search(text)
    assert "plain é ✓ 日本" in text  # ordinary non-ASCII stays readable
    assert json.loads(text) == value
