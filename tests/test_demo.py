"""`brand-monitor demo`: the scripted day through the real daemon, as a user runs it."""

from __future__ import annotations

import json
import mailbox
import sqlite3
from collections import defaultdict
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from blockbuster import BlockBuster
from typer.testing import CliRunner

# The daemon imports these on first use; importing them here keeps the file reads of an import
# from counting as blocking I/O on the event loop (the `no_blocking` fixture below).
import connectors.bluesky
import connectors.bluesky_stream
import connectors.mastodon
import connectors.reddit
import connectors.rss
import connectors.x
import connectors.youtube  # noqa: F401
import monitor.demo.run
import monitor.service
import monitor.virtual  # noqa: F401
from models.scorer import Scorer
from models.settings import ModelsConfig
from monitor.cli import app
from monitor.demo.platforms import on_jetstream
from monitor.demo.script import DAY_START, VIDEO_URL, scripted_day
from monitor.pipeline import clean_text

HARM = ("video", "harm", "harm_news")
POSITIVE = ("launch", "launch_news")


def test_scripted_texts_get_the_labels_the_story_needs() -> None:
    """Chatter is harmless, the launch is happy, complaints are unhappy, the claim is harm."""
    scorer = Scorer.from_config(ModelsConfig(threads=1))
    texts: dict[str, set[str]] = defaultdict(set)
    for post in scripted_day():
        texts[post.kind].add(clean_text(post.text))
    assert set(texts) == {"chatter", "launch", "launch_news", "complaint", *HARM}
    wrong = []
    for kind, group in texts.items():
        ordered = sorted(group)
        for text, score in zip(ordered, scorer.score(ordered), strict=True):
            if kind in HARM:
                ok = score.harm_category == "health_safety" and score.harm_confidence >= 0.5
            elif kind in POSITIVE:
                ok = score.sentiment == "positive" and score.harm_category == "none"
            elif kind == "complaint":
                ok = score.sentiment == "negative" and score.harm_category == "none"
            else:
                ok = score.sentiment != "negative" and score.harm_category == "none"
            if not ok:
                wrong.append(f"{kind}: {score.sentiment} {score.harm_category} "
                             f"{score.harm_confidence:.2f}: {text}")
    assert not wrong, "\n".join(wrong)


def test_the_day_is_the_same_on_every_run() -> None:
    first, second = scripted_day(), scripted_day()
    assert [(p.platform, p.text, p.published_at) for p in first] == [
        (p.platform, p.text, p.published_at) for p in second
    ]
    harm = [p for p in first if p.kind in HARM]
    assert {p.platform for p in harm} >= {"x", "reddit", "bluesky", "mastodon", "news", "youtube"}
    assert all(VIDEO_URL in p.text for p in harm if p.kind != "video")
    assert any("\x1b" in p.text for p in harm)  # the hostile post is part of the day


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute(sql).fetchall()


def test_demo_command_plays_the_claim_and_the_launch(
    tmp_path: Path, no_blocking: BlockBuster
) -> None:
    # Nothing on the event loop may block (the feed server, the mailbox, the daemon's jobs),
    # except closing the store at the very end, which waits for its writer thread.
    for function in no_blocking.functions.values():
        function.can_block_in("monitor/store/sqlite.py", "close")
    out_dir = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--out", str(out_dir), "--hours", "5"])
    output = result.output
    assert result.exit_code == 0, output
    db = out_dir / "brand-monitor.db"

    # The harm claim became one incident for Kestrel, high or critical, across platforms.
    claims = _rows(db, "SELECT id, severity, category, platforms FROM incidents "
                       "WHERE brand = 'Kestrel' AND kind = 'viral_claim'")
    assert len(claims) == 1
    incident_id, severity, category, platforms = claims[0]
    assert severity in ("high", "critical") and category == "health_safety"
    assert {"youtube", "x", "reddit", "bluesky"} <= set(json.loads(str(platforms)))
    # Half the Bluesky posts came only over the live stream (Jetstream): each was stored once,
    # by the bluesky_stream source, within its next poll; search brought the other half.
    by_source = dict(_rows(db, "SELECT source, count(*) FROM mentions "
                               "WHERE platform = 'bluesky' GROUP BY source"))
    end = DAY_START + timedelta(hours=5)
    streamed = [p for p in scripted_day() if on_jetstream(p) and p.published_at <= end]
    streamed_due = [p for p in streamed if p.published_at <= end - timedelta(minutes=2)]
    assert len(streamed_due) <= by_source.get("bluesky-live", 0) <= len(streamed)
    assert len(streamed_due) >= 10 and by_source.get("bluesky", 0) >= 10
    stream_lags = _rows(db, "SELECT (julianday(fetched_at) - julianday(published_at)) * 1440 "
                            "FROM mentions WHERE source = 'bluesky-live'")
    assert all(0 <= float(str(lag)) <= 2 for (lag,) in stream_lags)  # minutes
    assert "bluesky_stream 1)" in output or "bluesky_stream 1," in output  # one connection
    # The launch happened (happy posts stored) and raised nothing above info.
    launch = _rows(db, "SELECT count(*) FROM mentions m JOIN mention_brands b "
                       "ON b.mention_id = m.id JOIN scores s ON s.mention_id = m.id "
                       "WHERE b.brand = 'Voltra' AND s.sentiment = 'positive'")
    assert launch[0][0] >= 20
    assert _rows(db, "SELECT severity FROM incidents WHERE brand = 'Voltra' "
                     "AND severity != 'info'") == []
    # Every post reached the daemon once, by its source's next poll (the longest interval is
    # 15 minutes) and never before its time.
    day = scripted_day()
    due = sum(1 for p in day if p.published_at <= end - timedelta(minutes=16))
    published = sum(1 for p in day if p.published_at <= end)
    stored = len(_rows(db, "SELECT id FROM mentions"))
    assert due <= stored <= published
    assert f"{published} posts published, {stored} mentions stored" in output
    lags = _rows(db, "SELECT (julianday(fetched_at) - julianday(published_at)) * 1440 "
                     "FROM mentions")
    assert all(0 <= float(str(lag)) <= 16 for (lag,) in lags)  # minutes
    # Engagement refresh saw the video grow.
    views = _rows(db, "SELECT e.views FROM engagement e JOIN mentions m ON m.id = e.mention_id "
                      "WHERE m.platform = 'youtube' ORDER BY e.observed_at")
    assert len(views) >= 3 and views[-1][0] > views[0][0]

    # Every alert went out; the emails sit in the capture mailbox with the incident.
    alerts = _rows(db, "SELECT channel, status FROM alerts")
    assert alerts and {status for _, status in alerts} <= {"sent", "merged"}
    emails_sent = sum(1 for channel, status in alerts if channel == "email" and status == "sent")
    box = mailbox.mbox(out_dir / "alerts.mbox", create=False)
    messages = [message_from_bytes(box.get_bytes(k), policy=policy.default) for k in box.keys()]
    box.close()
    assert len(messages) == emails_sent >= 1
    for message in messages:
        assert message["X-Brand-Monitor-Incident"] == str(incident_id)
        assert message["Subject"].startswith(("[MEDIUM] Kestrel:", "[HIGH] Kestrel:",
                                              "[CRITICAL] Kestrel:"))
    assert any(m["Subject"].startswith(f"[{severity.upper()}] Kestrel:") for m in messages)

    # What the user sees: alerts as they happen, then the incidents and where alerts went.
    assert f"{severity.upper()} · Kestrel · viral claim · health/safety" in output
    assert "Tue 09:00 UTC" in output
    assert "Incidents" in output and "Where the alerts went" in output
    assert "comms-team@demo.example" in output
    assert f"{len(messages)} message(s) in the capture mailbox" in output
    assert f"brand-monitor incidents show {incident_id} --db {db}" in output
    # Mention text reaches the terminal inert: no escape or other control characters.
    assert not [c for c in output if (ord(c) < 32 and c != "\n") or 0x7F <= ord(c) <= 0x9F]


def test_demo_refuses_a_directory_holding_an_earlier_run(tmp_path: Path) -> None:
    (tmp_path / "brand-monitor.db").write_bytes(b"")
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path), "--hours", "1"])
    assert result.exit_code == 1
    assert "already exists" in result.output


@pytest.mark.parametrize("hours", ["0", "25"])
def test_demo_refuses_hours_outside_the_day(tmp_path: Path, hours: str) -> None:
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path), "--hours", hours])
    assert result.exit_code == 2
