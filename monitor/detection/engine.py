"""Detection glue: scored mentions -> claim clusters -> risk -> incidents, on the live code path."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from monitor.clock import Clock
from monitor.detection.claims import ClaimCluster, ClaimIndex
from monitor.detection.risk import assess_claim
from monitor.detection.settings import DetectionConfig
from monitor.detection.virality import EngagementSnapshot, measure
from monitor.detection.volume_watch import VolumeWatch
from monitor.incidents import IncidentBook
from monitor.records import Incident, Mention, Score
from monitor.store import Store

log = logging.getLogger(__name__)
MEANINGS = "claim-meanings"  # detector_state key: centroids of claims with active incidents


class DetectionEngine:
    """Feeds scored mentions to the claim index and volume buckets to the volume watch, and
    applies their verdicts to incidents."""

    def __init__(
        self,
        store: Store,
        book: IncidentBook,
        clock: Clock,
        settings: DetectionConfig,
        brands: Sequence[str] = (),
    ) -> None:
        self.store = store
        self.book = book
        self.clock = clock
        self.settings = settings
        self.claims = ClaimIndex(settings)
        self.volume = VolumeWatch(store, list(brands), settings) if settings.volume else None
        self._tracked: set[str] = set()  # cluster keys with an active incident

    @property
    def active(self) -> bool:
        """Whether some incident this engine follows is open or acknowledged."""
        return bool(self._tracked)

    async def restore(self, *, unread: bool = True) -> int:
        """Rebuild the claim clusters of the last claim window from the store after a restart.

        `unread=False` (a detection leader taking over, monitor/cluster.py) leaves out the
        mentions still in the detection queue: the leader reads those next, with embeddings.

        A mention that belongs to a claim incident rejoins that incident's cluster under the
        same key, so the open incident is found again (not opened twice). Embeddings are not
        stored, so the other mentions join by link, hashtag, reply, name, near-duplicate and
        (non-English posts) the spreading claim of their category, not by meaning.
        """
        now = self.clock.now()
        since = now - self.claims.window
        scored = await self.store.scored_mentions(since, unread=unread)
        members = await self.store.read(lambda tx: tx.incidents.claim_members(since))
        self.claims.add([(m, s, None) for m, s in scored], now, assigned=members)
        for survivor, absorbed in self.claims.take_merges():
            # Two incidents' clusters met again: fold them as the live path would.
            await self.book.merge(survivor, absorbed, now)
        saved = await self.store.load_detector_state(MEANINGS) or {}
        for key, meaning in saved.items():
            cluster = self.claims.get(key)
            if cluster is not None:
                cluster.restore_meaning(meaning)
        keys = await self.store.read(lambda tx: tx.incidents.active_keys())
        live = {c.key for c in self.claims.clusters()}
        self._tracked = {k for k in keys if k in live or k.startswith("volume:")}
        if scored:
            log.info(
                "detection restored %d claim clusters from %d recent mentions",
                len(self.claims), len(scored),
            )
        return len(self.claims)

    async def on_scored(self, scored: Sequence[tuple[Mention, Score]]) -> None:
        """Cluster a scored batch and open, grow or escalate incidents for changed clusters."""
        now = self.clock.now()
        changed = self.claims.add([(m, s, s.embedding) for m, s in scored], now)
        for survivor, absorbed in self.claims.take_merges():
            try:
                await self.book.merge(survivor, absorbed, now)
            except Exception:  # the clusters are merged either way; the next assess catches up
                log.exception("merging the incidents of %s into %s failed", absorbed, survivor)
            if absorbed in self._tracked:
                self._tracked.discard(absorbed)
                self._tracked.add(survivor)
        for cluster in changed:
            await self._assess_safely(cluster, now)
        if any(c.key in self._tracked and c.centroids for c in changed):
            await self._save_meanings(now)

    async def _save_meanings(self, now: datetime) -> None:
        """Keep the centroids of claims with active incidents, so new posts that say the same
        thing in other words still join them after a restart."""
        meanings = {}
        for key in sorted(self._tracked):
            cluster = self.claims.get(key)
            if cluster is not None and cluster.centroids:
                meanings[key] = cluster.meaning()
        try:
            await self.store.save_detector_states({MEANINGS: meanings}, now)
        except Exception:  # detection goes on; a restart then joins by links and names only
            log.exception("saving claim centroids failed")

    async def _assess_safely(self, cluster: ClaimCluster, now: datetime) -> None:
        try:
            await self._assess(cluster, now)
        except Exception:  # one bad cluster must not stop detection for the rest
            log.exception("assessing claim cluster %s failed", cluster.key)

    async def _assess(self, cluster: ClaimCluster, now: datetime) -> None:
        ids = [m.mention_id for m in cluster.carriers() if m.mention_id is not None]
        rows = await self.store.read(lambda tx: tx.mentions.snapshots(ids)) if ids else []
        snapshots = [EngagementSnapshot(*row) for row in rows]
        virality = measure(snapshots, now)
        # The claim's own spread sets its severity, not the brand's complaint volume.
        assessment = assess_claim(
            cluster, now, self.settings,
            engagement_per_hour=virality.interactions_per_hour,
            projection=virality.projection.text if virality.projection else None,
        )
        incident = await self.book.apply(assessment)
        self._note(cluster.key, incident)

    def _note(self, key: str, incident: Incident | None) -> None:
        """Follow the keys of active incidents (IncidentBook logs the changes themselves)."""
        if incident is not None and incident.status != "resolved":
            self._tracked.add(key)
        else:
            self._tracked.discard(key)

    async def tick(self) -> None:
        """Volume spikes, re-assessment of claims with active incidents, auto-resolve."""
        now = self.clock.now()
        if self.volume is not None:
            try:
                for assessment in await self.volume.tick(now):
                    self._note(assessment.key, await self.book.apply(assessment))
            except Exception:
                log.exception("volume detection failed; it retries on the next tick")
        for key in sorted(self._tracked):
            if key.startswith("volume:"):
                continue  # re-assessed by the volume watch as buckets close
            cluster = self.claims.get(key)
            if cluster is None:
                self._tracked.discard(key)
                continue
            await self._assess_safely(cluster, now)
        for incident in await self.book.tick(now):
            self._tracked.discard(incident.cluster_key or "")
