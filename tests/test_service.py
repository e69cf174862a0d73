"""The daemon as a whole: health, metrics, graceful stop, one daemon per database."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from monitor.config import parse_config
from monitor.service import Service
from tests.connectors.replay_server import ReplayServer, Reply

FEED = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
    "<item><title>Acme skates recalled</title><link>https://n.example/1</link><guid>1</guid></item>"
    "</channel></rss>"
)


def config_for(tmp_path: Path, feed_url: str, port: int = 0) -> dict[str, Any]:
    return {
        "brands": [{"name": "Acme"}],
        "sources": [
            {"kind": "rss", "name": "news", "url": feed_url, "interval": 3600},
            {"kind": "rss", "name": "dead", "url": "http://127.0.0.1:9/feed", "interval": 3600},
        ],
        "storage": {"path": str(tmp_path / "bm.db")},
        "server": {"port": port},
        "polling": {"backoff_initial": 60},
    }


async def wait_for(
    predicate: Callable[[], bool],
    timeout: float = 15.0,  # noqa: ASYNC109 - a test helper polling a condition with a deadline
) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def test_health_metrics_and_graceful_stop(
    tmp_path: Path, aiohttp_server: Callable[..., Any]
) -> None:
    replay = ReplayServer(repeat_last=True)
    replay.add("/feed.xml", Reply(body=FEED.encode(), content_type="application/rss+xml"))
    feed = await aiohttp_server(replay.app())
    service = Service(parse_config(config_for(tmp_path, str(feed.make_url("/feed.xml")))))
    await service.start()
    try:
        await wait_for(lambda: all(
            r.state and (r.state.last_success or r.state.consecutive_failures)
            for r in service.runners.values()
        ))
        base = f"http://127.0.0.1:{service.http_port}"
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{base}/healthz") as resp:
                body = await resp.json()
                assert resp.status == 200
                assert body["sources"]["news"]["health"] == "ok"
                assert body["sources"]["dead"]["health"] == "failing"  # unreachable, reported
            async with session.get(f"{base}/metrics") as resp:
                text = await resp.text()
                ingested = 'brand_monitor_mentions_ingested_total{brand="Acme",source="news"} 1.0'
                assert ingested in text
                assert 'brand_monitor_source_healthy{source="dead"} 0.0' in text
                assert "brand_monitor_store_write_seconds_bucket" in text
    finally:
        await service.stop()
        await service.stop()  # idempotent
    assert service.store._closed


def _run_daemon(config: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "monitor", "run", "--config", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )


def _wait_for_line(proc: subprocess.Popen[str], needle: str, timeout: float = 60) -> list[str]:
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if needle in line:
            return lines
    raise AssertionError(f"{needle!r} not seen; output was:\n{''.join(lines)}")


def test_sigterm_stops_cleanly_and_second_daemon_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(textwrap.dedent(f"""
        [[brands]]
        name = "Acme"
        [[sources]]
        kind = "rss"
        name = "dead"
        url = "http://127.0.0.1:9/feed"
        [storage]
        path = "{tmp_path / 'bm.db'}"
        [server]
        port = 0
    """))
    first = _run_daemon(config)
    try:
        _wait_for_line(first, "brand-monitor started")
        second = subprocess.run(
            [sys.executable, "-m", "monitor", "run", "--config", str(config)],
            capture_output=True, text=True, timeout=60,
        )
        assert second.returncode != 0
        assert "another brand-monitor daemon" in second.stderr
        assert f"pid {first.pid}" in second.stderr
        first.send_signal(signal.SIGTERM)
        rest = _wait_for_line(first, "brand-monitor stopped", timeout=30)
        assert first.wait(timeout=30) == 0
        assert not any("Traceback" in line for line in rest), "".join(rest)
    finally:
        if first.poll() is None:
            first.kill()
