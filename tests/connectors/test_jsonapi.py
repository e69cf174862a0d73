"""Generic JSON connector: mappings of real API shapes, cursors, errors and config checks."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from connectors.base import Cursor, RateLimited, SourceError, connector_class
from connectors.jsonapi import JsonApiConnector, JsonApiOptions, format_time, parse_time
from monitor.clock import VirtualClock
from monitor.config import ConfigError, parse_config
from monitor.httpclient import HttpClient
from monitor.store import Store
from tests.connectors.replay_server import ReplayServer, Reply, client_logs

FORUM_KEY = "dsc-FAKE-forum-key-5f1e0c9a7b"
REVIEWS_CODE = "rvw-FAKE-code-77aa01"
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)

ServerFactory = Callable[[Any], Awaitable[TestServer]]

DISCOURSE: dict[str, Any] = {
    "items": "latest_posts[*]",
    "html": True,
    "headers": {"Api-Key": {"env": "FORUM_KEY"}, "Api-Username": "system"},
    "fields": {
        "id": "id",
        "text": ["topic_title", "cooked"],
        "title": "topic_title",
        "url": "post_url",
        "author": "username",
        "time": "created_at",
        "parent_id": "topic_id",
        "likes": "actions_summary[?@.id == 2].count",  # Discourse action type 2 is "like"
        "comments": "reply_count",
        "views": "reads",
    },
    "cursor": {"mode": "max_id", "param": "after_id"},
}
REVIEWS: dict[str, Any] = {
    "params": {"q": "acme cola", "auth_code": {"env": "REVIEWS_CODE"}, "verified": True},
    "items": "$.data.reviews",
    "platform": "reviews-example",
    "fields": {
        "id": "reviewId",
        "text": ["title", "body"],
        "time": "createdAt",
        "lang": "language",
        "author": "author.displayName",
        "author_reach": "author.followers",
        "likes": "helpfulVotes",
        "url": "links.self",
    },
    "cursor": {"mode": "response", "select": "$.paging.since", "param": "since"},
}
LEMMY: dict[str, Any] = {
    "items": "posts[*]",
    "time_format": "epoch_seconds",
    "url_template": "https://lemmy.example/post/{id}",
    "fields": {
        "id": "post.id",
        "text": ["post.name", "post.body"],
        "time": "post.published",
        "author": "creator.name",
        "likes": "counts.upvotes",
        "comments": "counts.comments",
    },
    "cursor": {"mode": "time", "param": "published_after", "format": "epoch_seconds"},
}


@pytest.fixture(autouse=True)
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORUM_KEY", FORUM_KEY)
    monkeypatch.setenv("REVIEWS_CODE", REVIEWS_CODE)


@pytest.fixture
def make(
    replay: ReplayServer, http: HttpClient, aiohttp_server: ServerFactory
) -> Callable[..., Awaitable[JsonApiConnector]]:
    async def build(mapping: dict[str, Any], path: str, **extra: Any) -> JsonApiConnector:
        server = await aiohttp_server(replay.app())
        opts = JsonApiOptions.model_validate(
            {"url": str(server.make_url(path)), **mapping, **extra}
        )
        return JsonApiConnector("forum", opts, http, clock=VirtualClock(NOW))

    return build


def fx(name: str, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    return Reply.fixture(f"jsonapi/{name}.json", status=status, headers=headers)


async def test_discourse_posts_are_mapped(replay, make):
    replay.add("/posts.json", fx("discourse_latest_posts", headers={"ETag": '"v1"'}))
    connector = await make(DISCOURSE, "/posts.json")

    result = await connector.fetch(Cursor())

    request = replay.requests_to("/posts.json")[0]
    assert request.headers["Api-Key"] == FORUM_KEY and request.headers["Api-Username"] == "system"
    assert request.headers["Accept"] == "application/json"
    assert "after_id" not in request.query
    first, second = result.mentions
    assert first.platform == "forum"  # the source name unless `platform` is set
    assert first.external_id == "90412"
    assert first.text == (
        "Acme Cola recall? My cans of Acme Cola smell like solvent. Anyone else? Photos below."
    )
    assert first.title == "Acme Cola recall?"
    assert first.url == str(replay_url(request, "/t/acme-cola-recall/7731/3"))
    assert first.author == "sodafan" and first.parent_id == "7731"
    assert first.published_at == datetime(2026, 11, 21, 11, 52, 10, 512_000, tzinfo=UTC)
    assert first.engagement is not None
    assert (first.engagement.likes, first.engagement.comments, first.engagement.views) == (
        12, 4, 310,
    )
    assert second.engagement is not None and second.engagement.likes is None  # no likes yet
    assert result.cursor.position == {"value": "90412"}
    assert result.cursor.etag == '"v1"'
    assert result.budget is None


async def test_lone_surrogate_escapes_are_replaced_and_the_posts_stored(replay, make, tmp_path):
    # One post holds "\ud83d" and "\udca9" alone (unencodable); the other a proper pair.
    replay.add("/posts.json", fx("discourse_lone_surrogate"))
    connector = await make(DISCOURSE, "/posts.json")

    result = await connector.fetch(Cursor())

    first, second = result.mentions
    assert first.text == (
        "Acme Cola recall? My cans of Acme Cola smell like solvent \ufffd. Anyone else? "
        "Photos below."
    )
    assert first.author == "soda\ufffdfan"
    assert second.text == (
        "Acme Cola recall? \U0001f600 Heard rumours of an Acme Cola recall in Ohio."
    )
    store = await Store(tmp_path / "bm.db").open()
    try:
        for mention in result.mentions:
            mention.fetched_at, mention.source = NOW, "forum"  # as the pipeline sets them
        stored = await store.save_mentions(result.mentions)
        rows = await store.search_mentions(limit=10)
    finally:
        await store.close()
    assert len(stored) == 2
    assert sorted(row["text"] for row in rows) == sorted([first.text, second.text])


def replay_url(request: Any, path: str) -> str:
    host = request.headers["Host"]
    return f"http://{host}{path}"


async def test_max_id_cursor_is_sent_and_old_items_dropped(replay, make):
    replay.add(
        "/posts.json",
        fx("discourse_latest_posts", headers={"ETag": '"v1"'}),
        fx("discourse_later_posts", headers={"ETag": '"v2"'}),
    )
    connector = await make(DISCOURSE, "/posts.json")

    first = await connector.fetch(Cursor())
    second = await connector.fetch(first.cursor)

    request = replay.requests_to("/posts.json")[1]
    assert request.query["after_id"] == "90412"
    assert request.headers["If-None-Match"] == '"v1"'
    assert [m.external_id for m in second.mentions] == ["90420"]
    assert second.cursor.position == {"value": "90420"}


async def test_not_modified_keeps_the_cursor(replay, make):
    replay.add("/posts.json", Reply(status=304, headers={"ETag": '"v1"'}))
    connector = await make(DISCOURSE, "/posts.json")
    cursor = Cursor({"value": "90412"}, etag='"v1"')

    result = await connector.fetch(cursor)

    assert result.not_modified and result.mentions == [] and result.cursor == cursor


async def test_response_token_cursor_and_epoch_millis(replay, make):
    replay.add("/v2/reviews", fx("reviews_page1"), fx("reviews_page2"), fx("reviews_page2"))
    connector = await make(REVIEWS, "/v2/reviews")

    first = await connector.fetch(Cursor())
    query = replay.requests_to("/v2/reviews")[0].query
    assert query["q"] == "acme cola" and query["auth_code"] == REVIEWS_CODE
    assert query["verified"] == "true" and "since" not in query
    review, other = first.mentions
    assert review.platform == "reviews-example" and review.external_id == "rv_8f3a"
    assert review.text == "Nie wieder Acme Cola Nach dem Trinken war mir stundenlang schlecht."
    assert review.published_at == datetime(2026, 11, 21, 11, 55, tzinfo=UTC)  # epoch ms
    assert review.lang == "de" and review.author == "Jonas B." and review.author_reach == 120
    assert review.url == "https://reviews.example.com/r/rv_8f3a"
    assert other.author_reach == 3
    assert first.cursor.position == {"value": "c2luY2U6cnZfOGYzYQ"}

    second = await connector.fetch(first.cursor)
    assert replay.requests_to("/v2/reviews")[1].query["since"] == "c2luY2U6cnZfOGYzYQ"
    (later,) = second.mentions
    assert later.published_at == datetime(2026, 11, 21, 11, 10, tzinfo=UTC)  # +01:00 to UTC
    assert later.engagement is not None and later.engagement.likes is None
    # the response carried no new token: keep asking from the last one
    assert second.cursor.position == {"value": "c2luY2U6cnZfOGYzYQ"}
    await connector.fetch(second.cursor)
    assert replay.requests_to("/v2/reviews")[2].query["since"] == "c2luY2U6cnZfOGYzYQ"


async def test_time_cursor_in_epoch_seconds_drops_repeats(replay, make):
    replay.add("/api/v3/post/list", fx("lemmy_posts"), fx("lemmy_posts"))
    connector = await make(LEMMY, "/api/v3/post/list")

    first = await connector.fetch(Cursor())
    assert [m.external_id for m in first.mentions] == ["551", "552", "540"]
    assert first.mentions[0].url == "https://lemmy.example/post/551"  # from url_template
    assert first.mentions[1].text == "Acme Cola ad"  # a null body adds nothing
    assert first.cursor.position["value"] == "1795262000"

    # The API's "after" is inclusive: the two posts at the cursor's second come back.
    second = await connector.fetch(first.cursor)
    assert replay.requests_to("/api/v3/post/list")[1].query["published_after"] == "1795262000"
    assert second.mentions == []
    assert second.cursor.position["value"] == "1795262000"


async def test_empty_page(replay, make):
    replay.add("/posts.json", fx("discourse_empty"))
    connector = await make(DISCOURSE, "/posts.json")

    result = await connector.fetch(Cursor({"value": "90412"}))

    assert result.mentions == [] and result.skipped == 0
    assert result.cursor.position == {"value": "90412"}


async def test_item_with_null_field_is_skipped_and_logged(replay, make, caplog):
    replay.add("/posts.json", fx("discourse_null_field"))
    fields = {**DISCOURSE["fields"], "text": "cooked"}
    connector = await make(DISCOURSE, "/posts.json", fields=fields)

    with caplog.at_level(logging.INFO, logger="connectors.jsonapi"):
        result = await connector.fetch(Cursor())

    assert [m.external_id for m in result.mentions] == ["90412"]
    assert result.skipped == 1
    assert "skipped item 0: item 90413: no text at 'cooked'" in caplog.text


async def test_unparseable_time_skips_the_item(replay, make, caplog):
    replay.add("/api/v3/post/list", fx("lemmy_posts"))
    connector = await make(LEMMY, "/api/v3/post/list", time_format="iso8601")

    with caplog.at_level(logging.INFO, logger="connectors.jsonapi"):
        result = await connector.fetch(Cursor())

    assert result.mentions == [] and result.skipped == 3
    assert "is not a iso8601 date" in caplog.text


@pytest.mark.parametrize(
    ("reply", "error", "words"),
    [
        (Reply.json("just a string"), SourceError, "not an object or array"),
    ],
    ids=["not-a-container"],
)
async def test_errors_never_show_secrets(replay, make, caplog, reply, error, words):
    replay.add("/v2/reviews", reply)
    connector = await make(REVIEWS, "/v2/reviews", headers={"X-Key": {"env": "FORUM_KEY"}})

    with caplog.at_level(logging.DEBUG), pytest.raises(error) as info:
        await connector.fetch(Cursor())

    assert words in str(info.value)
    assert type(info.value) is not RateLimited
    for secret in (FORUM_KEY, REVIEWS_CODE):
        assert secret not in str(info.value) and secret not in client_logs(caplog)


async def test_429_waits_for_the_rate_limit_reset(replay, make):
    reset = int((NOW + timedelta(seconds=300)).timestamp())
    replay.add(
        "/v2/reviews",
        Reply.json({"error": "slow down"}, 429, {"X-RateLimit-Reset": str(reset)}),
        Reply.json({"error": "slow down"}, 429, {"Retry-After": "45", "RateLimit-Reset": "9"}),
    )
    connector = await make(REVIEWS, "/v2/reviews")

    with pytest.raises(RateLimited) as info:
        await connector.fetch(Cursor())
    assert info.value.retry_after == 300
    assert REVIEWS_CODE not in str(info.value)

    with pytest.raises(RateLimited) as info:
        await connector.fetch(Cursor())
    assert info.value.retry_after == 45


async def test_rate_limit_headers_become_the_budget(replay, make):
    headers = {"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "57", "X-RateLimit-Reset": "30"}
    replay.add("/v2/reviews", fx("reviews_page2", headers=headers))
    connector = await make(REVIEWS, "/v2/reviews")

    result = await connector.fetch(Cursor())

    assert result.budget is not None
    assert (result.budget.remaining, result.budget.limit) == (57, 60)
    assert result.budget.resets_at == NOW + timedelta(seconds=30)


def _config(source: dict[str, Any]) -> dict[str, Any]:
    return {
        "brands": [{"name": "Acme"}],
        "sources": [{"kind": "json", "name": "forum", "url": "https://f.example/p.json", **source}],
    }


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        (
            {"items": "posts[", "fields": {"id": "id", "text": "body"}},
            "sources[0].items: 'posts[' is not a valid JSONPath selector: unexpected end of query",
        ),
        (
            {"items": "posts[*]", "fields": {"id": "id", "text": ["title", "body]"]}},
            "sources[0].fields.text",
        ),
        (
            {"items": "posts[*]", "fields": {"id": "id", "text": "t", "time": "$[?nope(@)]"}},
            "function 'nope' is not defined",
        ),
        (
            {"items": "posts[*]", "fields": {"id": "id", "text": "t"}, "cursor": {
                "mode": "response", "param": "since"}},
            'mode "response" needs `select`',
        ),
        (
            {"items": "posts[*]", "fields": {"id": "id", "text": "t"}, "cursor": {
                "mode": "time", "param": "since", "format": "yyyy-mm-dd"}},
            "strftime pattern",
        ),
        (
            {"items": "posts[*]", "fields": {"id": "id", "body": "t"}},
            "sources[0].fields.text: Field required",
        ),
        (
            {"items": "posts[*]", "fields": {"id": "id", "text": "t"}, "headers": {
                "Authorization": {"env": "UNSET_FOR_TEST"}}},
            "environment variable UNSET_FOR_TEST is not set",
        ),
        (
            {"items": "posts[*]", "fields": {"id": "id", "text": "t"}, "method": "POST"},
            "sources[0].method",
        ),
    ],
)
def test_config_errors_name_the_key(source: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(_config(source))
    assert any(problem in line for line in info.value.problems), info.value.problems


def test_valid_config_passes() -> None:
    config = parse_config(_config(DISCOURSE))
    assert isinstance(config.sources[0].options(), JsonApiOptions)


@pytest.mark.parametrize(
    ("value", "fmt", "expected"),
    [
        ("2026-11-21T11:55:00Z", "auto", datetime(2026, 11, 21, 11, 55, tzinfo=UTC)),
        ("2026-11-21T12:55:00+01:00", "iso8601", datetime(2026, 11, 21, 11, 55, tzinfo=UTC)),
        ("Sat, 21 Nov 2026 11:55:00 GMT", "auto", datetime(2026, 11, 21, 11, 55, tzinfo=UTC)),
        (1795262100, "auto", datetime(2026, 11, 21, 11, 55, tzinfo=UTC)),
        (1795262100000, "auto", datetime(2026, 11, 21, 11, 55, tzinfo=UTC)),
        ("1795262100", "epoch_seconds", datetime(2026, 11, 21, 11, 55, tzinfo=UTC)),
        (1795262100500, "epoch_millis", datetime(2026, 11, 21, 11, 55, 0, 500_000, tzinfo=UTC)),
        (1795262100, "iso8601", None),
        ("yesterday", "auto", None),
        (True, "auto", None),
        (None, "auto", None),
    ],
)
def test_parse_time(value: Any, fmt: Any, expected: datetime | None) -> None:
    assert parse_time(value, fmt) == expected


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("iso8601", "2026-11-21T11:55:00Z"),
        ("epoch_seconds", "1795262100"),
        ("epoch_millis", "1795262100000"),
        ("%Y-%m-%d %H:%M", "2026-11-21 11:55"),
    ],
)
def test_format_time(fmt: str, expected: str) -> None:
    when = datetime(2026, 11, 21, 12, 55, tzinfo=timezone(timedelta(hours=1)))
    assert format_time(when, fmt) == expected


def test_registered() -> None:
    assert connector_class("json") is JsonApiConnector
