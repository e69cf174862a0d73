"""The scripted day: who posts what about Kestrel and Voltra, where, when, and how it spreads.

Deterministic (a fixed seed): the same posts at the same times on every machine. The day runs
24 hours from 06:00 UTC on a Tuesday and holds
- background chatter about both brands in several languages, busier in the afternoon (UTC);
- the Voltra X9 launch at 08:00: a burst of happy posts, two news articles and a video;
- a video at 07:40 saying Kestrel bars made two children sick, passed on from 08:30 over X,
  Reddit, Bluesky, Mastodon and the news, peaking around 11:00 and fading by 16:00, with
  engagement that keeps growing for hours;
- routine complaints about Voltra through the afternoon and evening.
Every post has its own address (the pipeline dedupes by canonical URL); the shared video link
sits in the text, where claim clustering finds it.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from monitor.demo import texts

DAY_START = datetime(2026, 11, 3, 6, 0, tzinfo=UTC)
DAY_HOURS = 24
SEED = 20261103
VIDEO_ID = "Kx7rVq2LmPw"
VIDEO_URL = f"https://www.youtube.com/watch?v={VIDEO_ID}"
PLATFORMS = ("x", "reddit", "mastodon", "bluesky", "news", "youtube")
# Share of social posts per platform (news and video are scripted separately).
SOCIAL_MIX = (("x", 0.35), ("bluesky", 0.25), ("reddit", 0.2), ("mastodon", 0.2))
CHATTER_PEAK_PER_HOUR = 7.0  # per brand, at 16:00 UTC
CITIES = ("Lyon", "Leeds", "Graz", "Valencia", "Osaka", "Porto", "Turin", "Denver")

_FIRST = ("maya", "tom", "lena", "sam", "ines", "kenji", "ola", "marc", "jade", "luis", "aiko",
          "ben", "nora", "felix", "rosa", "yuki", "omar", "clara", "dev", "hana")
_LAST = ("runs", "eats", "writes", "codes", "bakes", "snaps", "reads", "hikes", "draws", "cooks",
         "plays", "rides")


@dataclass(frozen=True, slots=True)
class Author:
    """Someone who posts; `name` is turned into each platform's kind of handle."""

    name: str
    reach: int  # followers, subscribers or readers

    def digest(self, size: int) -> str:
        """A stable hex string derived from the name (ids, DIDs)."""
        return hashlib.blake2b(self.name.encode(), digest_size=size).hexdigest()


@dataclass(frozen=True, slots=True)
class Counts:
    """Engagement counters; on a post they are the final values, reached over `growth_hours`."""

    likes: int = 0
    shares: int = 0
    comments: int = 0
    views: int = 0


@dataclass(frozen=True, slots=True)
class ScriptedPost:
    """One post of the day, in platform-neutral form; the feed server renders it per platform."""

    number: int  # position in the day, oldest first: ids are derived from it
    platform: str  # one of PLATFORMS
    brand: str
    kind: str  # chatter, launch, launch_news, complaint, video, harm, harm_news
    lang: str
    text: str
    published_at: datetime
    author: Author
    final: Counts
    growth_hours: float
    title: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)  # Mastodon hashtags, lower case
    # Viral posts start slowly and take off: their counters follow an S-curve whose steepest
    # point is this many hours after publication (None: fast at first, then levelling off).
    takeoff_hours: float | None = None

    def engagement_at(self, now: datetime) -> Counts:
        """Counters as seen at `now`: they approach the final values as the post ages."""
        hours = (now - self.published_at).total_seconds() / 3600
        if hours <= 0:
            return Counts()
        if self.takeoff_hours is None:
            share = 1 - math.exp(-hours / self.growth_hours)
        else:
            start = _s_curve(0, self.takeoff_hours, self.growth_hours)
            now_at = _s_curve(hours, self.takeoff_hours, self.growth_hours)
            share = (now_at - start) / (1 - start)
        f = self.final
        return Counts(int(f.likes * share), int(f.shares * share), int(f.comments * share),
                      int(f.views * share))


def _s_curve(hours: float, middle: float, width: float) -> float:
    """The logistic curve: 0 long before `middle`, 0.5 at it, 1 long after."""
    return 1 / (1 + math.exp(-(hours - middle) / width))


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method: fine for the small means of an hour of chatter."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _diurnal(when: datetime) -> float:
    """Relative activity by UTC hour: quietest at 04:00, busiest at 16:00."""
    hour = when.hour + when.minute / 60
    return 0.3 + 0.7 * (0.5 - 0.5 * math.cos(2 * math.pi * (hour - 4) / 24))


class _Day:
    """Builds the day's posts in order of writing; sorted by time at the end."""

    def __init__(self, start: datetime, seed: int) -> None:
        self.start = start
        self.rng = random.Random(seed)
        self.posts: list[ScriptedPost] = []
        self._authors: dict[str, Author] = {}

    def at(self, hours: float) -> datetime:
        return self.start + timedelta(hours=hours)

    def person(self, reach_scale: float = 1.0) -> Author:
        """A random member of the public (the same name keeps the same reach all day)."""
        rng = self.rng
        name = f"{rng.choice(_FIRST)}_{rng.choice(_LAST)}{rng.randint(1, 99)}"
        if name not in self._authors:
            reach = int(min(rng.lognormvariate(5.5, 1.3) * reach_scale, 400_000))
            self._authors[name] = Author(name, max(reach, 12))
        return self._authors[name]

    def platform(self) -> str:
        pick, total = self.rng.random(), 0.0
        for name, share in SOCIAL_MIX:
            total += share
            if pick < total:
                return name
        return SOCIAL_MIX[-1][0]

    def fill(self, template: str) -> str:
        return template.format(video=VIDEO_URL, n=self.rng.randint(2, 6),
                               city=self.rng.choice(CITIES))

    def add(
        self, platform: str, brand: str, kind: str, lang: str, text: str, when: datetime,
        author: Author, *, virality: float = 1.0, growth_hours: float = 1.0,
        title: str | None = None, takeoff_hours: float | None = None,
    ) -> None:
        rng = self.rng
        likes = int(author.reach * rng.uniform(0.005, 0.03) * virality)
        final = Counts(
            likes=likes,
            shares=int(likes * rng.uniform(0.1, 0.4)),
            comments=int(likes * rng.uniform(0.05, 0.2)),
            views=int(author.reach * rng.uniform(0.3, 1.2) * virality),
        )
        tags: tuple[str, ...] = ()
        if platform == "mastodon":
            # Hashtag timelines only carry posts that use the tag, as people do there.
            if f"#{brand.lower()}" not in text.lower():
                text = f"{text} #{brand}"
            tags = (brand.lower(),)
        self.posts.append(ScriptedPost(
            number=0, platform=platform, brand=brand, kind=kind, lang=lang, text=text,
            published_at=when, author=author, final=final, growth_hours=growth_hours,
            title=title, tags=tags, takeoff_hours=takeoff_hours,
        ))

    def social(
        self, brand: str, kind: str, pool: Sequence[tuple[str, str]], when: datetime,
        *, reach_scale: float = 1.0, virality: float = 1.0, growth_hours: float = 1.0,
    ) -> None:
        lang, template = self.rng.choice(pool)
        self.add(self.platform(), brand, kind, lang, self.fill(template), when,
                 self.person(reach_scale), virality=virality, growth_hours=growth_hours)

    def finish(self) -> list[ScriptedPost]:
        ordered = sorted(self.posts, key=lambda p: (p.published_at, p.platform, p.text))
        return [replace(p, number=i) for i, p in enumerate(ordered, start=1)]


def _chatter(day: _Day, hours: int) -> None:
    pools = {"Kestrel": texts.KESTREL_CHATTER, "Voltra": texts.VOLTRA_CHATTER}
    for hour in range(hours):
        for brand, pool in pools.items():
            begin = day.at(hour)
            mean = CHATTER_PEAK_PER_HOUR * _diurnal(begin + timedelta(minutes=30))
            for _ in range(_poisson(day.rng, mean)):
                when = begin + timedelta(seconds=day.rng.uniform(0, 3600))
                day.social(brand, "chatter", pool, when)


def _launch(day: _Day) -> None:
    """The Voltra X9 keynote at 08:00 UTC: a fast burst of happy posts that fades by 11:00."""
    keynote = 2.0
    for _ in range(48):
        # Exponential decay after the keynote: half the buzz in the first 35 minutes.
        delay = min(day.rng.expovariate(1 / 0.8), 3.0)
        day.social("Voltra", "launch", texts.VOLTRA_LAUNCH, day.at(keynote + delay),
                   reach_scale=2.0, virality=2.0)
    outlets = (Author("Pocket Tech Daily", 240_000), Author("The Handset Review", 90_000))
    for (lang, title, body), outlet, delay in zip(
        texts.VOLTRA_LAUNCH_NEWS, outlets, (0.3, 1.1), strict=True
    ):
        day.add("news", "Voltra", "launch_news", lang, f"{title}\n{body}", day.at(keynote + delay),
                outlet, title=title, growth_hours=3.0)
    title, description = texts.VOLTRA_LAUNCH_VIDEO
    day.add("youtube", "Voltra", "launch_news", "en", f"{title}\n{description}",
            day.at(keynote + 1.5), outlets[0], title=title, virality=3.0, growth_hours=4.0)


def _harm(day: _Day) -> None:
    """A parent's video says Kestrel bars made her kids sick; the claim spreads for hours."""
    channel = Author("Jenna's Family Kitchen", 85_000)
    title, description = texts.KESTREL_VIDEO_TITLE, texts.KESTREL_VIDEO_DESCRIPTION
    day.add("youtube", "Kestrel", "video", "en", f"{title}\n{description}", day.at(1 + 40 / 60),
            channel, title=title, virality=6.0, growth_hours=0.8, takeoff_hours=3.5)
    # Posts passing it on per 20-minute slot from 08:30: it grows, peaks near 11:00, fades.
    slots = (1, 1, 2, 2, 3, 4, 5, 6, 7, 6, 5, 4, 3, 3, 2, 2, 1, 1, 1, 1)
    for index, count in enumerate(slots):
        begin = 2.5 + index / 3
        for _ in range(count):
            when = day.at(begin + day.rng.uniform(0, 1 / 3))
            # Later posters are bigger accounts: the claim climbs into wider audiences.
            day.social("Kestrel", "harm", texts.KESTREL_HARM, when,
                       reach_scale=1.0 + index / 3, virality=4.0, growth_hours=2.0)
    outlets = (Author("Morning Ledger", 310_000), Author("Family Health Weekly", 60_000),
               Author("Le Quotidien du Soir", 150_000))
    for (lang, headline, body), outlet, hours in zip(
        texts.KESTREL_HARM_NEWS, outlets, (4 + 40 / 60, 5 + 50 / 60, 7.0), strict=True
    ):
        day.add("news", "Kestrel", "harm_news", lang, f"{headline}\n{day.fill(body)}",
                day.at(hours), outlet, title=headline, virality=3.0, growth_hours=3.0)


def _complaints(day: _Day) -> None:
    """Ordinary grumbles about Voltra, one every hour or so through the afternoon and evening."""
    for _ in range(11):
        day.social("Voltra", "complaint", texts.VOLTRA_COMPLAINTS,
                   day.at(day.rng.uniform(6.0, 17.0)))


def scripted_day(start: datetime = DAY_START, seed: int = SEED) -> list[ScriptedPost]:
    """Every post of the day, oldest first."""
    day = _Day(start, seed)
    _chatter(day, DAY_HOURS)
    _launch(day)
    _harm(day)
    _complaints(day)
    return day.finish()
