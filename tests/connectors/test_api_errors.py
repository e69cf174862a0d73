"""Every JSON-API connector against a real local server answering with each kind of failure.

One table for all platforms: 401 and 403 park the source (AuthError), 429 and a 503 with
Retry-After wait as told (RateLimited), a 5xx, a timeout, malformed JSON and an oversized body
are transient (SourceError). No message or log line shows a credential, even when the server
echoes it back. Platform-specific meanings (reddit's refused subreddits, X's credits, YouTube's
quota reasons) are tested in each platform's own module.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from aiohttp import web
from blockbuster import BlockBuster

from connectors.base import AuthError, Cursor, RateLimited, SourceError
from monitor.clock import VirtualClock
from monitor.httpclient import HttpClient, HttpLimits
from tests.connectors.json_sources import KEY, KEY_ENV, KINDS, NOW, SECRETS, build, serve
from tests.connectors.replay_server import client_logs

CAP = 2048
OVERSIZED = b"[" + b'"x",' * CAP + b'"x"]'


@dataclass(frozen=True)
class Failure:
    """One failing answer and what every JSON connector must make of it."""

    status: int
    error: type[Exception]
    words: str = ""  # in the error's message
    retry_after: float | None = None  # for RateLimited
    body: bytes = b'{"error": "no"}'
    headers: Mapping[str, str] = field(default_factory=dict)
    chunked: bool = False
    delay: float = 0.0  # seconds before answering (the client gives up after READ_TIMEOUT)
    echo_secrets: bool = False  # the body repeats the source's credentials


READ_TIMEOUT = 1.0  # seconds; short for the timeout case, long enough for a loaded host
FAILURES = {
    "401": Failure(401, AuthError, "HTTP 401"),
    "403": Failure(403, AuthError, "HTTP 403"),
    "429-retry-after-seconds": Failure(429, RateLimited, retry_after=30.0,
                                       headers={"Retry-After": "30"}),
    "429-retry-after-date": Failure(429, RateLimited, retry_after=300.0, headers={
        "Retry-After": format_datetime(NOW + timedelta(seconds=300), usegmt=True)}),
    "429-no-header": Failure(429, RateLimited, retry_after=60.0),  # the default minute
    "503-retry-after": Failure(503, RateLimited, retry_after=120.0,
                               headers={"Retry-After": "120"}),
    "500-echoing-credentials": Failure(500, SourceError, "HTTP 500", echo_secrets=True),
    "502": Failure(502, SourceError, "HTTP 502", body=b"<html>bad gateway</html>"),
    "timeout": Failure(200, SourceError, "timed out", delay=READ_TIMEOUT * 3),
    "malformed-json": Failure(200, SourceError, "malformed JSON", body=b'{"data": ['),
    "oversized": Failure(200, SourceError, f"{CAP}-byte cap", body=OVERSIZED),
    "oversized-chunked": Failure(200, SourceError, f"{CAP}-byte cap", body=OVERSIZED,
                                 chunked=True),
}


@pytest.fixture
async def http() -> AsyncIterator[HttpClient]:
    client = HttpClient(HttpLimits(max_body_bytes=CAP, read_timeout=READ_TIMEOUT))
    yield client
    await client.close()


def answer_with(failure: Failure, secrets: tuple[str, ...]) -> Any:
    """An aiohttp handler that answers every request with `failure`."""
    body = failure.body
    if failure.echo_secrets:
        body = f"upstream error; you sent {' and '.join(secrets) or 'nothing'}".encode()

    async def answer(request: web.Request) -> web.StreamResponse:
        if failure.delay:
            await asyncio.sleep(failure.delay)
        response = web.StreamResponse(status=failure.status, headers=failure.headers)
        response.content_type = "application/json"
        if failure.chunked:
            response.enable_chunked_encoding()
        else:
            response.content_length = len(body)
        await response.prepare(request)
        await response.write(body)
        await response.write_eof()
        return response

    return answer


@pytest.mark.parametrize("failure", list(FAILURES.values()), ids=list(FAILURES))
@pytest.mark.parametrize("kind", KINDS)
async def test_failures_map_to_connector_errors_without_credentials(
    kind: str,
    failure: Failure,
    aiohttp_server: Any,
    http: HttpClient,
    no_blocking: BlockBuster,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    base, paths = await serve(aiohttp_server, answer_with(failure, SECRETS[kind]))
    connector = build(kind, base, http)

    with caplog.at_level(logging.DEBUG), pytest.raises(failure.error) as caught:
        await connector.fetch(Cursor())

    assert paths, "the connector asked the local server"
    assert failure.words in str(caught.value)
    if failure.retry_after is None:
        assert not isinstance(caught.value, RateLimited)
    else:
        assert isinstance(caught.value, RateLimited)
        assert caught.value.retry_after == pytest.approx(failure.retry_after)
    for secret in SECRETS[kind]:
        assert secret not in str(caught.value) and secret not in client_logs(caplog)


# Each platform's own allowance headers, all saying "none left until NOW + 120 s", and an
# empty answer in its format to carry them.
RESET = NOW + timedelta(seconds=120)
ALLOWANCES: dict[str, tuple[dict[str, str], int, Any]] = {
    "bluesky": ({"RateLimit-Limit": "3000", "RateLimit-Remaining": "0",
                 "RateLimit-Reset": str(int(RESET.timestamp()))}, 3000, {"posts": []}),
    "json": ({"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "0",
              "X-RateLimit-Reset": str(int(RESET.timestamp()))}, 60, {"items": []}),
    "mastodon": ({"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0",
                  "X-RateLimit-Reset": RESET.isoformat()}, 300, []),
    # reddit: the reset in seconds from now, and what is used instead of the limit
    "reddit": ({"X-Ratelimit-Used": "600", "X-Ratelimit-Remaining": "0.0",
                "X-Ratelimit-Reset": "120"}, 600, {"kind": "Listing", "data": {"children": []}}),
    "x": ({"x-rate-limit-limit": "450", "x-rate-limit-remaining": "0",
           "x-rate-limit-reset": str(int(RESET.timestamp()))}, 450, {"meta": {"result_count": 0}}),
}
# Where the platform enforces the window itself, the source does not also refuse locally.
CHECKED_BEFORE_CALLING = ["bluesky", "mastodon", "reddit"]


def answer_json(status: int, body: Any, headers: Mapping[str, str]) -> Any:
    """An aiohttp handler that answers every request with `body` as JSON."""

    async def answer(request: web.Request) -> web.StreamResponse:
        return web.json_response(body, status=status, headers=headers)

    return answer


@pytest.mark.parametrize("kind", sorted(ALLOWANCES))
async def test_429_waits_for_the_platforms_reset_header(
    kind: str, aiohttp_server: Any, http: HttpClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    headers, _, _ = ALLOWANCES[kind]
    base, _ = await serve(aiohttp_server, answer_json(429, {"error": "slow down"}, headers))
    connector = build(kind, base, http)

    with pytest.raises(RateLimited) as caught:
        await connector.fetch(Cursor())

    assert caught.value.retry_after == 120.0


@pytest.mark.parametrize("kind", sorted(ALLOWANCES))
async def test_allowance_headers_become_the_budget(
    kind: str, aiohttp_server: Any, http: HttpClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    headers, limit, empty = ALLOWANCES[kind]
    base, paths = await serve(aiohttp_server, answer_json(200, empty, headers))
    connector = build(kind, base, http)

    result = await connector.fetch(Cursor())

    assert result.budget is not None
    assert (result.budget.remaining, result.budget.limit) == (0, limit)
    assert result.budget.resets_at == RESET
    if kind not in CHECKED_BEFORE_CALLING:
        return
    with pytest.raises(RateLimited) as caught:
        await connector.fetch(result.cursor)
    assert caught.value.retry_after == 120.0
    assert len(paths) == 1  # refused locally: the platform never saw the call

    assert isinstance(connector.clock, VirtualClock)
    connector.clock.advance(121)
    await connector.fetch(result.cursor)
    assert len(paths) == 2
