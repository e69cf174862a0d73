"""Turning fetched markup into clean text: charsets, HTML to text, whitespace, dates in UTC."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any

import charset_normalizer
from charset_normalizer.md import mess_ratio
from charset_normalizer.utils import is_multi_byte_encoding

# Elements whose content a reader never sees.
_HIDDEN_ELEMENTS = frozenset({"script", "style", "template"})
# Elements that separate words: without a space, "<p>recall</p><p>now</p>" reads "recallnow".
_BREAKING_ELEMENTS = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption",
        "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main",
        "nav", "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul",
    }
)
# Invisible characters that split words ("Ac\u00adme") or reorder what a terminal shows.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u200b\u2060\ufeff\u202a-\u202e\u2066-\u2069]"
)
_WHITESPACE = re.compile(r"\s+")
# Surrogate code points: valid in a Python str (JSON "\ud83d" makes one) but not encodable as
# UTF-8, so a single one fails the database write of a whole batch.
_SURROGATE = re.compile("[\ud800-\udfff]")


def encodable(text: str) -> str:
    """`text` with surrogate pairs joined and lone surrogates replaced by U+FFFD."""
    if not _SURROGATE.search(text):
        return text
    # Through UTF-16: a high+low pair becomes its real character, a lone half becomes U+FFFD.
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def encodable_json(value: Any) -> Any:
    """A decoded JSON value with every string (keys too) made `encodable`; depth is bounded."""
    if isinstance(value, str):
        return encodable(value)
    if isinstance(value, list):
        return [encodable_json(item) for item in value]
    if isinstance(value, dict):
        return {encodable(str(k)): encodable_json(v) for k, v in value.items()}
    return value


def fold_whitespace(text: str) -> str:
    """Collapse runs of whitespace to one space, drop invisible characters, trim the ends."""
    return _WHITESPACE.sub(" ", _INVISIBLE.sub("", encodable(text))).strip()


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN_ELEMENTS:
            self._hidden_depth += 1
        elif tag in _BREAKING_ELEMENTS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN_ELEMENTS:
            self._hidden_depth = max(0, self._hidden_depth - 1)
        elif tag in _BREAKING_ELEMENTS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._hidden_depth:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment: tags stripped, entities decoded, whitespace folded."""
    if "<" not in html and "&" not in html:
        return fold_whitespace(html)
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    return fold_whitespace("".join(extractor.parts))


def to_utc(moment: datetime) -> datetime:
    """The same instant as an aware UTC datetime; a naive value is taken to be UTC already."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_date(value: str | None) -> datetime | None:
    """Parse an RFC 822/2822 or ISO 8601 date into aware UTC; None when it is not a date."""
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        return to_utc(parsedate_to_datetime(value))
    except (TypeError, ValueError, IndexError):
        pass
    try:
        return to_utc(datetime.fromisoformat(value))
    except ValueError:
        return None


# --- bytes to text ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class DecodedText:
    """A document decoded to text, with the encoding used and why it was chosen."""

    text: str
    encoding: str  # Python codec name
    reason: str  # "byte order mark", "HTTP charset", "XML declaration", "detected", ...
    damaged: int = 0  # byte sequences that could not be decoded and became U+FFFD


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_XML_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']\s*([A-Za-z0-9._:-]+)""")
_CHARSET_PARAM = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)
# Labels that in practice mean a larger code page (as browsers treat them, per WHATWG Encoding):
# feeds declared ISO-8859-1 routinely contain windows-1252 curly quotes, Shift_JIS feeds
# contain NEC/IBM extensions, and so on.
_SUPERSETS = {
    "ascii": "cp1252",
    "iso8859-1": "cp1252",
    "iso8859-9": "cp1254",
    "tis-620": "cp874",
    "shift_jis": "cp932",
    "euc_kr": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "big5": "big5hkscs",
}
# Codecs that are not character sets a document can honestly be in, or are unsafe (UTF-7).
_REFUSED_CODECS = frozenset(
    {"utf-7", "idna", "punycode", "raw-unicode-escape", "unicode-escape", "undefined", "mbcs",
     "oem", "charmap", "palmos"}
)
# windows-1252 letters that are rare outside Icelandic but common when Turkish or Baltic text
# is misread as windows-1252 (ş -> þ, ğ -> ð).
_UNLIKELY_CP1252 = re.compile("[ðþÐÞ]")


def charset_of(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type header value (quotes and spaces tolerated)."""
    match = _CHARSET_PARAM.search(content_type or "")
    return match.group(1) if match else None


def _codec(label: str | None) -> str | None:
    """The Python codec to use for a charset label found in ASCII-compatible bytes."""
    if not label:
        return None
    try:
        info = codecs.lookup(label)
    except LookupError:
        return None
    name = info.name
    if name in _REFUSED_CODECS or not getattr(info, "_is_text_encoding", True):
        return None
    # A declaration we could read as ASCII cannot truthfully say UTF-16/32.
    if name.startswith(("utf-16", "utf-32")):
        return None
    return _SUPERSETS.get(name, name)


def _wide_unicode(head: bytes) -> str | None:
    """UTF-16/32 without a byte order mark, recognised by where the zero bytes of '<' fall."""
    if len(head) < 4:
        return None
    if head[:3] == b"\0\0\0" and head[3]:
        return "utf-32-be"
    if head[0] and head[1:4] == b"\0\0\0":
        return "utf-32-le"
    if head[0] == 0 and head[1] and head[2] == 0:
        return "utf-16-be"
    if head[0] and head[1] == 0 and head[3] == 0:
        return "utf-16-le"
    return None


def _strict(body: bytes, encoding: str) -> str | None:
    try:
        return body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _mostly_intact(text: str, damaged: int) -> bool:
    """More characters beyond ASCII decoded cleanly than failed: the right codec, some bad bytes."""
    decoded_non_ascii = len(text) - len(text.encode("ascii", "ignore")) - damaged
    return decoded_non_ascii >= damaged


def _keeps_markup(body: bytes, text: str) -> bool:
    """A multi-byte guess that swallows '<' or '>' into characters has broken the XML."""
    return text.count("<") == body.count(b"<") and text.count(">") == body.count(b">")


def _detect(body: bytes) -> str | None:
    best = next(
        (match for match in charset_normalizer.from_bytes(body) if _keeps_markup(body, str(match))),
        None,
    )
    if best is not None and is_multi_byte_encoding(best.encoding):
        return best.encoding
    # Single-byte Latin text fits several code pages about equally well (cp1250, cp1257, ...),
    # and the detector often picks an exotic one. Like browsers, prefer windows-1252 when it
    # reads about as cleanly as the best guess.
    western = _strict(body, "cp1252")
    if (
        western is not None
        and not _UNLIKELY_CP1252.search(western)
        and mess_ratio(western) <= (best.chaos if best is not None else 1.0) + 0.02
    ):
        return "cp1252"
    return best.encoding if best is not None else None


def decode_xml(body: bytes, http_charset: str | None = None) -> DecodedText:
    """Decode an XML document's bytes, honouring BOM, HTTP and XML charsets when they fit.

    Order: a byte order mark; UTF-16/32 recognised by zero bytes; a body that is valid UTF-8
    and not plain ASCII is UTF-8 whatever the labels say (legacy text is practically never valid
    UTF-8); otherwise the HTTP charset, then the XML declaration, when they decode cleanly;
    then a declared charset (or UTF-8, XML's default) with a few damaged bytes replaced;
    then charset detection; finally UTF-8 with replacement characters.
    """
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            text = body[len(bom):].decode(encoding, "replace")
            return DecodedText(text, encoding, "byte order mark", text.count("\ufffd"))
    wide = _wide_unicode(body[:4])
    if wide:
        text = body.decode(wide, "replace")
        return DecodedText(text, wide, "zero-byte pattern", text.count("\ufffd"))

    declared = _XML_DECLARED.match(body[:1024])
    candidates: list[tuple[str, str]] = []
    for label, reason in (
        (http_charset, "HTTP charset"),
        (declared.group(1).decode("ascii") if declared else None, "XML declaration"),
    ):
        codec = _codec(label)
        if codec and codec not in (c for c, _ in candidates):
            candidates.append((codec, reason))

    utf8 = _strict(body, "utf-8")
    if utf8 is not None and not body.isascii():
        return DecodedText(utf8, "utf-8", "valid UTF-8")
    for codec, reason in candidates:
        # For an ASCII body this still matters: ISO-2022-JP is all 7-bit escape sequences.
        strict = _strict(body, codec)
        if strict is not None:
            return DecodedText(strict, codec, reason)
    if utf8 is not None:
        return DecodedText(utf8, "utf-8", "ASCII")

    tolerant = candidates + ([] if "utf-8" in (c for c, _ in candidates) else [("utf-8", "")])
    for codec, reason in tolerant:
        text = body.decode(codec, "replace")
        damaged = text.count("\ufffd")
        if _mostly_intact(text, damaged):
            return DecodedText(text, codec, reason or "UTF-8 (XML default)", damaged)
    detected = _detect(body)
    if detected is not None:
        text = body.decode(detected, "replace")
        return DecodedText(text, detected, "detected", text.count("\ufffd"))
    text = body.decode("utf-8", "replace")
    return DecodedText(text, "utf-8", "fallback", text.count("\ufffd"))
