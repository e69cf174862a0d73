"""Hacker News: stories and comments from the Algolia HN Search API, newest first."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from pydantic import Field

from connectors.api import BaseUrl, Page, PlatformConnector, SearchQueries
from connectors.base import (
    Cursor,
    FetchResult,
    SourceError,
    SourceOptions,
    map_items,
)
from connectors.textutil import fold_whitespace, html_to_text
from monitor.records import Engagement, EngagementUpdate, Mention

log = logging.getLogger(__name__)

ITEM_URL = "https://news.ycombinator.com/item?id="
REFRESH_BATCH = 50  # story ids per refresh search; keeps the tags filter and URL short
AUTH_HINT = (
    "the API needs no credentials, so this is a block of this address or a wrong base_url: "
    "check base_url, then wait before retrying"
)

HnType = Literal["story", "comment", "poll", "show_hn", "ask_hn"]


class HackerNewsOptions(SourceOptions):
    """Options of a `kind = "hackernews"` source."""

    # Search queries (Algolia full-text: words match anywhere; "quotes" for phrases).
    search: SearchQueries = Field(min_length=1)
    # Item types to include (any of them).
    types: list[HnType] = Field(default=["story", "comment"], min_length=1)
    # Hits per page (the API allows up to 1000).
    hits_per_page: int = Field(default=100, ge=1, le=1000)
    # Pages read per query and poll when many items arrived since the last poll.
    max_pages: int = Field(default=3, ge=1, le=10)
    # Seconds of overlap between polls: Algolia indexes some items a little after they are
    # created, and without overlap those would fall behind the cursor and never be read.
    index_lag: int = Field(default=120, ge=0, le=3600)
    # The HN Search API root.
    base_url: BaseUrl = "https://hn.algolia.com/api/v1"


class HackerNewsConnector(PlatformConnector[HackerNewsOptions]):
    """Searches HN stories and comments by date; refreshes story points and comment counts."""

    kind: ClassVar[str] = "hackernews"
    platform: ClassVar[str] = "hackernews"
    default_interval: ClassVar[float] = 180.0
    Options: ClassVar[type[SourceOptions]] = HackerNewsOptions
    api_name: ClassVar[str] = "HN search"  # no rate-limit headers; a 429 may carry Retry-After
    supports_refresh: ClassVar[bool] = True

    def search_terms(self) -> list[str]:
        """The configured search queries."""
        return list(self.opts.search)

    async def fetch(self, cursor: Cursor) -> FetchResult:
        """Items created since each query's cursor (minus the index-lag overlap)."""
        old_states: dict[str, Any] = dict(cursor.position.get("queries", {}))
        new_states: dict[str, Any] = {}
        found: dict[str, Mention] = {}
        skipped = 0
        for query in self.opts.search:
            state = old_states.get(query)
            mentions, query_skipped = await self._search(query, state)
            skipped += query_skipped
            for mention in mentions:
                found.setdefault(mention.external_id, mention)
            next_state = self._advance(state, mentions)
            if next_state is not None:  # nothing seen yet: the next poll is a first poll again
                new_states[query] = next_state
        return FetchResult(
            mentions=list(found.values()),
            cursor=Cursor(position={"queries": new_states}),
            skipped=skipped,
        )

    async def _search(
        self, query: str, state: dict[str, Any] | None
    ) -> tuple[list[Mention], int]:
        types = self.opts.types
        params: dict[str, str] = {
            "query": query,
            "tags": types[0] if len(types) == 1 else f"({','.join(types)})",
            "hitsPerPage": str(self.opts.hits_per_page),
        }
        recent: set[str] = set()
        if state is not None:
            since = int(state["since"]) - self.opts.index_lag
            params["numericFilters"] = f"created_at_i>{since}"
            recent = set(state.get("recent", []))

        async def read_page(page: str | None) -> Page[Mention]:
            number = int(page or 0)
            body = await self._get_json(
                "/search_by_date", {**params, "page": str(number)}, f"searching {query!r}"
            )
            hits = body.get("hits") if isinstance(body, dict) else None
            if not isinstance(hits, list):
                raise SourceError(f"HN search answered {query!r} without a hits list")
            mapped, skipped = map_items(self.name, hits, self._mention)
            pages = body.get("nbPages")
            last_page = not hits or not isinstance(pages, int) or number + 1 >= pages
            return Page(
                [m for m in mapped if m.external_id not in recent],
                None if last_page else str(number + 1),
                skipped=skipped,
            )

        return await self.api.read_pages(
            read_page, max_pages=self.opts.max_pages, what=repr(query), newest_only=state is None
        )

    def _advance(
        self, state: dict[str, Any] | None, mentions: list[Mention]
    ) -> dict[str, Any] | None:
        """Next cursor: newest created_at_i seen, and the ids (with times) inside the overlap."""
        if state is None and not mentions:
            return None
        seen: dict[str, int] = dict(state.get("recent", {})) if state else {}
        for mention in mentions:
            assert mention.published_at is not None
            seen[mention.external_id] = int(mention.published_at.timestamp())
        since = max([int(state["since"])] if state else [], default=0)
        since = max([since, *seen.values()])
        horizon = since - self.opts.index_lag
        return {"since": since, "recent": {i: t for i, t in seen.items() if t > horizon}}

    async def refresh(self, refs: Sequence[str]) -> list[EngagementUpdate]:
        """Re-read points and comment counts of stories (HN does not publish comment scores)."""
        ids = [r for r in dict.fromkeys(refs) if r.isdigit()]
        updates: list[EngagementUpdate] = []
        for start in range(0, len(ids), REFRESH_BATCH):
            batch = ids[start : start + REFRESH_BATCH]
            params = {
                "tags": "story,(" + ",".join(f"story_{i}" for i in batch) + ")",
                "hitsPerPage": str(len(batch)),
            }
            body = await self._get_json("/search", params, "refreshing story counters")
            hits = body.get("hits") if isinstance(body, dict) else None
            if not isinstance(hits, list):
                raise SourceError("HN search answered a refresh without a hits list")
            updates += self.engagement_updates(map_items(self.name, hits, self._mention)[0])
        return updates

    def _mention(self, hit: Any) -> Mention | None:
        """Map one search hit (story, poll or comment); None (logged) when a field is missing."""
        if not isinstance(hit, dict):
            log.warning("%s: skipped an HN search hit that is not an object", self.name)
            return None
        object_id = hit.get("objectID")
        created = hit.get("created_at_i")
        tags = hit.get("_tags") if isinstance(hit.get("_tags"), list) else []
        assert isinstance(tags, list)
        is_comment = "comment" in tags or hit.get("comment_text") is not None
        body_field = "comment_text" if is_comment else "title"
        missing = [
            name
            for name, ok in (
                ("objectID", isinstance(object_id, str | int) and str(object_id).isdigit()),
                ("created_at_i", isinstance(created, int) and not isinstance(created, bool)),
                (body_field, isinstance(hit.get(body_field), str)),
            )
            if not ok
        ]
        if missing:
            log.warning(
                "%s: skipped HN item %s: missing or invalid %s",
                self.name, object_id if object_id is not None else "(no id)", ", ".join(missing),
            )
            return None
        assert isinstance(created, int)
        author = hit.get("author") if isinstance(hit.get("author"), str) else None
        if is_comment:
            text = html_to_text(str(hit["comment_text"]))
            title = None
            parent = hit.get("parent_id") or hit.get("story_id")
            # HN publishes no scores for comments, so there is nothing to count.
            engagement = None
        else:
            title = fold_whitespace(str(hit["title"]))
            story_text = hit.get("story_text")
            body = html_to_text(story_text) if isinstance(story_text, str) else ""
            text = f"{title} {body}".strip()
            parent = None
            engagement = Engagement(
                likes=_int(hit.get("points")), comments=_int(hit.get("num_comments"))
            )
        return Mention(
            platform=self.platform,
            external_id=str(object_id),
            text=text,
            url=f"{ITEM_URL}{object_id}",
            title=title,
            author=author,
            published_at=datetime.fromtimestamp(created, UTC),
            parent_id=str(parent) if isinstance(parent, int | str) and parent != "" else None,
            engagement=engagement,
        )

    async def _get_json(self, path: str, params: dict[str, str], doing: str) -> Any:
        response = await self.http.get(
            self.opts.base_url + path, params=params, headers={"Accept": "application/json"}
        )
        self.api.raise_for_status(response, doing, auth_hint=AUTH_HINT)
        return self.api.json(response, doing)


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
