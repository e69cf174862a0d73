"""Every JSON connector against a real local server answering deeply nested JSON."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from connectors.base import AuthError, Cursor, SourceError
from monitor.httpclient import HttpClient, HttpLimits
from tests.connectors.json_sources import KEY, KEY_ENV, KINDS, build, serve

# A few kB of "[": json.loads alone raises RecursionError on it.
NESTED = b'{"items": ' + b"[" * 20_000 + b"]" * 20_000 + b"}"


@pytest.fixture
async def http() -> AsyncIterator[HttpClient]:
    client = HttpClient(HttpLimits(connect_timeout=2, read_timeout=5, total_timeout=10))
    yield client
    await client.close()


@pytest.mark.parametrize("kind", KINDS)
async def test_deeply_nested_json_is_a_source_error(
    kind: str, aiohttp_server: Any, http: HttpClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)

    async def nested(request: web.Request) -> web.Response:
        return web.Response(body=NESTED, content_type="application/json")

    base, paths = await serve(aiohttp_server, nested)
    connector = build(kind, base, http)

    with pytest.raises(SourceError, match="nests arrays and objects deeper than 100 levels"):
        await connector.fetch(Cursor())

    assert paths, "the connector asked the local server"


# Valid JSON of the wrong shape, at the places each platform's answer is read.
ODD_SHAPES: list[Any] = [
    [], {}, None, "text", 5,
    {"data": 5}, {"data": {"children": [5, None, {"kind": "t3", "data": 5}]}},
    {"hits": [5, None, {"objectID": {}, "created_at_i": "x"}], "nbPages": "x"},
    {"posts": [1, {"uri": 5, "author": 5, "record": 5}], "cursor": 5},
    {"statuses": [1]}, [1, None, {"id": 5}, {"id": "1", "reblog": 5}],
    {"items": 5, "nextPageToken": 5}, {"items": [5, {"id": 5, "snippet": 5}]},
    {"error": 5}, {"error": {"errors": 5, "details": 5}},
    {"errors": 5, "data": 5, "meta": 5, "includes": 5},
    {
        "data": [{"id": "1", "text": "t", "created_at": "2024-01-01T00:00:00Z",
                  "referenced_tweets": 5, "public_metrics": 5, "author_id": 5}],
        "meta": {"newest_id": 5, "next_token": 5},
        "includes": {"users": [{"id": "5", "username": 5, "public_metrics": 5}]},
    },
]


@pytest.mark.parametrize("kind", KINDS)
async def test_odd_json_shapes_are_handled_or_source_errors_never_crashes(
    kind: str, aiohttp_server: Any, http: HttpClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    current: list[tuple[int, bytes]] = []

    async def odd(request: web.Request) -> web.Response:
        status, body = current[-1]
        return web.Response(status=status, body=body, content_type="application/json")

    base, _ = await serve(aiohttp_server, odd)
    connector = build(kind, base, http)

    for status in (200, 400, 500):
        for shape in ODD_SHAPES:
            current.append((status, json.dumps(shape).encode()))
            try:
                await connector.fetch(Cursor())
            except (SourceError, AuthError):
                pass  # RateLimited is a SourceError: the runner backs off with one log line
