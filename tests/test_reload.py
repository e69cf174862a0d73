"""Config reload without a restart: SIGHUP and POST /-/reload, under load, and refusals."""

from __future__ import annotations

import asyncio
import signal
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from monitor.config import load_config, parse_config
from monitor.records import Assessment, Mention, RiskFactor
from monitor.reload import ReloadPlan
from monitor.service import Service
from tests.alerting.dispatch_support import HOOK_SECRET, HOOK_SECRET_ENV, Receiver
from tests.connectors.replay_server import ReplayServer, Reply
from tests.test_service import wait_for
from tests.test_stop import Daemon

FEED = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
    "<item><title>{title}</title><link>https://n.example/{n}</link><guid>{n}</guid></item>"
    "</channel></rss>"
)


def write_config(path: Path, body: str) -> Path:
    path.write_text(textwrap.dedent(body))
    return path


def config_text(db: Path, hook: str, sources: str = "", routes: str = "") -> str:
    return f"""
        [[brands]]
        name = "Acme"
        {sources}
        [[channels]]
        kind = "webhook"
        name = "hook"
        url = "{hook}"
        secret = {{ env = "{HOOK_SECRET_ENV}" }}
        {routes}
        [alerting]
        group_wait = 0
        [storage]
        path = "{db}"
        [server]
        port = 0
    """


def rss_source(name: str, url: str) -> str:
    return f"""
        [[sources]]
        kind = "rss"
        name = "{name}"
        url = "{url}"
        interval = 3600
    """


def claim(n: int, mention_ids: list[int], at: Any) -> Assessment:
    return Assessment(
        brand="Acme", kind="viral_claim", key=f"claim:reload-{n}", category="health_safety",
        risk=0.72, severity="high",
        factors=[RiskFactor("harm", 0.74, "health/safety claim, confidence 0.91")],
        summary=f"Acme cola made people sick (claim {n})", mention_ids=mention_ids,
        author_count=3, platforms=["reddit"], at=at,
    )


def test_plan_names_what_changes_and_what_waits_for_a_restart() -> None:
    base = {
        "brands": [{"name": "Acme"}],
        "sources": [
            {"kind": "rss", "name": "a", "url": "https://a.example/feed"},
            {"kind": "rss", "name": "b", "url": "https://b.example/feed"},
        ],
    }
    old = parse_config(base)
    new = parse_config({
        "brands": [{"name": "Acme", "aliases": ["Acme Co"]}],
        "sources": [
            {"kind": "rss", "name": "b", "url": "https://b.example/other"},
            {"kind": "rss", "name": "c", "url": "https://c.example/feed"},
        ],
        "storage": {"path": "elsewhere.db"},
        "alerting": {"group_wait": 5},
    })
    plan = ReloadPlan.between(old, new)
    assert (plan.added, plan.removed, plan.changed) == (["c"], ["a"], ["b"])
    assert plan.brands and plan.alerting and plan.restart_only == ["storage"]
    assert "[storage]" in plan.summary()
    assert ReloadPlan.between(old, parse_config(base)).summary() == "no changes"


async def test_reload_under_load_keeps_every_queued_alert_and_applies_sources_and_routes(
    tmp_path: Path, aiohttp_server: Callable[..., Any], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(HOOK_SECRET_ENV, HOOK_SECRET)
    hold = asyncio.Event()
    receiver = Receiver(hold=hold)
    hook = await aiohttp_server(receiver.app())
    replay = ReplayServer(repeat_last=True)
    replay.add("/a.xml", Reply(body=FEED.format(title="Acme first", n=1).encode(),
                               content_type="application/rss+xml"))
    replay.add("/b.xml", Reply(body=FEED.format(title="Acme second", n=2).encode(),
                               content_type="application/rss+xml"))
    feeds = await aiohttp_server(replay.app())
    db = tmp_path / "bm.db"
    path = write_config(tmp_path / "config.toml", config_text(
        db, str(hook.make_url("/hook")), rss_source("first", str(feeds.make_url("/a.xml"))),
    ))
    service = Service(load_config(path), config_path=path)
    await service.start()
    try:
        now = service.clock.now()
        saved = await service.store.save_mentions([
            Mention(platform="reddit", external_id=f"t3_{n}", text=f"Acme cola made me sick {n}",
                    source="first", brands=("Acme",), published_at=now, fetched_at=now)
            for n in range(6)
        ])
        for n, mention in enumerate(saved):
            assert mention.id is not None
            await service.incidents.apply(claim(n, [mention.id], now))
        # Sends are in flight (the receiver holds them) and the rest queued behind them.
        await wait_for(lambda: receiver.handling > 0)

        # New config: the first source replaced by a second, a route that keeps the channel.
        write_config(path, config_text(
            db, str(hook.make_url("/hook")), rss_source("second", str(feeds.make_url("/b.xml"))),
            routes='[[routes]]\nname = "all-high"\nmin_severity = "high"\nchannels = ["hook"]',
        ))
        base = f"http://127.0.0.1:{service.http_port}"
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{base}/-/reload") as resp:
                body = await resp.json()
                assert resp.status == 200, body
        assert "sources added: second" in body["changes"]
        assert "sources removed: first" in body["changes"]
        assert set(service.runners) == {"second"}
        assert [r.name for r in service.router.routes] == ["all-high"]

        hold.set()
        await wait_for(lambda: len(set(receiver.keys)) == 6, timeout=30)
        await wait_for(lambda: bool(
            service.runners["second"].state and service.runners["second"].state.last_success
        ))
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/metrics") as resp:
                assert "brand_monitor_config_last_reload_successful 1.0" in await resp.text()
    finally:
        await service.stop()
    titles = {r["title"] for r in await _mentions(db)}
    assert "Acme second" in titles  # the added source was polled


async def _mentions(db: Path) -> list[dict[str, Any]]:
    from monitor.store import Store

    store = await Store(db).open()
    try:
        return await store.read(lambda d: list(d.sqlite.query("SELECT title FROM mentions")))
    finally:
        await store.close()


async def test_an_invalid_config_is_refused_and_the_daemon_keeps_the_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv(HOOK_SECRET_ENV, HOOK_SECRET)
    db = tmp_path / "bm.db"
    path = write_config(tmp_path / "config.toml", config_text(db, "http://127.0.0.1:9/hook"))
    service = Service(load_config(path), config_path=path)
    await service.start()
    try:
        before = service.config
        write_config(path, config_text(db, "http://127.0.0.1:9/hook").replace(
            "group_wait = 0", "group_wiat = 0"
        ))
        base = f"http://127.0.0.1:{service.http_port}"
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{base}/-/reload") as resp:
                body = await resp.json()
                assert resp.status == 400
            async with http.get(f"{base}/metrics") as resp:
                assert "brand_monitor_config_last_reload_successful 0.0" in await resp.text()
        assert any("group_wiat" in p for p in body["problems"]), body
        assert service.config is before
        assert "still running on the previous config" in caplog.text

        monkeypatch.delenv(HOOK_SECRET_ENV)  # valid TOML, but the channel cannot be built
        write_config(path, config_text(db, "http://127.0.0.1:9/other"))
        outcome = await service.reload()
        assert not outcome.ok and HOOK_SECRET_ENV in " ".join(outcome.problems)
        assert service.config is before
    finally:
        await service.stop()


def test_sighup_reloads_the_running_daemon_and_it_keeps_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(HOOK_SECRET_ENV, HOOK_SECRET)
    db = tmp_path / "bm.db"
    path = write_config(tmp_path / "config.toml", config_text(db, "http://127.0.0.1:9/hook"))
    daemon = Daemon(path)
    try:
        daemon.wait_for("brand-monitor started")
        write_config(path, config_text(
            db, "http://127.0.0.1:9/hook", rss_source("late", "http://127.0.0.1:9/feed"),
        ))
        daemon.proc.send_signal(signal.SIGHUP)
        daemon.wait_for("config reloaded")
        assert daemon.proc.poll() is None
        assert daemon.terminate(timeout=30) < 30
    finally:
        daemon.kill()
    out = "".join(daemon.lines)
    assert "sources added: late" in out and "Traceback" not in out, out
