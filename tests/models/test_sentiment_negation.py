"""Praise phrased with a negation ("not bad at all", "can't stop listening") is not negative."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from models.cli import app
from models.encoder import SentenceEncoder
from models.sentiment import EmbeddedSentiment
from models.train import load_negation_set

NEGATION_SET = Path(__file__).resolve().parents[1] / "fixtures" / "sentiment_negation.jsonl"

# Floors for the shipped head on tests/fixtures/sentiment_negation.jsonl (48 praise posts, 16
# negative controls, written for this project). sent-head-v1 called 29 of the 48 praise posts
# negative; see models/README.md for the figures of each head.
MAX_PRAISE_CALLED_NEGATIVE = 29
MIN_CONTROLS_CALLED_NEGATIVE = 15


@pytest.fixture(scope="module")
def called(encoder: SentenceEncoder) -> dict[str, list[str]]:
    rows = load_negation_set(NEGATION_SET)
    labels = [p.label for p in EmbeddedSentiment(encoder).predict([r["text"] for r in rows])]
    out: dict[str, list[str]] = {}
    for row, label in zip(rows, labels, strict=True):
        out.setdefault(row["set"], []).append(label)
    return out


def test_the_set_has_several_phrasings_and_controls() -> None:
    rows = load_negation_set(NEGATION_SET)
    praise = [r for r in rows if r["set"] == "praise"]
    assert len(praise) >= 40 and all(r["label"] == "positive" for r in praise)
    assert len({r["phrasing"] for r in praise}) >= 30
    controls = [r for r in rows if r["set"] == "control"]
    assert len(controls) >= 15 and all(r["label"] == "negative" for r in controls)


def test_praise_with_a_negation_is_mostly_not_called_negative(
    called: dict[str, list[str]],
) -> None:
    assert called["praise"].count("negative") <= MAX_PRAISE_CALLED_NEGATIVE


def test_real_complaints_with_a_negation_stay_negative(called: dict[str, list[str]]) -> None:
    assert called["control"].count("negative") >= MIN_CONTROLS_CALLED_NEGATIVE


def test_eval_negation_reports_each_set() -> None:
    result = CliRunner().invoke(app, ["eval", "negation", "--data", str(NEGATION_SET), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert set(report["sets"]) == {"praise", "control"}
    praise = report["sets"]["praise"]
    assert praise["count"] == 48
    assert praise["called_negative"] + praise["called_neutral"] + praise["called_positive"] == 48
    assert praise["correct"] == praise["called_positive"]
    assert len(report["wrong"]) == 64 - praise["correct"] - report["sets"]["control"]["correct"]
