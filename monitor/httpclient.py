"""The one shared HTTP client: timeouts, a size cap, conditional GET, redirects, a user agent.

It reads for connectors, so its errors are the connector contract's (connectors/base.py); what
alert channels need of HTTP (user agent, Retry-After, safe URLs) is in monitor/outbound.py,
which imports no connector code.
"""

from __future__ import annotations

import asyncio
import json
import re
from array import array
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from itertools import accumulate
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from connectors.base import AuthError, RateLimited, SourceError
from connectors.textutil import encodable_json
from monitor.outbound import DEFAULT_RETRY_AFTER, USER_AGENT, parse_retry_after, redact_url

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# The only request headers that follow a redirect to another origin: every other one may carry
# a credential the source was configured with (Api-Key, Cookie, X-Auth-Token, ...).
CROSS_ORIGIN_HEADERS = frozenset({"accept", "accept-language", "user-agent"})
# Deeper JSON is refused before parsing: the C parser recurses once per level and raises
# RecursionError near 1000, and no API we read nests past a few dozen.
MAX_JSON_DEPTH = 100
# Bytes that matter for nesting: brackets, and quotes (brackets inside strings do not count).
_NOT_STRUCTURE = bytes(range(256)).translate(None, b'[]{}"')
_NESTING_STEPS = bytes.maketrans(b"[]{}", b"\x01\xff\x01\xff")  # +1 / -1 as signed bytes
# What json.loads turns into a surrogate: a "\uD800"-"\uDFFF" escape, or the same code point
# written as (invalid) UTF-8 bytes, which it decodes with "surrogatepass".
_SURROGATE_SOURCE = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")


class NestingTooDeep(ValueError):
    """A JSON document nests arrays and objects deeper than `MAX_JSON_DEPTH`."""


def _nesting_steps(body: bytes) -> bytes:
    """UTF-8 JSON reduced to its brackets outside strings, as +1 / -1 signed bytes."""
    # Escaped backslashes first, then escaped quotes: what is left of '"' delimits strings.
    structure = body.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _NOT_STRUCTURE)
    if b'"' in structure:
        structure = b"".join(structure.split(b'"')[::2])
    return structure.translate(_NESTING_STEPS)


def _deepest(steps: bytes) -> int:
    # C-speed, about 30-50 ns per bracket: well under what json.loads spends on them.
    return max(0, max(accumulate(array("b", steps)), default=0))


def json_depth(body: bytes) -> int:
    """How deeply arrays and objects nest in UTF-8 JSON (brackets inside strings ignored)."""
    return _deepest(_nesting_steps(body))


def load_json(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Decode a JSON body with bounded nesting; every string comes back encodable as UTF-8.

    Raises ValueError (NestingTooDeep, JSONDecodeError or UnicodeDecodeError) saying why not.
    """
    encoding = json.detect_encoding(body)
    if encoding not in ("utf-8", "utf-8-sig"):
        # UTF-16/32 bodies: scan (and parse) the same text as UTF-8.
        body = body.decode(encoding, "surrogatepass").encode("utf-8", "surrogatepass")
    steps = _nesting_steps(body)
    # A plain run of openers is the usual hostile shape, and finding one needs no counting.
    if b"\x01" * (max_depth + 1) in steps or _deepest(steps) > max_depth:
        raise NestingTooDeep(f"it nests arrays and objects deeper than {max_depth} levels")
    data = json.loads(body)
    if _SURROGATE_SOURCE.search(body):
        data = encodable_json(data)  # a lone "\ud83d" would fail the database write later
    return data


@dataclass(frozen=True, slots=True)
class HttpLimits:
    """Client-wide limits (filled from the `[http]` config table)."""

    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    total_timeout: float = 60.0
    max_body_bytes: int = 5_000_000
    max_redirects: int = 5
    user_agent: str = USER_AGENT


@dataclass(slots=True)
class HttpResponse:
    """A fully read response body (never more than the size cap)."""

    status: int
    url: str  # final URL after redirects
    headers: CIMultiDictProxy[str]
    body: bytes
    request_url: str
    # Masks registered secrets (a server may echo our token back in an error body).
    scrub: Callable[[str], str] = field(default=lambda text: text, repr=False)

    @property
    def not_modified(self) -> bool:
        """True for 304 Not Modified."""
        return self.status == 304

    @property
    def content_type(self) -> str:
        """Lower-cased media type without parameters."""
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()

    @property
    def charset(self) -> str | None:
        """The charset parameter of Content-Type, if any."""
        match = re.search(r"charset=\"?([\w.:-]+)", self.headers.get("Content-Type", ""), re.I)
        return match.group(1) if match else None

    def raise_for_status(self, now: datetime | None = None) -> None:
        """Map HTTP errors to the connector error types."""
        where = redact_url(self.request_url)
        if self.status < 400 or self.status == 304:
            return
        if self.status == 429:
            retry = parse_retry_after(self.headers.get("Retry-After"), now)
            raise RateLimited(
                f"rate limited by {where} (HTTP 429)",
                DEFAULT_RETRY_AFTER if retry is None else retry,
            )
        if self.status in (401, 403):
            raise AuthError(f"{where} refused our credentials (HTTP {self.status})")
        if self.status == 503 and self.headers.get("Retry-After"):
            retry = parse_retry_after(self.headers.get("Retry-After"), now)
            raise RateLimited(f"{where} is unavailable (HTTP 503)", retry or DEFAULT_RETRY_AFTER)
        snippet = self.body[:200].decode("utf-8", "replace").replace("\n", " ").strip()
        raise SourceError(self.scrub(f"HTTP {self.status} from {where}: {snippet}"))

    def json(self) -> Any:
        """Decode the body as JSON, raising SourceError with the reason when it is not."""
        where = redact_url(self.request_url)
        try:
            return load_json(self.body)
        except NestingTooDeep as exc:
            raise SourceError(
                f"refused the JSON response from {where}: {exc}; no real API answer is that deep, "
                "so the server is broken or hostile: check the url"
            ) from None
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise SourceError(f"malformed JSON from {where}: {exc}") from None


class HttpClient:
    """Shared aiohttp session with the project's limits; connectors call `get`/`post`."""

    def __init__(self, limits: HttpLimits | None = None) -> None:
        self.limits = limits or HttpLimits()
        self._session: aiohttp.ClientSession | None = None
        self._secrets: set[str] = set()

    def add_secrets(self, values: Iterable[str]) -> None:
        """Register credential values that must never appear in an error message."""
        self._secrets.update(v for v in values if v and len(v) >= 4)

    def scrub(self, text: str) -> str:
        """Mask registered secrets in `text`."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            timeout = aiohttp.ClientTimeout(
                total=self.limits.total_timeout,
                connect=self.limits.connect_timeout,
                sock_read=self.limits.read_timeout,
            )
            self._session = aiohttp.ClientSession(
                timeout=timeout,
                headers={"User-Agent": self.limits.user_agent, "Accept-Encoding": "gzip, deflate"},
            )
        return self._session

    async def get(
        self,
        url: str,
        *,
        params: Mapping[str, str | int | float] | None = None,
        headers: Mapping[str, str] | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        max_bytes: int | None = None,
    ) -> HttpResponse:
        """GET `url`, conditional when validators are given; SourceError on transport errors."""
        conditional = dict(headers or {})
        if etag:
            conditional["If-None-Match"] = etag
        if last_modified:
            conditional["If-Modified-Since"] = last_modified
        return await self.request(
            "GET", url, params=params, headers=conditional, max_bytes=max_bytes
        )

    async def post(
        self,
        url: str,
        *,
        json_body: Any = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: aiohttp.BasicAuth | None = None,
        max_bytes: int | None = None,
    ) -> HttpResponse:
        """POST JSON or a form to `url`."""
        return await self.request(
            "POST", url, json_body=json_body, data=data, headers=headers, auth=auth,
            max_bytes=max_bytes,
        )

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str | int | float] | None = None,
        headers: Mapping[str, str] | None = None,
        json_body: Any = None,
        data: Mapping[str, str] | None = None,
        auth: aiohttp.BasicAuth | None = None,
        max_bytes: int | None = None,
    ) -> HttpResponse:
        """Send one request and read at most `max_bytes` of (decompressed) body.

        Redirects are followed here rather than by aiohttp, so that a hop to another origin
        carries none of the caller's headers except `CROSS_ORIGIN_HEADERS` (aiohttp itself drops
        only Authorization and Cookie, not an Api-Key or a token header).
        """
        cap = max_bytes or self.limits.max_body_bytes
        session = self._get_session()
        shown = redact_url(url)
        target: str | URL = url
        sent = dict(headers or {})
        redirects = 0
        try:
            # One deadline for the whole chain; the session timeout applies to each hop.
            async with asyncio.timeout(self.limits.total_timeout):
                while True:
                    async with session.request(
                        method,
                        target,
                        params=params if redirects == 0 else None,
                        headers=sent,
                        json=json_body,
                        data=data,
                        auth=auth,
                        allow_redirects=False,
                    ) as resp:
                        location = resp.headers.get("Location")
                        if resp.status not in REDIRECT_STATUSES or not location:
                            return await self._read(resp, cap, shown)
                        here, status = resp.url, resp.status
                    redirects += 1
                    if redirects > self.limits.max_redirects:
                        raise SourceError(
                            f"{shown} redirected more than {self.limits.max_redirects} times; "
                            "use the final address in the config"
                        )
                    target = _redirect_target(here, location, shown)
                    if (status == 303 and method != "HEAD") or (
                        status in (301, 302) and method == "POST"
                    ):
                        method, json_body, data = "GET", None, None
                    if target.origin() != here.origin():
                        if json_body is not None or data is not None:
                            raise SourceError(
                                f"{shown} redirected a {method} request to another origin "
                                f"({redact_url(str(target))}); its body was not sent again "
                                "because it may hold credentials: use the final address instead"
                            )
                        sent = {k: v for k, v in sent.items() if k.lower() in CROSS_ORIGIN_HEADERS}
                        auth = None
        except SourceError as exc:  # a configured URL may carry a credential redact_url misses
            raise SourceError(self.scrub(str(exc))) from None
        except TimeoutError:
            raise SourceError(self.scrub(f"timed out talking to {shown}")) from None
        except aiohttp.ClientResponseError as exc:
            raise SourceError(self.scrub(f"bad response from {shown}: {exc.message}")) from None
        except aiohttp.ClientError as exc:
            reason = str(exc) or type(exc).__name__
            raise SourceError(self.scrub(f"cannot fetch {shown}: {reason}")) from None

    async def _read(self, resp: aiohttp.ClientResponse, cap: int, shown: str) -> HttpResponse:
        """Read the final response's body, refusing it as soon as it passes `cap` bytes."""
        length = resp.content_length
        if length is not None and length > cap:
            raise SourceError(f"response from {shown} is {length} bytes, over the {cap}-byte cap")
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_chunked(65536):
            size += len(chunk)
            if size > cap:
                raise SourceError(f"response from {shown} exceeded the {cap}-byte cap")
            chunks.append(chunk)
        return HttpResponse(
            status=resp.status,
            url=str(resp.url),
            headers=resp.headers,
            body=b"".join(chunks),
            request_url=str(resp.request_info.url),
            scrub=self.scrub,
        )

    async def close(self) -> None:
        """Close the session; safe to call twice."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None


def _redirect_target(here: URL, location: str, shown: str) -> URL:
    """The absolute URL a Location header points to; SourceError unless it is http(s)."""
    try:
        target = here.join(URL(location))
    except ValueError:
        target = None
    if target is None or target.scheme not in ("http", "https") or not target.host:
        raise SourceError(
            f"{shown} redirected to {redact_url(location)[:200]!r}, which is not an http(s) "
            "address; use the final address in the config"
        )
    return target
