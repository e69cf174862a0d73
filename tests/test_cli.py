"""The CLI through its real entry point against a temporary database."""

from __future__ import annotations

import asyncio
import json
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from monitor.cli import app
from monitor.records import Mention
from monitor.store import SourceState, Store

NOW = datetime.now(UTC)
cli = CliRunner(env={"COLUMNS": "250"})


def make_config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(textwrap.dedent(f"""
        [[brands]]
        name = "Acme"
        [[sources]]
        kind = "rss"
        name = "news"
        url = "https://news.example/feed"
        [[sources]]
        kind = "rss"
        name = "blog"
        url = "https://blog.example/feed"
        enabled = false
        [storage]
        path = "{tmp_path / 'bm.db'}"
    """))
    return path


def seed(db: Path) -> None:
    async def run() -> None:
        store = await Store(db).open()
        await store.save_mentions([
            Mention(platform="rss", external_id="1", source="news", fetched_at=NOW,
                    text="Acme skates made me sick \x1b[31mRED\x1b[0m [bold]x[/bold]",
                    url="https://n.example/1", brands=("Acme",), published_at=NOW),
            Mention(platform="rss", external_id="2", source="news", fetched_at=NOW,
                    text="Acme launch party was fun", brands=("Acme",),
                    published_at=NOW - timedelta(days=3)),
        ])
        await store.save_source_state(SourceState(
            name="news", kind="rss", last_success=NOW - timedelta(minutes=5),
            consecutive_failures=2, last_error="HTTP 500 from https://news.example/feed",
        ))
        await store.close()

    asyncio.run(run())


def test_check_config_ok_and_errors(tmp_path: Path) -> None:
    good = make_config(tmp_path)
    result = cli.invoke(app, ["check-config", str(good)])
    assert result.exit_code == 0, result.output
    assert "1 enabled, 1 disabled" in result.output
    bad = tmp_path / "bad.toml"
    bad.write_text('[[brands]]\nname = "Acme"\n[storage]\nretension_days = 3\n')
    result = cli.invoke(app, ["check-config", str(bad)])
    assert result.exit_code == 2
    assert "storage.retension_days: unknown key" in result.output


def test_mentions_search(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    seed(tmp_path / "bm.db")
    result = cli.invoke(app, ["mentions", "search", "sick", "--config", str(config), "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["external_id"] for r in rows] == ["1"]
    result = cli.invoke(app, ["mentions", "search", "acme", "--since", "24h", "-c", str(config)])
    assert result.exit_code == 0
    assert "made me sick" in result.output and "launch party" not in result.output
    assert "\x1b" not in result.output  # terminal escapes from mention text are stripped
    assert "[bold]x[/bold]" in result.output  # rich markup in mention text stays inert


def test_malformed_search_is_one_clear_line(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    seed(tmp_path / "bm.db")
    result = cli.invoke(app, ["mentions", "search", '"oops', "-c", str(config)])
    assert result.exit_code == 1
    assert "cannot search for" in result.output
    assert "Traceback" not in result.output


def test_search_without_database_says_so(tmp_path: Path) -> None:
    result = cli.invoke(app, ["mentions", "search", "x", "-c", str(make_config(tmp_path))])
    assert result.exit_code == 1 and "no database at" in result.output


def test_sources_shows_health(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    seed(tmp_path / "bm.db")
    result = cli.invoke(app, ["sources", "-c", str(config), "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert rows["news"]["health"] == "failing"
    assert rows["news"]["last_error"].startswith("HTTP 500")
    assert rows["blog"]["health"] == "disabled"


def test_detect_volume_writes_scores_and_alerts(tmp_path: Path) -> None:
    rows = ["timestamp,value"]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(3 * 288):  # three quiet days, then a burst
        rows.append(f"{(start + timedelta(minutes=5 * i)).isoformat()},{2 if i % 3 else 1}")
    rows.append(f"{(start + timedelta(minutes=5 * 3 * 288)).isoformat()},60")
    source = tmp_path / "in.csv"
    source.write_text("\n".join(rows) + "\n")
    result = cli.invoke(app, ["detect", "volume", "--input", str(source),
                              "--output", str(tmp_path / "out.csv")])
    assert result.exit_code == 0, result.output
    lines = (tmp_path / "out.csv").read_text().splitlines()
    assert lines[0] == "timestamp,value,anomaly_score,alert"
    alerts = [line for line in lines[1:] if line.endswith(",1")]
    assert alerts and alerts[-1].split(",")[1] == "60"  # the burst, and only the burst at the end
    assert len(alerts) == 1
