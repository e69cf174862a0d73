"""The embedded sentiment model: shipped head, tweet normalisation, head files, training."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.encoder import SentenceEncoder
from models.heads import Head, normalize_text
from models.sentiment import DEFAULT_SENTIMENT_WEIGHTS, EmbeddedSentiment
from models.train import (
    SENTIMENT_RECIPE,
    classification_report,
    fit_head,
    load_tweeteval,
    make_recipe,
)

# Written for these tests.
NEGATIVE = [
    "This is the worst phone I have ever owned, the screen cracked on day two",
    "So disappointed with the hotel, dirty room and rude staff",
    "my flight got cancelled AGAIN and nobody will tell us why. furious",
]
NEUTRAL = [
    "The shop on Elm Street opens at 9am on Saturdays",
    "Tomorrow's meeting has been moved to room 4B",
    "The new season of the show starts in October",
]
POSITIVE = [
    "Absolutely love my new headphones, best purchase this year!",
    "Huge thanks to the support team, they sorted everything in minutes",
    "What a great match last night, so proud of the team",
]


@pytest.fixture(scope="module")
def sentiment(encoder: SentenceEncoder) -> EmbeddedSentiment:
    return EmbeddedSentiment(encoder)


def test_clear_examples_get_the_right_label(sentiment: EmbeddedSentiment) -> None:
    predictions = sentiment.predict(NEGATIVE + NEUTRAL + POSITIVE)
    labels = [p.label for p in predictions]
    assert labels == ["negative"] * 3 + ["neutral"] * 3 + ["positive"] * 3
    for p in predictions:
        assert p.p_negative + p.p_neutral + p.p_positive == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("@Jenny_82 thanks!", "@user thanks!"),
        ("see https://t.co/AbC123?x=1 now", "see http now"),
        ("www.example.com/page is down", "http is down"),
        ("mail me at bob@example.com", "mail me at bob@example.com"),
        ("  two\n\nlines\tand tabs ", "two lines and tabs"),
        ("@a @b_c hi", "@user @user hi"),
    ],
)
def test_tweets_are_normalised_as_tweeteval_does(raw: str, normalised: str) -> None:
    assert normalize_text(raw) == normalised


def test_shipped_head_is_small_and_says_how_it_was_trained() -> None:
    head = Head.load(DEFAULT_SENTIMENT_WEIGHTS)
    assert head.name == "sent-head-v1"
    assert head.labels == ("negative", "neutral", "positive")
    assert head.encoder == "embedded:all-MiniLM-L6-v2"
    assert head.info["val_macro_recall"] >= 0.70
    assert head.info["command"].startswith("brand-monitor models train sentiment")
    assert DEFAULT_SENTIMENT_WEIGHTS.stat().st_size < 600_000


def test_saved_head_predicts_like_the_trained_one(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 12)).astype(np.float32)
    y = (x @ rng.normal(size=(12, 3))).argmax(axis=1)
    args = {"label_names": ("a", "b", "c"), "name": "t", "feature_set": "mean", "encoder": "e",
            "hidden": (8,), "epochs": 30, "batch_size": 32, "lr": 1e-2, "seed": 3}
    head = fit_head(x, y, **args)  # type: ignore[arg-type]
    assert classification_report(y, head.predict_proba(x).argmax(1), 3)["accuracy"] > 0.9
    again = fit_head(x, y, **args)  # type: ignore[arg-type]
    for (w1, b1), (w2, b2) in zip(head.layers, again.layers, strict=True):
        np.testing.assert_array_equal(w1, w2)  # seeded training is repeatable
        np.testing.assert_array_equal(b1, b2)
    head.info = {"val_macro_recall": 0.5}
    path = tmp_path / "head.safetensors"
    head.save(path)
    loaded = Head.load(path)
    assert (loaded.name, loaded.labels, loaded.info) == ("t", ("a", "b", "c"), head.info)
    # Weights are stored as float16: probabilities agree to about 1e-3.
    np.testing.assert_allclose(loaded.predict_proba(x), head.predict_proba(x), atol=5e-3)


def test_recipe_overrides_are_checked() -> None:
    assert make_recipe(SENTIMENT_RECIPE, {"hidden": [32]})["hidden"] == (32,)
    with pytest.raises(ValueError, match="unknown recipe key"):
        make_recipe(SENTIMENT_RECIPE, {"hiden": [32]})
    with pytest.raises(ValueError, match="feature_set"):
        make_recipe(SENTIMENT_RECIPE, {"feature_set": "cls"})


# torch 2.13 marks torch.ao quantization deprecated (torchao replaces it); it still works.
@pytest.mark.filterwarnings("ignore:torch.ao.quantization is deprecated:DeprecationWarning")
def test_int8_encoder_mostly_agrees_with_fp32(sentiment: EmbeddedSentiment) -> None:
    quantized = EmbeddedSentiment(SentenceEncoder(quantize=True))
    texts = NEGATIVE + NEUTRAL + POSITIVE
    fp32 = sentiment.predict(texts)
    int8 = quantized.predict(texts)
    # int8 costs ~1.3 points of val macro recall: an occasional label flips, most do not.
    assert sum(a.label == b.label for a, b in zip(fp32, int8, strict=True)) >= len(texts) - 1
    assert int8[0].label == "negative" and int8[3].label == "neutral"


TWEETEVAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "tweeteval-sentiment"


@pytest.mark.skipif(not (TWEETEVAL / "val_text.txt").is_file(), reason=f"{TWEETEVAL} not present")
def test_shipped_head_keeps_its_macro_recall_on_a_val_sample(
    sentiment: EmbeddedSentiment,
) -> None:
    texts, labels = load_tweeteval(TWEETEVAL, "val")
    probs = sentiment.predict_proba(texts[:400])
    report = classification_report(labels[:400], probs.argmax(axis=1), 3)
    # sent-head-v1 scores 67.66 on these first 400 val tweets (70.71 on all 2,000).
    assert report["macro_recall"] >= 0.65
