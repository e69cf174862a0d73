"""Any JSON API: a mapping in config says where the items are and which field is which.

Selectors are JSONPath (RFC 9535, via python-jsonpath); the leading `$.` may be left out, so
`data.children[*].data` and `$.data.children[*].data` are the same. Field selectors are relative
to one item. Every selector is compiled when the config is checked, so a typo fails
`check-config` with the key's path instead of silently producing nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import quote, urljoin

import jsonpath
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from connectors.api import PlatformConnector, RateHeaders
from connectors.base import (
    AuthError,
    Cursor,
    FetchResult,
    SourceError,
    SourceOptions,
    map_items,
)
from connectors.textutil import fold_whitespace, html_to_text, parse_date
from monitor.configtypes import EnvSecret
from monitor.records import Engagement, Mention

log = logging.getLogger(__name__)

_NUMBER = re.compile(r"^\s*-?\d+(\.\d+)?\s*$")
EPOCH_MS_THRESHOLD = 100_000_000_000  # larger epoch values are milliseconds (year 5138 in s)
BOUNDARY_LIMIT = 200  # ids remembered at the cursor's exact time or id, to drop repeats
_CACHE: dict[str, jsonpath.JSONPath | jsonpath.CompoundJSONPath] = {}
# The common X-RateLimit-* / RateLimit-* headers; some APIs send the reset as a Unix time,
# others as seconds from now.
RATE_HEADERS = RateHeaders(
    remaining=("X-RateLimit-Remaining", "RateLimit-Remaining"),
    limit=("X-RateLimit-Limit", "RateLimit-Limit"),
    reset=("X-RateLimit-Reset", "RateLimit-Reset"),
    reset_format="epoch_or_seconds",
)


def compile_selector(selector: str) -> jsonpath.JSONPath | jsonpath.CompoundJSONPath:
    """Compile a JSONPath selector once; raise ValueError saying what is wrong and where."""
    compiled = _CACHE.get(selector)
    if compiled is not None:
        return compiled
    try:
        compiled = jsonpath.compile(selector)
    except jsonpath.JSONPathError as exc:
        reason = str(exc.args[0]) if exc.args else type(exc).__name__
        token = getattr(exc, "token", None)
        index = getattr(token, "index", -1)
        where = f" at character {index + 1}" if isinstance(index, int) and index >= 0 else ""
        raise ValueError(
            f"{selector!r} is not a valid JSONPath selector: {reason}{where} "
            "(examples: `id`, `data.title`, `items[*]`, `$.posts[?@.type == 'post']`)"
        ) from None
    _CACHE[selector] = compiled
    return compiled


def _valid_selector(value: str) -> str:
    compile_selector(value)
    return value


Selector = Annotated[str, Field(min_length=1), AfterValidator(_valid_selector)]


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HeaderSecret(EnvSecret):
    """A secret header or query value `{ env = "VAR", prefix = "Bearer " }`; prefix is public."""

    prefix: str = ""

    def __repr__(self) -> str:
        return f"HeaderSecret(env={self.env!r}, prefix={self.prefix!r})"

    __str__ = __repr__


ParamValue = HeaderSecret | str | int | float | bool


class FieldMap(_Table):
    """Where each Mention field is inside one item (JSONPath, relative to the item)."""

    id: Selector  # the platform's own id, stable across polls
    # One selector or several, joined with a space in order (e.g. ["title", "body"]).
    text: Annotated[list[Selector], BeforeValidator(_as_list), Field(min_length=1)]
    title: Selector | None = None
    url: Selector | None = None  # absolute, or relative to the API url
    author: Selector | None = None
    author_reach: Selector | None = None
    time: Selector | None = None
    lang: Selector | None = None
    parent_id: Selector | None = None
    likes: Selector | None = None
    shares: Selector | None = None
    comments: Selector | None = None
    views: Selector | None = None



TimeFormat = Literal["auto", "iso8601", "epoch_seconds", "epoch_millis"]


class CursorMap(_Table):
    """How the next poll asks only for new items.

    mode "response": a value read from the response (`select`), e.g. a newest-id or a
    "since" token; "max_id": the largest item id seen; "time": the newest item time seen,
    written in `format` (iso8601, epoch_seconds, epoch_millis, or a strftime pattern).
    """

    mode: Literal["response", "max_id", "time"]
    param: str = Field(min_length=1)  # query parameter that carries the value
    select: Selector | None = None  # mode "response": selector on the whole response
    format: str = "iso8601"  # mode "time" only

    @model_validator(mode="after")
    def _consistent(self) -> CursorMap:
        if self.mode == "response" and self.select is None:
            raise ValueError('mode "response" needs `select`: where the value is in the response')
        if self.mode != "response" and self.select is not None:
            raise ValueError(f'`select` is only used with mode "response", not {self.mode!r}')
        named = {"iso8601", "epoch_seconds", "epoch_millis"}
        if self.mode != "time" and self.format != "iso8601":
            raise ValueError(f'`format` is only used with mode "time", not {self.mode!r}')
        if self.format not in named and "%" not in self.format:
            raise ValueError(
                f"format {self.format!r}: use iso8601, epoch_seconds, epoch_millis or a strftime "
                "pattern such as %Y-%m-%d %H:%M:%S"
            )
        return self


class JsonApiOptions(SourceOptions):
    """Options of a `kind = "json"` source."""

    url: str = Field(pattern=r"^https?://")
    method: Literal["GET"] = "GET"
    params: dict[str, ParamValue] = {}  # query parameters; values may be { env = "VAR" }
    # e.g. headers = { Authorization = { env = "FORUM_TOKEN", prefix = "Bearer " } }
    headers: dict[str, HeaderSecret | str] = {}
    items: Selector  # where the list of items is, e.g. `data.children[*].data`
    fields: FieldMap
    time_format: TimeFormat = "auto"  # how item times are written
    html: bool = False  # the text fields hold HTML: strip tags
    url_template: str | None = None  # e.g. "https://forum.example.com/p/{id}" when no url field
    platform: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    cursor: CursorMap | None = None
    max_items: int = Field(default=500, ge=1, le=10_000)  # items read per poll

    @field_validator("url_template")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        if value is not None and "{id}" not in value:
            raise ValueError("url_template must contain {id}, e.g. https://example.com/p/{id}")
        return value

    @field_validator("headers")
    @classmethod
    def _header_names(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            if not re.fullmatch(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+", name):
                raise ValueError(f"{name!r} is not a valid HTTP header name")
        return value


def _first(selector: str | None, item: Any) -> Any:
    """The first non-null value `selector` finds in `item`, or None."""
    if selector is None or not isinstance(item, dict | list):
        return None
    for value in compile_selector(selector).findall(item):
        if value is not None:
            return value
    return None


def _scalar_text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | str):
        text = str(value).strip()
        return text or None
    return None


def _count(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and value >= 0:
        return int(value)
    if isinstance(value, str) and _NUMBER.match(value) and float(value) >= 0:
        return int(float(value))
    return None


def parse_time(value: Any, fmt: TimeFormat) -> datetime | None:
    """An item time as aware UTC: ISO 8601 / RFC 2822 text, or epoch seconds or milliseconds."""
    if value is None or isinstance(value, bool):
        return None
    number: float | None = None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str) and _NUMBER.match(value) and fmt != "iso8601":
        number = float(value)
    if number is not None:
        if fmt == "iso8601":
            return None
        millis = fmt == "epoch_millis" or (fmt == "auto" and abs(number) >= EPOCH_MS_THRESHOLD)
        try:
            return datetime.fromtimestamp(number / 1000 if millis else number, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str) and fmt in ("auto", "iso8601"):
        return parse_date(value)
    return None


def format_time(when: datetime, fmt: str) -> str:
    """The cursor time as the API wants it in its query parameter."""
    when = when.astimezone(UTC)
    if fmt == "epoch_seconds":
        return str(int(when.timestamp()))
    if fmt == "epoch_millis":
        return str(int(when.timestamp() * 1000))
    if fmt == "iso8601":
        text = when.isoformat(timespec="microseconds" if when.microsecond else "seconds")
        return text.replace("+00:00", "Z")
    return when.strftime(fmt)


def _id_key(value: str) -> tuple[int, int, str]:
    """Order ids numerically when they are numbers (so "10" > "9"), else as text."""
    return (1, int(value), "") if value.isdigit() else (0, 0, value)


def _lang(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    primary = value.replace("_", "-").split("-")[0].lower()
    return primary if len(primary) == 2 and primary.isalpha() else None


class JsonApiConnector(PlatformConnector[JsonApiOptions]):
    """Polls one JSON endpoint and maps its items to mentions with configured selectors."""

    kind: ClassVar[str] = "json"
    platform: ClassVar[str] = "json"
    default_interval: ClassVar[float] = 300.0
    Options: ClassVar[type[SourceOptions]] = JsonApiOptions
    api_name: ClassVar[str] = "JSON API"
    rate_headers: ClassVar[RateHeaders | None] = RATE_HEADERS

    @property
    def label(self) -> str:
        """Mention.platform: the configured platform, else the source's name (ids are per API)."""
        return self.opts.platform or self.name

    def _reveal(self, value: HeaderSecret) -> str:
        try:
            secret = value.reveal()
        except ValueError as exc:
            raise AuthError(f"JSON source {self.name}: {exc}; export it and restart") from None
        self.http.add_secrets([secret, value.prefix + secret])
        return value.prefix + secret

    def _request_parts(self) -> tuple[dict[str, str | int | float], dict[str, str]]:
        params: dict[str, str | int | float] = {}
        for key, value in self.opts.params.items():
            if isinstance(value, HeaderSecret):
                params[key] = self._reveal(value)
            elif isinstance(value, bool):
                params[key] = "true" if value else "false"
            else:
                params[key] = value
        headers = {
            key: self._reveal(value) if isinstance(value, HeaderSecret) else value
            for key, value in self.opts.headers.items()
        }
        headers.setdefault("Accept", "application/json")
        return params, headers

    async def fetch(self, cursor: Cursor) -> FetchResult:
        """GET the endpoint (conditionally), map its items, and advance the configured cursor."""
        position = cursor.position
        params, headers = self._request_parts()
        spec = self.opts.cursor
        if spec is not None and isinstance(position.get("value"), str):
            params[spec.param] = position["value"]
        resp = await self.http.get(
            self.opts.url,
            params=params,
            headers=headers,
            etag=cursor.etag,
            last_modified=cursor.last_modified,
        )
        budget = self.api.budget(resp)
        if resp.not_modified:
            return FetchResult(mentions=[], cursor=cursor, not_modified=True, budget=budget)
        self.api.raise_for_status(resp, "polling")
        body = self.api.json(resp, "polling")

        items = self._items(body)
        mentions, skipped = map_items(
            self.name, enumerate(items[: self.opts.max_items]), self._indexed_mention
        )
        if len(items) > self.opts.max_items:
            log.warning(
                "source %s: response had %d items; read the first %d (max_items)",
                self.name, len(items), self.opts.max_items,
            )
        mentions, next_position = self._advance(position, mentions, body)
        return FetchResult(
            mentions=mentions,
            cursor=Cursor(
                next_position,
                etag=resp.headers.get("ETag"),
                last_modified=resp.headers.get("Last-Modified"),
            ),
            budget=budget,
            skipped=skipped,
        )

    def _items(self, body: Any) -> list[Any]:
        if not isinstance(body, dict | list):
            raise SourceError(
                f"{self.opts.url} answered JSON that is not an object or array; check the url"
            )
        try:
            found = compile_selector(self.opts.items).findall(body)
        except jsonpath.JSONPathError as exc:
            raise SourceError(
                f"source {self.name}: the items selector {self.opts.items!r} failed on the "
                f"response of {self.opts.url}: {exc}; check `items`"
            ) from None
        if len(found) == 1 and isinstance(found[0], list):
            return list(found[0])  # `$.items` given where `$.items[*]` was meant
        if not found:
            log.debug("source %s: items selector %r matched nothing", self.name, self.opts.items)
        return list(found)

    def _indexed_mention(self, indexed: tuple[int, Any]) -> Mention | None:
        """The mention of one item; None (logged with the reason) when it cannot be one."""
        index, item = indexed
        mention, problem = self._mention(item)
        if mention is None:
            log.info("source %s: skipped item %d: %s", self.name, index, problem)
        return mention

    def _mention(self, item: Any) -> tuple[Mention | None, str]:
        fields = self.opts.fields
        if not isinstance(item, dict | list):
            return None, f"an item is {type(item).__name__}, not an object"
        external_id = _scalar_text(_first(fields.id, item))
        if external_id is None:
            return None, f"no id at {fields.id!r}"
        texts: list[str] = []
        for selector in fields.text:
            for value in compile_selector(selector).findall(item):
                if isinstance(value, str) and value.strip():
                    texts.append(html_to_text(value) if self.opts.html else value)
        text = fold_whitespace(" ".join(texts))
        if not text:
            shown = ", ".join(repr(s) for s in fields.text)
            return None, f"item {external_id}: no text at {shown}"
        published = None
        if fields.time is not None:
            raw_time = _first(fields.time, item)
            published = parse_time(raw_time, self.opts.time_format)
            if published is None:
                return None, (
                    f"item {external_id}: time {str(raw_time)[:40]!r} at {fields.time!r} is not "
                    f"a {self.opts.time_format} date"
                )
        title = _scalar_text(_first(fields.title, item))
        if title is not None:
            title = fold_whitespace(html_to_text(title) if self.opts.html else title) or None
        engagement = Engagement(
            likes=_count(_first(fields.likes, item)),
            shares=_count(_first(fields.shares, item)),
            comments=_count(_first(fields.comments, item)),
            views=_count(_first(fields.views, item)),
        )
        has_engagement = any(
            s is not None for s in (fields.likes, fields.shares, fields.comments, fields.views)
        )
        return Mention(
            platform=self.label,
            external_id=external_id,
            text=text,
            url=self._url(external_id, item),
            title=title,
            author=_scalar_text(_first(fields.author, item)),
            author_reach=_count(_first(fields.author_reach, item)),
            published_at=published,
            lang=_lang(_first(fields.lang, item)),
            parent_id=_scalar_text(_first(fields.parent_id, item)),
            engagement=engagement if has_engagement else None,
        ), ""

    def _url(self, external_id: str, item: Any) -> str | None:
        link = _scalar_text(_first(self.opts.fields.url, item))
        if link is not None:
            absolute = urljoin(self.opts.url, link)
            return absolute if absolute.startswith(("https://", "http://")) else None
        if self.opts.url_template is not None:
            return self.opts.url_template.replace("{id}", quote(external_id, safe=""))
        return None

    def _advance(
        self, position: Mapping[str, Any], mentions: list[Mention], body: Any
    ) -> tuple[list[Mention], dict[str, Any]]:
        """Drop items the cursor has already passed, and compute the next cursor position."""
        spec = self.opts.cursor
        if spec is None:
            return mentions, {}
        previous = position.get("value") if isinstance(position.get("value"), str) else None
        boundary = {b for b in position.get("boundary", []) if isinstance(b, str)}
        if spec.mode == "response":
            found = _scalar_text(_first(spec.select, body))
            value = found if found is not None else previous
            return mentions, {"value": value} if value is not None else {}
        if spec.mode == "max_id":
            floor = _id_key(previous) if previous is not None else None
            fresh = [m for m in mentions if floor is None or _id_key(m.external_id) > floor]
            ids = [m.external_id for m in fresh]
            if previous is not None:
                ids.append(previous)
            top = max(ids, key=_id_key, default=None)
            return fresh, {"value": top} if top is not None else {}
        # mode "time"
        since = parse_date(position.get("newest")) if isinstance(position.get("newest"), str) \
            else None
        fresh = [
            m for m in mentions
            if since is None or m.published_at is None or m.published_at > since
            or (m.published_at == since and m.external_id not in boundary)
        ]
        times = [m.published_at for m in fresh if m.published_at is not None]
        if not times:
            return fresh, dict(position)
        newest = max(times)
        if since is not None and newest < since:
            return fresh, dict(position)
        at_newest = [m.external_id for m in fresh if m.published_at == newest]
        if since is not None and newest == since:
            at_newest = [*boundary, *at_newest]
        return fresh, {
            "value": format_time(newest, spec.format),
            "newest": newest.isoformat(),
            "boundary": at_newest[-BOUNDARY_LIMIT:],
        }

