"""Mastodon: hashtag timelines and (with an access token) status search, per instance."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from connectors.api import BaseUrl, Page, PlatformConnector, RateHeaders, SearchQueries
from connectors.base import (
    Cursor,
    FetchResult,
    RateBudget,
    SourceError,
    SourceOptions,
    map_items,
)
from connectors.textutil import fold_whitespace, html_to_text, parse_date
from monitor.clock import Clock
from monitor.configtypes import EnvSecret
from monitor.httpclient import HttpClient, HttpResponse
from monitor.records import Engagement, EngagementUpdate, Mention

log = logging.getLogger(__name__)

PAGE_LIMIT = 40  # the most statuses Mastodon returns per page
KNOWN_STATUSES_MAX = 20_000  # uri -> (instance, local id), so refresh knows where to ask
REFRESH_BATCH = 20  # GET /api/v1/statuses?id[]=... (Mastodon 4.3+) takes at most 20 ids
# Share of an instance's request allowance that refresh leaves untouched, so that counters
# never cost the next poll of the timelines.
REFRESH_RESERVE = 0.25
# Mastodon writes the reset as an ISO 8601 time.
RATE_HEADERS = RateHeaders(
    remaining=("X-RateLimit-Remaining",),
    limit=("X-RateLimit-Limit",),
    reset=("X-RateLimit-Reset",),
    reset_format="date",
)
_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?([\w-]+)"?')
_STATUS_PATH = re.compile(r"^/users/[^/]+/statuses/(\d+)$")


class MastodonInstance(BaseModel):
    """One Mastodon server to read, optionally with an app's access token for it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: BaseUrl
    # A token from Preferences > Development > New application (scope read:statuses).
    access_token: EnvSecret | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: Any) -> Any:
        return {"url": data} if isinstance(data, str) else data


class MastodonOptions(SourceOptions):
    """Options of a `kind = "mastodon"` source."""

    # Servers to read: "https://mastodon.social" or { url = "...", access_token = { env = "..." } }.
    instances: list[MastodonInstance] = Field(min_length=1)
    # Hashtags (without "#") whose public timelines are read on every instance.
    hashtags: list[str] = []
    # Full-text status searches; run only on instances with an access token.
    search: SearchQueries = []
    # Pages (of 40 statuses) read per timeline and poll.
    max_pages: int = Field(default=3, ge=1, le=10)

    @field_validator("hashtags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        tags = [v.strip().removeprefix("#") for v in value]
        for tag in tags:
            if not re.fullmatch(r"\w+", tag):
                raise ValueError(f"{tag!r} is not a hashtag (letters, digits and _ only)")
        return tags

    @model_validator(mode="after")
    def _consistent(self) -> MastodonOptions:
        if not self.hashtags and not self.search:
            raise ValueError("set `hashtags` or `search` (or both)")
        if self.search and not any(i.access_token for i in self.instances):
            raise ValueError(
                "`search` needs an instance with an access_token: Mastodon only searches "
                "statuses for logged-in apps"
            )
        return self


@dataclass(frozen=True, slots=True)
class _Target:
    instance: MastodonInstance
    kind: str  # "tag" or "search"
    term: str

    @property
    def key(self) -> str:
        return f"{self.instance.url}|{self.kind}:{self.term}"


class MastodonConnector(PlatformConnector[MastodonOptions]):
    """Reads hashtag timelines and status searches on one or more Mastodon instances."""

    kind: ClassVar[str] = "mastodon"
    platform: ClassVar[str] = "mastodon"
    default_interval: ClassVar[float] = 120.0
    Options: ClassVar[type[SourceOptions]] = MastodonOptions
    api_name: ClassVar[str] = "Mastodon"
    rate_headers: ClassVar[RateHeaders | None] = RATE_HEADERS
    supports_refresh: ClassVar[bool] = True

    def __init__(
        self, name: str, options: SourceOptions, http: HttpClient, *, clock: Clock | None = None
    ) -> None:
        super().__init__(name, options, http, clock=clock)
        self._budgets: dict[str, RateBudget] = {}  # per instance url
        self._known: dict[str, tuple[str, str]] = {}  # status uri -> (instance url, local id)
        self._one_by_one: set[str] = set()  # instances older than 4.3: no batch status lookup

    def search_terms(self) -> list[str]:
        """Hashtags (with "#") and search queries."""
        return [f"#{t}" for t in self.opts.hashtags] + list(self.opts.search)

    def _targets(self) -> list[_Target]:
        targets = []
        for instance in self.opts.instances:
            targets += [_Target(instance, "tag", t) for t in self.opts.hashtags]
            if instance.access_token is not None:
                targets += [_Target(instance, "search", q) for q in self.opts.search]
        return targets

    async def fetch(self, cursor: Cursor) -> FetchResult:
        """New statuses of every hashtag timeline and search since each one's `min_id`."""
        old_states: dict[str, Any] = dict(cursor.position.get("timelines", {}))
        new_states: dict[str, Any] = {}
        found: dict[str, Mention] = {}
        skipped = 0
        for target in self._targets():
            min_id = old_states.get(target.key)
            if target.kind == "tag":
                mentions, newest, target_skipped = await self._read_tag(target, min_id)
            else:
                mentions, newest, target_skipped = await self._read_search(target, min_id)
            skipped += target_skipped
            for mention in mentions:
                found.setdefault(mention.external_id, mention)
            if newest is not None:
                new_states[target.key] = newest
        return FetchResult(
            mentions=list(found.values()),
            cursor=Cursor(position={"timelines": new_states}),
            budget=self._tightest_budget(),
            skipped=skipped,
        )

    async def _read_tag(
        self, target: _Target, min_id: str | None
    ) -> tuple[list[Mention], str | None, int]:
        """Hashtag timeline pages from `min_id` upwards, following Link rel="prev"."""
        path = f"/api/v1/timelines/tag/{quote(target.term)}"
        doing = f"reading #{target.term}"
        newest = min_id

        async def read_page(prev_min_id: str | None) -> Page[Mention]:
            nonlocal newest
            newest = _max_id(newest, prev_min_id)
            params = {"limit": str(PAGE_LIMIT)}
            if newest:
                params["min_id"] = newest
            response = await self._get(target.instance, path, params, doing)
            statuses = _status_list(self.api.json(response, doing))
            mentions, page_newest, skipped, reached = self._map_page(
                target.instance, statuses, min_id
            )
            newest = _max_id(newest, page_newest)
            more = len(statuses) == PAGE_LIMIT
            return Page(mentions, _link_param(response, "prev", "min_id") if more else None,
                        reached_known=reached, skipped=skipped)

        mentions, skipped = await self.api.read_pages(
            read_page, max_pages=self.opts.max_pages, what=f"#{target.term}",
            newest_only=min_id is None,
            # Pages run oldest first from the cursor: stopping only delays the rest, unlogged.
            on_bound=lambda: None,
        )
        return mentions, newest, skipped

    async def _read_search(
        self, target: _Target, min_id: str | None
    ) -> tuple[list[Mention], str | None, int]:
        """Status search results newer than `min_id`, paged by offset."""
        doing = f"searching {target.term!r}"
        newest = min_id

        async def read_page(offset: str | None) -> Page[Mention]:
            nonlocal newest
            params = {
                "q": target.term, "type": "statuses", "limit": str(PAGE_LIMIT), "resolve": "false"
            }
            if min_id:
                params["min_id"] = min_id
            if offset:
                params["offset"] = offset
            response = await self._get(target.instance, "/api/v2/search", params, doing)
            body = self.api.json(response, doing)
            statuses = body.get("statuses") if isinstance(body, dict) else None
            if not isinstance(statuses, list):
                raise SourceError(
                    f"{target.instance.url} answered {doing} without a statuses list"
                )
            mentions, page_newest, skipped, reached = self._map_page(
                target.instance, statuses, min_id
            )
            newest = _max_id(newest, page_newest)
            more = len(statuses) == PAGE_LIMIT
            return Page(mentions, str(int(offset or 0) + PAGE_LIMIT) if more else None,
                        reached_known=reached, skipped=skipped)

        mentions, skipped = await self.api.read_pages(
            read_page, max_pages=self.opts.max_pages, what=doing, newest_only=min_id is None
        )
        return mentions, newest, skipped

    def _map_page(
        self, instance: MastodonInstance, statuses: list[Any], min_id: str | None
    ) -> tuple[list[Mention], str | None, int, bool]:
        """Mentions newer than `min_id`, the newest id, the skipped count, and if older ids came."""
        newest: str | None = None
        reached = False
        unseen: list[Any] = []
        for status in statuses:
            local_id = status.get("id") if isinstance(status, dict) else None
            if isinstance(local_id, str) and local_id:
                newest = _max_id(newest, local_id)
                if min_id is not None and _id_key(local_id) <= _id_key(min_id):
                    reached = True  # e.g. a search that ignores min_id and ranks by relevance
                    continue
            unseen.append(status)
        mentions, skipped = map_items(self.name, unseen, partial(self._mention, instance))
        return mentions, newest, skipped, reached

    async def refresh(self, refs: Sequence[str]) -> list[EngagementUpdate]:
        """Re-read boosts, favourites and replies of statuses by uri, 20 per request.

        Each instance spends at most what is left of its allowance above `REFRESH_RESERVE`;
        the statuses not reached are left for the next refresh.
        """
        by_url = {i.url: i for i in self.opts.instances}
        wanted: dict[str, list[tuple[str, str]]] = {}  # instance url -> [(uri, local id)]
        for uri in dict.fromkeys(refs):
            where = self._known.get(uri) or self._local_status(uri)
            if where is not None and where[0] in by_url:
                wanted.setdefault(where[0], []).append((uri, where[1]))
        updates: list[EngagementUpdate] = []
        for url, statuses in wanted.items():
            updates += await self._refresh_on(by_url[url], statuses, first=not updates)
        return updates

    async def _refresh_on(
        self, instance: MastodonInstance, statuses: list[tuple[str, str]], *, first: bool
    ) -> list[EngagementUpdate]:
        """Counters of `statuses` (uri, local id) on one instance, within its budget."""
        updates: list[EngagementUpdate] = []
        done = 0
        while done < len(statuses):
            if not self._refresh_allowed(instance, raise_now=first and not updates):
                log.info(
                    "%s: %s: refresh keeps the rest of the request allowance for polling; "
                    "%d of %d statuses refreshed this time",
                    self.name, instance.url, done, len(statuses),
                )
                break
            batch_size = 1 if instance.url in self._one_by_one else REFRESH_BATCH
            batch = statuses[done : done + batch_size]
            found = await self._read_statuses(instance, [local for _, local in batch])
            done += len(batch)
            observed = self.clock.now()
            for uri, local_id in batch:
                status = found.get(local_id)
                if status is None:
                    continue  # deleted or no longer visible: nothing to count
                refreshed = map_items(self.name, [status], partial(self._mention, instance))[0]
                if refreshed and refreshed[0].engagement is not None:
                    updates.append(
                        EngagementUpdate(
                            platform=self.platform,
                            external_id=uri,
                            engagement=refreshed[0].engagement,
                            observed_at=observed,
                        )
                    )
        return updates

    async def _read_statuses(
        self, instance: MastodonInstance, local_ids: list[str]
    ) -> dict[str, Any]:
        """Statuses by local id: one batch request, or one request each on servers before 4.3."""
        doing = "refreshing counters"
        if instance.url not in self._one_by_one:
            query = urlencode([("id[]", local_id) for local_id in local_ids])
            response = await self._get(
                instance, f"/api/v1/statuses?{query}", {}, doing, check=False, allow_missing=True
            )
            if response.status not in (404, 405):
                listed = _status_list(self.api.json(response, doing))
                return {str(s["id"]): s for s in listed if isinstance(s, dict) and "id" in s}
            # Before Mastodon 4.3 there is no batch lookup: one request per status from now on.
            log.info(
                "%s: %s has no batch status lookup (Mastodon before 4.3); refreshing one "
                "status per request", self.name, instance.url,
            )
            self._one_by_one.add(instance.url)
        found: dict[str, Any] = {}
        for local_id in local_ids:
            response = await self._get(
                instance, f"/api/v1/statuses/{local_id}", {}, doing, check=False,
                allow_missing=True,
            )
            if response.status not in (404, 410):
                found[local_id] = self.api.json(response, doing)
        return found

    def _refresh_allowed(self, instance: MastodonInstance, *, raise_now: bool) -> bool:
        """Whether refresh may send one more request to `instance`."""
        if raise_now:  # RateLimited when none is left
            self.api.check_allowance(
                self._budgets.get(instance.url), "refreshing counters", who=instance.url
            )
        budget = self._budgets.get(instance.url)
        if budget is None or budget.remaining is None:
            return True
        if budget.resets_at is not None and budget.resets_at <= self.clock.now():
            return True  # the window has reset since we last heard
        if budget.limit is None:
            return budget.remaining >= 1
        return budget.remaining > budget.limit * REFRESH_RESERVE

    def _local_status(self, uri: str) -> tuple[str, str] | None:
        """(instance url, id) of a status whose uri lives on a configured instance."""
        parts = urlsplit(uri)
        match = _STATUS_PATH.match(parts.path)
        if not match:
            return None
        for instance in self.opts.instances:
            if urlsplit(instance.url).netloc == parts.netloc:
                return instance.url, match.group(1)
        return None

    def _mention(self, instance: MastodonInstance, status: Any) -> Mention | None:
        """Map one Status entity; None (logged) when a required field is missing."""
        if isinstance(status, dict) and isinstance(status.get("reblog"), dict):
            status = status["reblog"]  # a boost: the boosted status is the mention
        if not isinstance(status, dict):
            log.warning("%s: skipped a Mastodon status that is not an object", self.name)
            return None
        account = status.get("account") if isinstance(status.get("account"), dict) else {}
        assert isinstance(account, dict)
        created_at = status.get("created_at")
        published = parse_date(created_at) if isinstance(created_at, str) else None
        missing = [
            name
            for name, ok in (
                ("id", isinstance(status.get("id"), str) and bool(status.get("id"))),
                ("uri", isinstance(status.get("uri"), str) and bool(status.get("uri"))),
                ("created_at", published is not None),
                ("content", isinstance(status.get("content"), str)),
                ("account.acct", isinstance(account.get("acct"), str)),
            )
            if not ok
        ]
        if missing:
            log.warning(
                "%s: skipped Mastodon status %s from %s: missing or invalid %s",
                self.name, status.get("id") or "(no id)", instance.url, ", ".join(missing),
            )
            return None
        uri, local_id = str(status["uri"]), str(status["id"])
        self._remember(uri, instance.url, local_id)
        acct = str(account["acct"])
        if "@" not in acct:  # local accounts come without their server
            acct = f"{acct}@{urlsplit(instance.url).netloc}"
        spoiler = status.get("spoiler_text") if isinstance(status.get("spoiler_text"), str) else ""
        url = status.get("url") if isinstance(status.get("url"), str) else None
        language = status.get("language")
        parent = status.get("in_reply_to_id")
        reblogs = _int(status.get("reblogs_count"))
        return Mention(
            platform=self.platform,
            external_id=uri,
            text=fold_whitespace(f"{spoiler} {html_to_text(str(status['content']))}"),
            url=url or uri,
            author=acct,
            author_reach=_int(account.get("followers_count")),
            published_at=published,
            lang=language.split("-")[0].lower() if isinstance(language, str) and language else None,
            # Mastodon gives the parent's id on the instance that served the status.
            parent_id=str(parent) if isinstance(parent, str | int) and parent != "" else None,
            engagement=Engagement(
                likes=_int(status.get("favourites_count")),
                shares=reblogs,
                comments=_int(status.get("replies_count")),
            ),
        )

    def _remember(self, uri: str, instance_url: str, local_id: str) -> None:
        self._known.pop(uri, None)
        self._known[uri] = (instance_url, local_id)
        while len(self._known) > KNOWN_STATUSES_MAX:
            del self._known[next(iter(self._known))]  # oldest first: dicts keep insertion order

    # -- HTTP ---------------------------------------------------------------------------------

    async def _get(
        self,
        instance: MastodonInstance,
        path: str,
        params: dict[str, str],
        doing: str,
        *,
        check: bool = True,
        allow_missing: bool = False,
    ) -> HttpResponse:
        if check:
            self.api.check_allowance(self._budgets.get(instance.url), doing, who=instance.url)
        headers = {"Accept": "application/json"}
        if instance.access_token is not None:
            headers["Authorization"] = f"Bearer {self._token(instance)}"
        response = await self.http.get(instance.url + path, params=params, headers=headers)
        budget = self.api.budget(response)
        if budget is not None:
            self._budgets[instance.url] = budget
        if allow_missing and response.status in (404, 410):
            return response
        self._raise_for_status(instance, response, doing)
        return response

    def _token(self, instance: MastodonInstance) -> str:
        assert instance.access_token is not None
        return self.api.reveal(
            instance.access_token, f"export it or remove the access_token of {instance.url}"
        )

    def _tightest_budget(self) -> RateBudget | None:
        budgets = [b for b in self._budgets.values() if b.remaining is not None]
        return min(budgets, key=lambda b: b.remaining or 0, default=None)

    def _raise_for_status(
        self, instance: MastodonInstance, response: HttpResponse, doing: str
    ) -> None:
        hint = (
            "check the access token (Preferences > Development) and its read scope"
            if instance.access_token is not None
            else "this server shows its hashtag feeds only to logged-in users (Mastodon "
            "servers may now require login for them): add an access_token for it "
            "(Preferences > Development, scope read:statuses), or choose another instance"
        )
        self.api.raise_for_status(
            response, doing, auth_hint=hint, reason=_mastodon_error(response), who=instance.url
        )


def _status_list(body: Any) -> list[Any]:
    if not isinstance(body, list):
        raise SourceError("Mastodon answered a timeline request with something other than a list")
    return body


def _mastodon_error(response: HttpResponse) -> str | None:
    """The `error` text of a Mastodon error body ({"error": "The access token is invalid"})."""
    try:
        body = response.json()
    except SourceError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error[:120] if isinstance(error, str) else None


def _link_param(response: HttpResponse, rel: str, param: str) -> str | None:
    """A query parameter of the Link header's URL with relation `rel` (pagination)."""
    for url, relation in _LINK.findall(response.headers.get("Link", "")):
        if relation == rel:
            values = parse_qs(urlsplit(url).query).get(param)
            return values[0] if values else None
    return None


def _id_key(status_id: str) -> tuple[int, str]:
    """Sort key for Mastodon ids: numeric strings of growing length (Snowflake-like)."""
    return len(status_id), status_id


def _max_id(a: str | None, b: str | None) -> str | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b, key=_id_key)


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

