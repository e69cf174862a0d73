"""RSS 0.9x/1.0/2.0 and Atom 1.0 feeds, including Google Alerts and Google News searches."""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit
from xml.etree.ElementTree import ParseError
from xml.sax import SAXParseException

import feedparser
from defusedxml import EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser
from pydantic import Field, field_validator

from connectors.base import (
    Connector,
    Cursor,
    FetchResult,
    SourceError,
    SourceOptions,
    map_items,
)
from connectors.textutil import charset_of, decode_xml, fold_whitespace, html_to_text, to_utc
from monitor.clock import Clock
from monitor.httpclient import HttpClient
from monitor.outbound import redact_url
from monitor.records import Mention

logger = logging.getLogger(__name__)

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1"
)
SEEN_LIMIT = 500  # entry fingerprints remembered in the cursor
_XML_DECLARATION = re.compile(r"^<\?xml\s[^>]*>")
# Characters XML 1.0 forbids; one stray control byte would push feedparser to its lenient parser.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_GOOGLE_HOST = re.compile(r"^(www\.)?google\.[a-z]{2,3}(\.[a-z]{2})?$")
_GOOGLE_NEWS_HOST = re.compile(r"^news\.google\.[a-z]{2,3}(\.[a-z]{2})?$")
_HTML_START = re.compile(r"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html[\s>])", re.I | re.S)
# Bounds checked before feedparser runs (in a thread the poll timeout cannot stop): it spends
# about 40 us and some hundreds of bytes per element, so a few MB of <a><a><a>... cost a
# minute of CPU and hundreds of MB. Real feeds nest a few levels (XHTML content a few dozen)
# and hold a few thousand elements.
MAX_XML_DEPTH = 100
MAX_XML_TAGS = 200_000
# Markup, scanned linearly: every alternative matches (to the end of the text at worst), so the
# regex never retries from later positions. Inside a tag '<' cannot occur, which bounds it.
_XML_MARKUP = re.compile(
    r"<!\[CDATA\[.*?(?:\]\]>|\Z)"  # character data: tags written inside are text
    r"|<!--.*?(?:-->|\Z)"
    r"|<[?!][^<>]*>?"  # declaration or processing instruction
    r"|<(/?)([^\s/<>!?]+)(?:[^<>\"']|\"[^<\"]*\"|'[^<']*')*>?",  # start, end or empty tag
    re.S,
)
# Raw HTML in ill-formed feeds must not count as nesting: elements that never have an end tag
# ("<br>"), and those whose end tag HTML lets a writer leave out ("<p>one<p>two"), which the
# next one of the same name closes.
_VOID_ELEMENTS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "meta", "param",
     "track", "wbr"}
)
_IMPLIED_END = frozenset({"dd", "dt", "li", "option", "p", "td", "th", "tr"})
# Numeric character references feedparser's lenient parser cannot take: a surrogate (it raises
# UnicodeEncodeError) or past U+10FFFF (ValueError); one such entity failed the whole feed.
# Only references with enough digits to reach U+D800 are looked at.
_REF = r"&#(?:[xX]0*([0-9a-fA-F]{4,})|0*([0-9]{5,}));"
_RISKY_CHARREFS = re.compile(f"{_REF}(?:{_REF})?")


class RssOptions(SourceOptions):
    """Options of an `rss` source: the feed address and how many new entries to take per poll."""

    url: str
    max_items: int = Field(default=200, ge=1, le=5000)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("url must be an http:// or https:// address of an RSS or Atom feed")
        return value.strip()


@dataclass(slots=True)
class ParsedFeed:
    """What one feed document yielded."""

    mentions: list[Mention]
    version: str  # feedparser's name for the format: rss20, rss10, atom10, ...
    encoding: str  # the character encoding the body was read in
    skipped: int = 0  # entries without any title or text
    problem: str | None = None  # why the document is ill-formed, when entries were still read


def unwrap_google_redirect(url: str) -> str:
    """The real address behind a Google redirect link.

    Google Alerts use `google.com/url?...&url=<real>`; legacy Google News feeds used
    `news.google.com/news/url?...&url=<real>`.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    alerts = parts.path == "/url" and _GOOGLE_HOST.match(host)
    legacy_news = parts.path == "/news/url" and _GOOGLE_NEWS_HOST.match(host)
    if not (alerts or legacy_news):
        return url
    query = parse_qs(parts.query)
    for key in ("url", "q"):
        target = query.get(key, [""])[0]
        if urlsplit(target).scheme in ("http", "https"):
            return target
    return url


def is_google_news_link(url: str) -> bool:
    """Whether an entry's link is a Google News article or redirect link."""
    return bool(_GOOGLE_NEWS_HOST.match(urlsplit(url).hostname or ""))


class _RootReached(Exception):
    """The prolog is over: no entity declaration can follow."""


class _StopAtRoot:
    def start(self, tag: str, attrib: dict[str, str]) -> None:
        raise _RootReached


def _refuse_entity_declarations(data: bytes, shown: str) -> None:
    """Raise SourceError when the DOCTYPE declares entities (billion laughs, external files)."""
    parser = DefusedXMLParser(
        target=_StopAtRoot(), forbid_dtd=False, forbid_entities=True, forbid_external=True
    )
    try:
        parser.feed(data)
        return
    except _RootReached:
        return
    except (EntitiesForbidden, ExternalReferenceForbidden):
        pass
    except ParseError:
        # Not well-formed before the root element, so the lenient parser will read it: look for
        # declarations in the prolog by eye instead.
        root = re.search(rb"<[A-Za-z_]", data)
        if b"<!ENTITY" not in data[: root.start() if root else len(data)]:
            return
    raise SourceError(
        f"the feed at {shown} declares XML entities in its DOCTYPE; brand-monitor refuses to "
        "expand them because entity expansion can exhaust memory or read local files. If this "
        "is a genuine feed, ask its publisher to remove the <!ENTITY> declarations."
    )


def _code_point(hex_digits: str | None, decimal_digits: str | None) -> int:
    digits, base = (hex_digits, 16) if hex_digits is not None else (decimal_digits, 10)
    assert digits is not None
    return int(digits, base) if len(digits) <= 8 else 0x110000  # long ones are out of range


def _charref(code: int, original: str) -> str:
    return "&#xFFFD;" if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF else original


def _repair_charref(match: re.Match[str]) -> str:
    head, _, tail = match.group(0).partition(";")
    first_ref, second_ref = head + ";", tail  # tail is empty or the second reference
    first = _code_point(match.group(1), match.group(2))
    if not second_ref:
        return _charref(first, first_ref)
    second = _code_point(match.group(3), match.group(4))
    if 0xD800 <= first <= 0xDBFF and 0xDC00 <= second <= 0xDFFF:
        # A UTF-16 pair written as two references: the character it spells.
        return f"&#x{0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00):X};"
    return _charref(first, first_ref) + _charref(second, second_ref)


def repair_charrefs(text: str) -> str:
    """`text` with references to surrogates or beyond U+10FFFF turned into U+FFFD."""
    return _RISKY_CHARREFS.sub(_repair_charref, text) if "&#" in text else text


def check_nesting(data: str, shown: str) -> None:
    """Raise SourceError when the document nests or holds more tags than feedparser can afford."""
    open_elements: list[str] = []
    for tags, match in enumerate(_XML_MARKUP.finditer(data), start=1):
        if tags > MAX_XML_TAGS:
            raise SourceError(
                f"the feed at {shown} has more than {MAX_XML_TAGS} tags; brand-monitor does not "
                "parse it, because it would cost minutes of CPU (no real feed is that large): "
                "check the url"
            )
        name = match.group(2)
        if name is None:
            continue  # CDATA, comment, declaration
        name = name.lower()
        closes = match.group(1) or name in _IMPLIED_END
        if closes and name in open_elements:
            # An end tag closes its element and any left open inside it, as parsers recover.
            del open_elements[len(open_elements) - 1 - open_elements[::-1].index(name):]
        if not match.group(1) and not match.group().endswith("/>") and name not in _VOID_ELEMENTS:
            open_elements.append(name)
            if len(open_elements) > MAX_XML_DEPTH:
                raise SourceError(
                    f"the feed at {shown} nests elements deeper than {MAX_XML_DEPTH} levels; "
                    "brand-monitor does not parse it, because such a document costs minutes of "
                    "CPU and much memory (no real feed is that deep): check the url"
                )


def _utc(parsed: time.struct_time | None) -> datetime | None:
    if not parsed:
        return None
    try:
        return to_utc(datetime(*parsed[:6]))
    except (TypeError, ValueError, OverflowError):
        return None


def _language(entry: Mapping[str, Any], feed_language: str | None) -> str | None:
    for detail in ("title_detail", "summary_detail"):
        language = (entry.get(detail) or {}).get("language")
        if language:
            break
    else:
        language = feed_language
    primary = (language or "").split("-")[0].split("_")[0].strip().lower()
    return primary if len(primary) == 2 and primary.isalpha() else None


def _body_html(entry: Mapping[str, Any]) -> str:
    """The fullest body the entry has: the longest content block, else the summary."""
    bodies = [str(block.get("value") or "") for block in entry.get("content") or []]
    bodies.append(str(entry.get("summary") or ""))
    return max(bodies, key=len)


def _entry_mention(entry: Mapping[str, Any], feed_language: str | None) -> Mention | None:
    title = html_to_text(str(entry.get("title") or ""))
    raw_link = str(entry.get("link") or "").strip()
    google_news = is_google_news_link(raw_link)
    # Google News titles end in " - Publisher", and the publisher is also in <source>.
    publisher = fold_whitespace(str((entry.get("source") or {}).get("title") or ""))
    if google_news and not publisher and " - " in title:
        publisher = title.rsplit(" - ", 1)[1].strip()  # legacy feeds had no <source>
    if publisher and title.endswith(" - " + publisher):
        title = title[: -len(publisher) - 3].rstrip()
    # A Google News description is the item's headline, or for a story cluster a list of other
    # publishers' headlines: a brand named only there is not this article's mention.
    body = "" if google_news else html_to_text(_body_html(entry))
    if title and (body == title or body.startswith(title + " ")):
        body = body[len(title):].strip()  # feeds that repeat the headline as the body
    if body == publisher:
        body = ""
    if not title and not body:
        return None
    link = unwrap_google_redirect(raw_link) or None
    text = "\n".join(part for part in (title, body) if part)
    external_id = str(entry.get("id") or "").strip() or link
    if not external_id:
        external_id = "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
    author = html_to_text(str(entry.get("author") or "")) or publisher or None
    published = (
        _utc(entry.get("published_parsed"))
        or _utc(entry.get("updated_parsed"))
        or _utc(entry.get("created_parsed"))
    )
    return Mention(
        platform="rss",
        external_id=external_id,
        text=text,
        url=link,
        title=title or None,
        author=author,
        published_at=published,
        lang=_language(entry, feed_language),
    )


def _describe(error: object) -> str:
    if isinstance(error, SAXParseException):
        # Columns on line 1 shift with the declaration we rewrite; line numbers do not.
        return f"{error.getMessage()} at line {error.getLineNumber()}"
    return str(error) or type(error).__name__


def parse_feed(
    body: bytes, headers: Mapping[str, str], url: str, source: str | None = None
) -> ParsedFeed:
    """Parse one RSS/Atom document (blocking: run it in a thread); SourceError if unusable.

    `source` names the configured source in log lines about skipped entries (default: the url).
    """
    shown = redact_url(url)
    lowered = {key.lower(): value for key, value in headers.items()}
    media_type = lowered.get("content-type", "").split(";")[0].strip().lower() or "no type"
    if not body.strip():
        raise SourceError(f"{shown} returned an empty body ({media_type}) instead of a feed")
    decoded = decode_xml(body, charset_of(lowered.get("content-type")))
    text = _XML_ILLEGAL.sub("", decoded.text).lstrip("\ufeff \t\r\n")
    if text[:1] in ("{", "["):
        raise SourceError(
            f"{shown} returned JSON ({media_type}), not an RSS or Atom feed; check the url"
        )
    text = repair_charrefs(text)
    # feedparser gets UTF-8 and is told so: the charset decision above already applied the
    # HTTP and XML declarations, and feedparser alone would misread undeclared legacy bytes.
    # No newline after the declaration, so line numbers in parser errors match the original.
    data = '<?xml version="1.0" encoding="utf-8"?>' + _XML_DECLARATION.sub("", text, count=1)
    raw = data.encode("utf-8")
    _refuse_entity_declarations(raw, shown)
    check_nesting(data, shown)
    feed_headers = {**lowered, "content-type": "application/xml; charset=utf-8"}
    feed_headers.setdefault("content-location", shown)
    try:
        result = feedparser.parse(io.BytesIO(raw), response_headers=feed_headers)
    except Exception as exc:  # feedparser's lenient parser raises on odd input; not our crash
        raise SourceError(
            f"cannot read a feed from {shown}: the feed parser failed "
            f"({type(exc).__name__}: {str(exc)[:200]}); check that the url points at an RSS or "
            "Atom feed, or tell its publisher"
        ) from None
    version = str(result.get("version") or "")
    problem = _describe(result.get("bozo_exception")) if result.get("bozo") else None
    feed_language = (result.get("feed") or {}).get("language")
    mentions, skipped = map_items(
        source or shown, result.entries, lambda entry: _entry_mention(entry, feed_language)
    )
    if not mentions and (problem is not None or not version):
        if media_type in ("text/html", "application/xhtml+xml") or _HTML_START.match(text):
            raise SourceError(
                f"{shown} returned an HTML page ({media_type}), not an RSS or Atom feed; the url "
                "is probably a web page: use the address of its RSS or Atom feed instead"
            )
        reason = problem or "no RSS or Atom elements in it"
        raise SourceError(
            f"cannot read a feed from {shown} ({media_type}, read as {decoded.encoding}): "
            f"{reason}; check that the url points at an RSS or Atom feed"
        )
    return ParsedFeed(mentions, version, decoded.encoding, skipped, problem)


def _fingerprint(external_id: str) -> str:
    return hashlib.blake2b(
        external_id.encode("utf-8", "surrogatepass"), digest_size=8
    ).hexdigest()


class RssConnector(Connector):
    """Polls one RSS or Atom feed with conditional GET and returns entries not seen before."""

    kind: ClassVar[str] = "rss"
    platform: ClassVar[str] = "rss"
    default_interval: ClassVar[float] = 300.0
    Options: ClassVar[type[SourceOptions]] = RssOptions

    def __init__(
        self, name: str, options: SourceOptions, http: HttpClient, *, clock: Clock | None = None
    ) -> None:
        if not isinstance(options, RssOptions):
            options = RssOptions.model_validate(options.model_dump())
        super().__init__(name, options, http, clock=clock)
        self.feed_options = options

    async def fetch(self, cursor: Cursor) -> FetchResult:
        """GET the feed (conditionally), parse it off the event loop, return unseen entries."""
        response = await self.http.get(
            self.feed_options.url,
            headers={"Accept": ACCEPT},
            etag=cursor.etag,
            last_modified=cursor.last_modified,
        )
        if response.not_modified:
            return FetchResult(mentions=[], cursor=cursor, not_modified=True)
        response.raise_for_status()
        parsed = await asyncio.to_thread(
            parse_feed, response.body, response.headers, response.url, self.name
        )
        if parsed.problem:
            logger.info(
                "feed of source %s is not well-formed (%s); kept the %d entries that parsed",
                self.name, parsed.problem, len(parsed.mentions),
            )
        previous = cursor.position.get("seen")
        mentions, seen, deferred = self._unseen(
            parsed.mentions, previous if isinstance(previous, list) else None
        )
        # With entries deferred by max_items, the next poll must not get a 304 for this version.
        validators = not deferred
        return FetchResult(
            mentions=mentions,
            cursor=Cursor(
                position={"seen": seen},
                etag=response.headers.get("ETag") if validators else None,
                last_modified=response.headers.get("Last-Modified") if validators else None,
            ),
            skipped=parsed.skipped,
        )

    def _unseen(
        self, mentions: list[Mention], previous: list[Any] | None
    ) -> tuple[list[Mention], list[str], int]:
        """New mentions (at most max_items), fingerprints to remember, and how many wait."""
        remembered = [fp for fp in previous or [] if isinstance(fp, str)]
        known = set(remembered)
        in_feed: dict[str, None] = {}  # ordered set
        fresh: list[Mention] = []
        deferred = 0
        for mention in mentions:
            fingerprint = _fingerprint(mention.external_id)
            if fingerprint in in_feed:
                continue  # the same entry twice in one document
            if fingerprint not in known:
                if len(fresh) >= self.feed_options.max_items:
                    deferred += 1  # left for the next poll
                    continue
                fresh.append(mention)
            in_feed[fingerprint] = None
        # Entries still in the feed matter most; those that left it are forgotten first.
        seen = [fp for fp in remembered if fp not in in_feed] + list(in_feed)
        return fresh, seen[-max(SEEN_LIMIT, len(in_feed)):], deferred
