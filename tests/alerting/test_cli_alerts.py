"""The alert CLI through typer's CliRunner, against a temporary database and a real receiver."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from aiohttp import web
from typer.testing import CliRunner

from monitor import cli_alerts, cli_common
from monitor.alerting import outbox
from monitor.store import Store
from tests.alerting.dispatch_support import HOOK_SECRET, HOOK_SECRET_ENV, Receiver, insert_incident

cli = CliRunner(env={"COLUMNS": "250"})
app = typer.Typer()
# Mounted exactly as monitor/cli.py does.
app.add_typer(cli_alerts.alerts_app, name="alerts")
app.add_typer(cli_alerts.silence_app, name="silence")
app.command("test-alert")(cli_alerts.test_alert)


@pytest.fixture
def receiver_url() -> Iterator[tuple[Receiver, str]]:
    """A webhook receiver on its own thread and loop (the CLI runs its own asyncio.run)."""
    receiver = Receiver()
    loop = asyncio.new_event_loop()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    runner = web.AppRunner(receiver.app())
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.SockSite(runner, sock).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield receiver, f"http://127.0.0.1:{port}/hook"
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(5)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


def make_config(tmp_path: Path, url: str = "http://127.0.0.1:9/hook") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[[brands]]
name = "Acme"

[storage]
path = "{tmp_path / 'bm.db'}"

[[channels]]
kind = "webhook"
name = "hook"
url = "{url}"
secret = {{ env = "{HOOK_SECRET_ENV}" }}
timeout = "5s"
""",
        encoding="utf-8",
    )
    return path


def seed_alerts(db: Path) -> tuple[int, int]:
    """One failed and one sent alert."""
    now = datetime.now(UTC)

    async def run() -> tuple[int, int]:
        store = await Store(db).open()

        def write(d: object) -> tuple[int, int]:
            incident = insert_incident(d, now)  # type: ignore[arg-type]
            [failed] = outbox.enqueue_alert(d, incident_id=incident, reason="opened",  # type: ignore[arg-type]
                                            severity="high", channels=["hook"], now=now)
            [sent] = outbox.enqueue_alert(d, incident_id=incident, reason="resolved",  # type: ignore[arg-type]
                                          severity="high", channels=["hook"], now=now)
            d.outbox.mark_failed(failed, now, "hook answered HTTP 400: bad payload")  # type: ignore[attr-defined]
            d.outbox.mark_sent(sent, now, "delivered", None)  # type: ignore[attr-defined]
            return failed, sent

        try:
            return await store.transaction(write)
        finally:
            await store.close()

    return asyncio.run(run())


def test_alerts_list_and_retry_requeues_a_failed_alert(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(HOOK_SECRET_ENV, HOOK_SECRET)
    config = make_config(tmp_path)
    failed, sent = seed_alerts(tmp_path / "bm.db")
    result = cli.invoke(app, ["alerts", "list", "--status", "failed", "--json", "-c", str(config)])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [(r["id"], r["last_error"]) for r in rows] == [
        (failed, "hook answered HTTP 400: bad payload")
    ]
    result = cli.invoke(app, ["alerts", "list", "-c", str(config)])
    assert "HTTP 400" in result.output and "sent" in result.output

    result = cli.invoke(app, ["alerts", "retry", str(failed), "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert "queued again" in result.output
    result = cli.invoke(app, ["alerts", "list", "--status", "pending", "--json", "-c", str(config)])
    assert [r["id"] for r in json.loads(result.output)] == [failed]

    result = cli.invoke(app, ["alerts", "retry", str(sent), "-c", str(config)])
    assert result.exit_code == 1 and "only failed or silenced" in result.output
    result = cli.invoke(app, ["alerts", "retry", "999", "-c", str(config)])
    assert result.exit_code == 1 and "no alert with id 999" in result.output
    result = cli.invoke(app, ["alerts", "list", "--status", "bogus", "-c", str(config)])
    assert result.exit_code == 1 and "use one of" in result.output


def test_silence_add_list_remove(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(HOOK_SECRET_ENV, HOOK_SECRET)
    config = make_config(tmp_path)
    seed_alerts(tmp_path / "bm.db")
    result = cli.invoke(app, ["silence", "add", "--brand", "Acme", "--category", "health_safety",
                              "--for", "2h", "--reason", "known recall, PR handling it",
                              "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert "muted until" in result.output
    result = cli.invoke(app, ["silence", "list", "--json", "-c", str(config)])
    [silence] = json.loads(result.output)
    assert silence["brand"] == "Acme" and silence["category"] == "health_safety"
    assert silence["active"] is True

    bad = cli.invoke(app, ["silence", "add", "--brand", "Acme", "--for", "soon",
                           "--reason", "x", "-c", str(config)])
    assert bad.exit_code == 1 and "--for" in bad.output
    bad = cli.invoke(app, ["silence", "add", "--brand", "Acme", "--category", "weather",
                           "--for", "1h", "--reason", "x", "-c", str(config)])
    assert bad.exit_code == 1 and "unknown category" in bad.output

    result = cli.invoke(app, ["silence", "remove", str(silence["id"]), "-c", str(config)])
    assert result.exit_code == 0, result.output
    result = cli.invoke(app, ["silence", "list", "-c", str(config)])
    assert "no active silences" in result.output


def test_test_alert_reports_success_and_the_exact_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, receiver_url: tuple[Receiver, str]
) -> None:
    receiver, url = receiver_url
    monkeypatch.setenv(HOOK_SECRET_ENV, HOOK_SECRET)
    config = make_config(tmp_path, url)
    result = cli.invoke(app, ["test-alert", "--channel", "hook", "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert "test alert sent to hook" in result.output
    [request] = receiver.requests
    assert request["reason"] == "test" and "TEST ALERT" in request["incident"]["summary"]

    receiver.script = [(503, {})]
    result = cli.invoke(app, ["test-alert", "--channel", "hook", "-c", str(config)])
    assert result.exit_code == 1
    assert "failed" in result.output and "HTTP 503" in result.output

    result = cli.invoke(app, ["test-alert", "--channel", "nope", "-c", str(config)])
    assert result.exit_code == 1 and "configured: hook" in result.output


def test_silence_for_an_unknown_brand_is_refused_with_the_closest_name(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    config.write_text(config.read_text().replace('name = "Acme"', 'name = "Brightwater"'))
    seed_alerts(tmp_path / "bm.db")
    result = cli.invoke(app, ["silence", "add", "--brand", "Brightwatr", "--for", "1h",
                              "--reason", "typo", "-c", str(config)])
    assert result.exit_code == 1
    assert "no brand named 'Brightwatr' in the config; did you mean 'Brightwater'?" in (
        result.output
    )
    # Brands match case-insensitively and are stored as configured.
    result = cli.invoke(app, ["silence", "add", "--brand", "brightwater", "--for", "1h30m",
                              "--reason", "statement out", "-c", str(config)])
    assert result.exit_code == 0, result.output
    [silence] = json.loads(cli.invoke(app, ["silence", "list", "--json", "-c", str(config)]).stdout)
    assert silence["brand"] == "Brightwater"
    assert silence["created_by"] == cli_common.os_user()
    starts = datetime.fromisoformat(silence["starts_at"].replace("Z", "+00:00"))
    ends = datetime.fromisoformat(silence["ends_at"].replace("Z", "+00:00"))
    assert 5399 <= (ends - starts).total_seconds() <= 5401
    assert silence["ends_at"].endswith("Z") and len(silence["ends_at"]) == 20


def test_retry_of_an_alert_held_by_a_silence_says_so(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    now = datetime.now(UTC)

    async def seed() -> int:
        store = await Store(tmp_path / "bm.db").open()

        def write(d: Any) -> int:
            incident = insert_incident(d, now)
            [alert] = outbox.enqueue_alert(d, incident_id=incident, reason="opened",
                                           severity="high", channels=["hook"], now=now)
            d.outbox.mark_silenced(alert, "silenced by silence 1")
            return alert

        try:
            return await store.transaction(write)
        finally:
            await store.close()

    alert = asyncio.run(seed())
    result = cli.invoke(app, ["silence", "add", "--brand", "Acme", "--for", "2h",
                              "--reason", "recall statement", "-c", str(config)])
    assert result.exit_code == 0, result.output
    result = cli.invoke(app, ["alerts", "retry", str(alert), "-c", str(config)])
    assert result.exit_code == 1
    assert f"alert {alert} is silenced by silence 1 until" in result.output
    assert "(recall statement)" in result.output and "silence remove 1" in result.output
    assert "queued" not in result.output
    [row] = json.loads(cli.invoke(app, ["alerts", "list", "--json", "-c", str(config)]).stdout)
    assert row["status"] == "silenced"

    assert cli.invoke(app, ["silence", "remove", "1", "-c", str(config)]).exit_code == 0
    result = cli.invoke(app, ["alerts", "retry", str(alert), "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert "queued again" in result.output


def test_every_waiting_alert_says_what_it_waits_for(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    now = datetime.now(UTC)
    soon = now + timedelta(minutes=20)

    async def seed() -> dict[str, int]:
        store = await Store(tmp_path / "bm.db").open()

        def write(d: Any) -> dict[str, int]:
            first, second, third = (insert_incident(d, now) for _ in range(3))
            ids: dict[str, int] = {}
            [ids["group"]] = outbox.enqueue_alert(d, incident_id=first, reason="opened",
                                                  severity="high", channels=["hook"], now=now,
                                                  delay=600)
            # An escalation due now waits behind the opened alert's group wait.
            [ids["behind"]] = outbox.enqueue_alert(d, incident_id=first, reason="escalated",
                                                   severity="critical", channels=["hook"],
                                                   now=now - timedelta(minutes=1))
            [ids["quiet"]] = outbox.enqueue_alert(d, incident_id=second, reason="escalated",
                                                  severity="critical", channels=["hook"], now=now)
            d.outbox.postpone(ids["quiet"], soon, f"quiet hours: held until {soon}")
            [ids["backoff"]] = outbox.enqueue_alert(d, incident_id=third, reason="opened",
                                                    severity="high", channels=["hook"], now=now)
            d.sqlite.execute("UPDATE alerts SET attempts = 2 WHERE id = ?", [ids["backoff"]])
            d.outbox.mark_retry(ids["backoff"], now, "hook answered HTTP 503", soon)
            [ids["due"]] = outbox.enqueue_alert(d, incident_id=third, reason="reminder",
                                                severity="high", channels=["mail"],
                                                now=now - timedelta(minutes=5))
            return ids

        try:
            return await store.transaction(write)
        finally:
            await store.close()

    ids = asyncio.run(seed())
    result = cli.invoke(app, ["alerts", "list", "--json", "-c", str(config)])
    assert result.exit_code == 0, result.output
    waiting = {row["id"]: row["waiting_for"] for row in json.loads(result.stdout)}
    until = cli_common.table_time(now + timedelta(minutes=10))
    assert waiting[ids["group"]] == f"group wait until {until}"
    assert waiting[ids["behind"]] == f"group wait of alert {ids['group']} until {until}"
    assert waiting[ids["quiet"]] == f"quiet hours until {cli_common.table_time(soon)}"
    assert waiting[ids["backoff"]] == (
        f"backoff until {cli_common.table_time(soon)} (attempt 2 failed)"
    )
    assert waiting[ids["due"]].startswith("due: the running daemon sends it")
    table = cli.invoke(app, ["alerts", "list", "-c", str(config)]).output
    assert f"quiet hours until {cli_common.table_time(soon)}" in table
    csv_out = cli.invoke(app, ["alerts", "list", "--csv", "-c", str(config)]).stdout
    assert csv_out.splitlines()[0].startswith("id,incident_id,channel,reason,severity,status,")
