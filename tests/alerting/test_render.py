"""Rendering an alert in every format, and keeping hostile mention text inert in each."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import pytest

from monitor.alerting.render import (
    SLACK_HEADER_TEXT,
    SLACK_MAX_BLOCKS,
    SLACK_SECTION_TEXT,
    email_subject,
    growth_words,
    render_html,
    render_slack,
    render_terminal,
    render_text,
    sparkline,
)
from monitor.alerting.sanitize import (
    escape_slack,
    header_text,
    safe_url,
    slack_link,
    strip_terminal,
    truncate,
    truncate_slack,
    utf16_len,
)
from monitor.records import RiskFactor
from tests.alerting.factory import T0, hostile_alert, make_alert, make_incident, make_mention

SLACK_ACTIVE = ("<!channel>", "<!here>", "<@U123>", "<@U999>", "<http://evil|click>")


def slack_texts(blocks: list[dict[str, Any]]) -> list[str]:
    """Every text string inside Block Kit blocks."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return found


# -- content -----------------------------------------------------------------------------------


def test_text_rendering_answers_what_why_evidence_and_next_step() -> None:
    text = render_text(make_alert())
    first = text.splitlines()[0]
    assert first == "HIGH · Acme · viral claim · health/safety — New incident #42"
    assert "Claim: Acme cola made people sick at the Riverside festival" in text
    # Factors strongest first, in numbers and words.
    why = [line.strip() for line in text.splitlines() if line.startswith("  - ")]
    assert why == [
        "- spread 0.82: 31 authors on 3 platforms in 52 min",
        "- harm 0.74: health/safety claim, confidence 0.91",
        "- velocity 0.65: shares doubling every 18 min",
    ]
    assert "Why (risk 0.87):" in text
    assert "Spread: 57 mentions by 31 authors on reddit, x, youtube" in text
    assert "Growth: ▁▁▂▃▅█ 3 → 41 per 10 min (peak 41), 14:00–14:50 UTC" in text
    assert "Projection: on this curve, 10k shares by 15:40 UTC" in text
    assert "1. reddit · u/parent1 · 12.3k followers · 1.2k likes · 340 shares · 55 comments" in text
    assert "https://www.reddit.com/r/food/comments/3/acme/" in text
    assert text.rstrip().endswith("Next: brand-monitor incidents ack 42")


def test_at_most_five_mentions_are_shown() -> None:
    alert = make_alert(top_mentions=[make_mention(n) for n in range(1, 9)])
    text = render_text(alert)
    assert "  5. reddit" in text and "  6. " not in text
    slack = render_slack(alert)
    assert sum("u/parent" in t for t in slack_texts(slack.blocks)) == 5


def test_resolved_alert_has_no_ack_step() -> None:
    alert = make_alert(reason="resolved", incident=make_incident(status="resolved"))
    assert "incidents ack" not in render_text(alert)
    assert "Resolved #42" in render_text(alert)
    assert email_subject(alert).startswith("[resolved] [HIGH] Acme:")
    assert render_slack(alert).blocks[0]["text"]["text"].startswith("✅")


def test_missing_optional_parts_are_left_out_not_faked() -> None:
    alert = make_alert(
        curve=[],
        top_mentions=[make_mention(1, engagement=None, author_reach=None, url=None)],
        incident=make_incident(projection=None, factors=[], category="none"),
    )
    text = render_text(alert)
    assert "Growth" not in text and "Projection" not in text and "Why" not in text
    assert text.splitlines()[0] == "HIGH · Acme · viral claim — New incident #42"
    assert "1. reddit · u/parent1\n" in text
    html = render_html(alert)
    assert "<a " not in html


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], ""),
        ([5, 5, 5], "▄▄▄"),
        ([0, 0], "▁▁"),
        ([0, 1, 2, 4, 8], "▁▂▃▅█"),
        ([8, 0], "█▁"),
    ],
)
def test_sparkline(values: list[int], expected: str) -> None:
    assert sparkline(values) == expected


def test_long_curve_is_summed_into_the_sparkline_width_keeping_the_newest_peak() -> None:
    values = [1] * 95 + [50]
    line = sparkline(values, width=24)
    assert len(line) == 24
    assert line[-1] == "█" and set(line[:-1]) == {"▁"}


def test_growth_words_span_days_with_dates() -> None:
    curve = [(T0 + timedelta(hours=6 * i), c) for i, c in enumerate([1, 2, 40])]
    words = growth_words(make_alert(curve=curve))
    assert words == "1 → 40 per 6 h (peak 40), 2024-05-17 14:00–2024-05-18 02:00 UTC"


def test_email_subject_names_severity_brand_and_claim_on_one_line() -> None:
    assert email_subject(make_alert()) == (
        "[HIGH] Acme: Acme cola made people sick at the Riverside festival"
    )
    long = email_subject(make_alert(incident=make_incident(summary="x" * 500)))
    assert len(long) == 150 and long.endswith("…")


# -- Slack limits ------------------------------------------------------------------------------


def test_slack_blocks_stay_within_documented_limits_for_huge_alerts() -> None:
    emoji = "👩‍👩‍👧‍👦"  # a ZWJ family: 11 UTF-16 units in one glyph
    incident = make_incident(
        summary=("very long claim & <detail> " * 400) + emoji * 300,
        factors=[RiskFactor(f"factor{i}", 0.5, "detail & more " * 40) for i in range(200)],
        projection="p" * 5000,
        brand="A" * 300,
    )
    alert = make_alert(
        incident=incident,
        top_mentions=[make_mention(n, text=emoji * 2000, author="x" * 500) for n in range(9)],
        curve=[(T0 + timedelta(minutes=i), i) for i in range(2000)],
    )
    message = render_slack(alert)
    assert len(message.blocks) <= SLACK_MAX_BLOCKS
    header = message.blocks[0]
    assert header["type"] == "header" and header["text"]["type"] == "plain_text"
    assert utf16_len(header["text"]["text"]) <= SLACK_HEADER_TEXT
    for block in message.blocks:
        if block["type"] == "section":
            assert utf16_len(block["text"]["text"]) <= SLACK_SECTION_TEXT
    assert 0 < utf16_len(message.text) <= 3000
    # Truncation never leaves half an entity or half a glyph behind.
    for text in slack_texts(message.blocks) + [message.text]:
        assert not re.search(r"&(?!amp;|lt;|gt;)", text), text
        assert "\u200d…" not in text


def test_slack_fallback_text_is_plain_and_present() -> None:
    message = render_slack(make_alert())
    assert message.text.startswith("HIGH · Acme · viral claim · health/safety — New incident #42:")
    assert message.payload()["blocks"] == message.blocks


# -- hostile text ------------------------------------------------------------------------------


def test_hostile_text_is_inert_in_slack() -> None:
    message = render_slack(hostile_alert())
    texts = slack_texts(message.blocks) + [message.text]
    joined = "\n".join(texts)
    for active in SLACK_ACTIVE:
        assert active not in joined
    assert "&lt;!channel&gt;" in joined and "&lt;@U123&gt;" in joined
    assert "&lt;http://evil|click&gt;" in joined
    assert "@here" not in joined and "@everyone" not in joined
    assert "@\u2060here" in joined and "@\u2060everyone" in joined
    assert "\x1b" not in joined and "\r" not in joined
    # The only links are the ones we built, from http(s) URLs with `|`, `<`, `>` encoded.
    links = re.findall(r"<([^>]*)>", joined)
    assert links and all(
        link.startswith("https://example.com/a%7Cb%3Ec%3Cd%20%22e%22|") for link in links
    )


def test_hostile_text_is_inert_in_plain_text_and_terminal() -> None:
    alert = hostile_alert()
    for text in (render_text(alert), render_terminal(alert, color=False)):
        assert "\x1b" not in text and "\r" not in text and "\x07" not in text
        assert "javascript:" not in text
        assert "Claim: Acme Bcc: victim@example.com <!channel>" in text


def test_terminal_colour_is_only_ours() -> None:
    text = render_terminal(hostile_alert(), color=True)
    escapes = re.findall(r"\x1b\[[0-9;]*m", text)
    assert escapes == ["\x1b[1;31m", "\x1b[0m"]
    assert text.count("\x1b") == 2


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.attrs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(name for name, _ in attrs)
        self.hrefs.extend(value or "" for name, value in attrs if name == "href")


def test_hostile_text_is_inert_in_html() -> None:
    html = render_html(hostile_alert())
    parser = _Collector()
    parser.feed(html)
    assert "script" not in parser.tags and "img" not in parser.tags
    assert "onerror" not in parser.attrs
    assert parser.hrefs == ["https://example.com/a%7Cb%3Ec%3Cd%20%22e%22"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "\x1b" not in html


def test_hostile_text_cannot_break_the_email_subject() -> None:
    subject = email_subject(hostile_alert())
    assert "\r" not in subject and "\n" not in subject and "\x1b" not in subject
    assert subject.startswith("[HIGH] Acme: Acme Bcc: victim@example.com <!channel>")


# -- sanitising helpers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("plain", "plain"),
        ("\x1b[31mred\x1b[0m", "red"),
        ("\x1b[38;2;255;0;0mtruecolor\x1b[m", "truecolor"),
        ("\x1b]8;;http://evil\x07link\x1b]8;;\x07", "link"),  # OSC 8 hyperlink
        ("\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\", "link"),  # OSC ended by ST
        ("\x1b]0;new title\x07text", "text"),  # window title
        ("\x1bPdevice control\x1b\\after", "after"),
        ("\x9b31mC1 CSI", "C1 CSI"),
        ("bell\x07 back\x08space", "bell backspace"),
        ("clear\x1b[2J\x1b[Hscreen", "clearscreen"),
        ("bidi \u202eevil\u202c", "bidi evil"),
        ("cr\r\nlf", "cr\nlf"),
        ("tab\tkept", "tab\tkept"),
        ("lone escape \x1b", "lone escape "),
    ],
)
def test_strip_terminal(raw: str, clean: str) -> None:
    assert strip_terminal(raw) == clean


def test_header_text_removes_line_breaks_and_controls() -> None:
    assert header_text("a\r\nBcc: x@y\u2028z\x00", 100) == "a Bcc: x@y z"


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("<!channel>", "&lt;!channel&gt;"),
        ("<@U123>", "&lt;@U123&gt;"),
        ("<http://evil|click>", "&lt;http://evil|click&gt;"),
        ("a & b", "a &amp; b"),
        ("ping @here now", "ping @\u2060here now"),
        ("@Channel!", "@\u2060Channel!"),
        ("mail me@here.com", "mail me@\u2060here.com"),
    ],
)
def test_escape_slack(raw: str, escaped: str) -> None:
    assert escape_slack(raw) == escaped


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://example.com/a?b=1&c=2", "https://example.com/a?b=1&c=2"),
        ("HTTP://Example.com/x", "http://Example.com/x"),
        ("https://example.com/a|b>c", "https://example.com/a%7Cb%3Ec"),
        ("https://example.com/ü ß", "https://example.com/%C3%BC%20%C3%9F"),
        ("javascript:alert(1)", None),
        ("data:text/html,<script>", None),
        ("ftp://example.com/x", None),
        ("https://example.com/\r\nX: y", None),
        ("//example.com/x", None),
        ("", None),
        (None, None),
    ],
)
def test_safe_url(url: str | None, safe: str | None) -> None:
    assert safe_url(url) == safe


def test_slack_link_escapes_ampersands_and_falls_back_to_label() -> None:
    assert slack_link("https://e.com/?a=1&b=2", "<x>") == "<https://e.com/?a=1&amp;b=2|&lt;x&gt;>"
    assert slack_link("javascript:alert(1)", "click") == "click"


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 10, "short"),
        ("exactly10!", 10, "exactly10!"),
        ("hello world", 8, "hello w…"),
        ("cafe\u0301s and more", 5, "caf…"),  # never split e + combining acute
        ("ab🇺🇸🇫🇷x", 6, "ab🇺🇸…"),  # never split a flag's pair of regional indicators
        ("ab👍🏽cd", 4, "ab…"),  # never separate a skin tone from its emoji
        ("ab👩‍👧cd", 5, "ab…"),  # never split a ZWJ sequence
        ("abc", 0, ""),
    ],
)
def test_truncate_on_glyph_boundaries(text: str, limit: int, expected: str) -> None:
    assert truncate(text, limit) == expected


def test_truncate_counts_utf16_units_when_asked() -> None:
    assert truncate("😀😀😀", 5, measure=utf16_len) == "😀😀…"
    assert utf16_len("😀a") == 3


def test_truncate_slack_never_splits_an_entity() -> None:
    for limit in range(1, 30):
        out = truncate_slack("&<>" * 20, limit)
        assert utf16_len(out) <= limit
        assert re.fullmatch(r"(?:&amp;|&lt;|&gt;)*…?", out), out
