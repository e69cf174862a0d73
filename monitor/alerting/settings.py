"""Typed settings for alert channels: one `[[channels]]` table each, unknown keys are errors."""

from __future__ import annotations

import re
import socket
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, TypeAdapter, field_validator, model_validator

from monitor.configtypes import Duration, EnvSecret, Strict

# Deliberately loose: the SMTP server is the judge of an address; this catches typos such as a
# missing domain or a stray comma that would otherwise surface only when an alert fails.
_ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")
_HOST_LABEL = re.compile(r"[^A-Za-z0-9.-]+")


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
    return value


class ChannelSettingsBase(Strict):
    """Keys every channel table has."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    enabled: bool = True
    timeout: Duration = Field(default=15.0, gt=0)  # whole send, connect included


class SlackSettings(ChannelSettingsBase):
    """Slack by incoming webhook (`webhook_url`) or by bot token (`bot_token` + `channel`)."""

    kind: Literal["slack"]
    webhook_url: EnvSecret | None = None  # the URL itself is the credential
    bot_token: EnvSecret | None = None  # xoxb-...; needs the chat:write scope
    channel: str | None = None  # channel ID (C0123...) or name; bot mode only
    base_url: str = "https://slack.com/api/"  # for Slack-compatible servers and tests
    update_root: bool = True  # keep the incident's first message showing the current state
    broadcast_escalations: bool = True  # thread replies for escalations also appear in channel

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        return _http_url(value)

    @model_validator(mode="after")
    def _one_mode(self) -> SlackSettings:
        if (self.webhook_url is None) == (self.bot_token is None):
            raise ValueError("set exactly one of webhook_url (incoming webhook) or bot_token")
        if self.bot_token is not None and not self.channel:
            raise ValueError("bot_token needs channel (the channel ID, e.g. C0123456789)")
        if self.webhook_url is not None and self.channel:
            raise ValueError(
                "channel applies to bot_token only; an incoming webhook posts to the channel "
                "chosen when it was created"
            )
        return self


class EmailSettings(ChannelSettingsBase):
    """SMTP delivery: STARTTLS (587), implicit TLS (465) or plain (local relays only)."""

    kind: Literal["email"]
    host: str = Field(min_length=1)
    port: int | None = Field(default=None, ge=1, le=65535)  # default: 587 / 465 / 25 by security
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: EnvSecret | None = None
    sender: str  # the From address
    to: list[str] = Field(min_length=1)
    ca_file: Path | None = None  # extra CA bundle for a relay with a private certificate
    verify_certificate: bool = True
    message_id_host: str | None = None  # domain part of Message-IDs; default: this machine's name

    @field_validator("sender")
    @classmethod
    def _check_sender(cls, value: str) -> str:
        if not _ADDRESS.match(value):
            raise ValueError(f"not an email address: {value!r}")
        return value

    @field_validator("to")
    @classmethod
    def _check_recipients(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if not _ADDRESS.match(v)]
        if bad:
            raise ValueError(f"not email addresses: {', '.join(repr(b) for b in bad)}")
        return value

    @model_validator(mode="after")
    def _auth_pair(self) -> EmailSettings:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together; set both or neither")
        return self

    def effective_port(self) -> int:
        """The configured port, or the standard one for the security mode."""
        if self.port is not None:
            return self.port
        return {"starttls": 587, "tls": 465, "none": 25}[self.security]

    def id_host(self) -> str:
        """Host part for Message-ID headers, stable across restarts on the same machine."""
        host = self.message_id_host or socket.gethostname() or "localhost"
        return _HOST_LABEL.sub("-", host).strip(".-") or "localhost"


class WebhookSettings(ChannelSettingsBase):
    """A signed JSON POST to any HTTP endpoint."""

    kind: Literal["webhook"]
    url: str
    secret: EnvSecret  # HMAC-SHA256 key shared with the receiver

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        return _http_url(value)


class ConsoleSettings(ChannelSettingsBase):
    """Readable alerts on the terminal; the default when no channel is configured."""

    kind: Literal["console"]
    stream: Literal["stderr", "stdout"] = "stderr"
    color: Literal["auto", "always", "never"] = "auto"


ChannelSettings = Annotated[
    SlackSettings | EmailSettings | WebhookSettings | ConsoleSettings,
    Field(discriminator="kind"),
]
CHANNEL_SETTINGS: TypeAdapter[list[ChannelSettings]] = TypeAdapter(list[ChannelSettings])


def parse_channels(data: Sequence[Mapping[str, Any]]) -> list[ChannelSettings]:
    """Validate a list of `[[channels]]` tables (raises pydantic ValidationError)."""
    return CHANNEL_SETTINGS.validate_python(data)


def default_channels() -> list[ChannelSettings]:
    """What alerts go to when nothing is configured: the console."""
    return [ConsoleSettings(kind="console", name="console")]


def secret_problems(settings: ChannelSettings) -> list[str]:
    """Unset environment variables this channel needs, as "key: message" lines."""
    problems = []
    for key in ("webhook_url", "bot_token", "password", "secret"):
        secret = getattr(settings, key, None)
        if isinstance(secret, EnvSecret) and not secret.is_set():
            problems.append(f"{key}: environment variable {secret.env} is not set")
    return problems
