"""Slack interactivity: the Acknowledge / Resolve buttons on incident messages.

Slack POSTs each click to `/slack/interactions`. The request is trusted only when its
X-Slack-Signature (v0, HMAC-SHA256 with the app's signing secret) matches, its timestamp is
within 5 minutes, and that signature has not been seen in the last 5 minutes (a captured
request cannot be replayed). The Slack user becomes the actor; the message is then updated in
place with chat.update through the Slack channel's bot token.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web

from monitor.alerting.channels.slack import SlackChannel
from monitor.alerting.render import SLACK_ACTIONS_BLOCK, slack_actions
from monitor.alerting.sanitize import escape_slack
from monitor.incidents import IncidentBook, IncidentError
from monitor.records import Incident

log = logging.getLogger(__name__)
PATH = "/slack/interactions"
MAX_SKEW = 300  # seconds: Slack's own recommendation for the timestamp check
MAX_BODY = 64 * 1024
ACTIONS = {"incident_ack": "acknowledged", "incident_resolve": "resolved"}


class SlackVerifier:
    """Checks Slack's v0 request signature, timestamp and that it is not a replay."""

    def __init__(self, signing_secret: str, now: Callable[[], float] = time.time) -> None:
        self._key = signing_secret.encode()
        self.now = now
        self._seen: dict[str, float] = {}  # signature -> when it may be forgotten

    def problem(self, timestamp: str | None, signature: str | None, body: bytes) -> str | None:
        """None for a genuine, fresh, first-seen request; otherwise why it is refused."""
        if not timestamp or not signature or not timestamp.isdigit():
            return "missing X-Slack-Request-Timestamp or X-Slack-Signature"
        now = self.now()
        if abs(now - int(timestamp)) > MAX_SKEW:
            return "stale timestamp (more than 5 minutes off; check the server clock)"
        base = b"v0:" + timestamp.encode() + b":" + body
        expected = "v0=" + hmac.new(self._key, base, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            return "signature does not match (check [web] slack_signing_secret)"
        self._seen = {s: t for s, t in self._seen.items() if t > now}
        if signature in self._seen:
            return "replayed request"
        self._seen[signature] = now + 2 * MAX_SKEW
        return None


class SlackInteractions:
    """Handles button clicks from Slack for incident messages."""

    def __init__(
        self, verifier: SlackVerifier, book: IncidentBook, channels: Sequence[SlackChannel]
    ) -> None:
        self.verifier = verifier
        self.book = book
        self.channels = list(channels)
        self._updates: set[asyncio.Task[None]] = set()  # held so they finish (RUF006)

    def routes(self) -> list[web.RouteDef]:
        """The interaction endpoint."""
        return [web.post(PATH, self.handle)]

    async def handle(self, request: web.Request) -> web.Response:
        """Verify, act as the Slack user, answer Slack at once and update the message after."""
        body = await request.content.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            return web.Response(status=413, text="interaction payload too large")
        problem = self.verifier.problem(
            request.headers.get("X-Slack-Request-Timestamp"),
            request.headers.get("X-Slack-Signature"), body,
        )
        if problem:
            log.warning("refused a Slack interaction request: %s", problem)
            return web.Response(status=401, text=problem)
        try:
            payload = _payload(body)
        except ValueError as exc:
            return web.Response(status=400, text=str(exc))
        if payload.get("type") != "block_actions":
            return web.Response(status=200)  # other interaction kinds are not ours to handle
        user = payload.get("user") or {}
        user_id = str(user.get("id") or "")
        actor = f"{user.get('username') or user.get('name') or user_id} (Slack {user_id})"
        for action in payload.get("actions") or []:
            done = ACTIONS.get(str(action.get("action_id")))
            value = str(action.get("value") or "")
            if done is None or not value.isdigit():
                continue
            incident, outcome = await self._act(int(value), done, actor)
            if incident is not None:
                note = f"{outcome} by <@{escape_slack(user_id)}>" if user_id else outcome
                task = asyncio.create_task(self._update(payload, incident, note))
                self._updates.add(task)
                task.add_done_callback(self._updates.discard)
        return web.Response(status=200)

    async def _act(self, incident_id: int, done: str, actor: str) -> tuple[Incident | None, str]:
        try:
            if done == "acknowledged":
                incident = await self.book.ack(incident_id, actor)
            else:
                incident = await self.book.resolve(incident_id, actor)
            log.info("incident %d %s from Slack by %s", incident_id, done, actor)
            return incident, done.capitalize()
        except IncidentError as exc:
            # Someone was quicker: show the current state instead of the stale buttons.
            log.info("Slack click on incident %d not applied: %s", incident_id, exc)
            return await self.book.get(incident_id), escape_slack(str(exc))

    async def _update(self, payload: dict[str, Any], incident: Incident, note: str) -> None:
        container = payload.get("container") or {}
        message = payload.get("message") or {}
        channel_id = str(container.get("channel_id") or (payload.get("channel") or {}).get("id")
                         or "")
        ts = str(container.get("message_ts") or message.get("ts") or "")
        sender = next((c for c in self.channels if c.settings.channel == channel_id), None)
        sender = sender or next((c for c in self.channels if c.settings.bot_token), None)
        if not channel_id or not ts or sender is None:
            log.warning("cannot update the Slack message for incident %d: no bot-token Slack "
                        "channel or no message reference in the click", incident.id)
            return
        blocks = _updated_blocks(message.get("blocks") or [], incident, note)
        delivery = await sender.update_message(
            channel_id, ts, str(message.get("text") or f"Incident {incident.id}"), blocks
        )
        if not delivery.ok:
            log.warning("incident %d: Slack message not updated: %s", incident.id, delivery.detail)

    async def close(self) -> None:
        """Let message updates in flight finish (bounded)."""
        if self._updates:
            await asyncio.wait(set(self._updates), timeout=5)


def _payload(body: bytes) -> dict[str, Any]:
    from urllib.parse import parse_qs

    fields = parse_qs(body.decode("utf-8", "replace"))
    raw = (fields.get("payload") or [""])[0]
    try:
        payload = json.loads(raw)
    except ValueError:
        raise ValueError("expected a form field `payload` holding JSON") from None
    if not isinstance(payload, dict):
        raise ValueError("the payload is not a JSON object")
    return payload


def _updated_blocks(blocks: list[Any], incident: Incident, note: str) -> list[Any]:
    """The clicked message's blocks with buttons for the new state and a line saying who."""
    kept = [b for b in blocks if isinstance(b, dict) and b.get("block_id") != SLACK_ACTIONS_BLOCK]
    actions = slack_actions(incident)
    if actions:
        kept.append(actions)
    stamp = time.strftime("%H:%M UTC", time.gmtime())
    kept.append({"type": "context", "elements": [
        {"type": "mrkdwn", "text": f"{note} at {stamp} · incident {incident.id} is now "
                                   f"{incident.status}"},
    ]})
    return kept[:50]


__all__ = ["PATH", "SlackInteractions", "SlackVerifier"]
