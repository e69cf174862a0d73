"""Slack: an incoming webhook, or a bot token that keeps each incident's alerts in one thread."""

from __future__ import annotations

import json
import logging
from typing import Any, ClassVar

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from monitor.alerting.channels.base import (
    DEFAULT_RETRY_AFTER,
    Channel,
    body_snippet,
    describe_transport_error,
    read_snippet,
)
from monitor.alerting.render import SlackMessage, render_slack
from monitor.alerting.settings import SlackSettings
from monitor.outbound import USER_AGENT, parse_retry_after
from monitor.records import AlertMessage, Delivery

logger = logging.getLogger(__name__)

# Slack answers that retrying cannot fix, with what the operator should do.
PERMANENT_ERRORS = {
    "invalid_auth": "the token is not valid; create a new one and update the environment variable",
    "not_authed": "no token reached Slack; check the bot_token environment variable",
    "account_inactive": "the token belongs to a deleted user or uninstalled app; reinstall the app",
    "token_revoked": "the token was revoked; reinstall the app and update the token",
    "token_expired": "the token expired; reinstall the app and update the token",
    "missing_scope": "the app lacks the chat:write scope; add it and reinstall",
    "channel_not_found": "check the channel ID, and invite the app to private channels",
    "not_in_channel": "invite the app to the channel (/invite @your-app)",
    "is_archived": "the channel is archived; pick another channel",
    "channel_is_archived": "the channel is archived; create a new incoming webhook",
    "invalid_blocks": "Slack refused the message layout; please report this as a bug",
    "invalid_payload": "Slack refused the message; please report this as a bug",
    "no_text": "Slack saw no text in the message; please report this as a bug",
    "msg_too_long": "the message is too long; please report this as a bug",
    "invalid_token": "the webhook URL is not valid; create a new incoming webhook",
    "no_service": "the webhook was removed; create a new incoming webhook",
    "action_prohibited": "a workspace admin restricted posting here",
    "restricted_action": "a workspace admin restricted posting here",
    "posting_to_general_channel_denied": "only admins may post in this channel; pick another",
}
TRANSIENT_ERRORS = frozenset(
    {
        "ratelimited",
        "rate_limited",
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
        "rollup_error",
    }
)
# Answers to a reply that mean the incident's first message is gone: start a new thread.
LOST_THREAD_ERRORS = frozenset({"thread_not_found", "message_not_found"})


class SlackChannel(Channel):
    """Posts alerts to Slack; in bot mode an incident's alerts share one thread."""

    kind: ClassVar[str] = "slack"

    def __init__(self, settings: SlackSettings) -> None:
        super().__init__(settings)
        self.settings = settings
        self._session: aiohttp.ClientSession | None = None
        self._client: AsyncWebClient | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.settings.timeout),
                headers={"User-Agent": USER_AGENT},
            )
            self._client = None
        return self._session

    def _reveal(self, secret_name: str) -> str:
        secret = getattr(self.settings, secret_name)
        value: str = secret.reveal()
        self._add_secrets([value])
        return value

    async def send(self, alert: AlertMessage, *, thread_ref: str | None = None) -> Delivery:
        """Post the alert; with a bot token, reply in the incident's thread and refresh its root."""
        webhook = self.settings.webhook_url is not None
        try:
            credential = self._reveal("webhook_url" if webhook else "bot_token")
        except ValueError as exc:  # an unset environment variable
            return self.failed(
                f"cannot send to Slack: {exc}; export it and restart", retryable=False
            )
        if webhook:
            return await self._send_webhook(alert, credential)
        return await self._send_bot(alert, credential, thread_ref)

    # -- incoming webhook -------------------------------------------------------------------

    async def _send_webhook(self, alert: AlertMessage, url: str) -> Delivery:
        message = render_slack(alert, buttons=False)  # no bot token: a click could not update it
        body = json.dumps(message.payload(), ensure_ascii=False).encode()
        where = "the Slack incoming webhook"
        try:
            async with self._get_session().post(
                url,
                data=body,
                headers={"Content-Type": "application/json; charset=utf-8"},
                allow_redirects=False,
            ) as resp:
                text = await read_snippet(resp)
                status, headers = resp.status, resp.headers
        except Exception as exc:
            detail, retryable = describe_transport_error(exc, where, self.settings.timeout)
            return self.failed(detail, retryable=retryable)
        if 200 <= status < 300:
            return self.ok("sent to Slack incoming webhook")
        code = text.split()[0] if text else ""
        return self._slack_failure(status, code, text, headers.get("Retry-After"), where)

    # -- bot token ------------------------------------------------------------------------------

    def _web_client(self, token: str) -> AsyncWebClient:
        session = self._get_session()
        if self._client is None or self._client.token != token:
            # No retry handlers: the dispatcher owns retries, so a 429 comes straight back.
            self._client = AsyncWebClient(
                token=token,
                base_url=self.settings.base_url,
                timeout=max(1, int(self.settings.timeout)),  # our session's timeout rules
                session=session,
                retry_handlers=[],
                logger=logging.getLogger("slack_sdk.web.async_client"),
            )
        return self._client

    async def _send_bot(self, alert: AlertMessage, token: str, thread_ref: str | None) -> Delivery:
        client = self._web_client(token)
        message = render_slack(alert)
        root = _parse_thread_ref(thread_ref)
        if thread_ref and root is None:
            logger.warning(
                "channel %s: ignoring malformed Slack thread reference %r; starting a new thread",
                self.name,
                thread_ref,
            )
        if root is None:
            return await self._post_root(client, message)
        channel, ts = root
        broadcast = alert.reason == "escalated" and self.settings.broadcast_escalations
        reply = await self._call(
            client,
            "chat.postMessage",
            channel=channel,
            thread_ts=ts,
            reply_broadcast=broadcast,
            **message.payload(),
        )
        if isinstance(reply, Delivery):
            return reply
        if reply.get("ok") is False:
            # The first message was deleted: start the incident's thread again.
            return await self._post_root(client, message)
        detail = f"replied in Slack thread {ts} (message {reply.get('ts')})"
        if self.settings.update_root:
            updated = await self._call(
                client,
                "chat.update",
                channel=channel,
                ts=ts,
                **render_slack(alert, root=True).payload(),
            )
            if isinstance(updated, Delivery):
                # The reply is out; a stale summary is worth a note, not a resend.
                detail += f"; the first message was not updated: {updated.detail}"
            elif updated.get("ok") is False:
                detail += "; the first message is gone, so it was not updated"
            else:
                detail += "; first message updated"
        return self.ok(detail, external_ref=thread_ref)

    async def _post_root(self, client: AsyncWebClient, message: SlackMessage) -> Delivery:
        posted = await self._call(
            client, "chat.postMessage", channel=self.settings.channel, **message.payload()
        )
        if isinstance(posted, Delivery):
            return posted
        if posted.get("ok") is False:
            return self.failed(
                f"Slack refused chat.postMessage: {posted.get('error')}", retryable=False
            )
        ref = f"{posted['channel']}:{posted['ts']}"
        return self.ok(f"posted to Slack channel {posted['channel']} (ts {posted['ts']})", ref)

    async def _call(
        self, client: AsyncWebClient, method: str, **kwargs: Any
    ) -> dict[str, Any] | Delivery:
        """Call a Web API method: its data, a failed Delivery, or {"ok": False} (lost thread)."""
        where = f"Slack {method}"
        try:
            response = await client.api_call(method, json=kwargs)
        except SlackApiError as exc:
            answer = exc.response.data if isinstance(exc.response.data, dict) else {}
            error = str(answer.get("error") or "")
            if error in LOST_THREAD_ERRORS:
                return {"ok": False, "error": error}
            raw = exc.response.data
            text = error or body_snippet(raw if isinstance(raw, bytes | str) else json.dumps(raw))
            return self._slack_failure(
                exc.response.status_code,
                error,
                text,
                exc.response.headers.get("Retry-After") if exc.response.headers else None,
                where,
            )
        except SlackClientError as exc:
            return self.failed(f"{where} failed: {exc}", retryable=True)
        except Exception as exc:
            detail, retryable = describe_transport_error(exc, where, self.settings.timeout)
            return self.failed(detail, retryable=retryable)
        data = response.data
        if not isinstance(data, dict):
            return self.failed(f"{where} answered with a non-JSON body", retryable=True)
        return data

    async def update_message(
        self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]
    ) -> Delivery:
        """Replace a posted message (bot mode): the dashboard's button clicks show their result."""
        if self.settings.bot_token is None:
            return self.failed("an incoming webhook cannot update messages", retryable=False)
        try:
            token = self._reveal("bot_token")
        except ValueError as exc:
            return self.failed(f"cannot update the Slack message: {exc}", retryable=False)
        updated = await self._call(
            self._web_client(token), "chat.update", channel=channel, ts=ts, text=text,
            blocks=blocks,
        )
        if isinstance(updated, Delivery):
            return updated
        if updated.get("ok") is False:
            return self.failed("the Slack message is gone; nothing to update", retryable=False)
        return self.ok(f"updated Slack message {ts}")

    def _slack_failure(
        self, status: int, error: str, text: str, retry_after: str | None, where: str
    ) -> Delivery:
        if status == 429 or error in ("ratelimited", "rate_limited"):
            wait = parse_retry_after(retry_after)
            wait = DEFAULT_RETRY_AFTER if wait is None else wait
            return self.failed(
                f"{where} is rate limited (HTTP {status} {error or text}); retry after {wait:g}s",
                retryable=True,
                retry_after=wait,
            )
        if status >= 500 or error in TRANSIENT_ERRORS:
            return self.failed(
                f"{where} failed on Slack's side: HTTP {status} {text}", retryable=True
            )
        hint = PERMANENT_ERRORS.get(error)
        detail = f"{where} refused the message: HTTP {status} {text}"
        return self.failed(f"{detail} ({hint})" if hint else detail, retryable=False)

    async def close(self) -> None:
        """Close the HTTP session; safe to call twice."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None
        self._client = None


def _parse_thread_ref(ref: str | None) -> tuple[str, str] | None:
    """("C0123", "1712345678.000100") from "C0123:1712345678.000100"."""
    if not ref:
        return None
    channel, sep, ts = ref.partition(":")
    if not sep or not channel or not ts.replace(".", "").isdigit():
        return None
    return channel, ts
