"""Replay and backtest through the CLI, on the live pipeline with the real models."""

from __future__ import annotations

import json
import random
import sqlite3
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.replay import ReplayError, read_records

cli = CliRunner(env={"COLUMNS": "250"})
START = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
VIDEO = "https://video.example/watch?v=kestrel-sick"
CHATTER = [
    "Kestrel bars with my morning coffee, good start to the day",
    "Trying the new Kestrel oat flavour on the hike today",
    "Kestrel snack bars are on offer at the corner shop this week",
    "Packed Kestrel bars for the kids' football trip",
]
CLAIM = [
    "My kids got food poisoning from Kestrel bars, vomiting all night. Watch {video}",
    "Kestrel bars made my daughter sick, she was in hospital with food poisoning {video}",
    "Two of us sick after eating Kestrel bars yesterday, food poisoning for sure",
]


def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(textwrap.dedent(f"""
        [[brands]]
        name = "Kestrel"
        [server]
        enabled = false
        [storage]
        path = "{tmp_path / 'live.db'}"
    """))
    return path


def line(n: int, text: str, minutes: float, platform: str, reach: int, **extra: object) -> str:
    at = START + timedelta(minutes=minutes)
    record = {"id": f"{platform}-{n}", "platform": platform, "text": text,
              "url": f"https://{platform}.example/p/{n}", "author": f"user{n}",
              "author_reach": reach, "published_at": at.isoformat(), **extra}
    return json.dumps(record)


def scenario(tmp_path: Path) -> Path:
    """Six hours of chatter; from hour 3, one claim from 36 authors on three platforms."""
    rng = random.Random(3)
    lines = [line(n, rng.choice(CHATTER) + f" #{n}", n * 6, "rss", 200) for n in range(60)]
    for k in range(36):
        minutes = 180 + k * 2
        snapshots = [{"at": (START + timedelta(minutes=minutes + 10 * j)).isoformat(),
                      "shares": 20 * j * (k + 1), "likes": 50 * j * (k + 1)} for j in range(1, 4)]
        lines.append(line(100 + k, CLAIM[k % 3].format(video=VIDEO), minutes,
                          ["x", "reddit", "bluesky"][k % 3], 500 + 300 * k,
                          engagement=snapshots))
    path = tmp_path / "mentions.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    tmp_path = tmp_path_factory.mktemp("replay")
    result = cli.invoke(app, ["replay", "--input", str(scenario(tmp_path)), "--config",
                              str(config(tmp_path)), "--db", str(tmp_path / "replay.db"),
                              "--json"])
    assert result.exit_code == 0, result.output
    return tmp_path, json.loads(result.stdout)


def test_replay_opens_the_claim_incident_with_reasons_and_timeline(
    replayed: tuple[Path, dict],
) -> None:
    _tmp, report = replayed
    assert report["records"] == 96 and report["stored"] == 96 and report["scored"] == 96
    assert report["mentions_per_second"] > 0
    [incident] = report["incidents"]
    assert incident["kind"] == "viral_claim" and incident["category"] == "health_safety"
    assert incident["severity"] in ("high", "critical")
    assert set(incident["platforms"]) == {"x", "reddit", "bluesky"}
    opened = datetime.fromisoformat(incident["opened_at"].replace("Z", "+00:00"))
    assert START + timedelta(hours=3) <= opened <= START + timedelta(hours=3, minutes=30)
    events = [e["event"] for e in incident["timeline"]]
    assert events[0] == "opened" and "resolved" in events  # the quiet period passed in the tail
    assert {f["factor"] for f in incident["why"]} >= {"harm", "spread", "reach", "velocity"}
    assert any(a["reason"] == "opened" and a["channel"] == "console" for a in report["alerts"])


def test_replay_text_report_names_severity_and_why(tmp_path: Path) -> None:
    result = cli.invoke(app, ["replay", "--input", str(scenario(tmp_path)), "--config",
                              str(config(tmp_path))])
    assert result.exit_code == 0, result.output
    assert "viral_claim Kestrel [health_safety]" in result.stdout
    [why] = [line for line in result.stdout.splitlines() if line.strip().startswith("why:")]
    assert "asserts health/safety harm" in why and "authors on 3 platforms" in why
    assert "mentions/s" in result.stdout


def test_backtest_over_stored_mentions_finds_the_same_incident(
    replayed: tuple[Path, dict], tmp_path: Path
) -> None:
    source, report = replayed
    result = cli.invoke(app, ["backtest", "--since", "2026-11-01", "--config",
                              str(config(source)), "--db", str(source / "replay.db"), "--json"])
    assert result.exit_code == 0, result.output
    again = json.loads(result.stdout)
    assert again["records"] == 96
    assert [(i["kind"], i["severity"], i["opened_at"]) for i in again["incidents"]] == [
        (i["kind"], i["severity"], i["opened_at"]) for i in report["incidents"]
    ]


def test_replay_refuses_a_database_it_did_not_create(tmp_path: Path) -> None:
    live = tmp_path / "live.db"
    sqlite3.connect(live).execute("CREATE TABLE mentions (id INTEGER)").connection.commit()
    result = cli.invoke(app, ["replay", "--input", str(scenario(tmp_path)), "--config",
                              str(config(tmp_path)), "--db", str(live)])
    assert result.exit_code == 1
    assert "was not created by replay" in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"id": "1", "platform": "x", "text": "hi", "published_at": "2026-11-02T08:00:00Z"}\n'
         b'{"id": "2", "platform": "x", "text": "hi"}\n', "line 2: published_at: Field required"),
        (b'{"id": "1", "platform": "x", "text": "hi", "published_at": "2026-11-02T08:00:00"}\n',
         "line 1: published_at: Input should have timezone info"),
        (b'not json\n', "line 1"),
        (b'{"id": "1", "platform": "x", "text": "hi", "published_at": "2026-11-02T08:00:00Z",'
         b' "likes": 3}\n', "line 1: likes: Extra inputs are not permitted"),
        (b'\xff\xfe garbage', "is not UTF-8 text"),
        (b"\n\n", "holds no mentions"),
    ],
)
def test_bad_input_is_reported_with_its_line(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    with pytest.raises(ReplayError, match=message.replace("(", r"\(")):
        read_records(path)
    result = cli.invoke(app, ["replay", "--input", str(path), "--config", str(config(tmp_path))])
    assert result.exit_code == 1 and "error:" in result.output
