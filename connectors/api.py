"""What every JSON-API connector shares: errors in the platform's words, allowances, pages, quotas.

A platform connector builds one `PlatformApi` and keeps only the mapping of its format: which
header names carry its request allowance (`RateHeaders`), what its 401/403 means for the user
(`auth_hint`), how a page of its listing is read (`Page`), and how its items become mentions.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar, cast

from pydantic import AfterValidator

from connectors.base import (
    AuthError,
    Connector,
    RateBudget,
    RateLimited,
    SourceError,
    SourceOptions,
)
from connectors.textutil import parse_date
from monitor.clock import Clock
from monitor.configtypes import EnvSecret
from monitor.httpclient import HttpClient, HttpResponse
from monitor.outbound import DEFAULT_RETRY_AFTER, parse_retry_after
from monitor.records import EngagementUpdate, Mention

Item = TypeVar("Item")
OptionsT = TypeVar("OptionsT", bound=SourceOptions)
ResetFormat = Literal["seconds", "epoch", "date", "epoch_or_seconds"]
# An "epoch_or_seconds" reset above this is a Unix time, below it seconds from now.
EPOCH_THRESHOLD = 1_000_000_000


def _base_url(value: str) -> str:
    value = value.strip().rstrip("/")
    if not value.startswith(("https://", "http://")):
        raise ValueError(f"expected an http(s) URL, got {value!r}")
    return value


def _search_queries(value: list[str]) -> list[str]:
    if any(not q.strip() for q in value):
        raise ValueError("search queries must not be empty")
    return [q.strip() for q in value]


# Option types: an API root without its trailing slash, and trimmed non-empty search queries.
BaseUrl = Annotated[str, AfterValidator(_base_url)]
SearchQueries = Annotated[list[str], AfterValidator(_search_queries)]


def header_number(response: HttpResponse, *names: str) -> float | None:
    """The first of `names` that holds a non-negative number ("12", "0.0"), or None."""
    for name in names:
        value = response.headers.get(name)
        if value is None:
            continue
        try:
            number = float(value.strip())
        except ValueError:
            continue
        if math.isfinite(number) and number >= 0:
            return number
    return None


@dataclass(frozen=True, slots=True)
class RateHeaders:
    """Which response headers carry a platform's request allowance, and how its reset is written."""

    remaining: tuple[str, ...]
    limit: tuple[str, ...] = ()
    reset: tuple[str, ...] = ()
    reset_format: ResetFormat = "epoch"
    used: str | None = None  # reddit sends what is used instead of the limit
    reset_before_retry_after: bool = False  # X: its reset time is exact, Retry-After rounded

    def reset_at(self, response: HttpResponse, now: datetime) -> datetime | None:
        """When the allowance window resets, as an aware UTC time, if the response says."""
        if self.reset_format == "date":
            for name in self.reset:
                when = parse_date(response.headers.get(name))
                if when is not None:
                    return when
            return None
        reset = header_number(response, *self.reset)
        if reset is None:
            return None
        if self.reset_format == "seconds" or (
            self.reset_format == "epoch_or_seconds" and reset <= EPOCH_THRESHOLD
        ):
            return now + timedelta(seconds=reset)
        return datetime.fromtimestamp(int(reset), UTC)

    def budget(self, response: HttpResponse, now: datetime) -> RateBudget | None:
        """The allowance the response reports, or None when it carries no such header."""
        remaining = header_number(response, *self.remaining)
        limit = header_number(response, *self.limit)
        if limit is None and remaining is not None and self.used is not None:
            used = header_number(response, self.used)
            limit = None if used is None else remaining + used
        if remaining is None and limit is None:
            return None
        return RateBudget(
            remaining=None if remaining is None else int(remaining),
            limit=None if limit is None else int(limit),
            resets_at=self.reset_at(response, now),
        )


@dataclass(slots=True)
class Page(Generic[Item]):
    """One page of a newest-first listing: its new items and what asks for the next page."""

    items: list[Item]
    next: str | None = None  # None (or empty) on the last page
    reached_known: bool = False  # the page went back to items an earlier poll returned
    skipped: int = 0  # items dropped as malformed (each logged by map_items)


class PlatformApi:
    """One source's view of its platform's JSON API, with errors said in the platform's words."""

    def __init__(
        self,
        http: HttpClient,
        clock: Clock,
        *,
        platform: str,
        source: str,
        log: logging.Logger,
        rate_headers: RateHeaders | None = None,
    ) -> None:
        self.http = http
        self.clock = clock
        self.platform = platform  # as users write it: "reddit", "Bluesky", "HN search"
        self.source = source
        self.log = log
        self.rate_headers = rate_headers

    def budget(self, response: HttpResponse) -> RateBudget | None:
        """The request allowance `response` reports (None without the platform's headers)."""
        if self.rate_headers is None:
            return None
        return self.rate_headers.budget(response, self.clock.now())

    def check_allowance(
        self, budget: RateBudget | None, doing: str, who: str | None = None
    ) -> None:
        """RateLimited before calling when the last response said nothing is left till a reset."""
        if budget is None or budget.remaining is None or budget.remaining >= 1:
            return
        if budget.resets_at is None:
            return
        wait = (budget.resets_at - self.clock.now()).total_seconds()
        if wait > 0:
            raise RateLimited(
                f"{who or self.platform} request allowance used up (before {doing}); it resets "
                f"in {wait:.0f}s",
                wait,
            )

    def retry_after(self, response: HttpResponse) -> float:
        """Seconds to wait after a 429: Retry-After or the allowance reset, else the default."""
        now = self.clock.now()
        retry = parse_retry_after(response.headers.get("Retry-After"), now)
        reset = self.rate_headers.reset_at(response, now) if self.rate_headers else None
        until_reset = None if reset is None else max(0.0, (reset - now).total_seconds())
        first, second = (until_reset, retry) if (
            self.rate_headers is not None and self.rate_headers.reset_before_retry_after
        ) else (retry, until_reset)
        for wait in (first, second):
            if wait is not None:
                return wait
        return DEFAULT_RETRY_AFTER

    def raise_for_status(
        self,
        response: HttpResponse,
        doing: str,
        *,
        auth_hint: str | None = None,
        reason: str | None = None,
        who: str | None = None,
    ) -> None:
        """Map an error response to RateLimited, AuthError or SourceError, naming the source.

        `auth_hint` says what to do about a 401/403 (without one, the HTTP layer's words are
        used); `reason` is the platform's own error text; `who` names the server when a source
        reads several (Mastodon instances).
        """
        who = who or self.platform
        if response.status == 429:
            raise RateLimited(
                f"{who} rate limited source {self.source!r} (HTTP 429) while {doing}",
                self.retry_after(response),
            )
        if response.status in (401, 403) and auth_hint is not None:
            raise AuthError(
                f"{who} refused source {self.source!r} (HTTP {response.status}"
                f"{', ' + reason if reason else ''}) while {doing}; {auth_hint}"
            )
        try:
            response.raise_for_status(now=self.clock.now())
        except RateLimited as exc:
            raise RateLimited(self.scrub(f"{self.platform} {doing}: {exc}"), exc.retry_after) \
                from None
        except SourceError as exc:
            raise SourceError(self.scrub(f"{self.platform} {doing}: {exc}")) from None
        except AuthError as exc:
            raise AuthError(self.scrub(f"{self.platform} {doing}: {exc}")) from None

    def json(self, response: HttpResponse, doing: str) -> Any:
        """The decoded body; SourceError naming the platform and the call when it is not JSON."""
        try:
            return response.json()
        except SourceError as exc:
            raise SourceError(self.scrub(f"{self.platform} {doing}: {exc}")) from None

    def json_object(self, response: HttpResponse, doing: str) -> dict[str, Any]:
        """The decoded body, which must be a JSON object."""
        body = self.json(response, doing)
        if not isinstance(body, dict):
            raise SourceError(
                f"{self.platform} answered {doing} with unexpected JSON: expected an object"
            )
        return body

    def scrub(self, text: str) -> str:
        """`text` with every registered credential masked."""
        return self.http.scrub(text)

    def reveal(self, secret: EnvSecret, what: str) -> str:
        """A secret's value, registered for masking; AuthError saying how to set it if unset."""
        try:
            value = secret.reveal()
        except ValueError as exc:
            raise AuthError(f"{self.platform} source {self.source!r}: {exc}; {what}") from None
        self.http.add_secrets([value])
        return value

    async def read_pages(
        self,
        read_page: Callable[[str | None], Awaitable[Page[Item]]],
        *,
        max_pages: int,
        what: str,
        newest_only: bool = False,
        on_bound: Callable[[], None] | None = None,
    ) -> tuple[list[Item], int]:
        """Read a listing page by page until known items, its last page, or `max_pages`.

        `read_page` gets the previous page's `next` (None for the first page). With
        `newest_only` (a first poll) one page is read: history is not what we watch for.
        Stopping at `max_pages` with more waiting is logged as a warning, or `on_bound` is
        called instead. Returns the items and how many were skipped as malformed.
        """
        items: list[Item] = []
        skipped = 0
        token: str | None = None
        for number in range(1, max_pages + 1):
            page = await read_page(token)
            items += page.items
            skipped += page.skipped
            if newest_only or page.reached_known or not page.next:
                break
            if number == max_pages:
                if on_bound is not None:
                    on_bound()
                else:
                    self.log.warning(
                        "source %s: more than %d pages of new items for %s since the last poll; "
                        "older ones are skipped (poll more often or raise max_pages)",
                        self.source, max_pages, what,
                    )
                break
            token = page.next
        return items, skipped


class PeriodSpend:
    """What a source spent in a metered period (a day of quota units, a month of posts).

    The period's total travels in the cursor (`period_key`, `spent_key`); what was spent since
    the last returned cursor (a failed poll, a refresh) is held here so it still counts.
    """

    def __init__(self, period_key: str, spent_key: str) -> None:
        self.period_key = period_key
        self.spent_key = spent_key
        self._unbooked: tuple[str, int] = ("", 0)
        self._booked: tuple[str, int] = ("", 0)

    def spent(self, position: Mapping[str, Any] | None, period: str) -> int:
        """Spent in `period`: the cursor's count (None: the last returned one) plus unbooked."""
        spent = 0
        if position is None:
            spent = self._booked[1] if self._booked[0] == period else 0
        elif position.get(self.period_key) == period and isinstance(
            position.get(self.spent_key), int
        ):
            spent = position[self.spent_key]
        return spent + (self._unbooked[1] if self._unbooked[0] == period else 0)

    def book(self, period: str, amount: int) -> None:
        """Count `amount` spent now, before a cursor holds it."""
        pending = self._unbooked[1] if self._unbooked[0] == period else 0
        self._unbooked = (period, pending + amount)

    def settle(self, period: str, total: int) -> dict[str, Any]:
        """The cursor fields that hold `total` for `period`; nothing is left unbooked."""
        self._unbooked = ("", 0)
        self._booked = (period, total)
        return {self.period_key: period, self.spent_key: total}


class PlatformConnector(Connector, Generic[OptionsT]):
    """A connector for one platform's JSON API: typed `opts` and a `PlatformApi` as `api`."""

    api_name: ClassVar[str]  # how messages name the platform: "reddit", "Bluesky", "HN search"
    rate_headers: ClassVar[RateHeaders | None] = None

    def __init__(
        self, name: str, options: SourceOptions, http: HttpClient, *, clock: Clock | None = None
    ) -> None:
        super().__init__(name, options, http, clock=clock)
        if not isinstance(options, self.Options):
            raise TypeError(f"{type(self).__name__} takes {self.Options.__name__} options")
        self.opts = cast(OptionsT, options)
        self.api = PlatformApi(
            http,
            self.clock,
            platform=self.api_name,
            source=name,
            log=logging.getLogger(type(self).__module__),
            rate_headers=self.rate_headers,
        )

    def engagement_updates(self, mentions: Iterable[Mention]) -> list[EngagementUpdate]:
        """The counters of re-read mentions as engagement updates (those without give none)."""
        observed = self.clock.now()
        return [
            EngagementUpdate(
                platform=self.platform,
                external_id=mention.external_id,
                engagement=mention.engagement,
                observed_at=observed,
            )
            for mention in mentions
            if mention.engagement is not None
        ]
