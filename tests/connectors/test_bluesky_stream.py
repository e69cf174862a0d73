"""Bluesky stream source against a local WebSocket server replaying Jetstream events."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import WSCloseCode, web
from blockbuster import BlockBuster
from multidict import MultiDict
from pydantic import ValidationError

from connectors.base import Cursor, SourceError, connector_class
from connectors.bluesky_stream import (
    REWIND_US,
    BlueskyStreamConnector,
    BlueskyStreamOptions,
    term_pattern,
)
from monitor.httpclient import HttpClient
from monitor.records import Mention
from tests.connectors.replay_server import FIXTURES

EVENTS = [
    json.loads(line)
    for line in (FIXTURES / "bluesky_stream" / "events.jsonl").read_text().splitlines()
]
T0 = EVENTS[0]["time_us"]
KETTLE = "at://did:plc:kettlewatch7q2x/app.bsky.feed.post/3l3qo2vv1aa2c"
CARD = "at://did:plc:newsbot9/app.bsky.feed.post/3l3qo2vv5cc2e"
REPLY = "at://did:plc:replyguy/app.bsky.feed.post/3l3qo2vv7ee2g"
SUPPORT = "at://did:plc:kettlewatch7q2x/app.bsky.feed.post/3l3qo2vvbgg2i"
MATCHING = [KETTLE, CARD, REPLY, SUPPORT]  # "acme" as a word; not "acmecorp", likes, deletes


class Jetstream:
    """Replays events in Jetstream's JSON format from the `cursor` a client asks for.

    `plan` scripts each connection in turn: an int sends that many events and then drops the
    connection, "refuse" answers HTTP 503 instead of upgrading, None sends the rest and stays open.
    """

    def __init__(self, events: list[dict[str, Any]], plan: list[int | str | None]) -> None:
        self.events = events
        self.plan = list(plan)
        self.queries: list[MultiDict[str]] = []

    def app(self) -> web.Application:
        """The aiohttp application serving /subscribe."""
        app = web.Application()
        app.router.add_get("/subscribe", self._subscribe)
        return app

    async def _subscribe(self, request: web.Request) -> web.StreamResponse:
        self.queries.append(MultiDict(request.query))
        step = self.plan.pop(0) if self.plan else None
        if step == "refuse":
            return web.Response(status=503, text="jetstream: over capacity")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        cursor = int(request.query.get("cursor", "0"))
        # Jetstream replays from the cursor (inclusive); without one it starts live.
        pending = [e for e in self.events if e["time_us"] >= cursor]
        for sent, event in enumerate(pending, start=1):
            await ws.send_str(json.dumps(event))
            if isinstance(step, int) and sent >= step:
                await ws.close(code=WSCloseCode.GOING_AWAY, message=b"restarting")
                return ws
        async for _ in ws:  # stay open until the client leaves
            pass
        return ws


Build = Callable[..., Awaitable[BlueskyStreamConnector]]


@pytest.fixture
async def build(
    aiohttp_server: Any, no_blocking: BlockBuster
) -> AsyncIterator[Callable[..., Awaitable[BlueskyStreamConnector]]]:
    """Start a Jetstream replay and build connectors pointed at it; closes them afterwards."""
    connectors: list[BlueskyStreamConnector] = []
    http = HttpClient()

    async def factory(server: Jetstream, **options: Any) -> BlueskyStreamConnector:
        running = await aiohttp_server(server.app())
        url = str(running.make_url("/subscribe")).replace("http://", "ws://")
        options.setdefault("terms", ["acme"])
        options.setdefault("reconnect_initial", 0.02)
        options.setdefault("reconnect_max", 0.1)
        opts = BlueskyStreamOptions.model_validate({"url": url, **options})
        connector = BlueskyStreamConnector("jetstream-test", opts, http)
        connectors.append(connector)
        return connector

    yield factory
    for connector in connectors:
        await connector.close()
    await http.close()


def through(event: dict[str, Any]) -> Callable[[list[Mention], Cursor], bool]:
    """A `collect` condition: the cursor has reached `event`."""
    return lambda _, cursor: cursor.position.get("time_us", 0) >= event["time_us"]


async def collect(
    connector: BlueskyStreamConnector,
    cursor: Cursor,
    until: Callable[[list[Mention], Cursor], bool],
) -> tuple[list[Mention], Cursor]:
    """Fetch as the runner does until `until(mentions so far, cursor)`; real time, bounded."""
    mentions: list[Mention] = []
    async with asyncio.timeout(5):
        while True:
            try:
                result = await connector.fetch(cursor)
            except SourceError:
                await asyncio.sleep(0.01)  # not connected yet: the runner would poll again
                continue
            mentions += result.mentions
            cursor = result.cursor
            if until(mentions, cursor):
                return mentions, cursor
            await asyncio.sleep(0.01)


async def test_matches_brand_terms_locally_and_maps_posts(build: Build) -> None:
    server = Jetstream(EVENTS, [None])
    connector = await build(server)

    mentions, cursor = await collect(connector, Cursor(), through(EVENTS[-1]))

    assert [m.external_id for m in mentions] == MATCHING
    kettle, card, reply, _ = mentions
    assert kettle.platform == "bluesky"
    assert kettle.url == "https://bsky.app/profile/did:plc:kettlewatch7q2x/post/3l3qo2vv1aa2c"
    assert kettle.author == "did:plc:kettlewatch7q2x" and kettle.lang == "en"
    assert kettle.published_at is not None and kettle.published_at.isoformat() == (
        "2024-09-09T19:46:02.500000+00:00"
    )
    assert card.text == "Breaking: Acme recalls Pro kettle Burn risk, regulators say."
    assert reply.parent_id == KETTLE
    assert cursor.position == {"time_us": EVENTS[-1]["time_us"]}
    (query,) = server.queries
    assert query.getall("wantedCollections") == ["app.bsky.feed.post"]
    assert "cursor" not in query  # no stored cursor: start live


async def test_disconnects_resume_from_the_last_event_without_gaps_or_repeats(
    build: Build, caplog: pytest.LogCaptureFixture
) -> None:
    # Three connections dropped after 3, 5 and 6 events, then one that stays.
    server = Jetstream(EVENTS, [3, 5, 6, None])
    connector = await build(server)

    with caplog.at_level(logging.WARNING, logger="connectors.bluesky_stream"):
        mentions, cursor = await collect(connector, Cursor(), through(EVENTS[-1]))

    assert [m.external_id for m in mentions] == MATCHING  # each once, none lost
    assert cursor.position == {"time_us": EVENTS[-1]["time_us"]}
    assert connector.connects == 4
    # Each reconnect asks from the last event read, rewound for gapless playback.
    resumed = [int(q["cursor"]) for q in server.queries[1:]]
    assert resumed == [EVENTS[n]["time_us"] - REWIND_US for n in (2, 4, 7)]
    assert caplog.text.count("Jetstream closed the stream (code 1001)") == 3


async def test_restart_resumes_from_the_stored_cursor(build: Build) -> None:
    stored = EVENTS[6]["time_us"]  # the like after the link-card post
    server = Jetstream(EVENTS, [None])
    connector = await build(server)

    mentions, cursor = await collect(
        connector, Cursor(position={"time_us": stored}), through(EVENTS[-1])
    )

    (query,) = server.queries
    assert int(query["cursor"]) == stored - REWIND_US
    # Replayed from 5 s before the cursor: at most that much is seen twice (here the
    # link-card post, 2 s before); the pipeline drops it by id.
    assert [m.external_id for m in mentions] == [CARD, REPLY, SUPPORT]
    assert cursor.position == {"time_us": EVENTS[-1]["time_us"]}


async def test_refused_connections_back_off_and_fetch_says_why(build: Build) -> None:
    server = Jetstream(EVENTS, ["refuse", "refuse", "refuse", None])
    connector = await build(server, reconnect_initial=0.05, reconnect_max=0.5)

    await connector.fetch(Cursor())  # starts the reader
    with pytest.raises(SourceError, match="cannot read Jetstream.*503.*reconnecting in"):
        async with asyncio.timeout(2):
            while True:
                await connector.fetch(Cursor())
                await asyncio.sleep(0.01)
    started = asyncio.get_running_loop().time()
    mentions, _ = await collect(connector, Cursor(), lambda m, _: len(m) == 4)

    # Waits of about 0.05, 0.1 and 0.2 s (jitter ±20%) before the fourth try.
    assert asyncio.get_running_loop().time() - started > 0.2
    assert len(server.queries) == 4 and connector.connects == 1
    assert [m.external_id for m in mentions] == MATCHING


async def test_a_full_buffer_pauses_reading_instead_of_dropping(build: Build) -> None:
    many = [
        {**EVENTS[1], "time_us": T0 + n,
         "commit": {**EVENTS[1]["commit"], "rkey": f"3l3qo2vv{n:05d}"}}
        for n in range(40)
    ]
    server = Jetstream(many, [None])
    connector = await build(server, max_buffered=10)

    await connector.fetch(Cursor())
    await asyncio.sleep(0.2)
    first = await connector.fetch(Cursor())
    mentions, cursor = await collect(connector, first.cursor, lambda m, _: len(m) == 30)

    assert len(first.mentions) == 10  # the reader waited for room
    assert first.cursor.position == {"time_us": many[9]["time_us"]}
    assert [m.external_id for m in first.mentions + mentions] == [
        f"at://did:plc:kettlewatch7q2x/app.bsky.feed.post/3l3qo2vv{n:05d}" for n in range(40)
    ]
    assert cursor.position == {"time_us": many[-1]["time_us"]}


def test_terms_match_whole_words_case_insensitively() -> None:
    pattern = term_pattern(["acme", "acme kettle", "Zoë"])
    assert pattern.search("My ACME kettle")
    assert pattern.search("zoë's shop") and pattern.search("(acme)")
    assert not pattern.search("acmecorp") and not pattern.search("#acme2")
    assert not pattern.search("acme_corp") and not pattern.search("éacme")


def test_terms_next_to_unspaced_scripts_match() -> None:
    # Japanese, Chinese and Korean write a name with no space before the next word.
    pattern = term_pattern(["Kestrel", "三星"])
    assert pattern.search("コンビニでKestrelのグラノーラバーを買った。")
    assert pattern.search("Kestrel社の新製品") and pattern.search("케스트렐Kestrel가 좋아")
    assert pattern.search("三星电子发布新手机")  # a CJK term is found inside CJK text
    assert not pattern.search("Kestrelbars") and not pattern.search("KestrelÄ")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "terms"),
        ({"terms": [" "]}, "must not be empty"),
        ({"terms": ["acme"], "url": "https://jetstream.example/subscribe"}, "ws(s)://"),
        ({"terms": ["acme"], "cursor": 1}, "Extra inputs are not permitted"),
    ],
)
def test_options_are_checked(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        BlueskyStreamOptions.model_validate(options)


def test_registered_kind() -> None:
    assert connector_class("bluesky_stream") is BlueskyStreamConnector
