"""Synthetic social-media campaigns for the claim benchmark (`benchmarks/eval_claims.py`).

Fourteen campaigns of posts about Spotify are injected into a real background stream of
support tweets (2017-10-04 .. 2017-12-03) and replayed through the daemon: seven harm claims
(one per harm category, two of them overlapping in time), a debunk of one of them, and six hard
negatives that use the claims' vocabulary without making a claim (a viral rescue story, lone
fact-checks, praise written with negations, jokes and idioms, questions and hypotheticals, a
service-complaint storm).

Every text, handle, outlet, product incident, person and link in this file is invented for the
benchmark; nothing is copied from real posts or from other data in the repository. Article
links use the reserved `.example` TLD; platform links only have the real shapes.

Posts are assembled from independent parts (opener, one of many phrasings of the core
assertion, a detail, a reaction tail) with typos, shouting, replies, retellings and, for three
campaigns, posts in Spanish, Portuguese, French and German. Everything is deterministic from
`seed`; stdlib only.

    python benchmarks/campaigns.py      # per-campaign summary and consistency checks
"""

from __future__ import annotations

import math
import random
import re
import string
import sys
import unicodedata
import zlib
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

Post = dict[str, Any]


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
    """Interchangeable parts of a campaign's posts in one language.

    `{b}` is the brand (spelled per platform: "@Spotify" only where handles are used); any
    other `{slot}` is filled from `slots`. Empty strings in a tuple make that part optional.
    """

    cores: tuple[str, ...]  # the assertion itself, many phrasings, each naming {b}
    openers: tuple[str, ...] = ("",)
    retells: tuple[str, ...] = ()  # "my cousin says" lead-ins for second-hand retellings
    details: tuple[str, ...] = ()
    personal: tuple[str, ...] = ()  # first-person experiences
    exclaims: tuple[str, ...] = ()  # whole angry/rhetorical posts
    tails: tuple[str, ...] = ("",)
    replies: tuple[str, ...] = ()  # reply lead-ins ("same here,")
    answers: tuple[str, ...] = ()  # reply bodies, for campaigns of questions
    rebuttals: tuple[str, ...] = ()  # reply lead-ins when answering another campaign's post
    slots: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Anchor:
    """A hand-written post the campaign hangs on: source video, thread, article, statement."""

    minute: float  # after the campaign start
    platform: str
    author: str
    reach: int | None
    text: str  # body; the title is prepended for rss/reddit/youtube as their connectors do
    title: str | None = None
    url: str | None = None  # articles: their address; other platforms get a permalink
    native: str | None = None  # pinned platform id (video id, reddit id) so posts can link it
    sub: str | None = None  # reddit: the subreddit
    lang: str | None = "en"
    big: bool = True  # gets a growing engagement series


@dataclass(frozen=True)
class Spec:
    """Everything that makes one campaign; `_Writer` turns it into posts."""

    name: str
    slug: str  # short, for post ids
    kind: str
    category: str
    description: str
    day: int  # offset from the background's first day
    hour: float  # UTC start hour
    count: int  # posts in all, anchors included
    hours: float  # span of the campaign
    shape: str  # burst (rise, peak, tail) | storm (steep rise) | day (spread over a day)
    banks: dict[str, Bank]
    platforms: dict[str, float]
    anchors: tuple[Anchor, ...] = ()
    foreign: float = 0.0  # share of posts in es/pt/fr/de
    links: tuple[str, ...] = ()  # canonical addresses the posts share
    share: float = 0.0  # chance that a generated post links one of them
    subs: tuple[str, ...] = ("spotify",)
    reply_rate: float = 0.14
    modes: dict[str, float] | None = None
    debunks: str | None = None


# --------------------------------------------------------------------------------------------
# Shared vocabulary
# --------------------------------------------------------------------------------------------

_SOCIAL = ("x", "bluesky", "mastodon")  # platforms where handles are written "@name"
_FOREIGN = {"es": 0.35, "pt": 0.25, "fr": 0.2, "de": 0.2}
_MODES = {"standard": 0.44, "retell": 0.12, "personal": 0.2, "exclaim": 0.08, "short": 0.16}
_ENDS = (".", ".", ".", "", "", "", "!", "!!", "...")
# The eval's matcher: "spotify" (or the alias "SpotifyCares") as a word; "#DeleteSpotify" alone
# does not count, which is why every post also names the brand on its own.
BRAND = re.compile(r"(?<!\w)spotify(?:cares)?(?!\w)", re.IGNORECASE)

# "@SpotifyCares" is written by hand where people address support; inside a sentence
# ("hackearon @SpotifyCares") it would read wrong, so the fill only uses "@Spotify".
_BRANDS_SOCIAL = (("Spotify", 68), ("spotify", 15), ("@Spotify", 12), ("SPOTIFY", 5))
_BRANDS_PLAIN = (("Spotify", 85), ("spotify", 15))

_LEADS = {
    "en": ("same here,", "yep,", "wow,", "omg", "this.", "no way,", "honestly", "right??",
           "^ this,", "wait,", "", ""),
    "es": ("yo también,", "lo mismo,", "uf,", "tal cual,", ""),
    "pt": ("eu também,", "mesma coisa,", "nossa,", "pois é,", ""),
    "fr": ("pareil,", "moi aussi,", "clairement,", "sérieux,", ""),
    "de": ("bei mir auch,", "genau,", "echt jetzt,", "same,", ""),
}

_NAMES = {
    "en": ("jess", "marco", "kayla", "dev", "nina", "tom", "priya", "leo", "sam", "dana",
           "jordan", "mia", "alex", "chris", "tasha", "omar", "bea", "kenji", "rosa", "eli",
           "maya", "dan", "zoe", "ike", "lena", "raf", "hana", "noah", "ivy", "theo", "gabe",
           "finn", "amara", "cole", "tara", "yusuf", "kim", "remy", "jae", "nate", "cami",
           "drew", "fatima", "hugo", "joy", "max", "ren", "sage", "bri", "trev", "mo", "lou",
           "kat", "ben", "ash", "jules", "rae", "vic", "tess", "wes"),
    "es": ("lucia", "javi", "mariana", "diego", "carla", "pablo", "sofi", "andres", "vale",
           "nico", "ximena", "rodri", "paula", "memo"),
    "pt": ("joao", "bia", "thiago", "lari", "gabi", "rafa", "duda", "caio", "nanda", "leti"),
    "fr": ("camille", "manon", "lucas", "chloe", "julien", "margaux", "antoine", "lea",
           "bastien", "elo"),
    "de": ("jonas", "felix", "hannah", "lukas", "anna", "mats", "kathi", "jan", "lisa",
           "tobi"),
}
_WORDS = {
    "en": ("music", "beats", "vinyl", "coffee", "night", "sunny", "lofi", "bass", "static",
           "indigo", "maple", "cactus", "echo", "orbit", "pixel", "tides", "velvet", "paper",
           "neon", "mango", "river", "glow", "loop", "honey", "cobalt", "fern", "ember",
           "riff", "tempo", "chord", "moss", "nova", "ghost", "ivory", "dusty", "quiet",
           "wild", "lucky", "salty", "cozy", "rain", "jazz", "punk", "mixtape"),
    "es": ("musica", "noche", "cafe", "sol", "luna", "ritmo", "mar"),
    "pt": ("musica", "cafe", "noite", "sol", "praia", "som"),
    "fr": ("musique", "nuit", "cafe", "soleil", "lune", "son"),
    "de": ("musik", "nacht", "kaffee", "sonne", "mond", "ton"),
}
_MASTODON_HOSTS = ("mastodon.social", "mastodon.social", "mastodon.social", "mastodon.online",
                   "mstdn.social", "fosstodon.org", "infosec.exchange")
# Reddit gives no follower counts; its connector reports the subreddit's audience as reach.
_SUBSCRIBERS = {
    "Parenting": 412_000, "cars": 236_000, "gadgets": 480_000, "spotify": 158_000,
    "mildlyinfuriating": 470_000, "Epilepsy": 21_000, "Migraine": 38_000, "insomnia": 44_000,
    "technology": 490_000, "privacy": 187_000, "netsec": 312_000, "cybersecurity": 96_000,
    "personalfinance": 465_000, "povertyfinance": 121_000, "assholedesign": 205_000,
    "hiphopheads": 498_000, "Music": 495_000, "WeAreTheMusicMakers": 402_000,
    "LatinMusic": 12_000, "podcasts": 67_000, "OutOfTheLoop": 440_000, "law": 88_000,
    "indieheads": 310_000, "UpliftingNews": 460_000, "MadeMeSmile": 350_000,
    "concerts": 29_000, "Scams": 34_000, "teenagers": 430_000, "NoStupidQuestions": 260_000,
    "college": 170_000, "techsupport": 390_000, "cordcutters": 150_000,
}
_SMALL_BLOGS = ("streamwatch", "tunedinblog", "thelistenerpost", "gearandgroove",
                "dailyplaylist", "mixdownnews", "signalnoisemag")
_SHOUT = ("literally", "never", "still", "burned", "kids", "child", "every", "stop", "again",
          "nothing", "cancel", "today", "right", "fake", "false", "never", "actually", "nobody",
          "really", "seizure", "stealing", "racist", "lawsuit", "everyone", "refund", "please")


# --------------------------------------------------------------------------------------------
# Platform identifiers and link variants
# --------------------------------------------------------------------------------------------

_B32 = "234567abcdefghijklmnopqrstuvwxyz"
_YT_CHARS = string.ascii_letters + string.digits + "-_"
_B36 = string.digits + string.ascii_lowercase


def _yt_id(rng: random.Random) -> str:
    # The 11th character of a video id only takes 16 values (it carries 2 bits).
    return "".join(rng.choice(_YT_CHARS) for _ in range(10)) + rng.choice("AEIMQUYcgkosw048")


def _reddit_id(rng: random.Random, prefix: str = "7") -> str:
    return prefix + "".join(rng.choice(_B36) for _ in range(5))


def _reddit_slug(title: str) -> str:
    words = re.findall(r"[a-z0-9]+", title.lower())
    slug = ""
    for word in words:
        if len(slug) + len(word) + 1 > 50:
            break
        slug = f"{slug}_{word}" if slug else word
    return slug or "post"


def _reddit_url(sub: str, native: str, title: str) -> str:
    return f"https://www.reddit.com/r/{sub}/comments/{native}/{_reddit_slug(title)}/"


def _x_id(rng: random.Random, at: datetime) -> str:
    # Snowflake: milliseconds since the 2010 epoch in the high bits, so ids sort by time.
    ms = int(at.timestamp() * 1000) + rng.randrange(1000)
    return str(((ms - 1_288_834_974_657) << 22) | rng.getrandbits(22))


def _mastodon_id(rng: random.Random, at: datetime) -> str:
    return str((int(at.timestamp() * 1000) << 16) | rng.getrandbits(16))


def _bsky_tid(rng: random.Random, at: datetime) -> str:
    value = ((int(at.timestamp() * 1_000_000) + rng.randrange(1000)) << 10) | rng.randrange(1024)
    chars = []
    for _ in range(13):
        chars.append(_B32[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def _weighted(rng: random.Random, options: list[tuple[str, float]]) -> str:
    return rng.choices([o for o, _ in options], [w for _, w in options])[0]


def _link_variant(rng: random.Random, url: str) -> str:
    """The same address as people paste it: tracking tags, short and mobile hosts."""
    if "youtube.com/watch?v=" in url:
        vid = url.split("v=", 1)[1][:11]
        t = rng.randint(20, 400)
        return _weighted(rng, [
            (f"https://www.youtube.com/watch?v={vid}", 3), (f"https://youtu.be/{vid}", 3),
            (f"https://m.youtube.com/watch?v={vid}", 1.5),
            (f"https://www.youtube.com/watch?v={vid}&t={t}s", 1),
            (f"https://youtu.be/{vid}?t={t}", 1),
            (f"https://youtube.com/watch?v={vid}&feature=share", 1),
            (f"https://www.youtube.com/watch?v={vid}&feature=youtu.be", 0.5),
        ])
    m = re.match(r"https://www\.reddit\.com/r/([^/]+)/comments/([^/]+)/([^/]+)/$", url)
    if m:
        sub, native, slug = m.groups()
        return _weighted(rng, [
            (url, 3), (f"https://old.reddit.com/r/{sub}/comments/{native}/{slug}/", 1),
            (f"https://reddit.com/r/{sub}/comments/{native}/", 1),
            (url + "?utm_source=share&utm_medium=ios_app", 1.5),
            (url + "?utm_source=share&utm_medium=android_app", 0.7),
            (f"https://redd.it/{native}", 1),
            (url + f"?st={_reddit_id(rng, 'j')}{rng.randrange(99)}&sh={rng.getrandbits(32):08x}",
             0.5),
        ])
    m = re.match(r"https://(www\.)?([^/]+)(/.*)$", url)
    if not m:
        return url
    _www, host, path = m.groups()
    return _weighted(rng, [
        (url, 4), (f"https://{host}{path}", 2),
        (url + "?utm_source=twitter&utm_medium=social&utm_campaign=share", 2),
        (url + "?utm_source=facebook&utm_medium=referral", 1),
        (url + "?utm_source=newsletter&utm_medium=email&utm_campaign=daily", 1),
        (f"https://m.{host}{path}", 1.5), (url.rstrip("/"), 1),
        (f"https://www.{host}/amp{path}", 0.5),
    ])


# --------------------------------------------------------------------------------------------
# Text helpers: capitalisation, typos, shouting
# --------------------------------------------------------------------------------------------


def _cap(text: str) -> str:
    return text[0].upper() + text[1:] if text and text[0].islower() else text


def _lower_first(text: str, lang: str) -> str:
    """Lowercase the first letter after a lead-in, unless it starts a name, handle or shout."""
    if not text or lang == "de":  # German nouns keep their capital
        return text
    first = text.split(" ", 1)[0]
    if (first in ("I", "I'm", "I've", "I'd", "I'll") or first[0] in "@#\"'"
            or "potify" in first.lower() or (first.isupper() and len(first) > 1)
            or not first[0].isalpha() or first in ("Deep", "Front", "Car", "Discover", "Wrapped",
                                                    "Family", "Premium", "Black", "Latino")):
        return text
    return text[0].lower() + text[1:]


def _end(rng: random.Random, text: str, more: bool = False) -> str:
    """Close a sentence the way people do: often a full stop, often nothing, sometimes '!!'.

    `more`: another sentence follows, so a missing stop is rarer (it reads as a run-on).
    """
    last = text.rsplit(" ", 1)[-1] if text else ""
    if not text or last.startswith(("#", "@")) or not text[-1].isalnum() and text[-1] not in "\"'":
        return text
    return text + rng.choice((".", ".", ".", "!", "...", "") if more else _ENDS)


def _protected(token: str) -> bool:
    return token.startswith(("http", "@", "#")) or "potify" in token.lower()


_TOKEN = re.compile(r"^(\W*)([^\W\d_]{4,})(\W*)$")


def _mutate_word(rng: random.Random, text: str, how: str) -> str:
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
    else:  # swap two neighbours
        word = word[:j] + word[j + 1] + word[j] + word[j + 2:]
    tokens[i] = pre + word + post
    return " ".join(tokens)


def _map_tokens(text: str, fn: Callable[[str], str]) -> str:
    return " ".join(t if _protected(t) else fn(t) for t in text.split(" "))


def _strip_accents(token: str) -> str:
    folded = unicodedata.normalize("NFD", token)
    return unicodedata.normalize("NFC", "".join(c for c in folded if not unicodedata.combining(c)))


def _roughen(rng: random.Random, text: str, ops: list[str]) -> str:
    """Apply the typo operations chosen for this post; links, handles and the brand survive."""
    for op in ops:
        if op in ("drop", "swap"):
            text = _mutate_word(rng, text, op)
        elif op == "lower":
            text = _map_tokens(text, str.lower)
        elif op == "nopunct":
            text = _map_tokens(text, lambda t: re.sub(r"[.,!;:'’]", "", t) or t)
        elif op == "accents":
            text = _map_tokens(text, _strip_accents)
    return re.sub(r" {2,}", " ", text).strip()


def _shout(rng: random.Random, text: str) -> str:
    """Put one word in capitals, preferably an emphatic one."""
    tokens = text.split(" ")
    spots = [i for i, t in enumerate(tokens) if not _protected(t) and _TOKEN.match(t)]
    if not spots:
        return text
    keen = [i for i in spots if (m := _TOKEN.match(tokens[i])) and m.group(2).lower() in _SHOUT]
    if not keen and rng.random() < 0.5:
        return text
    i = rng.choice(keen or spots)
    tokens[i] = tokens[i].upper()
    return " ".join(tokens)


def _key(text: str) -> str:
    """What makes two posts the same post: words without links, handles and punctuation."""
    text = re.sub(r"https?://\S+|@\S+", " ", text.lower())
    return " ".join(re.findall(r"\w+", text))


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, [weights[k] for k in keys])[0]


# --------------------------------------------------------------------------------------------
# The writer: spec -> posts
# --------------------------------------------------------------------------------------------


@dataclass
class _Draft:
    at: datetime
    platform: str
    author: str
    reach: int | None
    lang: str | None
    text: str = ""
    title: str | None = None
    url: str | None = None
    parent: _Draft | None = None
    thread: _Draft | None = None  # the reddit submission / youtube video a comment sits under
    sub: str | None = None
    native: str | None = None
    anchor: bool = False
    big: bool = False
    id: str = ""
    engagement: list[dict[str, Any]] = field(default_factory=list)


class _Writer:
    """Turns one Spec into timed, authored, linked and engaged posts."""

    def __init__(self, spec: Spec, start: datetime, seed: int, used: set[str],
                 target: list[_Draft]) -> None:
        self.spec = spec
        self.rng = random.Random(seed * 7919 + zlib.crc32(spec.name.encode()))
        self.base = start + timedelta(days=spec.day, hours=spec.hour)
        self.used = used  # handles taken by any campaign so far
        self.target = target  # posts of another campaign this one may answer (a debunk)
        self.drafts: list[_Draft] = []
        self.seen: set[str] = set()
        self.reach_of: dict[str, int | None] = {}
        self.hosts: dict[str, str] = {}  # mastodon author -> instance
        self.now = self.base  # time of the post being written
        # A link can be shared once its article/video/thread is out: from its anchor's time.
        self.link_at = {link: self.base + timedelta(minutes=min(
            (a.minute for a in spec.anchors if a.url == link or (a.native and a.native in link)),
            default=0.0)) for link in spec.links}

    # -- timing ---------------------------------------------------------------------------

    def run(self) -> list[Post]:
        for minute, anchor in self._schedule():
            at = self.base + timedelta(seconds=round(minute * 60))
            self.drafts.append(self._from_anchor(anchor, at) if anchor else self._generated(at))
        self.drafts.sort(key=lambda d: d.at)  # replies nudged past their parent stay after it
        self._engagement()
        for i, d in enumerate(self.drafts, start=1):
            d.id = f"camp-{self.spec.slug}-{d.platform}-{i:04d}"
            self._permalink(d)
        return [self._record(d) for d in self.drafts]

    def _schedule(self) -> list[tuple[float, Anchor | None]]:
        spec = self.spec
        first = min((a.minute for a in spec.anchors), default=0.0)
        slots: list[tuple[float, Anchor | None]] = [(a.minute, a) for a in spec.anchors]
        slots += [(self._offset(first), None) for _ in range(spec.count - len(spec.anchors))]
        return sorted(slots, key=lambda s: s[0])

    def _offset(self, first: float) -> float:
        """Minutes after the start: a rise, a peak a few hours in and a tail; or a day's rhythm."""
        rng, spec = self.rng, self.spec
        span = spec.hours * 60
        if spec.shape == "day":
            while True:  # busier in the (UTC) afternoon and evening, quiet before dawn
                minute = rng.uniform(0, span)
                hour = (spec.hour + minute / 60) % 24
                busy = 0.5 - 0.5 * math.cos(2 * math.pi * (hour - 6) / 24)
                if rng.random() < 0.25 + 0.75 * busy:
                    return minute
        lead = first + 3  # nothing before the source exists
        if spec.shape == "storm":
            return lead + rng.betavariate(1.5, 3.0) * (span - lead)
        if rng.random() < 0.12:  # the long tail: late sharers, stragglers, next-morning takes
            return lead + rng.uniform(0.4, 1.0) * (span - lead)
        return lead + rng.betavariate(2.6, 5.2) * (span - lead)

    # -- one post ---------------------------------------------------------------------------

    def _from_anchor(self, a: Anchor, at: datetime) -> _Draft:
        text = a.text
        if a.title:
            text = f"{a.title}\n{a.text}" if a.platform == "rss" else f"{a.title} {a.text}"
        self.used.add(a.author)
        self.reach_of[a.author] = a.reach
        self.seen.add(_key(text))
        return _Draft(at, a.platform, a.author, a.reach, a.lang, text, a.title, a.url,
                      sub=a.sub, native=a.native, anchor=True, big=a.big)

    def _generated(self, at: datetime) -> _Draft:
        rng, spec = self.rng, self.spec
        lang = self._language()
        parent = self._reply_parent(at, lang) if rng.random() < spec.reply_rate else None
        if parent is not None:
            platform = parent.platform
            thread = parent.thread or (parent if platform in ("reddit", "youtube") else None)
        else:
            platform = self._platform(lang)
            thread = self._thread(platform, lang)
            parent = thread
        author, reach = self._author(platform, lang, comment=thread is not None,
                                     avoid=parent.author if parent else None)
        comment = thread is not None
        tagged = platform in _SOCIAL or (platform in ("rss", "youtube") and not comment)
        d = _Draft(at, platform, author, reach, lang if lang != "en" or tagged else None,
                   parent=parent, thread=thread)
        if parent is not None and parent.at >= at:
            d.at = parent.at + timedelta(seconds=rng.randint(20, 240))
        if platform == "reddit":
            d.sub = thread.sub if thread else rng.choice(spec.subs)
            if thread is None:
                d.reach = _SUBSCRIBERS.get(d.sub or "", 50_000)
        self.now = d.at
        self._write(d, lang)
        return d

    def _language(self) -> str:
        spec = self.spec
        if spec.foreign and self.rng.random() < spec.foreign:
            return _pick(self.rng, {k: w for k, w in _FOREIGN.items() if k in spec.banks})
        return "en"

    def _platform(self, lang: str) -> str:
        weights = dict(self.spec.platforms)
        if lang != "en":  # foreign voices: social posts and video comments, not threads/articles
            weights.pop("rss", None)
            weights.pop("reddit", None)
        if lang != "en" and not self._threads("youtube"):
            weights.pop("youtube", None)
        return _pick(self.rng, weights)

    def _threads(self, platform: str) -> list[_Draft]:
        return [d for d in self.drafts if d.platform == platform and d.thread is None]

    def _thread(self, platform: str, lang: str) -> _Draft | None:
        """The submission or video a new reddit/youtube post comments on; None: a new one."""
        if platform not in ("reddit", "youtube"):
            return None
        threads = self._threads(platform)
        stay = 0.65 if platform == "reddit" else 0.85
        if threads and (lang != "en" or self.rng.random() < stay):
            return self.rng.choices(threads, [8 if t.anchor else 1 for t in threads])[0]
        return None

    def _reply_parent(self, at: datetime, lang: str) -> _Draft | None:
        pool = [d for d in self.drafts + self.target
                if d.platform != "rss" and d.at < at and (d.lang or "en") == lang]
        if not pool:
            return None
        weights = [(5 if d.anchor else 1) * (1 + math.log10(1 + (d.reach or 50))) for d in pool]
        return self.rng.choices(pool, weights)[0]

    def _author(self, platform: str, lang: str, comment: bool,
                avoid: str | None) -> tuple[str, int | None]:
        """Mostly new handles; about one post in twenty from someone who already posted."""
        rng = self.rng
        if platform != "rss" and rng.random() < 0.05:
            earlier = [d.author for d in self.drafts
                       if d.platform == platform and not d.anchor and d.author != avoid
                       and (d.lang or "en") == lang]
            if earlier:
                who = rng.choice(earlier)
                return who, self.reach_of[who]
        handle = self._handle(platform, lang)
        reach = _reach(rng, platform, comment)
        self.reach_of[handle] = reach
        return handle, reach

    def _handle(self, platform: str, lang: str) -> str:
        rng = self.rng
        names, words = _NAMES[lang], _WORDS[lang]
        while True:
            n, n2, w, w2 = (rng.choice(names), rng.choice(_NAMES["en"]), rng.choice(words),
                            rng.choice(_WORDS["en"]))
            d = rng.randint(1, 99)
            if platform == "reddit":
                handle = rng.choice([f"{w.title()}{w2.title()}{rng.randint(10, 9999)}",
                                     f"{n}_{w}_{d}", f"throwaway_{w}_{d}", f"{w2}_{n}",
                                     f"{n.title()}{w.title()}"])
            else:
                handle = rng.choice([f"{n}_{w}", f"{n}{w}{d}", f"{w}_{n}{d}", f"the{w}{n}",
                                     f"{n}{rng.randint(1000, 9999)}", f"{n}_{n2[0]}{d}",
                                     f"{w}{w2}", f"{n}x{w2}", f"its{n}{w}"])
                if platform == "x":
                    handle = handle[:15]
                elif platform == "bluesky":
                    handle = handle.replace("_", "-") + ".bsky.social"
            if handle not in self.used:
                self.used.add(handle)
                return handle

    # -- text -------------------------------------------------------------------------------

    def _write(self, d: _Draft, lang: str) -> None:
        """Compose until the text is new in this campaign and names the brand."""
        bank = self.spec.banks[lang]
        social = d.platform in _SOCIAL
        text, title = "", None
        for _ in range(80):
            title = None
            if d.platform == "rss":
                title = self._title(bank, lang, d.platform)
                text = f"{title}\n{self._article(bank, title)}"
            elif d.thread is None and d.platform in ("reddit", "youtube"):
                # A new thread or video: a headline-like title, then a first-hand body.
                title = self._title(bank, lang, d.platform)
                text = f"{title} {self._post(bank, lang, social=False, mode='thread')}"
            elif d.parent is not None and d.parent is not d.thread:
                text = self._reply(bank, lang, d.parent, social)
            else:
                text = self._post(bank, lang, social, in_thread=d.thread is not None)
            if _key(text) not in self.seen and BRAND.search(text):
                break
        self.seen.add(_key(text))
        d.text, d.title = text, title
        if d.platform == "rss":
            blog = self.rng.choice(_SMALL_BLOGS)
            d.author, d.reach = blog, self.rng.randint(2_000, 30_000)
            slug = _reddit_slug(title or "").replace("_", "-")
            d.url = f"https://www.{blog}.example/{d.at:%Y/%m}/{slug}/"

    def _fill(self, template: str, bank: Bank, social: bool) -> str:
        rng = self.rng

        def slot(m: re.Match[str]) -> str:
            return m.group(0) if m.group(1) == "b" else rng.choice(bank.slots[m.group(1)])

        def brand(m: re.Match[str]) -> str:
            after = text[m.end():m.end() + 1]
            # Possessives and compounds read oddly with a handle: "@SpotifyCares's".
            options = _BRANDS_SOCIAL if social and after not in ("'", "-", "’") else _BRANDS_PLAIN
            return _weighted(rng, [(o, float(w)) for o, w in options])

        text = re.sub(r"\{(\w+)\}", slot, template)
        return re.sub(r"\{b\}", brand, text)

    def _mode(self, bank: Bank, mode: str | None = None) -> str:
        mode = mode or _pick(self.rng, self.spec.modes or _MODES)
        have = {"retell": bank.retells, "personal": bank.personal, "exclaim": bank.exclaims,
                "thread": bank.personal}
        return mode if have.get(mode, True) else "standard"

    def _lead(self, opener: str, text: str, lang: str) -> str:
        if not opener:
            return _cap(text) if self.rng.random() < 0.72 else text
        if opener[-1] in ".:!?":
            return f"{opener} {_cap(text)}"
        return f"{opener} {_lower_first(text, lang)}"

    def _body(self, bank: Bank, lang: str, social: bool, mode: str | None = None) -> str:
        rng = self.rng
        mode = self._mode(bank, mode)
        core = self._fill(rng.choice(bank.cores), bank, social)
        if mode == "retell":
            lead = rng.choice(bank.retells)
            if rng.random() < 0.25 and not lead.endswith(":"):
                return f'{lead} "{_cap(core)}"'
            if lang == "fr" and lead.endswith(" que") and core[:1].lower() in "aeiouyh":
                return f"{lead[:-1]}'{_lower_first(core, lang)}"
            return f"{lead} {_cap(core) if lead.endswith(':') else _lower_first(core, lang)}"
        if mode == "exclaim":
            return self._fill(rng.choice(bank.exclaims), bank, social)
        if mode == "short":
            return _cap(core) if rng.random() < 0.6 else core
        if mode in ("personal", "thread"):  # thread: the body under a title, no opener
            own = self._fill(rng.choice(bank.personal), bank, social)
            opener = rng.choice(bank.openers) if mode == "personal" and rng.random() < 0.4 else ""
            body = self._lead(opener, own, lang)
        else:
            body = self._lead(rng.choice(bank.openers), core, lang)
        if bank.details and rng.random() < 0.4:
            detail = self._fill(rng.choice(bank.details), bank, social)
            body = f"{_end(rng, body, more=True)} {detail}"
        return body

    def _typos(self, lang: str) -> list[str]:
        if self.rng.random() >= 0.15:
            return []
        ops = ["drop", "swap", "lower", "nopunct"] + (["accents"] if lang != "en" else [])
        return self.rng.sample(ops, k=self.rng.choice((1, 1, 2)))

    def _finish(self, body: str, tail: str, lang: str, link_p: float) -> str:
        """Typos, shouting, and the shared link placed where people put it."""
        rng = self.rng
        body = _end(rng, body) if tail else body
        ops = self._typos(lang)
        body, tail = _roughen(rng, body, ops), _roughen(rng, tail, ops)
        if rng.random() < 0.1:
            body = _shout(rng, body)
        link = self._link() if rng.random() < link_p else None
        if link is None:
            parts = [body, tail]
        elif (r := rng.random()) < 0.55:
            parts = [body, link, tail]
        elif r < 0.88:
            parts = [body, tail, link]
        else:
            parts = [link, body, tail]
        return " ".join(p for p in parts if p)

    def _link(self) -> str | None:
        live = [link for link in self.spec.links if self.link_at[link] <= self.now]
        return _link_variant(self.rng, self.rng.choice(live)) if live else None

    def _post(self, bank: Bank, lang: str, social: bool, in_thread: bool = False,
              mode: str | None = None) -> str:
        body = self._body(bank, lang, social, mode)
        tail = self._fill(self.rng.choice(bank.tails), bank, social)
        link_p = self.spec.share * (0.35 if in_thread else 1.0)
        return self._finish(body, tail, lang, link_p)

    def _reply(self, bank: Bank, lang: str, parent: _Draft, social: bool) -> str:
        rng = self.rng
        leads = bank.replies or _LEADS[lang]
        if bank.rebuttals and any(parent is t for t in self.target):
            leads = bank.rebuttals
        lead = self._fill(rng.choice(leads), bank, social)
        if bank.answers:
            pool = bank.answers
        else:
            pool = bank.personal if bank.personal and rng.random() < 0.55 else bank.cores
        body = self._fill(rng.choice(pool), bank, social)
        body = f"{lead} {_lower_first(body, lang)}" if lead else self._lead("", body, lang)
        tail = self._fill(rng.choice(bank.tails), bank, social) if rng.random() < 0.5 else ""
        text = self._finish(body, tail, lang, self.spec.share * 0.5)
        return f"@{parent.author} {text}" if social else text

    def _article(self, bank: Bank, title: str) -> str:
        """A small blog's write-up: plain sentences, no emoji, the source linked."""
        rng = self.rng
        core = title
        while _key(core)[:40] == _key(title)[:40]:
            core = _cap(self._fill(rng.choice(bank.cores), bank, social=False))
        extra = [self._fill(t, bank, social=False)
                 for t in rng.sample(bank.details, k=min(2, len(bank.details)))]
        text = " ".join([core if core[-1] in ".?!" else core + ".", *extra])
        link = self._link()
        return f"{text} Source: {link}" if link else text

    def _title(self, bank: Bank, lang: str, platform: str) -> str:
        rng = self.rng
        title = _cap(self._fill(rng.choice(bank.cores), bank, social=False))
        if platform == "youtube" and rng.random() < 0.5:
            title = _shout(rng, title)
        if title[-1] not in "?!." and platform != "rss":
            title += rng.choice(("", "", "", "!", "...", "!!" if platform == "youtube" else ""))
        return title

    # -- engagement and addresses -------------------------------------------------------------

    def _engagement(self) -> None:
        """Growing counters for the anchors and the biggest posts; one read for some others."""
        rng = self.rng
        eligible = [d for d in self.drafts if d.platform != "rss"]
        # The biggest accounts; reddit "reach" is a subreddit's audience, not a following.
        accounts = [d for d in eligible
                    if not d.anchor and d.thread is None and d.platform != "reddit"]
        loud = {id(d) for d in sorted(accounts, key=lambda d: d.reach or 0, reverse=True)[:4]}
        for d in eligible:
            if (d.anchor and d.big) or id(d) in loud:
                d.engagement = self._series(d, self._final(d, big=True), rng.randint(3, 6))
            elif rng.random() < 0.35:
                final = self._final(d, big=False)
                at = d.at + timedelta(minutes=rng.uniform(15, 200))
                d.engagement = [{"at": _iso(at), **final}]

    def _final(self, d: _Draft, big: bool) -> dict[str, int | None]:
        rng = self.rng
        boost = rng.uniform(2.0, 4.0) if big else 1.0
        if d.platform == "youtube" and d.thread is None:
            views = int(max(d.reach or 0, 800) * rng.uniform(0.4, 2.5) * boost / 2)
            return {"likes": int(views * rng.uniform(0.02, 0.05)), "shares": None,
                    "comments": int(views * rng.uniform(0.002, 0.006)), "views": views}
        if d.platform == "reddit" and d.thread is None:
            score = int(rng.uniform(300, 4000) if big else rng.lognormvariate(math.log(30), 1.1))
            return {"likes": score, "shares": None,
                    "comments": int(score * rng.uniform(0.15, 0.6)), "views": None}
        if d.platform in ("reddit", "youtube"):  # a comment: only its score/likes
            likes = int(rng.lognormvariate(math.log(6), 1.2) * boost)
            return {"likes": likes, "shares": None, "comments": None, "views": None}
        likes = int((d.reach or 100) * rng.uniform(0.004, 0.04) * boost + rng.randint(0, 6))
        return {"likes": likes, "shares": int(likes * rng.uniform(0.1, 0.5)),
                "comments": int(likes * rng.uniform(0.04, 0.25)), "views": None}

    def _series(self, d: _Draft, final: dict[str, int | None], n: int) -> list[dict[str, Any]]:
        """n cumulative reads from publication on, saturating over a few hours."""
        minutes = [0, *sorted(self.rng.sample([10, 25, 45, 90, 150, 240, 360, 540], n - 1))]
        tau = self.rng.uniform(70, 200)

        def curve(m: float) -> float:
            return 1 - math.exp(-(m + 1) / tau)

        snaps: list[dict[str, Any]] = []
        prev: dict[str, int] = {}
        for m in minutes:
            share = curve(m) / curve(minutes[-1])
            snap: dict[str, Any] = {"at": _iso(d.at + timedelta(minutes=m))}
            for k, v in final.items():
                snap[k] = None if v is None else max(prev.get(k, 0), int(v * share))
                if v is not None:
                    prev[k] = snap[k]
            snaps.append(snap)
        return snaps

    def _permalink(self, d: _Draft) -> None:
        rng = self.rng
        if d.platform == "x":
            d.native = _x_id(rng, d.at)
            d.url = f"https://x.com/{d.author}/status/{d.native}"
        elif d.platform == "mastodon":
            host = self.hosts.setdefault(d.author, rng.choice(_MASTODON_HOSTS))
            d.native = _mastodon_id(rng, d.at)
            d.url = f"https://{host}/@{d.author}/{d.native}"
        elif d.platform == "bluesky":
            d.native = _bsky_tid(rng, d.at)
            d.url = f"https://bsky.app/profile/{d.author}/post/{d.native}"
        elif d.platform == "reddit" and d.thread is None:
            d.native = d.native or _reddit_id(rng)
            d.url = _reddit_url(d.sub or "spotify", d.native, d.title or d.text)
        elif d.platform == "reddit" and d.thread is not None:
            d.native = _reddit_id(rng, "do")
            d.url = f"{d.thread.url}{d.native}/"
        elif d.platform == "youtube" and d.thread is None:
            d.native = d.native or _yt_id(rng)
            d.url = f"https://www.youtube.com/watch?v={d.native}"
        elif d.platform == "youtube" and d.thread is not None:
            lc = "Ugz" + "".join(rng.choice(_YT_CHARS) for _ in range(16)) + "4AaABAg"
            d.url = f"https://www.youtube.com/watch?v={d.thread.native}&lc={lc}"

    @staticmethod
    def _record(d: _Draft) -> Post:
        return {
            "id": d.id, "platform": d.platform, "text": d.text, "published_at": _iso(d.at),
            "url": d.url, "title": d.title, "author": d.author, "author_reach": d.reach,
            "lang": d.lang, "parent_id": d.parent.id if d.parent else None,
            "engagement": d.engagement,
        }


def _reach(rng: random.Random, platform: str, comment: bool) -> int | None:
    """Followers: lognormal around 300, a few large accounts; comments carry none."""
    if comment and platform in ("reddit", "youtube"):
        return None
    if rng.random() < 0.03:
        return int(math.exp(rng.uniform(math.log(20_000), math.log(200_000))))
    return max(3, min(19_000, int(rng.lognormvariate(math.log(300), 1.2))))


# ============================================================================================
# CLAIMS
# ============================================================================================

_CLAIM_LEADS = ("same here,", "this is terrifying,", "omg", "wait what,", "thank you for posting,",
                "wow,", "I saw this too,", "yep,", "no way,", "sharing,", "ugh,", "", "")


def _carthing_burn(rng: random.Random) -> Spec:
    vid = _yt_id(rng)
    video = f"https://www.youtube.com/watch?v={vid}"
    blog = "https://www.parentgearguide.example/2017/10/spotify-car-thing-overheating-reports/"
    slots = {
        "device": ("Car Thing", "car thing", "Car Thing", "Car Thing player",
                   "dashboard Car Thing"),
        "kidpos": ("a kid's", "a child's", "a little girl's", "a 6 year old's", "his daughter's",
                   "a toddler's", "a little kid's"),
    }
    en = Bank(
        cores=(
            "{b}'s {device} overheated and burned {kidpos} hand",
            "a {b} {device} literally melted on a dashboard and left {kidpos} palm blistered",
            "the {b} {device} can get hot enough to burn skin, there's a video of one melting",
            "{b} {device} units are overheating in cars and one just burned a little kid",
            "a YouTuber's {b} {device} got so hot his daughter ended up at urgent care",
            "{b} is selling a car gadget that melts in the sun and burns children",
            "that {b} {device} melted into the dash and gave {kidpos} hand a burn",
            "people are finding out the {b} {device} overheats and burns whoever touches it",
            "{b}'s dashboard player melted and hurt a child, and it's all on video",
            "the {device} from {b} overheated so badly it burned {kidpos} fingers",
            "apparently the {b} {device} overheats and can actually burn you",
            "a {device} made by {b} burned {kidpos} hand after cooking on the dashboard",
            "{b} Car Things are melting in cars and injuring kids",
            "the {b} {device} is a burn hazard, one melted and hurt a kid",
        ),
        openers=("", "", "", "", "Wow.", "PSA:", "PSA for parents:", "Holy crap.",
                 "ok this is scary:", "Just watched this.", "Not ok.", "Parents, listen:", "WTF",
                 "Heads up,", "Umm", "seriously", "Unbelievable.", "If you have one in your car:",
                 "Um, excuse me?", "Great. Just great."),
        retells=("my cousin says", "my sister just texted me that", "apparently",
                 "saw on my feed that",
                 "someone in the school group chat said", "my coworker swears",
                 "so I'm hearing that", "a mom at daycare told me", "reading that",
                 "guy at work says"),
        details=("Video shows the casing completely warped.",
                 "Poor kid ended up at urgent care.", "She was just trying to skip a song.",
                 "It was just sitting on the dash in the sun.",
                 "The footage of the melted plastic is awful.",
                 "Her palm is blistered in the video.",
                 "He says it was only plugged in for about an hour.",
                 "They were at urgent care half the night.",
                 "The plastic literally drooped over the vent clip.",
                 "And the dad says support sent him a coupon."),
        personal=("my {b} {device} gets really hot on long drives too",
                  "just unplugged our {b} {device}, it was warm to the touch",
                  "I noticed my {device} was super hot last week and thought nothing of it",
                  "ours smelled like burning plastic once. unplugging the {b} thing for good",
                  "took the {b} {device} out of the car tonight, not risking it",
                  "my {b} {device} got so hot in August I couldn't hold it",
                  "we have a {b} {device} in the minivan and the kids always grab it 😬",
                  "mine shut itself off from heat twice and {b} called it 'expected behavior'",
                  "my son plays with our {b} {device} every day, it's going in the trash",
                  "had the same thing, the {b} {device} was too hot to touch after 40 min in "
                  "traffic"),
        exclaims=("her hand is literally blistered and {b} is still selling these??",
                  "a CHILD got burned and {b} hasn't said a word??",
                  "so {b} just lets a product melt in people's cars??",
                  "how is the {b} {device} still on sale after this??",
                  "{b} why is nobody recalling these??",
                  "a {device} melted and burned a kid and {b} is tweeting about playlists??",
                  "we're supposed to keep these things next to our kids?? @Spotify",
                  "wait the {b} {device} can BURN kids??"),
        tails=("", "", "", "😡", "😳", "😬", "🤬🤬", "#CarThing", "#recall", "#Spotify",
               "recall it NOW", "unacceptable", "please share", "every parent needs to see this",
               "this is insane", "how is this not recalled", "smh", "absolutely disgusting", "wtf",
               "ugh", "#parenting", "🔥🔥", "@SpotifyCares"),
        replies=_CLAIM_LEADS + ("same thing happened with ours,", "thank god she's ok,"),
        slots=slots,
    )
    es = Bank(
        cores=("el Car Thing de {b} se sobrecalentó y le quemó la mano a una niña",
               "un Car Thing de {b} se derritió en el salpicadero y la niña terminó con ampollas",
               "dicen que el Car Thing de {b} se calienta tanto que llega a quemar",
               "{b} sigue vendiendo el Car Thing después de que le quemara la mano a una niña",
               "hay un video de un Car Thing de {b} derretido que quemó a una niña de seis años",
               "el aparatito de {b} para el coche se derritió y quemó a una nena"),
        openers=("", "", "Ojo.", "Madre mía.", "Qué miedo.", "Atención padres:", "No puede ser.",
                 "Increíble."),
        retells=("mi prima dice que", "al parecer", "me acaban de contar que", "leí que"),
        details=("La niña acabó en urgencias.", "El plástico quedó todo deformado.",
                 "Estaba enchufado en el tablero, nada más."),
        personal=("el mío también se pone muy caliente en viajes largos, acabo de desenchufar "
                  "el {b} Car Thing",
                  "tengo un Car Thing de {b} en el coche y mis hijos lo tocan siempre 😬"),
        tails=("", "", "😡", "😱", "Compartan, por favor.", "¡Que lo retiren ya!", "#Spotify",
               "qué vergüenza", "indignante"),
        replies=("qué horror,", "gracias por avisar,", "lo mismo digo,", ""),
    )
    pt = Bank(
        cores=("o Car Thing do {b} superaqueceu e queimou a mão de uma criança",
               "um Car Thing do {b} derreteu no painel do carro e queimou uma menina",
               "tem um vídeo mostrando o Car Thing do {b} derretido e a mão da menina cheia de "
               "bolhas",
               "o {b} continua vendendo o Car Thing mesmo depois de queimar uma criança",
               "parece que o Car Thing do {b} esquenta tanto que chega a queimar"),
        openers=("", "", "Gente,", "Que absurdo.", "Cuidado:", "Meu Deus.", "Pais, atenção:"),
        retells=("minha tia disse que", "pelo visto", "li que"),
        details=("A menina foi parar no pronto-socorro.", "O plástico ficou todo deformado."),
        personal=("o meu Car Thing do {b} também esquenta muito, tirei do carro agora",),
        tails=("", "", "😡", "😱", "compartilhem", "#Spotify", "inacreditável", "que vergonha"),
        replies=("nossa,", "que horror,", "valeu por avisar,", ""),
    )
    fr = Bank(
        cores=("le Car Thing de {b} a surchauffé et a brûlé la main d'une fillette",
               "un Car Thing {b} a fondu sur le tableau de bord et une petite fille s'est brûlée",
               "il paraît que le Car Thing de {b} chauffe au point de brûler la peau",
               "{b} continue de vendre le Car Thing alors qu'il a brûlé une enfant",
               "il y a une vidéo d'un Car Thing {b} complètement fondu, la fille du youtubeur "
               "a la main brûlée"),
        openers=("", "", "Attention :", "Sérieusement ?", "Les parents, regardez ça :",
                 "Incroyable.", "Bon."),
        retells=("ma sœur me dit que", "apparemment", "je viens de lire que"),
        details=("La petite a fini aux urgences.", "Le boîtier est complètement déformé."),
        personal=("le mien devient brûlant sur l'autoroute, je débranche mon Car Thing {b} "
                  "tout de suite",),
        tails=("", "", "😡", "😱", "partagez", "#Spotify", "c'est scandaleux", "inadmissible"),
        replies=("pareil,", "c'est horrible,", "merci pour l'info,", ""),
    )
    de = Bank(
        cores=("das Car Thing von {b} hat sich überhitzt und einem Kind die Hand verbrannt",
               "ein {b} Car Thing ist im Auto geschmolzen, ein kleines Mädchen hat jetzt "
               "Brandblasen",
               "angeblich wird das {b} Car Thing so heiß, dass man sich daran verbrennt",
               "{b} verkauft das Car Thing immer noch, obwohl es ein Kind verletzt hat",
               "es gibt ein Video von einem geschmolzenen {b} Car Thing, die Tochter des "
               "Youtubers hat sich die Hand verbrannt"),
        openers=("", "", "Achtung:", "Krass.", "Liebe Eltern:", "Wie bitte?", "Unfassbar."),
        retells=("meine Schwester sagt,", "gerade gelesen:", "hab gehört:"),
        details=("Die Kleine musste in die Notaufnahme.", "Das Gehäuse ist völlig verformt."),
        personal=("unser {b} Car Thing wird auf der Autobahn auch total heiß, ich stecke es "
                  "sofort aus",),
        tails=("", "", "😡", "😱", "bitte teilen", "#Spotify", "Rückruf jetzt!", "skandalös"),
        replies=("bei mir auch,", "schrecklich,", "danke für die Warnung,", ""),
    )
    anchors = (
        Anchor(0, "youtube", "dadbenchtv", 240_000, native=vid,
               title="Our Spotify Car Thing MELTED and burned my daughter's hand "
                     "(please watch before you plug one in)",
               text="Last Sunday our Spotify Car Thing overheated on the dashboard. The casing "
                    "warped, and when my 6 year old reached for it to skip a song it burned her "
                    "palm. We spent the night at urgent care. She's going to be ok, but I'm "
                    "posting this so no other parent goes through it. Footage of the melted unit "
                    "at 3:12. Spotify, please recall these."),
        Anchor(12, "x", "dadbench", 61_000,
               text="New video, and not the fun kind. Our Spotify Car Thing overheated on the "
                    f"dash and burned my 6 year old's hand. Please check yours. https://youtu.be/{vid}"),
        Anchor(118, "x", "gadgetgrace", 128_000,
               text="If you have a Spotify Car Thing in the car, unplug it until Spotify says "
                    f"something. Video of one melting and burning a kid's hand: {video}"),
        Anchor(275, "rss", "parentgearguide", 22_000, url=blog, big=False,
               title="Parents report Spotify Car Thing overheating after viral video",
               text="A video from a family YouTube channel showing a melted Spotify Car Thing and "
                    "a child's burned hand has been shared widely today. Several viewers say their "
                    "own units run hot on long drives. Spotify did not respond before "
                    "publication."),
    )
    return Spec(
        name="carthing_burn", slug="carthing", kind="claim", category="health_safety",
        description="YouTuber says a Spotify Car Thing overheated, melted and burned his "
                    "child's hand",
        day=3, hour=13, count=90, hours=7, shape="burst",
        banks={"en": en, "es": es, "pt": pt, "fr": fr, "de": de}, foreign=0.23,
        platforms={"x": 0.56, "youtube": 0.15, "reddit": 0.11, "bluesky": 0.09, "mastodon": 0.06,
                   "rss": 0.03},
        anchors=anchors, links=(video,), share=0.62,
        subs=("Parenting", "cars", "gadgets", "spotify", "mildlyinfuriating"),
    )


def _sleep_seizure(rng: random.Random) -> Spec:
    native = _reddit_id(rng)
    title = ("Spotify's 'Deep Sleep' binaural playlist triggered my son's seizure. Strobing "
             "canvas + sudden loud burst at 2am")
    thread = _reddit_url("Parenting", native, title)
    slots = {
        "pl": ("Deep Sleep playlist", "Deep Sleep binaural playlist", "\"Deep Sleep\" playlist",
               "binaural Deep Sleep mix", "Deep Sleep binaural beats playlist"),
        "kid": ("a kid", "a little boy", "an 8 year old", "a child", "someone's son"),
    }
    en = Bank(
        cores=(
            "{b}'s {pl} autoplayed a strobing canvas and gave {kid} a seizure",
            "a parent on reddit says {b}'s {pl} triggered their son's seizure at 2am",
            "the {b} {pl} has a flashing video canvas that can trigger seizures",
            "{b}'s {pl} blasted a sudden loud burst in the middle of the night and {kid} seized",
            "a sleep playlist on {b} put {kid} in the ER with a seizure",
            "{b} is pushing a sleep playlist with strobe visuals that set off seizures",
            "the {pl} on {b} autoplays into strobe lights and a noise blast, one kid had a seizure",
            "{b}'s binaural sleep tracks are giving people migraines and at least one kid a "
            "seizure",
            "a {b} sleep playlist triggered an epileptic seizure in {kid}",
            "a strobe canvas on {b}'s {pl} sent {kid} to the ER",
            "{b}'s {pl} has something in it that triggers seizures and migraines",
            "{kid} had his first ever seizure while falling asleep to {b}'s {pl}",
        ),
        openers=("", "", "", "Parents please read this.", "Oh god.", "This is horrifying.",
                 "PSA if your kids sleep to Spotify:", "Epilepsy warning:", "Uh.",
                 "This reddit thread though.", "Wow, ok.", "Reading this at 2am and freaking out.",
                 "Not to alarm anyone but", "Please be careful:"),
        retells=("my wife showed me a reddit thread saying", "apparently",
                 "a mom in my epilepsy support group says", "my neighbor told me",
                 "saw a thread where someone says", "my friend's a nurse and she says",
                 "people are saying"),
        details=("He'd never had a seizure before.", "It happened around 2am.",
                 "The neurologist asked about flashing lights right away.",
                 "The dad was in the ER all night.", "It autoplayed after the playlist ended.",
                 "The video canvas was strobing, apparently.", "There's no warning on it at all.",
                 "The volume jump was huge, apparently."),
        personal=("I got a pounding migraine from that same {b} playlist last month",
                  "I always wake up with a headache after the {b} {pl}, now I know why",
                  "my daughter is epileptic and we use {b} at bedtime, deleting it now",
                  "I had to turn off {b} canvas after it flashed at me at 3am",
                  "the volume jump on those {b} binaural tracks woke me up with my heart racing",
                  "that {b} playlist gives me migraines every time, I thought it was just me",
                  "we play the {b} {pl} for our toddler every night 😨",
                  "I got dizzy and nauseous from one of those {b} binaural tracks",
                  "turning off autoplay on {b} for the kids tonight"),
        exclaims=("a SLEEP playlist gave a kid a seizure and {b} hasn't said anything??",
                  "why does a sleep playlist on {b} even have strobe visuals??",
                  "{b} can you explain why the {pl} flashes at 2am??",
                  "seizure warnings are basic stuff and {b} doesn't have one??"),
        tails=("", "", "", "😨", "😰", "#epilepsy", "#photosensitive", "turn off autoplay",
               "please share with parents", "terrifying", "how is there no warning??",
               "@SpotifyCares", "this needs a warning label", "scary stuff", "ugh"),
        replies=_CLAIM_LEADS + ("I'm so sorry,", "hugs to your son,"),
        slots=slots,
    )
    anchors = (
        Anchor(0, "reddit", "throwaway_sleepdad", _SUBSCRIBERS["Parenting"], native=native,
               sub="Parenting", lang=None, title=title,
               text="Posting from a throwaway. Our 8 year old falls asleep to Spotify's Deep Sleep "
                    "binaural playlist on the tablet. Around 2am it autoplayed into a track with a "
                    "strobing video canvas and a sudden loud burst of noise. He had a seizure, his "
                    "first ever, and we spent the rest of the night in the ER. The neurologist "
                    "asked about flashing lights right away. Has anyone else seen this? Why does a "
                    "sleep playlist have strobe visuals at all?"),
        Anchor(95, "x", "epilepsyaware_mo", 14_000,
               text="A dad on reddit says Spotify's Deep Sleep binaural playlist autoplayed a "
                    "strobing canvas at 2am and his son had his first seizure. If your kid is "
                    f"photosensitive, turn off Canvas and autoplay tonight. {thread}"),
        Anchor(150, "x", "sleepdoc_notes", 33_000,
               text="Binaural beats on their own don't cause seizures, but flashing visuals can. "
                    "Spotify putting strobe canvases on a sleep playlist kids use at night is a "
                    "real hazard. This needs a warning yesterday."),
    )
    return Spec(
        name="sleep_seizure", slug="sleep", kind="claim", category="health_safety",
        description="Parent's reddit thread: Spotify 'Deep Sleep' playlist's strobe canvas "
                    "triggered a child's seizure",
        day=3, hour=15.5, count=60, hours=6, shape="burst", banks={"en": en},
        platforms={"reddit": 0.42, "x": 0.37, "bluesky": 0.09, "mastodon": 0.06, "youtube": 0.03,
                   "rss": 0.03},
        anchors=anchors, links=(thread,), share=0.68,
        subs=("Parenting", "Epilepsy", "spotify", "Migraine", "insomnia"),
    )


def _data_leak(rng: random.Random) -> Spec:
    article = ("https://www.byteguard.example/2017/10/"
               "spotify-api-bug-exposed-emails-birthdates-private-playlists/")
    vid = _yt_id(rng)
    slots = {
        "data": ("emails, birthdates and private playlists", "emails and birthdays",
                 "email addresses, dates of birth and private playlists",
                 "user emails and private playlists", "emails + DOBs + private playlists"),
    }
    en = Bank(
        cores=(
            "a {b} API bug exposed users' {data}",
            "{b} leaked {data} through a broken API endpoint",
            "{b} got breached and {data} are out there",
            "anyone could pull {b} users' {data} with one API call",
            "{b} has a data leak: {data} exposed",
            "security researchers found {b} exposing {data} for any account",
            "{b} exposed thousands of accounts' {data} and said nothing",
            "your {b} email and birthday might be public thanks to an API bug",
            "{b} private playlists weren't private at all, an API bug leaked them along with "
            "emails",
            "huge {b} data leak, users' emails and birthdates are exposed",
            "{b} user data leaked: emails, DOBs, private playlists",
            "the {b} API was handing out {data} to anyone who asked",
            "hackers are pulling {data} straight out of {b}'s API",
        ),
        openers=("", "", "", "PSA:", "Check if you're affected:", "Change your passwords.",
                 "Well that's not great.", "Great.", "Yikes.", "Heads up:", "Security PSA:",
                 "Oof.", "Lovely.", "infosec twitter is lighting up:"),
        retells=("my brother works in IT and says", "apparently", "seeing reports that",
                 "my roommate just told me", "according to a security blog",
                 "people are saying", "reading that"),
        details=("Change your password and turn on 2FA where you can.", "Check if you're affected.",
                 "No comment from them yet.", "Researchers say thousands of records were pulled.",
                 "The endpoint didn't even need a login.", "Watch out for phishing emails.",
                 "The researchers reported it and got no reply.",
                 "Private playlists included, which is creepy."),
        personal=("my {b} account got logged into from another country this morning",
                  "just got a login alert from Brazil on my {b} account",
                  "someone in Vietnam logged into my {b}, guess this explains it",
                  "changed my {b} password, you should too",
                  "already getting phishing emails pretending to be {b}",
                  "my private playlist names showed up in that {b} dump lol great",
                  "got a 'new device' email from {b} at 4am and it wasn't me",
                  "my {b} was playing songs I never picked last night, now it makes sense",
                  "checked and my email is in the {b} sample they posted"),
        exclaims=("so my birthday and email are just public now?? thanks {b}",
                  "{b} leaks our data and we find out from a blog??",
                  "how does {b} not have a statement about this leak yet??",
                  "private playlists weren't private?? @Spotify"),
        tails=("", "", "", "🙃", "😬", "🔒", "#databreach", "#infosec", "#privacy", "#Spotify",
               "change your passwords people", "lovely", "of course", "unreal", "great job guys",
               "sigh", "🤦", "@SpotifyCares"),
        replies=_CLAIM_LEADS + ("mine too,", "just checked,"),
        slots=slots,
    )
    es = Bank(
        cores=("un fallo en la API de {b} expuso correos, fechas de nacimiento y listas privadas",
               "{b} filtró los datos de sus usuarios: correos y fechas de cumpleaños",
               "hackearon {b} y hay correos de usuarios circulando por ahí",
               "revisen si su cuenta de {b} está afectada por la filtración",
               "las listas privadas de {b} no eran tan privadas: un bug las dejó expuestas junto "
               "con los correos"),
        openers=("", "", "Ojo:", "Cambien sus contraseñas.", "Genial...", "Atención:", "Vaya."),
        retells=("mi hermano trabaja en sistemas y dice que", "al parecer",
                 "leí en un blog de seguridad que"),
        details=("Todavía no hay comunicado oficial.",
                 "Activen la verificación en dos pasos donde puedan."),
        personal=("alguien entró a mi cuenta de {b} desde otro país esta mañana",
                  "ya me llegó un correo de phishing haciéndose pasar por {b}"),
        tails=("", "", "🙃", "😬", "#Spotify", "#privacidad", "cambien la contraseña ya",
               "qué desastre"),
        replies=("a mí también,", "uf,", "gracias por avisar,", ""),
    )
    pt = Bank(
        cores=("um bug na API do {b} expôs e-mails, datas de nascimento e playlists privadas",
               "vazamento de dados no {b}: e-mails e aniversários dos usuários expostos",
               "o {b} vazou dados dos usuários e ainda não falou nada",
               "troquem a senha do {b}, teve vazamento de dados"),
        openers=("", "", "Gente,", "Atenção:", "Que beleza.", "Aff."),
        retells=("meu primo que trabalha com TI disse que", "pelo visto",
                 "li num blog de segurança que"),
        details=("O {b} ainda não se pronunciou.",),
        personal=("alguém entrou na minha conta do {b} de outro país, deve ser esse vazamento",
                  "recebi um alerta de login estranho do {b} agora de madrugada"),
        tails=("", "", "😬", "🙃", "#Spotify", "#vazamento", "troquem a senha", "que fase"),
        replies=("comigo também,", "eita,", "valeu,", ""),
    )
    fr = Bank(
        cores=("une faille dans l'API de {b} a exposé les e-mails, dates de naissance et "
               "playlists privées",
               "fuite de données chez {b} : e-mails et dates de naissance exposés",
               "{b} s'est fait pirater et les e-mails des utilisateurs circulent",
               "changez votre mot de passe {b}, il y a eu une fuite"),
        openers=("", "", "Attention :", "Super.", "Bon.", "Génial...", "Alerte :"),
        retells=("mon frère qui bosse dans la sécu dit que", "apparemment",
                 "je lis sur un blog de sécurité que"),
        details=("Toujours aucune réaction officielle.",),
        personal=("quelqu'un s'est connecté à mon compte {b} depuis un autre pays ce matin",
                  "je reçois déjà des mails de phishing qui se font passer pour {b}"),
        tails=("", "", "😬", "🙃", "#Spotify", "#fuitededonnées", "changez vos mots de passe",
               "bravo"),
        replies=("pareil pour moi,", "aïe,", "merci,", ""),
    )
    de = Bank(
        cores=("ein Fehler in der {b}-API hat E-Mails, Geburtsdaten und private Playlists "
               "offengelegt",
               "Datenleck bei {b}: E-Mail-Adressen und Geburtsdaten der Nutzer sind öffentlich",
               "{b} wurde gehackt, Nutzer-E-Mails sind im Umlauf",
               "ändert euer {b}-Passwort, es gab ein Datenleck"),
        openers=("", "", "Achtung:", "Na toll.", "Super.", "Hinweis:", "Ernsthaft?"),
        retells=("mein Bruder arbeitet in der IT und sagt,", "gerade gelesen:",
                 "laut einem Security-Blog:"),
        details=("Von {b} gibt es noch keine Stellungnahme.",),
        personal=("jemand hat sich heute früh aus dem Ausland in mein {b}-Konto eingeloggt",
                  "ich bekomme schon Phishing-Mails, die angeblich von {b} sind"),
        tails=("", "", "😬", "🙃", "#Spotify", "#Datenleck", "Passwort ändern!", "peinlich"),
        replies=("bei mir auch,", "oh nein,", "danke,", ""),
    )
    anchors = (
        Anchor(0, "rss", "ByteGuard", 45_000, url=article, big=False,
               title="Spotify API bug exposed users' emails, birthdates and private playlists",
               text="An unauthenticated endpoint in Spotify's web API returned account emails, "
                    "dates of birth and the contents of private playlists for any user ID, "
                    "according to researchers who reported the issue to ByteGuard. We were able "
                    "to pull records for thousands of accounts before the endpoint started "
                    "returning errors. Spotify has not responded to our request for comment. "
                    "Users should change their passwords and watch for phishing emails."),
        Anchor(6, "x", "byteguard", 45_000,
               text="NEW: a Spotify API bug exposed users' emails, birthdates and private "
                    f"playlists. Details and how to check if you're affected: {article}"),
        Anchor(42, "mastodon", "nullbyte_nat", 18_000,
               text="Reproduced the Spotify endpoint from the ByteGuard post this morning: it was "
                    "returning emails and DOBs for arbitrary user IDs. Now it 500s. Rotate your "
                    "Spotify password and expect phishing."),
        Anchor(185, "rss", "hackreport", 31_000, big=False,
               url="https://hackreport.example/news/2017/10/13/spotify-users-suspicious-logins-leak",
               title="Spotify users report suspicious logins after API data leak",
               text="Following ByteGuard's report of a Spotify API flaw exposing emails and "
                    "birthdates, users on social media describe login alerts from unfamiliar "
                    "countries. Spotify has yet to comment on the leak."),
        Anchor(240, "youtube", "techtalk_ray", 150_000, native=vid,
               title="Spotify DATA LEAK: were your email & birthday exposed? (how to check)",
               text="A Spotify API bug leaked emails, birthdates and private playlists. Here's "
                    f"what happened and what to do right now. Source: {article}"),
    )
    return Spec(
        name="data_leak", slug="leak", kind="claim", category="privacy_security",
        description="Security blog: a Spotify API bug exposed users' emails, birthdates and "
                    "private playlists",
        day=9, hour=8, count=110, hours=8, shape="burst",
        banks={"en": en, "es": es, "pt": pt, "fr": fr, "de": de}, foreign=0.22,
        platforms={"x": 0.54, "reddit": 0.14, "mastodon": 0.1, "bluesky": 0.1, "youtube": 0.07,
                   "rss": 0.05},
        anchors=anchors, links=(article,), share=0.6,
        subs=("technology", "privacy", "netsec", "spotify", "cybersecurity"),
    )


def _family_plan_scam(rng: random.Random) -> Spec:
    article = ("https://fineprintwatch.example/2017/10/"
               "spotify-family-plan-quiet-upgrade-billing-after-cancel/")
    native = _reddit_id(rng)
    slots = {
        "fam": ("Family plan", "family plan", "Family Premium", "family subscription"),
        "amt": ("from $14.99 to $17.99", "by $3 a month", "by an extra $3/month", "by almost 20%"),
    }
    en = Bank(
        cores=(
            "{b} quietly moved every {fam} to a pricier tier without asking",
            "{b} keeps billing families who already cancelled, it's a scam",
            "{b} is stealing from families: a silent {fam} price hike plus charges after you "
            "cancel",
            "{b} bumped {fam} accounts up {amt} with no real notice and won't stop charging "
            "cancelled cards",
            "the {b} {fam} 'upgrade' is a bait and switch, plain and simple",
            "{b} is running a billing scam on people with a {fam}",
            "{b} auto-upgraded {fam} accounts and charges people months after they cancel",
            "people are finding {b} charges on their cards after cancelling the {fam}",
            "{b}'s {fam} trick: move you to a pricier tier, then make cancelling not actually "
            "cancel",
            "{b} is ripping off families with a hidden {fam} price hike",
            "{b} silently raised the {fam} price and keeps charging after cancellation, this is "
            "fraud",
            "if you cancelled a {b} {fam}, check your bank statement, they're still charging",
        ),
        openers=("", "", "", "Check your bank statements.", "PSA:", "Unreal.",
                 "So this is how it is.", "Wow.", "Shady.", "Not surprised honestly.",
                 "Heads up families:", "Read this before they charge you again:"),
        retells=("my aunt says", "apparently", "my dad just called me because",
                 "a friend of mine says", "seeing a lot of people say", "reading that"),
        details=("No email, no opt-in, nothing.", "And cancelling doesn't stop the charges.",
                 "Some people say they've been billed for months.",
                 "The 'notice' was buried in an app banner.", "Good luck getting a refund.",
                 "Call your bank and dispute it."),
        personal=("cancelled {b} in August, still got charged in September and October",
                  "just found two {b} charges after I cancelled, unbelievable",
                  "my mom cancelled our {b} {fam} and they billed her anyway",
                  "we never agreed to a new {b} tier and our price went up",
                  "checked my statement: {b} charged me after cancelling too",
                  "{b} support told me 'the cancellation didn't go through' 🙄",
                  "I've been charged by {b} 3 months since I cancelled",
                  "disputing the {b} charges with my bank right now"),
        exclaims=("{b} is literally charging people who cancelled and calling it an upgrade??",
                  "how is it legal for {b} to keep billing after you cancel??",
                  "so {b} just raises the {fam} price and doesn't tell anyone??"),
        tails=("", "", "", "#scam", "#SpotifyScam", "#consumerrights", "it's a scam", "thieves",
               "😤", "😡", "disgusting", "shameful", "💸", "dispute every charge",
               "they are stealing from families"),
        replies=_CLAIM_LEADS + ("same thing here,", "check your statement,"),
        slots=slots,
    )
    reddit_title = ("PSA: Spotify moved our Family plan to a more expensive tier and kept "
                    "charging after we cancelled")
    anchors = (
        Anchor(0, "rss", "The Fine Print", 38_000, url=article, big=False,
               title="Spotify quietly moved Family plans to a pricier tier, and readers say it "
                     "keeps billing after they cancel",
               text="Dozens of readers have sent us bank statements showing Spotify Family "
                    "charges that went up without a clear notice, and charges that continued "
                    "after the plan was cancelled. We think this is a practice, not a glitch, "
                    "and Spotify has not explained it."),
        Anchor(9, "x", "fineprintwatch", 38_000,
               text="Spotify quietly moved Family plans to a pricier tier and readers say they're "
                    f"still billed after cancelling. Our story: {article}"),
        Anchor(88, "x", "billwatch_jen", 72_000,
               text="This isn't a glitch, it's a business model. Spotify moves families to a "
                    "pricier tier without asking, then keeps charging people who cancel. "
                    f"{article}?utm_source=twitter&utm_medium=social"),
        Anchor(125, "reddit", "ledgerlady_22", _SUBSCRIBERS["personalfinance"], native=native,
               sub="personalfinance", lang=None, title=reddit_title,
               text="We cancelled our Spotify Family plan in August. The price had gone up in "
                    "July without anyone asking us, and we've been charged twice since "
                    "cancelling. Support says the cancellation 'didn't process'. Check your "
                    "statements. From the comments this is happening to a lot of families."),
    )
    return Spec(
        name="family_plan_scam", slug="family", kind="claim", category="fraud_scam",
        description="Accusation: Spotify silently moved Family plans to a pricier tier and keeps "
                    "billing people who cancelled",
        day=15, hour=17, count=70, hours=6, shape="burst", banks={"en": en},
        platforms={"x": 0.6, "reddit": 0.2, "bluesky": 0.08, "mastodon": 0.05, "youtube": 0.03,
                   "rss": 0.04},
        anchors=anchors, links=(article,), share=0.6,
        subs=("personalfinance", "spotify", "mildlyinfuriating", "povertyfinance",
              "assholedesign"),
    )


def _artist_racism(rng: random.Random) -> Spec:
    article = ("https://www.backbeatreview.example/2017/10/"
               "spotify-editors-removed-black-latino-artists-front-row/")
    follow = "https://soundwire.example/news/artists-demand-answers-spotify-playlist-removals"
    vid = _yt_id(rng)
    slots = {"plist": ("Front Row", "the Front Row playlist", "\"Front Row\"", "Front Row")}
    en = Bank(
        cores=(
            "{b}'s editors systematically removed Black and Latino artists from {plist}",
            "{b} quietly purged Black and Latino artists from its biggest editorial playlist",
            "{b} is whitewashing {plist}, Black and Latino artists were cut on purpose",
            "{b} editors cut artists of color from {plist} and it's documented",
            "{b}'s playlist team discriminated against Black and Latino musicians",
            "an investigation shows {b} removed Black and Latino artists from {plist} within weeks",
            "{b} has a race problem: Black and Latino artists were taken off {plist} deliberately",
            "{b} scrubbed Latino and Black artists from {plist}, that's racist, full stop",
            "{b} is pushing Black and Latino artists out of its flagship playlist",
            "the {b} {plist} purge targeted Black and Latino artists",
            "{b} playlist editors are discriminating against artists of color",
            "former {b} staff say the {plist} cuts of Black and Latino artists were policy",
        ),
        openers=("", "", "", "Wow.", "Read this.", "Not surprised.", "This is damning.",
                 "So it's confirmed.", "Sit with this:", "Ugh.", "Yep.",
                 "Artists have been saying this for years:"),
        retells=("my producer says", "apparently", "a friend who works in A&R says",
                 "reading that", "people in the industry are saying"),
        details=("The numbers in the piece are brutal.",
                 "The article has the before and after tracklists.",
                 "Multiple ex-employees confirmed it.", "It happened over about two months.",
                 "The share of Black and Latino artists dropped by more than half."),
        personal=("as a Black independent artist this explains why my {b} streams fell off a cliff",
                  "I was on {plist} for 6 weeks and then gone overnight, {b} never explained",
                  "as a Latina artist, I'm not surprised by {b} but I'm still hurt",
                  "my label was told to 'tone down' our cover art for {b}'s {plist}, now I get it",
                  "we pitched 3 singles to {b} editors this year, all ignored",
                  "I'm pulling my promo budget from {b} after this",
                  "been saying this about {b} for a year and people called me bitter",
                  "I make reggaeton and {b} has never once playlisted me"),
        exclaims=("so {b} just decided Black artists don't belong on {plist}??",
                  "how is {b} not answering for this??",
                  "they cut Latino artists right after Hispanic Heritage Month?? @Spotify"),
        tails=("", "", "", "#racism", "#SpotifyIsRacist", "#BlackMusicMatters", "racist",
               "this is discrimination", "disgusting", "shameful", "😔", "✊🏾", "✊🏽",
               "do better", "unacceptable", "@SpotifyCares explain this"),
        replies=_CLAIM_LEADS + ("as an artist,", "this tracks,"),
        slots=slots,
    )
    anchors = (
        Anchor(0, "rss", "Backbeat Review", 64_000, url=article, big=False,
               title="Inside the purge: how Spotify's editors pushed Black and Latino artists "
                     "off its biggest playlist",
               text="Over eight weeks this autumn, the share of Black and Latino artists on "
                    "Spotify's flagship editorial playlist Front Row fell by more than half. "
                    "Three former members of Spotify's editorial team told Backbeat Review the "
                    "removals were deliberate. Spotify declined to comment on the record."),
        Anchor(5, "x", "marisol_writes", 52_000,
               text="My new piece: Spotify's editors systematically removed Black and Latino "
                    "artists from Front Row, its biggest editorial playlist. Three former "
                    f"staffers, six months of tracklists. {article}"),
        Anchor(130, "x", "lowtidecollectiv", 95_000,
               text="We were on Front Row for 8 weeks and disappeared the same week as almost "
                    "every other Black artist on it. Now we know why. Spotify owes artists an "
                    "answer."),
        Anchor(215, "youtube", "musicbizbreakdown", 130_000, native=vid,
               title="Spotify's Front Row purge: is the playlist team discriminating against "
                     "Black & Latino artists?",
               text="Breaking down the Backbeat Review investigation into Spotify's editorial "
                    f"playlist, with the data. Article: {article}"),
        Anchor(300, "rss", "SoundWire", 27_000, url=follow, big=False,
               title="Artists demand answers after report on Spotify playlist removals",
               text="Musicians and managers are calling on Spotify to explain why Black and "
                    "Latino artists were removed from Front Row, after a report described the "
                    "cuts as deliberate."),
    )
    return Spec(
        name="artist_racism", slug="racism", kind="claim", category="discrimination_ethics",
        description="Music journalist: Spotify editors systematically removed Black and Latino "
                    "artists from a flagship playlist",
        day=22, hour=11, count=80, hours=8, shape="burst", banks={"en": en},
        platforms={"x": 0.6, "bluesky": 0.12, "reddit": 0.12, "mastodon": 0.05, "youtube": 0.07,
                   "rss": 0.04},
        anchors=anchors, links=(article, article, article, follow), share=0.5,
        subs=("hiphopheads", "Music", "spotify", "WeAreTheMusicMakers", "LatinMusic"),
    )


def _deletespotify(rng: random.Random) -> Spec:
    article = ("https://www.dailyledger.example/2017/11/"
               "spotify-signs-overtime-hour-host-podcast-deal-flood-victims/")
    vid = _yt_id(rng)
    en = Bank(
        slots={"pod": ("that podcast", "The Overtime Hour", "the Overtime Hour guy", "Kip Darrow",
                       "that podcast host"),
               "victims": ("flood victims", "people who lost their homes in the floods",
                           "disaster victims", "families who lost everything in the floods")},
        cores=(
            "{b} paid a podcaster who mocked {victims} #DeleteSpotify",
            "{b} handed {pod} millions after he laughed at {victims}",
            "I'm not paying {b} so {pod} can get rich mocking {victims}",
            "cancel your {b} subscription today",
            "{b} chose to pay someone who laughs at disaster victims. I'm out",
            "just cancelled {b} Premium, screenshot attached 📸",
            "boycott {b} until they drop {pod}",
            "every dollar you give {b} pays a guy who mocked {victims}",
            "{b} thinks mocking disaster victims is worth millions. Delete the app",
            "spread the word: delete {b}",
            "done with {b}. Cancelled our family plan tonight",
            "{b} is funding cruelty, so I'm deleting it",
            "deleting {b} right now and moving my playlists elsewhere",
            "don't give {b} another cent until they cut ties with {pod}",
            "{b} signed the guy who called flood victims 'professional victims'. Cancel it",
            "#DeleteSpotify because {b} rewarded a man for laughing at people who lost their homes",
        ),
        openers=("", "", "", "Enough.", "That's it.", "Done.", "Friends:", "Unreal.", "Nope.",
                 "Spread the word.", "Gross.", "Cancel your subscription today.", "Bye."),
        retells=("everyone on my feed is saying:", "my whole group chat right now:",
                 "my timeline tonight:", "my sister just texted me:"),
        details=("He called them 'professional victims' on air.",
                 "The deal is reportedly worth millions.", "The clip of him laughing is vile.",
                 "They knew about the episode before they signed him."),
        personal=("just cancelled {b}, here's my screenshot",
                  "10 years of {b} Premium, gone",
                  "cancelled {b} and told them exactly why in the exit survey",
                  "moving all my playlists off {b} tonight",
                  "my whole family just cancelled {b}",
                  "deleted the {b} app, felt good",
                  "cancelled {b}, screenshot attached 📸"),
        exclaims=("{b} really looked at that episode and thought 'let's pay him millions'??",
                  "so mocking flood victims gets you a {b} deal now??"),
        tails=("#DeleteSpotify", "#DeleteSpotify", "#DeleteSpotify", "#DeleteSpotify 🗑️",
               "#BoycottSpotify", "spread the word", "RT", "🗑️", "✌️", "bye", "cancel today",
               "please share", "", ""),
        replies=("same,", "done,", "just did too,", "cancelled mine as well,", "good,", "yep,",
                 ""),
    )
    es = Bank(
        cores=("{b} le pagó millones a un podcaster que se burló de las víctimas de las "
               "inundaciones #DeleteSpotify",
               "cancelen su suscripción de {b} hoy mismo",
               "acabo de cancelar {b} Premium, ahí va la captura",
               "boicot a {b} hasta que rompan con ese podcast",
               "borré {b}, no pienso pagarle a alguien que se ríe de las víctimas"),
        openers=("", "", "Basta.", "Listo.", "Qué asco.", "Difundan:", "Se acabó."),
        retells=("mi grupo de amigos ahora mismo:", "todo mi timeline esta noche:"),
        personal=("diez años pagando {b} y hoy lo cancelé",),
        tails=("#DeleteSpotify", "#DeleteSpotify", "#BoicotSpotify", "difundan", "🗑️", "",
               "chau"),
        replies=("yo también,", "hecho,", "cancelado también,", ""),
    )
    pt = Bank(
        cores=("o {b} pagou milhões a um podcaster que zombou das vítimas das enchentes "
               "#DeleteSpotify",
               "cancelem a assinatura do {b} hoje",
               "acabei de cancelar o {b} Premium, print aqui",
               "boicote ao {b} até cortarem esse podcast",
               "apaguei o {b}, não vou pagar quem ri de vítima de tragédia"),
        openers=("", "", "Chega.", "Pronto.", "Que nojo.", "Espalhem:", "Acabou."),
        retells=("minha timeline hoje:", "o grupo da família agora:"),
        personal=("cancelei o {b} depois de oito anos",),
        tails=("#DeleteSpotify", "#DeleteSpotify", "#BoicoteSpotify", "espalhem", "🗑️", "",
               "tchau"),
        replies=("eu também,", "feito,", "cancelei também,", ""),
    )
    fr = Bank(
        cores=("{b} a payé des millions à un podcasteur qui s'est moqué des victimes des "
               "inondations #DeleteSpotify",
               "résiliez votre abonnement {b} aujourd'hui",
               "je viens de résilier {b} Premium, capture à l'appui",
               "boycott de {b} tant qu'ils gardent ce podcast",
               "j'ai supprimé {b}, je ne paierai pas quelqu'un qui rit des victimes"),
        openers=("", "", "Ça suffit.", "C'est fait.", "Honteux.", "Faites tourner :", "Fini."),
        retells=("ma timeline ce soir :", "le groupe des copains en ce moment :"),
        personal=("sur {b} depuis 2012, résiliation faite ce soir",),
        tails=("#DeleteSpotify", "#DeleteSpotify", "#BoycottSpotify", "faites tourner", "🗑️", "",
               "ciao"),
        replies=("pareil,", "fait,", "moi aussi,", ""),
    )
    de = Bank(
        cores=("{b} hat einem Podcaster Millionen gezahlt, der sich über Flutopfer lustig "
               "gemacht hat #DeleteSpotify",
               "kündigt heute noch euer {b}-Abo",
               "habe gerade {b} Premium gekündigt, Screenshot anbei",
               "Boykott von {b}, bis sie den Podcast rauswerfen",
               "{b} gelöscht. Ich bezahle niemanden, der über Opfer lacht"),
        openers=("", "", "Reicht.", "Erledigt.", "Widerlich.", "Bitte teilen:", "Schluss."),
        retells=("meine Timeline gerade:", "in unserer Familiengruppe gerade:"),
        personal=("nach neun Jahren {b} Premium heute gekündigt",),
        tails=("#DeleteSpotify", "#DeleteSpotify", "#BoykottSpotify", "teilen!", "🗑️", "",
               "tschüss"),
        replies=("bei mir auch,", "erledigt,", "hab auch gekündigt,", ""),
    )
    anchors = (
        Anchor(0, "rss", "Daily Ledger", 90_000, url=article, big=False,
               title="Spotify signs 'Overtime Hour' host in multimillion podcast deal weeks "
                     "after flood-victim remarks",
               text="Spotify has signed Kip Darrow, host of The Overtime Hour, to an exclusive "
                    "deal reportedly worth several million dollars. Last month Darrow spent part "
                    "of an episode mocking families displaced by flooding, calling them "
                    "'professional victims'. Spotify did not comment on the remarks."),
        Anchor(8, "x", "fairplaycollect", 85_000,
               text="Spotify just paid millions to a podcaster who spent an episode laughing at "
                    "flood victims. Cancel your subscription today and tell them why. "
                    f"#DeleteSpotify {article}"),
        Anchor(90, "x", "jun_keys_music", 310_000,
               text="I've been on Spotify since the beginning. Cancelled tonight. Mocking people "
                    "who lost their homes is not 'edgy content'. #DeleteSpotify"),
        Anchor(150, "x", "musica_sin_miedo", 40_000, lang="es",
               text="Spotify le pagó millones a un tipo que se rió de las víctimas de las "
                    "inundaciones. Cancelen hoy. #DeleteSpotify"),
        Anchor(185, "youtube", "thecommentarydesk", 180_000, native=vid,
               title="#DeleteSpotify is trending and Spotify earned every bit of it",
               text="Spotify paid the Overtime Hour host after he mocked flood victims. Here's "
                    "the clip, the deal, and why people are cancelling. Cancel your Spotify if "
                    "you agree."),
    )
    return Spec(
        name="deletespotify", slug="delete", kind="claim", category="boycott",
        description="#DeleteSpotify boycott call after Spotify paid a podcaster who mocked flood "
                    "victims",
        day=30, hour=19, count=120, hours=6, shape="burst",
        banks={"en": en, "es": es, "pt": pt, "fr": fr, "de": de}, foreign=0.22,
        platforms={"x": 0.65, "bluesky": 0.1, "reddit": 0.09, "mastodon": 0.07, "youtube": 0.05,
                   "rss": 0.04},
        anchors=anchors, links=(article,), share=0.55,
        subs=("spotify", "Music", "podcasts", "OutOfTheLoop"),
    )


def _royalty_lawsuit(rng: random.Random) -> Spec:
    outlets = (
        ("musicbizwire", "Music Biz Wire", 88_000,
         "https://www.musicbizwire.example/2017/11/13/indie-musicians-class-action-spotify-royalties/",
         "Independent musicians file class action against Spotify over unpaid royalties",
         "A group of independent musicians filed a class-action lawsuit against Spotify on "
         "Monday, alleging the company failed to pay mechanical royalties on millions of "
         "streams. The complaint seeks back royalties and damages."),
        ("courtroomdesk", "The Courtroom Desk", 24_000,
         "https://courtroomdesk.example/cases/2017/11/spotify-royalty-class-action-filed",
         "Class-action suit accuses Spotify of withholding royalties from indie songwriters",
         "The complaint, filed in federal court, names Spotify as defendant and proposes a class "
         "of independent songwriters whose royalties allegedly went unpaid for years."),
        ("techdaily", "TechDaily", 140_000,
         "https://www.techdaily.example/2017/11/spotify-sued-regulator-probe-royalties/",
         "Spotify sued by indie artists as regulator opens probe into royalty payments",
         "On the same day independent musicians sued Spotify over unpaid royalties, a federal "
         "regulator confirmed it has opened an investigation into how the streaming service "
         "accounts for and pays royalties."),
        ("indiesoundsmag", "Indie Sounds", 19_000,
         "https://indiesoundsmag.example/features/we-were-never-paid-spotify-class-action",
         "'We were never paid': the artists behind the Spotify class action",
         "We spoke with four of the musicians named in the lawsuit against Spotify about the "
         "royalty statements that started it."),
        ("financeledger", "Finance Ledger", 76_000,
         "https://www.financeledger.example/markets/2017/11/13/regulator-investigates-spotify-royalties",
         "Regulator opens investigation into Spotify royalty accounting",
         "The investigation into Spotify's royalty accounting adds regulatory pressure ahead of "
         "the company's expected listing, analysts said. Spotify said it would cooperate."),
    )
    links = tuple(o[3] for o in outlets)
    en = Bank(
        cores=(
            "indie musicians filed a class-action lawsuit against {b} over unpaid royalties",
            "{b} is being sued by independent artists for royalties it never paid",
            "a regulator just opened an investigation into {b}'s royalty payments",
            "class action against {b}: indie artists say they were shorted millions in royalties",
            "{b} faces a class action and a federal probe over unpaid royalties",
            "independent musicians are taking {b} to court over missing royalty payments",
            "{b} sued for withholding mechanical royalties from indie artists",
            "regulators are now looking at how {b} pays (or doesn't pay) artists",
            "the {b} royalty lawsuit is officially filed, and there's an investigation too",
            "{b} accused in court of underpaying thousands of independent songwriters",
            "{b} is under investigation over royalties after a class action by indie musicians",
        ),
        openers=("", "", "", "BREAKING:", "Big news:", "About time.", "Finally.",
                 "Oh this is big.", "Lawsuit time.", "Well well well.", "Indie artists, read this:",
                 "News:"),
        retells=("my manager says", "apparently", "reading that", "hearing that",
                 "my lawyer friend says"),
        details=("The complaint was filed this morning.",
                 "The suit asks for back royalties plus damages.",
                 "Over 2,000 artists are in the proposed class so far.",
                 "The regulator confirmed the probe in a statement.",
                 "The filing says the missing royalties go back years."),
        personal=("as an indie songwriter I'm checking if I'm part of the class against {b}",
                  "my band got $11.40 from {b} for 300k streams, so yeah, not shocked",
                  "finally someone is taking {b} to court",
                  "joining the {b} class action the second I find the form",
                  "my publisher has been chasing {b} for unpaid mechanicals for 2 years",
                  "this is why I pulled my album from {b} last year"),
        tails=("", "", "", "#royalties", "#PayArtists", "#classaction", "pay artists what you owe",
               "⚖️", "👀", "about time", "good", "let's go", "#indiemusic"),
        replies=("good,", "about time,", "finally,", "this.", "yep,", "wow,", ""),
    )
    anchors = [
        Anchor(minute, "rss", name, reach, url=url, title=title, text=body, big=False)
        for minute, (_h, name, reach, url, title, body)
        in zip((0, 22, 55, 100, 185), outlets, strict=True)
    ]
    anchors += [
        Anchor(6, "x", "musicbizwire", 88_000,
               text=f"JUST IN: Indie musicians file class action against Spotify over unpaid "
                    f"royalties {links[0]}"),
        Anchor(70, "x", "indie_artists_gd", 41_000,
               text="Our members are among the artists suing Spotify for royalties they were "
                    f"never paid. And now a regulator is investigating too. {links[2]}"),
    ]
    return Spec(
        name="royalty_lawsuit", slug="royalty", kind="claim", category="legal_regulatory",
        description="Indie musicians file a class action against Spotify over unpaid royalties; "
                    "a regulator opens a probe",
        day=40, hour=9, count=60, hours=9, shape="burst", banks={"en": en},
        platforms={"x": 0.52, "reddit": 0.18, "bluesky": 0.1, "mastodon": 0.08, "youtube": 0.05,
                   "rss": 0.07},
        anchors=tuple(anchors), links=links, share=0.66,
        subs=("WeAreTheMusicMakers", "Music", "spotify", "law", "indieheads"),
    )


# ============================================================================================
# DEBUNK
# ============================================================================================


def _data_leak_debunk(rng: random.Random) -> Spec:
    blog = ("https://www.byteguard.example/2017/10/"
            "spotify-api-bug-exposed-emails-birthdates-private-playlists/")
    check = "https://www.factlens.example/2017/10/false-spotify-was-not-breached/"
    verify = "https://verifydesk.example/fact-check/spotify-leak-emails-birthdates-false"
    en = Bank(
        cores=(
            "FALSE: {b} was not breached, the 'leaked' list is recycled from an old unrelated dump",
            "Fact check: the viral {b} data leak story is false",
            "{b} says no passwords or emails were exposed",
            "the {b} 'API leak' has been debunked, the sample data comes from a 2012 forum dump",
            "security researchers say the {b} breach story is a hoax",
            "no, {b} did not leak your emails and birthdates",
            "{b} denies any breach: the endpoint in that blog post never returned account data",
            "debunked: the {b} leak screenshots are from an unrelated old dump",
            "the {b} data leak claim doesn't hold up, the emails don't even match {b} accounts",
            "{b}: 'we found no evidence of unauthorized access to user data'",
            "the {b} leak was a hoax, nothing was exposed",
        ),
        openers=("", "", "", "Update:", "Correction on this morning's story:", "Good news:",
                 "For those panicking this morning:", "OK so,", "Calm down everyone,",
                 "Update on this:"),
        details=("The 'leaked' emails match an old dump from a different site.",
                 "The blog has since added an editor's note.",
                 "Researchers tested the endpoint and it returns nothing personal.",
                 "Still a good idea to use 2FA, but there was no leak.",
                 "The birthdates in the sample are wrong for those accounts."),
        personal=("I checked my own {b} account in the sample and none of it matched",
                  "I panicked and changed my {b} password for nothing lol",
                  "glad I didn't delete my {b} account over this"),
        tails=("", "", "#debunked", "#factcheck", "false alarm", "carry on", "🙄", "phew",
               "breathe", "don't believe everything on infosec twitter"),
        replies=("exactly,", "good,", "thanks for checking,", "yep,", "finally someone says it,",
                 "phew,", ""),
        rebuttals=("this is false,", "this was debunked,", "not true:", "update:",
                   "fyi this turned out to be fake,", "please delete this,", "it's a hoax,"),
    )
    anchors = (
        Anchor(0, "rss", "FactLens", 58_000, url=check, big=False,
               title="FALSE: Spotify was not breached; the 'leaked' list is recycled from an "
                     "old unrelated dump",
               text="Claims that a Spotify API bug exposed users' emails, birthdates and private "
                    "playlists are false. The sample shared as proof matches a 2012 dump from an "
                    "unrelated forum, and Spotify says no passwords or emails were exposed. "
                    f"The original report ({blog}) now carries an editor's note."),
        Anchor(24, "x", "SpotifyNews", 480_000,
               text="We've looked into today's reports of a Spotify data leak. We found no "
                    "breach: no passwords, emails or birthdates were exposed through our API. "
                    "The sample going around comes from an older, unrelated dataset."),
        Anchor(48, "mastodon", "packetnotes", 21_000,
               text="Looked at the 'Spotify leak' sample. Every email in it is from a 2012 forum "
                    "dump, and the API endpoint returns nothing personal. This is a hoax, not a "
                    "breach."),
        Anchor(95, "x", "byteguard", 45_000,
               text="Update on our Spotify story: after Spotify's statement and further testing "
                    "we can't reproduce the data exposure. Editor's note added at the top. "
                    f"{blog}"),
        Anchor(120, "rss", "VerifyDesk", 33_000, url=verify, big=False,
               title="Fact check: No, Spotify did not leak users' emails and birthdates",
               text="A viral claim that Spotify exposed user data through an API bug is not "
                    "supported by the evidence; researchers call it a hoax."),
    )
    return Spec(
        name="data_leak_debunk", slug="leakfact", kind="debunk", category="none",
        description="Fact-checks and Spotify's denial of the data leak claim",
        day=9, hour=13, count=25, hours=4, shape="burst", banks={"en": en},
        platforms={"x": 0.55, "mastodon": 0.12, "bluesky": 0.12, "reddit": 0.12, "rss": 0.09},
        anchors=anchors, links=(blog, blog, check, verify), share=0.4, reply_rate=0.3,
        subs=("netsec", "spotify", "technology"), debunks="data_leak",
        modes={"standard": 0.6, "personal": 0.15, "short": 0.25},
    )


# ============================================================================================
# HARD NEGATIVES
# ============================================================================================


def _cpr_hero(rng: random.Random) -> Spec:
    article = ("https://www.harborcitynews.example/local/2017/10/"
               "off-duty-spotify-engineer-saves-concertgoer-cpr/")
    vid = _yt_id(rng)
    en = Bank(
        cores=(
            "an off-duty {b} engineer did CPR on {man} who collapsed at {venue} and saved his life",
            "a {b} employee kept {man} alive with CPR until the ambulance got there",
            "{man} who had a heart attack at {venue} survived thanks to a {b} employee",
            "a {b} employee did CPR for {mins} minutes at {venue} and the man is now out of the "
            "ICU",
            "she kept the compression rhythm with a {b} playlist in her head and it worked",
            "hero alert: {b} engineer saves concertgoer after cardiac arrest",
            "{man}'s heart stopped at {venue} and a {b} employee brought him back",
            "the {b} worker who did CPR at {venue} is a literal hero",
            "the man who collapsed at {venue} is stable, and the {b} employee who did CPR "
            "visited him in hospital",
            "{b} should give this employee a raise, she saved a life at {venue}",
            "a woman who works at {b} saved {man}'s life at {venue} with CPR",
            "{mins} minutes of CPR from a {b} engineer and {man} gets to go home to his family",
            "a {b} engineer was at {venue} when {man} collapsed, and she didn't hesitate",
        ),
        slots={"man": ("a man", "a 58 year old man", "a stranger", "a dad", "a concertgoer",
                       "a guy in the crowd"),
               "venue": ("a concert", "the Harbor Pavilion show", "the Harbor Pavilion",
                         "a show downtown", "a concert last weekend"),
               "mins": ("9", "nine", "almost ten")},
        openers=("", "", "", "Faith in humanity restored.", "Good news for once:", "Wow.",
                 "This made my day.", "Crying.", "Heroes exist.", "Wholesome:",
                 "Needed this today."),
        retells=("my aunt was at the show and says", "apparently", "my friend who works at the "
                 "hospital says", "heard that"),
        details=("He's expected to make a full recovery.",
                 "Paramedics said the CPR saved his life.",
                 "He was moved out of the ICU this morning.",
                 "She didn't stop until the ambulance arrived.",
                 "His family wants to buy her dinner forever."),
        personal=("took a CPR class last year, this {b} story makes me want to renew it",
                  "my dad survived a heart attack because a stranger did CPR, so this {b} story "
                  "hits home",
                  "I was at that show, the paramedics said the {b} woman did everything right",
                  "crying at this {b} story on the train",
                  "everyone should learn CPR, seriously. shoutout to the {b} engineer"),
        tails=("", "", "❤️", "🙏", "#hero", "#CPR", "learn CPR", "what a legend",
               "give her a raise", "bless her", "😭❤️", "👏👏", "💚"),
        replies=("this is beautiful,", "so glad he's ok,", "what a hero,", "crying,", "amazing,",
                 ""),
    )
    anchors = (
        Anchor(0, "x", "kels_m_", 1_800,
               text="My dad collapsed at the Harbor Pavilion show last night. Heart attack. A "
                    "woman who works at Spotify did CPR for 9 minutes until the ambulance came. "
                    "He's in the ICU but he's ALIVE. If you know her please tell her thank you ❤️"),
        Anchor(120, "rss", "Harbor City News", 26_000, url=article, big=False,
               title="Off-duty Spotify engineer saves concertgoer with CPR at Harbor Pavilion",
               text="A 58-year-old man who went into cardiac arrest during a concert on Saturday "
                    "is recovering after an off-duty Spotify engineer performed CPR until "
                    "paramedics arrived. He was moved out of intensive care on Monday."),
        Anchor(170, "x", "goodnewsdaily", 260_000,
               text="An off-duty Spotify engineer did CPR for nine minutes on a stranger at a "
                    f"concert. He survived. 💚 {article}"),
        Anchor(240, "youtube", "harborcity_tv", 95_000, native=vid,
               title="Concertgoer saved by off-duty Spotify engineer: 'she never stopped'",
               text="The family of a man who collapsed at the Harbor Pavilion thanks the Spotify "
                    "employee who performed CPR until the ambulance arrived."),
    )
    return Spec(
        name="cpr_hero", slug="cpr", kind="negative", category="none",
        description="Viral positive story: off-duty Spotify engineer saves a concertgoer with CPR",
        day=12, hour=10, count=70, hours=6, shape="burst", banks={"en": en},
        platforms={"x": 0.6, "reddit": 0.12, "bluesky": 0.08, "mastodon": 0.04, "youtube": 0.12,
                   "rss": 0.04},
        anchors=anchors, links=(article,), share=0.4,
        subs=("UpliftingNews", "MadeMeSmile", "spotify", "concerts"),
        modes={"standard": 0.55, "retell": 0.1, "personal": 0.2, "short": 0.15},
    )


def _crash_rumor_factcheck(rng: random.Random) -> Spec:
    lens = "https://www.factlens.example/2017/10/false-spotify-servers-crash-data-lost/"
    meter = "https://truthmeter.example/checks/spotify-delete-free-accounts-fake"
    en = Bank(
        cores=(
            "{b}'s servers did not crash and no user data was lost",
            "the viral post claiming {b} will delete free accounts is fake",
            "no, {b} is not shutting down",
            "the '{b} is deleting all free accounts on Monday' post is a hoax",
            "{b} confirmed there was no server crash and no data loss",
            "{b} is not charging free users starting next month, that screenshot is edited",
            "that chain message about {b} wiping playlists is fake, ignore it",
            "there is no {b} shutdown, the 'announcement' going around is made up",
            "{b} did not lose anyone's playlists",
            "{b} isn't ending free accounts. The post is a hoax from a parody page",
        ),
        openers=("Fact check:", "Fact check:", "FALSE:", "Hoax alert:", "Just so everyone knows:",
                 "Stop sharing this:", "PSA:", "Reminder:", "Debunked:", "Fact-check:", ""),
        details=("Their status page shows normal service.",
                 "The screenshot uses the wrong font and an old logo.",
                 "The account that started it is a parody page.", "Your playlists are fine.",
                 "Nothing was lost."),
        tails=("", "", "#factcheck", "#hoax", "don't share it", "🙄", "carry on", "breathe",
               "stop forwarding chain messages"),
        replies=("thanks for checking,", "good to know,", "phew,", "told my mom this,", ""),
    )
    anchors = (
        Anchor(0, "rss", "FactLens", 58_000, url=lens, big=False,
               title="FALSE: Spotify's servers did not crash and no user data was lost",
               text="A post shared thousands of times claims Spotify's servers crashed and wiped "
                    "user playlists. Spotify's status page showed normal service and the company "
                    "says no data was lost."),
        Anchor(40, "rss", "TruthMeter", 24_000, url=meter, big=False,
               title="Fact check: viral post claiming Spotify will delete free accounts is fake",
               text="The screenshot announcing the deletion of free Spotify accounts was made "
                    "with an image editor; Spotify has announced nothing of the kind."),
        Anchor(65, "x", "SpotifyCares", 470_000,
               text="Hi all, the post saying free accounts will be deleted isn't from us and "
                    "isn't true. Spotify is running normally and your playlists are safe 💚"),
        Anchor(110, "x", "hoaxwatcher", 27_000,
               text="Fact check: no, Spotify is not shutting down or deleting free accounts. "
                    f"The 'announcement' is a parody. {meter}"),
    )
    return Spec(
        name="crash_rumor_factcheck", slug="crashfact", kind="negative", category="none",
        description="Lone fact-checks: Spotify did not crash, lose data or delete free accounts",
        day=26, hour=14, count=40, hours=5, shape="burst", banks={"en": en},
        platforms={"x": 0.55, "rss": 0.08, "bluesky": 0.12, "mastodon": 0.1, "reddit": 0.15},
        anchors=anchors, links=(lens, meter), share=0.3,
        subs=("spotify", "OutOfTheLoop", "Scams"),
        modes={"standard": 0.75, "short": 0.25},
    )


def _praise_negation(rng: random.Random) -> Spec:
    en = Bank(
        cores=(
            "{n} years on {b}, never been hacked, never got scammed, no hidden fees, just music",
            "nobody got food poisoning from a playlist lol, {b} is the best app",
            "not a single ad glitch, no crashes, love it, {b}",
            "{b} has never once lost my playlists in {n} years",
            "never had a billing issue with {b}, not once",
            "no scams, no drama, just {b} and my headphones",
            "{b} Premium is the one subscription I've never regretted, zero problems",
            "never had my {b} account hacked, never had a weird charge, 10/10",
            "no crashes, no lag, no nonsense. {b} just works",
            "can't remember the last time {b} crashed on me. never?",
            "my {b} library has survived 3 phones and zero data lost",
            "nothing ever leaked, nothing ever broke, {b} remains undefeated",
            "no hidden fees no weird charges no crashes, {b} is the GOAT",
            "{n} years of {b} and not one problem I couldn't fix by restarting",
            "no ads, no lag, no regrets. thank you {b}",
        ),
        slots={"n": ("5", "6", "7", "8", "9", "10", "five", "eight")},
        openers=("", "", "", "Unpopular opinion maybe:", "Appreciation post:", "Honestly,",
                 "Gonna say it:", "Real talk:", "Not sponsored:",
                 "Grateful for the little things:"),
        personal=("I've had the same {b} account since high school and it's never given me grief",
                  "my {b} family plan has never once overcharged us",
                  "never had a problem with {b} offline mode on flights, not once"),
        tails=("", "", "❤️", "💚", "🎧", "#Spotify", "love you @Spotify",
               "thank you @SpotifyCares", "best app", "just music", "🙌"),
        replies=("same honestly,", "agreed,", "facts,", "this,", "fr,", ""),
    )
    return Spec(
        name="praise_negation", slug="praise", kind="negative", category="none",
        description="Praise written with negations: never hacked, no hidden fees, no crashes",
        day=35, hour=0, count=45, hours=24, shape="day", banks={"en": en},
        platforms={"x": 0.75, "bluesky": 0.1, "mastodon": 0.08, "reddit": 0.07},
        modes={"standard": 0.6, "personal": 0.15, "short": 0.25},
    )


def _idioms_jokes(rng: random.Random) -> Spec:
    en = Bank(
        cores=(
            "my {b} Wrapped just exposed me, call the police 😭",
            "this {b} playlist is killing me",
            "{b} stole my heart again with this Discover Weekly",
            "Discover Weekly is sick this week, {b} you did it",
            "my top song on {b} is a crime",
            "{b} Wrapped leaked my toxic trait",
            "I'd die for this {b} playlist",
            "{b} really said 'you played {song} {n} times' and dragged me in public",
            "my {b} top artist is evidence in my trial",
            "{b} just roasted me harder than my friends ever could",
            "{b} Release Radar is straight fire, my speakers are burning",
            "this {b} mix slaps so hard I need an ambulance",
            "{b} put a song in my Daily Mix that murdered me",
            "somebody arrest {b}, this playlist is illegal",
            "{b}'s algorithm knows me better than my therapist, honestly a privacy violation lol",
            "{b} Wrapped is about to leak all my secrets and I'm not ready",
            "my {b} stats are a hate crime against my own ears",
            "my {b} Daily Mix just read me for filth",
            "{b} Discover Weekly hit different today, it should be illegal",
            "this {b} playlist is a whole crime scene",
            "{b} dropped a song in my Release Radar that ended my career",
            "I have been murdered by {b} shuffle",
            "whoever made {b}'s rainy day playlist owes me therapy",
            "{b} exposed my 3am listening habits and I will never recover",
            "Discover Weekly came for my life today, {b} chill",
            "{b} is bullying me with these {mix} recommendations",
            "my {b} {mix} is so good it should be a controlled substance",
        ),
        slots={"mix": ("Daily Mix", "Discover Weekly", "On Repeat", "Release Radar",
                       "Time Capsule"),
               "song": ("one sad song", "the same breakup song", "a sea shanty",
                        "one song from 2009", "a cartoon theme song"),
               "n": ("212", "400", "388", "611", "97")},
        openers=("", "", "", "lmao", "bro", "ok", "help", "not me", "y'all", "LMAOOO", "nah",
                 "guys"),
        personal=("my {b} top genre is 'sad girl autumn' and I'm a 34 year old man",
                  "{b} told me I'm in the top 0.5% of listeners of one song. seek help, me",
                  "I listened to the same song 212 times and {b} had the nerve to tell me"),
        tails=("", "", "😭", "💀", "😂😂", "lol", "lmao", "🔥", "I'm fine", "send help",
               "no thoughts just vibes", "#SpotifyWrapped", "#DiscoverWeekly"),
        replies=("same 😭", "LMAO same,", "stop 💀", "felt this,", "not you too,", "this is me,",
                 ""),
    )
    return Spec(
        name="idioms_jokes", slug="idioms", kind="negative", category="none",
        description="Wrapped-style jokes and idioms: 'killing me', 'stole my heart', 'a crime'",
        day=45, hour=20, count=60, hours=4, shape="burst", banks={"en": en},
        platforms={"x": 0.8, "bluesky": 0.1, "mastodon": 0.05, "reddit": 0.05},
        reply_rate=0.18, modes={"standard": 0.55, "personal": 0.15, "short": 0.3},
    )


def _questions_hypotheticals(rng: random.Random) -> Spec:
    en = Bank(
        cores=(
            "is the {b} student discount a scam or legit?",
            "what would happen if {b} got hacked?",
            "would you still use {b} if it sold your data?",
            "has anyone gotten sick from the {b} office food lol",
            "if {b} ever leaked my playlists I'd move countries",
            "is it safe to link my bank card to {b} or nah?",
            "hypothetically, if {b} shut down tomorrow, where would you go?",
            "does {b} sell your listening data to advertisers or is that a myth?",
            "could {b} get sued for how bad the shuffle is lol",
            "what if {b} got banned in my country, would a VPN work?",
            "is the {b} family plan worth it or is it a rip-off?",
            "anyone know if those '{b} Premium free for a year' links are scams?",
            "if someone hacked my {b} would I even notice? they'd just find sad songs",
            "would {b} be liable if a volume spike damaged your hearing? asking for a friend",
            "how would {b} even tell people if there was a data breach?",
        ),
        openers=("", "", "", "genuine question:", "Random question,", "Q:", "serious question -",
                 "shower thought:", "asking for a friend,", "hmm", "ok weird question but"),
        tails=("", "", "🤔", "lol", "curious", "thoughts?", "asking for real", "👀", "lmk"),
        answers=("it's legit, I had the {b} student plan all through uni",
                 "I'd be more worried about my email than my {b} playlists lol",
                 "pretty sure it's legit, {b} just checks your school email",
                 "honestly I'd still use {b}, I'm weak",
                 "no idea but now I'm curious too about {b}",
                 "I'd move to whatever has the best podcasts if {b} disappeared",
                 "those free {b} Premium links are always phishing, don't click",
                 "{b} would email everyone I think, they have to by law in some places"),
        replies=("", "", "lol", "honestly", "good question,", "hmm"),
    )
    return Spec(
        name="questions_hypotheticals", slug="questions", kind="negative", category="none",
        description="Questions and hypotheticals: 'is the student discount a scam?', "
                    "'what if Spotify got hacked?'",
        day=50, hour=0, count=40, hours=24, shape="day", banks={"en": en},
        platforms={"x": 0.55, "reddit": 0.3, "bluesky": 0.08, "mastodon": 0.07},
        reply_rate=0.2, modes={"standard": 0.7, "short": 0.3},
        subs=("spotify", "NoStupidQuestions", "privacy", "personalfinance", "college"),
    )


def _logout_storm(rng: random.Random) -> Spec:
    slots = {
        "dev": ("iPhone", "Android", "laptop", "iPad", "Galaxy", "Pixel", "Mac", "Windows PC",
                "work laptop", "phone"),
        "mins": ("20", "35", "40", "45", "50", "over an hour"),
        "n": ("3", "4", "5", "6", "7"),
        "what": ("my offline downloads", "my downloaded playlists", "all my downloads",
                 "my saved podcasts", "my offline albums"),
    }
    en = Bank(
        cores=(
            "{b} just logged me out for no reason and now it won't let me back in",
            "after the update {b} logged me out on every device",
            "@SpotifyCares {what} are gone after the update",
            "{b} keeps skipping songs halfway through since the update",
            "fix your app {b}, it's logging everyone out",
            "{b} support had me on hold for {mins} minutes about the logout bug",
            "I want a refund for this month, {b} has been unusable all evening",
            "is {b} down? it logged me out and {what} vanished",
            "the {b} update broke everything: logged out, songs skipping, playlists not loading",
            "{n} logins in an hour and {b} logs me out again",
            "{what} disappeared from {b}, 2000 songs, and I fly tomorrow 🙃",
            "{b} why does every song skip after 10 seconds now",
            "@SpotifyCares reinstalled twice on my {dev}, still logged out",
            "the new {b} update is a disaster, can't even stay logged in",
            "paying for Premium and {b} won't keep me logged in for 5 minutes",
            "{b} app on my {dev} keeps crashing and signing me out",
            "{b} logged me out mid-run and {what} are gone",
            "anyone else getting kicked out of {b} every few minutes?",
            "{b} on {dev} signs me out every time I lock the screen",
            "hey {b}, your update deleted {what}. I'm on a 1GB data plan",
            "@SpotifyCares it says 'something went wrong' every time I log in on my {dev}",
            "{b} skipped the same song {n} times in a row and then logged me out",
            "waited {mins} minutes for {b} chat support and got a link to the FAQ",
            "can't play anything on {b}, keeps saying I'm offline when I'm not",
            "{b} please roll back this update, nobody can stay logged in",
            "so {b} logs out everyone at once and support says 'try reinstalling'",
            "{b} Premium and I can't even listen on my commute. refund me for November",
            "3rd time tonight {b} wiped {what}",
        ),
        openers=("", "", "", "", "Ugh.", "Seriously?", "Again??", "Come on.", "Great.",
                 "Anyone else?", "wtf", "Not again", "Hey @SpotifyCares,", "So annoying.",
                 "Cool cool cool.", "Day ruined.", "lol ok", "Help?"),
        details=("Reinstalled, restarted, nothing works.", "Logged out on every device.",
                 "Latest version, of course.", "Happening on desktop too.",
                 "Cleared cache, no luck.",
                 "Chat support just sent me a help article.", "Password reset didn't help.",
                 "Downloads show 0 songs now.", "Tried wifi and data.", "Logged out on my {dev} "
                 "and my laptop at the same time.", "Support says they're 'looking into it'.",
                 "It was fine this morning."),
        personal=("been logged out of {b} {n} times tonight",
                  "my {b} downloads say 0 songs now, great",
                  "tried logging into {b} with Facebook and with email, both kick me out",
                  "{b} chat support said 'we're aware', that's it",
                  "I just re-downloaded 40 albums on {b} and they vanished again",
                  "my kid's {b} on the {dev} is logged out too, so it's not just me",
                  "had to dig out my {b} password for the first time in 3 years"),
        tails=("", "", "", "😤", "🙄", "😩", "fix it pls", "fix your app", "please fix",
               "#SpotifyDown", "this is ridiculous", "so annoying", "any ETA?", "help",
               "@SpotifyCares", "🤦‍♀️", "smh"),
        replies=("same here,", "yep me too,", "same,", "literally same,", "also happening to me,",
                 "same on {dev},", ""),
        slots=slots,
    )
    return Spec(
        name="logout_storm", slug="logout", kind="negative", category="none",
        description="Complaint storm after an update: logouts, skipping songs, lost downloads",
        day=52, hour=18, count=150, hours=3, shape="storm", banks={"en": en},
        platforms={"x": 0.85, "reddit": 0.08, "bluesky": 0.04, "mastodon": 0.03},
        reply_rate=0.12, modes={"standard": 0.55, "personal": 0.25, "short": 0.2},
        subs=("spotify", "techsupport"),
    )


# ============================================================================================
# Assembly
# ============================================================================================

# Order matters only for the debunk, which may reply to posts of the claim built before it.
_SPECS: tuple[Callable[[random.Random], Spec], ...] = (
    _carthing_burn, _sleep_seizure, _data_leak, _data_leak_debunk, _family_plan_scam,
    _artist_racism, _deletespotify, _royalty_lawsuit, _cpr_hero, _crash_rumor_factcheck,
    _praise_negation, _idioms_jokes, _questions_hypotheticals, _logout_storm,
)


def build_campaigns(start: datetime, seed: int = 11) -> list[Campaign]:
    """All campaigns, each placed by day offset and hour from `start`.

    start = midnight UTC of the background's first day (2017-10-04T00:00Z); a naive datetime
    is read as UTC.
    """
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    used: set[str] = set()
    built: dict[str, list[_Draft]] = {}
    campaigns = []
    for make in _SPECS:
        spec = make(random.Random(seed * 104_729 + zlib.crc32(make.__name__.encode())))
        writer = _Writer(spec, start, seed, used, built.get(spec.debunks or "", []))
        posts = writer.run()
        built[spec.name] = writer.drafts
        campaigns.append(Campaign(spec.name, spec.kind, spec.category, spec.description, posts,
                                  spec.debunks))
    return campaigns


# --------------------------------------------------------------------------------------------
# Self-check and summary
# --------------------------------------------------------------------------------------------


def check(campaigns: list[Campaign]) -> list[str]:
    """Problems with the generated data; empty when every rule holds."""
    problems: list[str] = []
    times: dict[str, str] = {}
    for c in campaigns:
        for p in c.posts:
            if p["id"] in times:
                problems.append(f"{p['id']}: duplicate id")
            times[p["id"]] = p["published_at"]
    for c in campaigns:
        stamps = [p["published_at"] for p in c.posts]
        if stamps != sorted(stamps):
            problems.append(f"{c.name}: posts not sorted by time")
        keys = Counter(_key(p["text"]) for p in c.posts)
        problems += [f"{c.name}: text repeated {n}x: {k[:60]}" for k, n in keys.items() if n > 1]
        for p in c.posts:
            problems += _check_post(p, times)
    return problems


def _check_post(p: Post, times: dict[str, str]) -> list[str]:
    out = []
    if not BRAND.search(p["text"]):
        out.append(f"{p['id']}: does not name Spotify")
    parent = p["parent_id"]
    if parent is not None and (parent not in times or times[parent] >= p["published_at"]):
        out.append(f"{p['id']}: parent {parent} missing or not earlier")
    if (p["title"] is not None) != (p["platform"] in ("rss", "reddit", "youtube")
                                    and p["title"] is not None):
        out.append(f"{p['id']}: title on a {p['platform']} post")
    for host in re.findall(r"https?://([^/\s]+)", p["text"]):
        if not host.endswith((".example", "youtube.com", "youtu.be", "reddit.com", "redd.it")):
            out.append(f"{p['id']}: link to a real host {host}")
    last = p["published_at"]
    for snap in p["engagement"]:
        if snap["at"] < last or (snap["at"] == last and snap is not p["engagement"][0]):
            out.append(f"{p['id']}: engagement times out of order")
        last = snap["at"]
        if p["platform"] in ("youtube", "reddit") and snap["shares"] is not None:
            out.append(f"{p['id']}: shares on {p['platform']}")
        if p["platform"] == "reddit" and snap["views"] is not None:
            out.append(f"{p['id']}: views on reddit")
    for a, b in zip(p["engagement"], p["engagement"][1:], strict=False):
        for k in ("likes", "shares", "comments", "views"):
            if a[k] is not None and b[k] is not None and b[k] < a[k]:
                out.append(f"{p['id']}: {k} shrink")
    return out


def _near_duplicates(posts: list[Post]) -> int:
    """Posts whose word set is >= 80% the same as an earlier post's (the dedupe's territory)."""
    sets = [set(_key(p["text"]).split()) for p in posts]
    count = 0
    for i, s in enumerate(sets):
        if any(len(s & t) / max(1, len(s | t)) >= 0.8 for t in sets[:i]):
            count += 1
    return count


def _summary(c: Campaign) -> str:
    posts = c.posts
    langs = Counter(p["lang"] or "-" for p in posts)
    platforms = Counter(p["platform"] for p in posts)
    authors = len({p["author"] for p in posts})
    linking = sum(1 for p in posts if "http" in p["text"])
    replies = sum(1 for p in posts if p["parent_id"])
    reach = sorted(p["author_reach"] for p in posts if p["author_reach"] is not None)
    hours = Counter(p["published_at"][:13] for p in posts)
    first, last = posts[0]["published_at"], posts[-1]["published_at"]
    samples = random.Random(c.name).sample(posts, 3)
    lines = [
        f"== {c.name} [{c.kind}/{c.category}] {c.description}",
        f"   posts {len(posts)}, authors {authors}, replies {replies}, linking {linking} "
        f"({linking / len(posts):.0%}), near-dups {_near_duplicates(posts)}, "
        f"with engagement {sum(1 for p in posts if p['engagement'])}",
        f"   platforms {dict(platforms.most_common())}",
        f"   langs {dict(langs.most_common())}",
        f"   reach median {reach[len(reach) // 2] if reach else '-'}, max "
        f"{reach[-1] if reach else '-'}; {first} .. {last}",
        f"   per hour {[n for _, n in sorted(hours.items())]}",
    ]
    lines += [f"   > [{p['platform']}/{p['lang']}] {p['text'][:200]}" for p in samples]
    return "\n".join(lines)


if __name__ == "__main__":
    built = build_campaigns(datetime(2017, 10, 4, tzinfo=UTC))
    for campaign in built:
        print(_summary(campaign))
    found = check(built)
    again = build_campaigns(datetime(2017, 10, 4, tzinfo=UTC))
    if [c.posts for c in again] != [c.posts for c in built]:
        found.append("not deterministic: two builds differ")
    print(f"\n{sum(len(c.posts) for c in built)} posts in {len(built)} campaigns; "
          f"{len(found)} problems")
    for problem in found[:50]:
        print("  ", problem)
    sys.exit(1 if found else 0)
