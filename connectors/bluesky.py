"""Bluesky: post search (app.bsky.feed.searchPosts) with an app password's session."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlencode

from pydantic import Field, model_validator

from connectors.api import BaseUrl, Page, PlatformConnector, RateHeaders, SearchQueries
from connectors.base import (
    AuthError,
    Cursor,
    FetchResult,
    RateBudget,
    SourceError,
    SourceOptions,
    map_items,
)
from connectors.textutil import fold_whitespace, parse_date
from monitor.clock import Clock
from monitor.configtypes import EnvSecret
from monitor.httpclient import HttpClient, HttpResponse
from monitor.records import Engagement, EngagementUpdate, Mention

log = logging.getLogger(__name__)

SEARCH = "/xrpc/app.bsky.feed.searchPosts"
GET_POSTS = "/xrpc/app.bsky.feed.getPosts"
GET_PROFILES = "/xrpc/app.bsky.actor.getProfiles"
CREATE_SESSION = "/xrpc/com.atproto.server.createSession"
REFRESH_SESSION = "/xrpc/com.atproto.server.refreshSession"
BATCH = 25  # getPosts and getProfiles take at most 25 per call
REACH_TTL = timedelta(hours=6)  # follower counts move slowly; spare the API
REACH_CACHE_MAX = 5000
APP_PASSWORDS = "https://bsky.app/settings/app-passwords"
LOGIN_REQUIRED = (
    "Bluesky closed search to anonymous clients in 2025: set `identifier` (the account's handle) "
    "and `app_password = { env = \"BSKY_APP_PASSWORD\" }` with an app password created under "
    f"Settings > Privacy and security > App passwords ({APP_PASSWORDS}); or watch the live "
    "stream with kind = \"bluesky_stream\", which needs no account"
)
_TOKEN_ERRORS = ("ExpiredToken", "InvalidToken")
RATE_HEADERS = RateHeaders(  # the reset is a Unix time
    remaining=("RateLimit-Remaining",), limit=("RateLimit-Limit",), reset=("RateLimit-Reset",)
)
AUTH_HINT = f"check the identifier and create a new app password at {APP_PASSWORDS}"


class BlueskyOptions(SourceOptions):
    """Options of a `kind = "bluesky"` source."""

    # Search queries (Bluesky search syntax: words, "phrases", from:, lang:, ...).
    search: SearchQueries = Field(min_length=1)
    # Posts per page (the API allows 1-100).
    limit: int = Field(default=50, ge=1, le=100)
    # Pages read per query and poll when many new posts arrived.
    max_pages: int = Field(default=3, ge=1, le=10)
    # Look up authors' follower counts (app.bsky.actor.getProfiles, cached for 6 hours).
    author_reach: bool = True
    # Your account's PDS (or the bsky.social entryway): the session is created there and every
    # call goes through it; it forwards app.bsky.* calls to the AppView with the session.
    auth_service: BaseUrl = "https://bsky.social"
    # Handle or e-mail of the account, with an app password (Settings > Privacy > App passwords).
    # Required: optional here only so that a missing one gets LOGIN_REQUIRED, not "Field required".
    identifier: str | None = None
    app_password: EnvSecret | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_anonymous_service(cls, data: Any) -> Any:
        if isinstance(data, dict) and "service" in data:
            raise ValueError(
                "`service` (the anonymous AppView) is no longer used: search needs a session, "
                "which goes through `auth_service`; remove `service`"
            )
        return data

    @model_validator(mode="after")
    def _consistent(self) -> BlueskyOptions:
        if self.identifier is None or self.app_password is None:
            raise ValueError(LOGIN_REQUIRED)
        return self


class BlueskyConnector(PlatformConnector[BlueskyOptions]):
    """Searches Bluesky posts, newest first, and re-reads their counters."""

    kind: ClassVar[str] = "bluesky"
    platform: ClassVar[str] = "bluesky"
    default_interval: ClassVar[float] = 120.0
    Options: ClassVar[type[SourceOptions]] = BlueskyOptions
    api_name: ClassVar[str] = "Bluesky"
    rate_headers: ClassVar[RateHeaders | None] = RATE_HEADERS
    supports_refresh: ClassVar[bool] = True

    def __init__(
        self, name: str, options: SourceOptions, http: HttpClient, *, clock: Clock | None = None
    ) -> None:
        super().__init__(name, options, http, clock=clock)
        self._access: str | None = None
        self._refresh: str | None = None
        self._budget: RateBudget | None = None
        self._reach: dict[str, tuple[int, datetime]] = {}  # did -> (followers, looked up at)

    def search_terms(self) -> list[str]:
        """The configured search queries."""
        return list(self.opts.search)

    async def fetch(self, cursor: Cursor) -> FetchResult:
        """Posts newer than the cursor's `since` for every query (a few pages at most)."""
        old_states: dict[str, Any] = dict(cursor.position.get("queries", {}))
        new_states: dict[str, Any] = {}
        found: dict[str, tuple[Mention, str | None]] = {}
        skipped = 0
        for query in self.opts.search:
            state = old_states.get(query)
            posts, query_skipped = await self._search(query, state)
            skipped += query_skipped
            for mention, _, did in posts:
                found.setdefault(mention.external_id, (mention, did))
            next_state = _advance(state, [(m.external_id, s) for m, s, _ in posts])
            if next_state is not None:  # nothing seen yet: the next poll is a first poll again
                new_states[query] = next_state
        mentions = [m for m, _ in found.values()]
        if self.opts.author_reach and mentions:
            await self._fill_reach(list(found.values()))
        return FetchResult(
            mentions=mentions,
            cursor=Cursor(position={"queries": new_states}),
            budget=self._budget,
            skipped=skipped,
        )

    async def _search(
        self, query: str, state: dict[str, Any] | None
    ) -> tuple[list[tuple[Mention, datetime, str | None]], int]:
        async def read_page(page_cursor: str | None) -> Page[tuple[Mention, datetime, str | None]]:
            params: dict[str, str] = {"q": query, "sort": "latest", "limit": str(self.opts.limit)}
            if state is not None:
                params["since"] = state["since"]  # inclusive: the uris at that instant are known
            if page_cursor:
                params["cursor"] = page_cursor
            body = await self._xrpc_get(SEARCH, params, f"searching {query!r}")
            items = body.get("posts") if isinstance(body, dict) else None
            if not isinstance(items, list):
                raise SourceError(f"Bluesky answered the search for {query!r} without a posts list")
            parsed, skipped = map_items(self.name, items, self._mention)
            new = [p for p in parsed if state is None or _is_new(p[0].external_id, p[1], state)]
            next_cursor = body.get("cursor")
            return Page(
                new,
                next_cursor if isinstance(next_cursor, str) and items else None,
                reached_known=len(new) < len(parsed),
                skipped=skipped,
            )

        return await self.api.read_pages(
            read_page, max_pages=self.opts.max_pages, what=repr(query), newest_only=state is None
        )

    async def refresh(self, refs: Sequence[str]) -> list[EngagementUpdate]:
        """Re-read like/repost/reply/quote counts of posts by at:// URI, 25 per call."""
        uris = [r for r in dict.fromkeys(refs) if r.startswith("at://")]
        updates: list[EngagementUpdate] = []
        for start in range(0, len(uris), BATCH):
            batch = uris[start : start + BATCH]
            body = await self._xrpc_get(GET_POSTS, [("uris", u) for u in batch], "refreshing")
            items = body.get("posts") if isinstance(body, dict) else None
            if not isinstance(items, list):
                raise SourceError("Bluesky answered getPosts without a posts list")
            parsed = map_items(self.name, items, self._mention)[0]
            updates += self.engagement_updates(mention for mention, _, _ in parsed)
        return updates

    def _mention(self, item: Any) -> tuple[Mention, datetime, str | None] | None:
        """Map one postView; None (logged) when a required field is missing."""
        if not isinstance(item, dict):
            log.warning("%s: skipped a Bluesky search result that is not an object", self.name)
            return None
        uri = item.get("uri")
        author = item.get("author") if isinstance(item.get("author"), dict) else {}
        record = item.get("record") if isinstance(item.get("record"), dict) else {}
        assert isinstance(author, dict) and isinstance(record, dict)
        handle = author.get("handle")
        text = record.get("text")
        created = _parse_time(record.get("createdAt"))
        indexed = _parse_time(item.get("indexedAt"))
        missing = [
            name
            for name, value in (
                ("uri", uri if isinstance(uri, str) and uri.startswith("at://") else None),
                ("author.handle", handle if isinstance(handle, str) else None),
                ("record.text", text if isinstance(text, str) else None),
                ("record.createdAt", created or indexed),
            )
            if value is None
        ]
        if missing:
            log.warning(
                "%s: skipped Bluesky post %s: missing or invalid %s",
                self.name, uri if isinstance(uri, str) else "(no uri)", ", ".join(missing),
            )
            return None
        assert isinstance(uri, str) and isinstance(handle, str) and isinstance(text, str)
        published = created or indexed
        assert published is not None
        # The search orders by "sortAt": the earlier of createdAt and indexedAt.
        sort_at = min(t for t in (created, indexed) if t is not None)
        rkey = uri.rstrip("/").rsplit("/", 1)[-1]
        did = author.get("did") if isinstance(author.get("did"), str) else None
        profile = did if handle == "handle.invalid" and did else handle
        reply = record.get("reply")
        parent = reply.get("parent") if isinstance(reply, dict) else None
        parent_uri = parent.get("uri") if isinstance(parent, dict) else None
        reposts, quotes = _int(item.get("repostCount")), _int(item.get("quoteCount"))
        engagement = Engagement(
            likes=_int(item.get("likeCount")),
            # Reposts and quotes both push the post to another audience: both are spread.
            shares=None if reposts is None and quotes is None else (reposts or 0) + (quotes or 0),
            comments=_int(item.get("replyCount")),
            extra={
                k: float(v) for k, v in (("reposts", reposts), ("quotes", quotes)) if v is not None
            },
        )
        return (
            Mention(
                platform=self.platform,
                external_id=uri,
                text=_with_link_card(text, record),
                url=f"https://bsky.app/profile/{profile}/post/{rkey}",
                author=handle,
                published_at=published,
                lang=_primary_language(record.get("langs")),
                parent_id=parent_uri if isinstance(parent_uri, str) else None,
                engagement=engagement,
            ),
            sort_at,
            did,
        )

    async def _fill_reach(self, found: list[tuple[Mention, str | None]]) -> None:
        now = self.clock.now()
        wanted = sorted({
            did for _, did in found
            if did and (did not in self._reach or now - self._reach[did][1] > REACH_TTL)
        })
        try:
            for start in range(0, len(wanted), BATCH):
                batch = wanted[start : start + BATCH]
                body = await self._xrpc_get(
                    GET_PROFILES, [("actors", d) for d in batch], "looking up authors"
                )
                profiles = body.get("profiles") if isinstance(body, dict) else None
                for profile in profiles if isinstance(profiles, list) else []:
                    if not isinstance(profile, dict):
                        continue
                    followers = _int(profile.get("followersCount"))
                    if isinstance(profile.get("did"), str) and followers is not None:
                        self._reach[profile["did"]] = (followers, now)
        except SourceError as exc:
            # Reach is a bonus: the posts are worth keeping without it.
            log.warning("%s: author follower counts unavailable this poll: %s", self.name, exc)
        if len(self._reach) > REACH_CACHE_MAX:
            oldest = sorted(self._reach, key=lambda d: self._reach[d][1])
            for stale in oldest[: len(self._reach) - REACH_CACHE_MAX]:
                del self._reach[stale]
        for mention, author_did in found:
            if author_did in self._reach:
                mention.author_reach = self._reach[author_did][0]

    # -- HTTP ---------------------------------------------------------------------------------

    async def _xrpc_get(
        self, method: str, params: dict[str, str] | list[tuple[str, str]], doing: str
    ) -> Any:
        self.api.check_allowance(self._budget, doing)
        # Repeated keys (uris=a&uris=b) need a hand-built query string.
        url = f"{self.opts.auth_service}{method}?{urlencode(params)}"
        for attempt in (1, 2):
            headers = {
                "Accept": "application/json",
                "Authorization": f"Bearer {await self._session()}",
            }
            response = await self.http.get(url, headers=headers)
            self._budget = self.api.budget(response) or self._budget
            if (
                attempt == 1
                and response.status in (400, 401)
                and _xrpc_error(response) in _TOKEN_ERRORS
            ):
                await self._renew_session()
                continue
            self._raise_for_status(response, doing)
            return self.api.json(response, doing)
        raise AssertionError("unreachable")

    async def _session(self) -> str:
        if self._access is None:
            await self._create_session()
        assert self._access is not None
        return self._access

    async def _create_session(self) -> None:
        assert self.opts.identifier is not None and self.opts.app_password is not None
        password = self.api.reveal(self.opts.app_password, "export it or remove app_password")
        self.api.check_allowance(self._budget, "logging in")
        response = await self.http.post(
            self.opts.auth_service + CREATE_SESSION,
            json_body={"identifier": self.opts.identifier, "password": password},
            headers={"Accept": "application/json"},
        )
        self._budget = self.api.budget(response) or self._budget
        if response.status in (400, 401, 403):
            raise AuthError(
                f"Bluesky refused to log in {self.opts.identifier!r} for source {self.name!r} "
                f"(HTTP {response.status}, {_xrpc_error(response) or 'no reason given'}); "
                f"{AUTH_HINT}"
            )
        self._raise_for_status(response, "logging in")
        self._store_session(self.api.json(response, "logging in"))

    async def _renew_session(self) -> None:
        """Trade the refresh token for a new session; log in again when that fails."""
        if self._refresh is not None:
            response = await self.http.post(
                self.opts.auth_service + REFRESH_SESSION,
                headers={"Accept": "application/json", "Authorization": f"Bearer {self._refresh}"},
            )
            self._budget = self.api.budget(response) or self._budget
            if response.status == 200:
                self._store_session(self.api.json(response, "refreshing the session"))
                return
            if response.status not in (400, 401):
                self._raise_for_status(response, "refreshing the session")
        self._access = self._refresh = None
        await self._create_session()

    def _store_session(self, body: Any) -> None:
        access = body.get("accessJwt") if isinstance(body, dict) else None
        refresh = body.get("refreshJwt") if isinstance(body, dict) else None
        if not isinstance(access, str) or not access:
            raise SourceError("Bluesky answered the login without an access token")
        self.http.add_secrets([access, refresh if isinstance(refresh, str) else ""])
        self._access = access
        self._refresh = refresh if isinstance(refresh, str) and refresh else None

    def _raise_for_status(self, response: HttpResponse, doing: str) -> None:
        reason = _xrpc_error(response) or "no reason given"
        self.api.raise_for_status(response, doing, auth_hint=AUTH_HINT, reason=reason)


def _xrpc_error(response: HttpResponse) -> str | None:
    """The XRPC error name ({"error": "ExpiredToken", ...}) of an error response, if any."""
    if "json" not in response.content_type:
        return None
    try:
        body = response.json()
    except SourceError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error[:80] if isinstance(error, str) else None


def _primary_language(langs: Any) -> str | None:
    """ISO 639-1 code of the first of the post's declared languages ("en-US" -> "en")."""
    if isinstance(langs, list) and langs and isinstance(langs[0], str) and langs[0]:
        return langs[0].split("-")[0].lower()
    return None


def _with_link_card(text: str, record: dict[str, Any]) -> str:
    """Post text plus the title/description of an attached link card (claims often live there)."""
    embed = record.get("embed")
    external = embed.get("external") if isinstance(embed, dict) else None
    card = [external.get(k) for k in ("title", "description")] if isinstance(external, dict) else []
    return fold_whitespace(" ".join([text, *(c for c in card if isinstance(c, str))]))


def _parse_time(value: Any) -> datetime | None:
    return parse_date(value) if isinstance(value, str) else None


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _is_new(uri: str, sort_at: datetime, state: dict[str, Any]) -> bool:
    since = _parse_time(state.get("since"))
    if since is None or sort_at > since:
        return True
    return sort_at == since and uri not in state.get("uris", [])


def _advance(
    state: dict[str, Any] | None, seen: list[tuple[str, datetime]]
) -> dict[str, Any] | None:
    """The query's next cursor: newest sortAt seen (sent as `since`) and the uris at it."""
    newest = _parse_time(state.get("since")) if state else None
    uris: list[str] = list(state.get("uris", [])) if state else []
    for uri, sort_at in seen:
        if newest is None or sort_at > newest:
            newest, uris = sort_at, [uri]
        elif sort_at == newest and uri not in uris:
            uris.append(uri)
    if newest is None:
        return None
    return {"since": _iso(newest), "uris": uris}


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

