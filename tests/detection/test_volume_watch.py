"""Volume watch on the live path: stored mentions -> 5-minute buckets -> volume incidents."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

from monitor.detection.settings import DetectionConfig
from monitor.detection.volume_watch import VolumeWatch
from monitor.records import Assessment
from monitor.store import Store
from tests.detection.factory import T0, mention, score

SETTINGS = DetectionConfig()
SPIKE_AT = 30 * 60  # minutes after T0: past the detector's one-day warm-up


def history(spike_sentiment: str | None) -> list[tuple]:
    """32 hours of 0-5 mentions per 5 minutes (10% negative), then an optional 15-min spike."""
    rng = random.Random(7)
    batch = []
    n = 0
    for bucket in range(32 * 12):
        minute = bucket * 5
        for _ in range(rng.choice([0, 1, 1, 2, 2, 3, 4, 5])):
            n += 1
            sentiment = "negative" if rng.random() < 0.1 else "neutral"
            batch.append((mention(n, f"acme post {n}", minutes=minute + rng.random() * 4,
                                  author=f"regular{n % 90}"), score(sentiment)))
        if spike_sentiment and SPIKE_AT <= minute < SPIKE_AT + 15:
            for k in range(30):
                n += 1
                m = mention(n, f"acme spike {n}", minutes=minute + k / 10, author=f"new{n}",
                            platform=["x", "reddit"][k % 2])
                batch.append((m, score(spike_sentiment)))
    return batch


async def fill(store: Store, batch: list[tuple]) -> None:
    for m, _ in batch:
        m.id = None
    saved = await store.save_mentions([m for m, _ in batch])
    by_id = {m.external_id: s for m, s in batch}
    await store.save_scores([(m, by_id[m.external_id]) for m in saved], T0)


async def run(watch: VolumeWatch, minutes: range) -> list[tuple[int, Assessment]]:
    found = []
    for minute in minutes:
        for assessment in await watch.tick(T0 + timedelta(minutes=minute)):
            found.append((minute, assessment))
    return found


async def test_negative_spike_opens_a_complaint_surge_with_evidence(tmp_path: Path) -> None:
    store = await Store(tmp_path / "bm.db").open()
    await fill(store, history("negative"))
    watch = VolumeWatch(store, ["acme"], SETTINGS)
    found = await run(watch, range(0, 33 * 60, 5))
    await store.close()
    assert found, "the spike went unnoticed"
    first_minute, first = found[0]
    # Scored once the bucket closed and the lateness passed: within 30 minutes of the start.
    assert SPIKE_AT < first_minute <= SPIKE_AT + 30
    assert first.kind == "complaint_surge" and first.key == "volume:acme"
    assert first.severity is not None
    assert "negative mentions in" in first.summary
    assert len(first.mention_ids) == 50 and first.author_count >= 30
    assert all(minute <= SPIKE_AT + 75 for minute, _ in found)  # no alerts long after


async def test_happy_spike_is_a_volume_spike_below_the_incident_line(tmp_path: Path) -> None:
    store = await Store(tmp_path / "bm.db").open()
    await fill(store, history("positive"))
    watch = VolumeWatch(store, ["acme"], SETTINGS)
    found = await run(watch, range(0, 33 * 60, 5))
    await store.close()
    assert found and all(a.kind == "volume_spike" for _, a in found)
    assert all(a.severity in (None, "info") for _, a in found)


async def test_quiet_history_raises_nothing(tmp_path: Path) -> None:
    store = await Store(tmp_path / "bm.db").open()
    await fill(store, history(None))
    found = await run(VolumeWatch(store, ["acme"], SETTINGS), range(0, 33 * 60, 5))
    await store.close()
    assert found == []


async def test_restart_resumes_from_the_saved_baseline(tmp_path: Path) -> None:
    store = await Store(tmp_path / "bm.db").open()
    await fill(store, history("negative"))
    await run(VolumeWatch(store, ["acme"], SETTINGS), range(0, 20 * 60, 5))
    resumed = await run(VolumeWatch(store, ["acme"], SETTINGS), range(20 * 60, 33 * 60, 5))
    await store.close()

    fresh_store = await Store(tmp_path / "again.db").open()
    await fill(fresh_store, history("negative"))
    straight = await run(VolumeWatch(fresh_store, ["acme"], SETTINGS), range(0, 33 * 60, 5))
    await fresh_store.close()
    assert resumed, "the spike after the restart went unnoticed"
    assert [(m, a.summary, a.risk) for m, a in resumed] == [
        (m, a.summary, a.risk) for m, a in straight
    ]
