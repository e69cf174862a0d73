"""Bluesky connector against a local server replaying XRPC responses."""

from __future__ import annotations

import json
import logging
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from blockbuster import BlockBuster
from pydantic import ValidationError
from typer.testing import CliRunner

from connectors.base import AuthError, Cursor, RateLimited, SourceError, connector_class
from connectors.bluesky import BlueskyConnector, BlueskyOptions
from monitor.cli import app
from monitor.clock import VirtualClock
from monitor.httpclient import HttpClient, HttpLimits
from tests.connectors.replay_server import ReplayServer, Reply, allow_fixture_reads

APP_PASSWORD = "abcd-efgh-ijkl-mnop"
ACCESS_1 = "eyJ0eXAiOiJhdCtqd3QiLCJhbGciOiJFUzI1NksifQ.fake-access-1111.sig"
REFRESH_1 = "eyJ0eXAiOiJyZWZyZXNoK2p3dCIsImFsZyI6IkVTMjU2SyJ9.fake-refresh-1111.sig"
ACCESS_2 = "eyJ0eXAiOiJhdCtqd3QiLCJhbGciOiJFUzI1NksifQ.fake-access-2222.sig"
NOW = datetime(2024, 11, 21, 15, 0, tzinfo=UTC)
SEARCH = "/xrpc/app.bsky.feed.searchPosts"
PROFILES = "/xrpc/app.bsky.actor.getProfiles"
POSTS = "/xrpc/app.bsky.feed.getPosts"
CREATE = "/xrpc/com.atproto.server.createSession"
REFRESH = "/xrpc/com.atproto.server.refreshSession"
LOGIN = {"identifier": "acme-watch.bsky.social", "app_password": {"env": "BSKY_APP_PASSWORD"}}
FIRST_URI = "at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.post/3lbqv7x2k5c2a"

Build = Callable[..., Awaitable[BlueskyConnector]]


@pytest.fixture
async def build(
    aiohttp_server: Any, no_blocking: BlockBuster, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Build]:
    """Start the replay server and build a connector whose services point at it."""
    allow_fixture_reads(no_blocking)
    monkeypatch.setenv("BSKY_APP_PASSWORD", APP_PASSWORD)
    clients: list[HttpClient] = []

    async def factory(
        replay: ReplayServer, max_body_bytes: int = 5_000_000, **options: Any
    ) -> BlueskyConnector:
        server = await aiohttp_server(replay.app())
        base = str(server.make_url("")).rstrip("/")
        options.setdefault("search", ["acme"])
        options.setdefault("author_reach", False)
        for key, value in LOGIN.items():
            options.setdefault(key, value)
        if f"POST {CREATE}" not in replay.pending():  # every source logs in first
            replay.add(CREATE, Reply.fixture("bluesky/create_session.json"), method="POST")
        opts = BlueskyOptions.model_validate({"auth_service": base, **options})
        http = HttpClient(HttpLimits(max_body_bytes=max_body_bytes))
        clients.append(http)
        return BlueskyConnector("bsky-test", opts, http, clock=VirtualClock(NOW))

    yield factory
    for http in clients:
        await http.close()


async def test_first_poll_maps_posts_and_author_reach(build: Build) -> None:
    replay = (
        ReplayServer()
        .add(SEARCH, Reply.fixture("bluesky/search_page1.json"))
        .add(PROFILES, Reply.fixture("bluesky/get_profiles.json"))
    )
    connector = await build(replay, author_reach=True)

    result = await connector.fetch(Cursor())

    leak, news, reply = result.mentions
    assert leak.platform == "bluesky"
    assert leak.external_id == FIRST_URI
    assert leak.url == "https://bsky.app/profile/kettlewatch.bsky.social/post/3lbqv7x2k5c2a"
    assert leak.author == "kettlewatch.bsky.social"
    assert leak.author_reach == 18250
    assert leak.published_at == datetime(2024, 11, 21, 14, 58, tzinfo=UTC)
    assert leak.lang == "en"
    assert leak.engagement is not None
    counts = (leak.engagement.likes, leak.engagement.shares, leak.engagement.comments)
    assert counts == (210, 73, 31)  # shares: 64 reposts + 9 quotes
    assert leak.engagement.extra == {"reposts": 64.0, "quotes": 9.0}
    assert news.lang == "en"  # from "en-US"
    assert news.text == (
        "Big if true Acme recalls Pro kettle over burn risk "
        "Regulators say the lid can open during boiling."
    )
    assert news.author_reach == 402113
    assert reply.parent_id == (
        "at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.post/3lbqqqqqqqq2a"
    )
    # An account whose handle does not verify links by DID.
    assert reply.url == "https://bsky.app/profile/did:plc:4llrhdclvdlmmynkwsmg5tdc/post/3lbqv3ffa7k2c"

    (search,) = replay.requests_to(SEARCH)
    assert search.query["q"] == "acme"
    assert (search.query["sort"], search.query["limit"]) == ("latest", "50")
    assert "since" not in search.query and "cursor" not in search.query
    assert search.headers["Authorization"] == f"Bearer {ACCESS_1}"
    (profiles,) = replay.requests_to(PROFILES)
    assert sorted(profiles.query.getall("actors")) == sorted(
        {"did:plc:z72i7hdynmk6r22z27h6tvur", "did:plc:ewvi7nxzyoun6zhxrhs64oiz",
         "did:plc:4llrhdclvdlmmynkwsmg5tdc"}
    )
    assert result.cursor.position == {
        "queries": {"acme": {"since": "2024-11-21T14:58:00.000000Z", "uris": [FIRST_URI]}}
    }
    # The runner stores cursors as JSON.
    assert json.loads(json.dumps(result.cursor.position)) == result.cursor.position


async def test_follower_counts_are_cached(build: Build) -> None:
    replay = (
        ReplayServer()
        .add(SEARCH, *[Reply.fixture("bluesky/search_page1.json")] * 2)
        .add(PROFILES, Reply.fixture("bluesky/get_profiles.json"))
    )
    connector = await build(replay, author_reach=True)

    await connector.fetch(Cursor())
    second = await connector.fetch(Cursor())

    assert len(replay.requests_to(PROFILES)) == 1
    assert second.mentions[0].author_reach == 18250


async def test_failed_profile_lookup_keeps_the_posts(
    build: Build, caplog: pytest.LogCaptureFixture
) -> None:
    replay = (
        ReplayServer()
        .add(SEARCH, Reply.fixture("bluesky/search_page1.json"))
        .add(PROFILES, Reply.fixture("bluesky/error_500.json", status=500))
    )
    connector = await build(replay, author_reach=True)

    with caplog.at_level(logging.WARNING, logger="connectors.bluesky"):
        result = await connector.fetch(Cursor())

    assert len(result.mentions) == 3
    assert all(m.author_reach is None for m in result.mentions)
    assert "follower counts unavailable" in caplog.text


async def test_logged_in_poll_pages_with_cursor_since_the_last_post(build: Build) -> None:
    replay = (
        ReplayServer()
        .add(CREATE, Reply.fixture("bluesky/create_session.json"), method="POST")
        .add(
            SEARCH,
            Reply.fixture("bluesky/search_page1.json"),
            Reply.fixture("bluesky/search_page2.json"),
        )
    )
    connector = await build(replay, **LOGIN)
    since = "2024-11-21T14:40:00.300000Z"
    known = "at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.post/3lbqu9zzz1b2e"
    cursor = Cursor(position={"queries": {"acme": {"since": since, "uris": [known]}}})

    result = await connector.fetch(cursor)

    assert [m.external_id.rsplit("/", 1)[1] for m in result.mentions] == [
        "3lbqv7x2k5c2a", "3lbqv5mtd4s2b", "3lbqv3ffa7k2c", "3lbqv1aaa2x2d"
    ]
    (login,) = replay.requests_to(CREATE)
    assert login.json() == {"identifier": "acme-watch.bsky.social", "password": APP_PASSWORD}
    first, second = replay.requests_to(SEARCH)
    assert first.query["since"] == since and "cursor" not in first.query
    assert second.query["cursor"] == "3" and second.query["since"] == since
    assert first.headers["Authorization"] == f"Bearer {ACCESS_1}"
    assert result.cursor.position["queries"]["acme"]["since"] == "2024-11-21T14:58:00.000000Z"


async def test_page_limit_stops_and_says_so(
    build: Build, caplog: pytest.LogCaptureFixture
) -> None:
    replay = ReplayServer().add(SEARCH, Reply.fixture("bluesky/search_page1.json"))
    connector = await build(replay, max_pages=1)
    cursor = Cursor(position={"queries": {"acme": {"since": "2024-11-21T14:00:00Z", "uris": []}}})

    with caplog.at_level(logging.WARNING, logger="connectors.bluesky"):
        result = await connector.fetch(cursor)

    assert len(result.mentions) == 3 and len(replay.requests_to(SEARCH)) == 1
    assert "raise max_pages" in caplog.text


async def test_empty_page_keeps_cursor(build: Build) -> None:
    replay = ReplayServer().add(SEARCH, Reply.fixture("bluesky/search_empty.json"))
    connector = await build(replay)
    state = {"since": "2024-11-21T14:58:00.000000Z", "uris": [FIRST_URI]}

    result = await connector.fetch(Cursor(position={"queries": {"acme": state}}))

    assert result.mentions == [] and result.skipped == 0
    assert result.cursor.position == {"queries": {"acme": state}}


async def test_post_without_author_handle_is_skipped_and_logged(
    build: Build, caplog: pytest.LogCaptureFixture
) -> None:
    replay = ReplayServer().add(SEARCH, Reply.fixture("bluesky/search_missing_field.json"))
    connector = await build(replay)

    with caplog.at_level(logging.WARNING, logger="connectors.bluesky"):
        result = await connector.fetch(Cursor())

    assert [m.text for m in result.mentions] == [
        "Acme toaster smoking again", "Acme refund finally arrived"
    ]
    assert result.skipped == 1
    (record,) = caplog.records
    assert "3lbqw0bbbbb2b" in record.getMessage() and "author.handle" in record.getMessage()


@pytest.mark.parametrize(
    ("reply", "error", "words"),
    [
        (Reply.fixture("bluesky/auth_missing.json", status=401), AuthError, "AuthMissing"),
        (Reply.fixture("bluesky/auth_missing.json", status=403), AuthError, "app password"),
        (Reply.fixture("bluesky/bad_query.json", status=400), SourceError, "BadQueryString"),
        (Reply.json({"cursor": "3"}), SourceError, "without a posts list"),
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


async def test_expired_token_is_refreshed_once(build: Build) -> None:
    replay = (
        ReplayServer()
        .add(CREATE, Reply.fixture("bluesky/create_session.json"), method="POST")
        .add(REFRESH, Reply.fixture("bluesky/refresh_session.json"), method="POST")
        .add(
            SEARCH,
            Reply.fixture("bluesky/expired_token.json", status=400),
            Reply.fixture("bluesky/search_empty.json"),
        )
    )
    connector = await build(replay, **LOGIN)

    result = await connector.fetch(Cursor())

    assert result.mentions == []
    (refresh,) = replay.requests_to(REFRESH)
    assert refresh.headers["Authorization"] == f"Bearer {REFRESH_1}"
    expired, retried = replay.requests_to(SEARCH)
    assert expired.headers["Authorization"] == f"Bearer {ACCESS_1}"
    assert retried.headers["Authorization"] == f"Bearer {ACCESS_2}"
    assert len(replay.requests_to(CREATE)) == 1


async def test_refused_refresh_logs_in_again(build: Build) -> None:
    replay = (
        ReplayServer()
        .add(CREATE, *[Reply.fixture("bluesky/create_session.json")] * 2, method="POST")
        .add(REFRESH, Reply.fixture("bluesky/expired_token.json", status=400), method="POST")
        .add(
            SEARCH,
            Reply.fixture("bluesky/expired_token.json", status=401),
            Reply.fixture("bluesky/search_empty.json"),
        )
    )
    connector = await build(replay, **LOGIN)

    await connector.fetch(Cursor())

    assert len(replay.requests_to(CREATE)) == 2
    assert len(replay.requests_to(SEARCH)) == 2


async def test_token_still_refused_after_refresh_is_auth_error(build: Build) -> None:
    replay = (
        ReplayServer()
        .add(CREATE, Reply.fixture("bluesky/create_session.json"), method="POST")
        .add(REFRESH, Reply.fixture("bluesky/refresh_session.json"), method="POST")
        .add(SEARCH, *[Reply.fixture("bluesky/expired_token.json", status=401)] * 2)
    )
    connector = await build(replay, **LOGIN)

    with pytest.raises(AuthError, match="ExpiredToken"):
        await connector.fetch(Cursor())
    assert len(replay.requests_to(SEARCH)) == 2  # one retry, not a loop


async def test_wrong_app_password_is_auth_error(build: Build) -> None:
    replay = ReplayServer().add(
        CREATE, Reply.fixture("bluesky/invalid_login.json", status=401), method="POST"
    )
    connector = await build(replay, **LOGIN)

    with pytest.raises(AuthError) as caught:
        await connector.fetch(Cursor())

    message = str(caught.value)
    assert "acme-watch.bsky.social" in message and "bsky.app/settings/app-passwords" in message
    assert APP_PASSWORD not in message
    assert replay.requests_to(SEARCH) == []


async def test_credentials_never_reach_logs_or_errors(
    build: Build, caplog: pytest.LogCaptureFixture
) -> None:
    # A misbehaving proxy that echoes the credentials it saw in its error pages.
    echo = f"bad gateway: password={APP_PASSWORD} auth=Bearer {ACCESS_1} refresh={REFRESH_1}"
    replay = (
        ReplayServer()
        .add(CREATE, Reply.fixture("bluesky/create_session.json"), method="POST")
        .add(SEARCH, Reply.text(echo, status=502), Reply.text(echo, status=200))
        .add(POSTS, Reply.text(echo, status=500))
    )
    connector = await build(replay, **LOGIN)

    errors = []
    with caplog.at_level(logging.DEBUG):
        for _ in range(2):  # a 502, then a 200 whose body is not JSON
            with pytest.raises(SourceError) as caught:
                await connector.fetch(Cursor())
            errors.append(str(caught.value))
        with pytest.raises(SourceError) as caught:
            await connector.refresh([FIRST_URI])
        errors.append(str(caught.value))

    assert "HTTP 502" in errors[0] and "malformed JSON" in errors[1] and "HTTP 500" in errors[2]
    for text in [*errors, caplog.text]:
        for secret in (APP_PASSWORD, ACCESS_1, REFRESH_1):
            assert secret not in text


async def test_refresh_reads_counters_25_uris_per_call(build: Build) -> None:
    replay = ReplayServer(repeat_last=True).add(POSTS, Reply.fixture("bluesky/get_posts.json"))
    connector = await build(replay)
    refs = [FIRST_URI, "t3_not_bluesky"] + [
        f"at://did:plc:someone/app.bsky.feed.post/3k{i:03d}" for i in range(29)
    ]

    updates = await connector.refresh(refs)

    first, second = replay.requests_to(POSTS)
    assert first.query.getall("uris")[0] == FIRST_URI
    assert len(first.query.getall("uris")) == 25 and len(second.query.getall("uris")) == 5
    leak = next(u for u in updates if u.external_id == FIRST_URI)
    assert (leak.engagement.likes, leak.engagement.shares, leak.engagement.comments) == (
        1830, 797, 240
    )
    assert leak.observed_at == NOW and leak.platform == "bluesky"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({**LOGIN}, "search"),
        ({**LOGIN, "search": []}, "at least 1 item"),
        ({"search": ["acme"]}, "closed search to anonymous clients"),
        ({"search": ["acme"], "identifier": "me.bsky.social"}, "App passwords"),
        ({"search": ["acme"], "identifier": "me", "app_password": "hunter2"}, "env"),
        ({**LOGIN, "search": ["acme"], "service": "https://public.api.bsky.app"},
         "remove `service`"),
        ({**LOGIN, "search": ["acme"], "auth_service": "bsky.social"}, "http(s) URL"),
        ({**LOGIN, "search": ["acme"], "limit": 0}, "greater than or equal to 1"),
        ({**LOGIN, "search": ["acme"], "handle": "x"}, "Extra inputs are not permitted"),
    ],
)
def test_options_are_checked(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        BlueskyOptions.model_validate(options)


def test_check_config_says_search_needs_an_app_password(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(textwrap.dedent(f"""
        [[brands]]
        name = "Acme"
        [[sources]]
        kind = "bluesky"
        name = "bluesky"
        search = ["acme"]
        [storage]
        path = "{tmp_path / 'bm.db'}"
    """), encoding="utf-8")

    result = CliRunner(env={"COLUMNS": "250"}).invoke(app, ["check-config", str(config)])

    assert result.exit_code == 2, result.output
    output = " ".join(result.output.split())
    assert "sources[0]" in output and "closed search to anonymous clients" in output
    assert "App passwords" in output and "bsky.app/settings/app-passwords" in output


def test_registered_kind() -> None:
    assert connector_class("bluesky") is BlueskyConnector
