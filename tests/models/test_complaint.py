"""The complaint head: separates complaints from other mentions; its weights file is checked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.complaint import DEFAULT_COMPLAINT_WEIGHTS, ComplaintModel
from models.encoder import SentenceEncoder
from models.heads import Head, HeadFormatError
from models.sentiment import DEFAULT_SENTIMENT_WEIGHTS
from models.train import (
    COMPLAINT_HOLDOUT,
    COMPLAINT_SPLIT_SEED,
    classification_report,
    load_labelled_csv,
    stratified_split,
)

# Written for these tests (not from any dataset).
COMPLAINTS = [
    "@acmehelp my order was supposed to arrive last week and it still hasn't shown up. "
    "third time I've had to chase you",
    "been on hold with Globex for 45 minutes and they just hung up on me. unacceptable",
    "@initech you charged my card twice for one subscription and nobody replies to my emails",
    "the new update broke the app completely, can't even log in anymore. fix this",
    "ordered a large, got a small, and the fries were cold. never again @burgerplace",
]
NOT_COMPLAINTS = [
    "@acmehelp thanks so much, the replacement arrived today and works perfectly!",
    "what time does the Globex store on main street open on sundays?",
    "excited to start my new job at Initech on monday",
    "happy birthday to my little sister, love you",
    "watching the match tonight with friends, come on you blues",
]


@pytest.fixture(scope="module")
def complaint(encoder: SentenceEncoder) -> ComplaintModel:
    return ComplaintModel(encoder)


def test_complaints_score_above_other_mentions(complaint: ComplaintModel) -> None:
    yes = np.asarray(complaint.predict(COMPLAINTS))
    no = np.asarray(complaint.predict(NOT_COMPLAINTS))
    assert np.all((0.0 <= yes) & (yes <= 1.0)) and np.all((0.0 <= no) & (no <= 1.0))
    assert yes.min() > no.max()
    assert np.all(yes >= complaint.threshold)
    assert np.all(no < complaint.threshold)


def test_scores_are_per_text_and_order_independent(complaint: ComplaintModel) -> None:
    texts = COMPLAINTS[:2] + NOT_COMPLAINTS[:2]
    together = complaint.predict(texts)
    alone = [complaint.predict([text])[0] for text in texts]
    np.testing.assert_allclose(together, alone, atol=1e-4)
    assert complaint.predict([]) == []


def test_shipped_head_records_how_it_was_trained() -> None:
    head = Head.load(DEFAULT_COMPLAINT_WEIGHTS)
    assert head.name == "complaint-v2"
    assert head.info["command"].startswith("brand-monitor models cv complaint")
    # Floors for a retrained head: chosen by 5-fold CV inside the training split (complaint-v1
    # scored 79.46 on the same folds), then measured once on the 481 held-out tweets.
    assert head.info["cv5_f1_complaint"] >= 0.80
    assert head.info["holdout_f1_complaint"] >= 0.82
    # Ships inside the wheel: keep it small (five seeds' heads merged into one, float16).
    assert DEFAULT_COMPLAINT_WEIGHTS.stat().st_size < 2_000_000


def test_missing_or_wrong_weights_file_is_a_clear_error(
    encoder: SentenceEncoder, tmp_path: Path
) -> None:
    with pytest.raises(HeadFormatError, match="not found"):
        ComplaintModel(encoder, tmp_path / "nope.safetensors")
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"not a safetensors file")
    with pytest.raises(HeadFormatError, match="cannot read"):
        ComplaintModel(encoder, garbage)
    with pytest.raises(HeadFormatError, match="is it a complaint head"):
        ComplaintModel(encoder, DEFAULT_SENTIMENT_WEIGHTS)


COMPLAINT_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "complaints" / (
    "complaints-dev.csv"
)


@pytest.mark.skipif(not COMPLAINT_DATA.is_file(), reason=f"{COMPLAINT_DATA} not present")
def test_shipped_head_keeps_its_f1_on_the_held_out_tweets(complaint: ComplaintModel) -> None:
    texts, labels = load_labelled_csv(COMPLAINT_DATA)
    _, holdout = stratified_split(labels, COMPLAINT_HOLDOUT, COMPLAINT_SPLIT_SEED)
    probs = np.asarray(complaint.predict([texts[i] for i in holdout]))
    report = classification_report(labels[holdout], (probs >= complaint.threshold).astype(int), 2)
    # complaint-v2 scored 83.82 here (v1: 82.11); a regression below 82 fails.
    assert report["f1_1"] >= 0.82
    assert report["f1_1"] == pytest.approx(complaint.head.info["holdout_f1_complaint"], abs=0.01)
