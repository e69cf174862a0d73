"""The connector contract: errors, results, and the base class every source kind implements."""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

from monitor.clock import Clock, SystemClock
from monitor.records import EngagementUpdate, Mention

if TYPE_CHECKING:
    from connectors.http import HttpClient


class SourceError(Exception):
    """A transient failure: the runner backs off and tries again later."""


class RateLimited(SourceError):
    """The platform asked us to slow down; do not call again for `retry_after` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = max(0.0, retry_after)


class AuthError(Exception):
    """Credentials are missing, wrong or forbidden: the source is parked until config changes."""


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a source left off: connector-defined position plus HTTP validators."""

    position: dict[str, Any] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class RateBudget:
    """What the platform says is left of our request allowance, for `brand-monitor sources`."""

    remaining: int | None = None
    limit: int | None = None
    resets_at: datetime | None = None
    unit: str = "requests"  # or "quota units" (YouTube), "posts" (X monthly cap)


@dataclass(slots=True)
class FetchResult:
    """New mentions and the cursor to pass to the next fetch."""

    mentions: list[Mention]
    cursor: Cursor
    not_modified: bool = False  # 304: nothing changed since the validators
    budget: RateBudget | None = None
    skipped: int = 0  # items dropped because they were malformed (each logged once)


class SourceOptions(BaseModel):
    """Per-kind options from a `[[sources]]` table; subclasses add fields. Unknown keys fail."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Connector(ABC):
    """One source kind. Maps the platform's format to `Mention`; never sleeps or touches the store."""

    kind: ClassVar[str]
    platform: ClassVar[str]
    default_interval: ClassVar[float] = 300.0  # seconds between polls
    Options: ClassVar[type[SourceOptions]] = SourceOptions
    supports_refresh: ClassVar[bool] = False
    push_only: ClassVar[bool] = False  # mentions arrive at the HTTP intake; never polled

    def __init__(
        self, name: str, options: SourceOptions, http: HttpClient, *, clock: Clock | None = None
    ) -> None:
        self.name = name
        self.options = options
        self.http = http
        self.clock: Clock = clock or SystemClock()

    @abstractmethod
    async def fetch(self, cursor: Cursor) -> FetchResult:
        """Return mentions newer than `cursor`, and the next cursor."""

    async def refresh(self, refs: Sequence[str]) -> list[EngagementUpdate]:
        """Re-read engagement counters of the mentions with these external ids."""
        return []

    def search_terms(self) -> list[str]:
        """Terms this source searches for (for display); empty for feeds."""
        return []


# kind -> "module:Class"; imported lazily so `--help` and config checks stay fast.
REGISTRY: dict[str, str] = {
    "rss": "connectors.rss:RssConnector",
    "reddit": "connectors.reddit:RedditConnector",
    "hackernews": "connectors.hackernews:HackerNewsConnector",
    "mastodon": "connectors.mastodon:MastodonConnector",
    "bluesky": "connectors.bluesky:BlueskyConnector",
    "youtube": "connectors.youtube:YouTubeConnector",
    "x": "connectors.x:XConnector",
    "json": "connectors.jsonapi:JsonApiConnector",
    "webhook": "connectors.webhook:WebhookConnector",
}


def connector_class(kind: str) -> type[Connector]:
    """Return the connector class for `kind`, or raise KeyError naming the known kinds."""
    try:
        target = REGISTRY[kind]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise KeyError(f"unknown source kind {kind!r} (known kinds: {known})") from None
    module_name, _, class_name = target.partition(":")
    cls: object = getattr(importlib.import_module(module_name), class_name)
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        raise TypeError(f"{target} is not a Connector")
    return cls
