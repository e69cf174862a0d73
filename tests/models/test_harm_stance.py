"""Harm-claim reading on hard cases (negations, denials, debunks, praise, questions): floors.

The posts are `tests/fixtures/harm_stance_eval.jsonl`, read through the real path that
`benchmarks/eval_stance.py` measures: the default Scorer on the brand-masked text, then
`monitor.detection.assertion.assess`. The floors sit a little under the test-split figures
reported in models/README.md; the rules were tuned on the train split only.
"""

from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from models.complaint import ComplaintModel
from models.encoder import SentenceEncoder
from models.harm import HarmClassifier
from models.scorer import Scorer
from models.sentiment import load_sentiment
from models.settings import ModelsConfig

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "eval_stance.py"

# Test split, default models: the measured figure, minus a small margin (README, harm section).
FLOORS = {  # measured 0.742, 0.77/0.77, 0.95/0.54, 0.65/0.89 (128 posts: one is 0.8 points)
    "accuracy": 0.71,
    "claim_precision": 0.72,
    "claim_recall": 0.72,
    "counter_precision": 0.90,
    "counter_recall": 0.48,
    "none_precision": 0.60,
    "none_recall": 0.84,
}


@pytest.fixture(scope="module")
def eval_stance() -> ModuleType:
    """The benchmark script as a module (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location("eval_stance", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def default_scorer(encoder: SentenceEncoder) -> Scorer:
    """The Scorer as `Scorer.from_config()` builds it, sharing the session's encoder."""
    config = ModelsConfig()
    return Scorer(
        encoder=encoder, sentiment=load_sentiment(config.sentiment, encoder),
        complaint=ComplaintModel(encoder, config.complaint.weights),
        harm=HarmClassifier(encoder), config=config,
    )


def test_the_set_is_multilingual_covers_every_kind_and_is_split_by_hash(
    eval_stance: ModuleType,
) -> None:
    rows: list[dict[str, Any]] = eval_stance.load()  # raises if a split is not its hash's
    assert len(rows) >= 300
    langs = Counter(r["lang"] for r in rows)
    assert {"en", "es", "fr", "de", "pt"} <= set(langs) and min(langs.values()) >= 50
    assert set(eval_stance.KINDS) == {r["kind"] for r in rows}
    test_share = sum(r["split"] == "test" for r in rows) / len(rows)
    assert 0.28 < test_share < 0.42
    for row in rows:
        counter = row["kind"] in ("denial", "debunk")
        claim = row["kind"] in ("claim", "exclamation")
        assert (row["expected"] == "counter") == counter, row
        assert row["expected"].startswith("claim:") == claim, row
        assert any(name.lower() in row["text"].lower() for name in row["brand"]), row


def test_the_test_split_stays_above_its_floors(
    eval_stance: ModuleType, default_scorer: Scorer
) -> None:
    rows = eval_stance.load(split="test")
    table = eval_stance.metrics(rows, eval_stance.read(rows, default_scorer))
    measured = {"accuracy": table["accuracy"]}
    for group, m in table["outcomes"].items():
        measured[f"{group}_precision"] = m["precision"]
        measured[f"{group}_recall"] = m["recall"]
    low = {k: round(v, 3) for k, v in measured.items() if v < FLOORS[k]}
    assert not low, f"below the floor: {low} (floors {FLOORS})"
