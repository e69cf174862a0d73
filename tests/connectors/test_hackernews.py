"""Hacker News connector against a local server replaying the Algolia HN Search API."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from blockbuster import BlockBuster
from pydantic import ValidationError

from connectors.base import AuthError, Cursor, RateLimited, SourceError, connector_class
from connectors.hackernews import HackerNewsConnector, HackerNewsOptions
from monitor.clock import VirtualClock
from monitor.httpclient import HttpClient, HttpLimits
from tests.connectors.replay_server import ReplayServer, Reply, allow_fixture_reads

NOW = datetime(2024, 11, 21, 15, 0, tzinfo=UTC)
T = 1732200600  # created_at_i of the recall story, 2024-11-21T14:50:00Z
BY_DATE = "/search_by_date"

Build = Callable[..., Awaitable[HackerNewsConnector]]


@pytest.fixture
async def build(
    aiohttp_server: Any, no_blocking: BlockBuster
) -> AsyncIterator[Build]:
    """Start the replay server and build a connector pointed at it."""
    allow_fixture_reads(no_blocking)
    clients: list[HttpClient] = []

    async def factory(
        replay: ReplayServer, max_body_bytes: int = 5_000_000, **options: Any
    ) -> HackerNewsConnector:
        server = await aiohttp_server(replay.app())
        options.setdefault("search", ["acme"])
        opts = HackerNewsOptions.model_validate(
            {"base_url": str(server.make_url("")).rstrip("/"), **options}
        )
        http = HttpClient(HttpLimits(max_body_bytes=max_body_bytes))
        clients.append(http)
        return HackerNewsConnector("hn-test", opts, http, clock=VirtualClock(NOW))

    yield factory
    for http in clients:
        await http.close()


async def test_first_poll_maps_stories_and_comments(build: Build) -> None:
    replay = ReplayServer().add(BY_DATE, Reply.fixture("hackernews/search_page1.json"))
    connector = await build(replay)

    result = await connector.fetch(Cursor())

    comment, ask, story = result.mentions
    assert comment.platform == "hackernews"
    assert comment.external_id == "42210003"
    assert comment.url == "https://news.ycombinator.com/item?id=42210003"
    assert comment.text == (
        "I returned my Acme kettle after the lid popped open mid-boil & scalded my wrist. "
        'Their support said "working as intended".'
    )
    assert comment.title is None
    assert comment.parent_id == "42210001"
    assert comment.author == "scalded"
    assert comment.engagement is None  # HN publishes no comment scores
    assert comment.published_at == datetime(2024, 11, 21, 14, 55, tzinfo=UTC)
    assert ask.text == (
        "Ask HN: Anyone else had Acme routers drop offline since the update? "
        "Since firmware 4.2 our office Acme routers reboot every hour. Rolling back fixed it."
    )
    assert story.title == story.text == "Acme recalls Pro kettle over burn risk"
    assert story.url == "https://news.ycombinator.com/item?id=42210001"  # the HN page, not the link
    assert story.parent_id is None
    assert story.engagement is not None
    assert (story.engagement.likes, story.engagement.comments) == (231, 118)

    (request,) = replay.requests  # first poll: the newest page only, no backfill
    assert request.query["query"] == "acme"
    assert request.query["tags"] == "(story,comment)"
    assert request.query["hitsPerPage"] == "100"
    assert request.query["page"] == "0"
    assert "numericFilters" not in request.query
    # Newest created_at_i, plus what lies inside the 120 s overlap window.
    assert result.cursor.position == {
        "queries": {"acme": {"since": T + 300, "recent": {"42210003": T + 300}}}
    }
    # The runner stores cursors as JSON.
    assert json.loads(json.dumps(result.cursor.position)) == result.cursor.position


async def test_next_poll_filters_by_time_and_reads_following_pages(build: Build) -> None:
    replay = ReplayServer().add(
        BY_DATE,
        Reply.fixture("hackernews/search_page1.json"),
        Reply.fixture("hackernews/search_page2.json"),
    )
    connector = await build(replay)
    state = {"since": T - 600, "recent": {"42209900": T - 600}}

    result = await connector.fetch(Cursor(position={"queries": {"acme": state}}))

    assert [m.external_id for m in result.mentions] == [
        "42210003", "42210002", "42210001", "42209990"  # 42209900 was read last poll
    ]
    first, second = replay.requests_to(BY_DATE)
    assert first.query["numericFilters"] == f"created_at_i>{T - 600 - 120}"
    assert (first.query["page"], second.query["page"]) == ("0", "1")
    assert second.query["numericFilters"] == first.query["numericFilters"]
    assert result.cursor.position["queries"]["acme"]["since"] == T + 300


async def test_overlap_catches_late_indexed_items_without_repeats(build: Build) -> None:
    replay = ReplayServer().add(BY_DATE, Reply.fixture("hackernews/search_overlap.json"))
    connector = await build(replay)
    state = {"since": T + 300, "recent": {"42210003": T + 300}}

    result = await connector.fetch(Cursor(position={"queries": {"acme": state}}))

    assert [m.external_id for m in result.mentions] == ["42210004"]
    assert replay.requests[0].query["numericFilters"] == f"created_at_i>{T + 180}"
    assert result.cursor.position["queries"]["acme"] == {
        "since": T + 300, "recent": {"42210003": T + 300, "42210004": T + 250}
    }


async def test_without_overlap_the_cursor_is_the_newest_time(build: Build) -> None:
    replay = ReplayServer().add(BY_DATE, Reply.fixture("hackernews/search_empty.json"))
    connector = await build(replay, index_lag=0, types=["story"])

    await connector.fetch(Cursor(position={"queries": {"acme": {"since": T, "recent": {}}}}))

    assert replay.requests[0].query["numericFilters"] == f"created_at_i>{T}"
    assert replay.requests[0].query["tags"] == "story"


async def test_empty_page_keeps_cursor(build: Build) -> None:
    replay = ReplayServer().add(BY_DATE, Reply.fixture("hackernews/search_empty.json"))
    connector = await build(replay)
    state = {"since": T + 300, "recent": {"42210003": T + 300}}

    result = await connector.fetch(Cursor(position={"queries": {"acme": state}}))

    assert result.mentions == [] and result.skipped == 0
    assert result.cursor.position == {"queries": {"acme": state}}


async def test_hit_without_created_at_is_skipped_and_logged(
    build: Build, caplog: pytest.LogCaptureFixture
) -> None:
    replay = ReplayServer().add(BY_DATE, Reply.fixture("hackernews/search_missing_field.json"))
    connector = await build(replay)

    with caplog.at_level(logging.WARNING, logger="connectors.hackernews"):
        result = await connector.fetch(Cursor())

    assert [m.external_id for m in result.mentions] == ["42220001", "42220003"]
    assert result.skipped == 1
    (record,) = caplog.records
    assert "42220002" in record.getMessage() and "created_at_i" in record.getMessage()


async def test_unreadable_hit_costs_itself_not_the_page(
    build: Build, caplog: pytest.LogCaptureFixture
) -> None:
    replay = ReplayServer().add(BY_DATE, Reply.fixture("hackernews/search_bad_item.json"))
    connector = await build(replay)

    with caplog.at_level(logging.WARNING, logger="connectors.base"):
        result = await connector.fetch(Cursor())

    assert [m.external_id for m in result.mentions] == ["42210003", "42210001"]
    assert result.skipped == 1
    (record,) = [r for r in caplog.records if r.name == "connectors.base"]
    assert record.getMessage().startswith(
        "source hn-test: skipped item 1 (objectID '42210002'): cannot read it (OverflowError"
    )


@pytest.mark.parametrize(
    ("reply", "error", "words"),
    [
        (Reply.fixture("hackernews/error_403.json", status=403), AuthError, "base_url"),
        (Reply.json({"message": "ok?"}), SourceError, "without a hits list"),
    ],
)
async def test_http_errors_map_to_connector_errors(
    build: Build, reply: Reply, error: type[Exception], words: str
) -> None:
    replay = ReplayServer().add(BY_DATE, reply)
    connector = await build(replay)

    with pytest.raises(error) as caught:
        await connector.fetch(Cursor())

    assert words in str(caught.value)
    assert not isinstance(caught.value, RateLimited)


async def test_refresh_rereads_story_counters_in_batches(build: Build) -> None:
    replay = ReplayServer(repeat_last=True).add(
        "/search", Reply.fixture("hackernews/refresh_stories.json")
    )
    connector = await build(replay)
    refs = ["42210001", "42210002", "at://not-hn", *(str(40000000 + i) for i in range(60))]

    updates = await connector.refresh(refs)

    first, second = replay.requests_to("/search")
    assert first.query["tags"].startswith("story,(story_42210001,story_42210002,story_40000000")
    assert first.query["tags"].count("story_") == 50 and first.query["hitsPerPage"] == "50"
    assert second.query["tags"].count("story_") == 12
    story = next(u for u in updates if u.external_id == "42210001")
    assert (story.engagement.likes, story.engagement.comments) == (872, 455)
    assert story.observed_at == NOW and story.platform == "hackernews"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "search"),
        ({"search": [" "]}, "must not be empty"),
        ({"search": ["acme"], "types": ["job"]}, "Input should be"),
        ({"search": ["acme"], "types": []}, "at least 1 item"),
        ({"search": ["acme"], "base_url": "hn.algolia.com"}, "http(s) URL"),
        ({"search": ["acme"], "hits_per_page": 5000}, "less than or equal to 1000"),
        ({"search": ["acme"], "query": "acme"}, "Extra inputs are not permitted"),
    ],
)
def test_options_are_checked(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        HackerNewsOptions.model_validate(options)


def test_registered_kind() -> None:
    assert connector_class("hackernews") is HackerNewsConnector
