"""Webhook channel: a signed JSON POST that a receiver can verify, with honest retry advice."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import socket
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
import trustme
from aiohttp import web
from aiohttp.test_utils import TestServer
from blockbuster import BlockBuster

from monitor.alerting.channels import build_channel
from monitor.alerting.channels.webhook import WebhookChannel
from monitor.alerting.settings import WebhookSettings, parse_channels, secret_problems
from monitor.clock import VirtualClock
from tests.alerting.factory import HOSTILE, hostile_alert, make_alert

SECRET = "whsec-test-0123456789abcdef"
NOW = datetime(2024, 5, 17, 14, 50, tzinfo=UTC)
ServerFactory = Callable[..., Awaitable[TestServer]]  # pytest-aiohttp: (app, **start_kwargs)


def verify(secret: str, header: str, body: bytes, now: float, tolerance: float = 300) -> bool:
    """What a receiver does (the snippet in docs/channels.md)."""
    fields = dict(part.split("=", 1) for part in header.split(","))
    timestamp = int(fields["t"])
    if abs(now - timestamp) > tolerance:
        return False
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, fields["v1"])


@dataclass
class Receiver:
    """An endpoint that verifies signatures and drops repeated idempotency keys."""

    accepted: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    seen_keys: set[str] = field(default_factory=set)
    answers: list[web.Response] = field(default_factory=list)  # scripted, one per request

    async def handle(self, request: web.Request) -> web.Response:
        if self.answers:
            return self.answers.pop(0)
        body = await request.read()
        signature = request.headers.get("X-Brand-Monitor-Signature", "")
        if not verify(SECRET, signature, body, now=NOW.timestamp()):
            return web.Response(status=401, text="bad signature")
        key = request.headers["Idempotency-Key"]
        if key in self.seen_keys:
            return web.Response(status=200, text="duplicate ignored")
        self.seen_keys.add(key)
        self.headers.append(dict(request.headers))
        self.accepted.append(json.loads(body))
        return web.Response(status=202, text="queued")

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/hooks/brand", self.handle)
        return app


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
async def server(receiver: Receiver, aiohttp_server: ServerFactory) -> TestServer:
    return await aiohttp_server(receiver.app())


@pytest.fixture(autouse=True)
def secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOK_SECRET", SECRET)


def webhook_channel(url: str) -> WebhookChannel:
    table = {"kind": "webhook", "name": "soc", "url": url, "secret": {"env": "HOOK_SECRET"}}
    settings = parse_channels([table])[0]
    assert isinstance(settings, WebhookSettings)
    channel = WebhookChannel(settings, clock=VirtualClock(NOW))
    return channel


async def test_signed_alert_is_verified_and_matches_the_schema(
    receiver: Receiver, server: TestServer, no_blocking: BlockBuster
) -> None:
    channel = webhook_channel(str(server.make_url("/hooks/brand")))
    delivery = await channel.send(make_alert())
    await channel.close()
    assert delivery.ok and delivery.detail.endswith("(HTTP 202)")
    (payload,) = receiver.accepted
    assert payload["schema"] == "brand-monitor.alert/v1"
    assert payload["idempotency_key"] == "42:opened:high"
    assert payload["reason"] == "opened"
    assert payload["incident"]["id"] == 42 and payload["incident"]["severity"] == "high"
    assert payload["incident"]["factors"][1] == {
        "name": "spread",
        "value": 0.82,
        "detail": "31 authors on 3 platforms in 52 min",
    }
    assert payload["incident"]["opened_at"] == "2024-05-17T14:00:00.000000Z"
    assert len(payload["top_mentions"]) == 3
    assert payload["top_mentions"][0]["engagement"]["likes"] == 1234
    assert payload["curve"][-1] == {"at": "2024-05-17T14:50:00.000000Z", "count": 41}
    assert payload["text"].startswith("HIGH · Acme · viral claim · health/safety")
    (headers,) = receiver.headers
    assert headers["Idempotency-Key"] == "42:opened:high"
    assert headers["X-Brand-Monitor-Event"] == "opened"
    assert headers["X-Brand-Monitor-Signature"].startswith(f"t={int(NOW.timestamp())},v1=")


async def test_a_retry_is_dropped_by_the_receiver_via_idempotency_key(
    receiver: Receiver, server: TestServer
) -> None:
    channel = webhook_channel(str(server.make_url("/hooks/brand")))
    first = await channel.send(make_alert())
    second = await channel.send(make_alert())
    await channel.close()
    assert first.ok and second.ok
    assert len(receiver.accepted) == 1


async def test_wrong_secret_fails_verification(
    receiver: Receiver, server: TestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_SECRET", "some-other-secret-value")
    channel = webhook_channel(str(server.make_url("/hooks/brand")))
    delivery = await channel.send(make_alert())
    await channel.close()
    assert not delivery.ok and not delivery.retryable
    assert "HTTP 401: bad signature" in delivery.detail
    assert receiver.accepted == []


async def test_untrusted_text_is_carried_as_data(receiver: Receiver, server: TestServer) -> None:
    channel = webhook_channel(str(server.make_url("/hooks/brand")))
    assert (await channel.send(hostile_alert())).ok
    await channel.close()
    (payload,) = receiver.accepted
    # JSON keeps the mention text exactly (the receiver decides how to display it) ...
    assert payload["top_mentions"][0]["text"] == HOSTILE
    # ... while the ready-made text rendering is free of terminal escapes and line tricks.
    assert "\x1b" not in payload["text"] and "\r" not in payload["text"]
    assert "javascript:" not in payload["text"]


@pytest.mark.parametrize(
    ("answer", "retryable", "retry_after", "detail"),
    [
        (
            web.Response(status=429, headers={"Retry-After": "30"}, text="slow down"),
            True,
            30.0,
            "HTTP 429: slow down",
        ),
        (web.Response(status=429, text="slow down"), True, 60.0, "HTTP 429"),
        (
            web.Response(status=503, headers={"Retry-After": "Fri, 17 May 2024 14:52:00 GMT"}),
            True,
            120.0,
            "HTTP 503",
        ),
        (
            web.Response(status=500, text="Traceback ...\nKeyError"),
            True,
            None,
            "HTTP 500: Traceback ... KeyError",
        ),
        (
            web.Response(status=400, text='{"error":"unknown field"}'),
            False,
            None,
            'HTTP 400: {"error":"unknown field"}',
        ),
        (web.Response(status=404), False, None, "HTTP 404"),
        (web.Response(status=410, text="gone"), False, None, "HTTP 410: gone"),
        (
            web.Response(status=302, headers={"Location": "https://other.example/x?token=abc"}),
            False,
            None,
            "redirected to https://other.example/x?token=***",
        ),
    ],
)
async def test_responses_map_to_retry_advice(
    receiver: Receiver,
    server: TestServer,
    answer: web.Response,
    retryable: bool,
    retry_after: float | None,
    detail: str,
) -> None:
    receiver.answers.append(answer)
    channel = webhook_channel(str(server.make_url("/hooks/brand")))
    delivery = await channel.send(make_alert())
    await channel.close()
    assert not delivery.ok
    assert detail in delivery.detail
    assert (delivery.retryable, delivery.retry_after) == (retryable, retry_after)


async def test_unreachable_receiver_is_retryable_and_secrets_stay_out_of_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    channel = webhook_channel(f"http://127.0.0.1:{port}/hooks/brand?token=urltoken123")
    with caplog.at_level(logging.DEBUG):
        delivery = await channel.send(make_alert())
    await channel.close()
    assert not delivery.ok and delivery.retryable
    assert "connection refused" in delivery.detail
    for text in (delivery.detail, caplog.text, repr(channel), repr(channel.settings)):
        assert SECRET not in text
    assert "urltoken123" not in delivery.detail and "urltoken123" not in repr(channel)


async def test_slow_receiver_times_out_as_retryable(aiohttp_server: ServerFactory) -> None:
    async def stall(request: web.Request) -> web.Response:
        await asyncio.sleep(5)  # the channel gives up long before this
        return web.Response()

    app = web.Application()
    app.router.add_post("/slow", stall)
    server = await aiohttp_server(app)
    table = {
        "kind": "webhook",
        "name": "slow",
        "url": str(server.make_url("/slow")),
        "secret": {"env": "HOOK_SECRET"},
        "timeout": 0.2,
    }
    channel = build_channel(parse_channels([table])[0])
    started = time.monotonic()
    delivery = await channel.send(make_alert())
    await channel.close()
    assert time.monotonic() - started < 2
    assert not delivery.ok and delivery.retryable
    assert "no answer from" in delivery.detail and "within 0.2s" in delivery.detail


def test_url_must_be_http() -> None:
    with pytest.raises(ValueError, match="http:// or https://"):
        parse_channels(
            [{"kind": "webhook", "name": "w", "url": "file:///etc/passwd", "secret": {"env": "S"}}]
        )


async def test_unknown_host_is_a_dns_failure() -> None:
    # .invalid is reserved (RFC 6761): resolvers answer "no such name" without asking anyone.
    table = {
        "kind": "webhook",
        "name": "w",
        "url": "https://brand-monitor-test.invalid/hook",
        "secret": {"env": "HOOK_SECRET"},
        "timeout": 5,
    }
    channel = build_channel(parse_channels([table])[0])
    delivery = await channel.send(make_alert())
    await channel.close()
    assert not delivery.ok and delivery.retryable
    assert delivery.detail.startswith(
        "DNS lookup failed for https://brand-monitor-test.invalid/hook"
    )


async def test_untrusted_certificate_is_a_permanent_tls_failure(
    receiver: Receiver, aiohttp_server: ServerFactory
) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert("127.0.0.1").configure_cert(context)
    server = await aiohttp_server(receiver.app(), ssl=context)
    channel = webhook_channel(str(server.make_url("/hooks/brand")))
    delivery = await channel.send(make_alert())
    await channel.close()
    assert not delivery.ok and not delivery.retryable
    assert "TLS certificate of https://127.0.0.1:" in delivery.detail
    assert "certificate verify failed" in delivery.detail
    assert receiver.accepted == []


def test_secret_problems_name_unset_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOOK_SECRET")
    (settings,) = parse_channels(
        [
            {
                "kind": "webhook",
                "name": "w",
                "url": "https://x.example",
                "secret": {"env": "HOOK_SECRET"},
            }
        ]
    )
    assert secret_problems(settings) == ["secret: environment variable HOOK_SECRET is not set"]
    monkeypatch.setenv("HOOK_SECRET", "set-now")
    assert secret_problems(settings) == []
