"""The replay scenarios (tests/fixtures/scenarios): what the daemon would have done, end to end.

Each scenario runs through `monitor.replay.replay` (the live pipeline with the real embedded
models, in virtual time) and is judged as a communications lead would judge it.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from monitor.config import Config, load_config
from monitor.records import SEVERITIES
from monitor.replay import ReplayReport, read_records, replay

SCENARIOS = Path(__file__).parent / "fixtures" / "scenarios"


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config(SCENARIOS / "config.toml")


@pytest.fixture(scope="module")
def scorer(config: Config) -> Iterator[Any]:
    from models.scorer import Scorer

    yield Scorer.from_config(config.models)


def run(name: str, config: Config, scorer: Any, tmp_path: Path) -> tuple[ReplayReport, Path]:
    db = tmp_path / f"{name}.db"
    records = read_records(SCENARIOS / f"{name}.jsonl")
    return asyncio.run(replay(records, config, db, scorer=scorer)), db


def rank(severity: str) -> int:
    return SEVERITIES.index(severity)


def first_reached(report: ReplayReport, incident_id: int, severities: set[str]) -> datetime:
    """When the incident first had one of `severities` (opened, escalated or reopened at it)."""
    for event in report.timelines[incident_id]:
        if (event.get("severity") or event.get("to")) in severities:
            return datetime.fromisoformat(event["at"].replace("Z", "+00:00"))
    raise AssertionError(f"incident {incident_id} never reached {severities}")


def peak_hour(db: Path, incident_id: int) -> datetime:
    """Start of the clock hour with the most of the incident's mentions."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT substr(m.seen_at, 1, 13) FROM incident_mentions i "
            "JOIN mentions m ON m.id = i.mention_id WHERE i.incident_id = ?",
            [incident_id],
        ).fetchall()
    hour, _count = Counter(r[0] for r in rows).most_common(1)[0]
    return datetime.fromisoformat(hour + ":00:00+00:00")


def test_spreading_harm_claim_is_high_before_its_peak(
    config: Config, scorer: Any, tmp_path: Path
) -> None:
    report, db = run("spreading_harm", config, scorer, tmp_path)
    claims = [i for i in report.incidents if i.kind == "viral_claim" and i.brand == "Kestrel"
              and i.category == "health_safety"]
    assert len(claims) == 1, [(i.id, i.summary) for i in report.incidents]
    claim = claims[0]
    assert claim.severity in ("high", "critical")
    assert len(claim.platforms) >= 3 and claim.author_count >= 30
    reached = first_reached(report, claim.id, {"high", "critical"})
    assert reached < peak_hour(db, claim.id)
    assert {f.name for f in claim.factors[:4]} & {"harm", "spread", "reach"}
    others = [i for i in report.incidents if i.id != claim.id]
    assert all(rank(i.severity) <= rank("low") for i in others), others


def test_launch_spike_stays_at_or_below_info(config: Config, scorer: Any, tmp_path: Path) -> None:
    report, _db = run("launch_spike", config, scorer, tmp_path)
    assert all(i.severity == "info" for i in report.incidents), [
        (i.kind, i.brand, i.severity, i.summary) for i in report.incidents
    ]


def test_slow_drip_of_complaints_is_at_most_low(
    config: Config, scorer: Any, tmp_path: Path
) -> None:
    report, _db = run("slow_drip", config, scorer, tmp_path)
    assert all(rank(i.severity) <= rank("low") for i in report.incidents), [
        (i.kind, i.brand, i.severity, i.summary) for i in report.incidents
    ]


def test_one_angry_post_from_a_small_account_is_no_incident(
    config: Config, scorer: Any, tmp_path: Path
) -> None:
    report, db = run("one_off_angry", config, scorer, tmp_path)
    with sqlite3.connect(db) as conn:
        attached = conn.execute(
            "SELECT count(*) FROM incident_mentions i JOIN mentions m ON m.id = i.mention_id "
            "WHERE m.text LIKE '%worst company ever%'"
        ).fetchone()[0]
    assert attached == 0
    assert all(i.severity == "info" for i in report.incidents)


def test_claim_that_fades_and_returns_reopens_its_incident(
    config: Config, scorer: Any, tmp_path: Path
) -> None:
    report, _db = run("fade_and_return", config, scorer, tmp_path)
    claims = [i for i in report.incidents if i.brand == "Kestrel" and i.category != "none"]
    assert len(claims) == 1, [(i.id, i.category, i.summary) for i in report.incidents]
    events = [e["event"] for e in report.timelines[claims[0].id]]
    assert "resolved" in events and "reopened" in events
    assert events.index("resolved") < events.index("reopened")
    assert claims[0].mention_count >= 60 and claims[0].author_count >= 60  # both waves


def merged_away(report: ReplayReport, incident_id: int) -> bool:
    """Whether the incident was folded into another one (the same claim, found later)."""
    return any(str(e.get("reason", "")).startswith("merged into")
               for e in report.timelines[incident_id])


def test_multilingual_variants_are_one_incident(
    config: Config, scorer: Any, tmp_path: Path
) -> None:
    report, db = run("multilingual", config, scorer, tmp_path)
    claims = [i for i in report.incidents if i.brand == "Kestrel" and i.category != "none"
              and not merged_away(report, i.id)]
    assert len(claims) == 1, [(i.id, i.category, i.summary) for i in report.incidents]
    assert claims[0].mention_count >= 70  # of 78: the merged variants' mentions moved in
    with sqlite3.connect(db) as conn:
        langs = {
            r[0] for r in conn.execute(
                "SELECT DISTINCT m.lang FROM incident_mentions i "
                "JOIN mentions m ON m.id = i.mention_id WHERE i.incident_id = ?",
                [claims[0].id],
            )
        }
    assert {"en", "fr", "de", "es", "pt", "it"} <= langs
