"""Make untrusted text (mention bodies, titles, author names) safe for each output format."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from urllib.parse import quote, urlsplit, urlunsplit

ELLIPSIS = "…"

# ESC-introduced sequences: CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), DCS/SOS/PM/APC
# strings (ESC P/X/^/_ ... ST), two-character escapes (ESC + one byte), and the 8-bit CSI/OSC
# forms (U+009B, U+009D); any other C1 control goes with the control characters below.
_TERMINAL_SEQUENCE = re.compile(
    r"""
    \x1b\[[0-?]*[ -/]*[@-~]?            # CSI
    | \x1b\][^\x07\x1b\n]*(?:\x07|\x1b\\)? # OSC, ended by BEL or ST (or cut off)
    | \x1b[PX^_][^\x1b\n]*(?:\x1b\\)?     # DCS, SOS, PM, APC strings
    | \x9b[0-?]*[ -/]*[@-~]?            # 8-bit CSI
    | \x9d[^\x07\x9c\n]*(?:\x07|\x9c)?  # 8-bit OSC
    | \x1b[ -~]?                         # other two-character escapes, or a lone ESC
    """,
    re.VERBOSE,
)
# C0 and C1 controls, DEL, and invisible format characters that reorder or hide text
# (bidi overrides and isolates, used in "trojan source" style spoofing).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f]")
_LINE_BREAKS = re.compile(r"[\r\n\x0b\x0c\x85\u2028\u2029]+")
_SPACES = re.compile(r"\s+")
# Words Slack turns into group notifications when a client sends them as plain text.
_BROADCAST_WORDS = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
_URL_UNSAFE = re.compile(r"[^A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]")


def strip_terminal(text: str, *, keep_newlines: bool = True) -> str:
    """Remove ANSI/terminal escape sequences and control characters (keeps tabs and newlines)."""
    text = _TERMINAL_SEQUENCE.sub("", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    if not keep_newlines:
        text = _LINE_BREAKS.sub(" ", text)
    return text


def one_line(text: str) -> str:
    """Untrusted text as a single clean line: no escapes, controls or line breaks; spaces folded."""
    text = strip_terminal(text, keep_newlines=False)
    return _SPACES.sub(" ", text).strip()


def header_text(text: str, limit: int = 200) -> str:
    """Text safe for an email header value: one line, no CR/LF or controls, truncated."""
    return truncate(one_line(text), limit)


def _is_continuation(char: str) -> bool:
    # Characters that attach to the previous one: combining marks, variation selectors,
    # zero-width joiners and emoji skin-tone modifiers. Cutting before them splits a glyph.
    if char in "\u200d\ufe0e\ufe0f" or "\U0001f3fb" <= char <= "\U0001f3ff":
        return True
    if "\U000e0020" <= char <= "\U000e007f":  # emoji tag sequences (flags of regions)
        return True
    return unicodedata.category(char) in ("Mn", "Me", "Mc")


def _is_regional_indicator(char: str) -> bool:
    return "\U0001f1e6" <= char <= "\U0001f1ff"


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit JavaScript-based limits (Slack's) count in."""
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def truncate(
    text: str,
    limit: int,
    *,
    ellipsis: str = ELLIPSIS,
    measure: Callable[[str], int] = len,
) -> str:
    """Cut `text` to at most `limit` (counted by `measure`) on a glyph boundary, with `ellipsis`."""
    if measure(text) <= limit:
        return text
    budget = limit - measure(ellipsis)
    if budget <= 0:
        return ellipsis[: max(limit, 0)]
    used = 0
    cut = 0
    for i, char in enumerate(text):
        used += measure(char)
        if used > budget:
            break
        cut = i + 1
    # Never end on half a glyph: back off to before the base character a continuation belongs
    # to, and never end on a zero-width joiner (it glues the next emoji to the previous one).
    while 0 < cut < len(text) and (_is_continuation(text[cut]) or text[cut - 1] == "\u200d"):
        cut -= 1
    # Flags are pairs of regional indicators; an odd run before the cut would split one.
    run = 0
    while run < cut and _is_regional_indicator(text[cut - 1 - run]):
        run += 1
    if run % 2 == 1 and cut < len(text) and _is_regional_indicator(text[cut]):
        cut -= 1
    # A lone surrogate (text decoded with surrogateescape) must not be separated from its pair.
    if 0 < cut and "\ud800" <= text[cut - 1] <= "\udbff":
        cut -= 1
    return text[:cut].rstrip() + ellipsis


def escape_slack(text: str) -> str:
    """Escape untrusted text for Slack mrkdwn so mentions, links and broadcasts arrive inert."""
    text = one_line(text)
    # Slack documents exactly these three escapes; with `<` and `>` escaped, `<!channel>`,
    # `<@U123>` and `<http://evil|click>` are shown literally instead of being parsed.
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # A word joiner after the @ keeps "@channel" readable but stops it notifying anyone.
    return _BROADCAST_WORDS.sub(lambda m: "@\u2060" + m.group(1), text)


def truncate_slack(text: str, limit: int) -> str:
    """Untrusted text escaped for Slack, cut to `limit` UTF-16 units without splitting an entity."""
    escaped = escape_slack(text)
    if utf16_len(escaped) <= limit:
        return escaped
    # Truncate the raw text first so an entity such as "&amp;" is never cut in half, then shrink
    # until the escaped form fits (escaping only grows the text).
    raw = one_line(text)
    size = limit
    while size > 0:
        escaped = escape_slack(truncate(raw, size, measure=utf16_len))
        if utf16_len(escaped) <= limit:
            return escaped
        size -= max(1, utf16_len(escaped) - limit)
    return ""


def safe_url(url: str | None) -> str | None:
    """An http(s) URL with unsafe characters percent-encoded, or None when it cannot be linked."""
    if not url:
        return None
    url = url.strip()
    if _CONTROL.search(url) or _LINE_BREAKS.search(url) or "\x1b" in url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    rebuilt = urlunsplit(
        (parts.scheme.lower(), parts.netloc, parts.path, parts.query, parts.fragment)
    )
    # `|`, `<`, `>`, quotes, spaces and non-ASCII are percent-encoded: they would end a Slack
    # link, an HTML attribute or a plain-text URL early. `%` stays so existing escapes survive.
    return _URL_UNSAFE.sub(lambda m: quote(m.group(0), safe=""), rebuilt)


def slack_link(url: str | None, label: str) -> str:
    """A Slack `<url|label>` link from untrusted parts, or the escaped label alone when unsafe."""
    target = safe_url(url)
    shown = truncate_slack(label, 200)
    if target is None:
        return shown
    # safe_url percent-encoded `|`, `<` and `>`; `&` must still be escaped inside mrkdwn.
    return f"<{target.replace('&', '&amp;')}|{shown}>"


def escape_html(text: str) -> str:
    """Untrusted text escaped for HTML element content or a quoted attribute."""
    return html.escape(strip_terminal(text), quote=True)


def html_link(url: str | None, label: str) -> str:
    """An `<a>` element for an http(s) URL, or the escaped label alone when the URL is unsafe."""
    target = safe_url(url)
    if target is None:
        return escape_html(label)
    return f'<a href="{html.escape(target, quote=True)}">{escape_html(label)}</a>'
