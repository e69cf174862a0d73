"""Reddit: site-wide search and new posts/comments of subreddits, anonymous or app-only OAuth."""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from pydantic import Field, field_validator, model_validator

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
from connectors.textutil import fold_whitespace
from monitor.clock import Clock
from monitor.configtypes import EnvSecret
from monitor.httpclient import HttpClient, HttpResponse
from monitor.records import Engagement, EngagementUpdate, Mention

log = logging.getLogger(__name__)

PERMALINK_BASE = "https://www.reddit.com"
INFO_BATCH = 100  # /api/info accepts at most 100 fullnames per call
TOKEN_MARGIN = timedelta(seconds=60)  # renew a little before the token really expires
APPS_PAGE = "https://www.reddit.com/prefs/apps"
# Reset is in seconds from now; reddit sends what is used rather than the limit.
RATE_HEADERS = RateHeaders(
    remaining=("X-Ratelimit-Remaining",),
    reset=("X-Ratelimit-Reset",),
    reset_format="seconds",
    used="X-Ratelimit-Used",
)
# Reasons reddit gives in a 403/404 body for one subreddit it will not list to us; the rest of
# the source still works, so only that listing is marked refused.
LISTING_REFUSALS = {
    "private": "the subreddit is private",
    "quarantined": "the subreddit is quarantined (only logged-in users who opted in may read it)",
    "gold_only": "the subreddit is for premium members only",
    "banned": "the subreddit is banned",
}


class ListingRefused(SourceError):
    """Reddit refused one listing (a private, quarantined or banned subreddit), not the source."""


class RedditOptions(SourceOptions):
    """Options of a `kind = "reddit"` source."""

    # Site-wide search queries (reddit search syntax), newest first.
    search: SearchQueries = []
    # Subreddit names without "r/"; their new posts are read in one combined listing.
    subreddits: list[str] = []
    # Also read the newest comments of `subreddits`.
    comments: bool = False
    # Items per listing page (reddit's maximum is 100).
    limit: int = Field(default=100, ge=1, le=100)
    # Pages read per target and poll when many new items arrived since the last poll.
    max_pages: int = Field(default=3, ge=1, le=10)
    # App-only OAuth (a "script" or "web" app at reddit.com/prefs/apps); anonymous when unset.
    client_id: EnvSecret | None = None
    client_secret: EnvSecret | None = None
    # Reddit asks for "<platform>:<app id>:<version> (by /u/<username>)"; default names the project.
    user_agent: str | None = None
    # Anonymous API host (and the token endpoint's host).
    base_url: BaseUrl = "https://www.reddit.com"
    # API host for OAuth requests.
    oauth_url: BaseUrl = "https://oauth.reddit.com"

    @field_validator("subreddits")
    @classmethod
    def _subreddit_names(cls, value: list[str]) -> list[str]:
        names = [v.strip().removeprefix("/").removeprefix("r/") for v in value]
        for name in names:
            if not name.replace("_", "").isalnum() or not 2 <= len(name) <= 21:
                raise ValueError(f"{name!r} is not a subreddit name (2-21 letters, digits, _)")
        return names

    @model_validator(mode="after")
    def _consistent(self) -> RedditOptions:
        if not self.search and not self.subreddits:
            raise ValueError("set `search` (queries) or `subreddits` (names), or both")
        if self.comments and not self.subreddits:
            raise ValueError("`comments = true` needs `subreddits`")
        if (self.client_id is None) != (self.client_secret is None):
            raise ValueError("set both client_id and client_secret (or neither, for anonymous)")
        return self


@dataclass(frozen=True, slots=True)
class _Target:
    """One listing read per poll: a search or a subreddit listing."""

    key: str  # cursor key, stable across restarts
    path: str
    params: dict[str, str]


class RedditConnector(PlatformConnector[RedditOptions]):
    """Reads reddit search results and subreddit listings (posts and, optionally, comments)."""

    kind: ClassVar[str] = "reddit"
    platform: ClassVar[str] = "reddit"
    default_interval: ClassVar[float] = 120.0
    Options: ClassVar[type[SourceOptions]] = RedditOptions
    api_name: ClassVar[str] = "reddit"
    rate_headers: ClassVar[RateHeaders | None] = RATE_HEADERS
    supports_refresh: ClassVar[bool] = True

    def __init__(
        self, name: str, options: SourceOptions, http: HttpClient, *, clock: Clock | None = None
    ) -> None:
        super().__init__(name, options, http, clock=clock)
        self._token: str | None = None
        self._token_expires: datetime | None = None
        self._budget: RateBudget | None = None

    def search_terms(self) -> list[str]:
        """The configured search queries."""
        return list(self.opts.search)

    def _targets(self) -> list[_Target]:
        common = {"limit": str(self.opts.limit), "raw_json": "1"}
        targets = [
            _Target(
                f"search:{q}", "/search.json", {"q": q, "sort": "new", "type": "link", **common}
            )
            for q in self.opts.search
        ]
        if self.opts.subreddits:
            subs = "+".join(self.opts.subreddits)
            targets.append(_Target(f"new:{subs}", f"/r/{subs}/new.json", dict(common)))
            if self.opts.comments:
                targets.append(
                    _Target(f"comments:{subs}", f"/r/{subs}/comments.json", dict(common))
                )
        return targets

    async def fetch(self, cursor: Cursor) -> FetchResult:
        """Read every target's new items since the cursor (a few pages at most).

        A listing reddit refuses (private, quarantined or banned subreddit) is recorded under
        `refused` in the cursor with reddit's reason; the other listings' items are kept.
        """
        old_states: dict[str, Any] = dict(cursor.position.get("targets", {}))
        old_refused: dict[str, str] = dict(cursor.position.get("refused", {}))
        new_states: dict[str, Any] = {}
        refused: dict[str, str] = {}
        found: dict[str, Mention] = {}
        skipped = 0
        targets = self._targets()
        for target in targets:
            state = old_states.get(target.key)
            try:
                mentions, target_skipped = await self._read_target(target, state)
            except ListingRefused as exc:
                refused[target.key] = str(exc)
                if state is not None:
                    new_states[target.key] = state  # resume where it left off once readable
                if old_refused.get(target.key) != str(exc):
                    log.warning("source %s: %s; its other listings are still read", self.name, exc)
                continue
            if target.key in old_refused:
                log.info("source %s: reddit lists %s again", self.name, target.key)
            skipped += target_skipped
            for mention in mentions:
                found.setdefault(mention.external_id, mention)
            next_state = _advance(state, mentions)
            if next_state is not None:  # nothing seen yet: the next poll is a first poll again
                new_states[target.key] = next_state
        if refused and len(refused) == len(targets):
            raise AuthError(
                f"reddit refused every listing of source {self.name!r}: "
                + "; ".join(refused.values())
            )
        position: dict[str, Any] = {"targets": new_states}
        if refused:
            position["refused"] = refused
        return FetchResult(
            mentions=list(found.values()),
            cursor=Cursor(position=position),
            budget=self._budget,
            skipped=skipped,
        )

    async def _read_target(
        self, target: _Target, state: dict[str, Any] | None
    ) -> tuple[list[Mention], int]:
        async def read_page(after: str | None) -> Page[Mention]:
            params = dict(target.params)
            if after:
                params["after"] = after
            listing = await self._get_json(
                target.path, params, f"reading {target.key}", listing=target.key
            )
            children, next_after = _listing(listing, target.key)
            mapped, skipped = map_items(self.name, children, self._mention)
            new = [m for m in mapped if state is None or _is_new(m, state)]
            return Page(new, next_after, reached_known=len(new) < len(mapped), skipped=skipped)

        return await self.api.read_pages(
            read_page, max_pages=self.opts.max_pages, what=target.key, newest_only=state is None
        )

    async def refresh(self, refs: Sequence[str]) -> list[EngagementUpdate]:
        """Re-read scores and comment counts of posts/comments by fullname (t3_…, t1_…)."""
        names = [r for r in dict.fromkeys(refs) if r.startswith(("t1_", "t3_"))]
        updates: list[EngagementUpdate] = []
        for start in range(0, len(names), INFO_BATCH):
            batch = names[start : start + INFO_BATCH]
            listing = await self._get_json(
                "/api/info.json", {"id": ",".join(batch), "raw_json": "1"}, "refreshing counters"
            )
            children, _ = _listing(listing, "api/info")
            updates += self.engagement_updates(map_items(self.name, children, self._mention)[0])
        return updates

    def _mention(self, child: Any) -> Mention | None:
        """Map one listing child (t3 post or t1 comment); None (logged) when it lacks a field."""
        data = child.get("data") if isinstance(child, dict) else None
        kind = child.get("kind") if isinstance(child, dict) else None
        if not isinstance(data, dict) or kind not in ("t1", "t3"):
            log.warning("%s: skipped a reddit item that is not a post or comment", self.name)
            return None
        fullname = data.get("name")
        required = ["name", "created_utc", "permalink"] + (["title"] if kind == "t3" else ["body"])
        missing = [key for key in required if data.get(key) is None]
        if missing or not isinstance(data.get("created_utc"), int | float):
            log.warning(
                "%s: skipped reddit item %s: missing or invalid %s",
                self.name, fullname or "(no id)", ", ".join(missing) or "created_utc",
            )
            return None
        author = data.get("author")
        if author in ("[deleted]", "[removed]"):
            author = None
        score = _int(data.get("score"))
        if kind == "t3":
            title = str(data["title"])
            text = fold_whitespace(f"{title} {data.get('selftext') or ''}")
            ratio = data.get("upvote_ratio")
            engagement = Engagement(
                likes=score,
                comments=_int(data.get("num_comments")),
                extra={"upvote_ratio": float(ratio)} if isinstance(ratio, int | float) else {},
            )
            parent = None
        else:
            title = None
            text = fold_whitespace(str(data["body"]))
            engagement = Engagement(likes=score)
            parent = data.get("parent_id") if isinstance(data.get("parent_id"), str) else None
        return Mention(
            platform=self.platform,
            external_id=str(fullname),
            text=text,
            url=PERMALINK_BASE + str(data["permalink"]),
            title=title,
            author=str(author) if author else None,
            # Reddit has no follower counts for posts; the subreddit's audience is the reach.
            author_reach=_int(data.get("subreddit_subscribers")),
            published_at=datetime.fromtimestamp(float(data["created_utc"]), UTC),
            parent_id=parent,
            engagement=engagement,
        )

    # -- HTTP ---------------------------------------------------------------------------------

    async def _get_json(
        self, path: str, params: dict[str, str], doing: str, listing: str | None = None
    ) -> Any:
        self.api.check_allowance(self._budget, doing)
        for attempt in (1, 2):
            headers = {"Accept": "application/json"}
            if self.opts.user_agent:
                headers["User-Agent"] = self.opts.user_agent
            if self.opts.client_id is not None:
                headers["Authorization"] = f"bearer {await self._access_token()}"
                url = self.opts.oauth_url + path
            else:
                url = self.opts.base_url + path
            response = await self.http.get(url, params=params, headers=headers)
            # Responses from reddit's CDN carry no rate-limit headers; keep the last known.
            self._budget = self.api.budget(response) or self._budget
            if response.status == 401 and self.opts.client_id is not None and attempt == 1:
                self._token = None  # expired or revoked early: get a fresh one, once
                continue
            if listing is not None:
                _raise_if_listing_refused(response, listing)
            self._raise_for_status(response, doing)
            return self.api.json(response, doing)
        raise AssertionError("unreachable")

    async def _access_token(self) -> str:
        now = self.clock.now()
        if self._token and self._token_expires and now < self._token_expires:
            return self._token
        assert self.opts.client_id is not None and self.opts.client_secret is not None
        unset = "export it or remove client_id/client_secret"
        client_id = self.api.reveal(self.opts.client_id, unset)
        client_secret = self.api.reveal(self.opts.client_secret, unset)
        basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        self.http.add_secrets([basic])
        headers = {"Accept": "application/json", "Authorization": f"Basic {basic}"}
        if self.opts.user_agent:
            headers["User-Agent"] = self.opts.user_agent
        response = await self.http.post(
            self.opts.base_url + "/api/v1/access_token",
            data={"grant_type": "client_credentials"},
            headers=headers,
        )
        if response.status in (400, 401, 403):
            raise AuthError(
                f"reddit refused client_id/client_secret of source {self.name!r} "
                f"(HTTP {response.status}) when asking for an OAuth token; check the app's id and "
                f"secret at {APPS_PAGE} (it must be a script or web app)"
            )
        self._raise_for_status(response, "getting an OAuth token")
        body = self.api.json(response, "getting an OAuth token")
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            reason = body.get("error") if isinstance(body, dict) else None
            raise AuthError(
                f"reddit gave source {self.name!r} no OAuth token ({reason or 'no access_token'}); "
                f"check the app's id and secret at {APPS_PAGE}"
            )
        self.http.add_secrets([token])
        expires_in = body.get("expires_in")
        lifetime = float(expires_in) if isinstance(expires_in, int | float) else 3600.0
        self._token = token
        self._token_expires = now + timedelta(seconds=lifetime) - TOKEN_MARGIN
        return token

    def _raise_for_status(self, response: HttpResponse, doing: str) -> None:
        hint = (
            "check the app's id and secret"
            if self.opts.client_id is not None
            else "reddit often blocks anonymous clients: configure client_id and "
            "client_secret (and a user_agent naming your reddit account)"
        )
        self.api.raise_for_status(response, doing, auth_hint=hint)


def _raise_if_listing_refused(response: HttpResponse, listing: str) -> None:
    """ListingRefused when a 403/404 body gives one of reddit's per-subreddit reasons."""
    if response.status not in (403, 404):
        return
    try:
        body = response.json()
    except SourceError:
        return  # not reddit's JSON refusal (an HTML block page): the caller maps the status
    reason = body.get("reason") if isinstance(body, dict) else None
    if not isinstance(reason, str) or reason not in LISTING_REFUSALS:
        return
    kind, _, names = listing.partition(":")
    hint = (
        f"remove that subreddit from `subreddits` (r/{names.replace('+', ', r/')})"
        if kind in ("new", "comments")
        else "change the query"
    )
    raise ListingRefused(
        f"reddit refused listing {listing} (HTTP {response.status}, reason {reason!r}: "
        f"{LISTING_REFUSALS[reason]}); {hint}"
    )


def _listing(body: Any, what: str) -> tuple[list[Any], str | None]:
    """Children and `after` of a reddit Listing; SourceError when the shape is wrong."""
    data = body.get("data") if isinstance(body, dict) else None
    children = data.get("children") if isinstance(data, dict) else None
    if not isinstance(children, list):
        raise SourceError(f"reddit answered {what} without a listing (no data.children)")
    assert isinstance(data, dict)
    after = data.get("after")
    return children, after if isinstance(after, str) and after else None


def _is_new(mention: Mention, state: dict[str, Any]) -> bool:
    assert mention.published_at is not None
    created = mention.published_at.timestamp()
    newest = float(state.get("newest", 0.0))
    if created != newest:
        return created > newest
    return mention.external_id not in state.get("ids", [])


def _advance(state: dict[str, Any] | None, mentions: list[Mention]) -> dict[str, Any] | None:
    """The target's next cursor: newest created_utc seen and the fullnames at that second."""
    if state is None and not mentions:
        return None
    newest = float(state["newest"]) if state else 0.0
    ids: list[str] = list(state.get("ids", [])) if state else []
    for mention in mentions:
        assert mention.published_at is not None
        created = mention.published_at.timestamp()
        if created > newest:
            newest, ids = created, [mention.external_id]
        elif created == newest and mention.external_id not in ids:
            ids.append(mention.external_id)
    return {"newest": newest, "ids": ids}


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

