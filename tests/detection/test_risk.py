"""Risk and severity: what becomes an incident and how loud it is."""

from __future__ import annotations

import pydantic
import pytest

from monitor.detection.claims import ClaimIndex
from monitor.detection.risk import (
    RiskSignals,
    assess_claim,
    assess_volume,
    score_risk,
    severity_for,
)
from monitor.detection.settings import DetectionConfig
from monitor.records import SEVERITIES
from tests.detection.factory import at, claim_vector, mention, score

SETTINGS = DetectionConfig()
SICK = "Acme cola gave my whole family food poisoning, do not drink it"


def rank(severity: str | None) -> int:
    return -1 if severity is None else SEVERITIES.index(severity)


def test_single_angry_post_from_small_account_is_not_an_incident() -> None:
    index = ClaimIndex()
    [cluster] = index.add(
        [(mention(1, SICK, reach=40), score(harm="health_safety", harm_confidence=0.9), None)],
        now=at(0),
    )
    verdict = assess_claim(cluster, at(0), SETTINGS)
    assert verdict.severity is None
    assert verdict.risk < SETTINGS.severity.info


def test_same_claim_from_30_accounts_on_three_platforms_in_an_hour_is_high_or_critical() -> None:
    platforms = ("mastodon", "bluesky", "reddit")
    batch = [
        (mention(n, SICK + f" ({n})", minutes=52 * (n - 1) / 29, platform=platforms[n % 3],
                 reach=250 + 10 * n),
         score(harm="health_safety", harm_confidence=0.85), claim_vector(0, n))
        for n in range(1, 31)
    ]
    index = ClaimIndex()
    [cluster] = index.add(batch, now=at(52))
    verdict = assess_claim(cluster, at(52), SETTINGS)
    assert verdict.severity in ("high", "critical")
    assert verdict.kind == "viral_claim" and verdict.category == "health_safety"
    assert verdict.author_count == 30 and verdict.platforms == ["bluesky", "mastodon", "reddit"]
    spread = next(f for f in verdict.factors if f.name == "spread")
    assert spread.detail == "30 authors on 3 platforms in 52 min"
    assert verdict.mention_ids == list(range(1, 31))


def test_the_claim_turns_high_while_still_growing() -> None:
    # A claim that keeps growing for two hours: severity must reach high in the first hour.
    index = ClaimIndex()
    first_high = None
    for n in range(1, 121):
        minutes = float(n)
        [cluster] = index.add(
            [(mention(n, SICK + f" #{n}", minutes=minutes, platform=("x", "reddit")[n % 2]),
              score(harm="health_safety", harm_confidence=0.8), claim_vector(0, n))],
            now=at(minutes),
        )
        verdict = assess_claim(cluster, at(minutes), SETTINGS)
        if first_high is None and rank(verdict.severity) >= rank("high"):
            first_high = minutes
    assert first_high is not None and first_high <= 30


def test_product_launch_spike_of_positive_posts_is_at_most_info() -> None:
    # Positive posts never form claim clusters; the volume anomaly alone rates at most info.
    index = ClaimIndex()
    changed = index.add(
        [(mention(n, f"Loving the new Acme launch {n}", minutes=n / 10, reach=5000),
          score("positive", complaint=0.02), claim_vector(1, n)) for n in range(1, 300)],
        now=at(30),
    )
    assert changed == []
    verdict = assess_volume(
        "acme", volume_score=1.0, volume_detail="299 mentions in 30 min, ~8 expected",
        negative_share=0.04, mentions=299, mention_ids=list(range(1, 300)), authors=299,
        platforms=["x", "reddit", "mastodon"], now=at(30), settings=SETTINGS,
    )
    assert rank(verdict.severity) <= rank("info")
    assert verdict.kind == "volume_spike"


def test_negative_volume_spike_is_a_complaint_surge_incident() -> None:
    verdict = assess_volume(
        "acme", volume_score=0.9, volume_detail="180 mentions in 15 min, ~10 expected",
        negative_share=0.8, mentions=180, mention_ids=[1, 2], authors=150,
        platforms=["x", "reddit"],
        now=at(0), settings=SETTINGS,
    )
    assert verdict.kind == "complaint_surge" and verdict.key == "volume:acme"
    # Customers unhappy in numbers: capped at low unless the operator raises the cap.
    assert verdict.severity == "low" and verdict.risk >= SETTINGS.severity.medium
    raised = DetectionConfig(complaint_max_severity="high")
    again = assess_volume(
        "acme", volume_score=0.9, volume_detail="180 mentions in 15 min, ~10 expected",
        negative_share=0.8, mentions=180, mention_ids=[1, 2], authors=150,
        platforms=["x", "reddit"], now=at(0), settings=raised,
    )
    assert rank(again.severity) >= rank("medium")


def test_routine_complaints_are_no_claim_at_all() -> None:
    # Late-delivery complaints every ten minutes, each from someone new: a complaint matter
    # (volume decides), never a claim incident.
    index = ClaimIndex(DetectionConfig(claim_window="6h"))
    for n in range(1, 25):
        minutes = 10.0 * n
        changed = index.add(
            [(mention(n, "My Acme order is late again, support is slow " + f"#{n}",
                      minutes=minutes, reach=300),
              score(complaint=0.9, p_negative=0.8), claim_vector(2, n))],
            now=at(minutes),
        )
        assert changed == []
    assert len(index) == 0


@pytest.mark.parametrize(
    ("risk", "expected"),
    [(0.0, None), (0.19, None), (0.2, "info"), (0.34, "info"), (0.35, "low"),
     (0.5, "medium"), (0.649, "medium"), (0.65, "high"), (0.8, "critical"), (1.0, "critical")],
)
def test_severity_thresholds(risk: float, expected: str | None) -> None:
    assert severity_for(risk, SETTINGS) == expected


def test_custom_thresholds_change_severity() -> None:
    settings = DetectionConfig.model_validate(
        {"severity": {"info": 0.1, "low": 0.2, "medium": 0.3, "high": 0.4, "critical": 0.5}}
    )
    assert severity_for(0.45, settings) == "high"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"severity": {"high": 0.9}}, "must rise strictly"),
        ({"severity": {"urgent": 0.9}}, "urgent"),
        ({"claim_similarity": 1.5}, "claim_similarity"),
        ({"reach_floor": 2000, "reach_saturation": 1000}, "reach_saturation"),
        ({"quiet_period": "soon"}, "duration"),
        ({"group_whait": "1m"}, "group_whait"),
    ],
)
def test_detection_config_rejects_bad_values(table: dict[str, object], message: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=message):
        DetectionConfig.model_validate(table)


def test_durations_accept_human_units() -> None:
    settings = DetectionConfig.model_validate({"quiet_period": "2h", "burst_window": "30m"})
    assert (settings.quiet_period, settings.burst_window) == (7200.0, 1800.0)


@pytest.mark.parametrize(
    ("field", "low", "high"),
    [
        ("harm_confidence", 0.1, 0.9),
        ("negativity", 0.1, 0.9),
        ("recent_authors", 2, 25),
        ("audience", 100, 500_000),
        ("recent_mentions", 1, 40),
        ("volume_score", 0.0, 0.9),
    ],
)
def test_each_factor_raises_risk(field: str, low: float, high: float) -> None:
    base = {
        "negativity": 0.6, "complaint": 0.3, "harm_category": "fraud_scam",
        "harm_confidence": 0.5, "audience": 2000, "recent_mentions": 5, "recent_authors": 5,
        "platforms": 1, "span_minutes": 30.0, "burst_minutes": 60.0,
    }
    lower, _ = score_risk(RiskSignals(**{**base, field: low}), SETTINGS)  # type: ignore[arg-type]
    higher, factors = score_risk(RiskSignals(**{**base, field: high}), SETTINGS)  # type: ignore[arg-type]
    assert 0.0 <= lower < higher <= 1.0
    assert {f.name for f in factors} == {
        "harm", "negativity", "complaint", "spread", "velocity", "reach", "volume"
    }
