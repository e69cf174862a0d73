"""YouTube comments: new comment threads of tracked videos, page by page, and their replies.

commentThreads.list gives 100 threads a page (1 unit) with up to five replies each; a thread
with more replies is read through comments.list (100 replies a page, 1 unit). Both stop at the
configured page bounds and while the units left would not pay for the next poll's search.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from connectors.api import PlatformApi
from connectors.base import map_items
from connectors.textutil import fold_whitespace
from connectors.youtube_api import (
    LIST_COST,
    SEARCH_RESERVE,
    MeteredCall,
    QuotaLedger,
    count_field,
    error_reasons,
    rfc3339,
    text_field,
    time_field,
    watch_url,
)
from monitor.records import Engagement, Mention

if TYPE_CHECKING:
    from connectors.youtube import YouTubeOptions

log = logging.getLogger(__name__)

REPLY_COUNTS_LIMIT = 500  # threads whose reply count is remembered between polls
SKIP_VIDEO_REASONS = frozenset({"commentsDisabled", "videoNotFound", "forbidden"})


@dataclass(slots=True)
class CommentThread:
    """A top-level comment, the replies read so far and how many it has in all."""

    thread_id: str
    video_id: str
    top: Mention
    replies: list[Mention]
    total_replies: int


@dataclass(slots=True)
class CommentsRead:
    """One poll's new comments and replies, and the cursor fields that remember the reading."""

    mentions: list[Mention]
    skipped: int
    position: dict[str, Any]  # tracked, comment_since, reply_counts


@dataclass(slots=True)
class _CommentPoll:
    """One poll's comment reading: what was found per video and the reply pages left."""

    reply_pages_left: int
    found: dict[str, list[Mention]] = field(default_factory=dict)
    skipped: int = 0


def _is_new(mention: Mention, after: datetime | None) -> bool:
    return after is None or (mention.published_at is not None and mention.published_at > after)


class CommentReader:
    """Reads new comments and replies of a source's tracked videos within its bounds."""

    platform = "youtube"

    def __init__(
        self, source: str, opts: YouTubeOptions, call: MeteredCall, api: PlatformApi
    ) -> None:
        self.source = source
        self.opts = opts
        self._call = call
        self._api = api
        self._no_comments: set[str] = set()  # videos with comments disabled or gone

    async def read(
        self,
        ledger: QuotaLedger,
        position: Mapping[str, Any],
        found_videos: Sequence[dict[str, Any]],
        now: datetime,
    ) -> CommentsRead:
        """New comments on listed videos and, when configured, on recently found ones."""
        tracked = self._tracked_videos(position, found_videos, now)
        since_cursor = position.get("comment_since", {})
        comment_since = {
            k: v for k, v in (since_cursor.items() if isinstance(since_cursor, dict) else [])
            if isinstance(k, str) and isinstance(v, str)
            and (k in tracked or k in self.opts.comment_video_ids)
        }
        counts = position.get("reply_counts", {})
        reply_counts = {
            k: v for k, v in (counts.items() if isinstance(counts, dict) else [])
            if isinstance(k, str) and isinstance(v, int)
        }
        mentions, skipped = await self._comments(
            ledger, tracked, comment_since, reply_counts, now
        )
        return CommentsRead(
            mentions=mentions,
            skipped=skipped,
            position={
                "tracked": tracked,
                "comment_since": comment_since,
                "reply_counts": dict(list(reply_counts.items())[-REPLY_COUNTS_LIMIT:]),
            },
        )

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
            candidates.update({item["id"]: rfc3339(item["published_at"]) for item in fresh})
            for video_id, found in candidates.items():
                when = time_field(found)
                if isinstance(video_id, str) and when is not None and when >= horizon:
                    tracked[video_id] = rfc3339(when)
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
                log.info("source %s: quota too low for comments this poll", self.source)
                break
            refused = await self._video_comments(
                ledger, video_id, time_field(since.get(video_id)), reply_counts, reading, now
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
                        "until restart", self.source, video_id, refused,
                    )
                continue
            newest = max(
                (m.published_at for m in reading.found.get(video_id, []) if m.published_at),
                default=None,
            )
            if newest is not None:
                since[video_id] = rfc3339(newest)
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
                log.info("source %s: quota too low for more comments this poll", self.source)
                return None
            resp = await self._call(
                ledger, "commentThreads", params, LIST_COST, now, tolerate=SKIP_VIDEO_REASONS
            )
            if resp.status >= 400:
                return ", ".join(sorted(error_reasons(resp)[0]))
            data = self._api.json_object(resp, "calling commentThreads")
            items = data.get("items", [])
            threads, skipped = map_items(
                self.source,
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
            "older new comments are not read", self.source, self.opts.max_comment_pages, video_id,
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
            resp = await self._call(ledger, "comments", params, LIST_COST, now)
            data = self._api.json_object(resp, "calling comments")
            items = data.get("items", [])
            page, skipped = map_items(
                self.source,
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
            "or quota)", self.source, thread.thread_id, len(replies), thread.total_replies,
        )
        return list(replies.values())

    def _comment_thread(self, video_id: str, indexed: tuple[int, Any]) -> CommentThread | None:
        """One comment thread and its inline replies; None (logged) when its comment is unusable."""
        index, raw = indexed
        thread = self._thread(raw, video_id)
        if thread is None:
            log.info(
                "source %s: skipped comment thread %d on video %s: no id, text or publishedAt",
                self.source, index, video_id,
            )
        return thread

    def _thread(self, raw: Any, video_id: str) -> CommentThread | None:
        if not isinstance(raw, dict) or not isinstance(raw.get("snippet"), dict):
            return None
        snippet = raw["snippet"]
        video = text_field(snippet.get("videoId")) or video_id
        top = self._comment_mention(snippet.get("topLevelComment"), video, video)
        if top is None:
            return None
        total = count_field(snippet.get("totalReplyCount")) or 0
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
                self.source, index, thread.thread_id,
            )
        return reply

    def _comment_mention(self, raw: Any, video_id: str, parent_id: str) -> Mention | None:
        """A comment resource (top-level or reply) as a mention replying to `parent_id`."""
        if not isinstance(raw, dict) or not isinstance(raw.get("snippet"), dict):
            return None
        snippet = raw["snippet"]
        comment_id = text_field(raw.get("id"))
        video_id = text_field(snippet.get("videoId")) or video_id
        text = text_field(snippet.get("textOriginal")) or text_field(snippet.get("textDisplay"))
        published = time_field(snippet.get("publishedAt"))
        if comment_id is None or text is None or published is None:
            return None
        return Mention(
            platform=self.platform,
            external_id=comment_id,
            text=fold_whitespace(text),
            url=f"{watch_url(video_id)}&lc={comment_id}",
            author=text_field(snippet.get("authorDisplayName")),
            published_at=published,
            parent_id=text_field(snippet.get("parentId")) or parent_id,
            engagement=Engagement(likes=count_field(snippet.get("likeCount"))),
        )
