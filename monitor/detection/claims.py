"""Claim clusters: mentions of a brand that assert the same harm claim, one cluster per claim.

Only mentions that assert harm (`monitor.detection.assertion`) start or grow a cluster; a
fact-check or denial joins the claim it answers as counter-evidence, and opens nothing alone.
A mention joins a cluster of its brand when it shares a link with it (canonical URL or a URL in
its text), is a near duplicate of a member (SimHash), or its claim embedding (brand names
masked, so the brand does not make every post look alike) is within `claim_similarity` of the
cluster's centroid for the post's language (the default encoder reads English: it compares
posts of one language only). Two harm claims of one brand are never joined because they share a
category. One narrow exception: the default encoder reads English only, so a non-English claim
that matches nothing joins the cluster of the same category that is spreading right now (a post
in the last burst window) - that is how translations of a claim join it.
Clusters that turn out to be one claim (a post links both, or their centroids meet) merge into
the older one; the merge is reported so that the incident can record it. Idle clusters stay
matchable for `reopen_window`, so a claim that returns after a quiet spell finds its cluster
and reopens its incident. Pure, in-memory and deterministic.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from monitor.alerting.sanitize import one_line
from monitor.dedupe import NearDuplicateIndex, canonical_url, content_fingerprint
from monitor.detection.assertion import Assertion, Stance, assess
from monitor.detection.settings import DetectionConfig
from monitor.records import Mention, Score

log = logging.getLogger(__name__)

# Memory bounds: these buffers hold vectors as float16 (768 bytes each) and exist per brand.
_EVERYDAY = 1000  # everyday posts kept per brand and language
_EVERYDAY_MIN = 100  # below this, every cluster counts as specific
_SETTLED = 3  # assertions before a claim's centroid takes supporters by meaning alone
_WAITING = 500  # supporting posts per brand kept for a claim that may start after them
_PENDING_EVERYDAY = 5000  # posts, all brands, waiting `claim_window` to join the baseline
_NAME_MIN_POSTS = 3  # a name used by this many of a claim's posts is the claim's own ...
_NAME_EVERYDAY_SHARE = 0.002  # ... if at most this share of everyday posts use it
# Hashtags that name a campaign against the brand: shared, they are a shared claim.
_CLAIM_TAG = re.compile(
    r"#(?:(?:delete|boycott|cancel|ban|quit|dump|uninstall|byebye|goodbye|justicefor)\w{3,}"
    r"|\w*(?:boycott|scam|fraud|leak|breach|hack|racis|sexis|poison|recall|lawsuit|mustgo)\w*)",
    re.IGNORECASE,
)
_URL_IN_TEXT = re.compile(r"https?://[^\s<>\"'()\[\]]+", re.IGNORECASE)
_SUMMARY_CHARS = 200


@dataclass(frozen=True, slots=True)
class ClaimMember:
    """What a cluster keeps of one mention."""

    mention_id: int | None
    platform: str
    author: str
    at: datetime
    reach: int
    engagement: int
    p_negative: float
    complaint: float
    harm_category: str
    harm_confidence: float
    text: str
    url: str | None
    stance: Stance = "claim"  # "support": carries the claim; "counter": a fact-check or denial
    lang: str = "en"  # the language its embedding is compared in
    # Of asserting members only: the unit embedding as int8 bytes (see `_member_vector`).
    vector: bytes | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class ClaimCluster:
    """Mentions of one brand that make the same claim (and the posts that answer it)."""

    key: str  # "claim:<brand>:<first mention id>": stable across restarts and unique per brand
    brand: str
    first_seen: datetime
    last_seen: datetime  # the last post asserting the claim
    members: deque[ClaimMember]  # newest last, at most `max_members`
    mention_count: int = 0  # members carrying the claim (asserting or supporting it)
    counter_count: int = 0  # members arguing against it
    authors: dict[str, int] = field(default_factory=dict)  # carrier -> largest reach seen
    platforms: Counter[str] = field(default_factory=Counter)
    categories: dict[str, float] = field(default_factory=dict)  # harm category -> confidence sum
    links: set[str] = field(default_factory=set)
    cue_words: Counter[str] = field(default_factory=Counter)  # words of the harm cues asserted
    entities: Counter[str] = field(default_factory=Counter)  # names in members ("car thing")
    # Running mean of the claim members' embeddings per language: the default encoder reads
    # English, so only posts of one language are compared with each other.
    centroids: dict[str, np.ndarray] = field(default_factory=dict)
    embedded: Counter[str] = field(default_factory=Counter)

    @property
    def main_language(self) -> str | None:
        """The language most embedded claim posts are in (English on a tie)."""
        return max(self.embedded, key=lambda k: (self.embedded[k], k == "en"), default=None)

    @property
    def centroid(self) -> np.ndarray | None:
        """The centroid of the main language (None without embeddings)."""
        main = self.main_language
        return self.centroids.get(main) if main is not None else None

    @property
    def category(self) -> str:
        """The dominant harm category of the members asserting the claim."""
        ranked = [(total, name) for name, total in self.categories.items() if name != "none"]
        return max(ranked)[1] if ranked else "none"

    @property
    def author_count(self) -> int:
        """Distinct authors carrying the claim (anonymous posts count once per platform)."""
        return len(self.authors)

    @property
    def audience(self) -> int:
        """Sum of the largest reach seen per distinct author carrying the claim."""
        return sum(self.authors.values())

    def meaning(self) -> dict[str, Any]:
        """The per-language centroids as plain data, to survive a restart."""
        return {
            lang: {"n": self.embedded[lang], "centroid": [round(float(x), 5) for x in vector]}
            for lang, vector in self.centroids.items()
        }

    def restore_meaning(self, saved: dict[str, Any]) -> None:
        """Take back centroids saved by `meaning` (restored members carry no embeddings)."""
        for lang, entry in saved.items():
            if lang not in self.centroids and entry.get("centroid"):
                self.centroids[lang] = np.asarray(entry["centroid"], dtype=np.float32)
                self.embedded[lang] = int(entry.get("n", 1))

    def claims(self) -> list[ClaimMember]:
        """The members asserting the claim, oldest first."""
        return [m for m in self.members if m.stance == "claim"]

    def carriers(self) -> list[ClaimMember]:
        """The members spreading the claim (asserting or supporting it), oldest first."""
        return [m for m in self.members if m.stance != "counter"]

    def mention_ids(self) -> list[int]:
        """Stored ids of the members still held (counter-evidence included), oldest first."""
        return [m.mention_id for m in self.members if m.mention_id is not None]

    def recent(self, now: datetime, window: timedelta) -> list[ClaimMember]:
        """Members carrying the claim seen in (now - window, now]."""
        start = now - window
        return [m for m in self.members if start < m.at <= now and m.stance != "counter"]

    def growth_rate(self, now: datetime, window: timedelta) -> tuple[float, float]:
        """(carriers/hour in the last window, carriers/hour in the window before it)."""
        hours = window.total_seconds() / 3600
        carriers = self.carriers()
        recent = sum(1 for m in carriers if now - window < m.at <= now)
        earlier = sum(1 for m in carriers if now - 2 * window < m.at <= now - window)
        return recent / hours, earlier / hours

    def top_members(self, n: int = 5) -> list[ClaimMember]:
        """The claim members that best state the claim: central to it and widely seen."""
        units = {lang: _unit(c) for lang, c in self.centroids.items()}
        main = self.main_language

        def weight(member: ClaimMember) -> float:
            # Centrality decides (the headline must say what the posts say); audience breaks
            # near-ties (a central post many saw beats an equally central one nobody saw).
            # Posts in the language most members use come first: the headline reads like them.
            unit = units.get(member.lang)
            central = (
                float(np.frombuffer(member.vector, dtype=np.int8) @ unit) / _INT8_SCALE
                if member.vector is not None and unit is not None else 0.5
            )
            if member.lang != main:
                central -= 0.3
            seen = min(math.log10(1 + member.reach + 10 * member.engagement) / 6, 1.0)
            asserts = member.harm_category == self.category
            return central + 0.1 * seen + (0.2 if asserts else 0.0)

        ranked = sorted(
            enumerate(self.claims()), key=lambda pair: (-weight(pair[1]), pair[1].at, pair[0])
        )
        return [m for _, m in ranked[:n]]

    def summary(self) -> str:
        """The claim in one line: the text of its most representative member."""
        top = self.top_members(1)
        text = one_line(top[0].text) if top else ""
        return text if len(text) <= _SUMMARY_CHARS else text[: _SUMMARY_CHARS - 1] + "…"


def mention_links(mention: Mention) -> set[str]:
    """Canonical forms of the mention's own URL and of URLs in its text, minus bare home pages."""
    links: set[str] = set()
    candidates = [mention.canonical_url, mention.url, *_URL_IN_TEXT.findall(mention.text)]
    for raw in candidates:
        if not raw:
            continue
        link = canonical_url(raw.rstrip(".,;:!?"))
        # A brand's home page is linked by unrelated complaints alike: it is not a shared claim.
        if link and urlsplit(link).path not in ("", "/"):
            links.add(link)
    return links


@dataclass(slots=True)
class _Waiting:
    """A supporting post that arrived before the claim it carries had a cluster."""

    mention: Mention
    said: Assertion
    score: Score
    vector: np.ndarray | None
    fingerprint: int
    links: set[str]
    at: datetime
    lang: str
    text: str  # casefolded, for entity look-ups


_WORD_TOKEN = re.compile(r"[@#]?[\w'’-]+|[.!?:;\n…]")
_ENDS_SENTENCE = frozenset(".!?:;\n…")


def entities(text: str) -> set[str]:
    """Names inside sentences ("Car Thing", "Front Row"), casefolded, with their word runs.

    A capitalised word counts unless it starts a sentence (or follows the handles and links
    that open a post); runs of such words are one name, and their two-word-or-longer parts
    are names too ("Spotify Car Thing" gives "car thing").
    """
    names: set[str] = set()
    run: list[str] = []
    start = True

    def close() -> None:
        if len(run) == 1 and len(run[0]) >= 4:
            names.add(run[0])
        for i in range(len(run)):
            for j in range(i + 2, len(run) + 1):
                names.add(" ".join(run[i:j]))
        run.clear()

    for token in _WORD_TOKEN.findall(text):
        if token in _ENDS_SENTENCE:
            close()
            start = True
            continue
        if token[0] in "@#" or token.startswith("http"):
            close()
            continue  # handles, tags and links do not end the sentence start
        word = token.strip("'’-")
        name = (
            len(word) >= 3 and word[0].isupper() and not start
            and not (word.isupper() and len(word) > 4)  # shouting, not a name
        )
        start = False
        if name:
            run.append(word.casefold())
        else:
            close()
    close()
    return names


def _uses_any(names: Iterable[str], lowered: str) -> bool:
    """Whether a casefolded text uses one of the names as whole words."""
    return any(re.search(rf"(?<!\w){re.escape(name)}(?!\w)", lowered) for name in names)


def claim_tags(text: str) -> set[str]:
    """Campaign hashtags of a text ("#DeleteAcme"), as link-like keys ("tag:#deleteacme")."""
    return {"tag:" + tag.casefold() for tag in _CLAIM_TAG.findall(text)}


# Posts per lookup (near duplicates per brand, links, reply targets): bounds memory when one
# claim is carried by a flood of posts; new posts join through the newest ones.
MAX_INDEXED_POSTS = 20_000
# Members kept by all clusters together (about 0.5 to 1 KB each); see `_bound_members`.
MAX_HELD_MEMBERS = 50_000


class ClaimIndex:
    """Live claim clusters for all brands, bounded by the retention window and `max_clusters`."""

    def __init__(self, settings: DetectionConfig | None = None) -> None:
        self.settings = settings or DetectionConfig()
        self.window = timedelta(
            seconds=max(self.settings.claim_window, self.settings.reopen_window)
        )
        self.burst = timedelta(seconds=self.settings.burst_window)
        self._clusters: dict[str, ClaimCluster] = {}
        self._near: dict[str, NearDuplicateIndex[int]] = {}  # brand -> member seq index
        self._member_cluster: dict[int, str] = {}  # member seq -> cluster key
        self._link_cluster: dict[tuple[str, str], str] = {}  # (brand, link) -> cluster key
        self._seq = 0
        self._newest: datetime | None = None
        self.merged: list[tuple[str, str]] = []  # (survivor, absorbed) since the last take
        self._posts: dict[tuple[str, str, str], str] = {}  # (brand, platform, id) -> key
        # Recent everyday posts per (brand, language): what the brand's ordinary chatter looks
        # like, so that a cluster whose meaning is just that chatter is known to be generic.
        self._everyday: dict[tuple[str, str], deque[np.ndarray]] = {}
        # Everyday texts per brand (casefolded), to tell a claim's own names ("car thing")
        # from words everyone writes ("the", "premium"); look-ups are cached per name.
        self._everyday_texts: dict[str, deque[str]] = {}
        self._name_share: dict[tuple[str, str], float] = {}
        self._everyday_added: Counter[str] = Counter()
        # Posts waiting to become part of the baseline (see `_settle_everyday`).
        self._recent_everyday: deque[
            tuple[datetime, str, str, np.ndarray | None, str]
        ] = deque(maxlen=_PENDING_EVERYDAY)
        self._waiting: dict[str, deque[_Waiting]] = {}  # supporters with no claim yet
        self._pinned: set[str] = set()  # keys of incidents' clusters, while restoring
        self._held = 0  # members appended since the last count (see `_bound_members`)

    def __len__(self) -> int:
        return len(self._clusters)

    def clusters(self, brand: str | None = None) -> list[ClaimCluster]:
        """Live clusters (of one brand), oldest first."""
        return [c for c in self._clusters.values() if brand is None or c.brand == brand]

    def get(self, key: str) -> ClaimCluster | None:
        """One live cluster by key."""
        return self._clusters.get(key)

    def take_merges(self) -> list[tuple[str, str]]:
        """The (survivor key, absorbed key) merges since the last call, oldest first."""
        merged, self.merged = self.merged, []
        return merged

    def add(
        self,
        scored: Iterable[tuple[Mention, Score, np.ndarray | None]],
        now: datetime,
        assigned: Mapping[tuple[int, str], str] | None = None,
    ) -> list[ClaimCluster]:
        """Cluster the claims (and counter-claims) of a batch; return the clusters they changed.

        `assigned` maps (mention id, brand) to the cluster key the mention belonged to before a
        restart (its incident's key): such mentions rejoin that cluster whatever their order,
        so an open incident keeps its claim.
        """
        changed: dict[str, ClaimCluster] = {}
        self._settle_everyday(now)
        self._pinned = set(assigned.values()) if assigned else set()
        for mention, score, embedding in scored:
            if not mention.brands:
                continue
            said = assess(mention, score, self.settings)
            position = said.stance
            vector = _unit(embedding)
            lang = (mention.lang or "en").split("-")[0].lower()
            at = mention.published_at or mention.fetched_at or now
            at = min(at, now)  # a clock-skewed future date must not keep a cluster alive
            if position != "claim":
                for brand in mention.brands:
                    self._recent_everyday.append((
                        at, brand, lang, _compact(vector), mention.text[:_TEXT_CHARS],
                    ))
            if position == "none":
                continue
            self._newest = at if self._newest is None else max(self._newest, at)
            fingerprint = content_fingerprint(mention.text)
            links = mention_links(mention) | claim_tags(mention.text)
            for brand in mention.brands:
                key = assigned.get((mention.id, brand)) if assigned and mention.id else None
                if key is not None:
                    restored = self._clusters.get(key) or self._new_cluster(
                        brand, mention, at, key=key
                    )
                    # Kept apart from other clusters live, so no bridging or merging here.
                    self._join(restored, mention, said, score, vector, fingerprint, links, at, lang)
                    changed[restored.key] = restored
                    continue
                replied = self._replied(brand, mention, at)
                if position == "counter":
                    cluster = replied or self._answered(brand, fingerprint, links, vector, at, lang)
                    if cluster is None:
                        continue  # a denial of a claim nobody makes here opens nothing
                elif position == "support":
                    cluster = replied or self._supported(
                        brand, fingerprint, links, vector, at, lang, mention.text
                    )
                    if cluster is None:
                        # Nothing to carry yet; if a claim it carries starts soon, it joins then.
                        self._wait(brand, _Waiting(
                            mention, said, score, vector, fingerprint, links, at, lang,
                            mention.text.casefold(),
                        ))
                        continue
                else:
                    cluster = replied or self._match(
                        brand, fingerprint, links, vector, at, lang,
                        said.category, cue_words(score), mention.text,
                    )
                    if cluster is None:
                        cluster = self._new_cluster(brand, mention, at)
                bridged = self._join(
                    cluster, mention, said, score, vector, fingerprint, links, at, lang
                )
                for key in sorted(bridged):
                    if key in self._clusters and key != cluster.key:
                        cluster = self._merge(cluster, self._clusters[key])
                cluster = self._merge_close(cluster, at, lang)
                if position == "claim":
                    self._adopt(cluster, at)
                changed[cluster.key] = cluster
        self._evict()
        self._bound_members()
        self._pinned = set()
        return [self._clusters[k] for k in changed if k in self._clusters]

    def _bound_members(self) -> None:
        """Hold the members kept by all clusters together to `MAX_HELD_MEMBERS`.

        Counts (mentions, authors, platforms) stay exact; what goes is the oldest members of
        the biggest clusters: every cluster is cut to the same largest size that fits, so a claim
        of thousands of posts keeps its newest (what velocity and the headline read) and a
        small claim keeps all of its own.
        """
        if self._held < MAX_HELD_MEMBERS // 10:
            return  # counting is a pass over the clusters: do it every few thousand members
        sizes = sorted((len(c.members) for c in self._clusters.values()), reverse=True)
        self._held = 0
        if sum(sizes) <= MAX_HELD_MEMBERS:
            return
        level = _fill_level(sizes, int(MAX_HELD_MEMBERS * 0.9))  # 10% room to grow again
        for cluster in self._clusters.values():
            while len(cluster.members) > level:
                cluster.members.popleft()
        log.debug("claim clusters keep at most %d members each (%d held)", level,
                  sum(len(c.members) for c in self._clusters.values()))

    def _candidates(
        self, brand: str, fingerprint: int, links: set[str], at: datetime
    ) -> list[ClaimCluster]:
        """Clusters that share a link with the post or hold a near duplicate of it."""
        found: dict[str, ClaimCluster] = {}
        for link in sorted(links):
            key = self._link_cluster.get((brand, link))
            if key in self._clusters and self._live(self._clusters[key], at):
                found[key] = self._clusters[key]
        near = self._near.get(brand)
        if near is not None:
            seq = near.find_fingerprint(fingerprint, at)
            key = self._member_cluster.get(seq) if seq is not None else None
            if key is not None and key in self._clusters:
                found[key] = self._clusters[key]
        return sorted(found.values(), key=lambda c: (c.first_seen, c.key))

    def _match(
        self,
        brand: str,
        fingerprint: int,
        links: set[str],
        vector: np.ndarray | None,
        at: datetime,
        lang: str,
        category: str,
        words: frozenset[str],
        text: str,
    ) -> ClaimCluster | None:
        found = self._candidates(brand, fingerprint, links, at)
        if found:
            # A post that links two clusters shows they are one claim.
            survivor = found[0]
            for other in found[1:]:
                survivor = self._merge(survivor, other)
            return survivor
        if vector is not None:
            nearest = self._nearest(
                brand, vector, at, self.settings.claim_similarity, lang,
                lambda c: self._specific(c, lang),
            )
            if nearest is not None:
                return nearest
            if words:
                # Close in meaning and naming the same harm ("glass shard", "food poisoning"):
                # the same claim told differently ("found a shard in mine too").
                nearest = self._nearest(
                    brand, vector, at, self.settings.claim_similarity_with_cue, lang,
                    lambda c: c.category == category and bool(words & set(c.cue_words))
                    and self._specific(c, lang),
                )
                if nearest is not None:
                    return nearest
        named = self._named(brand, text, lambda c: self._live(c, at))
        if named is not None:
            return named
        if lang != "en":
            spreading = [
                c for c in self._clusters.values()
                if c.brand == brand and c.category == category
                and at - c.last_seen <= self.burst
            ]
            if spreading:
                return max(spreading, key=lambda c: (c.last_seen, c.mention_count))
        return None

    def _replied(self, brand: str, mention: Mention, at: datetime) -> ClaimCluster | None:
        """The live cluster holding the post this mention replies to."""
        if not mention.parent_id:
            return None
        key = self._posts.get((brand, mention.platform, mention.parent_id))
        cluster = self._clusters.get(key) if key else None
        return cluster if cluster is not None and self._live(cluster, at) else None

    def _supported(
        self,
        brand: str,
        fingerprint: int,
        links: set[str],
        vector: np.ndarray | None,
        at: datetime,
        lang: str,
        text: str,
    ) -> ClaimCluster | None:
        """The spreading claim a post carries without asserting it: link, copy, one of the
        claim's own names ("Car Thing"), or close meaning.

        Only a claim asserted within `claim_window` takes supporters, and only a specific one
        (unlike the brand's everyday chatter) takes them by meaning alone.
        """
        recent = timedelta(seconds=self.settings.claim_window)
        found = [
            c for c in self._candidates(brand, fingerprint, links, at)
            if at - c.last_seen <= recent
        ]
        if found:
            return found[0]
        named = self._named(brand, text, lambda c: at - c.last_seen <= recent)
        if named is not None:
            return named
        if vector is None:
            return None
        return self._nearest(
            brand, vector, at, self.settings.support_similarity, lang,
            lambda c: at - c.last_seen <= recent and c.embedded[lang] >= _SETTLED
            and self._specific(c, lang),
        )

    def _own_names(self, cluster: ClaimCluster) -> list[str]:
        """Names that several of the claim's posts use and the brand's everyday posts do not."""
        brand = cluster.brand.casefold()
        return [
            name for name, n in cluster.entities.items()
            if n >= _NAME_MIN_POSTS and brand not in name
            and self._everyday_share(cluster.brand, name) <= _NAME_EVERYDAY_SHARE
        ]

    def _everyday_share(self, brand: str, name: str) -> float:
        """The share of the brand's everyday posts that use `name` (1.0 before enough posts)."""
        cached = self._name_share.get((brand, name))
        if cached is not None:
            return cached
        texts = self._everyday_texts.get(brand, ())
        if len(texts) < _EVERYDAY_MIN:
            return 1.0  # no baseline yet: no name is known to be the claim's own
        share = sum(1 for t in texts if _uses_any([name], t)) / len(texts)
        self._name_share[(brand, name)] = share
        return share

    def _named(
        self, brand: str, text: str, accept: Callable[[ClaimCluster], bool]
    ) -> ClaimCluster | None:
        """The biggest accepted cluster of the brand one of whose own names the text uses."""
        lowered = text.casefold()
        named = [
            c for c in self._clusters.values()
            if c.brand == brand and accept(c) and _uses_any(self._own_names(c), lowered)
        ]
        return max(named, key=lambda c: (c.mention_count, c.key)) if named else None

    def _wait(self, brand: str, item: _Waiting) -> None:
        """Keep a supporter for a claim that may start within `claim_window`; older ones go."""
        waiting = self._waiting.setdefault(brand, deque(maxlen=_WAITING))
        horizon = item.at - timedelta(seconds=self.settings.claim_window)
        while waiting and waiting[0].at < horizon:
            waiting.popleft()
        waiting.append(item)

    def _settle_everyday(self, now: datetime) -> None:
        """Posts older than `claim_window` become the everyday baseline. The delay keeps a
        claim's own early posts out of the baseline it is compared with while it spreads."""
        horizon = now - timedelta(seconds=self.settings.claim_window)
        while self._recent_everyday and self._recent_everyday[0][0] <= horizon:
            _at, brand, lang, vector, text = self._recent_everyday.popleft()
            self._remember_everyday(brand, lang, vector, text)

    def _remember_everyday(
        self, brand: str, lang: str, vector: np.ndarray | None, text: str
    ) -> None:
        if vector is not None:
            self._everyday.setdefault((brand, lang), deque(maxlen=_EVERYDAY)).append(vector)
        texts = self._everyday_texts.setdefault(brand, deque(maxlen=_EVERYDAY))
        texts.append(text.casefold())
        self._everyday_added[brand] += 1
        if self._everyday_added[brand] % _EVERYDAY_MIN == 0:
            # Shares drift slowly: refresh them every hundred everyday posts.
            self._name_share = {k: v for k, v in self._name_share.items() if k[0] != brand}

    def _adopt(self, cluster: ClaimCluster, now: datetime) -> None:
        """Take in waiting supporters that carry this claim (they arrived before it formed)."""
        waiting = self._waiting.get(cluster.brand)
        if not waiting:
            return
        recent = timedelta(seconds=self.settings.claim_window)
        specific = {lang: self._specific(cluster, lang) for lang in cluster.centroids}
        names = self._own_names(cluster)
        kept: deque[_Waiting] = deque(maxlen=waiting.maxlen)
        for item in waiting:
            if now - item.at > recent:
                continue  # too old to carry a claim that starts now
            centroid = cluster.centroids.get(item.lang)
            if cluster.embedded[item.lang] < _SETTLED:
                centroid = None  # one or two posts do not say yet what the claim is
            carries = bool(item.links & cluster.links) or _uses_any(names, item.text) or (
                item.vector is not None and centroid is not None and specific[item.lang]
                and _cosine(centroid, item.vector) >= self.settings.support_similarity
            )
            if carries:
                self._join(cluster, item.mention, item.said, item.score, item.vector,
                           item.fingerprint, item.links, item.at, item.lang)
            else:
                kept.append(item)
        self._waiting[cluster.brand] = kept

    def _specific(self, cluster: ClaimCluster, lang: str) -> bool:
        """Whether the cluster's meaning stands apart from the brand's everyday chatter.

        A cluster that grew out of routine posts ("my account got hacked, help") sits where
        many everyday posts sit; joining by meaning there would sweep them all in. Measured on
        the support stream: a real claim's centroid has no everyday post of 1,000 within the
        join threshold, a centroid of routine posts has a tenth of them.
        """
        centroid = cluster.centroids.get(lang)
        everyday = self._everyday.get((cluster.brand, lang))
        if centroid is None or not everyday or len(everyday) < _EVERYDAY_MIN:
            return True
        unit = _unit(centroid)
        assert unit is not None
        sims = np.stack(everyday).astype(np.float32) @ unit.astype(np.float32)
        close = int(np.count_nonzero(sims >= self.settings.claim_similarity))
        return close <= self.settings.claim_generic_share * len(everyday)

    def _answered(
        self,
        brand: str,
        fingerprint: int,
        links: set[str],
        vector: np.ndarray | None,
        at: datetime,
        lang: str,
    ) -> ClaimCluster | None:
        """The claim a fact-check or denial answers: shared link, copy, or close meaning."""
        found = self._candidates(brand, fingerprint, links, at)
        if found:
            return found[0]
        if vector is None:
            return None
        return self._nearest(brand, vector, at, self.settings.counter_similarity, lang)

    def _nearest(
        self,
        brand: str,
        vector: np.ndarray,
        at: datetime,
        threshold: float,
        lang: str,
        accept: Callable[[ClaimCluster], bool] | None = None,
    ) -> ClaimCluster | None:
        best: tuple[float, str] | None = None
        for cluster in self._clusters.values():
            centroid = cluster.centroids.get(lang)
            if cluster.brand != brand or centroid is None or not self._live(cluster, at):
                continue
            if accept is not None and not accept(cluster):
                continue
            similarity = _cosine(centroid, vector)
            # Ties go to the older cluster (insertion order).
            if similarity >= threshold and (best is None or similarity > best[0]):
                best = (similarity, cluster.key)
        return self._clusters[best[1]] if best else None

    def _merge_close(self, cluster: ClaimCluster, at: datetime, lang: str) -> ClaimCluster:
        """Merge `cluster` with a live cluster whose centroid (same language) has come close."""
        centroid = cluster.centroids.get(lang)
        if centroid is None:
            return cluster
        for other in list(self._clusters.values()):
            theirs = other.centroids.get(lang)
            if other is cluster or other.brand != cluster.brand or theirs is None:
                continue
            if not self._live(other, at):
                continue
            similarity = _cosine(theirs, centroid)
            same_harm = other.category == cluster.category and bool(
                set(other.cue_words) & set(cluster.cue_words)
            )
            if similarity >= self.settings.claim_merge_similarity or (
                same_harm and similarity >= self.settings.claim_merge_similarity_with_cue
            ):
                return self._merge(cluster, other)
        return cluster

    def _merge(self, one: ClaimCluster, two: ClaimCluster) -> ClaimCluster:
        """Fold the younger cluster into the older; return the survivor.

        While restoring, a cluster that carries an incident's key survives whatever its age.
        """
        keep, gone = sorted(
            (one, two), key=lambda c: (c.key not in self._pinned, c.first_seen, c.key)
        )
        if keep is gone:
            return keep
        merged = sorted([*keep.members, *gone.members], key=lambda m: m.at)
        keep.members = deque(merged[-keep.members.maxlen:] if keep.members.maxlen else merged,
                             maxlen=keep.members.maxlen)
        keep.mention_count += gone.mention_count
        keep.counter_count += gone.counter_count
        for author, reach in gone.authors.items():
            keep.authors[author] = max(keep.authors.get(author, 0), reach)
        keep.platforms.update(gone.platforms)
        for name, total in gone.categories.items():
            keep.categories[name] = keep.categories.get(name, 0.0) + total
        keep.links |= gone.links
        keep.cue_words.update(gone.cue_words)
        keep.entities.update(gone.entities)
        for lang, theirs in gone.centroids.items():
            mine = keep.centroids.get(lang)
            n, m = keep.embedded[lang], gone.embedded[lang]
            keep.centroids[lang] = theirs if mine is None else (mine * n + theirs * m) / (n + m)
            keep.embedded[lang] = n + m
        keep.first_seen = min(keep.first_seen, gone.first_seen)
        keep.last_seen = max(keep.last_seen, gone.last_seen)
        for pair, key in self._link_cluster.items():
            if key == gone.key:
                self._link_cluster[pair] = keep.key
        for seq, key in self._member_cluster.items():
            if key == gone.key:
                self._member_cluster[seq] = keep.key
        for post, key in self._posts.items():
            if key == gone.key:
                self._posts[post] = keep.key
        del self._clusters[gone.key]
        self.merged.append((keep.key, gone.key))
        log.debug("claim cluster %s merged into %s", gone.key, keep.key)
        return keep

    def _live(self, cluster: ClaimCluster, at: datetime) -> bool:
        return abs((at - cluster.last_seen).total_seconds()) <= self.window.total_seconds()

    def _new_cluster(
        self, brand: str, mention: Mention, at: datetime, key: str | None = None
    ) -> ClaimCluster:
        self._seq += 1
        anchor = mention.id if mention.id is not None else f"n{self._seq}"
        key = key or f"claim:{brand}:{anchor}"
        cluster = ClaimCluster(
            key=key, brand=brand, first_seen=at, last_seen=at,
            members=deque(maxlen=self.settings.max_members),
        )
        self._clusters[key] = cluster
        return cluster

    def _join(
        self,
        cluster: ClaimCluster,
        mention: Mention,
        said: Assertion,
        score: Score,
        vector: np.ndarray | None,
        fingerprint: int,
        links: set[str],
        at: datetime,
        lang: str,
    ) -> set[str]:
        """Add a member; return the keys of other live clusters it shares a link with."""
        position = said.stance
        bridged: set[str] = set()
        author = mention.author or f"(anonymous on {mention.platform})"
        reach = max(mention.author_reach or 0, 0)
        engagement = mention.engagement.total() if mention.engagement else 0
        cluster.members.append(
            ClaimMember(
                mention_id=mention.id, platform=mention.platform, author=author, at=at,
                reach=reach, engagement=engagement, p_negative=score.p_negative,
                complaint=score.complaint, harm_category=said.category,
                harm_confidence=said.confidence,
                # Only the headline reads a member's text, and only its first line's length.
                text=one_line(mention.text)[: _SUMMARY_CHARS + 1], url=mention.url,
                # Only the headline's centrality reads the vector, and only of asserting posts.
                stance=position, lang=lang,
                vector=_member_vector(vector) if position == "claim" else None,
            )
        )
        self._held += 1
        self._posts[(cluster.brand, mention.platform, mention.external_id)] = cluster.key
        if position == "counter":
            cluster.counter_count += 1
            return bridged  # counter-evidence neither spreads the claim nor defines it
        cluster.mention_count += 1
        cluster.entities.update(entities(mention.text))
        cluster.authors[author] = max(cluster.authors.get(author, 0), reach)
        cluster.platforms[mention.platform] += 1
        cluster.first_seen = min(cluster.first_seen, at)
        if position == "claim":  # supporters do not keep a claim alive by themselves
            cluster.last_seen = max(cluster.last_seen, at)
        for link in links:
            other = self._link_cluster.get((cluster.brand, link))
            if other is not None and other != cluster.key and other in self._clusters:
                bridged.add(other)  # the post shares a link with another claim: one claim
            if len(cluster.links) < MAX_INDEXED_POSTS:
                cluster.links.add(link)
            # Re-inserted so a link that keeps being shared is the last one the bound drops.
            self._link_cluster.pop((cluster.brand, link), None)
            self._link_cluster[(cluster.brand, link)] = cluster.key
        if position == "claim":
            # Only assertions say what the claim is; a supporter spreads it.
            cluster.categories[said.category] = (
                cluster.categories.get(said.category, 0.0) + said.confidence
            )
            cluster.cue_words.update(cue_words(score))
        if vector is not None and position == "claim":
            cluster.embedded[lang] += 1
            mean = cluster.centroids.get(lang)
            cluster.centroids[lang] = (
                vector.astype(np.float64) if mean is None
                else mean + (vector - mean) / cluster.embedded[lang]
            )
        near = self._near.get(cluster.brand)
        if near is None:
            near = NearDuplicateIndex[int](
                window=self.window, max_distance=self.settings.near_duplicate_distance,
                max_size=MAX_INDEXED_POSTS,
            )
            self._near[cluster.brand] = near
        self._seq += 1
        near.add_fingerprint(self._seq, fingerprint, at)
        if self._seq in near:
            self._member_cluster[self._seq] = cluster.key
        self._bound_lookups()
        return {k for k in bridged if self._live(self._clusters[k], at)}

    def _bound_lookups(self) -> None:
        """Hold the per-post lookups (links, replies, near duplicates) to the newest posts.

        A claim carried by hundreds of thousands of posts would otherwise keep an entry per post
        for the whole window; the newest `MAX_INDEXED_POSTS` per lookup are what new posts join.
        """
        # Dicts keep insertion order: the first keys are the oldest.
        while len(self._posts) > MAX_INDEXED_POSTS:
            del self._posts[next(iter(self._posts))]
        while len(self._link_cluster) > MAX_INDEXED_POSTS:
            del self._link_cluster[next(iter(self._link_cluster))]
        if len(self._member_cluster) > 2 * MAX_INDEXED_POSTS:
            self._member_cluster = {
                seq: key for seq, key in self._member_cluster.items()
                if any(seq in near for near in self._near.values())
            }

    def _evict(self) -> None:
        if self._newest is None:
            return
        horizon = self._newest - self.window
        stale = [k for k, c in self._clusters.items() if c.last_seen < horizon]
        overflow = len(self._clusters) - len(stale) - self.settings.max_clusters
        if overflow > 0:
            live = sorted(
                (c for k, c in self._clusters.items() if k not in set(stale)),
                key=lambda c: c.last_seen,
            )
            stale += [c.key for c in live[:overflow]]
        if not stale:
            return
        gone = set(stale)
        for key in gone:
            del self._clusters[key]
        log.debug("dropped %d idle claim clusters", len(gone))
        self._link_cluster = {k: v for k, v in self._link_cluster.items() if v not in gone}
        self._posts = {k: v for k, v in self._posts.items() if v not in gone}
        # Member seqs evicted from the near-duplicate indexes no longer resolve: drop them too.
        self._member_cluster = {
            seq: key
            for seq, key in self._member_cluster.items()
            if key not in gone and any(seq in near for near in self._near.values())
        }


# Words of cue phrases that say nothing about what happened.
_CUE_FILLER = frozenset(
    "a an the of in on to from with by after my me our us their his her it i is was were be "
    "been made make makes making got get gets getting gave give this that and or all".split()
)


def cue_words(score: Score) -> frozenset[str]:
    """The content words of the harm cues a score found ("glass shards in" -> glass, shard)."""
    words: set[str] = set()
    for cue in score.extra.get("harm_evidence", []):
        for word in re.findall(r"\w+", str(cue).casefold()):
            if word in _CUE_FILLER or len(word) < 3:
                continue
            words.add(word[:-1] if len(word) > 4 and word.endswith("s") else word)
    return frozenset(words)


_TEXT_CHARS = 500  # of an everyday post, enough to tell whether it uses a name


def _fill_level(sizes: list[int], budget: int) -> int:
    """The largest L with sum(min(size, L) for size in sizes) <= budget (sizes descending)."""
    total = sum(sizes)
    if total <= budget:
        return sizes[0] if sizes else 0
    # Cut the i largest to L: the rest keep theirs. Try i = 1, 2, ... until L >= the next size.
    rest = total
    for i, size in enumerate(sizes, start=1):
        rest -= size
        level = (budget - rest) // i
        following = sizes[i] if i < len(sizes) else 0
        if level >= following:
            return max(level, 0)
    return 0


_INT8_SCALE = 127.0


def _member_vector(unit: np.ndarray | None) -> bytes | None:
    """A unit vector as int8 bytes (417 bytes held, not 880 in float16): the headline's ranking
    needs cosines to two digits, and a member's int8 cosine is within 0.01 of the exact one."""
    if unit is None:
        return None
    return np.clip(np.rint(unit * _INT8_SCALE), -127, 127).astype(np.int8).tobytes()


def _compact(vector: np.ndarray | None) -> np.ndarray | None:
    """A unit vector in half precision: the baseline needs thousands, cosines need 3 digits."""
    return None if vector is None else vector.astype(np.float16)


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b) / norm if norm else 0.0


def _unit(embedding: np.ndarray | None) -> np.ndarray | None:
    if embedding is None:
        return None
    vector = np.asarray(embedding, dtype=np.float64).ravel()
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else None
