"""The complaint head: separates complaints from other mentions; its weights file is checked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.complaint import DEFAULT_COMPLAINT_WEIGHTS, ComplaintModel
from models.encoder import SentenceEncoder
from models.heads import Head, HeadFormatError
from models.sentiment import DEFAULT_SENTIMENT_WEIGHTS

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
    assert head.name == "complaint-v1"
    assert head.info["command"].startswith("brand-monitor models train complaint")
    assert 0.7 < head.info["holdout_f1_complaint"] <= 1.0
    # Ships inside the wheel: keep it small.
    assert DEFAULT_COMPLAINT_WEIGHTS.stat().st_size < 600_000


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
