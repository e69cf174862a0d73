"""Signed JSON POST of an alert to any HTTP endpoint (schema in README.md, "Webhook")."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any, ClassVar

import aiohttp

from monitor.alerting.channels.base import (
    DEFAULT_RETRY_AFTER,
    Channel,
    describe_transport_error,
    read_snippet,
    retryable_status,
)
from monitor.alerting.render import render_text
from monitor.alerting.settings import WebhookSettings
from monitor.clock import Clock, SystemClock, iso
from monitor.outbound import USER_AGENT, parse_retry_after, redact_url
from monitor.records import AlertMessage, Delivery, Digest, Engagement, Incident, Mention

SCHEMA = "brand-monitor.alert/v1"
SIGNATURE_HEADER = "X-Brand-Monitor-Signature"


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix>,v1=<hex>`: HMAC-SHA256 over `timestamp + "." + body`, keyed by the secret."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def _when(value: datetime | None) -> str | None:
    return iso(value)


def _engagement(engagement: Engagement | None) -> dict[str, Any] | None:
    if engagement is None:
        return None
    return {
        "likes": engagement.likes,
        "shares": engagement.shares,
        "comments": engagement.comments,
        "views": engagement.views,
        "extra": dict(engagement.extra),
    }


def _mention(mention: Mention) -> dict[str, Any]:
    return {
        "platform": mention.platform,
        "external_id": mention.external_id,
        "url": mention.url,
        "title": mention.title,
        "author": mention.author,
        "author_reach": mention.author_reach,
        "published_at": _when(mention.published_at),
        "lang": mention.lang,
        "text": mention.text,
        "engagement": _engagement(mention.engagement),
        "source": mention.source,
    }


def _incident(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.id,
        "brand": incident.brand,
        "kind": incident.kind,
        "severity": incident.severity,
        "status": incident.status,
        "summary": incident.summary,
        "category": incident.category,
        "risk": incident.risk,
        "factors": [
            {"name": f.name, "value": f.value, "detail": f.detail} for f in incident.factors
        ],
        "opened_at": _when(incident.opened_at),
        "updated_at": _when(incident.updated_at),
        "resolved_at": _when(incident.resolved_at),
        "mention_count": incident.mention_count,
        "author_count": incident.author_count,
        "platforms": list(incident.platforms),
        "acknowledged_by": incident.acknowledged_by,
        "projection": incident.projection,
    }


def _digest(digest: Digest) -> dict[str, Any]:
    return {
        "route": digest.route,
        "period_start": _when(digest.period_start),
        "period_end": _when(digest.period_end),
        "incidents": [_incident(i) for i in digest.incidents],
        "muted": digest.muted,
    }


def alert_payload(alert: AlertMessage) -> dict[str, Any]:
    """The documented JSON body. Mention fields are untrusted text, passed through as data.

    A digest has `"incident": null` and a `digest` object listing the period's incidents.
    """
    if alert.digest is not None:
        return {
            "schema": SCHEMA,
            "alert_id": alert.alert_id,
            "idempotency_key": alert.idempotency_key,
            "reason": alert.reason,
            "created_at": _when(alert.created_at),
            "incident": None,
            "digest": _digest(alert.digest),
            "top_mentions": [],
            "curve": [],
            "text": render_text(alert),
        }
    return {
        "schema": SCHEMA,
        "alert_id": alert.alert_id,
        "idempotency_key": alert.idempotency_key,
        "reason": alert.reason,
        "created_at": _when(alert.created_at),
        "incident": _incident(alert.incident),
        "top_mentions": [_mention(m) for m in alert.top_mentions],
        "curve": [{"at": _when(at), "count": count} for at, count in alert.curve],
        "text": render_text(alert),
    }


class WebhookChannel(Channel):
    """POSTs each alert as signed JSON; 2xx is delivered, 429/5xx retried, other 4xx dropped."""

    kind: ClassVar[str] = "webhook"

    def __init__(self, settings: WebhookSettings, *, clock: Clock | None = None) -> None:
        super().__init__(settings)
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        return f"<WebhookChannel name={self.name!r} url={redact_url(self.settings.url)!r}>"

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.settings.timeout),
                headers={"User-Agent": USER_AGENT},
            )
        return self._session

    async def send(self, alert: AlertMessage, *, thread_ref: str | None = None) -> Delivery:
        """POST the alert; receivers thread by `incident.id` and drop repeats by idempotency key."""
        try:
            secret = self.settings.secret.reveal()
        except ValueError as exc:
            return self.failed(
                f"cannot sign the webhook: {exc}; export it and restart", retryable=False
            )
        self._add_secrets([secret])
        body = json.dumps(alert_payload(alert), ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = int(self.clock.now().timestamp())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            SIGNATURE_HEADER: signature_header(secret, timestamp, body),
            "Idempotency-Key": alert.idempotency_key,
            "X-Brand-Monitor-Event": alert.reason,
        }
        where = redact_url(self.settings.url)
        try:
            # Redirects are not followed: a POST body must not wander to another address.
            async with self._get_session().post(
                self.settings.url, data=body, headers=headers, allow_redirects=False
            ) as resp:
                status, resp_headers = resp.status, resp.headers
                text = await read_snippet(resp)
        except Exception as exc:
            detail, retryable = describe_transport_error(exc, where, self.settings.timeout)
            return self.failed(detail, retryable=retryable)
        if 200 <= status < 300:
            return self.ok(f"delivered to {where} (HTTP {status})")
        if 300 <= status < 400:
            target = redact_url(resp_headers.get("Location", "?"))
            return self.failed(
                f"{where} redirected to {target} (HTTP {status}); configure the final URL",
                retryable=False,
            )
        retry_after = None
        if status in (429, 503):
            wait = parse_retry_after(resp_headers.get("Retry-After"), self.clock.now())
            retry_after = DEFAULT_RETRY_AFTER if wait is None and status == 429 else wait
        return self.failed(
            f"{where} answered HTTP {status}: {text}",
            retryable=retryable_status(status),
            retry_after=retry_after,
        )

    async def close(self) -> None:
        """Close the HTTP session; safe to call twice."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None
