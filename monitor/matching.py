"""Brand matching: names, aliases, phrases, boolean queries, exclusions; accent- and CJK-aware.

Normalisation (`normalise`) is applied to both the configured terms and the mention text:

- NFKC then casefold, so full-width "ＡＣＭＥ" is "acme" and German "ß" is "ss" ("Straße" and
  "Strasse" match each other);
- Latin/Greek/Cyrillic diacritics are stripped ("Nestlé" == "Nestle", Russian "ё" == "е", as
  Russian text usually writes ё as е), except the breve of Cyrillic "й"/"ў", which are letters
  of their own, not decorated "и"/"у";
- Hebrew points and Arabic vowel marks are stripped too; marks that make another letter are
  kept: Japanese dakuten ("ガ" is not "カ"), Indic and Thai vowel signs; Hangul syllables stay
  composed;
- invisible format characters (zero-width space/joiners, soft hyphen) are removed, so
  "Ac<zero-width space>me" still reads "acme".

A term written in a spaced script matches on word boundaries: "acme" matches "Acme's",
"#acme", "@acme" and "acme-branded" (a hyphen is a boundary) but not "acmeology" or
"acme_corp"; Chinese/Japanese/Korean characters count as boundaries ("Acmeの新製品"). The
words of a multi-word term match with any run of spaces or punctuation between them
("acme cola" matches "Acme-Cola" and "acme,  cola"), and also written together as a hashtag
("#AcmeCola"). A term containing Chinese, Japanese, Korean, Thai, Lao, Khmer or Myanmar
characters matches as a plain substring, since those scripts do not put spaces between words.

A brand matches a mention when one of its terms (name, aliases, phrases) occurs, its boolean
`query` (when set) holds, no exclusion occurs, the mention's language (when known) is one of
its `languages` (when set), and the author is not one of the brand's own `handles`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from monitor.config import BrandConfig

__all__ = [
    "BrandMatcher",
    "QuerySyntaxError",
    "normalise",
    "parse_query",
]

# Optional diacritics: the combining marks used with Latin, Greek and Cyrillic (plus their
# supplements and half marks), Hebrew points and Arabic vowel marks and tatweel. Marks that
# make a different letter survive: kana voicing (U+3099/U+309A), Indic and Thai vowel signs,
# and U+0306 (breve) after и/у, because й and ў are letters of their own.
_STRIPPED_MARKS = re.compile(
    "[\u0300-\u0305\u0307-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
    "\u0591-\u05bd\u05bf\u05c1\u05c2\u05c4\u05c5\u05c7"
    "\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e4\u06e7\u06e8\u06ea-\u06ed"
    "\u0640]"
    "|(?<![\u0438\u0443])\u0306"
    # Invisible characters used (deliberately or not) inside words.
    "|[\u00ad\u200b-\u200d\u2060\ufeff]"
)

# Scripts written without spaces between words: Han, kana, Hangul (Korean does use spaces,
# but attaches particles: "삼성전자가"), Thai, Lao, Khmer, Myanmar. Terms containing them
# match as substrings.
_UNSPACED = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff"
    "\u1100-\u11ff\u2e80-\u2fdf\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f]"
)
_UNSPACED_CLASS = _UNSPACED.pattern[1:-1]
# A letter or digit of a spaced script. Unspaced-script characters count as boundaries for
# such terms: Japanese writes "Acmeの新製品" with no space after the brand. The underscore
# separates tokens but is no boundary, so "acme_corp" is one handle, not "acme".
_SPACED_WORD_CHAR = rf"[^\W{_UNSPACED_CLASS}]"
_WORD = re.compile(rf"[^\W_{_UNSPACED_CLASS}]+")
_SEPARATORS = re.compile(r"[\W_]+")


def normalise(text: str) -> str:
    """Text folded for matching: NFKC, casefold, Latin/Greek/Cyrillic accents stripped."""
    if text.isascii():
        # Casefold of ASCII is lower(); nothing to decompose. Most mentions take this path.
        return text.lower()
    folded = unicodedata.normalize("NFKC", text).casefold()
    decomposed = unicodedata.normalize("NFD", folded)
    # NFC afterwards recomposes what survived (Hangul syllables, kana with dakuten, й).
    return unicodedata.normalize("NFC", _STRIPPED_MARKS.sub("", decomposed))


def _is_unspaced(term: str) -> bool:
    return _UNSPACED.search(term) is not None


def _word_pattern(term: str) -> tuple[str, str | None]:
    """Regex for one normalised spaced-script term, and its first word (for the prefilter).

    Runs of punctuation/space between words match any such run; punctuation at the edges
    (".net", "c++") is literal; a boundary is asserted only where the term has a word character.
    """
    words = [w for w in _SEPARATORS.split(term) if w]
    if not words:
        return re.escape(term), None
    start = term.find(words[0])
    end = term.rfind(words[-1]) + len(words[-1])
    lead, core, tail = term[:start], term[start:end], term[end:]
    body = r"[\W_]+".join(re.escape(w) for w in words)
    pattern = re.escape(lead) + body + re.escape(tail)
    if not lead:
        pattern = f"(?<!{_SPACED_WORD_CHAR})" + pattern
    if not tail:
        pattern += f"(?!{_SPACED_WORD_CHAR})"
    alternatives = [pattern]
    if len(words) > 1 and core == term:
        # Multi-word names are often written as one hashtag: "#AcmeCola".
        alternatives.append("#" + re.escape("".join(words)) + f"(?!{_SPACED_WORD_CHAR})")
    return "|".join(alternatives), words[0]


class TermSet:
    """A compiled set of terms; `found` tells whether any occurs in a normalised text."""

    __slots__ = ("_always", "_cjk", "_keys", "_regex")

    def __init__(self, terms: Iterable[str]) -> None:
        patterns: list[str] = []
        keys: set[str] = set()
        cjk: list[str] = []
        always = False
        for raw in terms:
            term = normalise(raw).strip()
            if not term:
                continue
            if _is_unspaced(term):
                cjk.append(term)
                continue
            pattern, first_word = _word_pattern(term)
            patterns.append(pattern)
            if first_word is None:
                always = True  # a term without letters ("++"): no word to prefilter on
            else:
                keys.add(first_word)
                words = [w for w in _SEPARATORS.split(term) if w]
                if len(words) > 1:
                    keys.add("".join(words))  # the hashtag form is one token
        self._regex = re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None
        self._keys = frozenset(keys)
        self._cjk = tuple(cjk)
        self._always = always

    def __bool__(self) -> bool:
        return self._regex is not None or bool(self._cjk)

    @property
    def keys(self) -> frozenset[str]:
        """Words of which at least one must be a token of a text for a spaced term to occur."""
        return self._keys

    @property
    def needs_scan(self) -> bool:
        """True when `keys` cannot rule the set out (letterless terms; CJK needs non-ASCII)."""
        return self._always

    @property
    def has_cjk(self) -> bool:
        """True when some term is Chinese/Japanese/Korean (only non-ASCII text can match it)."""
        return bool(self._cjk)

    def found(self, text: str, tokens: frozenset[str]) -> bool:
        """True when a term occurs in `text` (normalised) whose word tokens are `tokens`."""
        for term in self._cjk:
            if term in text:
                return True
        if self._regex is None:
            return False
        # The token set rules most brands out without running their regex.
        if not self._always and self._keys.isdisjoint(tokens):
            return False
        return self._regex.search(text) is not None


# --- boolean queries -------------------------------------------------------------------------


class QuerySyntaxError(ValueError):
    """A boolean query that cannot be parsed; `position` is the 1-based character column."""

    def __init__(self, query: str, position: int, problem: str) -> None:
        self.query = query
        self.position = position
        self.problem = problem
        super().__init__(
            f"{problem} at character {position} of query {query!r} "
            "(write terms joined by AND, OR, NOT and parentheses; quote phrases with \")"
        )


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "term", "phrase", "and", "or", "not", "(", ")"
    text: str
    position: int  # 1-based


_QUERY_TOKEN = re.compile(r'(?P<paren>[()])|"(?P<phrase>[^"]*)"|(?P<word>[^\s()"]+)|(?P<quote>")')
_SPACE = re.compile(r"\s*")
_OPERATORS = {"AND": "and", "OR": "or", "NOT": "not"}


def _tokenise(query: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = _SPACE.match(query).end()  # type: ignore[union-attr]  # \s* always matches
    while pos < len(query):
        match = _QUERY_TOKEN.match(query, pos)
        assert match is not None  # every non-space character starts some token
        start = pos + 1
        if match.group("paren"):
            tokens.append(_Token(match.group("paren"), match.group("paren"), start))
        elif match.group("phrase") is not None:
            phrase = match.group("phrase")
            if not _SEPARATORS.sub("", normalise(phrase)):
                raise QuerySyntaxError(query, start, "empty quoted phrase")
            tokens.append(_Token("phrase", phrase, start))
        elif match.group("word"):
            word = match.group("word")
            tokens.append(_Token(_OPERATORS.get(word, "term"), word, start))
        else:
            raise QuerySyntaxError(query, start, "unterminated quote")
        pos = _SPACE.match(query, match.end()).end()  # type: ignore[union-attr]
    return tokens


@dataclass(frozen=True, slots=True)
class QueryTerm:
    """A word or quoted phrase in a query."""

    text: str


@dataclass(frozen=True, slots=True)
class QueryNot:
    """NOT operand."""

    operand: QueryNode


@dataclass(frozen=True, slots=True)
class QueryAnd:
    """All operands hold."""

    operands: tuple[QueryNode, ...]


@dataclass(frozen=True, slots=True)
class QueryOr:
    """At least one operand holds."""

    operands: tuple[QueryNode, ...]


QueryNode = QueryTerm | QueryNot | QueryAnd | QueryOr


class _QueryParser:
    """Recursive descent; precedence NOT > AND (explicit or implied by adjacency) > OR."""

    def __init__(self, query: str) -> None:
        self.query = query
        self.tokens = _tokenise(query)
        self.index = 0

    def _peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def _end_position(self) -> int:
        return len(self.query.rstrip()) + 1

    def _fail(self, problem: str, token: _Token | None) -> QuerySyntaxError:
        position = token.position if token is not None else self._end_position()
        return QuerySyntaxError(self.query, position, problem)

    def parse(self) -> QueryNode:
        if not self.tokens:
            raise QuerySyntaxError(self.query, 1, "empty query")
        node = self._or()
        token = self._peek()
        if token is not None:
            problem = "unmatched ')'" if token.kind == ")" else f"unexpected {token.text!r}"
            raise self._fail(problem, token)
        return node

    def _or(self) -> QueryNode:
        operands = [self._and()]
        while (token := self._peek()) is not None and token.kind == "or":
            self.index += 1
            operands.append(self._and(after=token))
        return operands[0] if len(operands) == 1 else QueryOr(tuple(operands))

    def _and(self, after: _Token | None = None) -> QueryNode:
        operands = [self._not(after)]
        while (token := self._peek()) is not None and token.kind not in ("or", ")"):
            if token.kind == "and":
                self.index += 1
                operands.append(self._not(after=token))
            else:
                operands.append(self._not(after=None))  # adjacent terms: implicit AND
        return operands[0] if len(operands) == 1 else QueryAnd(tuple(operands))

    def _not(self, after: _Token | None) -> QueryNode:
        token = self._peek()
        if token is not None and token.kind == "not":
            self.index += 1
            return QueryNot(self._not(after=token))
        return self._primary(after)

    def _primary(self, after: _Token | None) -> QueryNode:
        token = self._peek()
        if token is None or token.kind in ("and", "or", ")"):
            if after is not None:
                where = f"after {after.text}"
            elif token is not None and token.kind == ")":
                where = "before ')'"
            else:
                where = "here"
            problem = f"expected a term, a quoted phrase or '(' {where}"
            raise self._fail(problem, token)
        self.index += 1
        if token.kind in ("term", "phrase"):
            return QueryTerm(token.text)
        # token.kind == "("
        node = self._or()
        closing = self._peek()
        if closing is None or closing.kind != ")":
            raise QuerySyntaxError(self.query, token.position, "'(' is never closed")
        self.index += 1
        return node


def parse_query(query: str) -> QueryNode:
    """Parse a boolean query (AND/OR/NOT, parentheses, quoted phrases); QuerySyntaxError if bad.

    Operators are upper case; lower-case "and", "or", "not" are ordinary words. Adjacent terms
    are joined by an implicit AND, and `a NOT b` means `a AND NOT b`.
    """
    return _QueryParser(query).parse()


class _CompiledQuery:
    """A parsed query whose terms are compiled once."""

    __slots__ = ("_root",)

    def __init__(self, root: QueryNode) -> None:
        self._root = self._compile(root)

    def _compile(self, node: QueryNode) -> object:
        if isinstance(node, QueryTerm):
            return TermSet([node.text])
        if isinstance(node, QueryNot):
            return ("not", self._compile(node.operand))
        kind = "and" if isinstance(node, QueryAnd) else "or"
        return (kind, tuple(self._compile(child) for child in node.operands))

    def holds(self, text: str, tokens: frozenset[str]) -> bool:
        """Evaluate against a normalised text."""
        return self._eval(self._root, text, tokens)

    def _eval(self, node: object, text: str, tokens: frozenset[str]) -> bool:
        if isinstance(node, TermSet):
            return node.found(text, tokens)
        assert isinstance(node, tuple)
        kind, operand = node
        if kind == "not":
            return not self._eval(operand, text, tokens)
        if kind == "and":
            return all(self._eval(child, text, tokens) for child in operand)
        return any(self._eval(child, text, tokens) for child in operand)


# --- brands ----------------------------------------------------------------------------------


def _language_code(lang: str) -> str:
    """"en-US", "EN", "en_GB" -> "en"."""
    return lang.strip().replace("_", "-").split("-", 1)[0].lower()


def _handle(value: str) -> str:
    return normalise(value.strip()).lstrip("@")


class _CompiledBrand:
    __slots__ = ("exclusions", "handles", "languages", "name", "query", "terms")

    def __init__(self, brand: BrandConfig) -> None:
        self.name = brand.name
        self.terms = TermSet(brand.terms())
        self.exclusions = TermSet(brand.exclusions)
        self.handles = frozenset(h for h in (_handle(x) for x in brand.handles) if h)
        self.languages = frozenset(_language_code(x) for x in brand.languages if x.strip())
        self.query: _CompiledQuery | None = None
        if brand.query is not None and brand.query.strip():
            try:
                self.query = _CompiledQuery(parse_query(brand.query))
            except QuerySyntaxError as exc:
                raise ValueError(f"brand {brand.name!r}: {exc}") from None


class BrandMatcher:
    """Finds which configured brands a mention is about; built once, called per mention."""

    def __init__(self, brands: Sequence[BrandConfig]) -> None:
        self._brands = tuple(_CompiledBrand(b) for b in brands)
        # Which brands a text's words can concern, so most brands are skipped per mention.
        by_key: dict[str, list[int]] = {}
        for i, brand in enumerate(self._brands):
            for key in brand.terms.keys:
                by_key.setdefault(key, []).append(i)
        self._by_key = {key: tuple(ids) for key, ids in by_key.items()}
        self._keys = frozenset(by_key)
        self._always = frozenset(i for i, b in enumerate(self._brands) if b.terms.needs_scan)
        self._cjk = frozenset(i for i, b in enumerate(self._brands) if b.terms.has_cjk)

    @property
    def brand_names(self) -> tuple[str, ...]:
        """Configured brand names, in config order."""
        return tuple(b.name for b in self._brands)

    def match(
        self, text: str, lang: str | None = None, author: str | None = None
    ) -> tuple[str, ...]:
        """Names of the brands `text` is about, in config order (empty when none)."""
        if not text:
            return ()
        norm = normalise(text)
        tokens = frozenset(_WORD.findall(norm))
        code = _language_code(lang) if lang else ""
        who = _handle(author) if author else ""
        candidates = set(self._always)
        for key in tokens & self._keys:
            candidates.update(self._by_key[key])
        if self._cjk and not norm.isascii():
            candidates.update(self._cjk)
        found: list[str] = []
        for i in sorted(candidates):
            brand = self._brands[i]
            if code and brand.languages and code not in brand.languages:
                continue
            if who and who in brand.handles:
                continue
            if not brand.terms.found(norm, tokens):
                continue
            if brand.query is not None and not brand.query.holds(norm, tokens):
                continue
            if brand.exclusions and brand.exclusions.found(norm, tokens):
                continue
            found.append(brand.name)
        return tuple(found)
