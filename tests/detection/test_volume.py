"""Volume-spike detector on series generated here: rhythms, bursts, sparse brands, restarts."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from monitor.detection.volume import (
    BUCKETS_PER_DAY,
    VolumeDetector,
    VolumeReading,
    VolumeSettings,
    detect_csv,
    log_tail,
)

MONDAY = datetime(2024, 1, 1, tzinfo=UTC)


def bucket(i: int) -> datetime:
    return MONDAY + timedelta(minutes=5 * i)


def rhythm(days: int, base: float, weekend: float = 1.0) -> np.ndarray:
    """Expected mentions per bucket: a daily swing peaking mid-afternoon, a weekend factor."""
    t = np.arange(days * BUCKETS_PER_DAY)
    hours = (t % BUCKETS_PER_DAY) / 12.0
    rate = base * (1 + 0.6 * np.sin(2 * np.pi * (hours - 9) / 24))
    weekday = (t // BUCKETS_PER_DAY) % 7
    return np.asarray(rate * np.where(weekday >= 5, weekend, 1.0))


def feed(
    counts: np.ndarray, detector: VolumeDetector | None = None, start: int = 0
) -> list[VolumeReading]:
    detector = detector or VolumeDetector()
    return [detector.update(bucket(start + i), int(c)) for i, c in enumerate(counts)]


def alerts(readings: list[VolumeReading], start: int = 0) -> list[int]:
    return [start + i for i, r in enumerate(readings) if r.alert]


def test_spikes_on_a_daily_rhythm_alert_once_each_and_nothing_else() -> None:
    rng = np.random.default_rng(1)
    rate = rhythm(10, 20)
    counts = rng.poisson(rate)
    spikes = [1500, 2100, 2600]  # day 5 morning, day 7 evening, day 9 morning
    for s in spikes:
        counts[s : s + 6] += rng.poisson(rate[s : s + 6] * 4)
    readings = feed(counts)
    assert alerts(readings) == spikes
    assert all(0.0 <= r.score <= 1.0 for r in readings)
    assert readings[spikes[0]].score >= 0.5
    assert alerts(readings) == [i for i, r in enumerate(readings) if r.onset_score >= 0.5]
    spiky = {i for s in spikes for i in range(s - 30, s + 30)}
    away = [r.score for i, r in enumerate(readings) if i > 400 and i not in spiky]
    assert max(away) < 0.5


def test_onset_score_is_high_where_a_burst_starts_and_score_while_it_lasts() -> None:
    rng = np.random.default_rng(8)
    rate = rhythm(8, 20)
    counts = rng.poisson(rate)
    counts[1500:1572] = rng.poisson(rate[1500:1572] * 8)  # six hours at eight times normal
    readings = feed(counts)
    assert alerts(readings) == [1500]
    assert readings[1500].onset_score >= 0.5
    # Every bucket of the burst is as surprising as its first, but only the first is news.
    assert min(r.score for r in readings[1500:1572]) >= 0.5
    assert max(r.onset_score for r in readings[1501:1572]) < 0.1
    # Whatever threshold reads the score, it fires once for the burst and its cooldown,
    # so a benchmark or a dashboard sees one event where the alert sees one.
    after = range(1490, 1572 + 72)
    for threshold in (0.2, 0.5, 0.8):
        assert [i for i in after if readings[i].onset_score >= threshold] == [1500], threshold
    # The onset score and the alert agree everywhere: the alert level is 0.5 on it.
    assert alerts(readings) == [i for i, r in enumerate(readings) if r.onset_score >= 0.5]


def test_sparse_brand_alerts_on_a_burst_but_not_on_its_usual_zero_to_two() -> None:
    rng = np.random.default_rng(2)
    counts = rng.poisson(0.2, size=7 * BUCKETS_PER_DAY)
    assert counts.max() <= 3
    counts[1500] += 8
    counts[1501] += 7
    readings = feed(counts)
    assert alerts(readings) == [1500]
    assert "mentions in" in readings[1500].detail
    assert readings[1500].expected < 1.0
    # A lone 2 on a brand that averages 0.2 is not news.
    twos = [r.score for i, r in enumerate(readings[400:1400], 400) if counts[i] == 2]
    assert twos and max(twos) < 0.5


def test_a_learned_weekly_pattern_does_not_alert() -> None:
    rng = np.random.default_rng(3)
    for weekend in (0.3, 3.0):
        counts = rng.poisson(rhythm(35, 20, weekend=weekend))
        readings = feed(counts)
        # The first weekend may surprise; once the weekly rhythm is learned, it never alerts.
        assert [i for i in alerts(readings) if i >= 14 * BUCKETS_PER_DAY] == [], weekend
        assert max(r.score for r in readings[21 * BUCKETS_PER_DAY :]) < 0.5, weekend


def test_a_long_spike_alerts_once_and_does_not_poison_the_baseline() -> None:
    rng = np.random.default_rng(4)
    rate = rhythm(8, 20)
    counts = rng.poisson(rate)
    counts[1500:1572] = rng.poisson(rate[1500:1572] * 8)  # six hours at eight times normal
    counts[1900:1906] = rng.poisson(rate[1900:1906] * 5)  # a second, shorter spike a day later
    readings = feed(counts)
    assert alerts(readings) == [1500, 1900]
    # Two hours after the spike the expectation is back within 20% of the true rate.
    later = 1572 + 24
    assert readings[later].expected == pytest.approx(rate[later], rel=0.2)


def test_restored_state_gives_identical_scores() -> None:
    rng = np.random.default_rng(5)
    rate = rhythm(6, 12)
    counts = rng.poisson(rate)
    counts[1200:1203] += 60
    counts[1600:1605] += 80
    original = VolumeDetector()
    feed(counts[:1000], original)
    saved = json.dumps(original.state())
    assert len(saved) < 10_000  # bounded: a few hundred numbers whatever the history
    restored = VolumeDetector.from_state(json.loads(saved))
    after_original = feed(counts[1000:], original, start=1000)
    after_restore = feed(counts[1000:], restored, start=1000)
    assert after_restore == after_original
    first, second = alerts(after_restore, 1000)
    assert 1200 <= first < 1203 and 1600 <= second < 1605
    # Restarted in the middle of a burst, the detector neither re-alerts nor re-scores it.
    mid = VolumeDetector.from_state(json.loads(json.dumps(feed_state(counts[:1202]))))
    resumed = feed(counts[1202:1300], mid, start=1202)
    assert resumed == after_original[202:300]
    assert max(r.onset_score for r in resumed) < 0.5


def feed_state(counts: np.ndarray) -> dict[str, object]:
    detector = VolumeDetector()
    feed(counts, detector)
    return detector.state()


def test_state_from_another_version_is_refused_with_advice() -> None:
    state = VolumeDetector().state() | {"version": 99}
    with pytest.raises(ValueError, match="start a fresh detector"):
        VolumeDetector.from_state(state)
    # Version 2 had no burst history: it is read as a stream that has not burst yet.
    old = {k: v for k, v in feed_state(np.full(400, 5)).items() if not k.startswith("burst")}
    assert VolumeDetector.from_state(old | {"version": 2}).alert_level == 5.0


def test_scores_only_use_the_past(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    counts = rng.poisson(rhythm(3, 15))
    head = tmp_path / "head.csv"
    full = tmp_path / "full.csv"
    future = np.concatenate([counts, rng.poisson(40, size=300)])  # a wild future
    for path, series in ((head, counts), (full, future)):
        path.write_text(
            "timestamp,value\n"
            + "".join(f"{bucket(i):%Y-%m-%d %H:%M:%S},{c}\n" for i, c in enumerate(series))
        )
    assert detect_csv(head, tmp_path / "head.out") == len(counts)
    assert detect_csv(full, tmp_path / "full.out") == len(future)
    head_rows = (tmp_path / "head.out").read_text().splitlines()
    full_rows = (tmp_path / "full.out").read_text().splitlines()
    assert head_rows[0] == "timestamp,value,anomaly_score,alert"
    assert full_rows[: len(head_rows)] == head_rows


def test_detect_csv_writes_scores_and_alerts(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    counts = rng.poisson(rhythm(3, 10))
    counts[700] += 150
    source = tmp_path / "in.csv"
    source.write_text(
        "timestamp,value\n"
        + "".join(f"{bucket(i).isoformat()},{c}\n" for i, c in enumerate(counts))
    )
    detect_csv(source, tmp_path / "out.csv")
    lines = (tmp_path / "out.csv").read_text().splitlines()[1:]
    flagged = [i for i, line in enumerate(lines) if line.endswith(",1")]
    assert flagged == [700]
    stamp, value, score, alert = lines[700].split(",")
    assert (stamp, int(value), int(alert)) == (bucket(700).isoformat(), counts[700], 1)
    assert 0.5 <= float(score) <= 1.0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("timestamp,value\n2024-01-01 00:05:00,3\n2024-01-01 00:00:00,4\n", "line 3.*time order"),
        ("timestamp,value\n2024-01-01 00:00:00,many\n", "line 2"),
        ("timestamp,value\n2024-01-01 00:00:00,-2\n", "line 2.*not a mention count"),
        ("time,count\n2024-01-01 00:00:00,1\n", "missing timestamp, value"),
    ],
)
def test_detect_csv_rejects_bad_rows_naming_the_line(
    tmp_path: Path, body: str, message: str
) -> None:
    source = tmp_path / "in.csv"
    source.write_text(body)
    with pytest.raises(ValueError, match=message):
        detect_csv(source, tmp_path / "out.csv")


def test_buckets_must_arrive_in_order() -> None:
    detector = VolumeDetector()
    detector.update(bucket(10), 3)
    with pytest.raises(ValueError, match="time order"):
        detector.update(bucket(10), 3)


def _exact_tail(observed: int, mean: float, dispersion: float) -> float:
    """P(X >= observed) summed term by term (Poisson when dispersion is 0)."""
    below = 0.0
    for j in range(observed):
        if dispersion == 0:
            below += math.exp(-mean + j * math.log(mean) - math.lgamma(j + 1))
        else:
            k = 1 / dispersion
            p = k / (k + mean)
            below += math.exp(
                math.lgamma(j + k)
                - math.lgamma(k)
                - math.lgamma(j + 1)
                + k * math.log(p)
                + j * math.log1p(-p)
            )
    return 1 - below


@pytest.mark.parametrize(
    ("observed", "mean", "dispersion"),
    [
        (5, 0.3, 0.0),
        (2, 0.01, 0.0),
        (15, 10.0, 0.0),
        (8, 10.0, 0.0),
        (3, 0.3, 0.5),
        (20, 10.0, 0.1),
        (60, 47.0, 0.1),
        (40, 47.0, 0.1),
        (200, 47.0, 0.1),
        (1, 0.5, 0.2),
    ],
)
def test_tail_probability_matches_exact_sums(observed: int, mean: float, dispersion: float) -> None:
    exact = _exact_tail(observed, mean, dispersion)
    assert math.exp(log_tail(observed, mean, dispersion)) == pytest.approx(exact, rel=1e-6)


def test_tail_probability_stays_finite_far_out() -> None:
    # 13,000 mentions where 47 are expected: far below float range, still a usable log.
    assert -1e5 < log_tail(13_000, 47.0, 0.1) < -1000


def test_settings_need_positive_windows() -> None:
    with pytest.raises(ValueError, match="scales"):
        VolumeDetector(VolumeSettings(scales=()))


def test_a_brand_that_bursts_daily_needs_bigger_bursts_to_alert() -> None:
    day = BUCKETS_PER_DAY
    rng = np.random.default_rng(11)
    rate = rhythm(12, 50)
    counts = rng.poisson(rate)
    # A quiet week, then a burst at 8-20x normal every eight hours.
    bursts = list(range(8 * day + 50, 12 * day - 10, day // 3))
    for s in bursts:
        counts[s : s + 2] = rng.poisson(rate[s : s + 2] * rng.uniform(8, 20))
    fixed = VolumeDetector(VolumeSettings(burst_budget=None))
    adaptive = VolumeDetector()
    fixed_alerts = alerts(feed(counts, fixed))
    half = feed(counts[: 10 * day], adaptive)
    restored = VolumeDetector.from_state(json.loads(json.dumps(adaptive.state())))
    rest = feed(counts[10 * day :], restored, start=10 * day)
    adaptive_alerts = alerts(half + rest)
    # The first bursts of a calm brand alert either way; once it bursts more than twice a
    # week, the level rises and ordinary bursts stop paging.
    assert adaptive_alerts[:3] == fixed_alerts[:3] == bursts[:3]
    assert len(adaptive_alerts) < len(fixed_alerts)
    assert fixed.alert_level == 5.0
    assert restored.alert_level > 5.0
    assert all(r.onset_score < 0.5 for r in rest if not r.alert)


def test_sustained_windows_catch_a_sparse_brand_doubling_for_hours() -> None:
    rng = np.random.default_rng(1)
    rate = rhythm(10, 2)
    counts = rng.poisson(rate)
    counts[2000:2072] = rng.poisson(rate[2000:2072] * 2.5)  # six hours at 2.5x normal
    assert [i for i in alerts(feed(counts)) if 2000 <= i < 2072] == []
    readings = feed(counts, VolumeDetector(VolumeSettings(sustained_scales=(36, 72))))
    caught = alerts(readings)
    assert len(caught) == 1 and 2000 < caught[0] < 2072
    # No five-minute bucket is shocking: the alert names the three- or six-hour window.
    assert any(f"mentions in {m} min" in readings[caught[0]].detail for m in (180, 360))
