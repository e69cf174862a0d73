"""Duplicate detection: canonical URLs and near-duplicate texts within a time window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.dedupe import (
    NearDuplicateIndex,
    canonical_url,
    content_fingerprint,
    fingerprint_distance,
)

URLS: list[tuple[str, str | None]] = [
    # scheme, host, port, fragment, trailing slash
    ("HTTPS://Example.COM/Path/", "https://example.com/Path"),
    ("https://example.com:443/a", "https://example.com/a"),
    ("http://example.com:80/a", "http://example.com/a"),
    ("http://example.com:8080/a", "http://example.com:8080/a"),
    ("https://example.com/a#comments", "https://example.com/a"),
    ("https://example.com", "https://example.com/"),
    ("https://example.com/", "https://example.com/"),
    ("https://example.com/a//", "https://example.com/a"),
    ("  https://example.com/a\n", "https://example.com/a"),
    ("https://user:secret@example.com/a", "https://example.com/a"),
    ("https://example.com./a", "https://example.com/a"),
    ("http://[2001:DB8::1]:8443/x", "http://[2001:db8::1]:8443/x"),
    # query: tracking dropped, the rest sorted, content ids kept
    ("https://example.com/a?utm_source=x&utm_medium=y&b=2&a=1", "https://example.com/a?a=1&b=2"),
    ("https://example.com/a?fbclid=1&gclid=2&mc_cid=3&mc_eid=4&igshid=5",
     "https://example.com/a"),
    ("https://example.com/a?ref=hn&ref_src=twsrc&id=7", "https://example.com/a?id=7"),
    ("https://example.com/a?tag=b&tag=a", "https://example.com/a?tag=b&tag=a"),
    ("https://example.com/a?q=acme+recall&empty=", "https://example.com/a?empty=&q=acme+recall"),
    ("https://example.com/a?s=1&t=2", "https://example.com/a?s=1&t=2"),
    ("https://news.ycombinator.com/item?id=4242&utm_source=x",
     "https://news.ycombinator.com/item?id=4242"),
    ("https://github.com/acme/app/blob/x.py?ref=v2", "https://github.com/acme/app/blob/x.py?ref=v2"),
    # platforms: hosts, share parameters
    ("https://twitter.com/acme/status/123?s=20&t=abc", "https://x.com/acme/status/123"),
    ("https://mobile.twitter.com/acme/status/123", "https://x.com/acme/status/123"),
    ("https://www.x.com/acme/status/123?ref_src=twsrc", "https://x.com/acme/status/123"),
    ("https://m.youtube.com/watch?v=dQw4w9WgXcQ&si=abc&feature=share",
     "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
    ("https://youtube.com/watch?t=42&v=dQw4w9WgXcQ", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
    ("https://youtu.be/dQw4w9WgXcQ?si=xyz", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
    ("https://www.youtube.com/shorts/dQw4w9WgXcQ", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
    ("https://old.reddit.com/r/acme/comments/abc/title/",
     "https://www.reddit.com/r/acme/comments/abc/title"),
    ("https://m.facebook.com/acme/posts/1", "https://www.facebook.com/acme/posts/1"),
    ("https://en.m.wikipedia.org/wiki/Acme", "https://en.wikipedia.org/wiki/Acme"),
    ("https://m.example.com/a", "https://m.example.com/a"),  # unknown site: m. may differ
    # redirect wrappers
    ("https://www.google.com/url?sa=t&rct=j&url=https%3A%2F%2Fexample.com%2Fnews%3Futm_source"
     "%3Dgoogle%26id%3D9&usg=AOv", "https://example.com/news?id=9"),
    ("https://www.google.co.uk/url?q=https://example.com/a/&sa=U", "https://example.com/a"),
    ("https://l.facebook.com/l.php?u=https%3A%2F%2Fexample.com%2Fa&h=AT0",
     "https://example.com/a"),
    ("https://www.google.com/url?q=javascript:alert(1)", "https://www.google.com/url?q=javascript%3Aalert%281%29"),
    # path spelling
    ("https://en.wikipedia.org/wiki/Nestlé", "https://en.wikipedia.org/wiki/Nestl%C3%A9"),
    ("https://en.wikipedia.org/wiki/Nestl%c3%a9", "https://en.wikipedia.org/wiki/Nestl%C3%A9"),
    ("https://example.com/%7Euser", "https://example.com/~user"),
    ("https://example.com/a%2Fb", "https://example.com/a%2Fb"),
    ("https://bücher.example/a", "https://xn--bcher-kva.example/a"),
    # not usable
    ("", None),
    ("not a url", None),
    ("/relative/path", None),
    ("ftp://example.com/file", None),
    ("mailto:press@example.com", None),
    ("javascript:alert(1)", None),
    ("https://", None),
    ("http://example.com:99999/", None),
    ("http://example.com:port/", None),
    ("http://[::1/", None),
]


@pytest.mark.parametrize(("url", "expected"), URLS, ids=[u[0][:60] or "empty" for u in URLS])
def test_canonical_url(url: str, expected: str | None) -> None:
    assert canonical_url(url) == expected


def test_canonical_url_is_stable() -> None:
    for url, expected in URLS:
        if expected is not None:
            assert canonical_url(expected) == expected, url


def test_canonical_url_never_raises_on_junk() -> None:
    junk = ["http://%", "https://\x00/", "http://a b.com/", "https://[fe80::1%25eth0]/", "::",
            "http://" + "a" * 300 + ".com/", "https://xn--/", "https://\udcff.com/"]
    for url in junk:
        result = canonical_url(url)
        assert result is None or result.startswith("http")
    assert canonical_url(None) is None


CLAIM = (
    "Acme cola made my daughter really sick after one can, the whole family was up all night "
    "and the store says they already know about a bad batch"
)
NEAR_COPIES = [
    ("retweet with link", f"RT @angrymum: {CLAIM} https://t.co/AbC123"),
    ("shouting", CLAIM.upper() + "!!!"),
    ("hashtag added", CLAIM + " #boycottacme"),
    ("word replaced", CLAIM.replace("daughter", "son")),
    ("word dropped", CLAIM.replace("really ", "")),
    ("handles added", "@acme @foodsafety " + CLAIM),
]
UNRELATED = [
    "Acme cola is my favourite drink, the new cherry flavour is great and cheap this week",
    "The quarterly results of Acme were fine and the share price went up two percent today",
    "Anyone know if the Acme store on Main Street is open on Sunday? Need batteries",
    "Acme cola made my daughter happy, she loved the free concert tickets from the promo",
]


@pytest.mark.parametrize("copy", [c[1] for c in NEAR_COPIES], ids=[c[0] for c in NEAR_COPIES])
def test_near_copies_are_close(copy: str) -> None:
    assert fingerprint_distance(content_fingerprint(CLAIM), content_fingerprint(copy)) <= 3


@pytest.mark.parametrize("other", UNRELATED)
def test_unrelated_texts_are_far(other: str) -> None:
    assert fingerprint_distance(content_fingerprint(CLAIM), content_fingerprint(other)) > 3


def test_fingerprint_is_64_bit_and_deterministic() -> None:
    fingerprint = content_fingerprint(CLAIM)
    assert 0 < fingerprint < 2**64
    assert content_fingerprint(CLAIM) == fingerprint
    assert content_fingerprint("") == 0
    assert content_fingerprint("!!! https://t.co/x @someone") == 0


def test_most_one_word_edits_stay_close() -> None:
    # MinHash is a sample: a given edit can move more slots than usual, so assert the rate.
    words = CLAIM.split()
    fingerprint = content_fingerprint(CLAIM)
    edits = [" ".join([*words[:i], "zebra", *words[i + 1 :]]) for i in range(len(words))]
    edits += [" ".join([*words[:i], *words[i + 1 :]]) for i in range(len(words))]
    close = [fingerprint_distance(fingerprint, content_fingerprint(e)) <= 3 for e in edits]
    assert sum(close) / len(close) >= 0.9


def test_cjk_near_copies() -> None:
    text = "アクメのコーラを飲んだら子供が一晩中吐いていました。同じロットの人は気をつけて"
    other = "アクメの新しいコーラはとても美味しかったです。また買いたいと思います"
    fingerprint = content_fingerprint(text)
    retweet = f"RT @x: {text}！！ https://t.co/x"
    assert fingerprint_distance(fingerprint, content_fingerprint(retweet)) == 0
    assert fingerprint_distance(fingerprint, content_fingerprint(other)) > 3
    # One character changed touches two character bigrams.
    edits = [text[:i] + "猫" + text[i + 1 :] for i in range(len(text))]
    close = [fingerprint_distance(fingerprint, content_fingerprint(e)) <= 3 for e in edits]
    assert sum(close) / len(close) >= 0.9


T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def test_index_finds_near_duplicate() -> None:
    index: NearDuplicateIndex[str] = NearDuplicateIndex(window=timedelta(hours=6))
    for i, text in enumerate(UNRELATED):
        index.add(f"other-{i}", text, T0)
    index.add("claim", CLAIM, T0)
    for _, copy in NEAR_COPIES:
        assert index.find(copy, T0 + timedelta(minutes=5)) == "claim"
    assert index.find("Something entirely different about the weather in Lisbon", T0) is None


def test_index_prefers_closest_then_newest() -> None:
    index: NearDuplicateIndex[int] = NearDuplicateIndex()
    index.add(1, CLAIM.replace("really ", ""), T0)
    index.add(2, CLAIM, T0)
    index.add(3, CLAIM, T0 + timedelta(minutes=1))
    assert index.find(CLAIM, T0 + timedelta(minutes=2)) == 3


def test_index_window() -> None:
    index: NearDuplicateIndex[str] = NearDuplicateIndex(window=timedelta(hours=1))
    index.add("claim", CLAIM, T0)
    assert index.find(CLAIM, T0 + timedelta(minutes=59)) == "claim"
    assert index.find(CLAIM, T0 + timedelta(minutes=61)) is None
    assert index.find(CLAIM, T0 - timedelta(minutes=61)) is None  # a late-arriving older post


def test_index_evicts_entries_older_than_window() -> None:
    index: NearDuplicateIndex[str] = NearDuplicateIndex(window=timedelta(hours=1))
    index.add("old", CLAIM, T0)
    index.add("other", UNRELATED[0], T0 + timedelta(minutes=30))
    assert len(index) == 2
    index.add("new", UNRELATED[1], T0 + timedelta(minutes=90))
    assert "old" not in index
    assert len(index) == 2
    # Gone for good: even a query at the old time does not find it.
    assert index.find(CLAIM, T0) is None


def test_index_bounded_size_drops_oldest() -> None:
    index: NearDuplicateIndex[int] = NearDuplicateIndex(window=timedelta(days=1), max_size=50)
    for i in range(200):
        # Distinct texts: each is its own entry.
        index.add(i, f"report number {i} about acme batch {i * 7919} in city {i % 13}",
                  T0 + timedelta(seconds=i))
        assert len(index) <= 50
    assert len(index) == 50
    assert 0 not in index and 149 not in index
    assert 150 in index and 199 in index
    assert index.find("report number 199 about acme batch 1575881 in city 4", T0) == 199


def test_index_re_adding_a_key_replaces_it() -> None:
    index: NearDuplicateIndex[str] = NearDuplicateIndex(max_size=10)
    for i in range(100):
        index.add("same", UNRELATED[i % 2], T0 + timedelta(seconds=i))
    assert len(index) == 1
    assert index.find(UNRELATED[1], T0) == "same"
    assert index.find(UNRELATED[0], T0) is None


def test_index_keeps_fingerprints_from_store() -> None:
    index: NearDuplicateIndex[int] = NearDuplicateIndex()
    fingerprint = index.add(7, CLAIM, T0)
    assert fingerprint == content_fingerprint(CLAIM)
    restarted: NearDuplicateIndex[int] = NearDuplicateIndex()
    restarted.add_fingerprint(7, fingerprint, T0)
    assert restarted.find(NEAR_COPIES[3][1], T0) == 7


def test_index_ignores_texts_without_words() -> None:
    index: NearDuplicateIndex[str] = NearDuplicateIndex()
    index.add("links only", "https://example.com/a https://example.com/b", T0)
    assert len(index) == 0
    assert index.find("https://example.com/a", T0) is None


@pytest.mark.parametrize(("kwargs", "problem"), [
    ({"window": timedelta(0)}, "window must be positive"),
    ({"max_size": 0}, "at least 1"),
    ({"max_distance": 4}, "max_distance"),
])
def test_index_rejects_bad_settings(kwargs: dict[str, object], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        NearDuplicateIndex(**kwargs)  # type: ignore[arg-type]


def test_index_reuses_freed_rows_and_ignores_spare_capacity() -> None:
    index: NearDuplicateIndex[int] = NearDuplicateIndex(window=timedelta(minutes=10), max_size=40)
    texts = [f"report number {i} about acme batch {i * 7919} in city {i % 13}" for i in range(300)]
    for i, text in enumerate(texts):
        index.add(i, text, T0 + timedelta(minutes=i))  # each evicts what is 10 min older
        assert len(index) <= 11
    # Only the last ten minutes are findable; a copy of an evicted text finds nothing.
    assert index.find(texts[299], T0 + timedelta(minutes=299)) == 299
    assert index.find(texts[100], T0 + timedelta(minutes=299)) is None
    assert index.find(texts[100], T0 + timedelta(minutes=100)) is None
    assert len(index._fingerprints) <= 64  # rows are reused, the arrays do not grow
