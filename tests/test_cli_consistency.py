"""One behaviour across commands: brand filters, JSON shapes, timestamps, actors, help text."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from monitor import cli_common
from monitor.cli import app
from monitor.records import Mention
from monitor.store import Store
from tests.alerting.dispatch_support import insert_incident

cli = CliRunner(env={"COLUMNS": "250"})
NOW = datetime(2026, 12, 6, 9, 30, 12, 345000, tzinfo=UTC)
JSON_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config for brand "Acme" and a database with two mentions and one incident."""
    monkeypatch.delenv("BRAND_MONITOR_CONFIG", raising=False)
    path = tmp_path / "config.toml"
    path.write_text(textwrap.dedent(f"""
        [[brands]]
        name = "Acme"
        [[brands]]
        name = "Roadrunner"
        [storage]
        path = "{tmp_path / 'bm.db'}"
    """), encoding="utf-8")

    async def seed() -> None:
        store = await Store(tmp_path / "bm.db").open()
        try:
            await store.save_mentions([
                Mention(platform="rss", external_id="1", source="news", fetched_at=NOW,
                        text="Acme kettle recall", brands=("Acme", "Roadrunner"),
                        url="https://n.example/1", published_at=NOW),
                Mention(platform="rss", external_id="2", source="news", fetched_at=NOW,
                        text="Roadrunner recall too", brands=("Roadrunner",),
                        published_at=NOW - timedelta(hours=1)),
            ])

            def write(d: Any) -> None:
                insert_incident(d, NOW)

            await store.transaction(write)
        finally:
            await store.close()

    asyncio.run(seed())
    return path


def invoke(config: Path, *args: str) -> Any:
    result = cli.invoke(app, [*args, "--config", str(config)])
    assert result.exit_code == 0, result.output
    return result


def test_mention_json_gives_brands_as_a_list_and_iso_utc_times(config: Path) -> None:
    rows = json.loads(invoke(config, "mentions", "search", "recall", "--json").stdout)
    assert rows[0]["brands"] == ["Acme", "Roadrunner"]
    assert rows[0]["seen_at"] == "2026-12-06T09:30:12Z"
    assert all(JSON_TIME.match(r["fetched_at"]) for r in rows)


def test_brand_filters_ignore_case(config: Path) -> None:
    rows = json.loads(
        invoke(config, "mentions", "search", "recall", "--brand", "acme", "--json").stdout
    )
    assert [r["external_id"] for r in rows] == ["1"]
    incidents = json.loads(invoke(config, "incidents", "list", "--brand", "ACME", "--json").stdout)
    assert [i["brand"] for i in incidents] == ["Acme"]
    assert incidents[0]["opened_at"] == "2026-12-06T09:30:12Z"
    result = cli.invoke(app, ["incidents", "list", "--brand", "acmee", "--config", str(config)])
    assert result.exit_code == 1
    assert "--brand 'acmee': no such brand in the config (did you mean 'Acme'?)" in result.output


def test_tables_show_one_timestamp_format(config: Path) -> None:
    assert "2026-12-06 09:30 UTC" in invoke(config, "mentions", "search", "recall").stdout
    assert "2026-12-06 09:30 UTC" in invoke(config, "incidents", "list").stdout
    shown = invoke(config, "incidents", "show", "1").stdout
    assert "opened 2026-12-06 09:30 UTC, updated 2026-12-06 09:30 UTC" in shown


def test_mentions_search_csv(config: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(
        invoke(config, "mentions", "search", "recall", "--csv").stdout
    )))
    assert [r["brands"] for r in rows] == ["Acme Roadrunner", "Roadrunner"]
    assert rows[0]["seen_at"] == "2026-12-06T09:30:12Z"
    result = cli.invoke(app, ["mentions", "search", "x", "--csv", "--json", "-c", str(config)])
    assert result.exit_code == 1 and "choose one of --json and --csv" in result.output


def test_resolve_and_note_default_to_the_os_user(config: Path) -> None:
    invoke(config, "incidents", "note", "1", "statement drafted")
    invoke(config, "incidents", "resolve", "1")
    events = json.loads(invoke(config, "incidents", "show", "1", "--json").stdout)["events"]
    actors = {e["kind"]: e["actor"] for e in events}
    assert actors["note"] == cli_common.os_user()
    assert actors["resolved"] == cli_common.os_user()
    assert all(JSON_TIME.match(e["at"]) for e in events)


def test_help_text_keeps_bracketed_config_names() -> None:
    # Typer renders help as rich markup, which swallowed "[storage]" and "[[channels]]".
    result = cli.invoke(app, ["sources", "--help"])
    assert "(default: the [storage] path or url in the config)" in result.output
    result = cli.invoke(app, ["test-alert", "--help"])
    assert "Channel name from a [[channels]] table" in result.output
