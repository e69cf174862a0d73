"""YouTube Data API v3: new videos matching a query, their statistics, and optional comments.

The API is metered in quota units per Google Cloud project (10,000 a day by default), reset at
midnight Pacific time. Each call's cost is counted here and the day's spend is kept in the
cursor, so the source stops itself before the project runs dry instead of failing at random.
Comment reading is in connectors/youtube_comments.py.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator

from connectors.api import Page, PeriodSpend, PlatformConnector
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
from connectors.textutil import fold_whitespace
from connectors.youtube_api import (
    LIST_COST,
    SEARCH_COST,
    QuotaLedger,
    count_field,
    error_reasons,
    load_pacific,
    pacific_day,
    rfc3339,
    text_field,
    time_field,
    watch_url,
)
from connectors.youtube_comments import CommentReader
from monitor.clock import Clock
from monitor.configtypes import Duration, EnvSecret
from monitor.httpclient import HttpClient, HttpResponse
from monitor.outbound import redact_url
from monitor.records import Engagement, EngagementUpdate, Mention

log = logging.getLogger(__name__)

IDS_PER_CALL = 50
VIDEO_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
SEEN_LIMIT = 500  # ids remembered to drop repeats from the overlap window
QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})
RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
KEY_REASONS = frozenset({"keyInvalid", "keyExpired", "API_KEY_INVALID", "API_KEY_EXPIRED"})


class YouTubeOptions(SourceOptions):
    """Options of a `kind = "youtube"` source."""

    api_key: EnvSecret  # a Google Cloud API key with "YouTube Data API v3" enabled
    query: str = Field(min_length=1, max_length=500)  # search.list `q`: supports | and -
    base_url: str = Field(default="https://www.googleapis.com/youtube/v3", pattern=r"^https?://")
    daily_quota: int = Field(default=10_000, ge=SEARCH_COST + LIST_COST)  # the project's quota
    max_pages: int = Field(default=1, ge=1, le=10)  # search pages (50 videos, 100 units) per poll
    lookback: Duration = Field(default=86_400.0, gt=0)  # how far back the first poll looks
    overlap: Duration = Field(default=3_600.0, ge=0)  # re-search window: the index lags uploads
    region_code: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    relevance_language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}(-[A-Za-z]+)?$")
    channel_reach: bool = True  # subscriber counts as author reach: 1 unit per 50 channels
    comment_video_ids: list[str] = []  # always read new comments on these videos
    comments_on_found_within: Duration | None = None  # also on videos found in this window
    max_comment_videos: int = Field(default=10, ge=0, le=50)  # videos whose comments are read
    # commentThreads pages (100 threads with up to 5 replies each, 1 unit) per video per poll
    max_comment_pages: int = Field(default=3, ge=1, le=20)
    # comments.list pages (100 replies, 1 unit) per poll, for threads with more replies than
    # the thread listing carries
    max_reply_pages: int = Field(default=10, ge=0, le=100)

    @field_validator("comment_video_ids")
    @classmethod
    def _video_ids(cls, value: list[str]) -> list[str]:
        for video_id in value:
            if not VIDEO_ID.match(video_id):
                raise ValueError(
                    f"{video_id!r} is not a YouTube video id (11 characters, as in watch?v=...)"
                )
        return value


def _lang(code: Any) -> str | None:
    """ISO 639-1 from a BCP-47 tag such as "en-US"; None for "zxx", "und" and the like."""
    if not isinstance(code, str):
        return None
    primary = code.replace("_", "-").split("-")[0].lower()
    return primary if len(primary) == 2 and primary.isalpha() else None


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class YouTubeConnector(PlatformConnector[YouTubeOptions]):
    """Searches YouTube for new videos about the brands; optionally reads their comments."""

    kind: ClassVar[str] = "youtube"
    platform: ClassVar[str] = "youtube"
    # A poll costs 100 to 102 units: every 30 minutes spends at most 4,896 of the default
    # 10,000 a day, which leaves room for comments, refreshes and a second search page.
    default_interval: ClassVar[float] = 1800.0
    Options: ClassVar[type[SourceOptions]] = YouTubeOptions
    api_name: ClassVar[str] = "YouTube"
    supports_refresh: ClassVar[bool] = True

    def __init__(
        self, name: str, options: SourceOptions, http: HttpClient, *, clock: Clock | None = None
    ) -> None:
        super().__init__(name, options, http, clock=clock)
        self.base_url = self.opts.base_url.rstrip("/")
        # Units spent today: the cursor's count plus those a refresh or failed poll spent.
        self._units = PeriodSpend("quota_day", "quota_used")
        self._comments = CommentReader(name, self.opts, self._call, self.api)
        self._pacific: ZoneInfo | None = None  # read on first use, off the event loop

    def search_terms(self) -> list[str]:
        """The configured search query."""
        return [self.opts.query]

    def _key(self) -> str:
        return self.api.reveal(self.opts.api_key, "export the API key")

    async def _open_ledger(
        self, position: Mapping[str, Any] | None, now: datetime
    ) -> QuotaLedger:
        """Today's spend: the cursor's (or, for refresh, the last cursor's) plus unbooked units."""
        if self._pacific is None:
            # Not at import: a config reload may import this module on the event loop.
            self._pacific = await load_pacific()
        day = pacific_day(now, self._pacific)
        return QuotaLedger(
            day=day,
            used=self._units.spent(position, day),
            limit=self.opts.daily_quota,
            pacific=self._pacific,
        )

    def _quota_spent(self, ledger: QuotaLedger, now: datetime, needed: int) -> RateLimited:
        reset = ledger.next_reset(now)
        return RateLimited(
            f"YouTube daily quota spent for source {self.name}: {ledger.used} of "
            f"{ledger.limit} units used today (Pacific time), {needed} needed; polling resumes "
            f"at midnight Pacific ({reset:%Y-%m-%d %H:%M} UTC). Raise daily_quota only if the "
            "Google Cloud project really has more",
            (reset - now).total_seconds(),
        )

    def _budget(self, ledger: QuotaLedger, now: datetime) -> RateBudget:
        return RateBudget(
            remaining=ledger.remaining(),
            limit=ledger.limit,
            resets_at=ledger.next_reset(now),
            unit="quota units",
        )

    async def _call(
        self,
        ledger: QuotaLedger,
        method: str,
        params: Mapping[str, str | int],
        cost: int,
        now: datetime,
        tolerate: frozenset[str] = frozenset(),
    ) -> HttpResponse:
        """One metered API call; the units are booked even when the call fails (Google does).

        An error response whose reason is in `tolerate` is returned for the caller to handle.
        """
        if not ledger.affordable(cost):
            raise self._quota_spent(ledger, now, cost)
        ledger.used += cost
        self._units.book(ledger.day, cost)
        url = f"{self.base_url}/{method}"
        resp = await self.http.get(url, params={**params, "key": self._key()})
        if resp.status >= 400 and not (error_reasons(resp)[0] & tolerate):
            self._raise_for_youtube(resp, method, ledger, now)
        return resp

    def _raise_for_youtube(
        self, resp: HttpResponse, method: str, ledger: QuotaLedger, now: datetime
    ) -> None:
        reasons, message = error_reasons(resp)
        where = redact_url(resp.request_url)
        detail = self.http.scrub(f"{', '.join(sorted(reasons)) or 'no reason'}: {message}")
        if reasons & QUOTA_REASONS:
            reset = ledger.next_reset(now)
            raise RateLimited(
                f"YouTube says the project's daily quota is spent ({method}, HTTP {resp.status}); "
                f"polling resumes at midnight Pacific ({reset:%Y-%m-%d %H:%M} UTC). Another "
                "program may share this API key's project",
                (reset - now).total_seconds(),
            )
        if reasons & RATE_REASONS:
            raise RateLimited(f"YouTube rate limit on {method} ({detail})", 60.0)
        if reasons & KEY_REASONS or resp.status in (401, 403):
            raise AuthError(
                f"YouTube refused the API key from ${self.opts.api_key.env} on {method} "
                f"(HTTP {resp.status}, {detail}). Check the key, its API restrictions, and that "
                "'YouTube Data API v3' is enabled in its Google Cloud project"
            )
        if resp.status == 400:
            raise SourceError(f"YouTube rejected {where} (HTTP 400, {detail}); check the options")
        self.api.raise_for_status(resp, f"calling {method}")

    async def _read(
        self,
        ledger: QuotaLedger,
        method: str,
        params: Mapping[str, str | int],
        cost: int,
        now: datetime,
    ) -> dict[str, Any]:
        """One metered call whose answer must be a JSON object."""
        resp = await self._call(ledger, method, params, cost, now)
        return self.api.json_object(resp, f"calling {method}")

    # -- fetch -----------------------------------------------------------------------------

    async def fetch(self, cursor: Cursor) -> FetchResult:
        """Search for videos published since the last poll, then read their statistics."""
        now = self.clock.now()
        position = cursor.position
        ledger = await self._open_ledger(position, now)
        if not ledger.affordable(SEARCH_COST + LIST_COST):
            raise self._quota_spent(ledger, now, SEARCH_COST + LIST_COST)

        newest = time_field(position.get("published_after")) or (
            now - timedelta(seconds=self.opts.lookback)
        )
        seen: list[str] = [s for s in position.get("seen", []) if isinstance(s, str)]
        seen_set = set(seen)
        after = newest - timedelta(seconds=self.opts.overlap)
        found, skipped = await self._search(ledger, after, now)
        fresh = [item for item in found if item["id"] not in seen_set]

        fresh_ids = [item["id"] for item in fresh]
        videos = await self._videos(ledger, fresh_ids, "snippet,statistics", now)
        reach: dict[str, int] = {}
        if self.opts.channel_reach:
            channels = sorted({item["channel_id"] for item in fresh if item["channel_id"]})
            reach = await self._subscribers(ledger, channels, now)

        mentions, unmapped = map_items(
            self.name, fresh, lambda item: self._video_mention(item, videos.get(item["id"]), reach)
        )
        for item in fresh:
            newest = max(newest, item["published_at"])
            seen.append(item["id"])

        comments = await self._comments.read(ledger, position, fresh, now)
        mentions.extend(comments.mentions)

        next_position: dict[str, Any] = {
            "published_after": rfc3339(newest),
            "seen": seen[-SEEN_LIMIT:],
            **self._units.settle(ledger.day, ledger.used),
            **comments.position,
        }
        return FetchResult(
            mentions=mentions,
            cursor=Cursor(next_position),
            budget=self._budget(ledger, now),
            skipped=skipped + unmapped + comments.skipped,
        )

    async def _search(
        self, ledger: QuotaLedger, after: datetime, now: datetime
    ) -> tuple[list[dict[str, Any]], int]:
        params: dict[str, str | int] = {
            "part": "snippet",
            "type": "video",
            "order": "date",
            "q": self.opts.query,
            "publishedAfter": rfc3339(after),
            "maxResults": 50,
        }
        if self.opts.region_code:
            params["regionCode"] = self.opts.region_code
        if self.opts.relevance_language:
            params["relevanceLanguage"] = self.opts.relevance_language
        pages = 0

        async def read_page(token: str | None) -> Page[dict[str, Any]]:
            nonlocal pages
            pages += 1
            if token:
                params["pageToken"] = token
            data = await self._read(ledger, "search", params, SEARCH_COST, now)
            items = data.get("items", [])
            found, skipped = map_items(
                self.name,
                enumerate(items if isinstance(items, list) else []),
                partial(self._search_result, pages),
            )
            token = data.get("nextPageToken")
            # Another page also needs a videos.list call for its statistics.
            more = isinstance(token, str) and ledger.affordable(SEARCH_COST + 2 * LIST_COST)
            return Page(found, token if more else None, skipped=skipped)

        # Results overlap the last poll's (the overlap window), so more pages are no sign of
        # missed videos: the bound is not logged.
        found, skipped = await self.api.read_pages(
            read_page, max_pages=self.opts.max_pages, what="the query", on_bound=lambda: None
        )
        unique: dict[str, dict[str, Any]] = {}
        for item in found:  # pages can overlap when uploads arrive between calls
            unique.setdefault(item["id"], item)
        return list(unique.values()), skipped

    def _search_result(self, page: int, indexed: tuple[int, Any]) -> dict[str, Any] | None:
        """One search result as a found video; None (logged) when it lacks id or publishedAt."""
        index, raw = indexed
        item = self._search_item(raw)
        if item is None:
            log.info(
                "source %s: skipped search result %d on page %d: no video id or publishedAt",
                self.name, index, page,
            )
        return item

    @staticmethod
    def _search_item(raw: Any) -> dict[str, Any] | None:
        if not isinstance(raw, dict):
            return None
        ident = raw.get("id")
        snippet = raw.get("snippet")
        video_id = ident.get("videoId") if isinstance(ident, dict) else None
        if not isinstance(video_id, str) or not isinstance(snippet, dict):
            return None
        published = time_field(snippet.get("publishedAt"))
        if published is None:
            return None
        return {
            "id": video_id,
            "published_at": published,
            # search.list returns HTML-escaped titles and a truncated description.
            "title": html.unescape(text_field(snippet.get("title")) or ""),
            "description": html.unescape(text_field(snippet.get("description")) or ""),
            "channel_id": text_field(snippet.get("channelId")),
            "channel_title": text_field(snippet.get("channelTitle")),
        }

    async def _videos(
        self, ledger: QuotaLedger, ids: Sequence[str], part: str, now: datetime
    ) -> dict[str, dict[str, Any]]:
        videos: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(ids, IDS_PER_CALL):
            params: dict[str, str | int] = {
                "part": part, "id": ",".join(chunk), "maxResults": IDS_PER_CALL
            }
            data = await self._read(ledger, "videos", params, LIST_COST, now)
            for raw in data.get("items", []) if isinstance(data.get("items"), list) else []:
                if isinstance(raw, dict) and isinstance(raw.get("id"), str):
                    videos[raw["id"]] = raw
        return videos

    async def _subscribers(
        self, ledger: QuotaLedger, channel_ids: Sequence[str], now: datetime
    ) -> dict[str, int]:
        reach: dict[str, int] = {}
        for chunk in _chunks(channel_ids, IDS_PER_CALL):
            if not ledger.affordable(LIST_COST):
                break  # reach is a nice-to-have; keep the units for the next search
            params: dict[str, str | int] = {
                "part": "statistics", "id": ",".join(chunk), "maxResults": IDS_PER_CALL
            }
            data = await self._read(ledger, "channels", params, LIST_COST, now)
            for raw in data.get("items", []) if isinstance(data.get("items"), list) else []:
                if not isinstance(raw, dict) or not isinstance(raw.get("statistics"), dict):
                    continue
                stats = raw["statistics"]
                count = count_field(stats.get("subscriberCount"))
                if count is not None and not stats.get("hiddenSubscriberCount"):
                    reach[str(raw.get("id"))] = count
        return reach

    @staticmethod
    def _engagement(stats: Any) -> Engagement | None:
        if not isinstance(stats, dict):
            return None
        return Engagement(
            likes=count_field(stats.get("likeCount")),
            comments=count_field(stats.get("commentCount")),
            views=count_field(stats.get("viewCount")),
        )

    def _video_mention(
        self, item: dict[str, Any], video: dict[str, Any] | None, reach: Mapping[str, int]
    ) -> Mention:
        snippet = video.get("snippet") if video else None
        snippet = snippet if isinstance(snippet, dict) else {}
        title = fold_whitespace(text_field(snippet.get("title")) or item["title"])
        description = text_field(snippet.get("description")) or item["description"]
        text = fold_whitespace(f"{title} {description}")
        lang = _lang(snippet.get("defaultAudioLanguage")) or _lang(snippet.get("defaultLanguage"))
        channel = item["channel_id"]
        return Mention(
            platform=self.platform,
            external_id=item["id"],
            text=text,
            url=watch_url(item["id"]),
            title=title or None,
            author=text_field(snippet.get("channelTitle")) or item["channel_title"],
            author_reach=reach.get(channel) if channel else None,
            published_at=item["published_at"],
            lang=lang,
            engagement=self._engagement(video.get("statistics")) if video else None,
        )

    # -- refresh ---------------------------------------------------------------------------

    async def refresh(self, refs: Sequence[str]) -> list[EngagementUpdate]:
        """Re-read view, like and comment counts of videos (1 unit per 50 videos)."""
        ids = [ref for ref in dict.fromkeys(refs) if VIDEO_ID.match(ref)]
        if not ids:
            return []
        now = self.clock.now()
        ledger = await self._open_ledger(None, now)
        videos = await self._videos(ledger, ids, "statistics", now)
        updates: list[EngagementUpdate] = []
        for video_id in ids:
            video = videos.get(video_id)
            engagement = self._engagement(video.get("statistics")) if video else None
            if engagement is not None:
                updates.append(
                    EngagementUpdate(
                        platform=self.platform,
                        external_id=video_id,
                        engagement=engagement,
                        observed_at=now,
                    )
                )
        return updates
