"""Any Hugging Face classifier as the sentiment backend: loading, labels, truncation, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from models.hf import ModelLoadError, TransformersSentiment, normalize_labels
from models.settings import SentimentSettings
from tests.models.tiny_hf import build_tiny_classifier

TEXTS = ["i love the service !", "my order never arrived", "it was ok", "the the the"]


@pytest.fixture(scope="module")
def three_class(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_classifier(
        tmp_path_factory.mktemp("hf3"), ["LABEL_0", "LABEL_1", "LABEL_2"]
    )


def raw_probs(folder: Path, texts: list[str]) -> np.ndarray:
    """Softmax of the model's own logits, computed without our backend."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    with torch.inference_mode():
        rows = [
            torch.softmax(model(**tokenizer([t], return_tensors="pt")).logits, -1)[0].numpy()
            for t in texts
        ]
    return np.stack(rows)


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["LABEL_0", "LABEL_1", "LABEL_2"], ["negative", "neutral", "positive"]),
        (["LABEL_0", "LABEL_1"], ["negative", "positive"]),
        (["NEG", "NEU", "POS"], ["negative", "neutral", "positive"]),
        (["negative", "neutral", "positive"], ["negative", "neutral", "positive"]),
        (["Positive", "Negative"], ["positive", "negative"]),
        (["1 star", "2 stars", "3 stars", "4 stars", "5 stars"],
         ["negative", "negative", "neutral", "positive", "positive"]),
        (["Very Negative", "Negative", "Neutral", "Positive", "Very Positive"],
         ["negative", "negative", "neutral", "positive", "positive"]),
    ],
)
def test_label_names_are_normalised(names: list[str], expected: list[str]) -> None:
    assert normalize_labels(dict(enumerate(names))) == expected


@pytest.mark.parametrize(
    "names",
    [["LABEL_0", "LABEL_1", "LABEL_2", "LABEL_3"], ["joy", "anger"], ["neutral", "positive"]],
)
def test_unrecognised_labels_ask_for_a_mapping(names: list[str]) -> None:
    with pytest.raises(ValueError, match="labels"):
        normalize_labels(dict(enumerate(names)))


def test_predicts_normalised_labels_with_probabilities_summing_to_one(three_class: Path) -> None:
    model = TransformersSentiment(str(three_class), batch_size=3)
    probs = model.predict_proba(TEXTS)
    assert probs.shape == (len(TEXTS), 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    # LABEL_0..2 read as negative/neutral/positive, so columns equal the model's own softmax,
    # whatever order the backend batches the texts in.
    np.testing.assert_allclose(probs, raw_probs(three_class, TEXTS), atol=1e-5)
    labels = [label for label, _ in model.predict(TEXTS)]
    assert labels == [("negative", "neutral", "positive")[int(i)] for i in probs.argmax(axis=1)]


def test_star_ratings_collapse_into_three_classes(tmp_path: Path) -> None:
    folder = build_tiny_classifier(
        tmp_path / "stars", ["1 star", "2 stars", "3 stars", "4 stars", "5 stars"], seed=3
    )
    probs = TransformersSentiment(str(folder)).predict_proba(TEXTS)
    raw = raw_probs(folder, TEXTS)
    np.testing.assert_allclose(probs[:, 0], raw[:, 0] + raw[:, 1], atol=1e-5)
    np.testing.assert_allclose(probs[:, 1], raw[:, 2], atol=1e-5)
    np.testing.assert_allclose(probs[:, 2], raw[:, 3] + raw[:, 4], atol=1e-5)


def test_two_class_model_never_says_neutral(tmp_path: Path) -> None:
    folder = build_tiny_classifier(tmp_path / "two", ["NEGATIVE", "POSITIVE"], seed=5)
    model = TransformersSentiment(str(folder))
    probs = model.predict_proba(TEXTS)
    assert np.all(probs[:, 1] == 0.0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert {label for label, _ in model.predict(TEXTS)} <= {"negative", "positive"}


def test_long_text_is_truncated_not_an_error(three_class: Path) -> None:
    # The tiny model has 64 positions; 10k characters are thousands of tokens.
    long_text = "my order never arrived " * 435
    assert len(long_text) > 10_000
    model = TransformersSentiment(str(three_class), max_length=512)
    probs = model.predict_proba([long_text, "ok"])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    truncated = " ".join(long_text.split()[:62])  # 62 words + [CLS] + [SEP] = 64 tokens
    np.testing.assert_allclose(probs[0], raw_probs(three_class, [truncated])[0], atol=1e-5)


def test_labels_option_maps_odd_label_names(tmp_path: Path) -> None:
    folder = build_tiny_classifier(tmp_path / "odd", ["bad", "meh", "good"], seed=7)
    with pytest.raises(ModelLoadError, match=r"'bad'.*labels = \{"):
        TransformersSentiment(str(folder))
    mapped = TransformersSentiment(
        str(folder), labels={"good": "positive", "bad": "negative", "meh": "neutral"}
    )
    np.testing.assert_allclose(mapped.predict_proba(TEXTS), raw_probs(folder, TEXTS), atol=1e-5)
    reversed_ = TransformersSentiment(
        str(folder), labels={"good": "negative", "bad": "positive", "meh": "neutral"}
    )
    np.testing.assert_allclose(
        reversed_.predict_proba(TEXTS), raw_probs(folder, TEXTS)[:, ::-1], atol=1e-5
    )


def test_missing_model_offline_names_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    with pytest.raises(ModelLoadError) as caught:
        TransformersSentiment("example-org/no-such-sentiment-model")
    message = str(caught.value)
    assert "example-org/no-such-sentiment-model" in message
    assert "local directory" in message


def test_settings_require_a_model_for_the_transformers_backend() -> None:
    with pytest.raises(ValueError, match="needs model"):
        SentimentSettings(backend="transformers")
    with pytest.raises(ValueError, match="extra"):
        SentimentSettings.model_validate({"backend": "embedded", "modle": "x"})
    settings = SentimentSettings.model_validate(
        {"backend": "transformers", "model": "some/model", "labels": {"LABEL_0": "negative"}}
    )
    assert settings.labels == {"LABEL_0": "negative"}
