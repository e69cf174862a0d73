"""The `incidents` CLI through typer's CliRunner against a temporary database."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli_incidents import app
from monitor.clock import VirtualClock
from monitor.detection.settings import DetectionConfig
from monitor.incidents import IncidentBook
from monitor.records import Assessment, Engagement, EngagementUpdate, Incident, RiskFactor
from monitor.store import Store
from tests.detection.factory import at, mention

runner = CliRunner(env={"COLUMNS": "250"})
EVIL = "Acme made us sick \x1b]8;;http://evil.example\x07click\x1b]8;;\x07 \x1b[2J[bold]boom[/]"


def route(incident: Incident, reason: str) -> list[str]:
    return ["console"]


def assessment(key: str, severity: str, minutes: float, ids: list[int], **kw: object) -> Assessment:
    fields: dict[str, object] = {
        "brand": "acme", "kind": "viral_claim", "key": key, "category": "health_safety",
        "risk": 0.82, "severity": severity,
        "factors": [RiskFactor("spread", 0.93, "31 authors on 3 platforms in 52 min")],
        "summary": EVIL, "mention_ids": ids, "author_count": len(ids),
        "platforms": ["bluesky", "mastodon"], "at": at(minutes),
        "projection": "on this curve, 10k shares by 11:40 UTC (linear fit)",
    }
    fields.update(kw)
    return Assessment(**fields)  # type: ignore[arg-type]


async def build(path: Path) -> None:
    store = await Store(path).open()
    try:
        mentions = [mention(n, EVIL if n == 1 else f"Acme cola made me ill #{n}", minutes=n,
                            author="\x1b[31mmallory" if n == 1 else None,
                            platform=("mastodon", "bluesky")[n % 2], reach=100 * n)
                    for n in range(1, 5)]
        saved = await store.save_mentions(mentions)
        await store.add_engagement([
            EngagementUpdate(m.platform, m.external_id, Engagement(shares=10 * k * m.id),
                             at(10 * k)) for m in saved for k in (1, 2, 3)
        ])
        book = IncidentBook(store, route, VirtualClock(at(0)), DetectionConfig())
        await book.apply(assessment("claim:acme:1", "critical", 5, [m.id for m in saved]))
        await book.apply(assessment("claim:acme:9", "low", 6, [], category="fraud_scam",
                                    summary="Acme support is a scam", risk=0.4))
        await book.apply(assessment("claim:acme:12", "info", 7, [], category="boycott",
                                    summary="Thinking of leaving Acme", risk=0.25))
    finally:
        await store.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "bm.db"
    asyncio.run(build(path))
    return path


def invoke(db: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, [*args, "--db", str(db), "--config", str(db.parent / "none.toml")])
    return result.exit_code, result.output


def test_list_table_json_and_csv(db: Path) -> None:
    code, output = invoke(db, "list")
    assert code == 0
    assert "critical" in output and "Acme support is a scam" in output
    assert "\x1b" not in output
    code, output = invoke(db, "list", "--severity", "high", "--json")
    rows = json.loads(output)
    assert [(r["id"], r["severity"], r["mention_count"]) for r in rows] == [(1, "critical", 4)]
    code, output = invoke(db, "list", "--csv", "--brand", "acme")
    table = list(csv.DictReader(io.StringIO(output)))
    assert [r["id"] for r in table] == ["2", "1"]
    assert table[1]["platforms"] == "bluesky mastodon"


def test_list_hides_info_incidents_unless_asked(db: Path) -> None:
    code, output = invoke(db, "list", "--json")
    assert code == 0 and [r["id"] for r in json.loads(output)] == [2, 1]
    code, output = invoke(db, "list", "--all", "--json")
    assert [r["id"] for r in json.loads(output)] == [3, 2, 1]
    code, output = invoke(db, "list", "--severity", "info", "--json")
    assert [r["id"] for r in json.loads(output)] == [3, 2, 1]


def test_list_filters_and_bad_values(db: Path) -> None:
    assert invoke(db, "list", "--brand", "globex")[1].strip() == (
        "no incidents found (info incidents are hidden; --all shows them)"
    )
    code, output = invoke(db, "list", "--severity", "urgent")
    assert code == 1 and "unknown severity 'urgent'" in output
    code, output = invoke(db, "list", "--since", "yesterday-ish")
    assert code == 1 and "--since" in output


def test_show_explains_the_incident_without_terminal_escapes(db: Path) -> None:
    code, output = invoke(db, "show", "1")
    assert code == 0, output
    assert "\x1b" not in output and "\x07" not in output
    assert "[bold]boom[/]" in output  # markup in mention text is printed, not interpreted
    assert "31 authors on 3 platforms in 52 min" in output  # why
    assert "opened" in output and "timeline" in output
    assert "https://mastodon.example/post/4" in output  # top mention link (widest reach first)
    assert "mallory" in output
    assert "▁" in output and "█" in output  # growth sparklines
    assert "10k shares by 11:40" in output


def test_show_unknown_incident(db: Path) -> None:
    code, output = invoke(db, "show", "42")
    assert code == 1 and "no incident 42" in output


def test_ack_note_resolve_are_recorded_with_names(db: Path) -> None:
    code, output = invoke(db, "ack", "1", "--by", "dana", "--note", "on it")
    assert code == 0 and "acknowledged by dana" in output
    code, output = invoke(db, "ack", "1", "--by", "lee")
    assert code == 1 and "already acknowledged by dana" in output
    assert invoke(db, "note", "1", "press office informed", "--by", "lee")[0] == 0
    # Resolve routes like the daemon: this config asks for resolved alerts.
    config = db.parent / "config.toml"
    config.write_text(f'[[brands]]\nname = "acme"\n[alerting]\nsend_resolved = true\n'
                      f'[storage]\npath = "{db}"\n')
    result = runner.invoke(app, ["resolve", "1", "--by", "dana", "--config", str(config)])
    assert result.exit_code == 0 and "resolved" in result.output
    with sqlite3.connect(db) as conn:
        events = conn.execute(
            "SELECT kind, actor FROM incident_events WHERE incident_id = 1 ORDER BY id"
        ).fetchall()
        alerts = conn.execute(
            "SELECT reason FROM alerts WHERE incident_id = 1 ORDER BY id"
        ).fetchall()
    assert events == [("opened", "detector"), ("acknowledged", "dana"), ("note", "lee"),
                      ("resolved", "dana")]
    assert alerts[-1] == ("resolved",)
    data = json.loads(invoke(db, "show", "1", "--json")[1])
    assert data["incident"]["status"] == "resolved"
    assert data["events"][1]["detail"] == {"note": "on it"}


def test_missing_database_is_explained(tmp_path: Path) -> None:
    code, output = invoke(tmp_path / "nothing.db", "list")
    assert code == 1 and "no database at" in output
