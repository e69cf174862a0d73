"""Text helpers shared by connectors: HTML to text, whitespace, dates, charset decisions."""

from __future__ import annotations

import codecs
from datetime import UTC, datetime, timedelta, timezone

import pytest

from connectors.textutil import (
    charset_of,
    decode_xml,
    fold_whitespace,
    html_to_text,
    parse_date,
    to_utc,
)


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>Acme</p><p>recall</p>", "Acme recall"),
        ("<b>Ac</b>me kettle", "Acme kettle"),  # inline tags do not split words
        ("first<br>second<br/>third", "first second third"),
        ("Fish &amp; chips &lt;3 &eacute;t&eacute; &#x1F525; &#8212;", "Fish & chips <3 été 🔥 —"),
        ("AT&T said 3 < 4 and 5 > 2", "AT&T said 3 < 4 and 5 > 2"),
        ("<script>steal()</script>Hi<style>p {}</style> there", "Hi there"),
        ("<ul><li>one</li><li>two</li></ul>", "one two"),
        ("  spaced\n\n\tout\u00a0words  ", "spaced out words"),
        ("", ""),
    ],
)
def test_html_to_text(html: str, text: str) -> None:
    assert html_to_text(html) == text


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("Ac\u00adme", "Acme"),  # soft hyphen would hide the brand from matching
        ("Ac\u200bme", "Acme"),  # zero-width space likewise
        ("\u202eevil\u202c text", "evil text"),  # bidi override
        ("\x1b[31mred\x07", "[31mred"),  # terminal escape and bell
        ("a \r\n b\u2003c", "a b c"),
        ("emoji \U0001f468\u200d\U0001f469 stays", "emoji \U0001f468\u200d\U0001f469 stays"),
    ],
)
def test_fold_whitespace(raw: str, folded: str) -> None:
    assert fold_whitespace(raw) == folded


def test_to_utc() -> None:
    tokyo = timezone(timedelta(hours=9))
    tokyo_nine = datetime(2025, 6, 10, 9, 0, tzinfo=tokyo)
    assert to_utc(tokyo_nine) == datetime(2025, 6, 10, 0, 0, tzinfo=UTC)
    naive = to_utc(datetime(2025, 6, 10, 9, 0))
    assert naive == datetime(2025, 6, 10, 9, 0, tzinfo=UTC) and naive.tzinfo is UTC


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Tue, 10 Jun 2025 09:30:00 +0900", datetime(2025, 6, 10, 0, 30, tzinfo=UTC)),
        ("Tue, 10 Jun 2025 09:30:00 PDT", datetime(2025, 6, 10, 16, 30, tzinfo=UTC)),
        ("Tue, 10 Jun 2025 09:30:00 -0000", datetime(2025, 6, 10, 9, 30, tzinfo=UTC)),
        ("Wed Oct 10 20:19:24 +0000 2018", datetime(2018, 10, 10, 20, 19, 24, tzinfo=UTC)),
        ("2025-06-10T09:00:00+05:30", datetime(2025, 6, 10, 3, 30, tzinfo=UTC)),
        ("2025-06-10T09:00:00.250Z", datetime(2025, 6, 10, 9, 0, 0, 250000, tzinfo=UTC)),
        ("2025-06-10 09:00:00", datetime(2025, 6, 10, 9, 0, tzinfo=UTC)),
        ("yesterday", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_date(value: str | None, expected: datetime | None) -> None:
    parsed = parse_date(value)
    assert parsed == expected
    assert parsed is None or parsed.tzinfo is UTC


@pytest.mark.parametrize(
    ("header", "charset"),
    [
        ("application/rss+xml; charset=windows-1250", "windows-1250"),
        ("text/xml;charset= \"us-ascii\"", "us-ascii"),
        ("application/atom+xml; charset='gb2312'", "gb2312"),
        ("text/xml; qs=0.9", None),
        (None, None),
    ],
)
def test_charset_of(header: str | None, charset: str | None) -> None:
    assert charset_of(header) == charset


def doc(text: str, declared: str | None = None) -> str:
    decl = f'<?xml version="1.0" encoding="{declared}"?>' if declared else '<?xml version="1.0"?>'
    return f"{decl}<rss><channel><item><title>{text}</title></item></channel></rss>"


RUSSIAN = "Чайники Акме перегреваются, покупатели жалуются на ожоги"
FRENCH = "Les bouilloires Acme surchauffent : des clients brûlés réclament un rappel"
TURKISH = "Acme su ısıtıcıları aşırı ısınıyor, müşteriler geri çağırma istiyor"


@pytest.mark.parametrize(
    ("body", "http_charset", "expected", "encoding"),
    [
        # A byte order mark beats any label.
        (codecs.BOM_UTF8 + doc("café", "iso-8859-1").encode(), "koi8-r", doc("café", "iso-8859-1"),
         "utf-8"),
        (doc("Größe", "utf-16").encode("utf-32"), None, doc("Größe", "utf-16"), "utf-32-le"),
        # UTF-16 without a BOM, recognised by the zero bytes around "<?".
        (doc("Größe").encode("utf-16-be"), None, doc("Größe"), "utf-16-be"),
        # HTTP charset first, XML declaration next, when they decode cleanly (RFC 3023).
        (doc(RUSSIAN, "koi8-r").encode("cp1251"), "windows-1251", doc(RUSSIAN, "koi8-r"), "cp1251"),
        (doc(RUSSIAN, "koi8-r").encode("koi8-r"), None, doc(RUSSIAN, "koi8-r"), "koi8-r"),
        # A declared charset that cannot decode the bytes gives way to one that can.
        (doc(FRENCH, "iso-8859-1").encode("cp1252"), "utf-8", doc(FRENCH, "iso-8859-1"), "cp1252"),
        # ISO-8859-1 is read as its superset windows-1252 (curly quotes in 0x80-0x9F).
        (doc("don’t", "ISO-8859-1").encode("cp1252"), None, doc("don’t", "ISO-8859-1"), "cp1252"),
        # Valid UTF-8 beyond ASCII is UTF-8 whatever the label says.
        (doc("café", "iso-8859-1").encode(), "iso-8859-1", doc("café", "iso-8859-1"), "utf-8"),
        # 7-bit ISO-2022-JP is valid ASCII but must still be decoded as declared.
        (doc("日本語", "iso-2022-jp").encode("iso2022_jp"), None, doc("日本語", "iso-2022-jp"),
         "iso2022_jp"),
        # Unknown or impossible labels are ignored.
        (doc("plain", "utf-16").encode(), None, doc("plain", "utf-16"), "utf-8"),
        (doc(FRENCH, "bogus").encode("cp1252"), None, doc(FRENCH, "bogus"), "cp1252"),
        (doc(FRENCH, "utf-7").encode("cp1252"), None, doc(FRENCH, "utf-7"), "cp1252"),
        # Undeclared legacy bytes are detected.
        (doc(RUSSIAN).encode("koi8-r"), None, doc(RUSSIAN), "koi8_r"),
        (doc(FRENCH).encode("cp1252"), None, doc(FRENCH), "cp1252"),
        (doc(TURKISH).encode("cp1254"), None, doc(TURKISH), "cp1254"),
    ],
)
def test_decode_xml_picks_the_right_charset(
    body: bytes, http_charset: str | None, expected: str, encoding: str
) -> None:
    decoded = decode_xml(body, http_charset)
    assert decoded.text == expected
    assert decoded.encoding == encoding
    assert decoded.damaged == 0


def test_decode_xml_replaces_a_few_bad_bytes_in_utf8() -> None:
    body = doc("café — 日本", "utf-8").encode().replace("—".encode(), b"\xff")

    decoded = decode_xml(body, "utf-8")

    assert decoded.encoding == "utf-8"
    assert decoded.text == doc("café \ufffd 日本", "utf-8")
    assert decoded.damaged == 1


def test_decode_xml_does_not_let_a_guess_swallow_markup() -> None:
    # Tiny undeclared inputs tempt detectors into double-byte codecs whose second byte can be
    # "<", which would turn markup into ideographs.
    body = b"<?xml version='1.0' encoding='bogus'?><a>caf\xe9</a>"

    decoded = decode_xml(body)

    assert decoded.text == "<?xml version='1.0' encoding='bogus'?><a>café</a>"
