"""Every JSON-API source kind aimed at one real local server, for tests that run against all.

`serve(aiohttp_server, answer)` starts a server that logs sources in (Bluesky's session, reddit's
OAuth token) and hands every other request to `answer`; `build(kind, base, http)` makes a
connector of `kind` pointed at it, with a credential from `KEY_ENV` (set it to `KEY` first)
wherever the kind takes one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from connectors.base import Connector, connector_class
from monitor.clock import VirtualClock
from monitor.httpclient import HttpClient

KINDS = ["bluesky", "hackernews", "json", "mastodon", "reddit", "x", "youtube"]
# Imported here, not on the event loop: YouTube's module reads its time zone file.
CLASSES: dict[str, type[Connector]] = {kind: connector_class(kind) for kind in KINDS}
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
KEY_ENV = "JSON_SOURCE_TEST_KEY"
KEY = "key-FAKE-json-source-0042"
ACCESS_TOKEN = "eyJhbGciOiJFUzI1NksifQ.fake-access-token-5151.sig"
REFRESH_TOKEN = "eyJhbGciOiJFUzI1NksifQ.fake-refresh-token-6262.sig"
# The login answers: Bluesky's session and reddit's app-only OAuth token.
LOGINS: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/xrpc/com.atproto.server.createSession"): {
        "accessJwt": ACCESS_TOKEN, "refreshJwt": REFRESH_TOKEN,
        "handle": "acme.test", "did": "did:plc:acmetest",
    },
    ("POST", "/api/v1/access_token"): {
        "access_token": ACCESS_TOKEN, "token_type": "bearer", "expires_in": 3600,
    },
}
# The credentials each kind holds, which no error message or log line may show.
SECRETS: dict[str, tuple[str, ...]] = {
    "bluesky": (KEY, ACCESS_TOKEN, REFRESH_TOKEN),
    "hackernews": (),  # the HN Search API takes no credentials
    "json": (KEY,),
    "mastodon": (KEY,),
    "reddit": (KEY, ACCESS_TOKEN),
    "x": (KEY,),
    "youtube": (KEY,),
}

Answer = Callable[[web.Request], Awaitable[web.StreamResponse]]


def source_options(kind: str, base: str) -> dict[str, Any]:
    """Options of a `kind` source aimed at the local server at `base`."""
    key = {"env": KEY_ENV}
    options: dict[str, dict[str, Any]] = {
        "bluesky": {"search": ["acme"], "auth_service": base, "identifier": "acme.test",
                    "app_password": key, "author_reach": False},
        "hackernews": {"search": ["acme"], "base_url": base},
        "json": {"url": f"{base}/items", "items": "items[*]", "fields": {"id": "id", "text": "t"},
                 "headers": {"X-Api-Key": key}},
        "mastodon": {"instances": [{"url": base, "access_token": key}], "hashtags": ["acme"]},
        "reddit": {"search": ["acme"], "base_url": base, "oauth_url": base,
                   "client_id": key, "client_secret": key},
        "x": {"bearer_token": key, "query": "acme", "base_url": base},
        "youtube": {"api_key": key, "query": "acme", "base_url": base},
    }
    return options[kind]


def build(kind: str, base: str, http: HttpClient) -> Connector:
    """A connector of `kind` reading the local server at `base`, on a virtual clock at NOW."""
    cls = CLASSES[kind]
    options = cls.Options.model_validate(source_options(kind, base))
    return cls(f"{kind}-test", options, http, clock=VirtualClock(NOW))


async def serve(aiohttp_server: Any, answer: Answer) -> tuple[str, list[str]]:
    """A server that answers logins itself and every other request with `answer`.

    Returns its base URL and the paths of the requests `answer` was given.
    """
    paths: list[str] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        login = LOGINS.get((request.method, request.path))
        if login is not None:
            return web.json_response(login)
        paths.append(request.path)
        return await answer(request)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    server = await aiohttp_server(app)
    return str(server.make_url("")).rstrip("/"), paths
