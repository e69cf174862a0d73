"""Mastodon connector against a local server replaying Mastodon's REST API."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from blockbuster import BlockBuster
from pydantic import ValidationError

from connectors.base import AuthError, Cursor, RateLimited, SourceError, connector_class
from connectors.mastodon import MastodonConnector, MastodonOptions
from monitor.clock import VirtualClock
from monitor.httpclient import HttpClient, HttpLimits
from tests.connectors.replay_server import ReplayServer, Reply, allow_fixture_reads

TOKEN = "fake-mastodon-token-Qm9vX2Jhcl9iYXo"
NOW = datetime(2024, 11, 21, 15, 0, tzinfo=UTC)
TAG = "/api/v1/timelines/tag/acme"
SEARCH = "/api/v2/search"
KETTLE_URI = "https://mastodon.social/users/alice/statuses/113520000000000003"

Build = Callable[..., Awaitable[MastodonConnector]]


@pytest.fixture
async def build(
    aiohttp_server: Any, no_blocking: BlockBuster, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Build]:
    """Start the replay server and build a connector.

    In `instances`, "{base}" becomes the server's URL and "{alias}" the same server named
    "localhost", which stands for a second instance.
    """
    allow_fixture_reads(no_blocking)
    monkeypatch.setenv("MASTODON_TOKEN", TOKEN)
    clients: list[HttpClient] = []

    async def factory(
        replay: ReplayServer,
        max_body_bytes: int = 5_000_000,
        token: bool = False,
        **options: Any,
    ) -> MastodonConnector:
        server = await aiohttp_server(replay.app())
        base = str(server.make_url("")).rstrip("/")
        instance: dict[str, Any] = {"url": base}
        if token:
            instance["access_token"] = {"env": "MASTODON_TOKEN"}
        options.setdefault("instances", [instance])
        options["instances"] = [
            i.replace("{base}", base).replace("{alias}", base.replace("127.0.0.1", "localhost"))
            if isinstance(i, str)
            else i
            for i in options["instances"]
        ]
        options.setdefault("hashtags", ["acme"])
        opts = MastodonOptions.model_validate(options)
        http = HttpClient(HttpLimits(max_body_bytes=max_body_bytes))
        clients.append(http)
        return MastodonConnector("masto-test", opts, http, clock=VirtualClock(NOW))

    yield factory
    for http in clients:
        await http.close()


def _instance_url(connector: MastodonConnector) -> str:
    assert isinstance(connector.options, MastodonOptions)
    return connector.options.instances[0].url


async def test_first_poll_maps_statuses(build: Build) -> None:
    replay = ReplayServer().add(TAG, Reply.fixture("mastodon/tag_page1.json"))
    connector = await build(replay)

    result = await connector.fetch(Cursor())

    kettle, recall, reply = result.mentions
    assert kettle.platform == "mastodon"
    assert kettle.external_id == KETTLE_URI
    assert kettle.url == "https://mastodon.social/@alice/113520000000000003"
    assert kettle.text == (
        "My #acme kettle's lid flew open while boiling. Burned my hand. Never again."
    )
    local_host = urlsplit(_instance_url(connector)).netloc
    assert kettle.author == f"alice@{local_host}"  # local accounts get their server added
    assert kettle.author_reach == 2310
    assert kettle.published_at == datetime(2024, 11, 21, 14, 58, tzinfo=UTC)
    assert kettle.lang == "en"
    assert kettle.engagement is not None
    assert (kettle.engagement.likes, kettle.engagement.shares, kettle.engagement.comments) == (
        95, 40, 12
    )
    assert recall.author == "bob@fosstodon.org" and recall.author_reach == 15800
    assert recall.lang == "en"  # from "en-GB"
    assert reply.parent_id == "113519999999999999"
    assert reply.text == "kitchen injury @alice same with mine #acme"  # content warning first
    assert reply.lang == "de"

    (request,) = replay.requests
    assert request.query["limit"] == "40" and "min_id" not in request.query
    assert "Authorization" not in request.headers
    assert result.cursor.position == {
        "timelines": {f"{_instance_url(connector)}|tag:acme": "113520000000000003"}
    }
    # The runner stores cursors as JSON.
    assert json.loads(json.dumps(result.cursor.position)) == result.cursor.position


async def test_next_poll_pages_forward_with_link_prev(build: Build) -> None:
    link = (
        "<https://mastodon.example/api/v1/timelines/tag/acme?max_id=113530000000000001>; "
        'rel="next", '
        "<https://mastodon.example/api/v1/timelines/tag/acme?min_id=113530000000000040>; "
        'rel="prev"'
    )
    replay = ReplayServer().add(
        TAG,
        Reply.fixture("mastodon/tag_full_page.json", headers={"Link": link}),
        Reply.fixture("mastodon/tag_newer.json"),
    )
    connector = await build(replay)
    key = f"{_instance_url(connector)}|tag:acme"

    result = await connector.fetch(Cursor(position={"timelines": {key: "113530000000000000"}}))

    assert len(result.mentions) == 42
    first, second = replay.requests_to(TAG)
    assert first.query["min_id"] == "113530000000000000"
    assert second.query["min_id"] == "113530000000000040"
    assert result.cursor.position == {"timelines": {key: "113530000000000042"}}


async def test_empty_page_keeps_cursor(build: Build) -> None:
    replay = ReplayServer().add(TAG, Reply.fixture("mastodon/tag_empty.json"))
    connector = await build(replay)
    position = {"timelines": {f"{_instance_url(connector)}|tag:acme": "113520000000000003"}}

    result = await connector.fetch(Cursor(position=position))

    assert result.mentions == [] and result.skipped == 0
    assert result.cursor.position == position
    assert replay.requests[0].query["min_id"] == "113520000000000003"


async def test_status_without_created_at_is_skipped_and_logged(
    build: Build, caplog: pytest.LogCaptureFixture
) -> None:
    replay = ReplayServer().add(TAG, Reply.fixture("mastodon/tag_missing_field.json"))
    connector = await build(replay)

    with caplog.at_level(logging.WARNING, logger="connectors.mastodon"):
        result = await connector.fetch(Cursor())

    assert [m.text for m in result.mentions] == [
        "#acme toaster smoke alarm again", "#acme is fine honestly"
    ]
    assert result.skipped == 1
    (record,) = caplog.records
    assert "113540000000000002" in record.getMessage() and "created_at" in record.getMessage()


async def test_search_with_token_and_dedupe_across_timelines(build: Build) -> None:
    replay = (
        ReplayServer()
        .add(
            TAG, Reply.fixture("mastodon/tag_page1.json"), Reply.fixture("mastodon/tag_empty.json")
        )
        .add(SEARCH, *[Reply.fixture("mastodon/search_statuses.json")] * 2)
    )
    connector = await build(replay, token=True, search=["acme kettle"])

    result = await connector.fetch(Cursor())
    await connector.fetch(result.cursor)

    # The kettle status is in the hashtag timeline and the search: one mention.
    assert len(result.mentions) == 4
    assert [m.external_id for m in result.mentions].count(KETTLE_URI) == 1
    first, second = replay.requests_to(SEARCH)
    assert (first.query["q"], first.query["type"], first.query["limit"]) == (
        "acme kettle", "statuses", "40"
    )
    assert "min_id" not in first.query and second.query["min_id"] == "113520000000000010"
    assert first.headers["Authorization"] == f"Bearer {TOKEN}"
    assert replay.requests_to(TAG)[0].headers["Authorization"] == f"Bearer {TOKEN}"


async def test_each_instance_keeps_its_own_cursor(build: Build) -> None:
    replay = ReplayServer(repeat_last=True).add(TAG, Reply.fixture("mastodon/tag_page1.json"))
    # The same local server under two names stands for two instances.
    connector = await build(replay, instances=["{base}", "{alias}"])
    connector_urls = [i.url for i in connector.opts.instances]
    assert "localhost" in connector_urls[1]

    result = await connector.fetch(Cursor())

    assert len(replay.requests) == 2
    assert len(result.mentions) == 3  # the same statuses, by uri, once
    assert set(result.cursor.position["timelines"]) == {f"{u}|tag:acme" for u in connector_urls}


@pytest.mark.parametrize(
    ("reply", "token", "error", "words"),
    [
        (Reply.fixture("mastodon/error_401.json", status=401), True, AuthError,
         "The access token is invalid"),
        (Reply.fixture("mastodon/error_403.json", status=403), False, AuthError,
         "add an access_token"),
        (Reply.json({"error": "This method requires an authenticated user"}, status=401), False,
         AuthError, "may now require login for them"),
        (Reply.json({"error": "?"}), False, SourceError, "other than a list"),
    ],
)
async def test_http_errors_map_to_connector_errors(
    build: Build, reply: Reply, token: bool, error: type[Exception], words: str
) -> None:
    replay = ReplayServer().add(TAG, reply)
    connector = await build(replay, token=token)

    with pytest.raises(error) as caught:
        await connector.fetch(Cursor())

    assert words in str(caught.value)
    assert not isinstance(caught.value, RateLimited)


async def test_credentials_never_reach_logs_or_errors(
    build: Build, caplog: pytest.LogCaptureFixture
) -> None:
    echo = f"proxy error: Authorization: Bearer {TOKEN}"
    replay = ReplayServer().add(TAG, Reply.text(echo, status=502), Reply.text(echo, status=200))
    connector = await build(replay, token=True)

    errors = []
    with caplog.at_level(logging.DEBUG):
        for _ in range(2):  # a 502, then a 200 whose body is not JSON
            with pytest.raises(SourceError) as caught:
                await connector.fetch(Cursor())
            errors.append(str(caught.value))

    assert "HTTP 502" in errors[0] and "malformed JSON" in errors[1]
    for text in [*errors, caplog.text]:
        assert TOKEN not in text


async def test_refresh_rereads_statuses_where_they_were_seen(build: Build) -> None:
    refreshed = json.loads(Reply.fixture("mastodon/status_refreshed.json").body)
    replay = (
        ReplayServer()
        .add(TAG, Reply.fixture("mastodon/tag_page1.json"))
        # The deleted status is simply absent from the batch answer.
        .add("/api/v1/statuses", Reply.json([refreshed]))
    )
    connector = await build(replay)
    await connector.fetch(Cursor())  # learns where each uri can be read
    host = urlsplit(_instance_url(connector)).netloc
    deleted_local = f"http://{host}/users/carla/statuses/777"  # on a configured instance

    updates = await connector.refresh(
        [KETTLE_URI, deleted_local, "https://elsewhere.example/users/x/statuses/1", "t3_abc"]
    )

    (update,) = updates
    assert update.external_id == KETTLE_URI
    assert (update.engagement.likes, update.engagement.shares, update.engagement.comments) == (
        1204, 610, 88
    )
    assert update.observed_at == NOW and update.platform == "mastodon"
    (batch,) = replay.requests_to("/api/v1/statuses")
    assert batch.query.getall("id[]") == ["113520000000000003", "777"]


def _statuses(first: int, count: int) -> Reply:
    """A batch answer: the refreshed status fixture with ids first, first + 1, ..."""
    template = json.loads(Reply.fixture("mastodon/status_refreshed.json").body)
    return Reply.json([{**template, "id": str(first + n)} for n in range(count)])


def _local_refs(connector: MastodonConnector, first: int, count: int) -> list[str]:
    """Uris of statuses that live on the configured (local test) instance."""
    host = urlsplit(_instance_url(connector)).netloc
    return [f"http://{host}/users/alice/statuses/{first + n}" for n in range(count)]


async def test_refresh_asks_20_statuses_per_request(build: Build) -> None:
    replay = ReplayServer().add(
        "/api/v1/statuses", _statuses(1000, 20), _statuses(1020, 20), _statuses(1040, 5)
    )
    connector = await build(replay)

    updates = await connector.refresh(_local_refs(connector, 1000, 45))

    batches = replay.requests_to("/api/v1/statuses")
    assert [len(b.query.getall("id[]")) for b in batches] == [20, 20, 5]
    assert batches[1].query.getall("id[]")[0] == "1020"
    assert sorted(u.external_id for u in updates) == sorted(_local_refs(connector, 1000, 45))


async def test_refresh_falls_back_to_one_request_each_before_mastodon_4_3(
    build: Build, caplog: pytest.LogCaptureFixture
) -> None:
    single = "/api/v1/statuses/113520000000000003"
    replay = (
        ReplayServer()
        .add("/api/v1/statuses", Reply.fixture("mastodon/error_404.json", status=404))
        .add(single, *[Reply.fixture("mastodon/status_refreshed.json")] * 2)
    )
    connector = await build(replay)
    refs = _local_refs(connector, 113520000000000003, 1)

    with caplog.at_level(logging.INFO, logger="connectors.mastodon"):
        first = await connector.refresh(refs)
        second = await connector.refresh(refs)

    assert len(first) == len(second) == 1
    assert len(replay.requests_to("/api/v1/statuses")) == 1  # asked once, then remembered
    assert len(replay.requests_to(single)) == 2
    assert "no batch status lookup" in caplog.text


async def test_refresh_leaves_a_quarter_of_the_allowance_for_polling(
    build: Build, caplog: pytest.LogCaptureFixture
) -> None:
    reset = (NOW + timedelta(minutes=4)).isoformat()
    left = [{"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": str(n),
             "X-RateLimit-Reset": reset} for n in (90, 74)]
    replay = ReplayServer().add(
        "/api/v1/statuses",
        Reply(body=_statuses(1000, 20).body, headers=left[0]),
        Reply(body=_statuses(1020, 20).body, headers=left[1]),
    )
    connector = await build(replay)

    with caplog.at_level(logging.INFO, logger="connectors.mastodon"):
        updates = await connector.refresh(_local_refs(connector, 1000, 60))

    assert len(replay.requests_to("/api/v1/statuses")) == 2  # 74 left of 300: stop
    assert len(updates) == 40
    assert "40 of 60 statuses refreshed this time" in caplog.text


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"hashtags": ["acme"]}, "instances"),
        ({"instances": ["https://mastodon.social"]}, "set `hashtags` or `search`"),
        ({"instances": ["https://mastodon.social"], "search": ["acme"]}, "needs an instance with"),
        ({"instances": ["mastodon.social"], "hashtags": ["acme"]}, "http(s) URL"),
        ({"instances": ["https://mastodon.social"], "hashtags": ["two words"]}, "not a hashtag"),
        ({"instances": [{"url": "https://m.s", "token": "x"}], "hashtags": ["a"]},
         "Extra inputs are not permitted"),
        ({"instances": [{"url": "https://m.s", "access_token": "literal"}], "hashtags": ["a"]},
         "env"),
    ],
)
def test_options_are_checked(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        MastodonOptions.model_validate(options)


def test_instance_accepts_a_plain_url_or_a_table() -> None:
    options = MastodonOptions.model_validate(
        {
            "instances": [
                "https://mastodon.social/",
                {"url": "https://fosstodon.org", "access_token": {"env": "FOSS_TOKEN"}},
            ],
            "hashtags": ["#acme"],
            "search": ["acme"],
        }
    )
    assert [i.url for i in options.instances] == ["https://mastodon.social", "https://fosstodon.org"]
    assert options.hashtags == ["acme"]


def test_registered_kind() -> None:
    assert connector_class("mastodon") is MastodonConnector
