"""The replay scenarios (tests/fixtures/scenarios) say what their expected outcomes rely on.

The files must be what the generator writes, follow the JSONL schema, mention a configured brand
in every line and have the shape README.md promises; and the embedded models must read their
texts as intended: harm claims as health/safety claims in every language, launch posts as happy,
routine complaints as complaints without harm, chatter as harmless.
"""

from __future__ import annotations

import importlib.util
import json
import random
import sys
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from models.scorer import Scorer
from monitor.config import load_config
from monitor.matching import BrandMatcher
from monitor.records import Score

SCENARIOS = Path(__file__).resolve().parent / "fixtures" / "scenarios"
PLATFORMS = {"rss", "reddit", "hackernews", "mastodon", "bluesky", "youtube", "x", "json",
             "webhook"}
SAMPLE = 40  # texts per kind (per language for harm claims)


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("scenario_generate", SCENARIOS / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building classes
    spec.loader.exec_module(module)
    return module


generate = _load_generator()


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def built() -> dict[str, list[Any]]:
    """Every scenario's posts as the generator makes them (with the intended `kind`)."""
    return {name: generate.build(name) for name in generate.SCENARIOS}


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    """The embedded models, loaded once for this module."""
    return Scorer.from_config()


@pytest.mark.parametrize("name", generate.SCENARIOS)
def test_file_is_what_the_generator_writes(name: str, built: dict[str, list[Any]]) -> None:
    path = SCENARIOS / f"{name}.jsonl"
    text = path.read_text(encoding="utf-8")
    assert text == generate.render(built[name]), (
        f"{path.name} is out of date; run python tests/fixtures/scenarios/generate.py"
    )
    assert 1500 <= text.count("\n") <= 3500
    assert len(text.encode()) <= 1_000_000


@pytest.mark.parametrize("name", generate.SCENARIOS)
def test_every_line_follows_the_schema_and_names_a_brand(name: str) -> None:
    config = load_config(SCENARIOS / "config.toml")
    matcher = BrandMatcher(config.brands)
    seen: set[tuple[str, str]] = set()
    previous = None
    for number, line in enumerate((SCENARIOS / f"{name}.jsonl").open(encoding="utf-8"), 1):
        row = json.loads(line)
        where = f"{name}.jsonl line {number}"
        assert {"id", "platform", "text", "published_at"} <= row.keys(), where
        assert row["platform"] in PLATFORMS, where
        assert (row["platform"], row["id"]) not in seen, f"{where}: duplicate id"
        seen.add((row["platform"], row["id"]))
        published = _time(row["published_at"])
        assert generate.START <= published < generate.END, where
        assert previous is None or published >= previous, f"{where}: lines out of time order"
        previous = published
        assert matcher.match(row["text"], row.get("lang")), f"{where}: no brand in {row['text']!r}"
        assert row.get("author_reach") is None or 20 <= row["author_reach"] <= 100_000, where
        last: dict[str, int] = {}
        at = published
        for snapshot in row.get("engagement", []):
            assert _time(snapshot["at"]) >= at, f"{where}: engagement times must ascend"
            at = _time(snapshot["at"])
            for counter in ("likes", "shares", "comments", "views"):
                value = snapshot[counter]
                assert value is None or value >= last.get(counter, 0), (
                    f"{where}: {counter} is cumulative and cannot fall"
                )
                if value is not None:
                    last[counter] = value


def _hourly(posts: list[Any]) -> list[int]:
    """Posts per clock hour, from the hour of the first."""
    start = min(p.published_at for p in posts).replace(minute=0, second=0)
    counts = Counter(int((p.published_at - start).total_seconds() // 3600) for p in posts)
    return [counts[h] for h in range(max(counts) + 1)]


def _event(posts: list[Any], *kinds: str) -> list[Any]:
    return [p for p in posts if p.kind in kinds]


def test_events_start_after_the_volume_warm_up_day(built: dict[str, list[Any]]) -> None:
    for name, posts in built.items():
        assert {p.kind for p in posts} <= set(generate.KINDS), name
        if name == "slow_drip":  # a drip, not an event: it runs the whole span
            continue
        event = [p for p in posts if p.kind not in ("background", "gripe")]
        assert event and min(p.published_at for p in event) >= generate.DAY2, name


def test_spreading_harm_rises_peaks_and_declines(built: dict[str, list[Any]]) -> None:
    claim = _event(built["spreading_harm"], "harm_claim", "harm_echo")
    assert 40 <= len({p.author for p in claim}) <= 120
    assert {"x", "reddit", "bluesky", "mastodon", "youtube"} <= {p.platform for p in claim}
    hourly = _hourly(claim)
    peak = hourly.index(max(hourly))
    assert 1 < peak < len(hourly) - 1, hourly
    assert max(hourly) >= 3 * max(hourly[0], hourly[-1]), hourly
    video = next(p for p in claim if p.platform == "youtube" and p.title)
    assert video.author_reach == 81_400 and len(video.engagement) >= 15
    linked = [p for p in claim if any(link in p.text for link in generate.HARM_VIDEO_LINKS)]
    assert 0.3 * len(claim) < len(linked) < len(claim)


def test_launch_spike_is_hundreds_of_posts_within_hours(built: dict[str, list[Any]]) -> None:
    launch = _event(built["launch_spike"], "launch")
    span = max(p.published_at for p in launch) - min(p.published_at for p in launch)
    assert len(launch) >= 300 and span <= timedelta(hours=3)


def test_slow_drip_is_one_to_three_complaints_an_hour(built: dict[str, list[Any]]) -> None:
    complaints = _event(built["slow_drip"], "complaint")
    assert set(_hourly(complaints)) <= {0, 1, 2, 3} and len(complaints) >= 60
    assert len({p.author for p in complaints}) == len(complaints)


def test_one_off_angry_is_one_post_from_a_small_account(built: dict[str, list[Any]]) -> None:
    angry = _event(built["one_off_angry"], "angry")
    assert len(angry) == 1 and angry[0].author_reach == 40
    assert [p for p in built["one_off_angry"] if p.kind not in ("background", "gripe")] == angry


def test_fade_and_return_goes_silent_between_quiet_period_and_reopen_window(
    built: dict[str, list[Any]],
) -> None:
    detection = load_config(SCENARIOS / "config.toml").detection
    times = sorted(p.published_at for p in _event(built["fade_and_return"], "harm_claim"))
    gaps = [(b - a, i) for i, (a, b) in enumerate(zip(times, times[1:], strict=False), 1)]
    silence, split = max(gaps)
    assert detection.quiet_period < silence.total_seconds() < detection.reopen_window
    claims = sorted(_event(built["fade_and_return"], "harm_claim"), key=lambda p: p.published_at)
    for wave in (claims[:split], claims[split:]):
        assert len({p.author for p in wave}) >= 30 and len({p.platform for p in wave}) >= 2
        assert wave[-1].published_at - wave[0].published_at <= timedelta(hours=2, minutes=30)


def test_multilingual_claim_is_in_six_languages(built: dict[str, list[Any]]) -> None:
    claim = _event(built["multilingual"], "harm_claim")
    assert {p.lang for p in claim} == {"en", "fr", "de", "es", "pt", "it"}
    assert len({p.author for p in claim}) >= 30
    assert max(p.published_at for p in claim) - min(p.published_at for p in claim) <= timedelta(
        hours=2, minutes=30
    )
    shared = [p for p in claim if generate.ILLNESS_ARTICLE in p.text]
    assert 0 < len(shared) < len(claim) / 2


# -- the models' reading of the texts -----------------------------------------------------------


@pytest.fixture(scope="module")
def readings(built: dict[str, list[Any]], scorer: Scorer) -> dict[str, list[tuple[str, Score]]]:
    """Scores of a fixed sample of texts per kind (harm claims per language), in one batch."""
    rng = random.Random(5)
    groups: dict[str, list[str]] = defaultdict(list)
    for name, posts in built.items():
        for post in posts:
            if post.kind in ("background", "gripe"):
                if name == "one_off_angry":  # the background is the same in every file
                    groups["background"].append(post.text)
            elif post.kind == "harm_claim":
                groups[f"harm_claim:{post.lang}"].append(post.text)
            else:
                groups[post.kind].append(post.text)
    # Chatter gets twice the sample: it is most of every file, in seven languages.
    sample = {
        kind: rng.sample(texts, min(len(texts), 2 * SAMPLE if kind == "background" else SAMPLE))
        for kind, texts in sorted(groups.items())
    }
    unique = sorted({t for texts in sample.values() for t in texts})
    scores = dict(zip(unique, scorer.score(unique), strict=True))
    return {kind: [(t, scores[t]) for t in texts] for kind, texts in sample.items()}


def _share(
    readings: list[tuple[str, Score]], good: Callable[[Score], bool]
) -> tuple[float, list[str]]:
    bad = [f"{s.sentiment} harm={s.harm_category}:{s.harm_confidence:.2f} complaint="
           f"{s.complaint:.2f} | {t}" for t, s in readings if not good(s)]
    return 1 - len(bad) / len(readings), bad


@pytest.mark.parametrize("lang", ["en", "fr", "de", "es", "pt", "it"])
def test_harm_claims_read_as_health_safety_in_every_language(
    lang: str, readings: dict[str, list[tuple[str, Score]]]
) -> None:
    sample = readings[f"harm_claim:{lang}"]
    assert len(sample) >= 10
    share, bad = _share(
        sample, lambda s: s.harm_category == "health_safety" and s.harm_confidence >= 0.5
    )
    assert share >= 0.8, "\n".join(bad)


def test_launch_posts_read_as_happy_not_harm(readings: dict[str, list[tuple[str, Score]]]) -> None:
    share, bad = _share(
        readings["launch"], lambda s: s.sentiment != "negative" and s.harm_category == "none"
    )
    assert share >= 0.9, "\n".join(bad)


def test_routine_complaints_read_as_complaints_without_harm(
    readings: dict[str, list[tuple[str, Score]]],
) -> None:
    share, bad = _share(
        readings["complaint"],
        lambda s: (s.sentiment == "negative" or s.complaint >= 0.5) and s.harm_category == "none",
    )
    assert share >= 0.8, "\n".join(bad)


def test_chatter_is_harmless_and_mostly_not_negative(
    readings: dict[str, list[tuple[str, Score]]],
) -> None:
    sample = readings["background"]
    harmless, bad = _share(sample, lambda s: s.harm_category == "none")
    assert harmless >= 0.95, "\n".join(bad)
    negative = sum(s.sentiment == "negative" for _, s in sample) / len(sample)
    assert negative <= 0.15


def test_the_angry_post_reads_as_negative(readings: dict[str, list[tuple[str, Score]]]) -> None:
    [(text, score)] = readings["angry"]
    assert score.sentiment == "negative", text
