"""Slack button clicks against the running server, signed exactly as Slack signs them."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from monitor.alerting.channels import build_channel
from monitor.alerting.channels.slack import SlackChannel
from monitor.alerting.render import render_slack
from monitor.alerting.settings import parse_channels
from monitor.records import AlertLinks, AlertMessage
from monitor.web.slack_actions import PATH, SlackInteractions, SlackVerifier
from tests.web.dashboard import build

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
Client = TestClient[Any, Any]


class FakeSlackApi:
    """Records chat.update calls like Slack's Web API would receive them."""

    def __init__(self) -> None:
        self.updates: list[dict[str, Any]] = []

    async def api(self, request: web.Request) -> web.Response:
        assert request.headers["Authorization"] == "Bearer xoxb-test"
        body = await request.json()
        if request.match_info["method"] == "chat.update":
            self.updates.append(body)
            return web.json_response({"ok": True, "channel": body["channel"], "ts": body["ts"]})
        return web.json_response({"ok": False, "error": "unknown_method"})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/{method}", self.api)
        return app


def sign(body: bytes, timestamp: int, secret: str = SIGNING_SECRET) -> dict[str, str]:
    """Headers exactly as Slack computes them (v0 = HMAC-SHA256 of "v0:ts:body")."""
    base = f"v0:{timestamp}:".encode() + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": "application/x-www-form-urlencoded",
    }


def click(incident_id: int, action: str = "incident_ack", blocks: Any = None) -> bytes:
    payload = {
        "type": "block_actions",
        "user": {"id": "U024BE7LH", "username": "maria", "name": "maria"},
        "container": {"type": "message", "channel_id": "C0ALERTS", "message_ts": "1712.0001"},
        "message": {"ts": "1712.0001", "text": "Acme: incident", "blocks": blocks or []},
        "actions": [{"action_id": action, "value": str(incident_id), "type": "button"}],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


@pytest.fixture
async def setup(
    tmp_path: Path, aiohttp_client: Callable[..., Awaitable[Client]],
    aiohttp_server: Callable[..., Awaitable[TestServer]], monkeypatch: pytest.MonkeyPatch,
) -> tuple[Client, Any, FakeSlackApi]:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    fake = FakeSlackApi()
    slack_server = await aiohttp_server(fake.app())
    [settings] = parse_channels([{
        "kind": "slack", "name": "slack", "bot_token": {"env": "SLACK_BOT_TOKEN"},
        "channel": "C0ALERTS", "base_url": str(slack_server.make_url("/api/")),
    }])
    channel = build_channel(settings)
    assert isinstance(channel, SlackChannel)
    app, dash = await build(tmp_path / "bm.db")
    interactions = SlackInteractions(SlackVerifier(SIGNING_SECRET), dash.ctx.book, [channel])
    app.router.add_routes(interactions.routes())

    async def close(_app: web.Application) -> None:
        await interactions.close()
        await channel.close()

    app.on_cleanup.append(close)
    return await aiohttp_client(app), dash, fake


async def until(predicate: Callable[[], bool], within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def test_signed_click_acknowledges_as_the_slack_user_and_updates_the_message(
    setup: tuple[Client, Any, FakeSlackApi],
) -> None:
    client, dash, fake = setup
    incident = await dash.ctx.book.get(1)
    links = AlertLinks("https://m.example/incidents/1", "https://m.example/link/1/ack?x",
                       slack_buttons=True)
    posted = render_slack(AlertMessage(1, "k", "opened", incident, links=links))
    body = click(1, blocks=posted.blocks)
    response = await client.post(PATH, data=body, headers=sign(body, int(time.time())))
    assert response.status == 200
    events = await dash.ctx.book.events(1)
    assert (events[-1].kind, events[-1].actor) == ("acknowledged", "maria (Slack U024BE7LH)")
    await until(lambda: bool(fake.updates))
    update = fake.updates[0]
    assert (update["channel"], update["ts"]) == ("C0ALERTS", "1712.0001")
    actions = [b for b in update["blocks"] if b.get("type") == "actions"]
    assert [e["action_id"] for e in actions[0]["elements"]] == ["incident_resolve"]
    assert "Acknowledged by <@U024BE7LH>" in json.dumps(update["blocks"])


async def test_wrong_signature_is_refused_and_changes_nothing(
    setup: tuple[Client, Any, FakeSlackApi],
) -> None:
    client, dash, _ = setup
    body = click(1)
    headers = sign(body, int(time.time()), secret="not-the-signing-secret")
    response = await client.post(PATH, data=body, headers=headers)
    assert response.status == 401
    assert "signature does not match" in await response.text()
    tampered = click(2)  # signed for incident 1, body says incident 2
    response = await client.post(PATH, data=tampered, headers=sign(body, int(time.time())))
    assert response.status == 401
    assert [i.status for i in await dash.ctx.book.list()] == ["open", "open"]


async def test_stale_timestamp_is_refused(setup: tuple[Client, Any, FakeSlackApi]) -> None:
    client, dash, _ = setup
    body = click(1)
    stale = int(time.time()) - 6 * 60
    response = await client.post(PATH, data=body, headers=sign(body, stale))
    assert response.status == 401
    assert "stale timestamp" in await response.text()
    incident = await dash.ctx.book.get(1)
    assert incident is not None and incident.status == "open"


async def test_replayed_request_is_refused(setup: tuple[Client, Any, FakeSlackApi]) -> None:
    client, dash, _ = setup
    body = click(1, action="incident_resolve")
    headers = sign(body, int(time.time()))
    assert (await client.post(PATH, data=body, headers=headers)).status == 200
    replay = await client.post(PATH, data=body, headers=headers)
    assert replay.status == 401
    assert "replayed" in await replay.text()
    events = await dash.ctx.book.events(1)
    assert [e.kind for e in events].count("resolved") == 1
