"""RSS/Atom connector against a local server serving feed documents from tests/fixtures/rss."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser
import pytest
from aiohttp import web
from pydantic import ValidationError

from connectors.base import Cursor, RateLimited, SourceError, connector_class
from connectors.rss import SEEN_LIMIT, RssConnector, RssOptions, unwrap_google_redirect
from monitor.httpclient import HttpClient, HttpLimits
from monitor.records import Mention
from monitor.store import Store
from tests.connectors.replay_server import ReplayServer, Reply

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "rss"
FEED = "/feed"
RSS = "application/rss+xml"

Build = Callable[..., Awaitable[RssConnector]]


@pytest.fixture
async def build(aiohttp_server: Any) -> AsyncIterator[Build]:
    """Start a server for the given app (or replay script) and build a connector aimed at it."""
    clients: list[HttpClient] = []

    async def factory(
        site: ReplayServer | web.Application, limits: HttpLimits | None = None, **options: Any
    ) -> RssConnector:
        server = await aiohttp_server(site.app() if isinstance(site, ReplayServer) else site)
        http = HttpClient(limits or HttpLimits(connect_timeout=2, read_timeout=2, total_timeout=5))
        clients.append(http)
        opts = RssOptions(url=str(server.make_url(FEED)), **options)
        return RssConnector("test-feed", opts, http)

    yield factory
    for http in clients:
        await http.close()


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def serving(body: bytes, content_type: str) -> web.Application:
    """An app answering FEED with `body` and exactly this Content-Type header (charset kept)."""

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=body, headers={"Content-Type": content_type})

    app = web.Application()
    app.router.add_get(FEED, handler)
    return app


def replay(name: str, content_type: str = RSS, **changes: Any) -> ReplayServer:
    """A replay server answering FEED once with the fixture `name`."""
    reply = dataclasses.replace(Reply.fixture(f"rss/{name}", content_type=content_type), **changes)
    return ReplayServer().add(FEED, reply)


def at(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- formats ------------------------------------------------------------------------------------

async def test_rss20_items_become_clean_mentions(build: Build) -> None:
    connector = await build(replay("rss20.xml"))

    result = await connector.fetch(Cursor())

    recall, toasters, mailbag = result.mentions
    assert recall.platform == "rss"
    assert recall.external_id == "gadgets-2025-0610-001"
    assert recall.url == "https://gadgets.example.com/2025/06/acme-kettle-recall"
    assert recall.title == "Acme kettle recall: customers report burns & melted bases"
    # content:encoded wins over the teaser; scripts and styles are not text.
    assert recall.text == (
        "Acme kettle recall: customers report burns & melted bases\n"
        "Several owners of the Acme K200 kettle say the base overheated. "
        "One reader wrote: \u201cit burned my hand\u201d."
    )
    assert recall.author == "Priya Natarajan"
    assert recall.lang == "en"
    assert recall.published_at == at(2025, 6, 10, 0, 30)  # 09:30 +0900
    assert toasters.published_at == at(2025, 6, 9, 22, 0)  # 17:00 EST
    assert toasters.external_id == "https://gadgets.example.com/2025/06/budget-toasters"
    assert mailbag.published_at is None  # the pipeline falls back to first-seen time
    assert mailbag.external_id == mailbag.url == "https://gadgets.example.com/2025/06/mailbag"
    assert len(result.cursor.position["seen"]) == 3 and not result.not_modified


async def test_rss10_rdf_items(build: Build) -> None:
    connector = await build(replay("rss10_rdf.xml", content_type="application/rdf+xml"))

    refund, descaler = (await connector.fetch(Cursor())).mentions

    assert refund.external_id == refund.url == "https://forum.example.org/t/4411"
    assert refund.text == (
        "Acme support ignored my refund request for three weeks\n"
        "I returned the blender on 2 May and still have no refund."
    )
    assert refund.author == "kettle_owner_77"
    assert refund.published_at == at(2025, 6, 10, 6, 15)  # 08:15 +02:00
    assert descaler.published_at == at(2025, 6, 9, 21, 0)
    assert descaler.author is None


async def test_atom_entries(build: Build) -> None:
    connector = await build(replay("atom.xml", content_type="application/atom+xml"))

    eco, follow_up = (await connector.fetch(Cursor())).mentions

    assert eco.external_id == "tag:watch.example.net,2025:post-881"
    assert eco.url == "https://watch.example.net/posts/881"
    assert eco.text == (
        'Is Acme\'s "eco" claim misleading?\n'
        "Acme says its kettles are 100% recyclable. Our tests disagree."
    )
    assert eco.author == "Jordan Lee"
    assert eco.lang == "en"
    assert eco.published_at == at(2025, 6, 10, 12, 45)  # published, not updated
    assert follow_up.published_at == at(2025, 6, 10, 20, 0)  # only <updated>, +05:30
    assert follow_up.text == "Follow-up: readers respond\nDozens of you wrote in about Acme."


async def test_rss091_with_netscape_doctype_is_accepted(build: Build) -> None:
    connector = await build(replay("rss091_netscape.xml"))

    (mention,) = (await connector.fetch(Cursor())).mentions

    assert mention.text == "Acme opens repair centre\nOwners can bring kettles in for a free check."


async def test_google_alerts_links_are_unwrapped_and_bold_tags_dropped(build: Build) -> None:
    connector = await build(replay("google_alerts.xml", content_type="application/atom+xml"))

    recall, descale = (await connector.fetch(Cursor())).mentions

    assert recall.url == "https://news.example.co.uk/business/acme-kettle-recall-europe"
    assert recall.title == "Acme kettle recall widens to Europe after burn reports"
    assert recall.text.endswith(
        "Regulators said the Acme K200 kettle can overheat & should not be used "
        "'until inspected' ..."
    )
    assert recall.external_id == "tag:google.com,2013:googlealerts/feed:4418260511908472913"
    assert recall.author is None  # Alerts leave <name/> empty
    assert descale.url == "https://blog.example.com/descale?ref=alerts"


async def test_google_news_titles_lose_the_publisher_suffix(build: Build) -> None:
    connector = await build(replay("google_news.xml"))

    recall, switch_off = (await connector.fetch(Cursor())).mentions

    assert recall.title == recall.text == "Acme recalls 40,000 kettles after burn injuries"
    assert recall.author == "Daily Ledger"
    assert recall.published_at == at(2025, 6, 10, 9, 12)
    assert recall.external_id.startswith("CBMiUkFVX3lxTE1hY21l")
    assert recall.url is not None and recall.url.startswith("https://news.google.com/rss/articles/")
    # Only the trailing " - Publisher" goes; a dash inside the headline stays.
    assert switch_off.text == "Acme - the kettle that wouldn't switch off"
    assert switch_off.author == "Tech & Home"


async def test_google_news_item_is_its_own_headline_not_the_cluster(build: Build) -> None:
    connector = await build(replay("google_news_cluster.xml"))

    cluster, legacy = (await connector.fetch(Cursor())).mentions

    # The sibling headline names Acme; this Reuters article does not.
    assert cluster.text == cluster.title == "EU tightens safety rules for electric kettles"
    assert "Acme" not in cluster.text and "Brussels" not in cluster.text
    assert cluster.author == "Reuters"
    # Legacy feeds: no <source>, the publisher only in the title; the link is a redirect.
    assert legacy.text == "Acme recall widens to Europe"
    assert legacy.author == "Daily Ledger"
    assert legacy.url == "https://www.dailyledger.example/business/acme-recall-europe"
    assert "Globex" not in legacy.text


def test_unwrap_google_redirect() -> None:
    cases = {
        "https://news.google.com/news/url?sa=t&fd=R&ct2=us&usg=AFQj&url=https://e.example/a%3Fb%3D2":
            "https://e.example/a?b=2",
        "https://news.google.com/rss/articles/CBMiUkFV?oc=5":
            "https://news.google.com/rss/articles/CBMiUkFV?oc=5",
        "https://evil.example/news/url?url=https://f.example/":
            "https://evil.example/news/url?url=https://f.example/",
        "https://www.google.com/url?rct=j&sa=t&url=https://a.example/x%3Fy%3D1&ct=ga":
            "https://a.example/x?y=1",
        "https://www.google.co.uk/url?q=https://b.example/&sa=U": "https://b.example/",
        "https://evil.example/url?url=https://c.example/": "https://evil.example/url?url=https://c.example/",
        "https://www.google.com/url?url=javascript:alert(1)": "https://www.google.com/url?url=javascript:alert(1)",
        "https://d.example/article": "https://d.example/article",
    }
    assert {link: unwrap_google_redirect(link) for link in cases} == cases


async def test_empty_feed_is_not_an_error(build: Build) -> None:
    connector = await build(replay("empty_channel.xml"))

    result = await connector.fetch(Cursor())

    assert result.mentions == [] and result.skipped == 0


async def test_parsing_runs_off_the_event_loop(
    build: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[threading.Thread] = []
    real_parse = feedparser.parse

    def recording_parse(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread())
        return real_parse(*args, **kwargs)

    monkeypatch.setattr(feedparser, "parse", recording_parse)
    connector = await build(replay("rss20.xml"))

    await connector.fetch(Cursor())

    assert threads and threads[0] is not threading.current_thread()


# --- broken, hostile and wrong documents ---------------------------------------------------------

async def test_ill_formed_feed_keeps_the_entries_that_parsed(build: Build) -> None:
    connector = await build(replay("illformed_partial.xml"))

    teardown, switched = (await connector.fetch(Cursor())).mentions

    assert teardown.text == (
        "Acme blender review & teardown\nThe motor mount cracked after two weeks."
    )
    assert switched.external_id.endswith("smallblog-2")
    assert switched.text == "Why I switched away from Acme\nCustomer service never called back."


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"This is not XML at all <<<>>>", "syntax error at line 1"),
        (b"<<<>>>\n\x89PNG\r\n\xff\xd8", "not well-formed (invalid token) at line 1"),
        (b"<rss version='2.0'><channel><title>x</title><item><title>cut off", "no element found"),
    ],
    ids=["prose", "binary", "truncated"],
)
async def test_unparseable_body_raises_with_the_parser_reason(
    build: Build, body: bytes, reason: str
) -> None:
    connector = await build(serving(body, RSS))

    with pytest.raises(SourceError, match="cannot read a feed") as caught:
        await connector.fetch(Cursor())

    assert reason in str(caught.value)


@pytest.mark.parametrize(
    ("name", "content_type", "expected"),
    [
        ("page.html", "text/html; charset=utf-8", "returned an HTML page (text/html)"),
        ("page.html", RSS, "returned an HTML page (application/rss+xml)"),
        ("api.json", "application/json", "returned JSON (application/json)"),
    ],
)
async def test_wrong_kind_of_document_says_what_came_back(
    build: Build, name: str, content_type: str, expected: str
) -> None:
    connector = await build(serving(fixture(name), content_type))

    with pytest.raises(SourceError, match="not an RSS or Atom feed") as caught:
        await connector.fetch(Cursor())

    assert expected in str(caught.value)


def _with_bad_comment_before_doctype(body: bytes) -> bytes:
    # "--" inside a comment is a well-formedness error before the DOCTYPE: the strict check
    # stops there, and the feed would go to feedparser's lenient parser.
    return body.replace(b"?>\n", b"?>\n<!-- broken -- comment -->\n", 1)


@pytest.mark.parametrize("ill_formed_prolog", [False, True])
async def test_billion_laughs_is_refused_quickly_without_memory_blowup(
    build: Build, ill_formed_prolog: bool
) -> None:
    body = fixture("billion_laughs.xml")
    if ill_formed_prolog:
        body = _with_bad_comment_before_doctype(body)
    connector = await build(serving(body, RSS))

    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(SourceError, match="declares XML entities"):
            await connector.fetch(Cursor())
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert elapsed < 2.0  # expanded, &lol9; is 3 GB of text
    assert peak < 20_000_000


async def test_external_entities_are_never_read(build: Build) -> None:
    connector = await build(serving(fixture("external_entity.xml"), RSS))

    with pytest.raises(SourceError, match="declares XML entities") as caught:
        await connector.fetch(Cursor())

    assert "root:" not in str(caught.value)


def _feed_with_description(markup: bytes) -> bytes:
    return (
        b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        b"<item><title>Acme kettle recall</title><guid>a1</guid><description>"
        + markup
        + b"</description></item></channel></rss>"
    )


@pytest.mark.parametrize(
    ("markup", "reason"),
    [
        (b"<a>" * 100_000 + b"x" + b"</a>" * 100_000, "nests elements deeper than 100 levels"),
        (b"<b>" * 100_000, "nests elements deeper than 100 levels"),  # never closed
        (b"<a/>" * 250_000, "has more than 200000 tags"),  # flat, but as costly
    ],
    ids=["nested", "unclosed", "flat-flood"],
)
async def test_hostile_markup_under_the_size_cap_is_refused_before_parsing(
    build: Build, markup: bytes, reason: str
) -> None:
    body = _feed_with_description(markup)
    assert len(body) < HttpLimits().max_body_bytes
    connector = await build(serving(body, RSS))

    started = time.process_time()
    with pytest.raises(SourceError, match=reason):
        await connector.fetch(Cursor())

    # feedparser would spend 4-10 s of CPU on these; the scan that refuses them, milliseconds.
    assert time.process_time() - started < 2.0


async def test_unclosed_html_in_an_ill_formed_feed_does_not_count_as_nesting(
    build: Build,
) -> None:
    paragraph = b"<p>Acme kettle <br> still leaks <img src=x.png><hr><ul><li>one<li>two</ul>"
    markup = b"<font size=2><b>Reader report" + paragraph * 300
    connector = await build(serving(_feed_with_description(markup), RSS))

    result = await connector.fetch(Cursor())

    (mention,) = result.mentions
    assert mention.title == "Acme kettle recall"
    assert mention.text.count("still leaks") == 300


async def test_entities_for_surrogates_cost_one_character_not_the_feed(
    build: Build, tmp_path: Path
) -> None:
    connector = await build(replay("lone_surrogate.xml"))

    result = await connector.fetch(Cursor())

    texts = [m.text for m in result.mentions]
    assert texts == [
        "Acme kettle recall \ufffd customers report burns\n"
        "A generator that writes UTF-16 halves as entities: \U0001f60a and a stray \ufffd",
        "Best budget toasters of the year\nOur pick includes the Acme T3, which browns evenly.",
        "Reader mailbag: kettles, scales and a very loud blender\n"
        "Out of range: \ufffd still a readable entry.",
    ]
    assert await stored_texts(result.mentions, tmp_path) == sorted(texts)


async def stored_texts(mentions: list[Mention], tmp_path: Path) -> list[str]:
    """Write `mentions` to a real store as the pipeline does; the texts read back, sorted."""
    store = await Store(tmp_path / "bm.db").open()
    try:
        for mention in mentions:
            mention.fetched_at = datetime(2025, 6, 10, tzinfo=UTC)
            mention.source = "test-feed"
        await store.save_mentions(mentions)
        rows = await store.search_mentions(limit=100)
    finally:
        await store.close()
    return sorted(row["text"] for row in rows)


# --- character encodings -------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("name", "content_type", "expected"),
    [
        (
            "shift_jis_undeclared.xml",
            RSS,
            ["アクメ社の電気ケトルで火傷の報告、リコールの可能性\n"
             "購入者から「底が熱くなりすぎる」との苦情が相次いでいる。"],
        ),
        (
            "koi8r_undeclared.xml",
            "text/xml",  # RFC 3023 would say us-ascii; nobody means that
            ["Чайники Акме перегреваются, покупатели жалуются на ожоги",
             "Служба поддержки Акме не отвечает уже неделю\nКлиенты требуют вернуть деньги."],
        ),
        (
            "cp1252_undeclared.xml",
            RSS,
            ["Les bouilloires Acme surchauffent : des clients brûlés réclament un rappel\n"
             "« C\u2019est inadmissible », déclare une cliente à Genève \u2014 l\u2019enquête "
             "continue.",
             "Le service après-vente d\u2019Acme ne répond plus"],
        ),
        (
            "utf16_bom.xml",
            "application/xml",
            ["Acme-Wasserkocher überhitzen \u2013 Kunden fordern Rückruf\n"
             "Größere Schäden bislang nicht gemeldet; Prüfung läuft."],
        ),
        (
            "cp1250_http_declared.xml",
            "application/rss+xml; charset=windows-1250",
            ["Czajniki Acme przegrzewają się, klienci żądają zwrotu pieniędzy"],
        ),
        (
            "iso8859_2_declared.xml",  # <?xml ... encoding="ISO-8859-2"?>
            RSS,
            ["Konvice Acme se přehřívají, zákazníci žádají vrácení peněz\n"
             "Šetření pokračuje, říká úřad."],
        ),
    ],
    ids=lambda value: value if isinstance(value, str) and value.endswith(".xml") else None,
)
async def test_legacy_and_wide_encodings_are_decoded(
    build: Build, name: str, content_type: str, expected: list[str]
) -> None:
    connector = await build(serving(fixture(name), content_type))

    mentions = (await connector.fetch(Cursor())).mentions

    for mention, text in zip(mentions, expected, strict=False):
        assert mention.text.startswith(text)
    assert len(mentions) >= len(expected)


async def test_invalid_utf8_in_a_utf8_feed_is_replaced_not_fatal(build: Build) -> None:
    connector = await build(serving(fixture("invalid_utf8.xml"), "application/rss+xml"))

    broken, fine = (await connector.fetch(Cursor())).mentions

    assert broken.text.startswith("Acme café kettles: über-hot\nBroken bytes follow: ")
    assert "\ufffd" in broken.text
    assert fine.text == "Second entry is fine \u2014 日本でも発売\nNothing wrong here."


# --- HTTP behaviour ------------------------------------------------------------------------------

async def test_conditional_get_round_trip(build: Build) -> None:
    validators = {"ETag": '"feed-v1"', "Last-Modified": "Tue, 10 Jun 2025 09:00:00 GMT"}
    server = ReplayServer().add(
        FEED,
        Reply.fixture("rss/rss20.xml", content_type=RSS, headers=validators),
        Reply(status=304, headers={"ETag": '"feed-v1"'}),
    )
    connector = await build(server)

    first = await connector.fetch(Cursor())
    second = await connector.fetch(first.cursor)

    assert first.cursor.etag == '"feed-v1"'
    assert first.cursor.last_modified == validators["Last-Modified"]
    assert second.not_modified and second.mentions == []
    assert second.cursor == first.cursor
    initial, conditional = server.requests_to(FEED)
    assert "If-None-Match" not in initial.headers
    assert "application/rss+xml" in initial.headers["Accept"]
    assert conditional.headers["If-None-Match"] == '"feed-v1"'
    assert conditional.headers["If-Modified-Since"] == validators["Last-Modified"]


async def test_rate_limit_carries_retry_after(build: Build) -> None:
    limited = Reply(status=429, headers={"Retry-After": "120"})
    connector = await build(ReplayServer().add(FEED, limited))

    with pytest.raises(RateLimited) as caught:
        await connector.fetch(Cursor())

    assert caught.value.retry_after == 120


async def test_server_error_is_a_source_error(build: Build) -> None:
    connector = await build(ReplayServer().add(FEED, Reply(status=500, body=b"upstream exploded")))

    with pytest.raises(SourceError, match="HTTP 500") as caught:
        await connector.fetch(Cursor())

    assert not isinstance(caught.value, RateLimited)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_oversized_body_is_refused(build: Build, chunked: bool) -> None:
    connector = await build(
        replay("rss20.xml", chunked=chunked), limits=HttpLimits(max_body_bytes=512)
    )

    with pytest.raises(SourceError, match="512-byte cap"):
        await connector.fetch(Cursor())


async def test_stalled_server_times_out(build: Build) -> None:
    release = asyncio.Event()

    async def stall(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": RSS})
        await response.prepare(request)
        await response.write(b'<?xml version="1.0"?><rss version="2.0"><channel>')
        await release.wait()  # the rest never comes while the client waits
        return response

    app = web.Application()
    app.router.add_get(FEED, stall)
    connector = await build(
        app, limits=HttpLimits(connect_timeout=1, read_timeout=0.2, total_timeout=5)
    )

    started = time.perf_counter()
    try:
        with pytest.raises(SourceError, match="timed out"):
            await connector.fetch(Cursor())
    finally:
        release.set()
    assert time.perf_counter() - started < 2


# --- cursor --------------------------------------------------------------------------------------

async def test_unchanged_feed_does_not_repeat_entries(build: Build) -> None:
    server = ReplayServer().add(
        FEED,
        Reply.fixture("rss/atom.xml", content_type=RSS),
        Reply.fixture("rss/atom.xml", content_type=RSS),
        Reply.fixture("rss/rss20.xml", content_type=RSS),
    )
    connector = await build(server)

    first = await connector.fetch(Cursor())
    second = await connector.fetch(first.cursor)
    third = await connector.fetch(second.cursor)

    assert len(first.mentions) == 2
    assert second.mentions == []
    assert len(third.mentions) == 3


async def test_max_items_leaves_the_rest_for_the_next_poll(build: Build) -> None:
    feed = Reply.fixture("rss/rss20.xml", content_type=RSS, headers={"ETag": '"v1"'})
    server = ReplayServer().add(FEED, feed, feed, Reply(status=304, headers={"ETag": '"v1"'}))
    connector = await build(server, max_items=2)

    first = await connector.fetch(Cursor())
    second = await connector.fetch(first.cursor)
    third = await connector.fetch(second.cursor)

    assert [m.title for m in first.mentions] == [
        "Acme kettle recall: customers report burns & melted bases",
        "Best budget toasters of the year",
    ]
    assert [m.title for m in second.mentions] == [
        "Reader mailbag: kettles, scales and a very loud blender"
    ]
    assert third.not_modified and third.mentions == []
    # The feed did not change, but the deferred entry must still come: no 304 for poll two.
    after_first, after_second = server.requests_to(FEED)[1:]
    assert "If-None-Match" not in after_first.headers
    assert after_second.headers["If-None-Match"] == '"v1"'


async def test_seen_ring_is_bounded_and_keeps_current_entries(build: Build) -> None:
    old = [f"{n:016x}" for n in range(SEEN_LIMIT + 100)]
    connector = await build(replay("rss20.xml"))

    result = await connector.fetch(Cursor(position={"seen": old}))

    seen = result.cursor.position["seen"]
    assert len(result.mentions) == 3
    assert len(seen) == SEEN_LIMIT
    assert seen[:-3] == old[-(SEEN_LIMIT - 3):]  # the oldest fingerprints were forgotten


async def test_corrupt_cursor_position_is_ignored(build: Build) -> None:
    connector = await build(replay("rss20.xml"))

    result = await connector.fetch(Cursor(position={"seen": "not-a-list"}))

    assert len(result.mentions) == 3


# --- options -------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({}, "url"),
        ({"url": "ftp://feeds.example.com/rss"}, "http:// or https://"),
        ({"url": "feeds.example.com/rss"}, "http:// or https://"),
        ({"url": "https://feeds.example.com/rss", "max_itmes": 5}, "max_itmes"),
        ({"url": "https://feeds.example.com/rss", "max_items": 0}, "max_items"),
    ],
)
def test_bad_options_fail(options: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        connector_class("rss").Options.model_validate(options)


def test_registered_with_defaults() -> None:
    cls = connector_class("rss")
    options = cls.Options.model_validate({"url": " https://news.google.com/rss/search?q=acme "})

    assert cls is RssConnector
    assert (cls.kind, cls.platform, cls.default_interval) == ("rss", "rss", 300.0)
    assert isinstance(options, RssOptions)
    assert options.url == "https://news.google.com/rss/search?q=acme"
    assert options.max_items == 200
