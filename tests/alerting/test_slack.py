"""Slack channel against a local server that checks payloads the way Slack documents them."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from blockbuster import BlockBuster

from monitor.alerting.channels import build_channel
from monitor.alerting.channels.slack import SlackChannel
from monitor.alerting.settings import parse_channels
from monitor.records import Delivery
from tests.alerting.factory import hostile_alert, make_alert, make_incident

BOT_TOKEN = "xoxb-1111-2222-sEcReTtOkEnVaLuE"
WEBHOOK_PATH = "/services/T000/B000/sEcReTwEbHoOkPaTh"

ServerFactory = Callable[[web.Application], Awaitable[TestServer]]


@dataclass
class FakeSlack:
    """Slack's Web API and incoming webhooks, as far as the channel uses them."""

    messages: dict[str, dict[str, Any]] = field(default_factory=dict)  # ts -> message
    posts: list[dict[str, Any]] = field(default_factory=list)  # every accepted chat.postMessage
    updates: list[dict[str, Any]] = field(default_factory=list)  # every accepted chat.update
    webhook_posts: list[dict[str, Any]] = field(default_factory=list)
    # Scripted failures, consumed one per request: (HTTP status, error code, headers).
    fail_next: list[tuple[int, str, dict[str, str]]] = field(default_factory=list)
    auth_headers: list[str] = field(default_factory=list)
    down_methods: set[str] = field(default_factory=set)  # answer 503 for these Web API methods
    _clock: int = 1_715_954_400

    def next_ts(self) -> str:
        self._clock += 1
        return f"{self._clock}.000100"

    @staticmethod
    def block_problem(payload: dict[str, Any]) -> str | None:
        """Slack's documented limits; the error code Slack would answer, or None."""
        text, blocks = payload.get("text"), payload.get("blocks")
        if not text and not blocks:
            return "no_text"
        if text is not None and len(text) > 40_000:
            return "msg_too_long"
        if blocks is None:
            return None
        if not isinstance(blocks, list) or len(blocks) > 50:
            return "invalid_blocks"
        for block in blocks:
            kind = block.get("type")
            if kind == "header":
                inner = block.get("text", {})
                if inner.get("type") != "plain_text" or not 0 < len(inner.get("text", "")) <= 150:
                    return "invalid_blocks"
            elif kind == "section":
                inner = block.get("text", {})
                if inner.get("type") not in ("mrkdwn", "plain_text"):
                    return "invalid_blocks"
                if not 0 < len(inner.get("text", "")) <= 3000:
                    return "invalid_blocks"
            elif kind == "context":
                elements = block.get("elements", [])
                if not 0 < len(elements) <= 10 or any(len(e["text"]) > 2000 for e in elements):
                    return "invalid_blocks"
            elif kind != "divider":
                return "invalid_blocks"
        return None

    def scripted_failure(self) -> web.Response | None:
        if not self.fail_next:
            return None
        status, error, headers = self.fail_next.pop(0)
        if status >= 500:
            return web.Response(
                status=status, text="<html>upstream error</html>", content_type="text/html"
            )
        return web.json_response({"ok": False, "error": error}, status=status, headers=headers)

    async def api(self, request: web.Request) -> web.Response:
        if request.match_info["method"] in self.down_methods:
            return web.Response(status=503, text="down")
        failure = self.scripted_failure()
        if failure is not None:
            return failure
        auth = request.headers.get("Authorization", "")
        self.auth_headers.append(auth)
        if not auth:
            return web.json_response({"ok": False, "error": "not_authed"})
        if auth != f"Bearer {BOT_TOKEN}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        payload = await request.json()
        problem = self.block_problem(payload)
        if problem:
            return web.json_response({"ok": False, "error": problem})
        method = request.match_info["method"]
        if method == "chat.postMessage":
            if payload.get("channel") not in ("C0ALERTS", "alerts"):
                return web.json_response({"ok": False, "error": "channel_not_found"})
            thread = payload.get("thread_ts")
            if thread is not None and thread not in self.messages:
                return web.json_response({"ok": False, "error": "thread_not_found"})
            ts = self.next_ts()
            self.messages[ts] = payload
            self.posts.append({**payload, "_ts": ts})
            return web.json_response({"ok": True, "channel": "C0ALERTS", "ts": ts})
        if method == "chat.update":
            if payload.get("ts") not in self.messages or payload.get("channel") != "C0ALERTS":
                return web.json_response({"ok": False, "error": "message_not_found"})
            self.messages[payload["ts"]] = payload
            self.updates.append(payload)
            return web.json_response({"ok": True, "channel": "C0ALERTS", "ts": payload["ts"]})
        return web.json_response({"ok": False, "error": "unknown_method"})

    async def webhook(self, request: web.Request) -> web.Response:
        failure = self.scripted_failure()
        if failure is not None:
            if failure.status >= 500:
                return failure
            error = json.loads(failure.text or "{}")["error"]
            return web.Response(status=failure.status, text=error, headers=failure.headers)
        try:
            payload = await request.json()
        except ValueError:
            return web.Response(status=400, text="invalid_payload")
        problem = self.block_problem(payload)
        if problem:
            return web.Response(status=400, text=problem)
        self.webhook_posts.append(payload)
        return web.Response(text="ok")

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/{method}", self.api)
        app.router.add_post(WEBHOOK_PATH, self.webhook)
        return app


@pytest.fixture
def slack() -> FakeSlack:
    return FakeSlack()


@pytest.fixture
async def slack_server(slack: FakeSlack, aiohttp_server: ServerFactory) -> TestServer:
    return await aiohttp_server(slack.app())


@pytest.fixture
def secrets_env(monkeypatch: pytest.MonkeyPatch, slack_server: TestServer) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_WEBHOOK_URL", str(slack_server.make_url(WEBHOOK_PATH)))


def bot_channel(server: TestServer, **extra: Any) -> SlackChannel:
    settings = {
        "kind": "slack",
        "name": "slack-oncall",
        "bot_token": {"env": "SLACK_BOT_TOKEN"},
        "channel": "alerts",
        "base_url": str(server.make_url("/api/")),
        **extra,
    }
    channel = build_channel(parse_channels([settings])[0])
    assert isinstance(channel, SlackChannel)
    return channel


def webhook_channel() -> SlackChannel:
    settings = {"kind": "slack", "name": "slack-hook", "webhook_url": {"env": "SLACK_WEBHOOK_URL"}}
    channel = build_channel(parse_channels([settings])[0])
    assert isinstance(channel, SlackChannel)
    return channel


def client_log(caplog: pytest.LogCaptureFixture) -> str:
    """Log lines of our side only: the test server's access log shows the path it served."""
    return "\n".join(
        r.getMessage() for r in caplog.records if not r.name.startswith("aiohttp.access")
    )


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        assert BOT_TOKEN not in text
        assert "sEcReTwEbHoOkPaTh" not in text


# -- settings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({}, "set exactly one of webhook_url"),
        ({"bot_token": {"env": "T"}}, "bot_token needs channel"),
        ({"webhook_url": {"env": "W"}, "bot_token": {"env": "T"}, "channel": "C1"}, "exactly one"),
        ({"webhook_url": "https://hooks.slack.com/services/x"}, "references to environment"),
        ({"webhook_url": {"env": "W"}, "channel": "C1"}, "channel applies to bot_token only"),
        ({"webhook_url": {"env": "W"}, "colour": "red"}, "Extra inputs are not permitted"),
        (
            {"bot_token": {"env": "T"}, "channel": "C1", "base_url": "ftp://x"},
            "http:// or https://",
        ),
    ],
)
def test_settings_refuse_unusable_tables(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_channels([{"kind": "slack", "name": "s", **table}])


# -- incoming webhook --------------------------------------------------------------------------


async def test_webhook_posts_block_kit_with_fallback(
    slack: FakeSlack, secrets_env: None, no_blocking: BlockBuster
) -> None:
    channel = webhook_channel()
    delivery = await channel.send(make_alert())
    await channel.close()
    assert delivery == Delivery(
        channel="slack-hook", ok=True, detail="sent to Slack incoming webhook"
    )
    (payload,) = slack.webhook_posts
    assert payload["text"].startswith("HIGH · Acme")
    assert payload["blocks"][0]["type"] == "header"


async def test_webhook_delivers_hostile_text_inert(slack: FakeSlack, secrets_env: None) -> None:
    channel = webhook_channel()
    assert (await channel.send(hostile_alert())).ok
    await channel.close()
    body = json.dumps(slack.webhook_posts[0], ensure_ascii=False)
    for active in ("<!channel>", "<@U123>", "<@U999>", "<http://evil|click>", "@here", "\\u001b"):
        assert active not in body
    assert "&lt;!channel&gt;" in body


@pytest.mark.parametrize(
    ("status", "error", "headers", "retryable", "retry_after", "detail"),
    [
        (400, "invalid_payload", {}, False, None, "HTTP 400 invalid_payload"),
        (400, "no_text", {}, False, None, "HTTP 400 no_text"),
        (404, "no_service", {}, False, None, "create a new incoming webhook"),
        (429, "rate_limited", {"Retry-After": "7"}, True, 7.0, "retry after 7s"),
        (500, "", {}, True, None, "HTTP 500 <html>upstream error</html>"),
    ],
)
async def test_webhook_failures_say_what_and_whether_to_retry(
    slack: FakeSlack,
    secrets_env: None,
    caplog: pytest.LogCaptureFixture,
    status: int,
    error: str,
    headers: dict[str, str],
    retryable: bool,
    retry_after: float | None,
    detail: str,
) -> None:
    slack.fail_next.append((status, error, headers))
    channel = webhook_channel()
    with caplog.at_level(logging.DEBUG):
        delivery = await channel.send(make_alert())
    await channel.close()
    assert not delivery.ok
    assert detail in delivery.detail
    assert (delivery.retryable, delivery.retry_after) == (retryable, retry_after)
    assert_no_secret(delivery.detail, client_log(caplog), repr(channel))


async def test_webhook_server_down_is_retryable_and_masks_the_url(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("SLACK_WEBHOOK_URL", f"http://127.0.0.1:{port}{WEBHOOK_PATH}")
    channel = webhook_channel()
    with caplog.at_level(logging.DEBUG):
        delivery = await channel.send(make_alert())
    await channel.close()
    assert not delivery.ok and delivery.retryable
    assert "connection refused" in delivery.detail
    assert_no_secret(delivery.detail, client_log(caplog), repr(channel), repr(channel.settings))


async def test_unset_secret_is_a_clear_permanent_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLACK_WEBHOOK_URL", raising=False)
    delivery = await webhook_channel().send(make_alert())
    assert not delivery.ok and not delivery.retryable
    assert "SLACK_WEBHOOK_URL is not set" in delivery.detail and "export it" in delivery.detail


# -- bot token: threads ------------------------------------------------------------------------


async def test_bot_threads_later_alerts_and_updates_the_first_message(
    slack: FakeSlack, slack_server: TestServer, secrets_env: None, no_blocking: BlockBuster
) -> None:
    channel = bot_channel(slack_server)
    first = await channel.send(make_alert())
    assert first.ok and first.external_ref is not None
    root_ts = slack.posts[0]["_ts"]
    assert first.external_ref == f"C0ALERTS:{root_ts}"
    assert "thread_ts" not in slack.posts[0]

    escalated = make_alert(
        alert_id=8, reason="escalated", incident=make_incident(severity="critical")
    )
    second = await channel.send(escalated, thread_ref=first.external_ref)
    reminder = make_alert(
        alert_id=9, reason="reminder", incident=make_incident(severity="critical")
    )
    third = await channel.send(reminder, thread_ref=second.external_ref)
    await channel.close()

    assert second.ok and third.ok
    # Follow-ups return the root reference, so storing the latest external_ref is always right.
    assert second.external_ref == third.external_ref == first.external_ref
    replies = slack.posts[1:]
    assert [r["thread_ts"] for r in replies] == [root_ts, root_ts]
    # Escalations are also shown in the channel; reminders stay in the thread.
    assert [r["reply_broadcast"] for r in replies] == [True, False]
    assert [u["ts"] for u in slack.updates] == [root_ts, root_ts]
    root_now = slack.messages[root_ts]
    assert root_now["blocks"][0]["text"]["text"].startswith("🚨 CRITICAL · Acme")
    assert "Still unacknowledged #42" in json.dumps(root_now, ensure_ascii=False)
    assert slack.auth_headers and all(h == f"Bearer {BOT_TOKEN}" for h in slack.auth_headers)


async def test_lost_thread_starts_a_new_one(
    slack: FakeSlack, slack_server: TestServer, secrets_env: None
) -> None:
    channel = bot_channel(slack_server)
    delivery = await channel.send(make_alert(), thread_ref="C0ALERTS:1600000000.000001")
    await channel.close()
    assert delivery.ok
    assert delivery.external_ref == f"C0ALERTS:{slack.posts[-1]['_ts']}"
    assert "thread_ts" not in slack.posts[-1]


async def test_update_failure_does_not_fail_a_sent_reply(
    slack: FakeSlack, slack_server: TestServer, secrets_env: None
) -> None:
    channel = bot_channel(slack_server)
    first = await channel.send(make_alert())
    # The reply is accepted; the chat.update that follows hits a Slack outage.
    slack.down_methods.add("chat.update")
    second = await channel.send(make_alert(alert_id=8), thread_ref=first.external_ref)
    await channel.close()
    assert second.ok
    assert "first message was not updated" in second.detail and "HTTP 503" in second.detail


# -- bot token: failures -----------------------------------------------------------------------


async def test_wrong_token_is_invalid_auth_and_never_logged(
    slack: FakeSlack,
    slack_server: TestServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    wrong = "xoxb-9999-wrongtokenvalue"
    monkeypatch.setenv("SLACK_BOT_TOKEN", wrong)
    channel = bot_channel(slack_server)
    with caplog.at_level(logging.DEBUG):
        delivery = await channel.send(make_alert())
    await channel.close()
    assert not delivery.ok and not delivery.retryable
    assert "invalid_auth" in delivery.detail and "create a new one" in delivery.detail
    assert slack.auth_headers == [f"Bearer {wrong}"]
    for text in (delivery.detail, client_log(caplog), repr(channel), repr(channel.settings)):
        assert wrong not in text


async def test_ratelimited_once_then_ok(
    slack: FakeSlack, slack_server: TestServer, secrets_env: None
) -> None:
    slack.fail_next.append((429, "ratelimited", {"Retry-After": "3"}))
    channel = bot_channel(slack_server)
    limited = await channel.send(make_alert())
    retried = await channel.send(make_alert())
    await channel.close()
    assert not limited.ok and limited.retryable and limited.retry_after == 3.0
    assert "ratelimited" in limited.detail
    assert retried.ok and len(slack.posts) == 1


@pytest.mark.parametrize(
    ("failure", "retryable", "detail"),
    [
        ((500, "", {}), True, "HTTP 500"),
        ((200, "internal_error", {}), True, "internal_error"),
        ((200, "channel_not_found", {}), False, "invite the app"),
        ((200, "not_authed", {}), False, "not_authed"),
        ((200, "invalid_blocks", {}), False, "report this as a bug"),
    ],
)
async def test_bot_failures(
    slack: FakeSlack,
    slack_server: TestServer,
    secrets_env: None,
    failure: tuple[int, str, dict[str, str]],
    retryable: bool,
    detail: str,
) -> None:
    slack.fail_next.append(failure)
    channel = bot_channel(slack_server)
    delivery = await channel.send(make_alert())
    await channel.close()
    assert not delivery.ok
    assert delivery.retryable is retryable
    assert detail in delivery.detail


async def test_unknown_channel_is_refused_by_slack(
    slack: FakeSlack, slack_server: TestServer, secrets_env: None
) -> None:
    channel = bot_channel(slack_server, channel="C0NOPE")
    delivery = await channel.send(make_alert())
    await channel.close()
    assert not delivery.ok and not delivery.retryable
    assert "channel_not_found" in delivery.detail


async def test_huge_alert_passes_slack_validation(
    slack: FakeSlack, slack_server: TestServer, secrets_env: None
) -> None:
    incident = make_incident(summary="claim & <more> " * 2000, projection="p" * 9000)
    alert = make_alert(incident=incident, top_mentions=[make_alert().top_mentions[0]] * 30)
    channel = bot_channel(slack_server)
    delivery = await channel.send(alert)
    await channel.close()
    assert delivery.ok, delivery.detail
    assert FakeSlack.block_problem(slack.posts[0]) is None
