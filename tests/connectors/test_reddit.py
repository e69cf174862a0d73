"""Reddit connector against a local server replaying reddit's Listing JSON."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from blockbuster import BlockBuster
from pydantic import ValidationError

from connectors.base import AuthError, Cursor, RateLimited, SourceError, connector_class
from connectors.reddit import RedditConnector, RedditOptions
from monitor.clock import VirtualClock
from monitor.httpclient import HttpClient, HttpLimits
from tests.connectors.replay_server import ReplayServer, Reply, allow_fixture_reads

CLIENT_ID = "fake-client-id-4d1f"
CLIENT_SECRET = "fake-client-secret-Zq81xv"
TOKEN = (
    "eyJhbGciOiJSUzI1NiIsImtpZCI6IlNIQTI1NjpzS3dsMnlsV0VtMjVmcXhwTU40cWY4MXE2OWFFdWFyMnpLMUdhV"
    "GxjdWNZIiwidHlwIjoiSldUIn0.fake-reddit-access-token-7777"
)
NOW = datetime(2024, 11, 21, 15, 0, tzinfo=UTC)
SEARCH = "/search.json"

Build = Callable[..., Awaitable[RedditConnector]]


@pytest.fixture
async def build(
    aiohttp_server: Any, no_blocking: BlockBuster, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Callable[..., Awaitable[RedditConnector]]]:
    """Start the replay server and build a connector pointed at it."""
    allow_fixture_reads(no_blocking)
    monkeypatch.setenv("REDDIT_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("REDDIT_CLIENT_SECRET", CLIENT_SECRET)
    clients: list[HttpClient] = []

    async def factory(
        replay: ReplayServer, max_body_bytes: int = 5_000_000, **options: Any
    ) -> RedditConnector:
        server = await aiohttp_server(replay.app())
        base = str(server.make_url("")).rstrip("/")
        options.setdefault("search", ["acme"])
        opts = RedditOptions.model_validate({"base_url": base, "oauth_url": base, **options})
        http = HttpClient(HttpLimits(max_body_bytes=max_body_bytes))
        clients.append(http)
        return RedditConnector("reddit-test", opts, http, clock=VirtualClock(NOW))

    yield factory
    for http in clients:
        await http.close()


OAUTH = {
    "client_id": {"env": "REDDIT_CLIENT_ID"},
    "client_secret": {"env": "REDDIT_CLIENT_SECRET"},
    "user_agent": "linux:brand-monitor-test:0.1 (by /u/acme_watch)",
}


async def test_first_poll_maps_posts_and_reads_one_page(build: Build) -> None:
    replay = ReplayServer().add(SEARCH, Reply.fixture("reddit/search_page1.json"))
    connector = await build(replay)

    result = await connector.fetch(Cursor())

    assert [m.external_id for m in result.mentions] == ["t3_1h9x0c3", "t3_1h9wz1a", "t3_1h9wy7k"]
    leak = result.mentions[0]
    assert leak.platform == "reddit"
    assert leak.title == "Acme kettle leaking after a week, anyone else?"
    assert leak.text.startswith("Acme kettle leaking after a week, anyone else? Bought the Acme")
    assert leak.url == (
        "https://www.reddit.com/r/Appliances/comments/1h9x0c3/acme_kettle_leaking_after_a_week/"
    )
    assert leak.author == "drip_drip"
    assert leak.author_reach == 48210
    assert leak.published_at == datetime(2024, 11, 21, 14, 50, tzinfo=UTC)
    assert leak.parent_id is None
    assert leak.engagement is not None
    assert (leak.engagement.likes, leak.engagement.comments) == (12, 9)
    assert leak.engagement.extra == {"upvote_ratio": 0.88}
    assert result.mentions[1].text == "Acme announces recall of Pro kettle in the EU"  # link post
    assert result.mentions[2].author is None  # "[deleted]"
    # raw_json=1 keeps "&" and "<b>" as the user typed them
    assert "Three weeks & still no refund. <b>not html</b>" in result.mentions[2].text

    (request,) = replay.requests  # first poll: the newest page only, no backfill
    assert request.query["q"] == "acme"
    assert request.query["sort"] == "new"
    assert request.query["limit"] == "100"
    assert "after" not in request.query
    assert "Authorization" not in request.headers
    assert result.cursor.position == {
        "targets": {"search:acme": {"newest": 1732200600.0, "ids": ["t3_1h9x0c3"]}}
    }
    # The runner stores cursors as JSON.
    assert json.loads(json.dumps(result.cursor.position)) == result.cursor.position


async def test_next_poll_follows_after_until_it_reaches_known_posts(build: Build) -> None:
    replay = ReplayServer().add(
        SEARCH,
        Reply.fixture("reddit/search_page1.json"),
        Reply.fixture("reddit/search_page2.json"),
    )
    connector = await build(replay)
    cursor = Cursor(
        position={"targets": {"search:acme": {"newest": 1732198000.0, "ids": ["t3_1h9ww0z"]}}}
    )

    result = await connector.fetch(cursor)

    assert [m.external_id for m in result.mentions] == [
        "t3_1h9x0c3", "t3_1h9wz1a", "t3_1h9wy7k", "t3_1h9wx2b"
    ]
    first, second = replay.requests_to(SEARCH)
    assert "after" not in first.query
    assert second.query["after"] == "t3_1h9wy7k"
    assert result.cursor.position["targets"]["search:acme"]["newest"] == 1732200600.0


async def test_page_limit_stops_and_warns(build: Build, caplog: pytest.LogCaptureFixture) -> None:
    replay = ReplayServer().add(SEARCH, Reply.fixture("reddit/search_page1.json"))
    connector = await build(replay, max_pages=1)
    cursor = Cursor(position={"targets": {"search:acme": {"newest": 1.0, "ids": []}}})

    with caplog.at_level(logging.WARNING):
        result = await connector.fetch(cursor)

    assert len(result.mentions) == 3 and len(replay.requests) == 1
    assert "more than 1 pages of new items for search:acme" in caplog.text


async def test_empty_page_keeps_cursor(build: Build) -> None:
    replay = ReplayServer().add(SEARCH, Reply.fixture("reddit/search_empty.json"))
    connector = await build(replay)
    state = {"newest": 1732200600.0, "ids": ["t3_1h9x0c3"]}

    result = await connector.fetch(Cursor(position={"targets": {"search:acme": state}}))

    assert result.mentions == [] and result.skipped == 0
    assert result.cursor.position == {"targets": {"search:acme": state}}


async def test_subreddit_posts_and_comments(build: Build) -> None:
    replay = (
        ReplayServer()
        .add("/r/BuyItForLife+Appliances/new.json", Reply.fixture("reddit/new_page1.json"))
        .add(
            "/r/BuyItForLife+Appliances/comments.json",
            Reply.fixture("reddit/comments_page1.json"),
        )
    )
    connector = await build(replay, search=[], subreddits=["BuyItForLife", "r/Appliances"],
                            comments=True)

    result = await connector.fetch(Cursor())

    post, reply, nested = result.mentions
    assert post.external_id == "t3_1h9z100" and post.author_reach == 1_500_000
    assert reply.external_id == "t1_m1z2x3a"
    assert reply.text == "Same thing happened to me with the Acme kettle, got a burn."
    assert reply.parent_id == "t3_1h9z100"
    assert reply.url == "https://www.reddit.com/r/BuyItForLife/comments/1h9z100/acme_kettle/m1z2x3a/"
    assert reply.engagement is not None and reply.engagement.likes == 31
    assert nested.parent_id == "t1_m1z2x3a"
    assert set(result.cursor.position["targets"]) == {
        "new:BuyItForLife+Appliances", "comments:BuyItForLife+Appliances"
    }


async def test_item_with_null_field_is_skipped_and_logged(
    build: Build, caplog: pytest.LogCaptureFixture
) -> None:
    replay = ReplayServer().add(SEARCH, Reply.fixture("reddit/search_missing_field.json"))
    connector = await build(replay)

    with caplog.at_level(logging.WARNING, logger="connectors.reddit"):
        result = await connector.fetch(Cursor())

    assert [m.external_id for m in result.mentions] == ["t3_1h9y001", "t3_1h9y003"]
    assert result.skipped == 1
    (record,) = [r for r in caplog.records if r.name == "connectors.reddit"]
    assert "t3_1h9y002" in record.getMessage() and "created_utc" in record.getMessage()


async def test_unreadable_post_costs_itself_not_the_page(
    build: Build, caplog: pytest.LogCaptureFixture
) -> None:
    # One post's created_utc overflows a datetime; another's title holds a lone "\ud83d".
    replay = ReplayServer().add(SEARCH, Reply.fixture("reddit/search_bad_items.json"))
    connector = await build(replay)

    with caplog.at_level(logging.WARNING, logger="connectors.base"):
        result = await connector.fetch(Cursor())

    assert [m.external_id for m in result.mentions] == ["t3_1h9x0c3", "t3_1h9wy7k"]
    assert result.skipped == 1
    assert result.mentions[0].title == "Acme kettle leaking after a week \ufffd anyone else?"
    result.mentions[0].text.encode("utf-8")  # what the store does; raises on a surrogate
    (record,) = [r for r in caplog.records if r.name == "connectors.base"]
    assert record.getMessage() == (
        "source reddit-test: skipped item 1 (id '1h9wz1a'): cannot read it (OverflowError: "
        "timestamp out of range for platform time_t); the rest of the page is kept"
    )


@pytest.mark.parametrize(
    ("reply", "error", "words"),
    [
        (Reply.fixture("reddit/error_403_blocked.json", status=403), AuthError, "client_id"),
        (Reply.text("<html>blocked</html>", status=403, content_type="text/html"), AuthError,
         "client_id"),
        (Reply.json({"kind": "Listing", "data": {}}), SourceError, "no data.children"),
    ],
)
async def test_http_errors_map_to_connector_errors(
    build: Build, reply: Reply, error: type[Exception], words: str
) -> None:
    replay = ReplayServer().add(SEARCH, reply)
    connector = await build(replay)

    with pytest.raises(error) as caught:
        await connector.fetch(Cursor())

    assert words in str(caught.value)
    assert not isinstance(caught.value, RateLimited)


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (Reply.fixture("reddit/error_403_quarantined.json", status=403), "'quarantined'"),
        (Reply.fixture("reddit/error_403.json", status=403), "'private'"),
        (Reply.fixture("reddit/error_404_banned.json", status=404), "'banned'"),
    ],
)
async def test_refused_subreddit_costs_its_listing_not_the_source(
    build: Build, caplog: pytest.LogCaptureFixture, reply: Reply, reason: str
) -> None:
    subs = "/r/BuyItForLife+Appliances/new.json"
    replay = (
        ReplayServer()
        .add(SEARCH, Reply.fixture("reddit/search_page1.json"),
             Reply.fixture("reddit/search_empty.json"), Reply.fixture("reddit/search_empty.json"))
        .add(subs, reply, reply, Reply.fixture("reddit/new_page1.json"),
             Reply.fixture("reddit/search_empty.json"))
    )
    connector = await build(replay, subreddits=["BuyItForLife", "Appliances"])
    known = {"newest": 1732100000.0, "ids": []}
    cursor = Cursor(position={"targets": {"new:BuyItForLife+Appliances": known}})

    with caplog.at_level(logging.INFO, logger="connectors.reddit"):
        first = await connector.fetch(cursor)
        second = await connector.fetch(first.cursor)

    # The search results already read are kept; the refused listing keeps its place.
    assert [m.external_id for m in first.mentions] == ["t3_1h9x0c3", "t3_1h9wz1a", "t3_1h9wy7k"]
    assert first.cursor.position["targets"]["new:BuyItForLife+Appliances"] == known
    refusal = first.cursor.position["refused"]["new:BuyItForLife+Appliances"]
    assert reason in refusal and "r/BuyItForLife, r/Appliances" in refusal
    assert second.cursor.position["refused"] == first.cursor.position["refused"]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1  # said once when it starts, not on every poll
    assert "other listings are still read" in warnings[0].getMessage()

    with caplog.at_level(logging.INFO, logger="connectors.reddit"):
        third = await connector.fetch(second.cursor)  # the subreddit is readable again
    assert "refused" not in third.cursor.position
    assert third.mentions[0].external_id == "t3_1h9z100"
    assert "reddit lists new:BuyItForLife+Appliances again" in caplog.text


async def test_every_listing_refused_parks_the_source(build: Build) -> None:
    replay = ReplayServer().add(
        "/r/secretsub/new.json", Reply.fixture("reddit/error_403.json", status=403)
    )
    connector = await build(replay, search=[], subreddits=["secretsub"])

    with pytest.raises(AuthError, match="refused every listing.*'private'"):
        await connector.fetch(Cursor())


async def test_oauth_client_credentials_then_bearer(build: Build) -> None:
    replay = (
        ReplayServer()
        .add("/api/v1/access_token", Reply.fixture("reddit/token.json"), method="POST")
        .add(SEARCH, *[Reply.fixture("reddit/search_empty.json")] * 2)
    )
    connector = await build(replay, **OAUTH)

    await connector.fetch(Cursor())
    await connector.fetch(Cursor())

    (token_request,) = replay.requests_to("/api/v1/access_token")
    basic = base64.b64decode(token_request.headers["Authorization"].split()[1]).decode()
    assert basic == f"{CLIENT_ID}:{CLIENT_SECRET}"
    assert token_request.form() == {"grant_type": "client_credentials"}
    for request in replay.requests_to(SEARCH):  # the token is reused until it expires
        assert request.headers["Authorization"] == f"bearer {TOKEN}"
        assert request.headers["User-Agent"] == OAUTH["user_agent"]


async def test_oauth_401_gets_a_new_token_once(build: Build) -> None:
    replay = (
        ReplayServer()
        .add("/api/v1/access_token", Reply.fixture("reddit/token.json"),
             Reply.fixture("reddit/token.json"), method="POST")
        .add(SEARCH, Reply.fixture("reddit/error_401.json", status=401),
             Reply.fixture("reddit/search_page1.json"))
    )
    connector = await build(replay, **OAUTH)

    result = await connector.fetch(Cursor())

    assert len(result.mentions) == 3
    assert len(replay.requests_to("/api/v1/access_token")) == 2


@pytest.mark.parametrize(
    "token_reply",
    [
        Reply.fixture("reddit/error_401.json", status=401),
        Reply.fixture("reddit/token_invalid_grant.json"),
    ],
)
async def test_refused_client_credentials_is_auth_error(build: Build, token_reply: Reply) -> None:
    replay = ReplayServer().add("/api/v1/access_token", token_reply, method="POST")
    connector = await build(replay, **OAUTH)

    with pytest.raises(AuthError, match="reddit.com/prefs/apps"):
        await connector.fetch(Cursor())
    assert replay.requests_to(SEARCH) == []


async def test_credentials_never_reach_logs_or_errors(
    build: Build, caplog: pytest.LogCaptureFixture
) -> None:
    # A misbehaving proxy that echoes the request's credentials in its error page.
    echo = f"upstream failed: Authorization: bearer {TOKEN} id={CLIENT_ID} key={CLIENT_SECRET}"
    replay = (
        ReplayServer()
        .add("/api/v1/access_token", Reply.fixture("reddit/token.json"), method="POST")
        .add(SEARCH, Reply.text(echo, status=502), Reply.text(echo, status=200))
    )
    connector = await build(replay, **OAUTH)

    errors = []
    with caplog.at_level(logging.DEBUG):
        for _ in range(2):  # a 502, then a 200 whose body is not JSON
            with pytest.raises(SourceError) as caught:
                await connector.fetch(Cursor())
            errors.append(str(caught.value))

    assert "HTTP 502" in errors[0] and "malformed JSON" in errors[1]
    for text in [*errors, caplog.text]:
        for secret in (TOKEN, CLIENT_ID, CLIENT_SECRET):
            assert secret not in text


async def test_refresh_rereads_counters_in_batches_of_100(build: Build) -> None:
    replay = ReplayServer(repeat_last=True).add("/api/info.json", Reply.fixture("reddit/info.json"))
    connector = await build(replay)
    refs = ["t3_1h9x0c3", "t1_m1z2x3a", "https://example.com/not-reddit"] + [
        f"t3_x{i}" for i in range(148)
    ]

    updates = await connector.refresh(refs)

    first, second = replay.requests_to("/api/info.json")
    assert first.query["id"].split(",")[:2] == ["t3_1h9x0c3", "t1_m1z2x3a"]
    assert len(first.query["id"].split(",")) == 100
    assert len(second.query["id"].split(",")) == 50
    post = next(u for u in updates if u.external_id == "t3_1h9x0c3")
    assert (post.engagement.likes, post.engagement.comments) == (480, 133)
    assert post.engagement.extra == {"upvote_ratio": 0.94}
    assert post.observed_at == NOW and post.platform == "reddit"
    comment = next(u for u in updates if u.external_id == "t1_m1z2x3a")
    assert comment.engagement.likes == 77


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "set `search`"),
        ({"subreddits": ["a b"]}, "not a subreddit name"),
        ({"search": ["acme"], "comments": True}, "needs `subreddits`"),
        ({"search": ["acme"], "client_id": {"env": "X"}}, "both client_id and client_secret"),
        ({"search": ["acme"], "client_secret": "literal"}, "env"),
        ({"search": ["acme"], "base_url": "ftp://x"}, "http(s) URL"),
        ({"search": ["acme"], "limit": 500}, "less than or equal to 100"),
        ({"search": ["acme"], "serach": ["typo"]}, "Extra inputs are not permitted"),
    ],
)
def test_options_are_checked(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        RedditOptions.model_validate(options)


def test_registered_kind() -> None:
    assert connector_class("reddit") is RedditConnector
