"""Volume watch: feeds each brand's closed 5-minute buckets to its volume detectors.

Two detectors per brand, one on all mentions and one on negative mentions, read the
`volume_buckets` table the store keeps. A bucket is scored once it is closed and the polls that
may still deliver its posts have had `volume_lateness` to do so; missing buckets are zeros. The
detectors' state is saved in the store after every step, so a restart resumes where it stopped
(catching up on at most `volume_catchup` of history).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from monitor.clock import from_iso
from monitor.detection.risk import assess_volume
from monitor.detection.settings import DetectionConfig
from monitor.detection.volume import BUCKET, VolumeDetector, VolumeReading, VolumeSettings
from monitor.records import Assessment
from monitor.store import Store, bucket_start
from monitor.store.mentions import WindowMention

log = logging.getLogger(__name__)
STREAMS = ("total", "negative")
_EVIDENCE = 50  # mentions attached to a volume incident per assessment


@dataclass(frozen=True, slots=True)
class _Spike:
    brand: str
    bucket: datetime
    reading: VolumeReading
    stream: str
    score: float


def _window_stats(
    rows: list[WindowMention],
) -> tuple[int, int, list[int], int, list[str], int]:
    """(mentions, negative, top mention ids, authors, platforms, claimed) of a brand's window;
    mentions an active claim incident holds are counted in `claimed` only."""
    claimed = sum(1 for r in rows if r[5])
    rows = [r for r in rows if not r[5]]
    negative = [r for r in rows if r[4] == "negative"]
    # Evidence: the negative mentions with the widest reach first, then the rest.
    ranked = sorted(rows, key=lambda r: (r[4] != "negative", -r[3], r[0]))
    authors = {r[1] or f"(anonymous on {r[2]})" for r in rows}
    platforms = sorted({r[2] for r in rows})
    ids = [r[0] for r in ranked[:_EVIDENCE]]
    return len(rows), len(negative), ids, len(authors), platforms, claimed


class VolumeWatch:
    """Per-brand volume detectors over the store's buckets, advanced by the periodic tick."""

    def __init__(
        self,
        store: Store,
        brands: list[str],
        settings: DetectionConfig,
        volume_settings: VolumeSettings | None = None,
    ) -> None:
        self.store = store
        self.brands = list(brands)
        self.settings = settings
        self.volume_settings = volume_settings or VolumeSettings()
        self._detectors: dict[str, dict[str, VolumeDetector]] = {}
        self._next: dict[str, datetime | None] = {}
        self._hot_until: dict[str, datetime] = {}  # brand -> end of its latest spike's follow-up

    async def _load(self, brand: str) -> dict[str, VolumeDetector]:
        detectors = self._detectors.get(brand)
        if detectors is not None:
            return detectors
        detectors = {}
        last: datetime | None = None
        for stream in STREAMS:
            state = await self.store.load_detector_state(f"volume:{brand}:{stream}")
            detector = None
            if state is not None:
                try:
                    detector = VolumeDetector.from_state(state, self.volume_settings)
                except (ValueError, KeyError, TypeError) as exc:
                    log.warning("volume baseline of %s (%s) discarded: %s", brand, stream, exc)
            detectors[stream] = detector or VolumeDetector(self.volume_settings)
            saved_last = from_iso(state.get("last")) if state and detector else None
            if saved_last is not None:
                last = saved_last if last is None else min(last, saved_last)
        self._detectors[brand] = detectors
        self._next[brand] = last + BUCKET if last is not None else None
        return detectors

    async def tick(self, now: datetime) -> list[Assessment]:
        """Score every bucket that closed since the last tick; return assessments of spikes."""
        closed_before = bucket_start(now - timedelta(seconds=self.settings.volume_lateness))
        assessments: list[Assessment] = []
        states: dict[str, dict[str, Any]] = {}
        for brand in self.brands:
            spikes = await self._advance(brand, closed_before, states)
            recent = now - timedelta(seconds=self.settings.burst_window)
            # After a long outage the catch-up replays old buckets: their spikes are history.
            for spike in (s for s in spikes if s.bucket >= recent):
                assessment = await self._assess(spike, now)
                if assessment is not None:
                    assessments.append(assessment)
        if states:
            await self.store.save_detector_states(states, now)
        return assessments

    async def _advance(
        self, brand: str, closed_before: datetime, states: dict[str, dict[str, Any]]
    ) -> list[_Spike]:
        detectors = await self._load(brand)
        start = self._next.get(brand)
        if start is not None and start >= closed_before:
            return []  # no bucket closed since the last step
        earliest = closed_before - timedelta(seconds=self.settings.volume_catchup)
        rows = await self.store.volume(brand, max(start or earliest, earliest))
        if start is None:
            # A brand seen for the first time starts at its first stored bucket.
            if not rows:
                return []
            start = rows[0][0]
        start = max(start, earliest)
        if start >= closed_before:
            return []
        counts = {when: (total, negative) for when, total, negative in rows}
        spikes = await asyncio.to_thread(self._feed, brand, detectors, counts, start, closed_before)
        self._next[brand] = closed_before
        for stream, detector in detectors.items():
            states[f"volume:{brand}:{stream}"] = detector.state()
        return spikes

    def _feed(
        self,
        brand: str,
        detectors: dict[str, VolumeDetector],
        counts: dict[datetime, tuple[int, int]],
        start: datetime,
        end: datetime,
    ) -> list[_Spike]:
        """Update both detectors bucket by bucket (runs in a worker thread: it is CPU work)."""
        spikes: list[_Spike] = []
        bucket = start
        while bucket < end:
            total, negative = counts.get(bucket, (0, 0))
            readings = {
                "total": detectors["total"].update(bucket, total),
                "negative": detectors["negative"].update(bucket, negative),
            }
            stream = max(readings, key=lambda s: readings[s].score)
            top = readings[stream]
            alerting = [s for s in STREAMS if readings[s].alert]
            follow_up = bucket < self._hot_until.get(brand, bucket) and top.score >= 0.5
            if alerting or follow_up:
                stream = alerting[-1] if alerting else stream  # the negative stream tells more
                spikes.append(_Spike(brand, bucket, readings[stream], stream, top.score))
                if alerting:
                    burst = timedelta(seconds=self.settings.burst_window)
                    self._hot_until[brand] = bucket + burst
            bucket += BUCKET
        return spikes

    async def _assess(self, spike: _Spike, now: datetime) -> Assessment | None:
        end = spike.bucket + BUCKET
        start = end - timedelta(seconds=self.settings.burst_window)
        window = await self.store.read(lambda tx: tx.mentions.brand_window(spike.brand, start, end))
        mentions, negative, ids, authors, platforms, claimed = _window_stats(window)
        if claimed >= mentions:
            # The spike is a claim that already has its incident: one incident per claim.
            return None
        label = "negative mentions" if spike.stream == "negative" else "mentions"
        detail = spike.reading.detail.replace(" mentions ", f" {label} ", 1)
        return assess_volume(
            spike.brand,
            volume_score=spike.score,
            volume_detail=detail,
            negative_share=negative / mentions if mentions else 0.0,
            mentions=mentions,
            mention_ids=ids,
            authors=authors,
            platforms=platforms,
            now=now,
            settings=self.settings,
        )
