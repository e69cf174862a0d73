"""Every JSON connector against a real local server answering deeply nested JSON."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from connectors.base import Connector, Cursor, SourceError, connector_class
from connectors.http import HttpClient, HttpLimits

# A few kB of "[": json.loads alone raises RecursionError on it.
NESTED = b'{"items": ' + b"[" * 20_000 + b"]" * 20_000 + b"}"

KINDS = ["bluesky", "hackernews", "json", "mastodon", "reddit", "x", "youtube"]


def source_options(kind: str, base: str) -> dict[str, Any]:
    """Options of a `kind` source aimed at the local server at `base`."""
    key = {"env": "HOSTILE_TEST_KEY"}
    return {
        "bluesky": {"search": ["acme"], "service": base, "auth_service": base},
        "hackernews": {"search": ["acme"], "base_url": base},
        "json": {"url": f"{base}/items", "items": "items[*]", "fields": {"id": "id", "text": "t"}},
        "mastodon": {"instances": [base], "hashtags": ["acme"]},
        "reddit": {"search": ["acme"], "base_url": base, "oauth_url": base},
        "x": {"bearer_token": key, "query": "acme", "base_url": base},
        "youtube": {"api_key": key, "query": "acme", "base_url": base},
    }[kind]


@pytest.fixture
async def http() -> AsyncIterator[HttpClient]:
    client = HttpClient(HttpLimits(connect_timeout=2, read_timeout=5, total_timeout=10))
    yield client
    await client.close()


async def answer_every_request_with(aiohttp_server: Any, body: bytes) -> tuple[str, list[str]]:
    """A server that answers any method and path with `body`; returns its URL and the paths."""
    paths: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        paths.append(request.path)
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    server = await aiohttp_server(app)
    return str(server.make_url("")).rstrip("/"), paths


def build(kind: str, base: str, http: HttpClient) -> Connector:
    cls = connector_class(kind)
    return cls(f"{kind}-hostile", cls.Options.model_validate(source_options(kind, base)), http)


@pytest.mark.parametrize("kind", KINDS)
async def test_deeply_nested_json_is_a_source_error(
    kind: str, aiohttp_server: Any, http: HttpClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOSTILE_TEST_KEY", "key-FAKE-hostile-0042")
    base, paths = await answer_every_request_with(aiohttp_server, NESTED)
    connector = build(kind, base, http)

    with pytest.raises(SourceError, match="nests arrays and objects deeper than 100 levels"):
        await connector.fetch(Cursor())

    assert paths, "the connector asked the local server"
