"""A tiny aiohttp app that replays scripted responses per route and records every request.

Usage in a test (pytest-aiohttp's `aiohttp_server` fixture starts a real local server)::

    replay = ReplayServer()
    replay.add("/search.json", Reply.fixture("reddit/search_page1.json"),
               Reply.fixture("reddit/search_page2.json"))
    replay.add("/api/v1/access_token", Reply.json({"access_token": "t"}), method="POST")
    server = await aiohttp_server(replay.app())
    base_url = str(server.make_url("")).rstrip("/")
    ...  # point the connector's base URL at base_url and fetch
    assert replay.requests_to("/search.json")[1].query["after"] == "t3_abc"

Each route answers its scripted replies in order; the last one repeats when `repeat_last` is
True (the default is False: an unscripted call gets HTTP 599 and is listed in
`replay.unscripted`, so a test notices a request it did not expect).

With the `no_blocking` fixture (blockbuster) active, call `allow_fixture_reads(no_blocking)` so
that `Reply.fixture` may read its file inside an async test: that is test setup, not the code
under test.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web
from multidict import MultiDict

if TYPE_CHECKING:
    import pytest
    from blockbuster import BlockBuster

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
UNSCRIPTED_STATUS = 599


def allow_fixture_reads(guard: BlockBuster) -> None:
    """Let `Reply.fixture` read fixture files on the event loop while `guard` is active."""
    for function in guard.functions.values():
        function.can_block_in("tests/connectors/replay_server.py", "fixture")


def client_logs(caplog: pytest.LogCaptureFixture) -> str:
    """Our side's log text (the local test server's access log shows what it was sent)."""
    return "\n".join(
        r.getMessage() for r in caplog.records
        if not r.name.startswith(("aiohttp.access", "aiohttp.server"))
    )


@dataclass(frozen=True)
class Reply:
    """One scripted response: status, headers and body (bytes), optionally slow or chunked."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    delay: float = 0.0  # seconds before answering (real time: keep it tiny)
    chunked: bool = False  # stream without Content-Length (tests the streaming size cap)

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Reply:
        """A JSON body built from a Python value."""
        return cls(status=status, body=json.dumps(data).encode(), headers=dict(headers or {}))

    @classmethod
    def fixture(
        cls,
        relative_path: str,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        content_type: str | None = None,
    ) -> Reply:
        """A body read from `tests/fixtures/<relative_path>`; content type guessed from suffix."""
        path = FIXTURES / relative_path
        if content_type is None:
            content_type = {
                ".json": "application/json",
                ".xml": "application/xml",
                ".rss": "application/rss+xml",
                ".atom": "application/atom+xml",
                ".html": "text/html",
            }.get(path.suffix, "text/plain")
        return cls(
            status=status,
            body=path.read_bytes(),
            headers=dict(headers or {}),
            content_type=content_type,
        )

    @classmethod
    def text(
        cls,
        body: str,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        content_type: str = "text/plain",
    ) -> Reply:
        """A plain (or any other declared type) text body."""
        return cls(
            status=status,
            body=body.encode(),
            headers=dict(headers or {}),
            content_type=content_type,
        )


@dataclass(frozen=True)
class RecordedRequest:
    """What the server received: method, path, query, headers and body."""

    method: str
    path: str
    query: MultiDict[str]
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        """The request body decoded as JSON."""
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        """The request body decoded as an urlencoded form."""
        from urllib.parse import parse_qsl

        return dict(parse_qsl(self.body.decode()))


class ReplayServer:
    """Scripted replies per (method, path) and a log of every request received."""

    def __init__(self, repeat_last: bool = False) -> None:
        self.repeat_last = repeat_last
        self.requests: list[RecordedRequest] = []
        self.unscripted: list[RecordedRequest] = []
        self._routes: dict[tuple[str, str], deque[Reply]] = {}

    def add(self, path: str, *replies: Reply, method: str = "GET") -> ReplayServer:
        """Queue `replies` for `method path` (path without query string); returns self."""
        self._routes.setdefault((method.upper(), path), deque()).extend(replies)
        return self

    def requests_to(self, path: str, method: str | None = None) -> list[RecordedRequest]:
        """The recorded requests to `path` (and `method`, if given), oldest first."""
        return [
            r for r in self.requests
            if r.path == path and (method is None or r.method == method.upper())
        ]

    def pending(self) -> dict[str, int]:
        """Scripted replies not yet served, per "METHOD path" (empty when all were used)."""
        return {f"{m} {p}": len(q) for (m, p), q in self._routes.items() if q}

    def app(self) -> web.Application:
        """The aiohttp application to hand to `aiohttp_server`."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        recorded = RecordedRequest(
            method=request.method,
            path=request.path,
            query=MultiDict(request.query),
            headers=dict(request.headers),
            body=await request.read(),
        )
        self.requests.append(recorded)
        queue = self._routes.get((request.method, request.path))
        if not queue:
            self.unscripted.append(recorded)
            return web.Response(
                status=UNSCRIPTED_STATUS,
                text=f"replay_server: no scripted reply for {request.method} {request.path}",
            )
        reply = queue[0] if (len(queue) == 1 and self.repeat_last) else queue.popleft()
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.chunked:
            response = web.StreamResponse(status=reply.status, headers=reply.headers)
            response.content_type = reply.content_type
            response.enable_chunked_encoding()
            await response.prepare(request)
            for start in range(0, len(reply.body), 4096):
                await response.write(reply.body[start : start + 4096])
            await response.write_eof()
            return response
        return web.Response(
            status=reply.status,
            body=reply.body,
            headers=reply.headers,
            content_type=reply.content_type,
        )
