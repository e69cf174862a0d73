"""The alert CLI through typer's CliRunner, against a temporary database and a real receiver."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from aiohttp import web
from typer.testing import CliRunner

from monitor import cli_alerts
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
            outbox.mark_failed(d, failed, now, "hook answered HTTP 400: bad payload")  # type: ignore[arg-type]
            outbox.mark_sent(d, sent, now, "delivered", None)  # type: ignore[arg-type]
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
