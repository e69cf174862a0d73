"""Claim clusters: negative and harm-claim mentions of a brand that make the same claim.

A mention joins a cluster of its brand when, within the claim window, it shares a link with
the cluster (its canonical URL or a URL in its text), is a near duplicate of a member (SimHash
from `monitor.dedupe`), its sentence embedding is close to the cluster's centroid (cosine), or
it asserts the same harm category as the cluster with confidence (the harm classifier reads nine
languages, the default encoder only English, so this is what joins a claim's translations).
Checks run in that order because each is stronger evidence than the next. Clusters are never
merged after the fact: a mention that would bridge two clusters joins the first match, which
keeps keys stable for the incidents built on them. Pure, in-memory and deterministic.
"""

from __future__ import annotations

import logging
import re
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import numpy as np

from monitor.alerting.sanitize import one_line
from monitor.dedupe import NearDuplicateIndex, canonical_url, content_fingerprint
from monitor.detection.settings import DetectionConfig
from monitor.records import Mention, Score

log = logging.getLogger(__name__)

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


@dataclass(slots=True)
class ClaimCluster:
    """Mentions of one brand that make the same claim."""

    key: str  # "claim:<brand>:<first mention id>": stable across restarts and unique per brand
    brand: str
    first_seen: datetime
    last_seen: datetime
    members: deque[ClaimMember]  # newest last, at most `max_members`
    mention_count: int = 0
    authors: dict[str, int] = field(default_factory=dict)  # author -> largest reach seen
    platforms: Counter[str] = field(default_factory=Counter)
    categories: dict[str, float] = field(default_factory=dict)  # harm category -> confidence sum
    links: set[str] = field(default_factory=set)
    centroid: np.ndarray | None = None  # running mean of member embeddings (not normalised)
    embedded: int = 0

    @property
    def category(self) -> str:
        """The dominant harm category ("none" when no member asserts harm)."""
        ranked = [(total, name) for name, total in self.categories.items() if name != "none"]
        return max(ranked)[1] if ranked else "none"

    @property
    def author_count(self) -> int:
        """Distinct authors (anonymous posts count once per platform)."""
        return len(self.authors)

    @property
    def audience(self) -> int:
        """Sum of the largest reach seen per distinct author."""
        return sum(self.authors.values())

    def mention_ids(self) -> list[int]:
        """Stored ids of the members still held, oldest first."""
        return [m.mention_id for m in self.members if m.mention_id is not None]

    def recent(self, now: datetime, window: timedelta) -> list[ClaimMember]:
        """Members seen in (now - window, now]."""
        start = now - window
        return [m for m in self.members if start < m.at <= now]

    def growth_rate(self, now: datetime, window: timedelta) -> tuple[float, float]:
        """(mentions/hour in the last window, mentions/hour in the window before it)."""
        hours = window.total_seconds() / 3600
        recent = sum(1 for m in self.members if now - window < m.at <= now)
        earlier = sum(1 for m in self.members if now - 2 * window < m.at <= now - window)
        return recent / hours, earlier / hours

    def top_members(self, n: int = 5) -> list[ClaimMember]:
        """The members with the widest audience (reach + engagement), then the earliest."""
        ranked = sorted(self.members, key=lambda m: (-(m.reach + m.engagement), m.at))
        return ranked[:n]

    def summary(self) -> str:
        """The claim in one line: the text of its most widely seen member."""
        top = self.top_members(1)
        text = one_line(top[0].text) if top else ""
        return text if len(text) <= _SUMMARY_CHARS else text[: _SUMMARY_CHARS - 1] + "…"


def is_claim(score: Score, settings: DetectionConfig) -> bool:
    """True for mentions that clusters collect: negative, or asserting harm with confidence."""
    if score.sentiment == "negative":
        return True
    return score.harm_category != "none" and score.harm_confidence >= settings.harm_min_confidence


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


class ClaimIndex:
    """Live claim clusters for all brands, bounded by the claim window and `max_clusters`."""

    def __init__(self, settings: DetectionConfig | None = None) -> None:
        self.settings = settings or DetectionConfig()
        self.window = timedelta(seconds=self.settings.claim_window)
        self._clusters: dict[str, ClaimCluster] = {}
        self._near: dict[str, NearDuplicateIndex[int]] = {}  # brand -> member seq index
        self._member_cluster: dict[int, str] = {}  # member seq -> cluster key
        self._link_cluster: dict[tuple[str, str], str] = {}  # (brand, link) -> cluster key
        self._seq = 0
        self._newest: datetime | None = None

    def __len__(self) -> int:
        return len(self._clusters)

    def clusters(self, brand: str | None = None) -> list[ClaimCluster]:
        """Live clusters (of one brand), oldest first."""
        return [c for c in self._clusters.values() if brand is None or c.brand == brand]

    def get(self, key: str) -> ClaimCluster | None:
        """One live cluster by key."""
        return self._clusters.get(key)

    def add(
        self,
        scored: Iterable[tuple[Mention, Score, np.ndarray | None]],
        now: datetime,
    ) -> list[ClaimCluster]:
        """Cluster the claim-making mentions of a batch; return the clusters they changed."""
        changed: dict[str, ClaimCluster] = {}
        for mention, score, embedding in scored:
            if not mention.brands or not is_claim(score, self.settings):
                continue
            at = mention.published_at or mention.fetched_at or now
            at = min(at, now)  # a clock-skewed future date must not keep a cluster alive
            self._newest = at if self._newest is None else max(self._newest, at)
            vector = _unit(embedding)
            fingerprint = content_fingerprint(mention.text)
            links = mention_links(mention)
            harm = (
                score.harm_category
                if score.harm_category != "none"
                and score.harm_confidence >= self.settings.harm_min_confidence
                else None
            )
            for brand in mention.brands:
                cluster = self._match(brand, fingerprint, links, vector, at, harm)
                if cluster is None:
                    cluster = self._new_cluster(brand, mention, at)
                self._join(cluster, mention, score, vector, fingerprint, links, at)
                changed[cluster.key] = cluster
        self._evict()
        return [c for c in changed.values() if c.key in self._clusters]

    def _match(
        self,
        brand: str,
        fingerprint: int,
        links: set[str],
        vector: np.ndarray | None,
        at: datetime,
        harm: str | None = None,
    ) -> ClaimCluster | None:
        for link in sorted(links):
            key = self._link_cluster.get((brand, link))
            if key in self._clusters and self._live(self._clusters[key], at):
                return self._clusters[key]
        near = self._near.get(brand)
        if near is not None:
            seq = near.find_fingerprint(fingerprint, at)
            key = self._member_cluster.get(seq) if seq is not None else None
            if key is not None and key in self._clusters:
                return self._clusters[key]
        found = self._nearest(brand, vector, at) if vector is not None else None
        if found is None and harm is not None:
            # The same harm asserted about the same brand within the window: the same story.
            same = [
                c for c in self._clusters.values()
                if c.brand == brand and c.category == harm and self._live(c, at)
            ]
            found = max(same, key=lambda c: c.mention_count) if same else None
        return found

    def _nearest(self, brand: str, vector: np.ndarray, at: datetime) -> ClaimCluster | None:
        best: tuple[float, str] | None = None
        for cluster in self._clusters.values():
            if cluster.brand != brand or cluster.centroid is None or not self._live(cluster, at):
                continue
            norm = float(np.linalg.norm(cluster.centroid))
            similarity = float(cluster.centroid @ vector) / norm if norm else 0.0
            # Ties go to the older cluster (smaller key order is insertion order here).
            closer = best is None or similarity > best[0]
            if similarity >= self.settings.claim_similarity and closer:
                best = (similarity, cluster.key)
        return self._clusters[best[1]] if best else None

    def _live(self, cluster: ClaimCluster, at: datetime) -> bool:
        return abs((at - cluster.last_seen).total_seconds()) <= self.window.total_seconds()

    def _new_cluster(self, brand: str, mention: Mention, at: datetime) -> ClaimCluster:
        self._seq += 1
        anchor = mention.id if mention.id is not None else f"n{self._seq}"
        key = f"claim:{brand}:{anchor}"
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
        score: Score,
        vector: np.ndarray | None,
        fingerprint: int,
        links: set[str],
        at: datetime,
    ) -> None:
        author = mention.author or f"(anonymous on {mention.platform})"
        reach = max(mention.author_reach or 0, 0)
        engagement = mention.engagement.total() if mention.engagement else 0
        cluster.members.append(
            ClaimMember(
                mention_id=mention.id, platform=mention.platform, author=author, at=at,
                reach=reach, engagement=engagement, p_negative=score.p_negative,
                complaint=score.complaint, harm_category=score.harm_category,
                harm_confidence=score.harm_confidence, text=mention.text, url=mention.url,
            )
        )
        cluster.mention_count += 1
        cluster.authors[author] = max(cluster.authors.get(author, 0), reach)
        cluster.platforms[mention.platform] += 1
        cluster.categories[score.harm_category] = (
            cluster.categories.get(score.harm_category, 0.0) + score.harm_confidence
        )
        cluster.first_seen = min(cluster.first_seen, at)
        cluster.last_seen = max(cluster.last_seen, at)
        for link in links:
            cluster.links.add(link)
            self._link_cluster[(cluster.brand, link)] = cluster.key
        if vector is not None:
            cluster.embedded += 1
            if cluster.centroid is None:
                cluster.centroid = vector.astype(np.float64)
            else:
                cluster.centroid = cluster.centroid + (vector - cluster.centroid) / cluster.embedded
        near = self._near.get(cluster.brand)
        if near is None:
            near = NearDuplicateIndex[int](
                window=self.window, max_distance=self.settings.near_duplicate_distance
            )
            self._near[cluster.brand] = near
        self._seq += 1
        near.add_fingerprint(self._seq, fingerprint, at)
        if self._seq in near:
            self._member_cluster[self._seq] = cluster.key

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
        # Member seqs evicted from the near-duplicate indexes no longer resolve: drop them too.
        self._member_cluster = {
            seq: key
            for seq, key in self._member_cluster.items()
            if key not in gone and any(seq in near for near in self._near.values())
        }


def _unit(embedding: np.ndarray | None) -> np.ndarray | None:
    if embedding is None:
        return None
    vector = np.asarray(embedding, dtype=np.float64).ravel()
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else None
