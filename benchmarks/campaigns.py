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
from collections.abc import Callable
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
    slots: dict[str, tuple[str, ...]] = field(default_factory=dict)


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

_BRANDS_SOCIAL = (("Spotify", 66), ("spotify", 14), ("@Spotify", 10), ("SPOTIFY", 4),
                  ("@SpotifyCares", 6))
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


def _end(rng: random.Random, text: str) -> str:
    """Close a sentence the way people do: often a full stop, often nothing, sometimes '!!'."""
    if not text or not text[-1].isalnum() and text[-1] not in "\"'":
        return text
    return text + rng.choice(_ENDS)


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
    keen = [i for i in spots if _TOKEN.match(tokens[i]).group(2).lower() in _SHOUT]  # type: ignore[union-attr]
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
                if rng.random() < 0.25 + 0.75 * (0.5 - 0.5 * math.cos(2 * math.pi * (hour - 6) / 24)):
                    return minute
        a, b = (1.6, 3.2) if spec.shape == "storm" else (2.4, 4.6)
        lead = first + 3  # nothing before the source exists
        return lead + rng.betavariate(a, b) * (span - lead)

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
        if rng.random() < 0.05:
            earlier = [d.author for d in self.drafts
                       if d.platform == platform and not d.anchor and d.author != avoid]
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
            if d.thread is None and d.platform in ("reddit", "youtube", "rss"):
                title = self._title(bank, lang, d.platform)
                body = self._post(bank, lang, social=False)
                text = f"{title}\n{body}" if d.platform == "rss" else f"{title} {body}"
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
            month = d.at.strftime("%Y/%m")
            d.url = f"https://www.{blog}.example/{month}/{_reddit_slug(title or '').replace('_', '-')}/"

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

    def _mode(self, bank: Bank) -> str:
        mode = _pick(self.rng, self.spec.modes or _MODES)
        have = {"retell": bank.retells, "personal": bank.personal, "exclaim": bank.exclaims}
        return mode if have.get(mode, True) else "standard"

    def _lead(self, opener: str, text: str, lang: str) -> str:
        if not opener:
            return _cap(text) if self.rng.random() < 0.72 else text
        if opener[-1] in ".:!?":
            return f"{opener} {_cap(text)}"
        return f"{opener} {_lower_first(text, lang)}"

    def _body(self, bank: Bank, lang: str, social: bool) -> str:
        rng = self.rng
        mode = self._mode(bank)
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
        if mode == "personal":
            own = self._fill(rng.choice(bank.personal), bank, social)
            opener = rng.choice(bank.openers) if rng.random() < 0.4 else ""
            body = self._lead(opener, own, lang)
        else:
            body = self._lead(rng.choice(bank.openers), core, lang)
        if bank.details and rng.random() < 0.4:
            body = f"{_end(rng, body) or body} {self._fill(rng.choice(bank.details), bank, social)}"
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
        link = None
        if self.spec.links and rng.random() < link_p:
            link = _link_variant(rng, rng.choice(self.spec.links))
        if link is None:
            parts = [body, tail]
        elif (r := rng.random()) < 0.55:
            parts = [body, link, tail]
        elif r < 0.88:
            parts = [body, tail, link]
        else:
            parts = [link, body, tail]
        return " ".join(p for p in parts if p)

    def _post(self, bank: Bank, lang: str, social: bool, in_thread: bool = False) -> str:
        body = self._body(bank, lang, social)
        tail = self._fill(self.rng.choice(bank.tails), bank, social)
        link_p = self.spec.share * (0.35 if in_thread else 1.0)
        return self._finish(body, tail, lang, link_p)

    def _reply(self, bank: Bank, lang: str, parent: _Draft, social: bool) -> str:
        rng = self.rng
        lead = rng.choice(bank.replies or _LEADS[lang])
        if bank.answers:
            pool = bank.answers
        else:
            pool = bank.personal if bank.personal and rng.random() < 0.55 else bank.cores
        body = self._fill(rng.choice(pool), bank, social)
        body = f"{lead} {_lower_first(body, lang)}" if lead else self._lead("", body, lang)
        tail = self._fill(rng.choice(bank.tails), bank, social) if rng.random() < 0.5 else ""
        text = self._finish(body, tail, lang, self.spec.share * 0.5)
        return f"@{parent.author} {text}" if social else text

    def _title(self, bank: Bank, lang: str, platform: str) -> str:
        rng = self.rng
        title = _cap(self._fill(rng.choice(bank.cores), bank, social=False))
        if platform == "youtube" and rng.random() < 0.5:
            title = _shout(rng, title)
        if title[-1] not in "?!.":
            title += rng.choice(("", "", "", "?", "!", "??") if platform != "rss" else ("",))
        return title

    # -- engagement and addresses -------------------------------------------------------------

    def _engagement(self) -> None:
        """Growing counters for the anchors and the biggest posts; one read for some others."""
        rng = self.rng
        eligible = [d for d in self.drafts if d.platform != "rss"]
        loud = {id(d) for d in sorted((d for d in eligible if not d.anchor and d.thread is None),
                                      key=lambda d: d.reach or 0, reverse=True)[:4]}
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
            return 1 - math.exp(-(m + 4) / tau)

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
