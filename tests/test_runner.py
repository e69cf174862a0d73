"""SourceRunner against a real local feed server: cursor, validators, backoff, 429, auth, health."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.base import connector_class
from monitor.clock import VirtualClock
from monitor.config import BrandConfig, PollingConfig, SourceConfig
from monitor.httpclient import HttpClient, HttpLimits
from monitor.matching import BrandMatcher
from monitor.metrics import Metrics
from monitor.pipeline import Pipeline
from monitor.runner import SourceRunner, health_of
from monitor.store import Store
from tests.connectors.replay_server import ReplayServer, Reply

START = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>News</title><link>https://news.example/</link>
<item><title>Acme recalls rocket skates</title><link>https://news.example/1</link>
<guid>n1</guid><pubDate>Fri, 20 Nov 2026 10:00:00 +0000</pubDate>
<description>Regulators say &lt;b&gt;Acme&lt;/b&gt; skates overheat.</description></item>
<item><title>Weather today</title><link>https://news.example/2</link><guid>n2</guid>
<description>Sunny, nothing about brands.</description></item>
<item><title>Roadrunner Foods opens a plant</title><link>https://news.example/3?utm_source=rss</link>
<guid>n3</guid><pubDate>Fri, 20 Nov 2026 11:00:00 +0100</pubDate></item>
</channel></rss>"""


def rss(status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status=status, body=FEED.encode(), headers=headers or {},
                 content_type="application/rss+xml")


class Rig:
    """A runner for one RSS source, with its store and a virtual clock."""

    def __init__(self, store: Store, url: str, name: str = "news") -> None:
        self.clock = VirtualClock(START)
        self.store = store
        self.http = HttpClient(HttpLimits(total_timeout=5))
        self.metrics = Metrics()
        brands = [BrandConfig(name="Acme"), BrandConfig(name="Roadrunner Foods")]
        self.pipeline = Pipeline(store, BrandMatcher(brands), self.clock)
        self.url = url
        self.name = name

    def runner(self, **extra: Any) -> SourceRunner:
        source = SourceConfig.model_validate(
            {"kind": "rss", "name": self.name, "url": self.url, **extra}
        )
        connector = connector_class("rss")(source.name, source.options(), self.http)
        return SourceRunner(source, connector, self.store, self.pipeline, self.clock,
                            PollingConfig(), self.metrics)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store(tmp_path / "bm.db").open()
    yield s
    await s.close()


@pytest.fixture
async def rig(
    store: Store, aiohttp_server: Callable[..., Any]
) -> AsyncIterator[tuple[Rig, ReplayServer]]:
    replay = ReplayServer()
    server = await aiohttp_server(replay.app())
    r = Rig(store, str(server.make_url("/feed.xml")))
    yield r, replay
    await r.http.close()


async def test_poll_stores_matching_items_and_sends_validators(
    rig: tuple[Rig, ReplayServer], no_blocking: object
) -> None:
    r, replay = rig
    replay.add("/feed.xml", rss(headers={"ETag": '"v1"'}), Reply(status=304))
    runner = r.runner()
    assert await runner.poll() == "ok"
    assert await r.store.count_mentions() == 2  # the weather item is about no brand
    r.clock.advance(600)
    assert await runner.poll() == "not_modified"
    assert replay.requests_to("/feed.xml")[1].headers["If-None-Match"] == '"v1"'
    state = await r.store.source_state("news")
    assert state is not None and state.etag == '"v1"' and state.mentions_total == 2
    assert health_of(state, r.clock.now()) == "ok"


async def test_restart_continues_from_stored_state(rig: tuple[Rig, ReplayServer]) -> None:
    r, replay = rig
    replay.add("/feed.xml", rss(headers={"ETag": '"v1"'}), rss(headers={"ETag": '"v1"'}))
    assert await r.runner().poll() == "ok"
    fresh = r.runner()  # a new process: state comes from the store
    assert await fresh.poll() == "ok"
    assert replay.requests_to("/feed.xml")[1].headers["If-None-Match"] == '"v1"'
    assert await r.store.count_mentions() == 2  # nothing duplicated


async def test_failures_back_off_log_once_and_recovery_logs_once(
    rig: tuple[Rig, ReplayServer], caplog: pytest.LogCaptureFixture
) -> None:
    r, replay = rig
    replay.add("/feed.xml", Reply(status=500), Reply(status=502), Reply(status=500), rss())
    runner = r.runner()
    caplog.set_level(logging.INFO, logger="monitor.runner")
    delays = []
    for _ in range(3):
        assert await runner.poll() == "failed"
        assert await runner.poll() == "waiting"  # inside the backoff window: no request
        state = runner.state
        assert state is not None and state.disabled_until is not None
        delays.append((state.disabled_until - r.clock.now()).total_seconds())
        r.clock.set(state.disabled_until + timedelta(seconds=1))
    assert len(replay.requests_to("/feed.xml")) == 3
    assert delays[0] < delays[1] < delays[2]  # exponential
    assert health_of(runner.state, r.clock.now()) == "failing"
    assert await runner.poll() == "ok"
    messages = [rec.getMessage() for rec in caplog.records]
    assert sum("is failing" in m for m in messages) == 1
    assert sum("recovered after 3 failed polls" in m for m in messages) == 1


async def test_retry_after_is_honoured(rig: tuple[Rig, ReplayServer]) -> None:
    r, replay = rig
    replay.add("/feed.xml", Reply(status=429, headers={"Retry-After": "120"}), rss())
    runner = r.runner()
    assert await runner.poll() == "rate_limited"
    r.clock.advance(119)
    assert await runner.poll() == "waiting"
    r.clock.advance(2)
    assert await runner.poll() == "ok"


async def test_auth_error_parks_until_config_changes(rig: tuple[Rig, ReplayServer]) -> None:
    r, replay = rig
    replay.add("/feed.xml", Reply(status=401), rss())
    assert await r.runner().poll() == "parked"
    r.clock.advance(86400)
    assert await r.runner().poll() == "parked"  # a restart with the same config stays parked
    assert len(replay.requests_to("/feed.xml")) == 1
    assert await r.runner(interval="15m").poll() == "ok"  # config changed: try again


async def test_engagement_refresh_stores_snapshots_within_budget(
    store: Store, aiohttp_server: Callable[..., Any]
) -> None:
    replay = ReplayServer()
    replay.add(
        "/search_by_date", Reply.fixture("hackernews/search_page1.json"),
    ).add("/search", Reply.fixture("hackernews/refresh_stories.json"))
    server = await aiohttp_server(replay.app())
    r = Rig(store, "")
    source = SourceConfig.model_validate({
        "kind": "hackernews", "name": "hn", "search": ["acme"],
        "base_url": str(server.make_url("")).rstrip("/"),
    })
    connector = connector_class("hackernews")(source.name, source.options(), r.http, clock=r.clock)
    from monitor.config import EngagementConfig

    runner = SourceRunner(source, connector, store, r.pipeline, r.clock, PollingConfig(),
                          r.metrics, engagement=EngagementConfig(max_per_run=2, max_age="3650d"))
    try:
        assert await runner.poll() == "ok"
        r.clock.advance(900)
        assert await runner.refresh() == 2
        asked = replay.requests_to("/search")[0].query["tags"]
        assert asked.count("story_") == 2  # never more than max_per_run ids per run
        rows = await store.read(lambda tx: tx.sqlite.execute(
            "SELECT m.external_id, e.likes, e.comments FROM engagement e "
            "JOIN mentions m ON m.id = e.mention_id ORDER BY e.id"
        ).fetchall())
        assert ("42210001", 872, 455) in rows  # the re-read counters, beside the first snapshot
    finally:
        await r.http.close()
