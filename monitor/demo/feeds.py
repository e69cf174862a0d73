"""The demo's feed server: the scripted day on 127.0.0.1, as each platform's API would serve it.

Only posts published up to the clock's now are visible, with their engagement as of now, so
the real connectors poll, page and refresh against it as they would against the platforms.
One aiohttp server carries every platform under its own path prefix:

    /news/rss?q=               RSS 2.0 news search (ETag / If-None-Match)
    /reddit/search.json        Reddit search Listing; /reddit/api/info.json by fullname
    /mastodon/api/v1/...       tag timelines (min_id paging, Link header); statuses/{id}
    /bluesky/xrpc/...          com.atproto.server.createSession (the app password); with its
                               session: app.bsky.feed.searchPosts, getPosts, actor.getProfiles
    /bluesky/subscribe         Jetstream: a WebSocket of post commits as they are published
                               (wantedCollections, cursor in time_us); half the Bluesky posts
                               are played here and not in search
    /x/2/tweets/...            recent search (since_id, start_time, next_token); lookup by ids
    /youtube/v3/...            search, videos, channels (API key required)

X and YouTube refuse requests without the run's token, as the real APIs refuse a missing key;
Bluesky logs in with the token as app password and refuses calls without the session.
"""

from __future__ import annotations

import asyncio
import bisect
import hashlib
import json
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from aiohttp import web

from connectors.textutil import parse_date
from monitor.clock import Clock
from monitor.demo import platforms as fmt
from monitor.demo.script import ScriptedPost

log = logging.getLogger(__name__)

_TERM = re.compile(r'"([^"]+)"|([^\s()|"]+)')
_OPERATORS = frozenset({"or", "and", "not"})
MASTODON_PAGE = 40
STREAM_WAKE = 0.05  # seconds a stream waits for the clock to move before looking again


def query_terms(query: str) -> list[str]:
    """The words a search looks for: OR/AND, operators (lang:, -is:retweet) and | left out."""
    terms = []
    for phrase, word in _TERM.findall(query):
        term = (phrase or word).strip().lower()
        if term and term not in _OPERATORS and ":" not in term and not term.startswith("-"):
            terms.append(term)
    return terms


def _matcher(query: str) -> Callable[[ScriptedPost], bool]:
    """Any of the terms as a word of the post (Latin letters around it break the match)."""
    terms = query_terms(query)
    patterns = [re.compile(rf"(?<![a-z0-9]){re.escape(t)}(?![a-z0-9])") for t in terms]

    def matches(post: ScriptedPost) -> bool:
        text = post.text.lower()
        return any(p.search(text) for p in patterns)

    return matches


class FeedServer:
    """Serves `posts` over HTTP on 127.0.0.1 (a free port) as of `clock.now()`."""

    def __init__(self, posts: Sequence[ScriptedPost], clock: Clock, token: str) -> None:
        self.posts = sorted(posts, key=lambda p: p.published_at)
        self._times = [p.published_at for p in self.posts]
        self.clock = clock
        self.token = token
        self.requests: Counter[str] = Counter()  # per platform
        self.base_url = ""
        self._runner: web.AppRunner | None = None
        self._by_platform: dict[str, dict[str, ScriptedPost]] = {
            "reddit": {fmt.reddit_fullname(p): p for p in self.posts if p.platform == "reddit"},
            "mastodon": {fmt.mastodon_id(p): p for p in self.posts if p.platform == "mastodon"},
            "bluesky": {fmt.bluesky_uri(p): p for p in self.posts if p.platform == "bluesky"},
            "x": {fmt.x_id(p): p for p in self.posts if p.platform == "x"},
            "youtube": {fmt.youtube_id(p): p for p in self.posts if p.platform == "youtube"},
        }
        self._dids = {fmt.bluesky_did(p): p for p in self.posts if p.platform == "bluesky"}
        self._channels = {fmt.youtube_channel_id(p): p for p in self.posts
                          if p.platform == "youtube"}
        # Jetstream's events in order, each with a distinct time_us at or after its post's time.
        self._stream: list[tuple[int, ScriptedPost]] = []
        for post in self.posts:
            if fmt.on_jetstream(post):
                time_us = int(post.published_at.timestamp() * 1_000_000)
                if self._stream:
                    time_us = max(time_us, self._stream[-1][0] + 1)
                self._stream.append((time_us, post))
        self.stream_events_sent = 0
        self._moved = asyncio.Event()
        self._closing = False
        self._streams: set[asyncio.Task[None]] = set()
        self._sockets: set[web.WebSocketResponse] = set()

    def app(self) -> web.Application:
        """The aiohttp application."""
        app = web.Application()
        app.router.add_get("/news/rss", self._news)
        app.router.add_get("/reddit/search.json", self._reddit_search)
        app.router.add_get("/reddit/api/info.json", self._reddit_info)
        app.router.add_get("/mastodon/api/v1/timelines/tag/{tag}", self._mastodon_tag)
        app.router.add_get("/mastodon/api/v1/statuses/{id}", self._mastodon_status)
        app.router.add_post("/bluesky/xrpc/com.atproto.server.createSession", self._bluesky_login)
        app.router.add_get("/bluesky/xrpc/app.bsky.feed.searchPosts", self._bluesky_search)
        app.router.add_get("/bluesky/xrpc/app.bsky.feed.getPosts", self._bluesky_posts)
        app.router.add_get("/bluesky/xrpc/app.bsky.actor.getProfiles", self._bluesky_profiles)
        app.router.add_get("/bluesky/subscribe", self._jetstream)
        app.router.add_get("/x/2/tweets/search/recent", self._x_search)
        app.router.add_get("/x/2/tweets", self._x_lookup)
        app.router.add_get("/youtube/v3/search", self._youtube_search)
        app.router.add_get("/youtube/v3/videos", self._youtube_videos)
        app.router.add_get("/youtube/v3/channels", self._youtube_channels)
        return app

    async def start(self) -> str:
        """Listen on 127.0.0.1 on a free port; returns the base URL."""
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        if not sockets:
            raise RuntimeError("the demo feed server did not get a port on 127.0.0.1")
        self.base_url = f"http://127.0.0.1:{sockets[0].getsockname()[1]}"
        return self.base_url

    def clock_moved(self) -> None:
        """Wake the live streams: posts may have been published since they last looked."""
        self._moved.set()
        self._moved = asyncio.Event()

    async def close(self) -> None:
        """Stop serving; safe to call twice."""
        self._closing = True
        for task in list(self._streams):
            task.cancel()
        for ws in list(self._sockets):
            await ws.close()
        self.clock_moved()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    # -- what is visible now ------------------------------------------------------------------

    def visible(self, platform: str, query: str | None = None) -> list[ScriptedPost]:
        """Posts of `platform` published up to now (matching `query`), newest first."""
        count = bisect.bisect_right(self._times, self.clock.now())
        matches = _matcher(query) if query is not None else None
        found = [
            p for p in self.posts[:count]
            if p.platform == platform and (matches is None or matches(p))
        ]
        return found[::-1]

    def _lookup(self, platform: str, keys: Iterable[str]) -> list[ScriptedPost]:
        now = self.clock.now()
        table = self._by_platform[platform]
        return [table[k] for k in keys if k in table and table[k].published_at <= now]

    def _count(self, platform: str) -> None:
        self.requests[platform] += 1

    # -- news -------------------------------------------------------------------------------

    async def _news(self, request: web.Request) -> web.StreamResponse:
        self._count("news")
        query = request.query.get("q", "")
        posts = self.visible("news", query)[:50]
        tag = '"' + hashlib.sha256(
            "|".join(str(p.number) for p in posts).encode()
        ).hexdigest()[:16] + '"'
        if request.headers.get("If-None-Match") == tag:
            return web.Response(status=304, headers={"ETag": tag})
        body = fmt.rss_document(posts, f"News search: {query}", str(request.url))
        return web.Response(body=body, content_type="application/rss+xml", charset="utf-8",
                            headers={"ETag": tag})

    # -- Reddit -------------------------------------------------------------------------------

    async def _reddit_search(self, request: web.Request) -> web.StreamResponse:
        self._count("reddit")
        limit = _int(request.query.get("limit"), 25, 1, 100)
        posts = self.visible("reddit", request.query.get("q", ""))
        after = request.query.get("after")
        if after:
            names = [fmt.reddit_fullname(p) for p in posts]
            posts = posts[names.index(after) + 1:] if after in names else []
        page = posts[:limit]
        next_after = fmt.reddit_fullname(page[-1]) if len(posts) > limit else None
        now = self.clock.now()
        return web.json_response(
            fmt.reddit_listing([fmt.reddit_link(p, now) for p in page], next_after)
        )

    async def _reddit_info(self, request: web.Request) -> web.StreamResponse:
        self._count("reddit")
        names = request.query.get("id", "").split(",")
        now = self.clock.now()
        children = [fmt.reddit_link(p, now) for p in self._lookup("reddit", names)]
        return web.json_response(fmt.reddit_listing(children))

    # -- Mastodon -----------------------------------------------------------------------------

    async def _mastodon_tag(self, request: web.Request) -> web.StreamResponse:
        self._count("mastodon")
        tag = request.match_info["tag"].lower()
        limit = _int(request.query.get("limit"), 20, 1, MASTODON_PAGE)
        posts = [p for p in self.visible("mastodon") if tag in p.tags]
        min_id = request.query.get("min_id")
        if min_id:
            # min_id pages upwards: the oldest `limit` statuses above it, shown newest first.
            newer = [p for p in posts if _snowflake(fmt.mastodon_id(p)) > _snowflake(min_id)]
            page = newer[-limit:]
        else:
            page = posts[:limit]
        now = self.clock.now()
        headers = {}
        if page:
            base = f"{self.base_url}/mastodon/api/v1/timelines/tag/{tag}"
            headers["Link"] = (
                f'<{base}?max_id={fmt.mastodon_id(page[-1])}>; rel="next", '
                f'<{base}?min_id={fmt.mastodon_id(page[0])}>; rel="prev"'
            )
        return web.json_response([fmt.mastodon_status(p, now) for p in page], headers=headers)

    async def _mastodon_status(self, request: web.Request) -> web.StreamResponse:
        self._count("mastodon")
        found = self._lookup("mastodon", [request.match_info["id"]])
        if not found:
            return web.json_response({"error": "Record not found"}, status=404)
        return web.json_response(fmt.mastodon_status(found[0], self.clock.now()))

    # -- Bluesky ------------------------------------------------------------------------------

    def _bluesky_session(self) -> str:
        return "demo-access." + hashlib.sha256(self.token.encode()).hexdigest()[:32]

    async def _bluesky_login(self, request: web.Request) -> web.StreamResponse:
        self._count("bluesky")
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or body.get("password") != self.token:
            return web.json_response(
                {"error": "AuthenticationRequired", "message": "Invalid identifier or password"},
                status=401,
            )
        handle = str(body.get("identifier", ""))
        return web.json_response({
            "accessJwt": self._bluesky_session(),
            "refreshJwt": "demo-refresh." + hashlib.sha256(handle.encode()).hexdigest()[:32],
            "handle": handle, "did": "did:plc:demomonitor00000000000000", "active": True,
        })

    def _bluesky_refused(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") == f"Bearer {self._bluesky_session()}":
            return None
        return web.json_response(
            {"error": "AuthenticationRequired", "message": "Authentication Required"}, status=401
        )

    async def _bluesky_search(self, request: web.Request) -> web.StreamResponse:
        self._count("bluesky")
        refused = self._bluesky_refused(request)
        if refused is not None:
            return refused
        query = request.query.get("q", "")
        if not query.strip():
            return web.json_response(
                {"error": "InvalidRequest", "message": 'Error: Params must have the property "q"'},
                status=400,
            )
        limit = _int(request.query.get("limit"), 25, 1, 100)
        posts = [p for p in self.visible("bluesky", query) if not fmt.on_jetstream(p)]
        since = parse_date(request.query.get("since"))
        if since is not None:
            posts = [p for p in posts if p.published_at >= since]  # `since` is inclusive
        offset = _int(request.query.get("cursor"), 0, 0, len(posts))
        page = posts[offset: offset + limit]
        body: dict[str, Any] = {"posts": [fmt.bluesky_post(p, self.clock.now()) for p in page]}
        if offset + limit < len(posts):
            body["cursor"] = str(offset + limit)
        return web.json_response(body)

    async def _bluesky_posts(self, request: web.Request) -> web.StreamResponse:
        self._count("bluesky")
        refused = self._bluesky_refused(request)
        if refused is not None:
            return refused
        now = self.clock.now()
        found = self._lookup("bluesky", request.query.getall("uris", []))
        return web.json_response({"posts": [fmt.bluesky_post(p, now) for p in found]})

    async def _bluesky_profiles(self, request: web.Request) -> web.StreamResponse:
        self._count("bluesky")
        refused = self._bluesky_refused(request)
        if refused is not None:
            return refused
        actors = request.query.getall("actors", [])
        profiles = [fmt.bluesky_profile(self._dids[a]) for a in actors if a in self._dids]
        return web.json_response({"profiles": profiles})

    async def _jetstream(self, request: web.Request) -> web.StreamResponse:
        """Jetstream: the post commits published so far after `cursor`, then each as it comes."""
        self._count("bluesky_stream")
        wanted = request.query.getall("wantedCollections", [])
        if wanted and "app.bsky.feed.post" not in wanted:
            return web.Response(status=400, text="no wanted collection is served here")
        start = _int(request.query.get("cursor"), 0, 0, 2**62)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        sender = asyncio.create_task(self._play_stream(ws, start))
        self._streams.add(sender)
        self._sockets.add(ws)
        try:
            async for _ in ws:  # Jetstream's options updates: none are used here
                pass
        finally:
            sender.cancel()
            self._streams.discard(sender)
            self._sockets.discard(ws)
            await ws.close()
        return ws

    async def _play_stream(self, ws: web.WebSocketResponse, start: int) -> None:
        """Send each streamed post once the clock has passed its time, oldest first."""
        times = [time_us for time_us, _ in self._stream]
        sent = bisect.bisect_left(times, start)
        while not ws.closed and not self._closing:
            now = self.clock.now()
            while sent < len(self._stream) and self._stream[sent][1].published_at <= now:
                time_us, post = self._stream[sent]
                try:
                    await ws.send_str(json.dumps(fmt.jetstream_event(post, time_us)))
                except ConnectionResetError:
                    return  # the reader went away; its handler ends with the socket
                self.stream_events_sent += 1
                sent += 1
            moved = self._moved
            try:
                await asyncio.wait_for(moved.wait(), STREAM_WAKE)
            except TimeoutError:
                pass

    # -- X ----------------------------------------------------------------------------------

    def _x_refused(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") == f"Bearer {self.token}":
            return None
        return web.json_response(
            {"title": "Unauthorized", "type": "about:blank", "status": 401,
             "detail": "Unauthorized"},
            status=401,
        )

    async def _x_search(self, request: web.Request) -> web.StreamResponse:
        self._count("x")
        refused = self._x_refused(request)
        if refused is not None:
            return refused
        limit = _int(request.query.get("max_results"), 10, 10, 100)
        posts = self.visible("x", request.query.get("query", ""))
        since_id = request.query.get("since_id")
        start = parse_date(request.query.get("start_time"))
        if since_id and since_id.isdigit():
            posts = [p for p in posts if int(fmt.x_id(p)) > int(since_id)]
        elif start is not None:
            posts = [p for p in posts if p.published_at >= start]
        offset = _int(request.query.get("next_token"), 0, 0, len(posts))
        page = posts[offset: offset + limit]
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta["newest_id"], meta["oldest_id"] = fmt.x_id(page[0]), fmt.x_id(page[-1])
        if offset + limit < len(posts):
            meta["next_token"] = str(offset + limit)
        now = self.clock.now()
        body: dict[str, Any] = {"meta": meta}
        if page:
            body["data"] = [fmt.x_tweet(p, now) for p in page]
            users = {fmt.x_user_id(p): fmt.x_user(p) for p in page}
            body["includes"] = {"users": list(users.values())}
        return web.json_response(body)

    async def _x_lookup(self, request: web.Request) -> web.StreamResponse:
        self._count("x")
        refused = self._x_refused(request)
        if refused is not None:
            return refused
        now = self.clock.now()
        found = self._lookup("x", request.query.get("ids", "").split(","))
        return web.json_response({"data": [fmt.x_tweet(p, now) for p in found]})

    # -- YouTube ------------------------------------------------------------------------------

    def _youtube_refused(self, request: web.Request) -> web.Response | None:
        if request.query.get("key") == self.token:
            return None
        return web.json_response(
            {"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",
                       "errors": [{"reason": "keyInvalid", "domain": "usageLimits"}]}},
            status=400,
        )

    async def _youtube_search(self, request: web.Request) -> web.StreamResponse:
        self._count("youtube")
        refused = self._youtube_refused(request)
        if refused is not None:
            return refused
        posts = self.visible("youtube", request.query.get("q", ""))
        after = parse_date(request.query.get("publishedAfter"))
        if after is not None:
            posts = [p for p in posts if p.published_at > after]
        limit = _int(request.query.get("maxResults"), 5, 0, 50)
        page = posts[:limit]
        return web.json_response({
            "kind": "youtube#searchListResponse",
            "pageInfo": {"totalResults": len(posts), "resultsPerPage": limit},
            "items": [fmt.youtube_search_result(p) for p in page],
        })

    async def _youtube_videos(self, request: web.Request) -> web.StreamResponse:
        self._count("youtube")
        refused = self._youtube_refused(request)
        if refused is not None:
            return refused
        parts = set(request.query.get("part", "").split(","))
        now = self.clock.now()
        found = self._lookup("youtube", request.query.get("id", "").split(","))
        return web.json_response({"kind": "youtube#videoListResponse",
                                  "items": [fmt.youtube_video(p, now, parts) for p in found]})

    async def _youtube_channels(self, request: web.Request) -> web.StreamResponse:
        self._count("youtube")
        refused = self._youtube_refused(request)
        if refused is not None:
            return refused
        ids = request.query.get("id", "").split(",")
        items = [fmt.youtube_channel(self._channels[i]) for i in ids if i in self._channels]
        return web.json_response({"kind": "youtube#channelListResponse", "items": items})


def _int(value: str | None, default: int, low: int, high: int) -> int:
    try:
        number = int(value) if value is not None else default
    except ValueError:
        number = default
    return min(max(number, low), high)


def _snowflake(value: str) -> int:
    return int(value) if value.isdigit() else 0

