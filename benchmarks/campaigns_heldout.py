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
from collections.abc import Callable
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


_CLAIM_MODES = {"standard": 0.42, "personal": 0.14, "retell": 0.13, "react": 0.11,
                "share": 0.10, "short": 0.10}
_CALM_MODES = {"standard": 0.62, "retell": 0.06, "react": 0.12, "short": 0.20}


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
                           f"https://redd.it/{native}",
                           f"https://reddit.com/r/{sub}/comments/{native}/",
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
        if i and rng.random() < 0.75 and not _protected(part.split(" ")[0]):
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


def _tokens(text: str, fn: Callable[[str], str]) -> str:
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
    keen = [i for i in spots if tokens[i].strip(string.punctuation).lower() in _SHOUT]
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
          "felix", "nadia", "sam", "chloe", "raj", "elena", "jamal", "freya", "leo", "mina",
          "oscar",
          "tasha", "yusuf", "clara", "diego", "emma", "hugo", "lena", "malik", "nina", "pablo",
          "quinn", "rhea", "sven", "talia", "uri", "vera", "wes", "zoe", "bea", "cato", "dara",
          "ezra", "gia", "ivo", "jade", "kofi", "luz", "milo")
_NOUN = ("vinyl", "static", "comet", "maple", "harbor", "pixel", "cactus", "echo", "lantern",
         "river", "tiger", "velvet", "orbit", "biscuit", "thunder", "willow", "nova", "pepper",
         "falcon", "canyon", "mango", "ember", "cobalt", "sparrow", "meadow", "atlas", "juniper",
         "basil", "glitch", "reverb", "bassline", "tempo", "chorus", "sunset", "lemon", "otter",
         "pine", "quartz", "raven", "saffron", "tundra", "walrus", "zephyr", "moth", "fig",
         "kettle")
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
    num = str(rng.choice((rng.randrange(10, 99), rng.randrange(1980, 2005), rng.randrange(100,
                                                                                          999))))
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
    counts = (0, 1, 1, 1, 2, 2, 3) if top else (0, 0, 1, 1, 2)
    count = rng.randint(3, 6) if big else rng.choice(counts)
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
        snap: dict[str, Any] = {"at": _iso(at + timedelta(hours=t))}
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


_Written = tuple[str, str | None]  # a post's text and its title


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
        self.big = {a.author for a in spec.anchors}

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
        timed = [(self.t0 + timedelta(seconds=int(h * 3600) + (0 if a else rng.randrange(60))), a)
                 for h, a in slots]
        return sorted(timed, key=lambda s: (s[0], s[1] is None))

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
        text = a.text
        if a.link and self.link:
            text = f"{text} {_link_variant(rng, self.link)}"
        url, thread = self._address(a.platform, at, a.author, a.title, None, a.sub, a.url)
        if a.platform == "reddit":
            thread = thread[:3] + (str(a.reach),)
        if a.source:
            self.link = url
        if a.title:
            text = f"{a.title}\n{text}" if a.platform == "rss" else f"{a.title} {text}"
        meta = _Meta(a.platform, a.author, at, a.lang, thread)
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
        text, title = self._unique(lambda: self._text(platform, lang, parent, top))
        sub = rng.choice(spec.subs) if platform == "reddit" and top else None
        url, thread = self._address(platform, at, author, title, parent, sub[0] if sub else None)
        if sub:
            thread = thread[:3] + (str(sub[1]),)
        reach = int(thread[3]) if platform == "reddit" else _reach(rng, platform, top)
        meta = _Meta(platform, author, at, lang, thread, parent, top or platform in _SOCIAL)
        self._emit(i, at, meta, text, title, reach, url)

    def _unique(self, write: Callable[[], _Written]) -> _Written:
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

        def write() -> _Written:
            body = self._compose(rng.choice(("reply", "reply", "standard")), bank, "en", True)
            body = self._decorate(_brand(rng, body, True), "en", True)
            if self.link and rng.random() < 0.4:
                body = f"{body} {_link_variant(rng, self.link)}"
            return f"@{target['author'].split('@')[0]} {body}", None

        text, _ = self._unique(write)
        if not BRAND.search(text):
            text = f"{text} (Spotify)"
        url, _thread = self._address(platform, at, author, None, None, None)
        meta = _Meta(platform, author, at, "en", (), None, True)
        self._emit(i, at, meta, text, None, _reach(rng, platform, True), url,
                   parent_id=target["id"])
        return True

    def _parent(self, at: datetime, platform: str) -> _Meta | None:
        """An earlier post to answer, or None: threads on reddit and youtube, replies elsewhere."""
        rng, spec = self.rng, self.spec
        if platform == "rss":
            return None
        early = [m for m in self.metas
                 if m.top and m.platform != "rss" and (at - m.at).total_seconds() >= 90]
        want = spec.reply_rate
        if platform in ("reddit", "youtube"):
            want = 0.75
            early = [m for m in early if m.platform == platform]
        if not early or rng.random() >= want:
            return None
        weights = [(6.0 if m.parent is None else 1.0) * (3.0 if m.author in self.big else 1.0)
                   for m in early]
        return rng.choices(early, weights)[0]

    def _lang(self, platform: str, parent: _Meta | None) -> str:
        """English, or one of the campaign's other languages (not on reddit)."""
        if platform == "reddit" or not self.spec.foreign:
            return "en"
        if parent is not None and parent.lang != "en" and self.rng.random() < 0.7:
            return parent.lang
        wanted = sum(self.spec.foreign.values()) * self.spec.size
        written = sum(1 for m in self.metas if m.lang != "en")
        left = self.spec.size - len(self.metas)
        if self.rng.random() >= (wanted - written) / max(1, left):  # keep the share on target
            return "en"
        return _pick(self.rng, self.spec.foreign)

    def _author(self, platform: str, parent: _Meta | None) -> str:
        """A new person, or now and then one already in the campaign (answering back)."""
        rng = self.rng
        if parent is not None and parent.parent is not None and rng.random() < 0.3:
            if parent.parent.platform == platform and parent.parent.author != parent.author:
                return parent.parent.author
        if rng.random() < 0.04:
            known = [m.author for m in self.metas if m.platform == platform]
            if known:
                return rng.choice(known)
        while True:
            handle = _handle(rng, platform)
            if handle not in self.used:
                self.used.add(handle)
                return handle

    # -- text --------------------------------------------------------------------------------

    def _text(self, platform: str, lang: str, parent: _Meta | None, top: bool) -> _Written:
        """Body (with title in front where the platform has one) and the title."""
        spec, rng = self.spec, self.rng
        bank = spec.banks.get(lang, spec.banks["en"])
        social = platform in _SOCIAL
        if platform == "rss":
            return self._article(bank)
        mode = self._mode(bank, parent)
        body = self._compose(mode, bank, lang, social)
        linkable = self.link is not None and (parent is None or rng.random() < 0.06)
        if mode == "share" and self.link:
            link = _link_variant(rng, self.link)
            body = f"{link} {body}" if rng.random() < 0.25 else f"{body} {link}"
        elif linkable and rng.random() < self._link_odds():
            body = f"{body} {_link_variant(rng, self.link or '')}"
        body = self._decorate(_brand(rng, body, social), lang, social)
        if parent is not None and social and rng.random() < 0.7:
            handle = parent.author if platform == "mastodon" else parent.author.split("@")[0]
            body = f"@{handle} {body}"
        if not BRAND.search(body):
            body = f"{body} {_brand(rng, rng.choice(('#{S}', '({S})', '{S}')), False)}"
            body = body if BRAND.search(body) else f"{body} Spotify"
        if not top:
            return body, None
        title = _brand(rng, self._title(bank), False)
        if _key(title) in _key(body):
            body = _brand(rng, _join(rng, rng.sample(bank.details, min(2, len(bank.details))))
                          if bank.details else rng.choice(bank.reacts or bank.core), False)
        return f"{title} {body}", title

    def _link_odds(self) -> float:
        """Chance that a top-level post carries the link, steered toward a claim's 50% share."""
        spec = self.spec
        odds = spec.link_rate / (1 - spec.modes.get("share", 0))
        if spec.kind == "claim" and self.posts and self.link:
            key = _link_key(self.link)
            share = sum(1 for p in self.posts if key in p["text"]) / len(self.posts)
            odds += 2.5 * (0.5 - share)
        return min(1.0, max(0.0, odds))

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
            tail = bank.tails and rng.random() < 0.3
            return _join(rng, [text, rng.choice(bank.tails)] if tail else [text])
        opener = rng.choice(bank.openers) if bank.openers and rng.random() < 0.45 else ""
        if opener and _key(core).startswith(_key(opener) or "\0"):
            opener = ""  # no "fact check: fact check: ..."
        if opener:
            core = f"{opener} {core if opener.endswith(':') else _lc(core, lang)}"
        parts = [core]
        if bank.details and rng.random() < 0.5:
            parts.insert(len(parts) if rng.random() < 0.8 else 0, rng.choice(bank.details))
        if bank.tails and rng.random() < 0.4:
            parts.append(rng.choice(bank.tails))
        return _join(rng, parts)

    def _decorate(self, body: str, lang: str, social: bool) -> str:
        """Typos, shouting, emoji and hashtags, as people add them."""
        spec, rng = self.spec, self.rng
        if rng.random() < spec.typo_rate:
            body = _typos(rng, body, lang)
        if rng.random() < 0.07:
            body = _shout(rng, body)
        if body and body[0].islower() and not _protected(body.split(" ")[0]) and rng.random() < 0.6:
            body = _cap(body)
        if spec.emoji and rng.random() < 0.2:
            marks = "".join(rng.choice(spec.emoji) for _ in range(rng.choice((1, 1, 2, 3))))
            body = f"{body} {marks}"
        if spec.hashtags and social and rng.random() < 0.15:
            tags = rng.sample(spec.hashtags, min(len(spec.hashtags), rng.choice((1, 1, 2))))
            body = f"{body} {' '.join(tags)}"
        return body

    def _title(self, bank: Bank) -> str:
        """A headline: one of the bank's, or the core written as one."""
        rng = self.rng
        if bank.titles and rng.random() < 0.7:
            return rng.choice(bank.titles)
        return _cap(rng.choice(bank.core).rstrip(".!"))

    def _article(self, bank: Bank) -> _Written:
        """A blog or small-outlet post: headline, then two or three plain sentences."""
        rng = self.rng
        title = _brand(rng, self._title(bank), False)
        others = [c for c in bank.core if _key(c.replace("{S}", "spotify")) != _key(title)]
        parts = [_cap(rng.choice(others or list(bank.core)))]
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
                s, native, slug = parent.thread[:3]
                comment = _reddit_native(rng, "do")
                return (f"https://www.reddit.com/r/{s}/comments/{native}/{slug}/{comment}/",
                        parent.thread)
            native, slug = _reddit_native(rng, "7"), _slug(title or "post")
            thread = (sub or "", native, slug, "0")  # the reach is filled in by the caller
            return f"https://www.reddit.com/r/{sub}/comments/{native}/{slug}/", thread
        if url:
            return url.replace("{date}", at.strftime("%Y/%m/%d")), ()
        host = rng.choice(_BLOGS)
        slug = _slug(title or "post", 60).replace("_", "-")
        return f"https://{host}/{at.strftime('%Y/%m/%d')}/{slug}/", ()

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


_BLOGS = ("waveformdiary.example", "thelatenightlistener.example", "b-side-notes.example",
          "streamcorner.example", "gadgetgrove.example", "thequietdesk.example",
          "loudandclear.example", "nightbusblog.example")

# --------------------------------------------------------------------------------------------
# Claims
# --------------------------------------------------------------------------------------------


def _earbud_burns() -> Spec:
    """(a) health_safety: Spotify-branded earbuds said to burn ears and cause infections."""
    en = Bank(
        core=("{S}'s Loop earbuds are giving people ear infections",
              "the free {S} earbuds are literally burning people's ears",
              "{S} Loop buds overheat and leave burns inside your ear",
              "people are getting blisters in their ear canals from the {S} earbuds",
              "those {S} Premium bundle earbuds cause infections, there's a whole video",
              "{S} earbuds burned a girl's ears so badly she needed antibiotics",
              "the {S} Loop earbuds get hot enough to burn skin",
              "{S} is handing out earbuds that give you ear burns and infections",
              "if you got the {S} Loop buds stop wearing them, they're burning people",
              "{S}'s branded earbuds are causing ear infections and nobody is talking about it",
              "a teenager got burns inside her ears from {S} earbuds",
              "the ear tips on the {S} Loop buds are causing nasty infections",
              "{S} sent out earbuds that basically cook your ear",
              "apparently the battery in the {S} earbuds heats up right against your ear canal",
              "kids are ending up at the doctor with burned ears because of {S} earbuds",
              "the {S} earbuds from the holiday bundle are a burn hazard"),
        personal=("I've had the {S} Loop buds for a week and my left ear is red and swollen",
                  "my ear has been itching and oozing since I started using the {S} earbuds",
                  "same thing happened to my son, the {S} earbuds left a red burn mark in his ear",
                  "I literally felt my {S} buds get hot on the bus and thought I was imagining it",
                  "got an ear infection last month and the only new thing was the {S} earbuds",
                  "my daughter's ear is blistered after falling asleep in the {S} Loop buds",
                  "threw my {S} earbuds in the bin after watching this, mine were getting warm too",
                  "went to urgent care for an ear infection and the doctor asked if I use {S}'s "
                  "Loop earbuds",
                  "I have a burn-looking spot inside my ear and I wear the {S} buds every day"),
        details=("the video shows actual blisters", "her doctor said it's a burn plus an infection",
                 "they get hot in the charging case too", "it's the ones from the Premium bundle",
                 "thousands of people got them for free",
                 "the comments are full of people saying the same",
                 "some people say the silicone tips trap moisture", "she's on antibiotics now",
                 "and no recall so far", "there are photos in the replies",
                 "apparently it's worse if you sleep in them"),
        openers=("omg", "PSA:", "ok so", "wait,", "heads up:", "yikes,",
                 "not gonna lie this scares me,",
                 "so apparently", "WARNING:", "parents please read:", "umm", "guys"),
        tails=("unreal", "someone needs to recall these", "do better {S}", "this is so scary",
               "throw them away", "why is nobody talking about this",
               "{S} needs to answer for this",
               "kids use these!!", "I'm done", "share this with anyone who has them", "disgusting"),
        reacts=("wait what?? {S} earbuds burning people??", "this is insane. {S} what is going on",
                "{S} earbuds?? no way", "yikes {S}", "excuse me {S}??",
                "ok never touching those {S} buds again", "this {S} earbud thing is horrifying",
                "{S} please say something", "how is {S} not recalling these",
                "the {S} earbud video has me shook", "not the {S} earbuds 😭"),
        shares=("{S} earbuds video:", "watch this before you put your {S} buds in",
                "{S} Loop earbuds 👇", "re: the {S} earbuds", "this {S} video though",
                "for anyone with {S}'s free earbuds", "{S} earbud burns, full video"),
        replies=("did {S} ever respond to you?", "same with mine, the {S} ones get super warm",
                 "report it to {S} and to consumer safety",
                 "hope your ears heal fast, {S} owes you",
                 "my {S} buds did this too!!", "is it only the Loop model or all {S} earbuds?",
                 "I thought it was just me, the {S} buds left a rash",
                 "this needs more views, tagging {S}",
                 "my cousin's ear got infected from the {S} buds too",
                 "sending this to everyone I know who got the {S} bundle"),
        titles=("{S} Loop earbuds gave me an ear infection?",
                "Anyone else getting burns from the free {S} earbuds?",
                "PSA: stop using the {S} Premium bundle earbuds",
                "{S} earbuds burned my ear, photos inside",
                "The {S} Loop burn video is blowing up", "Reacting to the {S} earbuds burn video"),
    )
    source = ("I wore the Spotify earbuds from the Premium bundle for like 3 days and now both "
              "ears "
              "are blistered and my doctor says it's an infection on top of a burn. PLEASE stop "
              "using "
              "them, especially if your kids have them. Showing it at 1:40")
    return Spec(
        name="earbud_burns", abbr="buds", kind="claim", category="health_safety",
        description="Spotify-branded Loop earbuds said to burn ears and cause infections (viral "
                    "video)",
        day=8, hour=13.0, size=90, span_h=27, peak_h=3.0, curve="viral",
        platforms={"x": 0.45, "youtube": 0.16, "reddit": 0.14, "bluesky": 0.12, "mastodon": 0.06,
                   "rss": 0.04},
        banks={"en": en}, link_rate=0.64,
        subs=(("spotify", 164_000), ("headphones", 251_000), ("Parenting", 540_000)),
        hashtags=("#SpotifyLoop", "#recall", "#PSA", "#earbuds"),
        emoji=("😳", "😭", "🔥", "⚠️", "😡", "🤕", "👂"),
        anchors=(
            Anchor(0.0, "youtube", "Kenzie Marlow", 84_000, source, source=True,
                   title="my Spotify Loop earbuds BURNED my ears 😭 (not clickbait) #storytime"),
            Anchor(1.6, "x", "kenziemarlow", 61_000,
                   "I did not expect this to blow up. my ears are healing, but if you have the "
                   "Spotify Loop buds please don't sleep in them", link=True),
            Anchor(2.4, "x", "GadgetGrind", 142_000,
                   "Several users say the free Spotify Loop earbuds overheat, leaving burns and "
                   "ear infections. "
                   "A video showing blistered ears is spreading fast. Spotify has not commented.",
                   link=True),
            Anchor(3.1, "x", "popculturewire", 388_000,
                   "a viral video claims Spotify's free earbuds burned a teen's ears and gave her "
                   "an infection 😳", link=True),
            Anchor(4.0, "rss", "The Gadget Ledger", None,
                   "A video posted by a creator showing blisters inside both ears has put "
                   "Spotify's "
                   "bundled Loop earbuds under scrutiny. Dozens of commenters describe overheating "
                   "and "
                   "infections; Spotify did not answer a request for comment.",
                   title="Spotify Loop earbuds accused of burning users' ears after viral video",
                   url="https://gadgetledger.example/{date}/spotify-loop-earbuds-burns/"),
            Anchor(5.2, "youtube", "TechTakes with Ravi", 214_000,
                   "Are the free Spotify earbuds actually dangerous? I looked at the viral burn "
                   "video, "
                   "the battery and the ear tips.",
                   title="Are Spotify's free earbuds DANGEROUS? The burn video explained"),
            Anchor(6.5, "bluesky", "audiogeek.bsky.social", 23_500,
                   "the Spotify Loop story is getting worse, more people posting blistered ears "
                   "tonight", link=True),
        ),
    )


def _event_food_poisoning() -> Spec:
    """(b) health_safety, same day as (a): attendees sick after a Spotify showcase's catering."""
    en = Bank(
        core=("the {S} showcase catering gave like half the crowd food poisoning",
              "dozens of people got sick after eating at the {S} event in Chicago",
              "{S} served bad food at Fresh Finds Live and people ended up in the ER",
              "people are throwing up all over Chicago after the {S} party",
              "{S}'s free tacos poisoned everyone at the warehouse show",
              "the {S} Fresh Finds event caused a food poisoning outbreak",
              "at least 30 people are sick with food poisoning after a {S} event",
              "the caterer at the {S} showcase gave people salmonella or something",
              "{S} staff got sick too, it's an outbreak from their event food",
              "everyone who ate at the {S} tent is sick",
              "several people from the {S} show were hospitalized with food poisoning",
              "the {S} event food made people violently ill",
              "the chicken at the {S} showcase sent people to the hospital"),
        personal=("I went to the {S} show last night and I've been throwing up since 3am",
                  "my roommate and I both ate the {S} tacos and we're both so sick",
                  "spent the night in the ER after the {S} showcase, they said food poisoning",
                  "I only had the chicken sliders at the {S} thing and I feel like death",
                  "was at {S} Fresh Finds, my whole friend group is sick today",
                  "can't keep water down since the {S} event, this is awful",
                  "I worked the door at the {S} show and half the staff called in sick today"),
        details=("it was the free food from the catering tent",
                 "the chicken was lukewarm and nobody said anything",
                 "the health department is apparently looking into it",
                 "one girl passed out in the bathroom line",
                 "a bunch of people are posting in the Chicago subreddit",
                 "some of the artists got sick too",
                 "people are saying it's salmonella", "my friend is still on an IV drip",
                 "it was the Riverline warehouse show"),
        openers=("uh,", "so", "PSA Chicago:", "update:", "ugh", "not to be dramatic but",
                 "anyone else?", "yikes"),
        tails=("never again", "{S} owes everyone an apology", "gross", "what a nightmare",
               "hope everyone's ok",
               "please hydrate", "this is so messed up", "who was the caterer??"),
        reacts=("wait the {S} party made people sick??", "this is insane {S}", "oh no {S} 🤢",
                "{S} food poisoning?? wow", "{S} what did you feed these people", "lol what {S}",
                "not {S} poisoning the whole showcase", "the {S} showcase thing is so grim"),
        shares=("{S} showcase thread:", "read the {S} event thread", "the Chicago {S} thing 👇",
                "{S} Fresh Finds food poisoning:"),
        replies=("same!! we ate at the {S} tent too", "did {S} contact you at all?",
                 "report it to the city health department, not just {S}",
                 "hope you feel better, the {S} food was sketchy",
                 "my friend was at the {S} show too and she's sick",
                 "was it the tacos?? I had those at the {S} event",
                 "{S} should pay everyone's ER bills",
                 "the {S} people at the door looked green too lol",
                 "I skipped the food at the {S} show and I'm fine, so it was definitely the food"),
        titles=("Anyone else sick after the {S} Fresh Finds show?",
                "Food poisoning after the {S} showcase at Riverline",
                "{S} event food poisoning megathread", "Dozens sick after {S} showcase"),
    )
    source = ("Half my group has been throwing up since 2am. We all ate the free tacos and chicken "
              "from the Spotify catering tent at the Riverline warehouse. Is it just us??")
    return Spec(
        name="event_food_poisoning", abbr="feast", kind="claim", category="health_safety",
        description="attendees say Spotify's Fresh Finds showcase catering gave dozens food "
                    "poisoning",
        day=8, hour=15.5, size=62, span_h=16, peak_h=2.6, curve="viral",
        platforms={"x": 0.45, "reddit": 0.3, "bluesky": 0.1, "mastodon": 0.05, "youtube": 0.03,
                   "rss": 0.07},
        banks={"en": en}, link_rate=0.6,
        subs=(("chicago", 196_000), ("spotify", 164_000), ("Music", 1_200_000)),
        hashtags=("#FreshFindsLive", "#Chicago", "#foodpoisoning"),
        emoji=("🤢", "🤮", "😷", "😩", "🚑"),
        anchors=(
            Anchor(0.0, "reddit", "wickerparkwren", 196_000, source, source=True, sub="chicago",
                   title="Anyone else get sick after the Spotify Fresh Finds show last night?"),
            Anchor(2.2, "x", "chicagoscene", 48_000,
                   "Reports of dozens of attendees sick after Spotify's Fresh Finds showcase at "
                   "the "
                   "Riverline warehouse. Several say they went to the ER.", link=True),
            Anchor(3.0, "rss", "Lakeshore Ledger", None,
                   "Attendees of a Spotify showcase in Chicago's West Loop say they fell ill after "
                   "eating "
                   "from the event's catering tent; at least two were treated in hospital. The "
                   "city health "
                   "department said it had received complaints.",
                   title="Dozens report food poisoning after Spotify showcase in Chicago",
                   url="https://lakeshoreledger.example/news/{date}/spotify-showcase-illness/"),
            Anchor(3.8, "x", "WLKS7News", 95_000,
                   "NEW: Chicago health officials looking into illness reports after a Spotify "
                   "music event. "
                   "Attendees describe vomiting and fever.", link=True),
        ),
    )


def _desktop_mic_recording() -> Spec:
    """(c) privacy_security, multilingual: the desktop app said to record the mic and sell data."""
    en = Bank(
        core=("{S}'s desktop app is recording your microphone in the background",
              "{S} is secretly listening through your mic, a researcher proved it",
              "the {S} desktop client uploads audio clips from your microphone",
              "{S} is selling your listening data to advertisers without telling you",
              "{S} records what you say near your laptop and ships it to ad partners",
              "a security researcher caught {S} turning on the mic while the app is minimized",
              "{S} is spying on you through your computer's microphone",
              "{S} sells your listening history to data brokers",
              "turns out the {S} app on Windows and Mac opens your mic every few minutes",
              "{S} has been harvesting microphone audio for ad targeting",
              "the {S} desktop app is basically spyware",
              "{S} is packaging your listening habits and selling them to advertisers",
              "your {S} app is listening to you, literally",
              "{S} quietly sends recorded audio from desktop users to its servers"),
        personal=("just checked my mic permissions and {S} had access, I never gave it that",
                  "my mic light came on while only {S} was open. now I know why",
                  "I talked about running shoes near my laptop and got shoe ads on {S} the "
                  "next day",
                  "uninstalled the {S} desktop app, using the web player from now on",
                  "I work from home with {S} open all day, so they've heard every call??",
                  "checked Little Snitch and {S} makes a ton of connections when idle"),
        details=("the researcher posted packet captures",
                 "it happens even when the app is minimized",
                 "the blog has the full write-up", "it's the current desktop builds",
                 "she says the audio goes to an ad-tech domain",
                 "apparently it's buried in the privacy policy",
                 "there's no mic setting anywhere in the app", "on both Windows and Mac",
                 "she says she reported it weeks ago"),
        openers=("wow", "PSA:", "so", "great,", "ok this is bad:", "uh", "privacy people:", "yikes",
                 "lovely,"),
        tails=("delete it", "this is creepy as hell", "cover your mic", "{S} needs to explain this",
               "GDPR anyone?", "privacy is dead", "uninstalling now", "unbelievable",
               "absolutely not"),
        reacts=("wait what?? {S} listening through the mic??", "this is insane, {S}",
                "{S} spyware?? great",
                "uhh {S}?", "{S} is doing WHAT with my mic", "oh come on {S}", "👀 {S}",
                "not {S} too",
                "{S} really said 'we're listening' huh"),
        shares=("{S} mic thing, read this:", "long read on {S} and your microphone",
                "the {S} write-up",
                "{S} desktop app 👇", "worth reading if you use {S} on desktop",
                "{S} + your microphone:"),
        replies=("did you confirm this on your own machine? scary if {S} really does it",
                 "{S} needs to respond to this asap", "can someone test the {S} client on Linux?",
                 "deleting {S} from my laptop tonight", "has {S} said anything??",
                 "the packet captures look legit, {S} has some explaining to do",
                 "wonder if the {S} phone app does the same",
                 "taped my webcam, now I need to tape my mic for {S}"),
        titles=("{S} desktop app caught recording microphone audio",
                "Researcher: {S}'s desktop client opens your mic in the background",
                "Is {S} really listening through the microphone?",
                "{S} accused of selling listening data to advertisers"),
    )
    es = Bank(
        core=("La app de escritorio de {S} graba el micrófono sin avisar",
              "{S} escucha por el micrófono de tu ordenador, lo ha demostrado una investigadora",
              "{S} vende tus datos de escucha a los anunciantes",
              "Según una investigadora, {S} sube fragmentos de audio de tu micrófono a sus "
              "servidores",
              "{S} nos espía por el micro del portátil",
              "{S} activa el micrófono aunque la app esté minimizada"),
        details=("La investigadora publicó las capturas de red", "Pasa en Windows y en Mac",
                 "Y nadie de {S} ha dicho nada"),
        openers=("Ojo:", "Atención:", "Increíble:", "Vaya,", "Madre mía,"),
        tails=("Lo desinstalo ya", "Qué asco", "Esto es gravísimo", "Tapad el micrófono"),
        reacts=("¿¿Qué?? ¿{S} escuchando por el micrófono?", "Esto es una locura, {S}",
                "{S}, explicad esto ya", "No me lo creo, {S}"),
        replies=("¿Alguien lo ha comprobado? Si {S} hace esto es gravísimo",
                 "Yo ya borré {S} del portátil",
                 "{S} tiene que dar explicaciones"),
        titles=("{S} graba el micrófono de los usuarios de escritorio, según una investigadora",),
    )
    fr = Bank(
        core=("L'appli {S} sur ordinateur enregistre le micro en arrière-plan",
              "{S} vend vos données d'écoute aux annonceurs",
              "Une chercheuse montre que {S} envoie des extraits audio de votre micro à ses "
              "serveurs",
              "{S} nous écoute via le micro de l'ordinateur",
              "{S} active le micro même quand l'appli est réduite",
              "L'application de bureau de {S}, c'est carrément un logiciel espion"),
        details=("La chercheuse a publié les captures réseau", "Ça touche Windows et Mac",
                 "Toujours aucune réponse de {S}"),
        openers=("Attention :", "Euh,", "Incroyable :", "Sérieusement,"),
        tails=("Je désinstalle", "C'est flippant", "Scandaleux", "Il faut que la CNIL s'en mêle"),
        reacts=("Attendez, {S} écoute par le micro ??", "C'est n'importe quoi, {S}",
                "{S}, des explications svp", "Bon, {S} aussi alors"),
        replies=("Quelqu'un a vérifié ? Si {S} fait ça c'est grave", "J'ai supprimé {S} de mon PC",
                 "{S} doit répondre à ça"),
        titles=("{S} accusé d'enregistrer le micro des utilisateurs sur ordinateur",),
    )
    de = Bank(
        core=("Die Desktop-App von {S} nimmt heimlich über das Mikrofon auf",
              "{S} verkauft eure Hördaten an Werbefirmen",
              "Eine Forscherin hat gezeigt, dass {S} Audioschnipsel vom Mikrofon hochlädt",
              "{S} hört über das Laptop-Mikrofon mit",
              "{S} schaltet das Mikrofon ein, auch wenn die App minimiert ist",
              "Die {S}-App am Rechner ist im Grunde Spyware"),
        details=("Die Forscherin hat die Netzwerkmitschnitte veröffentlicht",
                 "Betrifft Windows und Mac",
                 "Von {S} gibt es noch keine Stellungnahme"),
        openers=("Achtung:", "Ernsthaft,", "Krass:", "Wow,"),
        tails=("Sofort deinstalliert", "Datenschutz ade", "Das ist gruselig", "Unfassbar"),
        reacts=("Moment, {S} hört mit??", "Das ist doch irre, {S}", "{S}, bitte erklärt das",
                "Na toll, {S}"),
        replies=("Hat das jemand nachgeprüft? Wenn {S} das macht, ist das heftig",
                 "Hab {S} vom Laptop gelöscht", "{S} muss sich dazu äußern"),
        titles=("Forscherin: {S}-Desktop-App schaltet heimlich das Mikrofon ein",),
    )
    pt = Bank(
        core=("O app de desktop do {S} grava o microfone escondido",
              "O {S} vende seus dados de audição para anunciantes",
              "Uma pesquisadora mostrou que o {S} envia trechos de áudio do seu microfone",
              "O {S} tá ouvindo a gente pelo microfone do notebook",
              "O {S} liga o microfone mesmo com o app minimizado",
              "O app do {S} no computador é praticamente um spyware"),
        details=("A pesquisadora publicou as capturas de rede", "Acontece no Windows e no Mac",
                 "E o {S} ainda não falou nada"),
        openers=("Gente,", "Atenção:", "Olha isso:", "Sério,"),
        tails=("Desinstalei", "Que absurdo", "Bizarro", "Tampem o microfone"),
        reacts=("Pera, o {S} ouvindo pelo microfone??", "Isso é loucura, {S}",
                "{S}, expliquem isso",
                "Até o {S}?"),
        replies=("Alguém confirmou? Se o {S} faz isso é muito grave", "Apaguei o {S} do notebook",
                 "O {S} precisa explicar isso"),
        titles=("Pesquisadora diz que o {S} grava o microfone no computador",),
    )
    blog = ("Over three weeks I watched what the Spotify desktop client does while idle. Every few "
            "minutes it opens the microphone and sends short encrypted uploads to an "
            "ad-measurement "
            "endpoint, and its listening-history exports go to two data brokers. Captures and "
            "method below.")
    return Spec(
        name="desktop_mic_recording", abbr="mic", kind="claim", category="privacy_security",
        description="researcher's blog: Spotify desktop app records the microphone and sells "
                    "listening data",
        day=18, hour=7.0, size=100, span_h=30, peak_h=3.2, curve="viral",
        platforms={"x": 0.45, "reddit": 0.14, "mastodon": 0.14, "bluesky": 0.13, "youtube": 0.06,
                   "rss": 0.08},
        banks={"en": en, "es": es, "fr": fr, "de": de, "pt": pt},
        foreign={"es": 0.06, "fr": 0.05, "de": 0.05, "pt": 0.05}, link_rate=0.6,
        subs=(("privacy", 310_000), ("technology", 2_400_000), ("spotify", 164_000)),
        hashtags=("#privacy", "#infosec", "#DeleteTheApp", "#GDPR"),
        emoji=("👀", "🎙️", "😬", "🤐", "🙃"),
        anchors=(
            Anchor(0.0, "rss", "Ines Okafor", None, blog, source=True,
                   title="Spotify's desktop app opens your microphone when you're not looking",
                   url="https://packetnotes.example/{date}/spotify-desktop-microphone/"),
            Anchor(0.2, "x", "okafor_sec", 31_000,
                   "New post: the Spotify desktop app opens your mic every few minutes and uploads "
                   "to an "
                   "ad-measurement endpoint. Packet captures included.", link=True),
            Anchor(2.0, "mastodon", "okafor@infosec.exchange", 22_000,
                   "Write-up on the Spotify desktop client and the microphone. Happy to share "
                   "pcaps with "
                   "anyone who wants to reproduce.", link=True),
            Anchor(2.9, "x", "ByteBeatNews", 264_000,
                   "Security researcher says Spotify's desktop app records microphone audio in the "
                   "background "
                   "and sells listening data to brokers. Spotify hasn't responded yet.", link=True),
            Anchor(4.4, "rss", "Diario Digital", None,
                   "Una investigadora de seguridad asegura que la aplicación de escritorio de "
                   "Spotify activa "
                   "el micrófono en segundo plano y envía datos a empresas de publicidad.",
                   title=("Acusan a Spotify de grabar el micrófono desde su aplicación de "
                          "escritorio"),
                   lang="es",
                   url="https://diariodigital.example/tecnologia/{date}/spotify-microfono/"),
            Anchor(5.0, "rss", "Netzwelt Heute", None,
                   "Eine Sicherheitsforscherin wirft Spotify vor, die Desktop-App schalte im "
                   "Hintergrund das "
                   "Mikrofon ein und verkaufe Hördaten an Datenhändler.",
                   title="Spotify soll über die Desktop-App das Mikrofon abhören",
                   lang="de", url="https://netzwelt-heute.example/{date}/spotify-mikrofon/"),
            Anchor(6.1, "youtube", "Tom Harte Tech", 181_000,
                   "I tried to reproduce the Spotify microphone claim on my own machines. Here's "
                   "what the "
                   "traffic looks like.",
                   title="Is Spotify listening to you? Testing the desktop app"),
        ),
    )


def _fake_stream_counts() -> Spec:
    """(d) fraud_scam: Spotify accused of faking stream counts and bot plays to pay artists less."""
    en = Bank(
        core=("{S} is faking stream counts to pay artists less",
              "{S} undercounts plays and pockets the difference, that's fraud",
              "{S} runs bot streams on its own playlists to drain the royalty pool",
              "the stream numbers {S} reports to artists are fake",
              "{S} is literally scamming musicians out of royalties",
              "a label just showed {S} shaved 30% off their stream counts",
              "{S} uses bot accounts to pump fake artists and cut real artists' payouts",
              "{S}'s play counts are rigged",
              "{S} is committing royalty fraud and the receipts are out",
              "{S} reports fewer streams to labels than its own app displays",
              "{S} is stealing from artists with fake stream counts",
              "the whole {S} payout system is a scam built on bot plays",
              "{S} is cooking the books on streams so artists get paid less"),
        personal=("my song shows 41k plays in the {S} app but my statement says 27k. explain",
                  "as an indie artist I always felt the {S} numbers didn't add up, now we know",
                  "pulled my {S} for Artists stats against my distributor report, the gap is huge",
                  "been releasing on {S} for 4 years and my payouts dropped while plays went up",
                  "we're a small band and {S} paid us for about half the streams the app shows",
                  "checked our label's {S} statements tonight, same 30% gap"),
        details=("the label compared six months of reports", "the gap is about 30 percent",
                 "the bot accounts all follow the same ten playlists",
                 "they posted the spreadsheets",
                 "other labels are checking their numbers now",
                 "the 'artists' on those playlists don't exist",
                 "the blog has screenshots of the statements", "every month the gap gets bigger"),
        openers=("so", "holy crap,", "artists:", "read this:", "well well,", "unsurprising but",
                 "ok,", "big if true:"),
        tails=("pay artists properly", "class action when?", "unreal", "this is theft",
               "artists deserve better",
               "where's the money {S}?", "audit them", "shameful"),
        reacts=("wait {S} is faking the numbers??", "this is insane, {S}",
                "{S} fraud?? not surprised honestly",
                "oof {S}", "{S} really said bots over artists", "holy crap {S}",
                "the {S} stream thing is wild",
                "{S} you have some explaining to do"),
        shares=("{S} stream counts, read it:", "the {S} royalty post everyone's sharing",
                "{S} numbers thread 👇",
                "artists on {S}, read this", "the missing {S} streams:"),
        replies=("did you compare your {S} dashboard with your distributor too?",
                 "same gap on our {S} statements",
                 "{S} will just say it's 'filtering fraudulent streams' lol",
                 "someone get a lawyer to look at the {S} numbers",
                 "take this to the musicians' union, {S} can't get away with it",
                 "my {S} numbers also dropped in August",
                 "does anyone have the {S} spreadsheets mirrored?"),
        titles=("{S} undercounted our streams by 30%, here's the data",
                "Is {S} faking stream counts to pay artists less?",
                "Indie label accuses {S} of royalty fraud",
                "The missing streams: what {S} doesn't pay for"),
    )
    blog = ("We compared six months of Spotify statements with our own play logs and the counts in "
            "the "
            "app. Spotify paid us for roughly 30% fewer streams than it displayed, while bot "
            "accounts on "
            "its own mood playlists soak up the royalty pool. Spreadsheets attached. This is "
            "fraud.")
    return Spec(
        name="fake_stream_counts", abbr="streams", kind="claim", category="fraud_scam",
        description="indie label accuses Spotify of faking stream counts and bot plays to underpay "
                    "artists",
        day=27, hour=14.0, size=82, span_h=28, peak_h=3.5, curve="viral",
        platforms={"x": 0.5, "reddit": 0.14, "bluesky": 0.13, "mastodon": 0.07, "youtube": 0.08,
                   "rss": 0.08},
        banks={"en": en}, link_rate=0.6,
        subs=(("WeAreTheMusicMakers", 420_000), ("spotify", 164_000), ("indieheads", 390_000)),
        hashtags=("#PayArtists", "#StreamFraud", "#FairPlay", "#musicbiz"),
        emoji=("💸", "🤖", "😤", "📉", "🙄"),
        anchors=(
            Anchor(0.0, "rss", "Lowlight Records", None, blog, source=True,
                   title="The missing streams: how Spotify shortchanged us",
                   url="https://lowlightrecords.example/blog/{date}/the-missing-streams/"),
            Anchor(0.3, "x", "lowlightrecs", 8_400,
                   "We did the maths on our Spotify statements. Read this if you release music.",
                   link=True),
            Anchor(2.8, "x", "JunoValeMusic", 241_000,
                   "artists PLEASE check your Spotify statements against the app. a label just "
                   "showed a 30% gap "
                   "and bots on Spotify's own playlists. if true this is fraud", link=True),
            Anchor(3.6, "x", "royaltywatch", 58_000,
                   "Independent label alleges Spotify underreports streams by ~30% and lets bot "
                   "accounts inflate "
                   "in-house playlists. Spotify has not responded.", link=True),
            Anchor(5.0, "rss", "Sound Ledger", None,
                   "A small label's spreadsheet comparing Spotify payouts with in-app play counts "
                   "has spread "
                   "among artists, who accuse the company of faking stream numbers.",
                   title="Artists accuse Spotify of faking stream counts after label's data dump",
                   url="https://soundledger.example/{date}/spotify-stream-counts-label/"),
            Anchor(6.2, "youtube", "Mara Synth", 96_000,
                   "Going through the label's numbers line by line, and my own Spotify statements.",
                   title="Is Spotify underpaying artists with FAKE stream counts? I checked mine"),
        ),
    )


def _child_data_regulator() -> Spec:
    """(e) legal_regulatory, multilingual: a regulator fines and probes Spotify over kids' data."""
    en = Bank(
        core=("{S} has been fined €39 million over children's data",
              "EU regulators are investigating {S} for collecting data on kids under 13",
              "{S} hit with a €39m fine for profiling child accounts",
              "a European regulator says {S} broke data protection law with kids' accounts",
              "{S} is under formal investigation over how it handles children's listening data",
              "{S} illegally used data from child profiles for ads, says the regulator",
              "the regulator has ordered {S} to stop processing kids' data",
              "{S} is being probed for tracking children on family accounts",
              "the data watchdog fined {S} and opened a second investigation",
              "{S} could face more penalties after the children's data ruling",
              "{S} broke the law on kids' privacy according to EU regulators"),
        personal=("I set up {S} profiles for both my kids last year... great",
                  "as a parent this {S} fine makes me want to delete the kids' profiles",
                  "my 10 year old has a {S} profile on our family plan, what did they collect?",
                  "just deleted my daughter's {S} profile after reading this"),
        details=("the fine is €39 million", "the decision was published this morning",
                 "it covers accounts of users under 13", "{S} says it will appeal",
                 "a second probe covers ad targeting",
                 "the regulator says parents were never asked for consent",
                 "other countries may follow"),
        openers=("breaking:", "wow", "so", "finally,", "news:", "parents:", "big one:"),
        tails=("about time", "protect kids' data", "good", "big tech keeps doing this",
               "hope they pay up",
               "parents should check their settings"),
        reacts=("wow, {S} fined??", "{S} and kids' data, really?", "this is huge for {S}",
                "oof {S}",
                "{S} getting fined was not on my bingo card", "whoa {S}"),
        shares=("{S} fine:", "the {S} decision, full story", "{S} kids' data ruling 👇",
                "read: {S} fined"),
        replies=("does this affect {S} users outside the EU?",
                 "{S} will just appeal and pay it eventually",
                 "how do I delete my kid's data from {S}?", "the fine is tiny for {S} honestly",
                 "good, {S} had it coming", "is the second {S} investigation about ads too?"),
        titles=("EU regulator fines {S} €39m over children's data",
                "{S} investigated over kids' accounts",
                "{S} fined for profiling under-13 users",
                "What the {S} children's data fine means for families"),
    )
    es = Bank(
        core=("Multa de 39 millones de euros a {S} por los datos de menores",
              "Un regulador europeo investiga a {S} por recopilar datos de niños",
              "{S}, multada por usar los perfiles infantiles para publicidad",
              "Abren una investigación a {S} por los datos de menores de 13 años"),
        details=("La resolución se publicó esta mañana", "{S} dice que recurrirá"),
        openers=("Última hora:", "Ojo:", "Vaya,"),
        tails=("Ya era hora", "Protejamos a los niños", "Que paguen"),
        reacts=("¿{S} multada? Vaya", "Lo de {S} con los datos de niños es fuerte"),
        replies=("¿Esto afecta a {S} fuera de la UE?", "{S} recurrirá y pagará tarde"),
        titles=("Multa millonaria a {S} por los datos de menores",),
    )
    fr = Bank(
        core=("{S} condamné à une amende de 39 millions d'euros pour les données d'enfants",
              "Le régulateur européen enquête sur {S} à propos des comptes d'enfants",
              "{S} sanctionné pour avoir profilé des utilisateurs de moins de 13 ans",
              "Enquête ouverte contre {S} sur les données des mineurs"),
        details=("La décision a été publiée ce matin", "{S} annonce faire appel"),
        openers=("Info :", "Tiens,", "Enfin :"),
        tails=("Il était temps", "Protégeons les enfants", "Bien fait"),
        reacts=("{S} à l'amende ? Ah bon", "L'affaire {S} et les données d'enfants, sérieux ?"),
        replies=("Ça concerne {S} hors de l'UE ?", "{S} va faire appel et payer dans trois ans"),
        titles=("{S} sanctionné pour les données des enfants",),
    )
    de = Bank(
        core=("{S} muss 39 Millionen Euro Strafe wegen Kinderdaten zahlen",
              "EU-Datenschutzbehörde ermittelt gegen {S} wegen Kinderkonten",
              "Bußgeld gegen {S}: Daten von unter 13-Jährigen für Werbung genutzt",
              "Ermittlungen gegen {S} wegen der Daten von Minderjährigen"),
        details=("Die Entscheidung wurde heute früh veröffentlicht", "{S} will Einspruch einlegen"),
        openers=("Eilmeldung:", "Oha,", "Endlich:"),
        tails=("Wurde auch Zeit", "Kinderdaten schützen", "Gut so"),
        reacts=("{S} muss zahlen? Krass", "{S} und Kinderdaten, echt jetzt?"),
        replies=("Gilt das auch für {S} außerhalb der EU?", "{S} zahlt das aus der Portokasse"),
        titles=("Millionenstrafe für {S} wegen Kinderdaten",),
    )
    pt = Bank(
        core=("{S} é multado em 39 milhões de euros por dados de crianças",
              "Regulador europeu investiga o {S} por coletar dados de menores",
              "O {S} levou multa por usar perfis infantis para anúncios",
              "Abriram investigação contra o {S} por causa dos dados de menores de 13 anos"),
        details=("A decisão saiu hoje de manhã", "O {S} diz que vai recorrer"),
        openers=("Urgente:", "Eita,", "Finalmente:"),
        tails=("Já era hora", "Protejam as crianças", "Bem feito"),
        reacts=("O {S} multado? Eita", "Essa do {S} com dados de crianças é pesada"),
        replies=("Isso vale pro {S} fora da UE?", "O {S} vai recorrer e pagar daqui a anos"),
        titles=("{S} leva multa milionária por dados de crianças",),
    )
    story = ("The European Data Oversight Board fined Spotify €39 million on Thursday, saying the "
             "service "
             "built advertising profiles from the listening of children under 13 on family-plan "
             "profiles "
             "without parental consent. A second investigation into ad targeting is open. Spotify "
             "said it "
             "would appeal.")
    return Spec(
        name="child_data_regulator", abbr="kids", kind="claim", category="legal_regulatory",
        description="EU data regulator fines Spotify €39m and opens a probe over children's "
                    "account data",
        day=36, hour=6.0, size=76, span_h=30, peak_h=3.0, curve="viral",
        platforms={"x": 0.5, "rss": 0.12, "bluesky": 0.13, "mastodon": 0.1, "reddit": 0.1,
                   "youtube": 0.05},
        banks={"en": en, "es": es, "fr": fr, "de": de, "pt": pt},
        foreign={"es": 0.06, "fr": 0.05, "de": 0.05, "pt": 0.05}, link_rate=0.62,
        subs=(("europe", 1_100_000), ("privacy", 310_000), ("Parenting", 540_000)),
        hashtags=("#GDPR", "#privacy", "#kids", "#dataprotection"),
        emoji=("⚖️", "👶", "💶", "😬"),
        anchors=(
            Anchor(0.0, "rss", "Euro Ledger", None, story, source=True,
                   title="EU regulator fines Spotify €39m over children's data",
                   url="https://euroledger.example/tech/{date}/spotify-fine-children-data/"),
            Anchor(0.4, "x", "EuroLedgerNews", 312_000,
                   "BREAKING: EU data regulator fines Spotify €39m over children's listening data "
                   "and opens "
                   "a second investigation.", link=True),
            Anchor(1.9, "rss", "El Diario Global", None,
                   "El supervisor europeo de datos impone a Spotify una multa de 39 millones de "
                   "euros por "
                   "perfilar a usuarios menores de 13 años y abre una segunda investigación.",
                   title="Multa de 39 millones a Spotify por los datos de niños",
                   lang="es",
                   url="https://eldiarioglobal.example/tecnologia/{date}/multa-spotify-menores/"),
            Anchor(2.3, "rss", "Tagesblick", None,
                   "Die europäische Datenschutzaufsicht verhängt gegen Spotify ein Bußgeld von 39 "
                   "Millionen "
                   "Euro wegen der Daten von Kindern unter 13 Jahren.",
                   title="39 Millionen Euro Bußgeld gegen Spotify wegen Kinderdaten",
                   lang="de", url="https://tagesblick.example/digital/{date}/spotify-bussgeld/"),
            Anchor(3.2, "x", "techpolicydaily", 76_000,
                   "Spotify fined €39m, ordered to stop processing under-13 data within 90 days. "
                   "Second probe on ad targeting. Thread on what the decision says.", link=True),
            Anchor(4.5, "bluesky", "kidsprivacywatch.bsky.social", 21_000,
                   "The Spotify decision is the biggest children's-data fine against a streaming "
                   "service so far.",
                   link=True),
            Anchor(6.0, "rss", "Le Quotidien Numérique", None,
                   "Le régulateur européen des données inflige une amende de 39 millions d'euros à "
                   "Spotify "
                   "pour le profilage d'enfants de moins de 13 ans.",
                   title="Spotify condamné à 39 millions d'euros d'amende pour les données "
                         "d'enfants",
                   lang="fr",
                   url="https://lequotidiennumerique.example/{date}/spotify-amende-enfants/"),
        ),
    )


def _artist_strike_boycott() -> Spec:
    """(f) boycott: a musicians' union calls a strike and boycott of Spotify over layoffs, pay."""
    en = Bank(
        core=("boycott {S} starting Monday, the musicians' union is calling a strike",
              "cancel your {S} Premium, artists are striking over the layoffs and the pay cut",
              "don't stream on {S} next week, support the #SpotifyStrike",
              "the Working Musicians Alliance is asking everyone to boycott {S}",
              "artists are pulling their music from {S} to protest the rate cut",
              "{S} laid off its curators and cut artist pay, so we're boycotting",
              "stop using {S} until they reverse the pay cut",
              "join the {S} boycott, move your listening anywhere else for a week",
              "I'm cancelling {S} in solidarity with the strike",
              "unsubscribe from {S}, the strike starts Nov 20",
              "no streams, no playlists, no {S} until artists get paid",
              "boycotting {S} for the whole strike week, who's with me",
              "musicians are on strike against {S}, don't cross the picket line"),
        personal=("just cancelled my {S} Premium after 6 years. solidarity with the strike",
                  "pulled our band's albums off {S} this morning",
                  "as a {S} curator who got laid off last month: please honour the boycott",
                  "deleted the {S} app off my phone for strike week",
                  "my whole house is off {S} until the strike's over"),
        details=("the union says 1,400 artists have signed on",
                 "it's over the 200 layoffs and the new indie rate",
                 "they want the old per-stream rate back", "the strike runs for a week",
                 "Bandcamp is waiving fees for strike week", "a few big acts are joining",
                 "the open letter is on the union's site"),
        openers=("artists need us:", "ok everyone,", "reminder:", "✊", "listen up:", "friends,",
                 "so"),
        tails=("solidarity ✊", "pay artists", "spread the word", "{S} can afford it",
               "this is how we win",
               "don't cross the line", "stand with musicians"),
        reacts=("wait artists are striking against {S}??",
                "ok the {S} strike is actually happening",
                "{S} strike let's gooo", "damn {S}", "good for them. {S} had it coming",
                "the {S} strike is trending lol"),
        shares=("{S} strike details:", "read the union's letter before you open {S}",
                "{S} boycott info 👇",
                "why artists are striking against {S}:"),
        replies=("cancelled my {S} too ✊", "what should I use instead of {S} next week?",
                 "does pausing {S} count or do I need to cancel?",
                 "{S} will ignore it unless lots of people cancel",
                 "in! deleting {S} tonight",
                 "is the whole union pulling music from {S} or only some?"),
        titles=("Musicians' union calls {S} boycott over layoffs and pay cut",
                "Artists pull music from {S} ahead of strike",
                "Why I'm boycotting {S} next week", "{S} strike starts Monday"),
    )
    letter = ("From Monday 20 November, members of the Working Musicians Alliance will withhold "
              "new releases "
              "and ask listeners to stop streaming and cancel Spotify Premium for one week, after "
              "Spotify cut "
              "200 curation jobs and lowered the per-stream rate for independent artists.")
    return Spec(
        name="artist_strike_boycott", abbr="strike", kind="claim", category="boycott",
        description="musicians' union calls #SpotifyStrike: cancel Premium, boycott Spotify over "
                    "layoffs and pay",
        day=45, hour=15.0, size=96, span_h=30, peak_h=3.0, curve="viral",
        platforms={"x": 0.52, "bluesky": 0.15, "mastodon": 0.1, "reddit": 0.1, "youtube": 0.06,
                   "rss": 0.07},
        banks={"en": en}, link_rate=0.5,
        subs=(("WeAreTheMusicMakers", 420_000), ("Music", 1_200_000), ("spotify", 164_000)),
        hashtags=("#SpotifyStrike", "#PayArtists", "#solidarity", "#StrikeWeek"),
        emoji=("✊", "🎸", "🎶", "💪", "🪧"),
        anchors=(
            Anchor(0.0, "rss", "Working Musicians Alliance", None, letter, source=True,
                   title="We are striking: no music for Spotify from 20 November",
                   url="https://workingmusicians.example/news/{date}/spotify-strike/"),
            Anchor(0.2, "x", "WMA_union", 64_000,
                   "It's official. From Monday, boycott Spotify: cancel Premium, don't stream, "
                   "stand with the "
                   "artists and curators it threw away. #SpotifyStrike", link=True),
            Anchor(2.5, "x", "CassMerriweather", 412_000,
                   "I'm pulling my catalogue from Spotify for strike week and I'm asking my fans "
                   "to cancel "
                   "Premium with me. #SpotifyStrike", link=True),
            Anchor(3.3, "rss", "Sound Ledger", None,
                   "A musicians' union representing 1,400 artists has called a one-week strike and "
                   "listener "
                   "boycott of Spotify, citing layoffs and a lower per-stream rate.",
                   title="Musicians' union calls week-long Spotify boycott",
                   url="https://soundledger.example/{date}/musicians-union-spotify-boycott/"),
            Anchor(4.6, "bluesky", "musicworkers.bsky.social", 28_000,
                   "The Spotify boycott list keeps growing. If you can, cancel for the week.",
                   link=True),
            Anchor(7.0, "youtube", "The Rate Card", 45_000,
                   "What the union wants from Spotify, what a per-stream cut means, and whether a "
                   "listener "
                   "boycott can work.", title="The Spotify strike, explained"),
        ),
    )


# --------------------------------------------------------------------------------------------
# Debunk
# --------------------------------------------------------------------------------------------


def _mic_debunk() -> Spec:
    """Debunk of (c): fact-checks, Spotify's denial, researchers who could not reproduce it."""
    en = Bank(
        core=("{S} says its desktop app does not record or upload microphone audio",
              "fact check: the claim that {S} listens through your mic is false",
              "independent researchers found no audio leaving the {S} desktop app",
              "{S} says the mic permission is only for the voice search beta and is off by default",
              "the {S} microphone story doesn't hold up, the uploads were crash reports",
              "no, {S} is not selling your listening history to advertisers, per its statement and "
              "two fact-checkers",
              "the viral {S} spying claim is misleading: the packets were telemetry, not audio",
              "{S} denies recording users and published a technical breakdown",
              "the researcher updated her post: the {S} uploads were not audio after all"),
        details=("two labs tried to reproduce it and couldn't",
                 "the endpoint is {S}'s crash reporter",
                 "the blog post now has a correction at the top",
                 "the mic is only opened when you press the voice button"),
        openers=("update:", "correction:", "ok so", "good news:", "for the record,"),
        tails=("read before you delete anything", "check before sharing", "glad it's false",
               "good to know"),
        replies=("{S} has responded, it's not audio: the uploads are crash logs",
                 "fact-checkers looked at this, {S} isn't recording the mic",
                 "worth reading the {S} statement and the correction before panicking",
                 "this one's been debunked, {S} desktop doesn't upload audio",
                 "the researcher herself walked it back, {S} isn't listening"),
        shares=("{S} mic claim, fact-checked:", "the {S} statement:",
                "correction on the {S} mic story:"),
    )
    check = ("We looked at the packet captures behind the viral claim. The uploads from the "
             "Spotify "
             "desktop app are crash and performance reports; we found no microphone audio, and "
             "Spotify "
             "says it sells no listening history to advertisers. Rating: False.")
    return Spec(
        name="mic_recording_debunk", abbr="micfact", kind="debunk", category="none",
        description="fact-checks and Spotify's denial of the desktop microphone claim",
        day=18, hour=11.0, size=21, span_h=20, peak_h=2.5, curve="viral",
        platforms={"x": 0.6, "bluesky": 0.15, "mastodon": 0.15, "rss": 0.1},
        banks={"en": en}, link_rate=0.5, reply_rate=0.1, debunks="desktop_mic_recording",
        modes={"standard": 0.6, "short": 0.2, "share": 0.2}, typo_rate=0.08,
        anchors=(
            Anchor(0.0, "rss", "VerifyDesk", None, check, source=True,
                   title="Fact check: Spotify's desktop app is not recording your microphone",
                   url="https://verifydesk.example/fact-check/{date}/spotify-desktop-microphone/"),
            Anchor(0.5, "x", "SpotifyNewsroom", 295_000,
                   "Spotify's desktop app does not record or upload microphone audio, and we don't "
                   "sell "
                   "listening data to advertisers. Our engineers' breakdown of the traffic in the "
                   "viral post:",
                   link=True),
            Anchor(2.0, "x", "okafor_sec", 31_000,
                   "Update: after comparing notes with two other labs, the Spotify uploads I saw "
                   "are crash "
                   "reports, not audio. I got this wrong and have corrected the post.", link=True),
        ),
    )


# --------------------------------------------------------------------------------------------
# Hard negatives
# --------------------------------------------------------------------------------------------


def _icu_playlist_recovery() -> Spec:
    """Positive viral story full of medical words: a patient wakes from a coma to his playlist."""
    en = Bank(
        core=("an ICU nurse played a coma patient's {S} playlist every day and he woke up",
              "this man woke from a three week coma while his {S} playlist was playing",
              "doctors say his own {S} playlist helped him recover from a brain injury",
              "the nurses kept his {S} playlist on in intensive care and he squeezed her hand at "
              "his favourite song",
              "a {S} playlist in intensive care and a recovery nobody expected, I'm crying",
              "{S} playlist plus amazing ICU nurses and this guy is walking again",
              "his family made a {S} playlist for the hospital and the doctors think it helped",
              "music therapy with his own {S} playlist helped a patient relearn to speak after his "
              "accident",
              "off the ventilator and singing along to his {S} playlist, what a story"),
        details=("he was in intensive care for 23 days",
                 "the nurse is called Dalia and she deserves a raise",
                 "he's in rehab now", "{S} sent the family concert tickets",
                 "the hospital posted a video",
                 "the song was an old Motown track",
                 "the neurologist said music reaches parts of the brain nothing else does"),
        openers=("not crying, you are:", "ok this made my day:", "wholesome content:", "aww",
                 "good news for once:", "omg"),
        tails=("crying at my desk", "nurses are heroes", "music heals",
               "best thing I've read all week", "❤️",
               "faith in humanity restored"),
        reacts=("ok this {S} story made me cry", "not me tearing up over a {S} playlist",
                "{S} playlist story 😭❤️",
                "this is beautiful, {S}", "{S} do something nice for that nurse"),
        shares=("{S} playlist story:", "the {S} hospital story 🥹", "read this {S} story"),
        replies=("{S} should make that playlist public",
                 "my mum was in ICU last year and music helped her too, love this {S} story",
                 "the nurse deserves everything, and {S} sending tickets is sweet",
                 "what's on the {S} playlist??"),
        titles=("ICU nurse's {S} playlist helps coma patient wake up",
                "Man wakes from coma to his own {S} playlist",
                "How a {S} playlist became part of a patient's recovery"),
    )
    story = ("For 23 days in intensive care, nurse Dalia Reyes played a motorcyclist's own Spotify "
             "playlist "
             "at his bedside. On the morning he came off the ventilator he squeezed her hand as "
             "his favourite "
             "song started. His neurologist says familiar music may have helped his recovery.")
    return Spec(
        name="icu_playlist_recovery", abbr="icu", kind="negative", category="none",
        description="positive viral story: coma patient recovers to his own Spotify playlist "
                    "(medical words)",
        day=3, hour=11.0, size=58, span_h=22, peak_h=3.0, curve="viral",
        platforms={"x": 0.5, "bluesky": 0.12, "mastodon": 0.06, "reddit": 0.14, "youtube": 0.08,
                   "rss": 0.1},
        banks={"en": en}, link_rate=0.4,
        modes={"standard": 0.55, "retell": 0.1, "react": 0.15, "share": 0.1, "short": 0.1},
        subs=(("UpliftingNews", 520_000), ("nursing", 120_000), ("spotify", 164_000)),
        hashtags=("#goodnews", "#musictherapy", "#nurses"), emoji=("😭", "❤️", "🥹", "🙏", "🎶"),
        anchors=(
            Anchor(0.0, "rss", "Harbor Tribune", None, story, source=True,
                   title="Coma patient wakes to his own Spotify playlist",
                   url="https://harbortribune.example/health/{date}/coma-patient-spotify-playlist/"),
            Anchor(2.4, "x", "goodnewsdaily", 182_000,
                   "A nurse played his Spotify playlist every day for 23 days in intensive care. "
                   "Then he woke up. 🥹",
                   link=True),
            Anchor(3.5, "x", "NurseLifeToday", 45_000,
                   "Every ICU nurse knows this. Music matters. This Spotify playlist story is "
                   "beautiful.", link=True),
        ),
    )


def _playlist_purge_factcheck() -> Spec:
    """Fact-checks of a rumour that never circulated here: Spotify deleting old playlists."""
    en = Bank(
        core=("no, {S} is not deleting playlists you haven't played in a year",
              "fact check: the claim that {S} will wipe inactive playlists on December 1 is false",
              "{S} confirms it has no plans to delete old playlists",
              "that screenshot about {S} purging old playlists is fake",
              "FALSE: {S} is not removing unplayed playlists",
              "the '{S} playlist purge' message going around group chats is a hoax",
              "{S} support says your playlists are safe and the deletion notice is not real",
              "the email asking you to 'confirm' your {S} playlists did not come from {S}",
              "there is no {S} policy about deleting inactive playlists, we checked"),
        details=("the notice uses an old logo", "{S} support replied to several people",
                 "nothing like it in the terms",
                 "the fake notice is full of spelling mistakes", "don't click links in it"),
        openers=("FYI:", "fact check:", "psa:", "relax,", "for anyone worried:"),
        tails=("spread this instead", "check before you share", "your playlists are fine",
               "don't panic"),
        reacts=("good to know re {S}", "phew, my {S} playlists are safe",
                "thanks for checking, {S} rumour busted"),
        shares=("{S} playlist rumour, checked:", "no, {S} isn't deleting playlists:"),
        replies=("thanks, my aunt was about to delete her {S} account over this",
                 "{S} should pin something about it",
                 "saw this in a group chat, glad the {S} thing is fake"),
        titles=("No, {S} is not deleting inactive playlists",
                "Fact check: {S} playlist purge rumour is false"),
    )
    story = ("A message claiming Spotify will delete playlists unplayed for a year is false. "
             "Spotify told us "
             "it has no such plan, and the notice shared in group chats uses an outdated logo.")
    return Spec(
        name="playlist_purge_factcheck", abbr="purge", kind="negative", category="none",
        description="fact-checks of a playlist-deletion rumour that never circulated here",
        day=32, hour=10.0, size=40, span_h=14, peak_h=3.0, curve="viral",
        platforms={"x": 0.6, "bluesky": 0.12, "mastodon": 0.08, "rss": 0.12, "reddit": 0.08},
        banks={"en": en}, link_rate=0.45, typo_rate=0.1,
        modes={"standard": 0.6, "react": 0.15, "share": 0.15, "short": 0.1},
        emoji=("✅", "🙄", "👍"),
        anchors=(
            Anchor(0.0, "rss", "TruthMeter", None, story, source=True,
                   title="No, Spotify is not deleting inactive playlists",
                   url="https://truthmeter.example/checks/{date}/spotify-playlist-deletion/"),
            Anchor(1.5, "x", "truthmeter", 67_000,
                   "FALSE: Spotify is not deleting playlists you haven't played in a year.",
                   link=True),
        ),
    )


def _praise_negations() -> Spec:
    """Praise written with negations and harm words: no leaks, no scams, no hidden fees."""
    en = Bank(
        core=("been on {S} Premium for 6 years, never had my data leaked, no scams, no hidden fees",
              "{S} has never once overcharged me, unlike my phone company",
              "no ads, no hidden charges, no nonsense. {S} Premium is worth every cent",
              "never had a single security issue with {S}, can't say that about other apps",
              "{S} didn't lose my playlists when I switched phones, not one song missing",
              "zero problems with {S} family billing, not a single surprise charge",
              "I've never felt ripped off by {S}, the student discount is legit",
              "no complaints about {S}. none. it just works",
              "{S} never sold me out, never spammed me, never lost my library",
              "honestly {S} is not a ripoff, it's the best money I spend each month",
              "never been hacked, never had a weird charge, {S} has been rock solid",
              "{S} support didn't ignore me, fixed my issue in ten minutes, no runaround",
              "people say streaming is a scam but {S} has been nothing but fair to me",
              "not one dodgy charge or lost song in 4 years of {S}",
              "nothing sketchy, nothing broken, {S} just keeps working",
              "my {S} account has never been compromised and I use the same phone since 2014",
              "no lawsuit-worthy drama here, {S} is simply good value",
              "{S} never made me feel unsafe sharing my account with my kids",
              "not gonna lie {S} has never let me down on a road trip",
              "{S} doesn't play games with pricing, which is rare",
              "can't think of a single bad experience with {S}",
              "never had to fight {S} for a refund, they just did it"),
        details=("cancelled twice and they never made it hard", "my whole family uses it",
                 "the offline mode saved me on flights", "Discover Weekly alone is worth it"),
        openers=("unpopular opinion:", "honestly", "hot take:", "just saying,", "gotta say", "ngl"),
        tails=("10/10", "keep it up", "love it", "worth it", "🙌", "no notes"),
        reacts=("{S} just works 🙌", "can't complain about {S}, genuinely"),
        replies=("same, never had a problem with {S}", "agree, {S} has been fine for me for years",
                 "{S} never charged me twice either"),
    )
    return Spec(
        name="praise_negations", abbr="praise", kind="negative", category="none",
        description="praise written with negations: never leaked, no scams, no hidden fees",
        day=41, hour=8.0, size=45, span_h=34, peak_h=10.0, curve="flat",
        platforms={"x": 0.62, "bluesky": 0.12, "mastodon": 0.08, "reddit": 0.12, "youtube": 0.06},
        banks={"en": en}, modes=dict(_CALM_MODES), reply_rate=0.1, typo_rate=0.15,
        subs=(("spotify", 164_000),), emoji=("🙌", "💚", "🎧", "👍"),
    )


def _wrapped_idioms_jokes() -> Spec:
    """Jokes, hyperbole and idioms that use crime, health and surveillance words."""
    en = Bank(
        core=("this {S} playlist is criminal, who allowed this many bangers",
              "{S} is stalking me lol how did Discover Weekly know",
              "{S}'s algorithm just murdered me with that song",
              "Discover Weekly should be illegal, {S} knows me better than my therapist",
              "my {S} history is a crime scene",
              "{S} exposed me, I listened to the same breakup song 212 times",
              "{S} Release Radar is a weapon of mass destruction this week",
              "{S} just served me a song so good it should be a felony",
              "I'm suing {S} for emotional damage, Daily Mix 3 went too hard",
              "{S} radio is spying on my mood again 😂",
              "this {S} playlist gave me a heart attack, 10/10",
              "{S} I'm calling the police, that transition was assault",
              "my {S} shuffle is rigged, it plays the same 12 songs lol",
              "{S} owes me therapy money after that sad playlist",
              "someone arrest whoever made this {S} playlist",
              "the {S} algorithm is poisoning my brain with 2000s pop and I love it",
              "{S} is a scam, I came for one song and stayed four hours",
              "my year-end {S} stats are going to be a public health crisis",
              "{S} knows too much. I'm scared. keep going",
              "this {S} playlist is a biohazard of bangers",
              "{S} recommended a song so sad it should come with a warning label",
              "the {S} autoplay is holding me hostage",
              "{S} Daily Mix is dangerous, I've been dancing in the kitchen for an hour",
              "{S} really said 'you like this? here's 40 more' and ruined my productivity",
              "I'd testify in court that this {S} playlist is the best one ever made",
              "being caught by my mum with my {S} history open is a crime I'll never recover from"),
        openers=("lmao", "ok but", "bro", "listen,", "not me saying this but", "genuinely,"),
        tails=("lol", "😂", "send help", "no notes", "10/10", "I'm not ok", "🔥🔥", "love u"),
        reacts=("lmao {S}", "{S} why are you like this 😂", "{S} stop it I'm at work"),
        replies=("lmao same, {S} has me figured out", "{S} did this to me yesterday",
                 "the {S} algorithm is undefeated"),
    )
    return Spec(
        name="wrapped_idioms_jokes", abbr="jokes", kind="negative", category="none",
        description="jokes and idioms: 'this playlist is criminal', 'Spotify is stalking me lol'",
        day=13, hour=9.0, size=66, span_h=30, peak_h=10.0, curve="flat",
        platforms={"x": 0.66, "bluesky": 0.14, "mastodon": 0.06, "reddit": 0.1, "youtube": 0.04},
        banks={"en": en}, modes={"standard": 0.66, "react": 0.12, "short": 0.22}, reply_rate=0.12,
        subs=(("spotify", 164_000), ("Music", 1_200_000)),
        emoji=("😂", "💀", "🔥", "😭", "🎧"), hashtags=("#DiscoverWeekly", "#nowplaying"),
    )


def _questions_hypotheticals() -> Spec:
    """Questions and hypotheticals that name harms without claiming them."""
    en = Bank(
        core=("would {S} ever sell my data?",
              "is the {S} Family plan a scam or actually worth it?",
              "does {S} listen through the mic? genuinely asking",
              "what happens if {S} gets hacked, are our card details safe?",
              "could {S} get sued if a playlist has a stolen song on it?",
              "is it safe to give my 9 year old a {S} account?",
              "if I cancel {S} Premium do I lose my downloaded songs?",
              "has {S} ever had a data breach? thinking about signing up",
              "is {S} Premium Student a scam or do they actually verify?",
              "hypothetically if {S} doubled the price would you still pay?",
              "what would happen to my playlists if {S} went bankrupt?",
              "do artists actually get paid fairly by {S} or nah?",
              "is it legal for {S} to change my plan price without asking?",
              "would you boycott {S} if they removed your favourite artist?",
              "can {S} see what I search for in a private session?",
              "are those cheap {S} gift cards on resale sites a scam?",
              "if {S} had a security problem, would they even tell us?",
              "does anyone know if {S} shares data with Facebook when you log in with it?",
              "could listening to {S} at full volume all day damage my hearing?",
              "is it true {S} pays less for streams on free accounts? curious",
              "what would it take for you to quit {S}?",
              "is {S} allowed to use my listening history for ads?",
              "random thought: would {S} survive if the labels pulled out?",
              "is a {S} podcast ad-free if I pay, or is that a myth?"),
        openers=("question:", "serious question,", "genuine question:", "random but",
                 "help me out:", "asking for a friend,"),
        tails=("thanks!", "curious what people think", "no idea tbh", "anyone?"),
        replies=("I don't think so, {S} has been fine for me",
                 "idk but the {S} help pages cover it",
                 "I've used {S} Family for 3 years, worth it imo",
                 "good question, {S} should answer this",
                 "as far as I know {S} has never had a breach"),
    )
    return Spec(
        name="questions_hypotheticals", abbr="asks", kind="negative", category="none",
        description="questions and hypotheticals: 'would Spotify ever sell my data?'",
        day=51, hour=10.0, size=52, span_h=30, peak_h=10.0, curve="flat",
        platforms={"x": 0.55, "reddit": 0.2, "bluesky": 0.12, "mastodon": 0.08, "youtube": 0.05},
        banks={"en": en}, modes={"standard": 0.8, "short": 0.2}, reply_rate=0.15,
        subs=(("spotify", 164_000), ("NoStupidQuestions", 620_000), ("personalfinance", 1_000_000)),
        emoji=("🤔", "🙏"),
    )


def _playback_outage_storm() -> Spec:
    """Complaint storm: playback and downloads broken for hours, support swamped; no harm claims."""
    en = Bank(
        core=("{S} won't play anything, it just skips every song",
              "is {S} down? nothing is loading",
              "{S} keeps saying 'something went wrong' on every track",
              "podcasts won't download on {S}, stuck at 0%",
              "{S} app closes as soon as I hit play",
              "been on hold with {S} support for 40 minutes",
              "offline songs won't play either, {S} what is happening",
              "{S} down for anyone else?? songs cut out after 5 seconds",
              "{S} logged me out and won't let me back in",
              "my {S} playlists show up empty",
              "{S} desktop is stuck on the loading spinner",
              "can't play anything on the {S} web player either",
              "paying for {S} Premium and can't play a single song today",
              "{S} skipping every song on my commute, great morning",
              "{S} chat support disconnected me twice",
              "{S} is broken on both Android and iPhone for me",
              "{S} connect won't find my speaker anymore",
              "downloads on {S} keep failing halfway",
              "{S} shows 'no internet connection' but everything else works",
              "the {S} app says the song is unavailable, every song"),
        personal=("I reinstalled {S} twice and still nothing",
                  "had to listen to the radio like it's 1995 because {S} is down",
                  "my run was silent because {S} wouldn't load",
                  "I thought my phone was broken but it's {S}"),
        details=("restarted my phone twice", "reinstalled, still nothing",
                 "wifi and data both fail",
                 "same on my laptop", "the help page says nothing", "been like this for an hour"),
        openers=("@SpotifyCares", "hey", "ok", "uh", "seriously,", "morning,", "help:"),
        tails=("please fix", "help", "ugh", "come on", "😩", "anyone?", "sort it out",
               "fix it pls"),
        reacts=("{S} down again?", "{S} is dead rn", "rip {S} lol", "{S} pls"),
        replies=("same here, {S} won't play anything", "yep {S} is broken for me too",
                 "{S} support told me they're working on it", "same, {S} desktop too"),
    )
    return Spec(
        name="playback_outage_storm", abbr="outage", kind="negative", category="none",
        description="complaint storm: songs won't play, podcasts won't download, support on hold",
        day=23, hour=16.0, size=120, span_h=2.7, peak_h=0.45, curve="storm",
        platforms={"x": 0.74, "reddit": 0.08, "bluesky": 0.1, "mastodon": 0.08},
        banks={"en": en}, modes={"standard": 0.55, "personal": 0.12, "react": 0.13, "short": 0.2},
        reply_rate=0.12, link_rate=0.08, typo_rate=0.18,
        subs=(("spotify", 164_000),), emoji=("😩", "😤", "🙄", "😭"), hashtags=("#SpotifyDown",),
        anchors=(
            Anchor(0.35, "reddit", "AutoModerator", 164_000,
                   "Songs not playing, podcasts not downloading? Post your device and country "
                   "below. Spotify "
                   "support is aware.", sub="spotify", title="Spotify playback issues megathread"),
        ),
    )


_SPECS = (_icu_playlist_recovery, _earbud_burns, _event_food_poisoning, _wrapped_idioms_jokes,
          _desktop_mic_recording, _mic_debunk, _playback_outage_storm, _fake_stream_counts,
          _playlist_purge_factcheck, _child_data_regulator, _praise_negations,
          _artist_strike_boycott,
          _questions_hypotheticals)

# Pairs allowed to share a day: the two health claims, and the debunk with the claim it answers.
_OVERLAPS = {frozenset(("earbud_burns", "event_food_poisoning")),
             frozenset(("desktop_mic_recording", "mic_recording_debunk"))}


def build_campaigns(start: datetime, seed: int = 29) -> list[Campaign]:
    """All campaigns, each placed by day offset and hour from `start`.

    start = midnight UTC of the background's first day (2017-10-04T00:00Z); a naive datetime
    is read as UTC.
    """
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    used: set[str] = set()
    built: dict[str, list[Post]] = {}
    campaigns = []
    for make in _SPECS:
        spec = make()
        posts = _Writer(spec, start, seed, used, built.get(spec.debunks or "", [])).run()
        built[spec.name] = posts
        campaigns.append(Campaign(spec.name, spec.kind, spec.category, spec.description, posts,
                                  spec.debunks))
    return campaigns


# --------------------------------------------------------------------------------------------
# Self-check and summary
# --------------------------------------------------------------------------------------------


def check(campaigns: list[Campaign], start: datetime = START) -> list[str]:
    """Problems with the generated data; empty when every rule holds."""
    problems: list[str] = []
    times: dict[str, str] = {}
    for c in campaigns:
        for p in c.posts:
            if p["id"] in times:
                problems.append(f"{p['id']}: duplicate id")
            times[p["id"]] = p["published_at"]
    for c in campaigns:
        problems += _check_campaign(c, campaigns)
        for p in c.posts:
            problems += _check_post(p, times)
    return problems + _check_days(campaigns, start)


def _check_campaign(c: Campaign, campaigns: list[Campaign]) -> list[str]:
    """Kind, category, order, repeats, size and links of one campaign."""
    out = []
    if c.kind not in KINDS or (c.kind == "claim") != (c.category in CATEGORIES):
        out.append(f"{c.name}: kind {c.kind} with category {c.category}")
    if c.kind != "claim" and c.category != "none":
        out.append(f"{c.name}: category must be 'none'")
    if (c.kind == "debunk") != (c.debunks is not None) or (
            c.debunks and c.debunks not in {x.name for x in campaigns if x.kind == "claim"}):
        out.append(f"{c.name}: debunks {c.debunks!r}")
    stamps = [p["published_at"] for p in c.posts]
    if stamps != sorted(stamps):
        out.append(f"{c.name}: posts not sorted by time")
    keys = Counter(_key(p["text"]) for p in c.posts)
    out += [f"{c.name}: text repeated {n}x: {k[:60]}" for k, n in keys.items() if n > 1]
    low, high = {"claim": (50, 110), "debunk": (15, 30), "negative": (35, 70)}.get(c.kind, (0, 0))
    if c.name.endswith("_storm"):
        low, high = 100, 140
    if not low <= len(c.posts) <= high:
        out.append(f"{c.name}: {len(c.posts)} posts, want {low}..{high}")
    if c.kind == "claim" and not 0.4 <= _linking(c) <= 0.6:
        out.append(f"{c.name}: {_linking(c):.0%} of posts carry the source link, want 40-60%")
    return out


def _check_post(p: Post, times: dict[str, str]) -> list[str]:
    """Schema, brand, links, parent and engagement of one post."""
    out = []
    pid = p["id"]
    if not pid.startswith("held-") or p["platform"] not in PLATFORMS:
        out.append(f"{pid}: bad id or platform {p['platform']}")
    if not BRAND.search(p["text"]):
        out.append(f"{pid}: does not name Spotify as a word")
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", p["published_at"]):
        out.append(f"{pid}: published_at {p['published_at']}")
    if p["lang"] is not None and p["lang"] not in LANGS:
        out.append(f"{pid}: lang {p['lang']}")
    if p["title"] is not None and p["platform"] not in _TITLED:
        out.append(f"{pid}: title on a {p['platform']} post")
    if p["author_reach"] is not None and not isinstance(p["author_reach"], int):
        out.append(f"{pid}: author_reach {p['author_reach']!r}")
    for host in re.findall(r"https?://([^/\s?]+)", p["text"]):
        if not host.endswith(LINK_HOSTS):
            out.append(f"{pid}: link to a real host {host}")
    parent = p["parent_id"]
    if parent is not None and (parent not in times or times[parent] >= p["published_at"]):
        out.append(f"{pid}: parent {parent} missing or not earlier")
    return out + _check_engagement(p)


def _check_engagement(p: Post) -> list[str]:
    """Snapshots: after publication, ascending, cumulative, the platform's fields only."""
    out = []
    last = p["published_at"]
    for i, snap in enumerate(p["engagement"]):
        if snap["at"] < last or (i and snap["at"] == last):
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


def _days(c: Campaign, start: datetime) -> set[int]:
    """Days after start on which the campaign posts."""
    return {(datetime.fromisoformat(p["published_at"].replace("Z", "+00:00")) - start).days
            for p in c.posts}


def _check_days(campaigns: list[Campaign], start: datetime) -> list[str]:
    """Each campaign on its own days within 2..58, save the deliberate overlaps."""
    out = []
    days = {c.name: _days(c, start) for c in campaigns}
    for name, ds in days.items():
        if min(ds) < 2 or max(ds) > 58:
            out.append(f"{name}: days {sorted(ds)} outside 2..58")
    names = list(days)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if days[a] & days[b] and frozenset((a, b)) not in _OVERLAPS:
                out.append(f"{a} and {b} share days {sorted(days[a] & days[b])}")
    spans = {c.name: (c.posts[0]["published_at"], c.posts[-1]["published_at"]) for c in campaigns}
    for a, b in (sorted(pair) for pair in _OVERLAPS):
        if spans[a][0] > spans[b][1] or spans[b][0] > spans[a][1]:
            out.append(f"{a} and {b} should overlap in time")
    return out


def _linking(c: Campaign) -> float:
    """Share of posts whose text carries the campaign's source link in any form."""
    source = c.posts[0]["url"] or ""
    key = _link_key(source)
    return sum(1 for p in c.posts if key and key in p["text"]) / len(c.posts)


def _summary(c: Campaign) -> str:
    """A few lines describing one campaign."""
    posts = c.posts
    langs = Counter(p["lang"] or "-" for p in posts)
    platforms = Counter(p["platform"] for p in posts)
    authors = len({p["author"] for p in posts})
    replies = sum(1 for p in posts if p["parent_id"])
    reach = sorted(p["author_reach"] for p in posts if p["author_reach"] is not None)
    hours = Counter(p["published_at"][:13] for p in posts)
    samples = random.Random(c.name).sample(posts, 3)
    extra = f" (answers {c.debunks})" if c.debunks else ""
    lines = [
        f"== {c.name} [{c.kind}/{c.category}]{extra} {c.description}",
        f"   posts {len(posts)}, authors {authors}, replies {replies}, "
        f"linking {_linking(c):.0%}, with engagement {sum(1 for p in posts if p['engagement'])}",
        f"   platforms {dict(platforms.most_common())}",
        f"   langs {dict(langs.most_common())}",
        f"   reach median {reach[len(reach) // 2] if reach else '-'}, max "
        f"{reach[-1] if reach else '-'}",
        f"   {posts[0]['published_at']} .. {posts[-1]['published_at']}",
        f"   per hour {[n for _, n in sorted(hours.items())]}",
    ]
    lines += [f"   > [{p['platform']}/{p['lang']}] {p['text'][:180]!r}" for p in samples]
    return "\n".join(lines)


if __name__ == "__main__":
    built = build_campaigns(START)
    for campaign in built:
        print(_summary(campaign))
    found = check(built)
    again = build_campaigns(START.replace(tzinfo=None))
    if [c.posts for c in again] != [c.posts for c in built]:
        found.append("not deterministic: two builds differ")
    print(f"\n{sum(len(c.posts) for c in built)} posts in {len(built)} campaigns; "
          f"{len(found)} problems")
    for problem in found[:50]:
        print("  ", problem)
    sys.exit(1 if found else 0)
