"""X (Twitter) API v2: recent search with an app-only bearer token.

Reads are metered twice: a request window per 15 minutes (the `x-rate-limit-*` headers) and
what reading costs: pay-per-use credits (each post read is charged), or a legacy plan's monthly
post cap. The window is the platform's to enforce; `monthly_post_cap` is counted here (in the
cursor) so the source stops before it spends more than the user allowed. When the credits run
out X answers 402, and the source waits (checking once an hour) instead of retrying.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, ClassVar

from pydantic import Field, field_validator

from connectors.api import Page, PeriodSpend, PlatformConnector, RateHeaders
from connectors.base import (
    AuthError,
    Cursor,
    FetchResult,
    RateBudget,
    RateLimited,
    SourceError,
    SourceOptions,
    map_items,
)
from connectors.textutil import fold_whitespace, parse_date
from monitor.clock import Clock
from monitor.configtypes import Duration, EnvSecret
from monitor.httpclient import HttpClient, HttpResponse
from monitor.records import Engagement, EngagementUpdate, Mention

log = logging.getLogger(__name__)

SEARCH_PATH = "/2/tweets/search/recent"
LOOKUP_PATH = "/2/tweets"
IDS_PER_LOOKUP = 100
# note_tweet carries the full text of posts longer than 280 characters (`text` is cut short).
TWEET_FIELDS = (
    "created_at,public_metrics,lang,conversation_id,referenced_tweets,author_id,note_tweet"
)
USER_FIELDS = "public_metrics,username"
USAGE_CAPPED = "https://api.twitter.com/2/problems/usage-capped"
NOT_FOUND = "https://api.twitter.com/2/problems/resource-not-found"
LEGACY_LANG = {"in": "id", "iw": "he", "ji": "yi"}  # X still uses some retired ISO codes
PORTAL = "https://developer.x.com/en/portal/dashboard"
CREDITS_RECHECK = 3_600.0  # seconds between tries once X says the credits are used up
# The request window; its reset (a Unix time) is exact, so it goes before Retry-After.
RATE_HEADERS = RateHeaders(
    remaining=("x-rate-limit-remaining",),
    limit=("x-rate-limit-limit",),
    reset=("x-rate-limit-reset",),
    reset_before_retry_after=True,
)


class XOptions(SourceOptions):
    """Options of a `kind = "x"` source."""

    bearer_token: EnvSecret  # app-only bearer token from the developer portal
    query: str = Field(min_length=1, max_length=4096)  # X search syntax; plan limits apply
    base_url: str = Field(default="https://api.x.com", pattern=r"^https?://")
    max_results: int = Field(default=100, ge=10, le=100)  # posts per page (API: 10-100)
    max_pages: int = Field(default=3, ge=1, le=20)  # pages per poll when many posts arrived
    lookback: Duration = Field(default=3_600.0, gt=0, le=7 * 86_400)  # first poll (API: <=7d)
    monthly_post_cap: int | None = Field(default=None, ge=1)  # posts read per month, UTC

    @field_validator("query")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the search query is empty")
        return value.strip()


def month_of(now: datetime) -> str:
    """The UTC calendar month the post cap is counted in, as "YYYY-MM"."""
    return now.astimezone(UTC).strftime("%Y-%m")


def next_month_start(now: datetime) -> datetime:
    """00:00 UTC on the 1st of the next month."""
    now = now.astimezone(UTC)
    year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    return datetime(year, month, 1, tzinfo=UTC)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _when(value: Any) -> datetime | None:
    return parse_date(value) if isinstance(value, str) else None


def _lang(code: Any) -> str | None:
    """ISO 639-1, or None for X's pseudo-codes ("und", "qme", "zxx", ...)."""
    if not isinstance(code, str) or len(code) != 2 or not code.isalpha():
        return None
    return LEGACY_LANG.get(code.lower(), code.lower())


def _problem(body: Any) -> tuple[str, str]:
    """The problem `type` and a readable detail of an X error body (top level and first error)."""
    if not isinstance(body, dict):
        return "", ""
    errors = body.get("errors")
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) \
        else {}
    kind = str(body.get("type") or first.get("type") or "")
    parts = [
        str(source[key])
        for source in (body, first)
        for key in ("title", "detail", "message")
        if isinstance(source.get(key), str)
    ]
    return kind, " ".join(dict.fromkeys(parts))[:300]


def _bad_parameters(resp: HttpResponse) -> set[str]:
    """Names of the request parameters an X 400 body complains about."""
    try:
        errors = resp.json().get("errors")
    except (SourceError, AttributeError):
        return set()
    if not isinstance(errors, list):
        return set()
    return {
        str(name)
        for error in errors
        if isinstance(error, dict) and isinstance(error.get("parameters"), dict)
        for name in error["parameters"]
    }


class _StaleSinceId(SourceError):
    """The cursor's since_id is older than recent search reaches (7 days): start afresh."""


def permalink(tweet_id: str, username: str | None) -> str:
    """The post's public URL (X redirects the /i/web/ form when the author is unknown)."""
    if username:
        return f"https://x.com/{username}/status/{tweet_id}"
    return f"https://x.com/i/web/status/{tweet_id}"


class XConnector(PlatformConnector[XOptions]):
    """Recent search on X for posts about the brands, newest first, with author reach."""

    kind: ClassVar[str] = "x"
    platform: ClassVar[str] = "x"
    default_interval: ClassVar[float] = 300.0
    Options: ClassVar[type[SourceOptions]] = XOptions
    api_name: ClassVar[str] = "X"
    rate_headers: ClassVar[RateHeaders | None] = RATE_HEADERS
    supports_refresh: ClassVar[bool] = True

    def __init__(
        self, name: str, options: SourceOptions, http: HttpClient, *, clock: Clock | None = None
    ) -> None:
        super().__init__(name, options, http, clock=clock)
        self.base_url = self.opts.base_url.rstrip("/")
        self._credits_out = False  # X said 402 and has not answered a read since
        self._posts = PeriodSpend("month", "posts_read")  # toward monthly_post_cap

    def search_terms(self) -> list[str]:
        """The configured search query."""
        return [self.opts.query]

    def _headers(self) -> dict[str, str]:
        token = self.api.reveal(self.opts.bearer_token, "export the bearer token")
        return {"Authorization": f"Bearer {token}"}

    # -- the monthly post cap ---------------------------------------------------------------

    def _cap_left(self, read: int) -> int | None:
        cap = self.opts.monthly_post_cap
        return None if cap is None else max(0, cap - read)

    def _cap_spent(self, read: int, now: datetime) -> RateLimited:
        reset = next_month_start(now)
        return RateLimited(
            f"X source {self.name} has read {read} posts this month, its monthly_post_cap of "
            f"{self.opts.monthly_post_cap}; reading resumes on {reset:%Y-%m-%d} (UTC). Raise the "
            "cap only if your X plan allows more",
            (reset - now).total_seconds(),
        )

    # -- HTTP ------------------------------------------------------------------------------

    async def _get(
        self, path: str, params: Mapping[str, str | int], now: datetime
    ) -> tuple[dict[str, Any], HttpResponse]:
        resp = await self.http.get(f"{self.base_url}{path}", params=params, headers=self._headers())
        if resp.status >= 400:
            self._raise_for_x(resp, now)
        if self._credits_out:
            log.info("source %s: X reads again (credits were added)", self.name)
            self._credits_out = False
        return self.api.json_object(resp, f"reading {path}"), resp

    def _raise_for_x(self, resp: HttpResponse, now: datetime) -> None:
        try:
            kind, detail = _problem(resp.json())
        except SourceError:
            kind, detail = "", ""
        detail = self.http.scrub(detail) or f"HTTP {resp.status}"
        if resp.status == 402:
            if not self._credits_out:
                log.error(
                    "source %s: X says the pay-per-use credits are used up (%s); nothing is "
                    "read until credits are added in the developer console (%s); trying again "
                    "every %.0f minutes", self.name, detail, PORTAL, CREDITS_RECHECK / 60,
                )
            self._credits_out = True
            raise RateLimited(
                f"X credits used up (HTTP 402: {detail}); add credits at {PORTAL}; "
                f"trying again every {CREDITS_RECHECK / 60:.0f} minutes",
                CREDITS_RECHECK,
            )
        if resp.status == 429:
            if kind == USAGE_CAPPED:
                reset = next_month_start(now)
                raise RateLimited(
                    f"X says the app's monthly post cap is used up ({detail}); reading resumes "
                    f"on {reset:%Y-%m-%d} (UTC) or when the plan changes",
                    (reset - now).total_seconds(),
                )
            raise RateLimited(f"X rate limit reached ({detail})", self.api.retry_after(resp))
        if resp.status in (401, 403):
            raise AuthError(
                f"X refused the bearer token from ${self.opts.bearer_token.env} "
                f"(HTTP {resp.status}: {detail}). Check the token and that the app has "
                f"access to v2 recent search at {PORTAL}"
            )
        if resp.status == 400 and _bad_parameters(resp) & {"since_id"}:
            raise _StaleSinceId(f"X refused the stored since_id ({detail})")
        if resp.status == 400:
            raise SourceError(
                f"X rejected the request (HTTP 400: {detail}); check the source's query"
            )
        self.api.raise_for_status(resp, "searching")

    def _budget(self, window: RateBudget | None, read: int, now: datetime) -> RateBudget | None:
        """The allowance that runs out first: the request window or the monthly post cap."""
        cap = self.opts.monthly_post_cap
        if cap is None:
            return window
        left = max(0, cap - read)
        posts = RateBudget(remaining=left, limit=cap, resets_at=next_month_start(now), unit="posts")
        if window is None or window.remaining is None or not window.limit:
            return posts
        return posts if left / cap < window.remaining / window.limit else window

    # -- fetch -----------------------------------------------------------------------------

    async def fetch(self, cursor: Cursor) -> FetchResult:
        """Posts newer than the last poll's newest id, following next_token up to max_pages."""
        now = self.clock.now()
        position = cursor.position
        month = month_of(now)
        read = self._posts.spent(position, month)
        left = self._cap_left(read)
        if left == 0:
            raise self._cap_spent(read, now)

        params: dict[str, str | int] = {
            "query": self.opts.query,
            "tweet.fields": TWEET_FIELDS,
            "expansions": "author_id",
            "user.fields": USER_FIELDS,
        }
        since_id = position.get("since_id")
        if isinstance(since_id, str) and since_id.isdigit():
            params["since_id"] = since_id
        else:
            start = now - timedelta(seconds=self.opts.lookback)
            params["start_time"] = start.strftime("%Y-%m-%dT%H:%M:%SZ")

        newest_id: str | None = None
        window: RateBudget | None = None
        pages = 0

        async def read_page(token: str | None) -> Page[Mention]:
            nonlocal read, left, newest_id, window, pages, since_id
            pages += 1
            # The API takes 10 to 100; near the cap ask for no more than is left.
            params["max_results"] = max(10, min(self.opts.max_results, left or 100))
            if token:
                params["next_token"] = token
            try:
                body, resp = await self._get(SEARCH_PATH, params, now)
            except _StaleSinceId as exc:
                if token or "since_id" not in params:
                    raise
                # After a long pause the id falls out of the 7-day window; X refuses it for good.
                log.warning("source %s: %s; reading the last %.0fs instead",
                            self.name, exc, self.opts.lookback)
                del params["since_id"]
                since_id = None
                start = now - timedelta(seconds=self.opts.lookback)
                params["start_time"] = start.strftime("%Y-%m-%dT%H:%M:%SZ")
                body, resp = await self._get(SEARCH_PATH, params, now)
            window = self.api.budget(resp) or window
            tweets = body.get("data", [])
            tweets = tweets if isinstance(tweets, list) else []
            self._posts.book(month, len(tweets))
            read += len(tweets)
            self._check_errors(body, tweets)
            meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
            assert isinstance(meta, dict)
            if not token and isinstance(meta.get("newest_id"), str):
                newest_id = meta["newest_id"]
            mentions, skipped = map_items(
                self.name, enumerate(tweets), partial(self._post, self._users(body), pages)
            )
            left = self._cap_left(read)
            next_token = meta.get("next_token")
            more = isinstance(next_token, str) and left != 0
            return Page(mentions, next_token if more else None, skipped=skipped)

        mentions, skipped = await self.api.read_pages(
            read_page, max_pages=self.opts.max_pages, what="the query"
        )
        next_position: dict[str, Any] = self._posts.settle(month, read)
        if newest_id is not None:
            next_position["since_id"] = newest_id
        elif isinstance(since_id, str):
            next_position["since_id"] = since_id
        return FetchResult(
            mentions=mentions,
            cursor=Cursor(next_position),
            budget=self._budget(window, read, now),
            skipped=skipped,
        )

    def _check_errors(self, body: dict[str, Any], tweets: list[Any]) -> None:
        """A 200 may carry `errors`: fatal without data, otherwise logged and ignored."""
        errors = body.get("errors")
        if not isinstance(errors, list) or not errors:
            return
        _, detail = _problem(body)
        if not tweets and "data" not in body:
            raise SourceError(f"X answered with errors and no posts: {self.http.scrub(detail)}")
        log.warning(
            "source %s: X reported %d partial errors (first: %s)",
            self.name, len(errors), self.http.scrub(detail),
        )

    @staticmethod
    def _users(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
        includes = body.get("includes")
        users = includes.get("users") if isinstance(includes, dict) else None
        if not isinstance(users, list):
            return {}
        return {
            str(u["id"]): u for u in users if isinstance(u, dict) and isinstance(u.get("id"), str)
        }

    @staticmethod
    def _engagement(metrics: Any) -> Engagement | None:
        if not isinstance(metrics, dict):
            return None
        retweets = _count(metrics.get("retweet_count"))
        quotes = _count(metrics.get("quote_count"))
        shares = None if retweets is None and quotes is None else (retweets or 0) + (quotes or 0)
        extra = {
            name: float(value)
            for name, key in (("quotes", "quote_count"), ("bookmarks", "bookmark_count"))
            if (value := _count(metrics.get(key))) is not None
        }
        return Engagement(
            likes=_count(metrics.get("like_count")),
            shares=shares,
            comments=_count(metrics.get("reply_count")),
            views=_count(metrics.get("impression_count")),
            extra=extra,
        )

    def _post(
        self, users: Mapping[str, dict[str, Any]], page: int, indexed: tuple[int, Any]
    ) -> Mention | None:
        """One post of a search page; None (logged) when it lacks id, text or created_at."""
        index, raw = indexed
        mention = self._mention(raw, users)
        if mention is None:
            log.info(
                "source %s: skipped post %d on page %d: no id, text or created_at",
                self.name, index, page,
            )
        return mention

    def _mention(self, raw: Any, users: Mapping[str, dict[str, Any]]) -> Mention | None:
        if not isinstance(raw, dict):
            return None
        tweet_id = raw.get("id")
        note = raw.get("note_tweet")
        text = _text(note.get("text")) if isinstance(note, dict) else None
        text = text or _text(raw.get("text"))
        published = _when(raw.get("created_at"))
        if not isinstance(tweet_id, str) or not tweet_id.isdigit() or not text or not published:
            return None
        user = users.get(str(raw.get("author_id")), {})
        username = _text(user.get("username"))
        user_metrics = user.get("public_metrics")
        reach = _count(user_metrics.get("followers_count")) if isinstance(user_metrics, dict) \
            else None
        parent_id = None
        for ref in raw.get("referenced_tweets") or []:
            if isinstance(ref, dict) and ref.get("type") == "replied_to":
                parent_id = str(ref.get("id"))
        return Mention(
            platform=self.platform,
            external_id=tweet_id,
            text=fold_whitespace(html.unescape(text)),  # v2 escapes &, < and > in text
            url=permalink(tweet_id, username),
            author=username,
            author_reach=reach,
            published_at=published,
            lang=_lang(raw.get("lang")),
            parent_id=parent_id,
            engagement=self._engagement(raw.get("public_metrics")),
        )

    # -- refresh ---------------------------------------------------------------------------

    async def refresh(self, refs: Sequence[str]) -> list[EngagementUpdate]:
        """Re-read public metrics of posts, 100 per call; the reads count against the cap."""
        ids = [ref for ref in dict.fromkeys(refs) if ref.isdigit()]
        now = self.clock.now()
        month = month_of(now)
        updates: list[EngagementUpdate] = []
        for start in range(0, len(ids), IDS_PER_LOOKUP):
            chunk = ids[start : start + IDS_PER_LOOKUP]
            left = self._cap_left(self._posts.spent(None, month))
            if left is not None and left < len(chunk):
                if left == 0 and not updates:
                    raise self._cap_spent(self._posts.spent(None, month), now)
                log.info(
                    "source %s: monthly post cap reached; %d posts not refreshed",
                    self.name, len(ids) - start - left,
                )
                chunk = chunk[:left]
            if not chunk:
                break
            params = {"ids": ",".join(chunk), "tweet.fields": "public_metrics"}
            body, _ = await self._get(LOOKUP_PATH, params, now)
            tweets = body.get("data", [])
            tweets = tweets if isinstance(tweets, list) else []
            self._posts.book(month, len(tweets))
            missing = body.get("errors")
            if isinstance(missing, list) and missing:
                # Deleted or protected posts come back as per-id errors; nothing to refresh.
                log.debug("source %s: %d posts no longer readable", self.name, len(missing))
            for raw in tweets:
                if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
                    continue
                engagement = self._engagement(raw.get("public_metrics"))
                if engagement is not None:
                    updates.append(
                        EngagementUpdate(
                            platform=self.platform,
                            external_id=raw["id"],
                            engagement=engagement,
                            observed_at=now,
                        )
                    )
            if len(chunk) < IDS_PER_LOOKUP and start + len(chunk) < len(ids):
                break  # trimmed by the cap
        return updates
