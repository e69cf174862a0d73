"""Brand matching: which brands a mention is about, across scripts, queries and exclusions."""

from __future__ import annotations

from typing import Any

import pytest

from monitor.config import BrandConfig, ConfigError, parse_config
from monitor.matching import BrandMatcher, QuerySyntaxError, normalise, parse_query


def matcher(**brand: Any) -> BrandMatcher:
    return BrandMatcher([BrandConfig(**brand)])


def matches(brand: dict[str, Any], text: str, **context: str | None) -> bool:
    return matcher(**brand).match(text, **context) == (brand["name"],)


# (brand config, text, expected match)
CASES: list[tuple[str, dict[str, Any], str, bool]] = [
    # English, word boundaries
    ("plain", {"name": "Acme"}, "I bought an Acme blender", True),
    ("upper case", {"name": "Acme"}, "ACME BLENDERS ARE LOUD", True),
    ("inside a longer word", {"name": "Acme"}, "the acmeology of it", False),
    ("prefix of a word", {"name": "Acme"}, "preacme stuff", False),
    ("possessive", {"name": "Apple"}, "Apple's new phone", True),
    ("curly possessive", {"name": "Apple"}, "Apple\u2019s new phone", True),
    ("hashtag", {"name": "Apple"}, "so done with #apple today", True),
    ("at-mention", {"name": "Apple"}, "@apple fix this", True),
    ("handle with underscore is another word", {"name": "Apple"}, "@apple_fan99 hi", False),
    ("hyphen is a boundary", {"name": "Acme"}, "an Acme-branded kettle", True),
    ("digits are part of a word", {"name": "Acme"}, "acme2 is a different thing", False),
    ("domain", {"name": "Acme"}, "see acme.com for details", True),
    ("alias", {"name": "Acme", "aliases": ["ACM"]}, "acm support is slow", True),
    ("term with edge punctuation", {"name": "C++"}, "learning c++ today", True),
    ("dotted term", {"name": ".NET"}, "ported to .net 8", True),
    # phrases and multi-word names
    ("phrase", {"name": "Acme", "phrases": ["acme cola"]}, "Acme Cola tastes odd", True),
    ("phrase punctuation", {"name": "X", "phrases": ["acme cola"]}, "acme-cola, yuck", True),
    ("phrase spacing", {"name": "X", "phrases": ["acme cola"]}, "ACME\n  cola", True),
    ("phrase words apart", {"name": "X", "phrases": ["acme cola"]}, "acme makes cola", False),
    ("phrase as hashtag", {"name": "X", "phrases": ["acme cola"]}, "#AcmeCola fans", True),
    ("phrase word order", {"name": "X", "phrases": ["acme cola"]}, "cola acme", False),
    ("phrase with apostrophe", {"name": "McDonald's"}, "mcdonald\u2019s fries", True),
    # accents, width, invisible characters
    ("accent in term", {"name": "Nestlé"}, "nestle water recall", True),
    ("accent in text", {"name": "Nestle"}, "NESTLÉ water recall", True),
    ("decomposed accent", {"name": "Nestlé"}, "Nestle\u0301 water", True),
    ("full-width letters", {"name": "Acme"}, "\uff21\uff43\uff4d\uff45 rocks", True),
    ("zero-width space inside", {"name": "Acme"}, "Ac\u200bme scam", True),
    ("soft hyphen inside", {"name": "Acme"}, "Ac\u00adme scam", True),
    # German: casefold maps ß to ss, umlauts fold to their base letter
    ("sharp s to ss", {"name": "Straße"}, "die STRASSE ist zu", True),
    ("ss to sharp s", {"name": "Strasse"}, "in der Straße", True),
    ("capital sharp s", {"name": "Straße"}, "STRA\u1e9eE", True),
    ("umlaut", {"name": "Müller"}, "Muller Milch", True),
    ("compound is one word", {"name": "Müller"}, "Müllermilch", False),
    # Russian: case, ё folds to е, й stays apart from и
    ("cyrillic case", {"name": "Аэрофлот"}, "АЭРОФЛОТ задержал рейс", True),
    ("cyrillic inflection is another word", {"name": "Аэрофлот"}, "аэрофлота", False),
    ("yo to ye", {"name": "Ёлка"}, "елка в магазине", True),
    ("ye to yo", {"name": "Елка"}, "ёлка в магазине", True),
    ("short i kept", {"name": "Мой"}, "мои вещи", False),
    ("short i matches itself", {"name": "Мой"}, "МОЙ банк", True),
    # Greek
    ("greek accents and final sigma", {"name": "Όλυμπος"}, "ΟΛΥΜΠΟΣ σήμερα", True),
    # Japanese and Chinese: substring matching, dakuten and widths preserved
    ("japanese substring", {"name": "ソニー"}, "ソニーの新しいテレビが壊れた", True),
    ("half-width katakana", {"name": "ソニー"}, "\uff7f\uff86\uff70の製品", True),
    ("dakuten matters", {"name": "ガム"}, "カムの話", False),
    ("dakuten matches itself", {"name": "ガム"}, "このガムは", True),
    ("half-width dakuten", {"name": "ガム"}, "\uff76\uff9e\uff91を買った", True),
    ("handakuten matters", {"name": "パン"}, "ハンの店", False),
    ("latin brand inside japanese", {"name": "Acme"}, "Acmeの新製品が壊れた", True),
    ("latin brand inside chinese", {"name": "Acme"}, "我的Acme手机", True),
    ("chinese substring", {"name": "华为"}, "我的华为手机坏了", True),
    ("chinese absent", {"name": "华为"}, "我的手机坏了", False),
    # Korean: Hangul syllables stay composed
    ("korean substring", {"name": "삼성"}, "삼성전자가 리콜을 발표했다", True),
    ("korean different syllable", {"name": "삼성"}, "삼상전자", False),
    ("korean jamo input", {"name": "삼성"}, "\u1109\u1161\u11b7\u1109\u1165\u11bc전자", True),
    # other scripts
    ("hindi", {"name": "हिन्दी"}, "हिन्दी समाचार", True),
    ("hindi different word", {"name": "हिन्दी"}, "हिन्दू समाचार", False),
    ("arabic vowel marks optional", {"name": "شركة"}, "شَرِكَة كبيرة", True),
    ("arabic tatweel", {"name": "شركة"}, "شركـــة كبيرة", True),
    ("hebrew points optional", {"name": "שָׁלוֹם"}, "שלום לכולם", True),
    ("thai substring", {"name": "ซัมซุง"}, "โทรศัพท์ซัมซุงเสีย", True),
    ("thai vowel sign matters", {"name": "ซัมซุง"}, "ซมซุง", False),
    ("underscore term", {"name": "acme_corp"}, "ping @acme_corp now", True),
    # exclusions
    ("exclusion", {"name": "Apple", "exclusions": ["apple pie"]}, "grandma's apple pie", False),
    ("exclusion absent", {"name": "Apple", "exclusions": ["apple pie"]}, "Apple stock", True),
    ("exclusion normalised", {"name": "Apple", "exclusions": ["apple pie"]}, "APPLE-PIE", False),
    ("exclusion word boundary", {"name": "Apple", "exclusions": ["pie"]}, "apple pier", True),
    ("cjk exclusion", {"name": "ソニー", "exclusions": ["ソニー損保"]}, "ソニー損保の広告", False),
    # languages
    ("language allowed", {"name": "Acme", "languages": ["en", "de"]}, "acme", True),
    ("language unknown", {"name": "Acme", "languages": ["en"]}, "acme", True),
]
LANG_CASES: list[tuple[str, dict[str, Any], str, str, bool]] = [
    ("in list", {"name": "Acme", "languages": ["en", "de"]}, "acme", "de", True),
    ("not in list", {"name": "Acme", "languages": ["en"]}, "acme", "fr", False),
    ("region subtag", {"name": "Acme", "languages": ["en"]}, "acme", "en-US", True),
    ("upper case code", {"name": "Acme", "languages": ["EN"]}, "acme", "en", True),
    ("no list", {"name": "Acme"}, "acme", "fr", True),
]
AUTHOR_CASES: list[tuple[str, dict[str, Any], str | None, bool]] = [
    ("own handle", {"name": "Acme", "handles": ["@AcmeSupport"]}, "acmesupport", False),
    ("own handle with @", {"name": "Acme", "handles": ["AcmeSupport"]}, "@ACMESUPPORT", False),
    ("third party", {"name": "Acme", "handles": ["@AcmeSupport"]}, "@angry_customer", True),
    ("no author", {"name": "Acme", "handles": ["@AcmeSupport"]}, None, True),
]


@pytest.mark.parametrize(("brand", "text", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_terms(brand: dict[str, Any], text: str, expected: bool) -> None:
    assert matches(brand, text) is expected


@pytest.mark.parametrize(("brand", "text", "lang", "expected"), [c[1:] for c in LANG_CASES],
                         ids=[c[0] for c in LANG_CASES])
def test_languages(brand: dict[str, Any], text: str, lang: str, expected: bool) -> None:
    assert matches(brand, text, lang=lang) is expected


@pytest.mark.parametrize(("brand", "author", "expected"), [c[1:] for c in AUTHOR_CASES],
                         ids=[c[0] for c in AUTHOR_CASES])
def test_own_handles(brand: dict[str, Any], author: str | None, expected: bool) -> None:
    assert matches(brand, "Acme update: new store hours", author=author) is expected


QUERY = 'acme AND (recall OR "made me sick") NOT jobs'
QUERY_CASES: list[tuple[str, str, str, bool]] = [
    ("and-or true", QUERY, "Acme announces a recall", True),
    ("phrase branch", QUERY, "acme cola made me sick!", True),
    ("phrase punctuation", QUERY, "acme: made-me-sick", True),
    ("neither branch", QUERY, "acme is great", False),
    ("not", QUERY, "acme recall, also hiring: jobs", False),
    ("phrase words scattered", QUERY, "acme made the kids sick", False),
    ("implicit and", "acme recall", "acme recall notice", True),
    ("implicit and missing", "acme recall", "acme notice", False),
    ("precedence and over or", "acme OR foo AND bar", "acme only", True),
    ("precedence and over or 2", "acme OR foo AND bar", "foo only", False),
    ("precedence not over and", "NOT jobs AND acme", "acme jobs", False),
    ("unary not", "acme NOT (jobs OR careers)", "acme careers page", False),
    ("double not", "acme NOT NOT recall", "acme recall", True),
    ("nested parens", "((acme))", "acme", True),
    ("lower-case operators are words", "acme and", "acme and more", True),
    ("lower-case operators are words 2", "acme and", "acme more", False),
    ("cjk term in query", "acme AND リコール", "acmeのリコール", True),
]


@pytest.mark.parametrize(("query", "text", "expected"), [c[1:] for c in QUERY_CASES],
                         ids=[c[0] for c in QUERY_CASES])
def test_queries(query: str, text: str, expected: bool) -> None:
    assert matches({"name": "Acme", "query": query}, text) is expected


def test_query_requires_a_brand_term() -> None:
    # The query refines the brand's terms; it never matches a mention that names no term.
    brand = {"name": "Acme", "query": "recall OR lawsuit"}
    assert matches(brand, "acme recall")
    assert not matches(brand, "a recall of someone else's product")


MALFORMED: list[tuple[str, int, str]] = [
    ("acme AND", 9, "after AND"),
    ("acme AND (recall OR", 20, "after OR"),
    ("(acme", 1, "never closed"),
    ("acme)", 5, "unmatched ')'"),
    ('acme "made me', 6, "unterminated quote"),
    ("OR acme", 1, "expected a term"),
    ("acme AND OR x", 10, "after AND"),
    ("acme NOT", 9, "after NOT"),
    ("()", 2, "before ')'"),
    ('acme ""', 6, "empty quoted phrase"),
    ("   ", 1, "empty query"),
]


@pytest.mark.parametrize(("query", "position", "problem"), MALFORMED,
                         ids=[m[0] for m in MALFORMED])
def test_malformed_queries(query: str, position: int, problem: str) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse_query(query)
    assert info.value.position == position
    assert problem in str(info.value)
    assert f"character {position}" in str(info.value)


def test_malformed_query_names_brand_in_config() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"brands": [{"name": "Acme", "query": "acme AND (recall OR"}]})
    [problem] = info.value.problems
    assert problem.startswith("brands[0].query: brand 'Acme':")
    assert "character 20" in problem


def test_matcher_names_brand_for_malformed_query() -> None:
    # model_construct skips validation, as a config built in code without the validator would.
    brand = BrandConfig.model_construct(name="Acme", query="acme AND", aliases=[], phrases=[],
                                        exclusions=[], handles=[], languages=[])
    with pytest.raises(ValueError, match=r"brand 'Acme': .*character 9"):
        BrandMatcher([brand])


def test_several_brands_in_config_order() -> None:
    brands = BrandMatcher([
        BrandConfig(name="Globex"),
        BrandConfig(name="Acme", aliases=["Acme Cola"]),
        BrandConfig(name="Initech", languages=["de"]),
        BrandConfig(name="ソニー"),
    ])
    text = "Acme Cola and Globex both sponsor ソニー events; Initech does not"
    assert brands.match(text) == ("Globex", "Acme", "Initech", "ソニー")
    assert brands.match(text, lang="en") == ("Globex", "Acme", "ソニー")
    assert brands.match("nothing relevant here") == ()
    assert brands.match("") == ()


def test_exclusion_only_affects_its_brand() -> None:
    brands = BrandMatcher([
        BrandConfig(name="Apple", exclusions=["apple pie"]),
        BrandConfig(name="Pie Co", aliases=["pie"]),
    ])
    assert brands.match("apple pie recipe") == ("Pie Co",)


@pytest.mark.parametrize(("raw", "folded"), [
    ("Nestlé", "nestle"),
    ("STRASSE", "strasse"),
    ("Straße", "strasse"),
    ("Ёлка", "елка"),
    ("Йогурт", "йогурт"),
    ("ガム", "ガム"),
    ("\uff76\uff9e", "ガ"),
    ("삼성", "삼성"),
    ("हिन्दी", "हिन्दी"),  # Devanagari vowel signs and virama are not accents
    ("ไทย", "ไทย"),
])
def test_normalise(raw: str, folded: str) -> None:
    assert normalise(raw) == folded
