"""Risk: one number in [0, 1] per claim cluster or volume anomaly, with every reason kept.

risk = badness x magnitude. Badness says how damaging the content is (negativity, complaint,
harm claim); magnitude says how many people it reaches and how fast (spread, velocity, reach,
volume anomaly). Both combine their parts as independent chances, 1 - prod(1 - w_i x f_i), so
one strong part is enough and extra parts add less and less. The product is what keeps a
furious post that nobody sees, and a cheerful launch-day spike, below the incident line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.detection.claims import ClaimCluster
from monitor.detection.settings import DetectionConfig
from monitor.records import SEVERITIES, Assessment, RiskFactor

# Weights of each part: how much a saturated part alone contributes to its side.
_BADNESS_WEIGHTS = {"negativity": 0.7, "complaint": 0.4, "harm": 1.0}
_MAGNITUDE_WEIGHTS = {"spread": 0.8, "velocity": 0.6, "reach": 0.5, "volume": 0.6}


@dataclass(frozen=True, slots=True)
class RiskSignals:
    """The measurements risk is computed from, whatever produced them."""

    negativity: float  # mean probability the mentions are negative
    complaint: float  # mean probability they are complaints
    harm_category: str
    harm_confidence: float  # mean confidence of the members asserting that category
    audience: int  # sum of the distinct authors' reach
    recent_mentions: int  # mentions in the burst window
    recent_authors: int  # distinct authors in the burst window
    platforms: int  # distinct platforms in the burst window
    span_minutes: float  # from the burst's first to last mention
    burst_minutes: float  # length of the burst window
    volume_score: float = 0.0  # the brand's volume anomaly score in [0, 1] (0.5 = alert level)
    volume_detail: str = ""
    engagement_per_hour: float = 0.0  # interactions/hour across the claim, from virality
    counter: int = 0  # fact-checks and denials attached to the claim


def severity_for(risk: float, settings: DetectionConfig) -> str | None:
    """The highest severity whose threshold `risk` reaches, or None below `info`."""
    found: str | None = None
    for name in SEVERITIES:
        if risk >= getattr(settings.severity, name):
            found = name
    return found


def _combine(parts: dict[str, float], weights: dict[str, float]) -> float:
    remaining = 1.0
    for name, value in parts.items():
        remaining *= 1.0 - weights[name] * _clamp(value)
    return 1.0 - remaining


def _clamp(value: float) -> float:
    return min(max(value, 0.0), 1.0)


def _minutes(value: float) -> str:
    return f"{value / 60:.1f} h" if value >= 120 else f"{max(value, 1):.0f} min"


def _people(n: float) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 10_000:
        return f"{n / 1000:.0f}k"
    return f"{n:.0f}"


def score_risk(signals: RiskSignals, settings: DetectionConfig) -> tuple[float, list[RiskFactor]]:
    """Risk in [0, 1] and its factors (each factor's value is its part in [0, 1])."""
    s = signals
    harm = _clamp(s.harm_confidence) if s.harm_category != "none" else 0.0
    authors = max(s.recent_authors, 0)
    # One author is no spread at all; `spread_authors` in one burst is full spread.
    author_part = math.log(authors) / math.log(settings.spread_authors) if authors > 1 else 0.0
    platform_part = min(max(s.platforms - 1, 0) / 2, 1.0)
    spread = _clamp(0.75 * _clamp(author_part) + 0.25 * platform_part) if authors > 1 else 0.0
    rate = s.recent_mentions / (s.burst_minutes / 60) if s.burst_minutes > 0 else 0.0
    mention_velocity = 1 - math.exp(-rate / settings.velocity_per_hour)
    # Engagement counts 1/50 of a mention: a share is cheap, a new post is not.
    engagement_velocity = 1 - math.exp(-s.engagement_per_hour / (50 * settings.velocity_per_hour))
    velocity = max(mention_velocity, engagement_velocity)
    floor = math.log10(1 + settings.reach_floor)
    top = math.log10(1 + settings.reach_saturation)
    reach = _clamp((math.log10(1 + max(s.audience, 0)) - floor) / (top - floor))
    volume = _clamp(s.volume_score)

    badness = _combine(
        {"negativity": s.negativity, "complaint": s.complaint, "harm": harm}, _BADNESS_WEIGHTS
    )
    magnitude = _combine(
        {"spread": spread, "velocity": velocity, "reach": reach, "volume": volume},
        _MAGNITUDE_WEIGHTS,
    )
    risk = _clamp(badness * magnitude)
    # Fact-checks and denials weigh against the claim by their share of the conversation:
    # when half the recent posts answer it, its risk is halved.
    total = s.recent_mentions + s.counter
    counter = s.counter / total if total else 0.0
    risk *= 1.0 - counter
    harm_label = s.harm_category.replace("_", "/")
    factors = [
        RiskFactor("harm", harm, f"asserts {harm_label} harm ({harm:.0%} confidence)"
                   if harm else "no harm claim"),
        RiskFactor("negativity", _clamp(s.negativity), f"{s.negativity:.0%} negative"),
        RiskFactor("complaint", _clamp(s.complaint), f"{s.complaint:.0%} complaint"),
        RiskFactor(
            "spread", spread,
            f"{authors} author{'s' if authors != 1 else ''} on {s.platforms} "
            f"platform{'s' if s.platforms != 1 else ''} in {_minutes(s.span_minutes)}",
        ),
        RiskFactor(
            "velocity", velocity,
            f"{rate:.1f} mentions/h"
            + (f", {s.engagement_per_hour:.0f} interactions/h" if s.engagement_per_hour else ""),
        ),
        RiskFactor("reach", reach, f"authors reach ~{_people(s.audience)} people"),
        RiskFactor("volume", volume, s.volume_detail or "brand volume normal"),
    ]
    if s.counter:
        factors.append(RiskFactor(
            "counter", counter,
            f"{s.counter} fact-check{'s' if s.counter != 1 else ''} or denial"
            f"{'s' if s.counter != 1 else ''} answer it (risk x {1 - counter:.2f})",
        ))
    factors.sort(key=lambda f: -f.value)
    return risk, factors


def cluster_signals(
    cluster: ClaimCluster,
    now: datetime,
    settings: DetectionConfig,
    *,
    engagement_per_hour: float = 0.0,
) -> RiskSignals:
    """Measure a claim cluster for `score_risk` (spread and velocity over the burst window)."""
    window = timedelta(seconds=settings.burst_window)
    recent = cluster.recent(now, window)
    members = cluster.carriers()
    counter = sum(
        1 for m in cluster.members if m.stance == "counter" and now - m.at < 4 * window
    )
    category = cluster.category
    asserting = [m.harm_confidence for m in cluster.claims() if m.harm_category == category]
    span = (
        (max(m.at for m in recent) - min(m.at for m in recent)).total_seconds() / 60
        if recent else 0.0
    )
    return RiskSignals(
        negativity=sum(m.p_negative for m in members) / len(members) if members else 0.0,
        complaint=sum(m.complaint for m in members) / len(members) if members else 0.0,
        harm_category=category,
        harm_confidence=sum(asserting) / len(asserting) if asserting else 0.0,
        audience=cluster.audience,
        recent_mentions=len(recent),
        recent_authors=len({m.author for m in recent}),
        platforms=len({m.platform for m in recent}),
        span_minutes=span,
        burst_minutes=settings.burst_window / 60,
        engagement_per_hour=engagement_per_hour,
        counter=counter,
    )


def has_spread(cluster: ClaimCluster, settings: DetectionConfig) -> bool:
    """Whether a claim has spread enough to be an incident: several authors, or reach."""
    return (
        cluster.author_count >= settings.incident_min_authors
        or cluster.audience >= settings.incident_min_audience
    )


def assess_claim(
    cluster: ClaimCluster,
    now: datetime,
    settings: DetectionConfig,
    *,
    engagement_per_hour: float = 0.0,
    projection: str | None = None,
) -> Assessment:
    """The verdict on one claim cluster, ready for `IncidentBook.apply`."""
    signals = cluster_signals(cluster, now, settings, engagement_per_hour=engagement_per_hour)
    risk, factors = score_risk(signals, settings)
    # The claim's own spread decides; the brand's general volume is a complaint matter.
    factors = [f for f in factors if f.name != "volume"]
    return Assessment(
        brand=cluster.brand,
        kind="viral_claim",
        key=cluster.key,
        category=signals.harm_category,
        risk=risk,
        severity=severity_for(risk, settings) if has_spread(cluster, settings) else None,
        factors=factors,
        summary=cluster.summary(),
        mention_ids=cluster.mention_ids(),
        author_count=cluster.author_count,
        platforms=sorted(cluster.platforms),
        at=now,
        projection=projection,
    )


def assess_volume(
    brand: str,
    *,
    volume_score: float,
    volume_detail: str,
    negative_share: float,
    mentions: int,
    mention_ids: list[int],
    authors: int,
    platforms: list[str],
    now: datetime,
    settings: DetectionConfig,
) -> Assessment:
    """The verdict on a brand's volume anomaly: a spike of mostly negative mentions matters.

    `mentions` and `authors` count the spike's last `burst_window`; `mention_ids` are attached
    to the incident. `negative_share` (negative mentions / all mentions) is the badness, so a
    launch-day spike of happy posts stays at most `info`. Kind is "complaint_surge" when the
    negative share is the story (over half), else "volume_spike". A complaint surge is
    customers unhappy in numbers, not a claim about the company: its severity is capped at
    `complaint_max_severity` (low by default).
    """
    signals = RiskSignals(
        negativity=negative_share, complaint=0.0, harm_category="none", harm_confidence=0.0,
        audience=0, recent_mentions=mentions, recent_authors=authors, platforms=len(platforms),
        span_minutes=settings.burst_window / 60, burst_minutes=settings.burst_window / 60,
        volume_score=volume_score, volume_detail=volume_detail,
    )
    risk, factors = score_risk(signals, settings)
    factors = [f for f in factors if f.name not in ("harm", "complaint", "reach")]
    kind = "complaint_surge" if negative_share > 0.5 else "volume_spike"
    severity = severity_for(risk, settings)
    if kind == "complaint_surge" and severity is not None:
        cap = SEVERITIES.index(settings.complaint_max_severity)
        severity = SEVERITIES[min(SEVERITIES.index(severity), cap)]
    return Assessment(
        brand=brand,
        kind=kind,
        key=f"volume:{brand}",
        category="none",
        risk=risk,
        severity=severity,
        factors=factors,
        summary=f"{brand}: {volume_detail}" if volume_detail else f"{brand}: unusual volume",
        mention_ids=mention_ids,
        author_count=authors,
        platforms=sorted(platforms),
        at=now,
    )
