"""Virality: engagement growth of a claim and where its curve leads."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.detection.virality import (
    EngagementSnapshot,
    bucket_counts,
    measure,
    project,
    sparkline,
    totals_over_time,
)
from tests.detection.factory import T0, at


def snap(
    mention_id: int, minutes: float, shares: int | None = None, **kw: int
) -> EngagementSnapshot:
    return EngagementSnapshot(mention_id, at(minutes), shares=shares, **kw)  # type: ignore[arg-type]


def test_totals_carry_each_mentions_latest_count_forward() -> None:
    series = totals_over_time(
        [snap(1, 0, 100), snap(2, 10, 50), snap(1, 20, 300), snap(2, 20, None, likes=4)],
        "shares",
    )
    assert series == [(at(0), 100), (at(10), 150), (at(20), 350)]


def test_no_projection_from_a_single_snapshot() -> None:
    virality = measure([snap(1, 0, 900)], now=at(0))
    assert virality.projection is None
    assert virality.totals == {"shares": 900}
    assert virality.per_hour == {"shares": 0.0}


def test_growth_per_hour_over_the_window() -> None:
    snaps = [snap(1, m, 100 + 10 * m, likes=2 * m) for m in range(0, 121, 20)]
    virality = measure(snaps, now=at(120), window=timedelta(hours=1))
    assert virality.per_hour["shares"] == pytest.approx(600.0)
    assert virality.per_hour["likes"] == pytest.approx(120.0)
    assert virality.interactions_per_hour == pytest.approx(720.0)


def test_linear_curve_projects_the_next_milestone() -> None:
    # +300 shares every 30 minutes from 1,500: 10k is reached after ~14.2 h -> beyond 12 h.
    snaps = [snap(1, 30 * i, 1500 + 300 * i) for i in range(4)]
    assert measure(snaps, now=at(90)).projection is None
    # +1,500 every 30 minutes from 2,000: 10k at 160 min -> 11:40 UTC (T0 is 09:00).
    snaps = [snap(1, 30 * i, 2000 + 1500 * i) for i in range(4)]
    projection = measure(snaps, now=at(90)).projection
    assert projection is not None
    assert (projection.target, projection.method) == (10_000, "linear")
    assert projection.eta == at(160)
    assert projection.text == "on this curve, 10k shares by 11:40 UTC (linear fit)"


def test_exponential_curve_uses_log_linear_fit_with_a_capped_rate() -> None:
    # Doubling every hour from 200: 400, 800, 1600 -> 10k after log2(50) = 5.64 hours.
    snaps = [snap(1, 60 * i, 200 * 2**i) for i in range(4)]
    projection = project(totals_over_time(snaps, "shares"), "shares", now=at(180))
    assert projection is not None and projection.method == "log-linear"
    assert projection.eta == pytest.approx(at(60 * 5.643856), abs=timedelta(seconds=60))
    # The same doubling every 5 minutes is capped at x3 per hour, so the ETA comes later.
    fast = [EngagementSnapshot(1, T0 + timedelta(minutes=5 * i), shares=200 * 2**i)
            for i in range(4)]
    capped = project(totals_over_time(fast, "shares"), "shares", now=at(15))
    assert capped is not None and capped.eta > at(15 + 60)


def test_flat_or_falling_counts_have_no_projection() -> None:
    assert measure([snap(1, 0, 500), snap(1, 30, 500)], now=at(30)).projection is None


def test_sparkline_and_buckets() -> None:
    assert sparkline([0, 1, 2, 7]) == "▁▂▃█"
    assert sparkline([3, 3]) == "▁▁"
    assert sparkline([]) == ""
    counts = bucket_counts([at(1), at(2), at(59), at(60)], at(0), at(60), buckets=4)
    assert [n for _, n in counts] == [2, 0, 0, 2]
