"""The channel contract: build from settings, `send` one alert, get a Delivery back, `close`."""

from __future__ import annotations

import asyncio
import errno
import importlib
import logging
import ssl
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar

import aiohttp

from monitor.alerting.sanitize import one_line, truncate
from monitor.records import AlertMessage, Delivery

if TYPE_CHECKING:
    from monitor.alerting.settings import ChannelSettings, ChannelSettingsBase

logger = logging.getLogger(__name__)

# kind -> "module:Class"; imported on first use so `import monitor.alerting` stays light.
REGISTRY: dict[str, str] = {
    "slack": "monitor.alerting.channels.slack:SlackChannel",
    "email": "monitor.alerting.channels.email:EmailChannel",
    "webhook": "monitor.alerting.channels.webhook:WebhookChannel",
    "console": "monitor.alerting.channels.console:ConsoleChannel",
}
DEFAULT_RETRY_AFTER = 60.0
BODY_SNIPPET = 300


class Channel(ABC):
    """One configured destination for alerts.

    `send(alert, thread_ref=None)` never raises for a delivery failure; it returns a Delivery
    whose `detail` names the exact failure. `thread_ref` is the `external_ref` of the first
    successful Delivery for the same incident on this channel (the dispatcher stores it and
    passes it back); channels that thread by themselves (email) or cannot (webhook) ignore it.
    """

    kind: ClassVar[str]

    def __init__(self, settings: ChannelSettingsBase) -> None:
        self.name = settings.name
        self._secrets: set[str] = set()

    @abstractmethod
    async def send(self, alert: AlertMessage, *, thread_ref: str | None = None) -> Delivery:
        """Deliver one alert; failures come back as Delivery(ok=False), never as exceptions."""

    async def close(self) -> None:
        """Release connections; safe to call twice."""
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"

    def _add_secrets(self, values: Iterable[str]) -> None:
        # Short values would mask ordinary words; real credentials are far longer.
        self._secrets.update(v for v in values if v and len(v) >= 6)

    def scrub(self, text: str) -> str:
        """Mask every known secret value in `text`."""
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text

    def ok(self, detail: str = "sent", external_ref: str | None = None) -> Delivery:
        """A successful Delivery, logged at debug."""
        logger.debug("channel %s: %s", self.name, self.scrub(detail))
        return Delivery(
            channel=self.name, ok=True, detail=self.scrub(detail), external_ref=external_ref
        )

    def failed(self, detail: str, *, retryable: bool, retry_after: float | None = None) -> Delivery:
        """A failed Delivery with secrets masked, logged once at warning."""
        detail = self.scrub(detail)
        logger.warning(
            "channel %s (%s) could not deliver: %s%s",
            self.name,
            self.kind,
            detail,
            "" if retryable else " (not retrying: fix the channel settings)",
        )
        return Delivery(
            channel=self.name, ok=False, detail=detail, retryable=retryable, retry_after=retry_after
        )


async def read_snippet(response: aiohttp.ClientResponse, limit: int = 4096) -> str:
    """The start of a response body as one clean line; never reads more than about `limit`."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(1024):
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return body_snippet(b"".join(chunks))


def body_snippet(body: bytes | str) -> str:
    """The start of a response body as one clean line, for failure details."""
    if isinstance(body, bytes):
        body = body[: BODY_SNIPPET * 4].decode("utf-8", "replace")
    return truncate(one_line(body), BODY_SNIPPET) or "(empty body)"


def describe_transport_error(exc: BaseException, where: str, timeout: float) -> tuple[str, bool]:
    """(detail, retryable) for a failure before any HTTP response: DNS, refused, TLS, timeout."""
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return f"DNS lookup failed for {where}: {exc.os_error}", True
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        # A certificate the client does not trust will not become trusted by retrying.
        return f"TLS certificate of {where} was rejected: {exc.certificate_error}", False
    if isinstance(exc, aiohttp.ClientSSLError):
        return f"TLS handshake with {where} failed: {exc.os_error}", True
    if isinstance(exc, aiohttp.ClientConnectorError):
        os_error = exc.os_error
        if isinstance(os_error, ConnectionRefusedError) or os_error.errno == errno.ECONNREFUSED:
            return f"connection refused by {where} (is the service running?)", True
        return f"cannot connect to {where}: {os_error.strerror or os_error}", True
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return f"{where} closed the connection before answering", True
    if isinstance(exc, TimeoutError | asyncio.TimeoutError | aiohttp.ServerTimeoutError):
        return f"no answer from {where} within {timeout:g}s", True
    if isinstance(exc, aiohttp.InvalidURL):
        return f"invalid URL for {where}", False
    if isinstance(exc, ssl.SSLError):
        return f"TLS error with {where}: {exc.reason or exc}", True
    if isinstance(exc, aiohttp.ClientError | OSError):
        return f"request to {where} failed: {type(exc).__name__}: {exc}", True
    raise exc


def retryable_status(status: int) -> bool:
    """429, 408 and 5xx are worth retrying; other 4xx mean the request itself is wrong."""
    return status in (408, 425, 429) or status >= 500


def channel_class(kind: str) -> type[Channel]:
    """The Channel subclass for `kind`; KeyError naming the known kinds otherwise."""
    try:
        target = REGISTRY[kind]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise KeyError(f"unknown channel kind {kind!r} (known: {known})") from None
    module_name, _, class_name = target.partition(":")
    cls: type[Channel] = getattr(importlib.import_module(module_name), class_name)
    return cls


def build_channel(settings: ChannelSettings) -> Channel:
    """Construct the channel a `[[channels]]` table describes."""
    cls = channel_class(settings.kind)
    return cls(settings)
