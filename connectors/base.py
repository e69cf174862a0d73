"""The connector contract: errors, results, and the base class every source kind implements."""

from __future__ import annotations

import dataclasses
import importlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict

from connectors.textutil import encodable
from monitor.clock import Clock, SystemClock
from monitor.records import EngagementUpdate, Mention

if TYPE_CHECKING:
    from monitor.httpclient import HttpClient

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Mapped = TypeVar("Mapped")
# Mention fields that hold text from the outside world.
_TEXT_FIELDS = (
    "platform", "external_id", "text", "url", "title", "author", "lang", "parent_id", "source",
)
# Keys under which platforms put an item's own id, to name a skipped item in the log.
_ID_KEYS = ("id", "objectID", "uri", "guid", "link", "url")


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

    def __post_init__(self) -> None:
        # The last gate before the store: one lone surrogate would fail the whole batch's write.
        self.mentions = [encodable_mention(m) for m in self.mentions]


def encodable_mention(mention: Mention) -> Mention:
    """`mention` itself when all its text encodes as UTF-8, else a copy with that text repaired."""
    changes: dict[str, Any] = {}
    for name in _TEXT_FIELDS:
        value = getattr(mention, name)
        if isinstance(value, str):
            repaired = encodable(value)
            if repaired is not value:
                changes[name] = repaired
    return dataclasses.replace(mention, **changes) if changes else mention


def item_label(item: Any, index: int) -> str:
    """How a log line names a raw item: its position, and its own id when one can be found."""
    for holder in (item, item.get("data") if isinstance(item, dict) else None):
        if not isinstance(holder, dict):
            continue
        for key in _ID_KEYS:
            value = holder.get(key)
            if isinstance(value, str | int) and not isinstance(value, bool) and value != "":
                return f"{index} ({key} {encodable(str(value))[:80]!r})"
    return str(index)


def map_items(
    source: str, items: Iterable[Item], to_record: Callable[[Item], Mapped | None]
) -> tuple[list[Mapped], int]:
    """Map a page of raw items; one that cannot be mapped is skipped and logged, not the page.

    `to_record` returns None for an item it knows to be unusable (and logs why itself); an
    exception it raises is logged here as one line naming the source, the item and the reason.
    Returns the mapped records and how many items were skipped.
    """
    mapped: list[Mapped] = []
    skipped = 0
    for index, item in enumerate(items):
        try:
            record = to_record(item)
        except Exception as exc:  # one malformed item must not cost the rest of the page
            skipped += 1
            reason = encodable(str(exc)).replace("\n", " ")[:200] or "no detail"
            log.warning(
                "source %s: skipped item %s: cannot read it (%s: %s); the rest of the page is kept",
                source, item_label(item, index), type(exc).__name__, reason,
            )
            continue
        if record is None:
            skipped += 1
        else:
            mapped.append(record)
    return mapped, skipped


class SourceOptions(BaseModel):
    """Per-kind options from a `[[sources]]` table; subclasses add fields. Unknown keys fail."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Connector(ABC):
    """One source kind: maps its format to `Mention`; never sleeps or touches the store."""

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

    async def close(self) -> None:
        """Release what the connector holds beyond the shared HTTP client (a stream task)."""
        return None  # polled connectors hold nothing of their own


# kind -> "module:Class"; imported lazily so `--help` and config checks stay fast.
REGISTRY: dict[str, str] = {
    "rss": "connectors.rss:RssConnector",
    "reddit": "connectors.reddit:RedditConnector",
    "hackernews": "connectors.hackernews:HackerNewsConnector",
    "mastodon": "connectors.mastodon:MastodonConnector",
    "bluesky": "connectors.bluesky:BlueskyConnector",
    "bluesky_stream": "connectors.bluesky_stream:BlueskyStreamConnector",
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
