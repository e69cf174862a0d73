"""Held-out synthetic campaigns for the claim benchmark (`eval_claims.py --campaigns heldout`).

Thirteen campaigns about Spotify, written without sight of the detection rules or of the
development set's phrase banks, to be injected into the real background stream of support
tweets (2017-10-04 .. 2017-12-03): six harm claims (two health/safety claims overlap in time on
one day), a debunk of the privacy claim, five hard negatives that borrow the claims' vocabulary
without making a claim (a hospital recovery story, fact-checks of a rumour that never
circulated, praise written with negations, jokes and idioms, questions and hypotheticals) and a
complaint storm about an outage.

Every text, handle, outlet, product, event and person here is invented; article links use the
reserved `.example` TLD and platform links only have the real shapes. Two claims carry ~20%
posts in Spanish, French, German and Portuguese. Deterministic from `seed`; stdlib only.

    python benchmarks/campaigns_heldout.py   # per-campaign summary and consistency checks
"""

from __future__ import annotations

import math
import random
import re
import string
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

Post = dict[str, Any]

START = datetime(2017, 10, 4, tzinfo=UTC)
PLATFORMS = ("x", "reddit", "youtube", "bluesky", "mastodon", "rss")
KINDS = ("claim", "negative", "debunk")
CATEGORIES = ("health_safety", "fraud_scam", "legal_regulatory", "privacy_security",
              "discrimination_ethics", "boycott")
LANGS = ("en", "es", "fr", "de", "pt")
BRAND = re.compile(r"(?<!\w)spotify(?!\w)", re.IGNORECASE)  # the brand as a word of its own
LINK_HOSTS = (".example", "youtube.com", "youtu.be", "reddit.com", "redd.it")


@dataclass(frozen=True)
class Campaign:
    """One injected campaign: its posts in replay-record form, sorted by published_at."""

    name: str
    kind: str  # claim | negative | debunk
    category: str  # expected harm category of a claim; "none" otherwise
    description: str
    posts: list[Post]
    debunks: str | None = None  # kind "debunk": the claim campaign it answers


# --------------------------------------------------------------------------------------------
# Campaign description types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bank:
    """Phrasings in one language; "{S}" marks where the brand goes."""

    core: tuple[str, ...]  # the campaign's assertion (or, for negatives, its gist)
    personal: tuple[str, ...] = ()  # first-person versions
    details: tuple[str, ...] = ()  # a second sentence
    openers: tuple[str, ...] = ()  # lead-ins before the core
    tails: tuple[str, ...] = ()  # closing remarks
    reacts: tuple[str, ...] = ()  # posts that only react
    shares: tuple[str, ...] = ()  # a few words before a link
    replies: tuple[str, ...] = ()  # answers in a thread
    titles: tuple[str, ...] = ()  # headlines for reddit, youtube and rss posts


@dataclass(frozen=True)
class Anchor:
    """A hand-written post at a fixed hour: the source, big accounts, news coverage."""

    at_h: float
    platform: str
    author: str
    reach: int | None
    text: str  # body; a title is put in front on reddit, youtube and rss
    title: str | None = None
    lang: str = "en"
    source: bool = False  # its address is the campaign's link
    link: bool = False  # its text carries the campaign's link
    url: str | None = None  # rss: the article's own address, "{date}" = yyyy/mm/dd
    sub: str | None = None  # reddit: the subreddit
    reply_to: int | None = None  # index of an earlier anchor it answers


@dataclass(frozen=True)
class Spec:
    """Everything needed to write one campaign."""

    name: str
    abbr: str
    kind: str
    category: str
    description: str
    day: int  # days after start
    hour: float  # UTC hour of the first post
    size: int
    span_h: float
    peak_h: float
    curve: str  # viral | flat | storm
    platforms: dict[str, float]
    banks: dict[str, Bank]
    foreign: dict[str, float] = field(default_factory=dict)  # language -> share of posts
    anchors: tuple[Anchor, ...] = ()
    modes: dict[str, float] = field(default_factory=lambda: dict(_CLAIM_MODES))
    link_rate: float = 0.55  # top-level posts carrying the link
    reply_rate: float = 0.22
    subs: tuple[tuple[str, int], ...] = (("spotify", 164_000),)
    hashtags: tuple[str, ...] = ()
    emoji: tuple[str, ...] = ()
    typo_rate: float = 0.15
    debunks: str | None = None


@dataclass
class _Meta:
    """What the writer remembers about a post it has written."""

    platform: str
    author: str
    at: datetime
    lang: str
    thread: tuple[str, ...] = ()  # reddit: (sub, native id, slug, reach); youtube: (video id,)
    parent: _Meta | None = None
    top: bool = True  # a post or video people can comment under


_CLAIM_MODES = {"standard": 0.42, "personal": 0.14, "retell": 0.13, "react": 0.11,
                "share": 0.10, "short": 0.10}
_CALM_MODES = {"standard": 0.62, "retell": 0.06, "react": 0.12, "short": 0.20}
_SOCIAL = ("x", "bluesky", "mastodon")
_TITLED = ("reddit", "youtube", "rss")

# --------------------------------------------------------------------------------------------
# Small helpers: ids, addresses, links
# --------------------------------------------------------------------------------------------

_B36 = string.digits + string.ascii_lowercase
_B32 = "234567abcdefghijklmnopqrstuvwxyz"
_URLSAFE = string.ascii_letters + string.digits + "-_"


def _iso(at: datetime) -> str:
    """ISO-8601 UTC with a Z."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    """One key, drawn by weight."""
    keys = list(weights)
    return rng.choices(keys, [weights[k] for k in keys])[0]


def _yt_id(rng: random.Random) -> str:
    """An 11-character video id (the last character carries only 4 bits)."""
    return "".join(rng.choice(_URLSAFE) for _ in range(10)) + rng.choice("AEIMQUYcgkosw048")


def _yt_comment_id(rng: random.Random) -> str:
    """A top-level comment id in YouTube's shape."""
    return "Ug" + rng.choice("xyzw") + "".join(rng.choice(_URLSAFE) for _ in range(19)) + "4AaABAg"


def _reddit_native(rng: random.Random, prefix: str) -> str:
    """A base-36 reddit id of late 2017 (posts start '7', comments 'do')."""
    return prefix + "".join(rng.choice(_B36) for _ in range(7 - len(prefix) - (prefix == "7")))


def _slug(title: str, limit: int = 50) -> str:
    """Reddit's and news sites' slug of a headline."""
    slug = ""
    for word in re.findall(r"[a-z0-9]+", _fold(title.lower())):
        if len(slug) + len(word) + 1 > limit:
            break
        slug = f"{slug}_{word}" if slug else word
    return slug or "post"


def _fold(text: str) -> str:
    """Text without accents."""
    folded = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(c for c in folded if not unicodedata.combining(c)))


def _snowflake(rng: random.Random, at: datetime) -> str:
    """An X status id: milliseconds since X's epoch in the high bits."""
    ms = int(at.timestamp() * 1000) + rng.randrange(1000)
    return str(((ms - 1_288_834_974_657) << 22) | rng.getrandbits(22))


def _mastodon_id(rng: random.Random, at: datetime) -> str:
    """A Mastodon status id (time in the high bits)."""
    return str((int(at.timestamp() * 1000) << 16) | rng.getrandbits(16))


def _bsky_tid(rng: random.Random, at: datetime) -> str:
    """A Bluesky record key (TID): microseconds and a clock id in base-32-sortable."""
    value = ((int(at.timestamp() * 1_000_000) + rng.randrange(1000)) << 10) | rng.randrange(1024)
    return "".join(_B32[(value >> (5 * i)) & 31] for i in reversed(range(13)))


def _link_variant(rng: random.Random, url: str) -> str:
    """The same address the way people paste it: short hosts, tracking tags, mobile pages."""
    if m := re.match(r"https://www\.youtube\.com/watch\?v=([\w-]{11})$", url):
        vid, t = m.group(1), rng.randint(15, 300)
        return rng.choice((url, url, f"https://youtu.be/{vid}", f"https://youtu.be/{vid}",
                           f"https://m.youtube.com/watch?v={vid}", f"{url}&t={t}s",
                           f"https://youtu.be/{vid}?t={t}", f"{url}&feature=share"))
    if m := re.match(r"https://www\.reddit\.com/r/(\w+)/comments/(\w+)/(\w+)/$", url):
        sub, native, slug = m.groups()
        return rng.choice((url, url, f"https://old.reddit.com/r/{sub}/comments/{native}/{slug}/",
                           f"https://redd.it/{native}", f"https://reddit.com/r/{sub}/comments/{native}/",
                           url + "?utm_source=share&utm_medium=ios_app",
                           url + "?utm_source=share&utm_medium=android_app"))
    m = re.match(r"https://(?:www\.)?([^/]+)(/.*)$", url)
    if not m:
        return url
    host, path = m.groups()
    return rng.choice((url, url, url, f"https://{host}{path}", f"http://{host}{path}",
                       url + "?utm_source=twitter&utm_medium=social",
                       url + "?utm_source=fb&utm_medium=referral&utm_campaign=share",
                       url + "?utm_campaign=newsletter&utm_medium=email", f"https://m.{host}{path}",
                       url.rstrip("/"), f"https://{host}/amp{path}"))


def _link_key(url: str) -> str:
    """What every variant of a link has in common (video id, reddit id, or host-less path)."""
    if m := re.search(r"(?:v=|youtu\.be/)([\w-]{11})", url):
        return m.group(1)
    if m := re.search(r"(?:comments/|redd\.it/)(\w+)", url):
        return m.group(1)
    return re.sub(r"^https?://[^/]+(/amp)?", "", url).rstrip("/")


# --------------------------------------------------------------------------------------------
# Text helpers: brand, case, punctuation, typos
# --------------------------------------------------------------------------------------------

_KEEP_CASE = {"I", "I'm", "I've", "I'd", "I'll", "EU", "ICU", "Discover", "Release", "Daily",
              "Bandcamp", "Chicago", "Premium", "Loop", "Wrapped", "Fresh", "Windows", "Mac",
              "Dalia", "Little", "Motown", "Black", "Family"}
_ENDS = (".", ".", ".", "", "", "", "!", "!!", "...")
_SHOUT = {"never", "literally", "stop", "burned", "burning", "sick", "fraud", "boycott", "every",
          "again", "still", "kids", "children", "nothing", "fake", "recording", "everyone",
          "illegal", "cancel", "down", "scam", "real", "true", "safe", "free", "crying"}
_TOKEN = re.compile(r"^(\W*)([^\W\d_]{4,})(\W*)$")
_FILLERS = ("tbh", "honestly", "ngl", "fr", "smh", "lol", "like", "seriously", "btw", "rn")


def _brand(rng: random.Random, text: str, social: bool) -> str:
    """Write each "{S}" as people write the brand."""
    def one(m: re.Match[str]) -> str:
        after = text[m.end():m.end() + 1]
        options = [("Spotify", 70), ("spotify", 16), ("SPOTIFY", 3)]
        if social and after in ("", " ", ",", ".", "?", "!"):
            options.append(("@Spotify", 11))
        return rng.choices([o for o, _ in options], [w for _, w in options])[0]
    return re.sub(r"\{S\}", one, text)


def _lc(text: str, lang: str) -> str:
    """Lower-case the first letter after a lead-in, unless it starts a name or a shout."""
    if not text or lang == "de":
        return text
    first = text.split(" ", 1)[0]
    if (first in _KEEP_CASE or first[0] in "{@#\"'«„" or not first[0].isalpha()
            or (first.isupper() and len(first) > 1)):
        return text
    return text[0].lower() + text[1:]


def _cap(text: str) -> str:
    """Upper-case the first letter."""
    return text[0].upper() + text[1:] if text and text[0].islower() else text


def _close(rng: random.Random, text: str, more: bool = False) -> str:
    """End a sentence the way people do: a stop, nothing, or '!!'."""
    if not text or text.split(" ")[-1].startswith(("#", "@", "http")):
        return text
    if not (text[-1].isalnum() or text[-1] in "\"'”»)"):
        return text
    return text + rng.choice((".", ".", ".", "!", "...", "") if more else _ENDS)


def _join(rng: random.Random, parts: list[str]) -> str:
    """Sentences into one post; later ones mostly capitalised."""
    out = []
    for i, part in enumerate(p for p in parts if p):
        if i and rng.random() < 0.75:
            part = _cap(part)
        out.append(part)
    return " ".join(_close(rng, p, more=i < len(out) - 1) for i, p in enumerate(out))


def _protected(token: str) -> bool:
    """Links, handles, hashtags and the brand survive typos."""
    return token.startswith(("http", "@", "#")) or "potify" in token.lower()


def _mutate(rng: random.Random, text: str, how: str) -> str:
    """One typo in one word: a dropped, swapped or doubled letter."""
    tokens = text.split(" ")
    spots = [i for i, t in enumerate(tokens) if not _protected(t) and _TOKEN.match(t)]
    if not spots:
        return text
    i = rng.choice(spots)
    m = _TOKEN.match(tokens[i])
    assert m is not None
    pre, word, post = m.groups()
    j = rng.randrange(1, len(word) - 2)
    if how == "drop":
        word = word[:j] + word[j + 1:]
    elif how == "swap":
        word = word[:j] + word[j + 1] + word[j] + word[j + 2:]
    else:
        word = word[:j] + word[j] + word[j:]
    tokens[i] = pre + word + post
    return " ".join(tokens)


def _tokens(text: str, fn: Any) -> str:
    """Apply fn to every unprotected token."""
    return " ".join(t if _protected(t) else fn(t) for t in text.split(" "))


def _typos(rng: random.Random, text: str, lang: str) -> str:
    """One or two slips: typos, all lower case, no punctuation, missing accents."""
    ops = ["drop", "swap", "double", "drop", "swap", "lower", "nopunct"]
    if lang != "en":
        ops += ["accents", "accents"]
    for op in rng.sample(ops, rng.choice((1, 1, 2))):
        if op in ("drop", "swap", "double"):
            text = _mutate(rng, text, op)
        elif op == "lower":
            text = _tokens(text, str.lower)
        elif op == "nopunct":
            text = _tokens(text, lambda t: re.sub(r"[.,;:'’]", "", t) or t)
        else:
            text = _tokens(text, _fold)
    return re.sub(r" {2,}", " ", text).strip()


def _shout(rng: random.Random, text: str) -> str:
    """One word in capitals (an emphatic one when there is one), or rarely the whole post."""
    if rng.random() < 0.2:
        return _tokens(text, str.upper)
    tokens = text.split(" ")
    spots = [i for i, t in enumerate(tokens) if not _protected(t) and _TOKEN.match(t)]
    keen = [i for i in spots if _TOKEN.match(tokens[i]).group(2).lower() in _SHOUT]  # type: ignore[union-attr]
    if keen or spots:
        i = rng.choice(keen or spots)
        tokens[i] = tokens[i].upper()
    return " ".join(tokens)


def _key(text: str) -> str:
    """What makes two posts the same post: words without links, handles and punctuation."""
    text = re.sub(r"https?://\S+|@\S+", " ", text.lower())
    return " ".join(re.findall(r"\w+", text))


# --------------------------------------------------------------------------------------------
# People: handles and reach
# --------------------------------------------------------------------------------------------

_FIRST = ("maya", "jonas", "priya", "tomas", "keisha", "liam", "sofia", "dev", "hannah", "omar",
          "lucia", "ben", "aisha", "marco", "jess", "noah", "ines", "kai", "rosa", "theo", "amara",
          "felix", "nadia", "sam", "chloe", "raj", "elena", "jamal", "freya", "leo", "mina", "oscar",
          "tasha", "yusuf", "clara", "diego", "emma", "hugo", "lena", "malik", "nina", "pablo",
          "quinn", "rhea", "sven", "talia", "uri", "vera", "wes", "zoe", "bea", "cato", "dara",
          "ezra", "gia", "ivo", "jade", "kofi", "luz", "milo")
_NOUN = ("vinyl", "static", "comet", "maple", "harbor", "pixel", "cactus", "echo", "lantern",
         "river", "tiger", "velvet", "orbit", "biscuit", "thunder", "willow", "nova", "pepper",
         "falcon", "canyon", "mango", "ember", "cobalt", "sparrow", "meadow", "atlas", "juniper",
         "basil", "glitch", "reverb", "bassline", "tempo", "chorus", "sunset", "lemon", "otter",
         "pine", "quartz", "raven", "saffron", "tundra", "walrus", "zephyr", "moth", "fig", "kettle")
_ADJ = ("quiet", "sleepy", "loud", "lucky", "cosmic", "salty", "tiny", "brave", "lazy", "neon",
        "rusty", "soft", "wild", "grumpy", "sunny", "odd", "misty", "fuzzy", "golden", "hollow",
        "crispy", "lost", "electric", "gentle", "spicy", "frozen", "indie", "retro", "shy")
_LAST = ("Okoro", "Brennan", "Silva", "Novak", "Haddad", "Lindqvist", "Moreau", "Tanaka",
         "Reyes", "Fischer", "Kowalski", "Mensah", "Duarte", "Ivanova", "Quinlan", "Abara",
         "Petrov", "Santos", "Weber", "Nakamura", "Oyelaran", "Castillo", "Byrne", "Varga")
_MASTODON_HOSTS = ("mastodon.social", "mastodon.social", "mastodon.online", "mstdn.social",
                   "fosstodon.org", "hachyderm.io", "mas.to", "infosec.exchange")


def _handle(rng: random.Random, platform: str) -> str:
    """A new invented handle in the platform's style."""
    f, n, a = rng.choice(_FIRST), rng.choice(_NOUN), rng.choice(_ADJ)
    num = str(rng.choice((rng.randrange(10, 99), rng.randrange(1980, 2005), rng.randrange(100, 999))))
    if platform == "youtube":
        last = rng.choice(_LAST)
        return rng.choice((f"{f.title()} {last}", f"{f} {last.lower()}", f"{a.title()} {n.title()}",
                           f"{f}{num}", f"{f.title()} {last[0]}."))
    if platform == "reddit":
        return rng.choice((f"{a.title()}-{n.title()}-{num}", f"{a}{n}{num}", f"{f}_{n}",
                           f"throwaway_{num}{rng.randrange(10)}", f"{n}_{a}"))
    base = rng.choice((f"{f}{n}", f"{f}_{n}", f"{a}{n}", f"{f}{num}", f"{n}{f}",
                       f"{f}.{rng.choice(_LAST).lower()}", f"{a}_{f}{num[-2:]}"))
    if platform == "bluesky":
        return f"{base.replace('_', '-')}.bsky.social"
    if platform == "mastodon":
        return f"{base.replace('.', '_')}@{rng.choice(_MASTODON_HOSTS)}"
    return base.replace(".", "_")


def _reach(rng: random.Random, platform: str, top: bool) -> int | None:
    """Followers of an ordinary account (channel subscribers for a video)."""
    medians = {"x": 320, "bluesky": 160, "mastodon": 230}
    if platform in medians:
        return max(3, min(15_000, int(rng.lognormvariate(math.log(medians[platform]), 1.2))))
    if platform == "youtube" and top:
        return max(20, min(18_000, int(rng.lognormvariate(math.log(1800), 1.3))))
    return None


# --------------------------------------------------------------------------------------------
# Engagement
# --------------------------------------------------------------------------------------------


def _engagement(rng: random.Random, platform: str, at: datetime, reach: int | None, big: bool,
                top: bool) -> list[dict[str, Any]]:
    """Cumulative snapshots after publication; YouTube has no shares, Reddit no shares or views."""
    if platform == "rss":
        return []
    count = rng.randint(3, 6) if big else rng.choice((0, 1, 1, 1, 2, 2, 3) if top else (0, 0, 1, 1, 2))
    if count == 0:
        return []
    audience = reach if reach and platform != "reddit" else rng.randint(80, 900)
    likes = max(1, int(audience * rng.uniform(0.01, 0.06 if big else 0.04))) + rng.randint(0, 5)
    if platform == "reddit" and top:
        likes = int(rng.lognormvariate(math.log(140), 1.0))
    final = {"likes": likes, "shares": int(likes * rng.uniform(0.15, 0.5)),
             "comments": int(likes * rng.uniform(0.04, 0.25)) + rng.randint(0, 2),
             "views": int(audience * rng.uniform(0.8, 4.0)) + likes * 6}
    tau = rng.uniform(1.5, 6.0)
    t = rng.uniform(0.15, 0.7)
    snaps: list[dict[str, Any]] = []
    for _ in range(count):
        frac = 1 - math.exp(-t / tau)
        snap = {"at": _iso(at + timedelta(hours=t))}
        for k, v in final.items():
            value = int(v * frac)
            if snaps and big and k == "likes":
                value = max(value, snaps[-1][k] + rng.randint(1, 9))
            snap[k] = max(value, snaps[-1][k] if snaps else 0)
        snaps.append(snap)
        t *= rng.uniform(1.8, 3.0)
    for snap in snaps:
        if platform in ("youtube", "reddit"):
            snap["shares"] = None
        if platform in ("reddit", "bluesky", "mastodon") or (platform == "youtube" and not top):
            snap["views"] = None
    return [{k: s[k] for k in ("at", "likes", "shares", "comments", "views")} for s in snaps]


# --------------------------------------------------------------------------------------------
# The writer: spec -> posts
# --------------------------------------------------------------------------------------------

_RETELL = {
    "en": ("apparently {q}", 'saw this going around: "{Q}"', "RT @{h}: {Q}", '"{Q}" (via @{h})',
           'my group chat is all "{q}"', "someone on reddit says {q}", "so people are saying {q}??",
           "reading that {q}", 'quote: "{Q}"', "my sister just sent me this: {q}",
           "heard from a friend that {q}", "wait so {q}?", "the thread says {q}"),
    "es": ("dicen que {q}", "RT @{h}: {Q}", "«{Q}» vía @{h}", "leo que {q}",
           "me acaban de pasar esto: {q}", "¿en serio {q}?"),
    "fr": ("il paraît que {q}", "RT @{h} : {Q}", "« {Q} » via @{h}", "je lis que {q}",
           "on me transfère ça : {q}", "donc {q} ?"),
    "de": ("angeblich: {Q}", "RT @{h}: {Q}", "„{Q}“ via @{h}", "lese gerade: {Q}",
           "hab gerade gelesen: {Q}", "Also echt jetzt: {Q}?"),
    "pt": ("tão dizendo que {q}", "RT @{h}: {Q}", '"{Q}" via @{h}', "li que {q}",
           "me mandaram isso: {q}", "então {q}?"),
}


class _Writer:
    """Writes one campaign's posts in time order."""

    def __init__(self, spec: Spec, start: datetime, seed: int, used: set[str],
                 answered: list[Post]) -> None:
        self.spec = spec
        self.rng = random.Random(f"heldout:{seed}:{spec.name}")
        self.t0 = start + timedelta(days=spec.day, hours=spec.hour)
        self.used = used  # handles taken across all campaigns
        self.answered = answered  # a debunk's claim posts, which it may reply to
        self.posts: list[Post] = []
        self.metas: list[_Meta] = []
        self.keys: set[str] = set()
        self.link: str | None = None
        self.x_handles = [a.author for a in spec.anchors if a.platform == "x"]

    def run(self) -> list[Post]:
        """All posts, sorted by time."""
        for i, (at, anchor) in enumerate(self._slots()):
            if anchor is not None:
                self._anchor(i, at, anchor)
            else:
                self._post(i, at)
        return self.posts

    # -- timing ------------------------------------------------------------------------------

    def _slots(self) -> list[tuple[datetime, Anchor | None]]:
        """Publication times: anchors at their hours, the rest along the campaign's curve."""
        spec, rng = self.spec, self.rng
        slots: list[tuple[float, Anchor | None]] = [(a.at_h, a) for a in spec.anchors]
        slots += [(self._offset(), None) for _ in range(spec.size - len(spec.anchors))]
        slots.sort(key=lambda s: (s[0], s[1] is None))
        return [(self.t0 + timedelta(seconds=int(h * 3600) + (0 if a else rng.randrange(60))), a)
                for h, a in slots]

    def _offset(self) -> float:
        """Hours after the first post, drawn from the campaign's curve."""
        spec, rng = self.spec, self.rng
        while True:
            if spec.curve == "flat":
                h = rng.uniform(0.1, spec.span_h)
                hour = (spec.hour + h) % 24  # busier in European and American daytime
                if rng.random() > 0.35 + 0.65 * max(0.0, math.sin(math.pi * (hour - 7) / 20)):
                    continue
            elif spec.curve == "storm":
                h = rng.gammavariate(2.0, spec.peak_h)
            elif rng.random() < 0.8:
                h = rng.gammavariate(3.0, spec.peak_h / 2)  # slow first hour, mode at peak_h
            else:
                h = rng.uniform(spec.peak_h, spec.span_h)
            if 0.03 < h <= spec.span_h:
                return h

    # -- anchors -----------------------------------------------------------------------------

    def _anchor(self, i: int, at: datetime, a: Anchor) -> None:
        """A hand-written post: the source, a big account or an outlet."""
        rng = self.rng
        parent = self.metas[a.reply_to] if a.reply_to is not None else None
        text = a.text
        if a.link and self.link:
            text = f"{text} {_link_variant(rng, self.link)}"
        url, thread = self._address(a.platform, at, a.author, a.title, parent, a.sub, a.url)
        if a.platform == "reddit" and parent is None:
            thread = thread[:3] + (str(a.reach),)
        if a.source:
            self.link = url
        if a.title:
            text = f"{a.title}\n{text}" if a.platform == "rss" else f"{a.title} {text}"
        meta = _Meta(a.platform, a.author, at, a.lang, thread, parent, parent is None)
        self._emit(i, at, meta, text, a.title, a.reach, url, big=(a.reach or 0) >= 20_000)

    # -- ordinary posts ----------------------------------------------------------------------

    def _post(self, i: int, at: datetime) -> None:
        """One ordinary post: platform, language, author, text, address."""
        spec, rng = self.spec, self.rng
        if self.answered and rng.random() < 0.3 and self._answer(i, at):
            return
        platform = _pick(rng, spec.platforms)
        parent = self._parent(at, platform)
        if parent is not None:
            platform = parent.platform
        lang = self._lang(platform, parent)
        author = self._author(platform, parent)
        top = parent is None and platform in ("reddit", "youtube")
        title = None
        text, title = self._unique(lambda: self._text(platform, lang, parent, top))
        sub = rng.choice(spec.subs) if platform == "reddit" and top else None
        url, thread = self._address(platform, at, author, title, parent, sub[0] if sub else None)
        if sub:
            thread = thread[:3] + (str(sub[1]),)
        reach = int(thread[3]) if platform == "reddit" else _reach(rng, platform, top)
        meta = _Meta(platform, author, at, lang, thread, parent, top or platform in _SOCIAL)
        self._emit(i, at, meta, text, title, reach, url)

    def _unique(self, write: Any) -> tuple[str, str | None]:
        """Write until the text differs from every earlier post of the campaign."""
        for attempt in range(80):
            text, title = write()
            if attempt > 40:
                text = f"{text} {self.rng.choice(_FILLERS)}"
            if _key(text) not in self.keys:
                break
        return text, title

    def _answer(self, i: int, at: datetime) -> bool:
        """A debunk post written as a reply to an earlier post of the claim it answers."""
        rng = self.rng
        early = [p for p in self.answered if p["platform"] in _SOCIAL
                 and p["published_at"] < _iso(at - timedelta(seconds=90))]
        if not early:
            return False
        target = rng.choice(early)
        platform, bank = target["platform"], self.spec.banks["en"]
        author = self._author(platform, None)

        def write() -> tuple[str, None]:
            body = self._decorate(self._compose(rng.choice(("reply", "reply", "standard")), bank,
                                                "en", True), "en", True, platform)
            if self.link and rng.random() < 0.4:
                body = f"{body} {_link_variant(rng, self.link)}"
            return f"@{target['author'].split('@')[0]} {_brand(rng, body, True)}", None

        text, _ = self._unique(write)
        if not BRAND.search(text):
            text = f"{text} (Spotify)"
        url, _thread = self._address(platform, at, author, None, None, None)
        meta = _Meta(platform, author, at, "en", (), None, True)
        self._emit(i, at, meta, text, None, _reach(rng, platform, True), url, parent_id=target["id"])
        return True

    def _parent(self, at: datetime, platform: str) -> _Meta | None:
        """An earlier post to answer, or None: threads on reddit and youtube, replies elsewhere."""
        rng, spec = self.rng, self.spec
        early = [m for m in self.metas if m.top and (at - m.at).total_seconds() >= 90]
        want = spec.reply_rate
        if platform in ("reddit", "youtube"):
            want = 0.75
            early = [m for m in early if m.platform == platform]
        if not early or rng.random() >= want:
            return None
        weights = [(6.0 if m.parent is None else 1.0) * (3.0 if m.author in self._big else 1.0)
                   for m in early]
        return rng.choices(early, weights)[0]

    @property
    def _big(self) -> set[str]:
        """Authors of the anchors."""
        return {a.author for a in self.spec.anchors}

    def _lang(self, platform: str, parent: _Meta | None) -> str:
        """English, or one of the campaign's other languages (not on reddit)."""
        if platform == "reddit" or not self.spec.foreign:
            return "en"
        if parent is not None and parent.lang != "en" and self.rng.random() < 0.7:
            return parent.lang
        roll = self.rng.random()
        for lang, share in self.spec.foreign.items():
            if roll < share:
                return lang
            roll -= share
        return "en"

    def _author(self, platform: str, parent: _Meta | None) -> str:
        """A new person, or now and then one already in the campaign (answering back)."""
        rng = self.rng
        if parent is not None and parent.parent is not None and rng.random() < 0.3:
            if parent.parent.platform == platform and parent.parent.author != parent.author:
                return parent.parent.author
        if rng.random() < 0.03:
            known = [m.author for m in self.metas if m.platform == platform]
            if known:
                return rng.choice(known)
        while True:
            handle = _handle(rng, platform)
            if handle not in self.used:
                self.used.add(handle)
                return handle

    # -- text --------------------------------------------------------------------------------

    def _text(self, platform: str, lang: str, parent: _Meta | None, top: bool) -> tuple[str, str | None]:
        """Body (with title in front where the platform has one) and the title."""
        spec, rng = self.spec, self.rng
        bank = spec.banks.get(lang, spec.banks["en"])
        social = platform in _SOCIAL
        if platform == "rss":
            return self._article(bank, lang)
        mode = self._mode(bank, parent)
        body = self._compose(mode, bank, lang, social)
        linkable = self.link is not None and (parent is None or rng.random() < 0.06)
        if mode == "share" and self.link:
            link = _link_variant(rng, self.link)
            body = f"{link} {body}" if rng.random() < 0.25 else f"{body} {link}"
        elif linkable and rng.random() < spec.link_rate / (1 - spec.modes.get("share", 0)):
            body = f"{body} {_link_variant(rng, self.link or '')}"
        body = self._decorate(body, lang, social, platform)
        if parent is not None and social and rng.random() < 0.7:
            body = f"@{parent.author.split('@')[0] if platform != 'mastodon' else parent.author} {body}"
        body = _brand(rng, body, social)
        if not BRAND.search(body):
            body = f"{body} {_brand(rng, rng.choice(('#{S}', '({S})', '{S}')), False)}"
            body = body if BRAND.search(body) else f"{body} Spotify"
        if not top:
            return body, None
        title = _brand(rng, self._title(bank, lang), False)
        return f"{title} {body}", title

    def _mode(self, bank: Bank, parent: _Meta | None) -> str:
        """Which kind of post to write."""
        rng = self.rng
        if parent is not None:
            modes = {"reply": 0.5 if bank.replies else 0.0, "react": 0.2, "standard": 0.15,
                     "personal": 0.15 if bank.personal else 0.0, "short": 0.1}
        else:
            modes = dict(self.spec.modes)
            if not bank.personal:
                modes.pop("personal", None)
            if not self.link or not bank.shares:
                modes.pop("share", None)
        if not bank.reacts:
            modes.pop("react", None)
        return _pick(rng, modes)

    def _compose(self, mode: str, bank: Bank, lang: str, social: bool) -> str:
        """The words of a post in the chosen mode."""
        rng = self.rng
        core = rng.choice(bank.core)
        if mode == "personal":
            parts = [rng.choice(bank.personal)]
            parts += [rng.choice(bank.details)] if bank.details and rng.random() < 0.3 else []
            parts += [rng.choice(bank.tails)] if bank.tails and rng.random() < 0.3 else []
            return _join(rng, parts)
        if mode == "react":
            return rng.choice(bank.reacts)
        if mode == "share":
            return rng.choice(bank.shares)
        if mode == "short":
            return _close(rng, core)
        if mode == "reply":
            parts = [rng.choice(bank.replies)]
            parts += [rng.choice(bank.tails)] if bank.tails and rng.random() < 0.25 else []
            return _join(rng, parts)
        if mode == "retell":
            frames = [f for f in _RETELL[lang] if social or "@{h}" not in f]
            handle = rng.choice(self.x_handles) if self.x_handles else _handle(rng, "x")
            text = rng.choice(frames).format(q=_lc(core, lang), Q=core, h=handle)
            return _join(rng, [text, rng.choice(bank.tails)] if bank.tails and rng.random() < 0.3 else [text])
        opener = rng.choice(bank.openers) if bank.openers and rng.random() < 0.45 else ""
        first = core if not opener else f"{opener} {core if opener.endswith(':') else _lc(core, lang)}"
        parts = [first]
        if bank.details and rng.random() < 0.5:
            parts.insert(len(parts) if rng.random() < 0.8 else 0, rng.choice(bank.details))
        if bank.tails and rng.random() < 0.4:
            parts.append(rng.choice(bank.tails))
        return _join(rng, parts)

    def _decorate(self, body: str, lang: str, social: bool, platform: str) -> str:
        """Typos, shouting, emoji and hashtags, as people add them."""
        spec, rng = self.spec, self.rng
        if rng.random() < spec.typo_rate:
            body = _typos(rng, body, lang)
        if rng.random() < 0.07:
            body = _shout(rng, body)
        if body and body[0].islower() and rng.random() < 0.6:
            body = _cap(body)
        if spec.emoji and rng.random() < 0.2:
            body = f"{body} {''.join(rng.choice(spec.emoji) for _ in range(rng.choice((1, 1, 2, 3))))}"
        if spec.hashtags and social and rng.random() < 0.15:
            body = f"{body} {' '.join(rng.sample(spec.hashtags, rng.choice((1, 1, 2))))}"
        return body

    def _title(self, bank: Bank, lang: str) -> str:
        """A headline: one of the bank's, or the core written as one."""
        rng = self.rng
        if bank.titles and rng.random() < 0.55:
            return rng.choice(bank.titles)
        return _cap(rng.choice(bank.core).rstrip(".!"))

    def _article(self, bank: Bank, lang: str) -> tuple[str, str]:
        """A blog or small-outlet post: headline, then two or three plain sentences."""
        rng = self.rng
        title = _brand(rng, self._title(bank, lang), False)
        parts = [_cap(rng.choice(bank.core))]
        parts += rng.sample(bank.details, min(len(bank.details), rng.choice((1, 2))))
        body = " ".join(_cap(p) if p[-1] in ".!?" else _cap(p) + "." for p in parts)
        if self.link and rng.random() < 0.5:
            body = f"{body} {_link_variant(rng, self.link)}"
        return f"{title}\n{_brand(rng, body, False)}", title

    # -- addresses and records ---------------------------------------------------------------

    def _address(self, platform: str, at: datetime, author: str, title: str | None,
                 parent: _Meta | None, sub: str | None, url: str | None = None
                 ) -> tuple[str, tuple[str, ...]]:
        """The post's address in its platform's shape, and the thread it opens or joins."""
        rng = self.rng
        if platform == "x":
            return f"https://x.com/{author}/status/{_snowflake(rng, at)}", ()
        if platform == "bluesky":
            return f"https://bsky.app/profile/{author}/post/{_bsky_tid(rng, at)}", ()
        if platform == "mastodon":
            user, host = author.split("@")
            return f"https://{host}/@{user}/{_mastodon_id(rng, at)}", ()
        if platform == "youtube":
            if parent is not None:
                return (f"https://www.youtube.com/watch?v={parent.thread[0]}&lc={_yt_comment_id(rng)}",
                        parent.thread)
            vid = _yt_id(rng)
            return f"https://www.youtube.com/watch?v={vid}", (vid,)
        if platform == "reddit":
            if parent is not None:
                s, native, slug, reach = parent.thread
                comment = _reddit_native(rng, "do")
                return (f"https://www.reddit.com/r/{s}/comments/{native}/{slug}/{comment}/",
                        parent.thread)
            native, slug = _reddit_native(rng, "7"), _slug(title or "post")
            return f"https://www.reddit.com/r/{sub}/comments/{native}/{slug}/", (sub or "", native, slug, "0")
        if url:
            return url.replace("{date}", at.strftime("%Y/%m/%d")), ()
        host = rng.choice(_BLOGS)
        return f"https://{host}/{at.strftime('%Y/%m/%d')}/{_slug(title or 'post', 60).replace('_', '-')}/", ()

    def _emit(self, i: int, at: datetime, meta: _Meta, text: str, title: str | None,
              reach: int | None, url: str, big: bool = False, parent_id: str | None = None) -> None:
        """Record the post and what the writer needs to remember about it."""
        if meta.parent is not None:
            parent_id = self.posts[self.metas.index(meta.parent)]["id"]
        post = {
            "id": f"held-{self.spec.abbr}-{i:03d}",
            "platform": meta.platform,
            "text": text,
            "published_at": _iso(at),
            "url": url,
            "title": title if meta.platform in _TITLED else None,
            "author": meta.author,
            "author_reach": reach,
            "lang": self._lang_field(meta),
            "parent_id": parent_id,
            "engagement": _engagement(self.rng, meta.platform, at, reach, big,
                                      meta.parent is None and parent_id is None),
        }
        self.keys.add(_key(text))
        self.posts.append(post)
        self.metas.append(meta)

    def _lang_field(self, meta: _Meta) -> str | None:
        """The language a platform reports: always for other languages, often for English."""
        if meta.lang != "en":
            return meta.lang
        share = {"x": 1.0, "rss": 1.0, "bluesky": 0.8, "mastodon": 0.65}.get(meta.platform, 0.0)
        return "en" if self.rng.random() < share else None
