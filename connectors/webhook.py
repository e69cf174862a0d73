"""Push intake: other systems POST signed mentions to `/ingest/{source}` on the daemon.

A `kind = "webhook"` source is not polled (`push_only`); the daemon mounts `WebhookIntake`
on its HTTP server and every accepted item goes to the pipeline through `submit`.

Signing (Stripe-style, so replays are refused and any HMAC library can produce it)::

    X-Brand-Monitor-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}." + body)>

Several `v1=` values may be sent (for example while rotating the secret); one must match.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime
from typing import Annotated, Any, ClassVar

from aiohttp import web
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from connectors.base import Connector, Cursor, FetchResult, SourceOptions, encodable_mention
from connectors.textutil import fold_whitespace, to_utc
from monitor.clock import Clock, SystemClock
from monitor.configtypes import EnvSecret
from monitor.httpclient import NestingTooDeep, load_json
from monitor.records import Engagement, Mention

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Brand-Monitor-Signature"
REPLAY_WINDOW = 300  # seconds a signed request stays valid (either side of our clock)
DEFAULT_MAX_BODY = 1_000_000
ROUTE = "/ingest/{source}"

Submit = Callable[[str, list[Mention]], Awaitable[int]]


class WebhookOptions(SourceOptions):
    """Options of a `kind = "webhook"` source."""

    secret: EnvSecret  # shared with the sender; signs every request
    max_body_bytes: int = Field(default=DEFAULT_MAX_BODY, ge=1024, le=50_000_000)
    # Mention.platform for items that do not name their own.
    platform: str = Field(default="webhook", pattern=r"^[a-z0-9][a-z0-9_.-]{0,39}$")


def _id_text(value: Any) -> Any:
    """Ids may be strings or integers (not booleans or floats); kept as trimmed text."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        if not value.strip():
            raise ValueError("must not be empty")
        return value.strip()
    raise ValueError("must be a string or an integer")


IdText = Annotated[str, BeforeValidator(_id_text)]


class PushedEngagement(BaseModel):
    """Engagement counters of a pushed mention."""

    model_config = ConfigDict(extra="forbid")

    likes: int | None = Field(default=None, ge=0)
    shares: int | None = Field(default=None, ge=0)
    comments: int | None = Field(default=None, ge=0)
    views: int | None = Field(default=None, ge=0)


class PushedMention(BaseModel):
    """One mention in a push body; unknown keys are refused so typos do not lose data."""

    model_config = ConfigDict(extra="forbid")

    id: IdText = Field(max_length=512)  # stable: a re-post is recognised by it
    text: str = Field(max_length=100_000)
    url: str | None = Field(default=None, pattern=r"^https?://", max_length=4096)
    title: str | None = Field(default=None, max_length=1000)
    author: str | None = Field(default=None, max_length=300)
    author_reach: int | None = Field(default=None, ge=0)
    published_at: datetime | None = None  # ISO 8601 (UTC when no offset) or Unix seconds
    lang: str | None = Field(default=None, pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]+)*$")
    parent_id: IdText | None = Field(default=None, max_length=512)
    engagement: PushedEngagement | None = None
    platform: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_.-]{0,39}$")

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        if not fold_whitespace(value):
            raise ValueError("text is empty")
        return value

    def to_mention(self, source: str, default_platform: str) -> Mention:
        """The pipeline's record for this item."""
        engagement = None
        if self.engagement is not None:
            engagement = Engagement(**self.engagement.model_dump())
        lang = self.lang.replace("_", "-").split("-")[0].lower() if self.lang else None
        return Mention(
            platform=self.platform or default_platform,
            external_id=self.id,
            text=fold_whitespace(self.text),
            url=self.url,
            title=(fold_whitespace(self.title) or None) if self.title else None,
            author=self.author,
            author_reach=self.author_reach,
            published_at=to_utc(self.published_at) if self.published_at else None,
            lang=lang if lang and len(lang) == 2 else None,
            parent_id=self.parent_id,
            engagement=engagement,
            source=source,
        )


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The signature header value a sender puts on `body` (also used by tests and docs)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify(header: str | None, secret: str, body: bytes, now: float) -> str | None:
    """None when `header` is a valid, fresh signature of `body`; otherwise why not."""
    if not header:
        return f"missing {SIGNATURE_HEADER} header"
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            candidates.append(value.lower())
    if timestamp is None or not candidates:
        return f"malformed {SIGNATURE_HEADER} header (expected t=<unix>,v1=<hex>)"
    if abs(now - timestamp) > REPLAY_WINDOW:
        return (
            f"signature timestamp is more than {REPLAY_WINDOW} s from the server's clock "
            "(stale, replayed, or the sender's clock is wrong)"
        )
    expected = sign(secret, body, timestamp).partition(",v1=")[2]
    if not any(hmac.compare_digest(expected, c) for c in candidates):
        return "signature does not match the body (wrong secret, or the body was changed)"
    return None


def _problem(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _item_error(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"] if not str(p).startswith(("function-",)))
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown field"
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


class WebhookIntake:
    """Receives signed pushes at `POST /ingest/{source}` and hands valid mentions to `submit`."""

    def __init__(
        self,
        sources: Mapping[str, WebhookOptions],
        submit: Submit,
        *,
        clock: Clock | None = None,
    ) -> None:
        self._options = dict(sources)
        self._secrets: dict[str, str] = {}
        for name, options in self._options.items():
            try:
                self._secrets[name] = options.secret.reveal()
            except ValueError as exc:
                raise ValueError(
                    f"webhook source {name}: {exc}; export it before starting the daemon"
                ) from None
        self._submit = submit
        self._clock: Clock = clock or SystemClock()

    @classmethod
    def from_connectors(
        cls, connectors: Iterable[Connector], submit: Submit, *, clock: Clock | None = None
    ) -> WebhookIntake:
        """An intake for every webhook connector among `connectors`."""
        sources = {
            c.name: c.options for c in connectors
            if isinstance(c, WebhookConnector) and isinstance(c.options, WebhookOptions)
        }
        return cls(sources, submit, clock=clock)

    def routes(self) -> list[web.RouteDef]:
        """The route to add to the daemon's aiohttp application."""
        return [web.post(ROUTE, self.handle)]

    async def handle(self, request: web.Request) -> web.Response:
        """Check size, signature and JSON, then submit the valid items (202) or say why not."""
        name = request.match_info.get("source", "")
        options = self._options.get(name)
        if options is None:
            return _problem(404, "no webhook source with this name; check the URL")
        cap = options.max_body_bytes
        if request.content_length is not None and request.content_length > cap:
            return _problem(413, f"body is larger than this source's {cap}-byte limit")
        body = await self._read_capped(request, cap)
        if body is None:
            return _problem(413, f"body is larger than this source's {cap}-byte limit")

        problem = verify(
            request.headers.get(SIGNATURE_HEADER),
            self._secrets[name],
            body,
            self._clock.now().timestamp(),
        )
        if problem is not None:
            log.info("webhook %s: refused a request from %s: %s", name, request.remote, problem)
            return _problem(401, problem)

        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return _problem(400, "body is not UTF-8 text")
        try:
            # Bounded nesting (deep JSON would raise RecursionError), strings made encodable.
            payload = load_json(body)
        except NestingTooDeep as exc:
            return _problem(400, f"body is refused: {exc}; send mentions as flat objects")
        except ValueError as exc:
            return _problem(400, f"body is not valid JSON: {exc}")
        items = self._items(payload)
        if items is None:
            return _problem(
                400, 'expected one mention object or {"mentions": [mention, ...]}'
            )

        mentions: list[Mention] = []
        rejected: list[dict[str, Any]] = []
        for index, item in enumerate(items):
            try:
                pushed = PushedMention.model_validate(item)
            except ValidationError as exc:
                rejected.append({"index": index, "error": _item_error(exc)})
                continue
            mentions.append(encodable_mention(pushed.to_mention(name, options.platform)))

        new = 0
        if mentions:
            try:
                new = await self._submit(name, mentions)
            except Exception:  # the sender should retry; the daemon must keep serving
                log.exception("webhook %s: could not hand %d mentions on", name, len(mentions))
                return web.json_response(
                    {"error": "could not store the mentions; retry later"},
                    status=503,
                    headers={"Retry-After": "30"},
                )
        log.info(
            "webhook %s: %d accepted, %d new, %d rejected",
            name, len(mentions), new, len(rejected),
        )
        # 422 when nothing was usable, so a sender that only checks the status notices.
        status = 422 if rejected and not mentions else 202
        return web.json_response(
            {"accepted": len(mentions), "new": new, "rejected": rejected}, status=status
        )

    @staticmethod
    async def _read_capped(request: web.Request, cap: int) -> bytes | None:
        """The body, or None as soon as it passes `cap` (the rest is never read)."""
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.content.iter_chunked(65536):
            size += len(chunk)
            if size > cap:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    @staticmethod
    def _items(payload: Any) -> list[Any] | None:
        if isinstance(payload, dict) and "mentions" in payload:
            items = payload["mentions"]
            return items if isinstance(items, list) and len(payload) == 1 else None
        if isinstance(payload, dict):
            return [payload]
        return None


class WebhookConnector(Connector):
    """A push-only source: mentions arrive through `WebhookIntake`, never by polling."""

    kind: ClassVar[str] = "webhook"
    platform: ClassVar[str] = "webhook"
    Options: ClassVar[type[SourceOptions]] = WebhookOptions
    push_only: ClassVar[bool] = True

    async def fetch(self, cursor: Cursor) -> FetchResult:
        """Nothing to poll: pushes arrive at the intake. Returns no mentions."""
        return FetchResult(mentions=[], cursor=cursor)
