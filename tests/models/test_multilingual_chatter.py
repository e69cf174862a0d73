"""Everyday posts in five languages (tests/fixtures/multilingual_chatter.jsonl), read by the blend.

The set was written for this check and never used to choose anything: the n-gram model's
training choices were made by cross-validation on XLM-T train. It records how far the blend is
from reading everyday chatter as meant (models/README.md gives the figures): the floors below
are regression guards a little under what the shipped file reads, not targets.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from models.encoder import SentenceEncoder
from models.multilingual import NgramSentiment
from models.sentiment import SENTIMENT_LABELS, EmbeddedSentiment

CHATTER = Path(__file__).parent.parent / "fixtures" / "multilingual_chatter.jsonl"


def load_chatter() -> tuple[list[str], list[str | None], np.ndarray]:
    """Texts, their languages and labels (indices into SENTIMENT_LABELS)."""
    rows = [json.loads(line) for line in CHATTER.read_text(encoding="utf-8").splitlines()]
    labels = np.asarray([SENTIMENT_LABELS.index(row["label"]) for row in rows])
    return [row["text"] for row in rows], [row["lang"] for row in rows], labels


def test_the_set_covers_five_languages_and_three_labels() -> None:
    texts, langs, labels = load_chatter()
    assert len(texts) == len(set(texts)) >= 60
    assert set(langs) == {"fr", "de", "es", "pt", "it"}
    for lang in set(langs):
        mine = labels[np.asarray(langs) == lang]
        assert np.bincount(mine, minlength=3).min() >= 4


@pytest.fixture(scope="module")
def readings(encoder: SentenceEncoder) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(truth, head-only labels, blended labels) for the whole set."""
    texts, langs, labels = load_chatter()
    head = EmbeddedSentiment(encoder).predict_proba(texts, langs).argmax(axis=1)
    blended = EmbeddedSentiment(encoder, ngrams=NgramSentiment.load())
    return labels, head, blended.predict_proba(texts, langs).argmax(axis=1)


def test_the_blend_reads_more_chatter_as_meant_than_the_head(
    readings: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    truth, head, blended = readings
    # Shipped file: 61.5% (head alone 41.5%: it calls nearly everything neutral).
    assert np.mean(blended == truth) >= 0.55
    assert np.mean(blended == truth) >= np.mean(head == truth) + 0.1


def test_praise_and_neutral_chatter_read_negative_less_than_complaints_do(
    readings: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    truth, _, blended = readings
    negative = SENTIMENT_LABELS.index("negative")
    complaints = blended[truth == negative]
    others = blended[truth != negative]
    # The known weakness (14 of 40 non-complaints read negative with the shipped file) must
    # not grow, and complaints must stay far more often negative than the rest.
    assert np.mean(others == negative) <= 0.4
    assert np.mean(complaints == negative) >= np.mean(others == negative) + 0.3
