"""Bluesky live stream: every new post from Jetstream, matched against brand terms locally.

Jetstream (https://github.com/bluesky-social/jetstream) serves the network's commits as JSON
over a WebSocket. A background task reads it, keeps the posts that name a term and remembers
the `time_us` of the last event read; `fetch` hands over what was kept since the last call with
that `time_us` as the cursor, so a restart resumes where the stored cursor says (rewound a few
seconds for gapless playback; the posts seen twice are dropped here or by the pipeline).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any, ClassVar

import aiohttp
from pydantic import Field, field_validator

from connectors.base import Connector, Cursor, FetchResult, SourceError, SourceOptions
from connectors.bluesky import _primary_language, _with_link_card
from connectors.textutil import encodable, parse_date
from monitor.clock import Clock
from monitor.httpclient import HttpClient
from monitor.outbound import redact_url
from monitor.records import Mention

log = logging.getLogger(__name__)

POST_COLLECTION = "app.bsky.feed.post"
# Jetstream's docs: subtract a few seconds from a stored cursor to be sure of gapless playback.
REWIND_US = 5_000_000
RECENT_URIS = 20_000  # posts handed over lately: a rewound replay repeats them
YIELD_EVERY = 64  # events read back to back before giving the loop to others


class BlueskyStreamOptions(SourceOptions):
    """Options of a `kind = "bluesky_stream"` source."""

    # Words and phrases to keep (case-insensitive, whole words); the pipeline's brand matching
    # still decides which brand a kept post is about.
    terms: list[str] = Field(min_length=1)
    # A public Jetstream instance (or your own); wantedCollections and cursor are added.
    url: str = "wss://jetstream2.us-east.bsky.network/subscribe"
    # Reconnect backoff in seconds: doubles from `reconnect_initial` up to `reconnect_max`.
    reconnect_initial: float = Field(default=1.0, gt=0, le=60)
    reconnect_max: float = Field(default=60.0, gt=0, le=3600)
    # Matched posts held for the next fetch; when full the stream is paused, not dropped.
    max_buffered: int = Field(default=10_000, ge=10, le=1_000_000)

    @field_validator("url")
    @classmethod
    def _ws_url(cls, value: str) -> str:
        value = value.strip()
        if not value.startswith(("wss://", "ws://")):
            raise ValueError(f"expected a ws(s):// Jetstream URL, got {value!r}")
        return value

    @field_validator("terms")
    @classmethod
    def _terms(cls, value: list[str]) -> list[str]:
        if any(not t.strip() for t in value):
            raise ValueError("terms must not be empty")
        return [t.strip() for t in value]


# Scripts written without spaces between words (Thai, Lao, Myanmar, Khmer, Hangul, Han, kana),
# as brand matching (monitor/matching.py) lists them: next to a term they are a boundary, since
# Japanese writes "Kestrelのバー" with no space after the name.
_UNSPACED = (
    "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff"
    "\u1100-\u11ff\u2e80-\u2fdf\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f"
)
_SPACED_WORD_CHAR = rf"[^\W{_UNSPACED}]"  # a letter, digit or _ of a spaced script


def term_pattern(terms: list[str]) -> re.Pattern[str]:
    """One case-insensitive regex matching any term as whole words (longest first)."""
    ordered = sorted({re.escape(t) for t in terms}, key=len, reverse=True)
    return re.compile(
        rf"(?<!{_SPACED_WORD_CHAR})(?:" + "|".join(ordered) + rf")(?!{_SPACED_WORD_CHAR})",
        re.IGNORECASE,
    )


class BlueskyStreamConnector(Connector):
    """Reads Jetstream in a background task; `fetch` returns the matched posts since last time."""

    kind: ClassVar[str] = "bluesky_stream"
    platform: ClassVar[str] = "bluesky"
    default_interval: ClassVar[float] = 10.0  # how often matched posts are handed over
    Options: ClassVar[type[SourceOptions]] = BlueskyStreamOptions

    def __init__(
        self, name: str, options: SourceOptions, http: HttpClient, *, clock: Clock | None = None
    ) -> None:
        super().__init__(name, options, http, clock=clock)
        assert isinstance(options, BlueskyStreamOptions)
        self.opts = options
        self._pattern = term_pattern(options.terms)
        self._buffer: list[Mention] = []
        self._room = asyncio.Event()  # set while the buffer has room
        self._room.set()
        self._last_time_us: int | None = None  # of the last event read (matched or not)
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._task: asyncio.Task[None] | None = None
        self._problem: str | None = None  # why the stream is not connected, while it is not
        self._connected = False
        self.events_read = 0  # every event, for the benchmark and the log
        self.connects = 0

    def search_terms(self) -> list[str]:
        """The terms matched locally."""
        return list(self.opts.terms)

    async def fetch(self, cursor: Cursor) -> FetchResult:
        """Matched posts since the last call; starts the stream from `cursor` the first time."""
        if self._task is None:
            stored = cursor.position.get("time_us")
            self._last_time_us = stored if isinstance(stored, int) else None
            self._task = asyncio.create_task(self._run(), name=f"jetstream:{self.name}")
        elif self._task.done():
            raise SourceError(f"Jetstream reader of source {self.name!r} stopped")
        # Taken together, with no await between: the cursor covers exactly these mentions.
        mentions, self._buffer = self._buffer, []
        self._room.set()
        position = {} if self._last_time_us is None else {"time_us": self._last_time_us}
        if not mentions and self._problem is not None and not self._connected:
            raise SourceError(self._problem)
        return FetchResult(mentions=mentions, cursor=Cursor(position=position))

    async def close(self) -> None:
        """Stop the stream (idempotent)."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    def _url(self) -> str:
        query = f"wantedCollections={POST_COLLECTION}"
        if self._last_time_us is not None:
            query += f"&cursor={max(0, self._last_time_us - REWIND_US)}"
        return f"{self.opts.url}{'&' if '?' in self.opts.url else '?'}{query}"

    async def _run(self) -> None:
        """Connect, read until the stream ends or fails, back off, and connect again."""
        delay = self.opts.reconnect_initial
        headers = {"User-Agent": self.http.limits.user_agent}
        timeout = aiohttp.ClientWSTimeout(ws_receive=90.0, ws_close=5.0)
        async with aiohttp.ClientSession(headers=headers) as session:
            while True:
                url = self._url()
                try:
                    async with session.ws_connect(url, heartbeat=30.0, timeout=timeout) as ws:
                        self.connects += 1
                        self._connected, self._problem = True, None
                        log.info("source %s: reading %s", self.name, redact_url(url))
                        read_any = await self._read(ws)
                        reason = f"Jetstream closed the stream (code {ws.close_code})"
                except asyncio.CancelledError:
                    raise
                except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                    read_any = False
                    detail = (
                        f"HTTP {exc.status} {exc.message}"
                        if isinstance(exc, aiohttp.ClientResponseError)
                        else repr(exc)
                    )
                    reason = (
                        f"cannot read Jetstream at {redact_url(self.opts.url)} ({detail:.200})"
                    )
                self._connected = False
                if read_any:
                    delay = self.opts.reconnect_initial  # it worked a while: start over
                self._problem = f"{reason}; reconnecting in {delay:.1f}s"
                log.warning("source %s: %s", self.name, self._problem)
                # Jitter so that many daemons do not reconnect to one instance in step.
                await asyncio.sleep(delay * random.uniform(0.8, 1.2))
                delay = min(self.opts.reconnect_max, delay * 2)

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> bool:
        """Read events until the socket closes; returns whether any event was read."""
        read_any = False
        since_yield = 0
        async for message in ws:
            if message.type is not aiohttp.WSMsgType.TEXT:
                if message.type is aiohttp.WSMsgType.ERROR:
                    raise aiohttp.ClientError(f"WebSocket error: {ws.exception()!r}")
                continue
            read_any = True
            self._event(message.data)
            since_yield += 1
            if len(self._buffer) >= self.opts.max_buffered:
                # Pause reading rather than drop: the cursor then never passes a lost post.
                self._room.clear()
                await self._room.wait()
            elif since_yield >= YIELD_EVERY:
                since_yield = 0
                await asyncio.sleep(0)  # queued frames are read without suspending otherwise
        return read_any

    def _event(self, data: str) -> None:
        """Take one Jetstream event: advance the cursor, keep a matching new post."""
        try:
            event = json.loads(data)
            self.events_read += 1
        except ValueError:
            log.warning("source %s: skipped a Jetstream message that is not JSON", self.name)
            return
        if not isinstance(event, dict):
            return
        time_us = event.get("time_us")
        if isinstance(time_us, int) and not isinstance(time_us, bool):
            if self._last_time_us is None or time_us > self._last_time_us:
                self._last_time_us = time_us
        commit = event.get("commit")
        if event.get("kind") != "commit" or not isinstance(commit, dict):
            return  # identity and account events
        if commit.get("operation") != "create" or commit.get("collection") != POST_COLLECTION:
            return
        record = commit.get("record")
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            return
        text = _with_link_card(record["text"], record)
        if not self._pattern.search(text):
            return
        mention = self._mention(event, commit, record, text)
        if mention is None or mention.external_id in self._recent:
            return  # a rewound replay repeats what was handed over already
        self._recent[mention.external_id] = None
        if len(self._recent) > RECENT_URIS:
            self._recent.popitem(last=False)
        self._buffer.append(mention)

    def _mention(
        self, event: dict[str, Any], commit: dict[str, Any], record: dict[str, Any], text: str
    ) -> Mention | None:
        did, rkey = event.get("did"), commit.get("rkey")
        if not isinstance(did, str) or not did.startswith("did:") or not isinstance(rkey, str):
            log.warning("source %s: skipped a Jetstream post without did or rkey", self.name)
            return None
        created = record.get("createdAt")
        published = parse_date(created) if isinstance(created, str) else None
        time_us = event.get("time_us")
        if published is None and isinstance(time_us, int):
            published = datetime.fromtimestamp(time_us / 1_000_000, UTC)
        reply = record.get("reply")
        parent = reply.get("parent") if isinstance(reply, dict) else None
        parent_uri = parent.get("uri") if isinstance(parent, dict) else None
        return Mention(
            platform=self.platform,
            # The same at:// URI the search connector uses: one post is one mention.
            external_id=f"at://{did}/{POST_COLLECTION}/{rkey}",
            text=encodable(text),
            url=f"https://bsky.app/profile/{did}/post/{rkey}",
            author=did,  # Jetstream carries no handle; the DID is the stable author id
            published_at=published,
            lang=_primary_language(record.get("langs")),
            parent_id=parent_uri if isinstance(parent_uri, str) else None,
        )
