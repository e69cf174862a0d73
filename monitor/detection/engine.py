"""Detection glue: scored mentions -> claim clusters -> risk -> incidents, on the live code path."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from monitor.clock import Clock, from_iso
from monitor.detection.claims import ClaimCluster, ClaimIndex
from monitor.detection.risk import assess_claim
from monitor.detection.settings import DetectionConfig
from monitor.detection.virality import EngagementSnapshot, measure
from monitor.incidents import IncidentBook
from monitor.records import Mention, Score
from monitor.store import Store

log = logging.getLogger(__name__)


def _snapshots(db: object, mention_ids: list[int]) -> list[EngagementSnapshot]:
    marks = ",".join("?" for _ in mention_ids)
    rows = db.execute(  # type: ignore[attr-defined]
        "SELECT mention_id, observed_at, likes, shares, comments, views FROM engagement "
        f"WHERE mention_id IN ({marks}) ORDER BY observed_at",
        mention_ids,
    ).fetchall()
    return [
        EngagementSnapshot(r[0], from_iso(r[1]), r[2], r[3], r[4], r[5])  # type: ignore[arg-type]
        for r in rows
    ]


class DetectionEngine:
    """Feeds every scored batch to the claim index and applies the verdicts to incidents."""

    def __init__(
        self, store: Store, book: IncidentBook, clock: Clock, settings: DetectionConfig
    ) -> None:
        self.store = store
        self.book = book
        self.clock = clock
        self.settings = settings
        self.claims = ClaimIndex(settings)

    async def on_scored(self, scored: Sequence[tuple[Mention, Score]]) -> None:
        """Cluster a scored batch and open, grow or escalate incidents for changed clusters."""
        now = self.clock.now()
        changed = self.claims.add([(m, s, None) for m, s in scored], now)
        for cluster in changed:
            try:
                await self._assess(cluster, now)
            except Exception:  # one bad cluster must not stop detection for the rest
                log.exception("assessing claim cluster %s failed", cluster.key)

    async def _assess(self, cluster: ClaimCluster, now: datetime) -> None:
        ids = cluster.mention_ids()
        snapshots = await self.store.read(_snapshots, ids) if ids else []
        virality = measure(snapshots, now)
        assessment = assess_claim(
            cluster, now, self.settings,
            engagement_per_hour=virality.interactions_per_hour,
            projection=virality.projection.text if virality.projection else None,
        )
        incident = await self.book.apply(assessment)
        if incident is not None:
            log.info(
                "incident %d %s (%s, %s): %s", incident.id, incident.status, incident.brand,
                incident.severity, incident.summary[:120],
            )

    async def tick(self) -> None:
        """Auto-resolve quiet incidents."""
        await self.book.tick(self.clock.now())
