"""YouTube Data API v3: new videos matching a query, their statistics, and optional comments.

The API is metered in quota units per Google Cloud project (10,000 a day by default), reset at
midnight Pacific time. Each call's cost is counted here and the day's spend is kept in the
cursor, so the source stops itself before the project runs dry instead of failing at random.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
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
from connectors.textutil import fold_whitespace, parse_date
from monitor.clock import Clock
from monitor.configtypes import Duration, EnvSecret
from monitor.httpclient import HttpClient, HttpResponse
from monitor.outbound import redact_url
from monitor.records import Engagement, EngagementUpdate, Mention

log = logging.getLogger(__name__)

PACIFIC = ZoneInfo("America/Los_Angeles")
# Documented costs (developers.google.com/youtube/v3/determine_quota_cost).
SEARCH_COST = 100
LIST_COST = 1  # videos.list, channels.list, commentThreads.list, comments.list
IDS_PER_CALL = 50
# Comment reading stops while the units left would not pay for the next poll's search.
SEARCH_RESERVE = SEARCH_COST + LIST_COST
VIDEO_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
SEEN_LIMIT = 500  # ids remembered to drop repeats from the overlap window
REPLY_COUNTS_LIMIT = 500  # threads whose reply count is remembered between polls
QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})
RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
KEY_REASONS = frozenset({"keyInvalid", "keyExpired", "API_KEY_INVALID", "API_KEY_EXPIRED"})
SKIP_VIDEO_REASONS = frozenset({"commentsDisabled", "videoNotFound", "forbidden"})


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


def pacific_day(now: datetime) -> str:
    """The Pacific-time date that YouTube's daily quota is counted on."""
    return now.astimezone(PACIFIC).date().isoformat()


def next_quota_reset(now: datetime) -> datetime:
    """The next midnight Pacific time, in UTC."""
    tomorrow = now.astimezone(PACIFIC).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(0), tzinfo=PACIFIC).astimezone(UTC)


@dataclass(slots=True)
class QuotaLedger:
    """Units spent on one Pacific-time day against the configured daily quota."""

    day: str
    used: int
    limit: int

    def affordable(self, units: int) -> bool:
        """True when `units` more still fit in today's quota."""
        return self.used + units <= self.limit

    def remaining(self) -> int:
        """Units left today."""
        return max(0, self.limit - self.used)


@dataclass(slots=True)
class CommentThread:
    """A top-level comment, the replies read so far and how many it has in all."""

    thread_id: str
    video_id: str
    top: Mention
    replies: list[Mention]
    total_replies: int


@dataclass(slots=True)
class _CommentPoll:
    """One poll's comment reading: what was found per video and the reply pages left."""

    reply_pages_left: int
    found: dict[str, list[Mention]] = field(default_factory=dict)
    skipped: int = 0


def _is_new(mention: Mention, after: datetime | None) -> bool:
    return after is None or (mention.published_at is not None and mention.published_at > after)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _count(value: Any) -> int | None:
    """YouTube sends counters as decimal strings; absent means hidden or disabled."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _when(value: Any) -> datetime | None:
    return parse_date(value) if isinstance(value, str) else None


def _rfc3339(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _lang(code: Any) -> str | None:
    """ISO 639-1 from a BCP-47 tag such as "en-US"; None for "zxx", "und" and the like."""
    if not isinstance(code, str):
        return None
    primary = code.replace("_", "-").split("-")[0].lower()
    return primary if len(primary) == 2 and primary.isalpha() else None


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _error_reasons(resp: HttpResponse) -> tuple[set[str], str]:
    """The `reason` codes and message of a Google API error body (empty when not one)."""
    try:
        error = resp.json().get("error", {})
    except (SourceError, AttributeError):
        return set(), ""
    if not isinstance(error, dict):
        return set(), ""
    entries = [
        entry
        for key in ("errors", "details")
        if isinstance(error.get(key), list)
        for entry in error[key]
        if isinstance(entry, dict)
    ]
    reasons = {str(entry.get("reason")) for entry in entries}
    message = re.sub(r"<[^>]+>", "", str(error.get("message", "")))[:200]
    return reasons - {"None"}, message


def watch_url(video_id: str) -> str:
    """The canonical watch page of a video."""
    return f"https://www.youtube.com/watch?v={video_id}"


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
        self._no_comments: set[str] = set()  # videos with comments disabled or gone

    def search_terms(self) -> list[str]:
        """The configured search query."""
        return [self.opts.query]

    def _key(self) -> str:
        return self.api.reveal(self.opts.api_key, "export the API key")

    def _open_ledger(self, position: Mapping[str, Any] | None, now: datetime) -> QuotaLedger:
        """Today's spend: the cursor's (or, for refresh, the last cursor's) plus unbooked units."""
        day = pacific_day(now)
        return QuotaLedger(
            day=day, used=self._units.spent(position, day), limit=self.opts.daily_quota
        )

    def _quota_spent(self, ledger: QuotaLedger, now: datetime, needed: int) -> RateLimited:
        reset = next_quota_reset(now)
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
            resets_at=next_quota_reset(now),
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
        if resp.status >= 400 and not (_error_reasons(resp)[0] & tolerate):
            self._raise_for_youtube(resp, method, now)
        return resp

    def _raise_for_youtube(self, resp: HttpResponse, method: str, now: datetime) -> None:
        reasons, message = _error_reasons(resp)
        where = redact_url(resp.request_url)
        detail = self.http.scrub(f"{', '.join(sorted(reasons)) or 'no reason'}: {message}")
        if reasons & QUOTA_REASONS:
            reset = next_quota_reset(now)
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
        ledger = self._open_ledger(position, now)
        if not ledger.affordable(SEARCH_COST + LIST_COST):
            raise self._quota_spent(ledger, now, SEARCH_COST + LIST_COST)

        newest = _when(position.get("published_after")) or (
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

        tracked = self._tracked_videos(position, fresh, now)
        comment_since = {
            k: v for k, v in position.get("comment_since", {}).items()
            if isinstance(k, str) and isinstance(v, str)
            and (k in tracked or k in self.opts.comment_video_ids)
        }
        counts = position.get("reply_counts", {})
        reply_counts = {
            k: v for k, v in (counts.items() if isinstance(counts, dict) else [])
            if isinstance(k, str) and isinstance(v, int)
        }
        comments, comment_skipped = await self._comments(
            ledger, tracked, comment_since, reply_counts, now
        )
        mentions.extend(comments)

        next_position: dict[str, Any] = {
            "published_after": _rfc3339(newest),
            "seen": seen[-SEEN_LIMIT:],
            **self._units.settle(ledger.day, ledger.used),
            "tracked": tracked,
            "comment_since": comment_since,
            "reply_counts": dict(list(reply_counts.items())[-REPLY_COUNTS_LIMIT:]),
        }
        return FetchResult(
            mentions=mentions,
            cursor=Cursor(next_position),
            budget=self._budget(ledger, now),
            skipped=skipped + unmapped + comment_skipped,
        )

    async def _search(
        self, ledger: QuotaLedger, after: datetime, now: datetime
    ) -> tuple[list[dict[str, Any]], int]:
        params: dict[str, str | int] = {
            "part": "snippet",
            "type": "video",
            "order": "date",
            "q": self.opts.query,
            "publishedAfter": _rfc3339(after),
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
        published = _when(snippet.get("publishedAt"))
        if published is None:
            return None
        return {
            "id": video_id,
            "published_at": published,
            # search.list returns HTML-escaped titles and a truncated description.
            "title": html.unescape(_text(snippet.get("title")) or ""),
            "description": html.unescape(_text(snippet.get("description")) or ""),
            "channel_id": _text(snippet.get("channelId")),
            "channel_title": _text(snippet.get("channelTitle")),
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
                count = _count(stats.get("subscriberCount"))
                if count is not None and not stats.get("hiddenSubscriberCount"):
                    reach[str(raw.get("id"))] = count
        return reach

    @staticmethod
    def _engagement(stats: Any) -> Engagement | None:
        if not isinstance(stats, dict):
            return None
        return Engagement(
            likes=_count(stats.get("likeCount")),
            comments=_count(stats.get("commentCount")),
            views=_count(stats.get("viewCount")),
        )

    def _video_mention(
        self, item: dict[str, Any], video: dict[str, Any] | None, reach: Mapping[str, int]
    ) -> Mention:
        snippet = video.get("snippet") if video else None
        snippet = snippet if isinstance(snippet, dict) else {}
        title = fold_whitespace(_text(snippet.get("title")) or item["title"])
        description = _text(snippet.get("description")) or item["description"]
        text = fold_whitespace(f"{title} {description}")
        lang = _lang(snippet.get("defaultAudioLanguage")) or _lang(snippet.get("defaultLanguage"))
        channel = item["channel_id"]
        return Mention(
            platform=self.platform,
            external_id=item["id"],
            text=text,
            url=watch_url(item["id"]),
            title=title or None,
            author=_text(snippet.get("channelTitle")) or item["channel_title"],
            author_reach=reach.get(channel) if channel else None,
            published_at=item["published_at"],
            lang=lang,
            engagement=self._engagement(video.get("statistics")) if video else None,
        )

    # -- comments --------------------------------------------------------------------------

    def _tracked_videos(
        self, position: Mapping[str, Any], fresh: Sequence[dict[str, Any]], now: datetime
    ) -> dict[str, str]:
        """Videos whose comments are read: configured ones plus recent finds, newest first."""
        window = self.opts.comments_on_found_within
        tracked: dict[str, str] = {}
        if window is not None:
            horizon = now - timedelta(seconds=window)
            previous = position.get("tracked", {})
            candidates = dict(previous) if isinstance(previous, dict) else {}
            candidates.update({item["id"]: _rfc3339(item["published_at"]) for item in fresh})
            for video_id, found in candidates.items():
                when = _when(found)
                if isinstance(video_id, str) and when is not None and when >= horizon:
                    tracked[video_id] = _rfc3339(when)
        for video_id in self.opts.comment_video_ids:
            tracked.pop(video_id, None)  # listed ones are read anyway; do not count them twice
        return dict(sorted(tracked.items(), key=lambda kv: kv[1], reverse=True))

    async def _comments(
        self,
        ledger: QuotaLedger,
        tracked: dict[str, str],
        since: dict[str, str],
        reply_counts: dict[str, int],
        now: datetime,
    ) -> tuple[list[Mention], int]:
        """New comments and replies on the tracked videos, newest threads first, within bounds."""
        targets = [
            v for v in (*self.opts.comment_video_ids, *tracked) if v not in self._no_comments
        ][: self.opts.max_comment_videos]
        reading = _CommentPoll(reply_pages_left=self.opts.max_reply_pages)
        for video_id in targets:
            if not ledger.affordable(LIST_COST + SEARCH_RESERVE):
                log.info("source %s: quota too low for comments this poll", self.name)
                break
            refused = await self._video_comments(
                ledger, video_id, _when(since.get(video_id)), reply_counts, reading, now
            )
            if refused is not None:
                tracked.pop(video_id, None)
                since.pop(video_id, None)
                if video_id not in self._no_comments:
                    self._no_comments.add(video_id)
                    listed = video_id in self.opts.comment_video_ids
                    log.log(
                        logging.WARNING if listed else logging.INFO,
                        "source %s: cannot read comments of video %s (%s); not asking again "
                        "until restart", self.name, video_id, refused,
                    )
                continue
            newest = max(
                (m.published_at for m in reading.found.get(video_id, []) if m.published_at),
                default=None,
            )
            if newest is not None:
                since[video_id] = _rfc3339(newest)
        mentions = [m for found in reading.found.values() for m in found]
        return mentions, reading.skipped

    async def _video_comments(
        self,
        ledger: QuotaLedger,
        video_id: str,
        after: datetime | None,
        reply_counts: dict[str, int],
        reading: _CommentPoll,
        now: datetime,
    ) -> str | None:
        """Read one video's comment threads page by page until known ones or the page bound.

        New comments and replies go to `reading.found[video_id]`. Returns the reason when
        YouTube refuses the video's comments (disabled, video gone), else None.
        """
        params: dict[str, str | int] = {
            "part": "snippet,replies",
            "videoId": video_id,
            "order": "time",
            "maxResults": 100,
            "textFormat": "plainText",
        }
        found = reading.found.setdefault(video_id, [])
        for page in range(1, self.opts.max_comment_pages + 1):
            if page > 1 and not ledger.affordable(LIST_COST + SEARCH_RESERVE):
                log.info("source %s: quota too low for more comments this poll", self.name)
                return None
            resp = await self._call(
                ledger, "commentThreads", params, LIST_COST, now, tolerate=SKIP_VIDEO_REASONS
            )
            if resp.status >= 400:
                return ", ".join(sorted(_error_reasons(resp)[0]))
            data = self.api.json_object(resp, "calling commentThreads")
            items = data.get("items", [])
            threads, skipped = map_items(
                self.name,
                enumerate(items if isinstance(items, list) else []),
                partial(self._comment_thread, video_id),
            )
            reading.skipped += skipped
            reached_known = False
            for thread in threads:
                if _is_new(thread.top, after):
                    found.append(thread.top)
                else:
                    reached_known = True  # threads come newest first: the rest were read
                replies = thread.replies
                if thread.total_replies > len(replies) and (
                    reply_counts.get(thread.thread_id, 0) < thread.total_replies
                ):
                    replies = await self._replies(ledger, thread, reading, now)
                    reply_counts.pop(thread.thread_id, None)
                    reply_counts[thread.thread_id] = thread.total_replies
                found.extend(r for r in replies if _is_new(r, after))
            token = data.get("nextPageToken")
            if reached_known or not isinstance(token, str):
                return None
            params["pageToken"] = token
        log.info(
            "source %s: read %d comment pages of video %s this poll (max_comment_pages); "
            "older new comments are not read", self.name, self.opts.max_comment_pages, video_id,
        )
        return None

    async def _replies(
        self, ledger: QuotaLedger, thread: CommentThread, reading: _CommentPoll, now: datetime
    ) -> list[Mention]:
        """All replies of a thread via comments.list, within the poll's reply page bound."""
        replies = {reply.external_id: reply for reply in thread.replies}
        params: dict[str, str | int] = {
            "part": "snippet",
            "parentId": thread.thread_id,
            "maxResults": 100,
            "textFormat": "plainText",
        }
        while reading.reply_pages_left > 0 and ledger.affordable(LIST_COST + SEARCH_RESERVE):
            reading.reply_pages_left -= 1
            data = await self._read(ledger, "comments", params, LIST_COST, now)
            items = data.get("items", [])
            page, skipped = map_items(
                self.name,
                enumerate(items if isinstance(items, list) else []),
                partial(self._reply, thread),
            )
            reading.skipped += skipped
            replies.update((reply.external_id, reply) for reply in page)
            token = data.get("nextPageToken")
            if not isinstance(token, str):
                return list(replies.values())
            params["pageToken"] = token
        log.info(
            "source %s: replies of comment %s not all read this poll (%d of %d; max_reply_pages "
            "or quota)", self.name, thread.thread_id, len(replies), thread.total_replies,
        )
        return list(replies.values())

    def _comment_thread(self, video_id: str, indexed: tuple[int, Any]) -> CommentThread | None:
        """One comment thread and its inline replies; None (logged) when its comment is unusable."""
        index, raw = indexed
        thread = self._thread(raw, video_id)
        if thread is None:
            log.info(
                "source %s: skipped comment thread %d on video %s: no id, text or publishedAt",
                self.name, index, video_id,
            )
        return thread

    def _thread(self, raw: Any, video_id: str) -> CommentThread | None:
        if not isinstance(raw, dict) or not isinstance(raw.get("snippet"), dict):
            return None
        snippet = raw["snippet"]
        video = _text(snippet.get("videoId")) or video_id
        top = self._comment_mention(snippet.get("topLevelComment"), video, video)
        if top is None:
            return None
        total = _count(snippet.get("totalReplyCount")) or 0
        top.engagement = Engagement(
            likes=top.engagement.likes if top.engagement else None, comments=total
        )
        inline = raw.get("replies")
        listed = inline.get("comments") if isinstance(inline, dict) else None
        replies = [
            reply
            for item in (listed if isinstance(listed, list) else [])
            if (reply := self._comment_mention(item, video, top.external_id)) is not None
        ]
        return CommentThread(
            thread_id=top.external_id, video_id=video, top=top,
            replies=replies, total_replies=total,
        )

    def _reply(self, thread: CommentThread, indexed: tuple[int, Any]) -> Mention | None:
        """One comments.list reply; None (logged) when it lacks id, text or time."""
        index, raw = indexed
        reply = self._comment_mention(raw, thread.video_id, thread.thread_id)
        if reply is None:
            log.info(
                "source %s: skipped reply %d to comment %s: no id, text or publishedAt",
                self.name, index, thread.thread_id,
            )
        return reply

    def _comment_mention(self, raw: Any, video_id: str, parent_id: str) -> Mention | None:
        """A comment resource (top-level or reply) as a mention replying to `parent_id`."""
        if not isinstance(raw, dict) or not isinstance(raw.get("snippet"), dict):
            return None
        snippet = raw["snippet"]
        comment_id = _text(raw.get("id"))
        video_id = _text(snippet.get("videoId")) or video_id
        text = _text(snippet.get("textOriginal")) or _text(snippet.get("textDisplay"))
        published = _when(snippet.get("publishedAt"))
        if comment_id is None or text is None or published is None:
            return None
        return Mention(
            platform=self.platform,
            external_id=comment_id,
            text=fold_whitespace(text),
            url=f"{watch_url(video_id)}&lc={comment_id}",
            author=_text(snippet.get("authorDisplayName")),
            published_at=published,
            parent_id=_text(snippet.get("parentId")) or parent_id,
            engagement=Engagement(likes=_count(snippet.get("likeCount"))),
        )

    # -- refresh ---------------------------------------------------------------------------

    async def refresh(self, refs: Sequence[str]) -> list[EngagementUpdate]:
        """Re-read view, like and comment counts of videos (1 unit per 50 videos)."""
        ids = [ref for ref in dict.fromkeys(refs) if VIDEO_ID.match(ref)]
        if not ids:
            return []
        now = self.clock.now()
        ledger = self._open_ledger(None, now)
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
