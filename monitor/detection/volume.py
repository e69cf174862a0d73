"""Streaming volume-spike detection over 5-minute mention counts, one detector per brand stream.

The baseline is a multiplicative seasonal model, expected = level x daily(time of day) x
weekly(day of week), learned online from counts that are first clipped to the model's own
predictive range, so a spike moves the baseline only as much as a plausible count would. The
surprise of the newest bucket (and of the last 15 minutes and hour, to catch slower climbs) is a
negative-binomial upper-tail probability whose overdispersion is learned per window length;
sparse brands fall back to Poisson. Only the past is used for every score.

The score stays high for every bucket of a burst; the onset score is high only where one starts
and 0 while it lasts, so a threshold on it fires once per burst, as the alert does. A stream
that has had more bursts at the alert level than its budget over the past week needs a burst
bigger than those to alert again.
"""

from __future__ import annotations

import csv
import logging
import math
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

BUCKET = timedelta(minutes=5)
BUCKETS_PER_DAY = 288
STATE_VERSION = 3
# Version 2 lacked the burst history; it is read as a stream with no bursts yet.
_READABLE_VERSIONS = (2, 3)
_EPS = 1e-12
_HIST_STEP, _HIST_BINS = 2.0, 200  # burst peaks: half steps of surprise up to 100, then overflow


@dataclass(frozen=True, slots=True)
class VolumeSettings:
    """Tuning of the volume-spike detector; the defaults are what the daemon uses."""

    # An alert needs p < 10**-alert_surprise after a Bonferroni correction over the window lengths.
    alert_surprise: float = 5.0
    # Window lengths in 5-minute buckets: 5 min, 15 min, 1 h.
    scales: tuple[int, ...] = (1, 3, 12)
    # After a bucket crosses the alert level, the next alert waits for this many quiet buckets.
    cooldown_buckets: int = 72
    # No alerts before one day of history: the daily rhythm is unknown until then.
    warmup_buckets: int = BUCKETS_PER_DAY
    # A sparse brand's three posts at 3 a.m. are unlikely, but nobody should be paged for them.
    min_excess: float = 4.0
    # Memories, in buckets, of the exponentially weighted estimates.
    level_memory: float = 3 * BUCKETS_PER_DAY
    daily_memory: float = 14 * BUCKETS_PER_DAY
    weekly_memory: float = 28 * BUCKETS_PER_DAY
    dispersion_memory: float = 7 * BUCKETS_PER_DAY
    # Counts beyond expected +- clip_sd standard deviations update the model as the bound itself.
    clip_sd: float = 3.0
    # Memory, in buckets, of how often and how far bursts go past that bound.
    tail_memory: float = 28 * BUCKETS_PER_DAY
    # Longer windows for sustained rises (3 h, 6 h): a brand whose mentions double for hours is
    # a story even when no 5-minute bucket is shocking. They get `sustained_share` of the
    # false-alarm budget, the short windows the rest, so sharp spikes are not delayed.
    sustained_scales: tuple[int, ...] = ()
    sustained_share: float = 0.1
    # A bursty stream needs more: when more than `burst_budget` bursts reached the alert level
    # over the past `burst_memory` buckets (decayed), the level rises to what only that many
    # reached, so a brand that bursts daily pages for its biggest bursts (None: fixed level).
    burst_budget: float | None = 2.0
    burst_memory: float = 7 * BUCKETS_PER_DAY


@dataclass(frozen=True, slots=True)
class VolumeReading:
    """The detector's verdict on one bucket."""

    score: float  # in [0, 1]; 0.5 is the alert level; stays high for every bucket of a burst
    alert: bool  # a new spike the daemon should open an incident for
    expected: float  # mentions expected in this bucket from the brand's rhythm
    observed: int
    detail: str  # e.g. "142 mentions in 5 min, ~12 expected at this hour (p<1e-06)"
    p_value: float = 1.0  # Bonferroni-corrected tail probability of the most surprising window
    # The score where a burst starts and 0 while it lasts, so a threshold on it fires once per
    # burst as the alert does: the anomaly score of `detect_csv` and of NAB-style benchmarks.
    onset_score: float = 0.0


def _log_betacf(a: float, b: float, x: float) -> float:
    """Log of the continued fraction for the incomplete beta function (Lentz's method)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 100_000):
        m2 = 2 * m
        for aa in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + aa * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + aa / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-10:
            break
    return math.log(h)


def _log_betainc(a: float, b: float, x: float) -> float:
    """Natural log of the regularised incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return -math.inf
    if x >= 1.0:
        return 0.0
    front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    front += a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return front + _log_betacf(a, b, x) - math.log(a)
    rest = math.exp(front + _log_betacf(b, a, 1.0 - x) - math.log(b))
    return math.log1p(-min(rest, 1.0 - _EPS))


def _log_gammainc(a: float, x: float) -> float:
    """Natural log of the regularised lower incomplete gamma function P(a, x)."""
    if x <= 0.0:
        return -math.inf
    front = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1.0:
        term = total = 1.0 / a
        ap = a
        while abs(term) > abs(total) * 1e-12:
            ap += 1.0
            term *= x / ap
            total += term
        return front + math.log(total)
    # Upper tail Q by continued fraction, then P = 1 - Q.
    tiny = 1e-300
    b = x + 1.0 - a
    c, d = 1.0 / tiny, 1.0 / b
    h = d
    for i in range(1, 100_000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = b + an / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        if abs(d * c - 1.0) < 1e-12:
            break
    return math.log1p(-min(math.exp(front) * h, 1.0 - _EPS))


def log_tail(observed: float, mean: float, dispersion: float) -> float:
    """Natural log of P(X >= observed) for a negative binomial with variance mean + disp*mean^2."""
    if observed <= 0:
        return 0.0
    if dispersion * mean < 1e-4:  # overdispersion negligible: Poisson
        return _log_gammainc(float(observed), mean)
    z = dispersion * mean / (1.0 + dispersion * mean)
    return _log_betainc(float(observed), 1.0 / dispersion, z)


def _knots(position: float, n: int) -> tuple[int, int, float]:
    """Neighbouring knots of a periodic, linearly interpolated profile and the right weight."""
    left = math.floor(position) % n
    frac = position - math.floor(position)
    return left, (left + 1) % n, frac


def _describe_p(p: float) -> str:
    if p < 0.001:
        return f"p<{10 ** math.floor(math.log10(max(p, 1e-300)) + 1):.0e}"
    return f"p={p:.3f}"


class _Window:
    """What one window length has learned: the bulk's overdispersion and the tail beyond it."""

    # Priors: wide dispersion until data say otherwise; few, light-tailed bursts until seen.
    PRIOR_DISPERSION, PRIOR_EXCEED, PRIOR_INDEX, PRIOR_WEIGHT = 1.0, 0.003, 8.0, 10.0

    __slots__ = ("spread", "size", "seen", "exceed", "bulk_exceed", "tail_n", "tail_log", "run")

    def __init__(self, values: list[float] | None = None) -> None:
        # spread/size: EWMAs of the clipped (sum - expected)^2 - expected and of expected^2;
        # exceed: share of windows where a run past the clip bound starts, bulk_exceed: the
        # share the negative binomial alone predicts; tail_n/tail_log: decayed count and summed
        # log peak excess of finished runs, a Hill estimate of the burst tail's index; run: the
        # log peak excess of the run under way, -1 outside one. Counting runs, not windows,
        # keeps one long burst from teaching the detector that bursts are common.
        values = values or [self.PRIOR_DISPERSION, 1.0, 0.0, self.PRIOR_EXCEED, 0.0, 0, 0, -1]
        (
            self.spread,
            self.size,
            self.seen,
            self.exceed,
            self.bulk_exceed,
            self.tail_n,
            self.tail_log,
            self.run,
        ) = values

    def values(self) -> list[float]:
        """The fields in constructor order, for saving."""
        return [
            self.spread,
            self.size,
            self.seen,
            self.exceed,
            self.bulk_exceed,
            self.tail_n,
            self.tail_log,
            self.run,
        ]

    def dispersion(self) -> float:
        """Negative-binomial overdispersion of the bulk: variance = mean + dispersion * mean^2."""
        if self.size < 1e-12:
            return self.PRIOR_DISPERSION
        return max(self.spread / self.size, 1e-6)

    def bound(self, mean: float, clip_sd: float) -> float:
        """Upper edge of ordinary counts; two extra mentions keep sparse brands' 2s ordinary."""
        return mean + clip_sd * math.sqrt(mean + self.dispersion() * mean * mean) + 2.0

    def log_p(self, total: int, mean: float, clip_sd: float) -> float:
        """Natural log of the chance of at least `total` mentions where `mean` are expected."""
        log_p = log_tail(total, mean, self.dispersion())
        bound = self.bound(mean, clip_sd)
        burst_share = self.exceed - self.bulk_exceed
        if total > bound and burst_share > 1e-9:
            # Windows past the bound that the negative binomial does not explain are bursts,
            # whose sizes follow a power law: p = P_nb + share * (ratio past the bound)^-index.
            index = (self.tail_n + self.PRIOR_WEIGHT) / (
                self.tail_log + self.PRIOR_WEIGHT / self.PRIOR_INDEX
            )
            excess = math.log((total + 1.0) / (bound + 1.0))
            log_burst = math.log(burst_share) - index * excess
            high, low = max(log_p, log_burst), min(log_p, log_burst)
            log_p = min(0.0, high + math.log1p(math.exp(low - high)))
        return log_p

    def learn(self, total: int, mean: float, settings: VolumeSettings, tail_seen: int) -> None:
        """Fold in one window; sums past the bound count toward the tail, not the bulk."""
        bound = self.bound(mean, settings.clip_sd)
        past = total > bound
        resid = min(max(total - mean, mean - bound), bound - mean)
        self.seen += 1.0
        if self.seen == 1.0:
            self.spread, self.size = self.PRIOR_DISPERSION * mean * mean, mean * mean
        rate = max(1.0 / settings.dispersion_memory, 1.0 / (self.seen + 1.0))
        self.spread += rate * (resid * resid - mean - self.spread)
        self.size += rate * (mean * mean - self.size)
        if tail_seen <= 0:  # in warm-up, misses are the baseline's, not bursts
            return
        tail_memory = settings.tail_memory
        tail_rate = max(1.0 / tail_memory, 1.0 / (tail_seen + 100.0))
        self.exceed += tail_rate * (float(past and self.run < 0) - self.exceed)
        bulk = math.exp(log_tail(math.floor(bound) + 1, mean, self.dispersion()))
        self.bulk_exceed += tail_rate * (bulk - self.bulk_exceed)
        decay = 1.0 - 1.0 / tail_memory
        self.tail_n *= decay
        self.tail_log *= decay
        if past:
            self.run = max(self.run, math.log((total + 1.0) / (bound + 1.0)))
        elif self.run >= 0:
            self.tail_n += 1.0
            self.tail_log += self.run
            self.run = -1.0


class VolumeDetector:
    """Scores each 5-minute count of one brand stream against its learned daily, weekly rhythm."""

    def __init__(self, settings: VolumeSettings | None = None) -> None:
        self.settings = settings or VolumeSettings()
        s = self.settings
        if not s.scales or min(s.scales) < 1:
            raise ValueError(f"volume scales must be positive bucket counts, got {s.scales}")
        if s.sustained_scales and (
            min(s.sustained_scales) < 1 or not 0.0 < s.sustained_share < 1.0
        ):
            raise ValueError(
                "volume sustained_scales must be positive bucket counts and sustained_share "
                f"in (0, 1), got {s.sustained_scales} and {s.sustained_share}"
            )
        self._all_scales = tuple(s.scales) + tuple(
            k for k in s.sustained_scales if k not in s.scales
        )
        self._span = max(self._all_scales)
        self._restart_gap = BUCKET * max(s.scales)
        # Bonferroni penalties (log10) of each family of windows, weighted by its share.
        if self._all_scales != tuple(s.scales):
            self._penalty = {
                k: math.log10(len(s.scales) / (1 - s.sustained_share)) for k in s.scales
            }
            long = self._all_scales[len(s.scales) :]
            self._penalty |= {k: math.log10(len(long) / s.sustained_share) for k in long}
        else:
            self._penalty = {k: math.log10(len(s.scales)) for k in s.scales}
        # Peak surprise of the burst under way (0: none) and a decayed histogram of past peaks
        # (bin -> weight, decayed to bucket `_peaks_at`), for the adaptive alert level.
        self._peak = 0.0
        self._peaks: dict[int, float] = {}
        self._peaks_at = 0
        self._level: float | None = None
        self._daily = [1.0] * 24
        self._daily_weight = [0.0] * 24
        self._weekly = [1.0] * 7
        self._seen = 0
        self._windows: dict[int, _Window] = {}
        self._counts: deque[int] = deque(maxlen=self._span)
        self._means: deque[float] = deque(maxlen=self._span)
        # Surprise of the recent buckets that could alert (after warm-up, enough excess).
        self._recent: deque[float] = deque(maxlen=max(1, s.cooldown_buckets))
        self._last: datetime | None = None

    # -- the baseline ------------------------------------------------------------------------

    @staticmethod
    def _positions(bucket: datetime) -> tuple[float, float]:
        """Hour of day and day of week (Monday noon = 0) at the bucket's centre, in UTC."""
        centre = bucket + BUCKET / 2
        hours = centre.hour + centre.minute / 60.0 + centre.second / 3600.0
        return hours, centre.weekday() + hours / 24.0 - 0.5

    def _seasonal(self, hours: float, day: float) -> float:
        d0, d1, fd = _knots(hours, 24)
        w0, w1, fw = _knots(day, 7)
        daily = (1 - fd) * self._daily[d0] + fd * self._daily[d1]
        weekly = (1 - fw) * self._weekly[w0] + fw * self._weekly[w1]
        return max(daily, 0.02) * max(weekly, 0.1)

    def expected_at(self, bucket: datetime) -> float:
        """Mentions the baseline expects in the bucket starting at `bucket`."""
        if self._level is None:
            return 0.0
        return max(self._level * self._seasonal(*self._positions(_utc(bucket))), 1e-3)

    def _learn(self, bucket: datetime, count: int, mean: float) -> None:
        s = self.settings
        hours, day = self._positions(bucket)
        self._seen += 1
        if self._level is None:
            self._level = max(float(count), 0.1)
            return
        window = self._windows.get(1) or _Window()
        sd = math.sqrt(mean + window.dispersion() * mean * mean)
        clipped = min(max(float(count), mean - s.clip_sd * sd), window.bound(mean, s.clip_sd))
        seasonal = self._seasonal(hours, day)
        ratio = clipped / max(self._level * seasonal, 1e-3)  # observed / expected, robustly
        self._level += max(1.0 / s.level_memory, 1.0 / self._seen) * (ratio - 1.0) * self._level
        # Each profile knot moves toward the ratio in proportion to its interpolation weight.
        d0, d1, fd = _knots(hours, 24)
        daily_now = (1 - fd) * self._daily[d0] + fd * self._daily[d1]
        for knot, weight in ((d0, 1 - fd), (d1, fd)):
            self._daily_weight[knot] += weight
            rate = weight * max(24.0 / s.daily_memory, 1.0 / max(self._daily_weight[knot], 1.0))
            self._daily[knot] += rate * daily_now * (ratio - 1.0)
        w0, w1, fw = _knots(day, 7)
        weekly_now = (1 - fw) * self._weekly[w0] + fw * self._weekly[w1]
        for knot, weight in ((w0, 1 - fw), (w1, fw)):
            self._weekly[knot] += weight * 7.0 / s.weekly_memory * weekly_now * (ratio - 1.0)
        # Keep the profiles averaging 1 so the level alone carries the brand's volume.
        for profile in (self._daily, self._weekly):
            mean_factor = sum(profile) / len(profile)
            for i, value in enumerate(profile):
                profile[i] = max(value / mean_factor, 0.01)
            self._level *= mean_factor

    def _learn_windows(self) -> None:
        s = self.settings
        for scale in self._all_scales:
            if len(self._counts) >= scale:
                window = self._windows.setdefault(scale, _Window())
                window.learn(*self._sums(scale), s, self._seen - s.warmup_buckets)

    def _sums(self, scale: int) -> tuple[int, float]:
        """Mentions observed and expected over the last `scale` buckets."""
        counts, means = list(self._counts)[-scale:], list(self._means)[-scale:]
        return sum(counts), sum(means)

    # -- scoring ---------------------------------------------------------------------------

    def update(self, bucket_start: datetime, count: int) -> VolumeReading:
        """Score the count of the bucket starting at `bucket_start`, then learn from it."""
        s = self.settings
        bucket = _utc(bucket_start)
        if count < 0:
            raise ValueError(f"mention count must not be negative, got {count} at {bucket}")
        if self._last is not None:
            if bucket <= self._last:
                raise ValueError(
                    f"volume buckets must arrive in time order: {bucket.isoformat()} came after "
                    f"{self._last.isoformat()}"
                )
            if bucket - self._last > self._restart_gap:
                # Windows must not join counts across a long outage; the baseline is kept.
                self._counts.clear()
                self._means.clear()
        self._last = bucket
        mean = self.expected_at(bucket)
        self._counts.append(count)
        self._means.append(mean)
        surprise, best = 0.0, (count, mean, 1)
        if self._level is not None:
            counts, means = list(self._counts), list(self._means)
            for scale in self._all_scales:
                if len(counts) < scale:
                    continue
                total, window_mean = sum(counts[-scale:]), sum(means[-scale:])
                if total <= window_mean:
                    continue
                window = self._windows.get(scale) or _Window()
                log_p = window.log_p(total, window_mean, s.clip_sd)
                corrected = -log_p / math.log(10) - self._penalty[scale]
                if corrected > surprise:
                    surprise, best = corrected, (total, window_mean, scale)
        total, window_mean, scale = best
        # Buckets in warm-up or a few mentions over a tiny expectation cannot start a spike.
        eligible = total - window_mean >= s.min_excess and self._seen >= s.warmup_buckets
        level = self.alert_level
        onset = self._onset(surprise if eligible else 0.0, level)
        onset_score = onset / (onset + level)
        score = surprise / (surprise + s.alert_surprise)
        alert = onset >= level
        self._recent.append(surprise if eligible else 0.0)
        self._track_bursts(surprise if eligible else 0.0)
        self._learn(bucket, count, mean)
        self._learn_windows()
        p_value = 10.0**-surprise
        detail = (
            f"{total} mentions in {scale * 5} min, ~{window_mean:.3g} expected at this hour "
            f"({_describe_p(p_value)})"
        )
        if alert:
            log.info("volume spike: %s", detail)
        return VolumeReading(score, alert, mean, count, detail, p_value, onset_score)

    def _onset(self, surprise: float, level: float) -> float:
        """The surprise if this bucket starts something new, else 0.

        A bucket stands for itself unless a bucket in the cooldown reached the alert level or
        this bucket's own surprise: a burst is reported where it starts, not at every bucket
        it lasts, so any threshold on the score fires once per burst, as the alert does.
        """
        recent = max(self._recent, default=0.0)
        return surprise if recent < min(surprise, level) else 0.0

    def _track_bursts(self, surprise: float) -> None:
        """Follow bursts at the fixed alert level; a finished one adds its peak to the history.

        A burst lasts while buckets at the alert level come less than a cooldown apart, as for
        the alert, so each burst counts once however long it is.
        """
        s = self.settings
        if s.burst_budget is None:
            return
        if surprise >= s.alert_surprise:
            self._peak = max(self._peak, surprise)
        elif self._peak > 0.0 and max(self._recent) < s.alert_surprise:
            self._decay_peaks()
            slot = min(int(self._peak * _HIST_STEP), _HIST_BINS)
            self._peaks[slot] = self._peaks.get(slot, 0.0) + 1.0
            self._peak = 0.0

    def _decay_peaks(self) -> None:
        factor = (1.0 - 1.0 / self.settings.burst_memory) ** (self._seen - self._peaks_at)
        self._peaks = {k: v * factor for k, v in self._peaks.items() if v * factor > 1e-3}
        self._peaks_at = self._seen

    @property
    def alert_level(self) -> float:
        """The surprise an alert needs now: `alert_surprise`, raised for a bursty stream."""
        s = self.settings
        if s.burst_budget is None or not self._peaks:
            return s.alert_surprise
        factor = (1.0 - 1.0 / s.burst_memory) ** (self._seen - self._peaks_at)
        above = 0.0
        for slot in sorted(self._peaks, reverse=True):
            above += self._peaks[slot] * factor
            if above > s.burst_budget:
                # More recent bursts than the budget reached this bin: the level is above it.
                return max(s.alert_surprise, (slot + 1) / _HIST_STEP)
        return s.alert_surprise

    @property
    def ready(self) -> bool:
        """Whether the warm-up is over (before it, scores are not evidence of anything)."""
        return self._seen >= self.settings.warmup_buckets

    # -- persistence -------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """JSON-serialisable state (a few hundred numbers) for `from_state` after a restart."""
        return {
            "version": STATE_VERSION,
            "level": self._level,
            "daily": list(self._daily),
            "daily_weight": list(self._daily_weight),
            "weekly": list(self._weekly),
            "seen": self._seen,
            "windows": {str(k): v.values() for k, v in self._windows.items()},
            "counts": list(self._counts),
            "means": list(self._means),
            "recent": list(self._recent),
            "burst_peak": self._peak,
            "burst_peaks": {str(k): v for k, v in self._peaks.items()},
            "burst_peaks_at": self._peaks_at,
            "last": self._last.isoformat() if self._last else None,
        }

    @classmethod
    def from_state(
        cls, state: dict[str, Any], settings: VolumeSettings | None = None
    ) -> VolumeDetector:
        """Rebuild a detector saved by `state()`; window lengths missing from it start fresh."""
        if state.get("version") not in _READABLE_VERSIONS:
            raise ValueError(
                f"volume detector state version {state.get('version')!r} is not one of "
                f"{_READABLE_VERSIONS}; the saved baseline cannot be used, start a fresh detector"
            )
        detector = cls(settings)
        level = state["level"]
        detector._level = None if level is None else float(level)
        detector._daily = [float(v) for v in state["daily"]]
        detector._daily_weight = [float(v) for v in state["daily_weight"]]
        detector._weekly = [float(v) for v in state["weekly"]]
        detector._seen = int(state["seen"])
        detector._windows = {
            int(k): _Window([float(x) for x in v])
            for k, v in state["windows"].items()
            if int(k) in detector._all_scales
        }
        detector._counts.extend(int(v) for v in state["counts"])
        detector._means.extend(float(v) for v in state["means"])
        detector._recent.extend(float(v) for v in state["recent"])
        detector._peak = float(state.get("burst_peak", 0.0))
        detector._peaks = {int(k): float(v) for k, v in state.get("burst_peaks", {}).items()}
        detector._peaks_at = int(state.get("burst_peaks_at", detector._seen))
        detector._last = datetime.fromisoformat(state["last"]) if state["last"] else None
        return detector


def _utc(when: datetime) -> datetime:
    """Aware UTC datetime; naive input is taken to be UTC already."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def detect_csv(
    input_path: str | Path, output_path: str | Path, settings: VolumeSettings | None = None
) -> int:
    """Run the detector over `timestamp,value` rows; write `timestamp,value,anomaly_score,alert`.

    The anomaly score is the onset score, as NAB-style scorers expect: high where a spike starts.
    """
    detector = VolumeDetector(settings)
    rows = 0
    with (
        open(input_path, newline="", encoding="utf-8") as source,
        open(output_path, "w", newline="", encoding="utf-8") as sink,
    ):
        reader = csv.DictReader(source)
        missing = {"timestamp", "value"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(
                f"{input_path}: the header must name timestamp and value columns; "
                f"missing {', '.join(sorted(missing))}"
            )
        writer = csv.writer(sink)
        writer.writerow(["timestamp", "value", "anomaly_score", "alert"])
        for line, row in enumerate(reader, start=2):
            try:
                when = datetime.fromisoformat(row["timestamp"].strip())
                value = float(row["value"])
                if not value.is_integer() or value < 0:
                    raise ValueError(f"value {row['value']!r} is not a mention count")
                reading = detector.update(when, int(value))
            except (ValueError, AttributeError) as exc:
                raise ValueError(f"{input_path} line {line}: {exc}; fix or remove the row") from exc
            writer.writerow(
                [row["timestamp"], int(value), f"{reading.onset_score:.6f}", int(reading.alert)]
            )
            rows += 1
    return rows
