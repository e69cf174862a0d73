"""The `[detection]` table: claim clustering, risk thresholds and incident lifecycle timing."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from monitor.configtypes import Duration, Strict
from monitor.records import SEVERITIES

Severity = Literal["info", "low", "medium", "high", "critical"]


class SeverityThresholds(Strict):
    """Lowest risk (0..1) at which an assessment gets each severity; below `info` it is none."""

    info: float = Field(default=0.2, ge=0.0, le=1.0)
    low: float = Field(default=0.35, ge=0.0, le=1.0)
    medium: float = Field(default=0.5, ge=0.0, le=1.0)
    high: float = Field(default=0.65, ge=0.0, le=1.0)
    critical: float = Field(default=0.8, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _increasing(self) -> SeverityThresholds:
        values = [getattr(self, name) for name in SEVERITIES]
        if any(b <= a for a, b in zip(values, values[1:], strict=False)):
            raise ValueError(
                "severity thresholds must rise strictly from info to critical, got "
                + ", ".join(f"{n}={v}" for n, v in zip(SEVERITIES, values, strict=True))
            )
        return self


class DetectionConfig(Strict):
    """Tuning of claim clusters, risk scoring and the incident lifecycle."""

    # -- claim clusters
    claim_window: Duration = Field(default=6 * 3600.0, gt=0)  # clusters idle longer are dropped
    # Cosine of a post's claim embedding (brand masked) to a cluster's centroid that joins it,
    # and of two centroids that merge their clusters. Chosen on the replay scenarios' claims:
    # posts sit 0.69 (10th percentile) to 0.77 (median) from their own claim's centroid and at
    # most 0.57 (90th percentile) from other claims'; two claims' centroids 0.41-0.60 apart,
    # halves of one claim 0.78-0.91 (see "How claims are told apart" in README.md).
    claim_similarity: float = Field(default=0.62, gt=0.0, le=1.0)
    claim_merge_similarity: float = Field(default=0.75, gt=0.0, le=1.0)
    # The same, for a post (or cluster) that also names the same harm: the same category and a
    # shared cue word ("glass", "poisoning").
    claim_similarity_with_cue: float = Field(default=0.5, gt=0.0, le=1.0)
    claim_merge_similarity_with_cue: float = Field(default=0.65, gt=0.0, le=1.0)
    # A cluster is generic (joined by meaning no more) when more than this share of the
    # brand's recent everyday posts are within claim_similarity of it.
    claim_generic_share: float = Field(default=0.02, ge=0.0, le=1.0)
    near_duplicate_distance: int = Field(default=3, ge=0, le=3)  # SimHash slots that may differ
    harm_min_confidence: float = Field(default=0.5, ge=0.0, le=1.0)  # a harm claim, from a cue
    # A harm claim the semantic score alone found (no cue phrase) needs this much.
    semantic_min_confidence: float = Field(default=0.55, ge=0.0, le=1.0)
    counter_similarity: float = Field(default=0.55, gt=0.0, le=1.0)  # a denial joins its claim
    # A post that carries a specific spreading claim without asserting it joins from this close.
    support_similarity: float = Field(default=0.6, gt=0.0, le=1.0)
    max_clusters: int = Field(default=5000, ge=1)
    max_members: int = Field(default=2000, ge=10)  # per cluster; counts stay exact beyond it
    # -- risk
    burst_window: Duration = Field(default=3600.0, gt=0)  # "recent" for velocity and spread
    spread_authors: int = Field(default=30, ge=2)  # distinct authors in a burst that saturate
    velocity_per_hour: float = Field(default=10.0, gt=0)  # mentions/hour giving ~63% velocity
    reach_floor: int = Field(default=100, ge=0)  # audiences below this count as no reach
    reach_saturation: int = Field(default=1_000_000, ge=10)  # audience giving full reach
    severity: SeverityThresholds = SeverityThresholds()
    # A claim becomes an incident once it has spread a little: this many authors, or one
    # author (or several) reaching this many people.
    incident_min_authors: int = Field(default=3, ge=1)
    incident_min_audience: int = Field(default=50_000, ge=0)
    # Complaint surges (a spike of negative mentions without a harm claim) page at most this.
    complaint_max_severity: Severity = "low"
    # -- volume
    volume: bool = True  # volume_spike / complaint_surge incidents from the volume detectors
    volume_lateness: Duration = Field(default=600.0, ge=0)  # a bucket is scored this long after
    volume_catchup: Duration = Field(default=2 * 86400.0, gt=0)  # history replayed after downtime
    # -- incidents
    quiet_period: Duration = Field(default=6 * 3600.0, gt=0)  # auto-resolve after no mentions
    reopen_window: Duration = Field(default=24 * 3600.0, ge=0)  # a returning claim reopens

    @model_validator(mode="after")
    def _reach_range(self) -> DetectionConfig:
        if self.reach_saturation <= self.reach_floor:
            raise ValueError(
                f"reach_saturation ({self.reach_saturation}) must be above reach_floor "
                f"({self.reach_floor})"
            )
        return self
