"""X connector against a local server replaying API v2 responses."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from connectors.base import AuthError, Cursor, RateLimited, SourceError, connector_class
from connectors.x import XConnector, XOptions, next_month_start
from monitor.clock import VirtualClock
from monitor.httpclient import HttpClient
from tests.connectors.replay_server import ReplayServer, Reply, client_logs

FAKE_TOKEN = "AAAAAAAAAAAAAAAAAAAAAFAKEbearer%2Ftoken0123456789"
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
EPOCH = int(NOW.timestamp())
SEARCH = "/2/tweets/search/recent"
LOOKUP = "/2/tweets"
WINDOW = {"x-rate-limit-limit": "450", "x-rate-limit-remaining": "449",
          "x-rate-limit-reset": str(EPOCH + 900)}

ServerFactory = Callable[[Any], Awaitable[TestServer]]


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_TEST_TOKEN", FAKE_TOKEN)


@pytest.fixture
def make(
    replay: ReplayServer, http: HttpClient, aiohttp_server: ServerFactory
) -> Callable[..., Awaitable[XConnector]]:
    async def build(**options: Any) -> XConnector:
        server = await aiohttp_server(replay.app())
        opts = XOptions.model_validate(
            {
                "bearer_token": {"env": "X_TEST_TOKEN"},
                "query": '"acme cola" -is:retweet',
                "base_url": str(server.make_url("")).rstrip("/"),
                **options,
            }
        )
        return XConnector("x-acme", opts, http, clock=VirtualClock(NOW))

    return build


def fx(name: str, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    return Reply.fixture(f"x/{name}.json", status=status, headers=headers)


async def test_first_poll_maps_posts_authors_and_metrics(replay, make):
    replay.add(SEARCH, fx("search_page1", headers=WINDOW), fx("search_page2", headers=WINDOW))
    connector = await make()

    result = await connector.fetch(Cursor())

    request = replay.requests_to(SEARCH)[0]
    assert request.headers["Authorization"] == f"Bearer {FAKE_TOKEN}"
    query = request.query
    assert query["query"] == '"acme cola" -is:retweet' and query["max_results"] == "100"
    assert query["start_time"] == "2026-11-21T11:00:00Z" and "since_id" not in query
    assert query["expansions"] == "author_id"
    assert query["user.fields"] == "public_metrics,username"
    fields = set(query["tweet.fields"].split(","))
    assert {"created_at", "public_metrics", "lang", "conversation_id", "referenced_tweets",
            "author_id"} <= fields

    first, reply, long_post, older = result.mentions
    assert first.external_id == "1859201234567890123" and first.platform == "x"
    assert first.text.startswith("Acme Cola made my kids sick & the store")  # entity decoded
    assert first.url == "https://x.com/worried_parent/status/1859201234567890123"
    assert first.author == "worried_parent" and first.author_reach == 15_400
    assert first.published_at == datetime(2026, 11, 21, 11, 58, tzinfo=UTC)
    assert first.lang == "en" and first.parent_id is None
    assert first.engagement is not None
    engagement = first.engagement
    assert (engagement.likes, engagement.shares, engagement.comments, engagement.views) == (
        800, 150, 45, 52_000,
    )
    assert reply.parent_id == "1859200000000000000"
    assert long_post.text.endswith("消費者センターに連絡してください。")  # note_tweet's full text
    assert long_post.lang == "ja"
    assert older.lang == "id"  # X's legacy "in" for Indonesian

    assert result.cursor.position["since_id"] == "1859201234567890123"
    assert result.budget is not None
    assert (result.budget.remaining, result.budget.limit) == (449, 450)
    assert result.budget.resets_at == datetime.fromtimestamp(EPOCH + 900, UTC)
    assert result.budget.unit == "requests"


async def test_next_token_then_since_id_on_the_next_poll(replay, make):
    replay.add(SEARCH, fx("search_page1"), fx("search_page2"), fx("search_empty"))
    connector = await make()

    result = await connector.fetch(Cursor())
    pages = replay.requests_to(SEARCH)
    assert pages[1].query["next_token"] == "b26v89c19zqg8o3fpzbkk5x5b4w1gfh6i8wfd2c4xcc0"
    assert len(result.mentions) == 4
    # newest_id comes from the first page, not the older second one
    assert result.cursor.position["since_id"] == "1859201234567890123"
    assert result.cursor.position["posts_read"] == 4

    again = await connector.fetch(result.cursor)
    third = replay.requests_to(SEARCH)[2].query
    assert third["since_id"] == "1859201234567890123"
    assert "start_time" not in third and "next_token" not in third
    assert again.mentions == []
    assert again.cursor.position["since_id"] == "1859201234567890123"  # kept when empty


async def test_since_id_older_than_seven_days_restarts_from_lookback(replay, make, caplog):
    replay.add(SEARCH, fx("error_stale_since_id", 400), fx("search_page2"))
    connector = await make()

    with caplog.at_level(logging.WARNING, logger="connectors.x"):
        result = await connector.fetch(Cursor({"since_id": "1855000000000000000"}))

    retry = replay.requests_to(SEARCH)[1].query
    assert "since_id" not in retry and retry["start_time"] == "2026-11-21T11:00:00Z"
    assert [m.external_id for m in result.mentions] == ["1859200500000000000"]
    assert result.cursor.position["since_id"] == "1859200500000000000"
    assert "refused the stored since_id" in caplog.text


async def test_pages_per_poll_are_bounded(replay, make, caplog):
    replay.add(SEARCH, fx("search_page1"))
    connector = await make(max_pages=1)

    with caplog.at_level(logging.WARNING, logger="connectors.x"):
        result = await connector.fetch(Cursor())

    assert len(replay.requests_to(SEARCH)) == 1 and len(result.mentions) == 3
    assert "older ones are skipped" in caplog.text


async def test_empty_page(replay, make):
    replay.add(SEARCH, fx("search_empty", headers=WINDOW))
    connector = await make()

    result = await connector.fetch(Cursor({"since_id": "1859100000000000000"}))

    assert result.mentions == [] and result.skipped == 0
    assert result.cursor.position["since_id"] == "1859100000000000000"


async def test_post_with_null_field_is_skipped_and_logged(replay, make, caplog):
    replay.add(SEARCH, fx("search_null_field"))
    connector = await make()

    with caplog.at_level(logging.INFO, logger="connectors.x"):
        result = await connector.fetch(Cursor())

    assert [m.external_id for m in result.mentions] == ["1859201234567890123"]
    assert result.mentions[0].lang is None  # "und"
    assert result.skipped == 1
    assert "skipped post 0 on page 1" in caplog.text


@pytest.mark.parametrize(
    ("reply", "error", "words"),
    [
        (fx("error_unauthorized", 401), AuthError, "$X_TEST_TOKEN"),
        (fx("error_forbidden", 403), AuthError, "Client Forbidden"),
        (fx("error_invalid_query", 400), SourceError, "missing closing parenthesis"),
        (fx("errors_without_data"), SourceError, "temporarily unavailable"),
    ],
    ids=["401", "403", "400-query", "200-errors-only"],
)
async def test_errors_map_to_connector_errors_without_the_token(
    replay, make, caplog, reply, error, words
):
    replay.add(SEARCH, reply)
    connector = await make()

    with caplog.at_level(logging.DEBUG), pytest.raises(error) as info:
        await connector.fetch(Cursor())

    assert words in str(info.value)
    assert type(info.value) is not RateLimited
    assert FAKE_TOKEN not in str(info.value) and FAKE_TOKEN not in client_logs(caplog)


async def test_429_waits_for_x_rate_limit_reset_rather_than_retry_after(replay, make):
    headers = {"x-rate-limit-limit": "450", "x-rate-limit-remaining": "0",
               "x-rate-limit-reset": str(EPOCH + 437), "Retry-After": "30"}
    replay.add(SEARCH, fx("error_too_many_requests", 429, headers))
    connector = await make()

    with pytest.raises(RateLimited) as info:
        await connector.fetch(Cursor())

    assert info.value.retry_after == 437
    assert FAKE_TOKEN not in str(info.value)


async def test_usage_capped_429_waits_for_next_month(replay, make):
    headers = {"x-rate-limit-reset": str(EPOCH + 60)}
    replay.add(SEARCH, fx("error_usage_capped", 429, headers))
    connector = await make()

    with pytest.raises(RateLimited) as info:
        await connector.fetch(Cursor())

    assert info.value.retry_after == (datetime(2026, 12, 1, tzinfo=UTC) - NOW).total_seconds()
    assert "monthly post cap" in str(info.value)


async def test_credits_used_up_waits_an_hour_and_says_so_once(replay, make, caplog):
    replay.add(SEARCH, fx("error_credits_depleted", 402), fx("error_credits_depleted", 402),
               fx("search_empty", headers=WINDOW))
    connector = await make()

    with caplog.at_level(logging.INFO, logger="connectors.x"):
        for _ in range(2):
            with pytest.raises(RateLimited) as info:
                await connector.fetch(Cursor())
            assert info.value.retry_after == 3600  # not the runner's failure backoff loop
            assert "credits used up" in str(info.value) and "add credits" in str(info.value)
        await connector.fetch(Cursor())

    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "pay-per-use credits are used up" in errors[0].getMessage()
    assert "X reads again" in caplog.text
    assert FAKE_TOKEN not in caplog.text


async def test_partial_errors_in_a_200_keep_the_posts(replay, make, caplog):
    replay.add(SEARCH, fx("search_partial_errors"))
    connector = await make()

    with caplog.at_level(logging.WARNING, logger="connectors.x"):
        result = await connector.fetch(Cursor())

    (mention,) = result.mentions
    assert mention.author is None  # the author could not be expanded
    assert mention.url == "https://x.com/i/web/status/1859201234567890123"
    assert "1 partial errors" in caplog.text


async def test_monthly_post_cap_stops_reading_until_the_first(replay, make):
    connector = await make(monthly_post_cap=1000)

    with pytest.raises(RateLimited) as info:
        await connector.fetch(Cursor({"month": "2026-11", "posts_read": 1000}))

    assert replay.requests == []
    assert info.value.retry_after == (datetime(2026, 12, 1, tzinfo=UTC) - NOW).total_seconds()
    assert "1000 posts this month" in str(info.value)


async def test_monthly_post_cap_trims_pages_and_shows_as_budget(replay, make):
    replay.add(SEARCH, fx("search_page1", headers=WINDOW))
    connector = await make(monthly_post_cap=1000, max_pages=1)

    result = await connector.fetch(Cursor({"month": "2026-11", "posts_read": 975}))

    assert replay.requests_to(SEARCH)[0].query["max_results"] == "25"
    assert result.cursor.position["posts_read"] == 978
    # 22 of 1000 posts left is tighter than 449 of 450 requests
    assert result.budget is not None
    assert (result.budget.remaining, result.budget.limit, result.budget.unit) == (22, 1000, "posts")
    assert result.budget.resets_at == datetime(2026, 12, 1, tzinfo=UTC)


async def test_monthly_count_restarts_in_a_new_month(replay, make):
    replay.add(SEARCH, fx("search_page2", headers=WINDOW))
    connector = await make(monthly_post_cap=1000)

    result = await connector.fetch(Cursor({"month": "2026-10", "posts_read": 1000}))

    assert result.cursor.position["month"] == "2026-11"
    assert result.cursor.position["posts_read"] == 1
    assert result.budget is not None and result.budget.unit == "requests"


def test_next_month_start_rolls_over_the_year() -> None:
    assert next_month_start(datetime(2026, 12, 31, 23, 59, tzinfo=UTC)) == datetime(
        2027, 1, 1, tzinfo=UTC
    )


async def test_refresh_reads_public_metrics_in_batches_of_100(replay, make):
    ids = ["1859201234567890123", "1859201111111111111"] + [str(10**18 + i) for i in range(148)]
    replay.add(LOOKUP, fx("lookup"), Reply.json({"errors": []}))
    connector = await make()

    updates = await connector.refresh([*ids, "not-a-post-id"])

    calls = replay.requests_to(LOOKUP)
    assert [len(c.query["ids"].split(",")) for c in calls] == [100, 50]
    assert calls[0].query["tweet.fields"] == "public_metrics"
    assert calls[0].headers["Authorization"] == f"Bearer {FAKE_TOKEN}"
    (update,) = updates  # the deleted post is simply absent
    assert update.external_id == "1859201234567890123" and update.observed_at == NOW
    assert (update.engagement.likes, update.engagement.shares) == (15_200, 2_780)
    assert update.engagement.views == 1_250_000

    # Posts read by the refresh count toward the cap in the next cursor.
    replay.add(SEARCH, fx("search_empty"))
    result = await connector.fetch(Cursor({"month": "2026-11", "posts_read": 10}))
    assert result.cursor.position["posts_read"] == 11


async def test_refresh_stops_at_the_monthly_cap(replay, make):
    connector = await make(monthly_post_cap=3, max_pages=1)
    replay.add(SEARCH, fx("search_page1"))
    result = await connector.fetch(Cursor())
    assert replay.requests_to(SEARCH)[0].query["max_results"] == "10"  # the API's minimum
    assert result.cursor.position["posts_read"] == 3

    with pytest.raises(RateLimited):
        await connector.refresh(["1859201234567890123"])
    assert replay.requests_to(LOOKUP) == []


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"query": "acme"}, "bearer_token"),
        ({"bearer_token": "AAAA", "query": "acme"}, "environment variables"),
        ({"bearer_token": {"env": "T"}, "query": "   "}, "empty"),
        ({"bearer_token": {"env": "T"}, "query": "acme", "max_results": 500}, "less than"),
        ({"bearer_token": {"env": "T"}, "query": "acme", "since": "1"}, "Extra inputs"),
    ],
)
def test_options_validation(options: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError) as info:
        XOptions.model_validate(options)
    assert problem in str(info.value)


def test_registered() -> None:
    assert connector_class("x") is XConnector
