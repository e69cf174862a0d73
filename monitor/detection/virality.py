"""Virality: how fast a claim's engagement grows, and where the current curve leads.

A claim's total for a counter at time t is the sum, over its mentions, of each mention's latest
snapshot at or before t (a mention first seen later adds its whole count then: that is growth
too). Growth per hour compares the newest total with the total one window earlier.

The projection fits the recent totals (at most the last `fit_points` observation times) both
linearly and log-linearly (least squares on log(total)); the log-linear fit is used only with
3+ points, when it fits better, and its hourly growth factor is capped at `max_hourly_factor`,
because early viral curves look exponential and then flatten. It answers one question: when
does the total pass the next round milestone (1k, 10k, ...)? Beyond `horizon` it says nothing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

COUNTERS = ("shares", "likes", "comments", "views")
_SPARK = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True, slots=True)
class EngagementSnapshot:
    """One re-read of one mention's counters (None: the platform does not give it)."""

    mention_id: int
    observed_at: datetime
    likes: int | None = None
    shares: int | None = None
    comments: int | None = None
    views: int | None = None


@dataclass(frozen=True, slots=True)
class Projection:
    """Where a counter is heading on its recent curve."""

    counter: str
    target: int
    eta: datetime
    method: str  # "linear" or "log-linear"
    text: str  # "on this curve, 10k shares by 15:00 UTC"


@dataclass(frozen=True, slots=True)
class Virality:
    """Engagement totals and growth of one claim."""

    totals: dict[str, int]  # newest total per counter the platforms report
    per_hour: dict[str, float]  # growth per hour over the window, per counter
    snapshots: int
    projection: Projection | None

    @property
    def interactions_per_hour(self) -> float:
        """Likes + shares + comments gained per hour (views excluded: they dwarf the rest)."""
        return sum(v for k, v in self.per_hour.items() if k != "views")


def totals_over_time(
    snapshots: Iterable[EngagementSnapshot], counter: str
) -> list[tuple[datetime, int]]:
    """The claim's total of one counter at each observation time, oldest first."""
    latest: dict[int, int] = {}
    series: list[tuple[datetime, int]] = []
    for snap in sorted(snapshots, key=lambda s: (s.observed_at, s.mention_id)):
        value = getattr(snap, counter)
        if value is None:
            continue
        latest[snap.mention_id] = value
        total = sum(latest.values())
        if series and series[-1][0] == snap.observed_at:
            series[-1] = (snap.observed_at, total)
        else:
            series.append((snap.observed_at, total))
    return series


def _value_at(series: Sequence[tuple[datetime, int]], when: datetime) -> int:
    value = 0
    for at, total in series:
        if at > when:
            break
        value = total
    return value


def _fit(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float, float]:
    """Least-squares slope, intercept and residual sum of squares."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx if sxx else 0.0
    intercept = my - slope * mx
    rss = sum((y - (intercept + slope * x)) ** 2 for x, y in zip(xs, ys, strict=True))
    return slope, intercept, rss


def _milestone(value: int) -> int:
    """The next round number above `value`: 1k, 10k, 100k, ..."""
    target = 1000
    while target <= value:
        target *= 10
    return target


def _short(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k"


def project(
    series: Sequence[tuple[datetime, int]],
    counter: str,
    *,
    now: datetime,
    horizon: timedelta = timedelta(hours=12),
    fit_points: int = 6,
    max_hourly_factor: float = 3.0,
) -> Projection | None:
    """When the total passes its next milestone on the recent curve; None without 2 snapshots."""
    recent = list(series)[-fit_points:]
    if len(recent) < 2 or recent[-1][1] <= recent[0][1]:
        return None
    start = recent[0][0]
    hours = [(t - start).total_seconds() / 3600 for t, _ in recent]
    values = [float(v) for _, v in recent]
    if hours[-1] <= 0:
        return None
    current = recent[-1][1]
    target = _milestone(current)
    slope, intercept, rss_linear = _fit(hours, values)
    method = "linear"
    eta_hours = (target - intercept) / slope if slope > 0 else math.inf
    if len(recent) >= 3 and min(values) > 0:
        logs = [math.log(v) for v in values]
        log_slope, log_intercept, _ = _fit(hours, logs)
        if log_slope > math.log(max_hourly_factor):
            # Capped: refit the intercept for the capped rate so the curve still meets the data.
            log_slope = math.log(max_hourly_factor)
            log_intercept = sum(y - log_slope * h for h, y in zip(hours, logs, strict=True)) / len(
                hours
            )
        predicted = [math.exp(log_intercept + log_slope * h) for h in hours]
        rss_log = sum((v - p) ** 2 for v, p in zip(values, predicted, strict=True))
        if log_slope > 0 and rss_log < rss_linear:
            method = "log-linear"
            eta_hours = (math.log(target) - log_intercept) / log_slope
    if not math.isfinite(eta_hours):
        return None
    eta = start + timedelta(hours=eta_hours)
    eta = max(eta, now)
    if eta - now > horizon:
        return None
    noun = counter if counter != "views" else "views"
    return Projection(
        counter=counter, target=target, eta=eta, method=method,
        text=f"on this curve, {_short(target)} {noun} by {eta:%H:%M} UTC ({method} fit)",
    )


def measure(
    snapshots: Sequence[EngagementSnapshot],
    now: datetime,
    *,
    window: timedelta = timedelta(hours=1),
    horizon: timedelta = timedelta(hours=12),
) -> Virality:
    """Totals, growth per hour and a projection (shares first, then likes, views, comments)."""
    totals: dict[str, int] = {}
    per_hour: dict[str, float] = {}
    projection: Projection | None = None
    for counter in COUNTERS:
        series = [(t, v) for t, v in totals_over_time(snapshots, counter) if t <= now]
        if not series:
            continue
        totals[counter] = series[-1][1]
        first_at = series[0][0]
        since = max(now - window, first_at)
        hours = (now - since).total_seconds() / 3600
        per_hour[counter] = (series[-1][1] - _value_at(series, since)) / hours if hours else 0.0
        if projection is None:
            projection = project(series, counter, now=now, horizon=horizon)
    return Virality(
        totals=totals, per_hour=per_hour, snapshots=len(snapshots), projection=projection
    )


def sparkline(values: Sequence[float], width: int = 48) -> str:
    """Values as a row of at most `width` block characters, lowest to highest."""
    if not values:
        return ""
    if len(values) > width > 1:  # evenly spaced samples, first and last kept: fits a terminal
        values = [values[round(i * (len(values) - 1) / (width - 1))] for i in range(width)]
    low, high = min(values), max(values)
    span = high - low
    return "".join(
        _SPARK[int((v - low) / span * (len(_SPARK) - 1)) if span else 0] for v in values
    )


def bucket_counts(
    times: Sequence[datetime], start: datetime, end: datetime, buckets: int = 24
) -> list[tuple[datetime, int]]:
    """How many of `times` fall in each of `buckets` equal slices of [start, end]."""
    width = max((end - start) / buckets, timedelta(seconds=1))
    counts = [0] * buckets
    for when in times:
        index = int((when - start) / width)
        if 0 <= index < buckets:
            counts[index] += 1
        elif index == buckets:
            counts[-1] += 1
    return [(start + i * width, n) for i, n in enumerate(counts)]
