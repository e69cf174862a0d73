"""Sentiment: the embedded head on MiniLM features (default) or any Hugging Face classifier."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from models.encoder import PooledOutput, SentenceEncoder
from models.heads import WEIGHTS_DIR, Head, HeadFormatError, normalize_text

if TYPE_CHECKING:
    from models.multilingual import NgramSentiment
    from models.settings import SentimentSettings

SENTIMENT_LABELS = ("negative", "neutral", "positive")
DEFAULT_SENTIMENT_WEIGHTS = WEIGHTS_DIR / "sentiment-head.safetensors"


@dataclass(frozen=True, slots=True)
class SentimentPrediction:
    """The sentiment of one text: the most probable label and all three probabilities."""

    label: str  # negative / neutral / positive
    p_negative: float
    p_neutral: float
    p_positive: float


def predictions_from_proba(probs: np.ndarray) -> list[SentimentPrediction]:
    """SentimentPrediction per row of an (n, 3) negative/neutral/positive probability array."""
    return [
        SentimentPrediction(
            label=SENTIMENT_LABELS[int(row.argmax())],
            p_negative=float(row[0]), p_neutral=float(row[1]), p_positive=float(row[2]),
        )
        for row in probs
    ]


class SentimentModel(Protocol):
    """What the scorer needs from a sentiment backend."""

    name: str

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """An (n, 3) negative/neutral/positive probability array."""
        ...


def detect_languages(texts: Sequence[str]) -> list[str | None]:
    """ISO 639-1 code per text (None when too short or unclear), as the pipeline detects it."""
    from monitor.language import detect_language

    return [detect_language(text) for text in texts]


class EmbeddedSentiment:
    """The default: a small head on the embedded all-MiniLM-L6-v2 encoder; runs offline.

    With `ngrams`, texts in the other languages it knows get the n-gram model blended in.
    """

    def __init__(
        self,
        encoder: SentenceEncoder,
        weights: Path | None = None,
        ngrams: NgramSentiment | None = None,
    ) -> None:
        self.encoder = encoder
        self.ngrams = ngrams
        self.weights = weights or DEFAULT_SENTIMENT_WEIGHTS
        self.head = Head.load(self.weights)
        if tuple(self.head.labels) != SENTIMENT_LABELS:
            raise HeadFormatError(
                f"{self.weights} predicts {list(self.head.labels)}, not {list(SENTIMENT_LABELS)}; "
                "is it a sentiment head?"
            )
        self.name = self.head.name + (f"+{ngrams.name}" if ngrams is not None else "")

    def predict_pooled(
        self,
        pooled: PooledOutput,
        texts: Sequence[str] = (),
        langs: Sequence[str | None] | None = None,
    ) -> np.ndarray:
        """Probabilities from encoder output already computed (shared with other heads).

        Give `texts` (and their languages, else they are detected) to blend in the n-grams.
        """
        probs = self.head.predict_proba(self.head.features(pooled))
        if self.ngrams is None or not texts:
            return probs
        langs = detect_languages(texts) if langs is None else langs
        return self.ngrams.combine(texts, langs, probs)

    def predict_proba(
        self, texts: Sequence[str], langs: Sequence[str | None] | None = None
    ) -> np.ndarray:
        """An (n, 3) negative/neutral/positive probability array."""
        pooled = self.encoder.encode_pooled([normalize_text(t) for t in texts])
        return self.predict_pooled(pooled, texts, langs)

    def predict(self, texts: Sequence[str]) -> list[SentimentPrediction]:
        """Sentiment per text."""
        return predictions_from_proba(self.predict_proba(texts))


def load_sentiment(settings: SentimentSettings, encoder: SentenceEncoder | None) -> SentimentModel:
    """The sentiment backend named by `[models.sentiment]`."""
    if settings.backend == "transformers":
        from models.hf import TransformersSentiment

        assert settings.model is not None  # checked by SentimentSettings
        return TransformersSentiment(
            settings.model, device=settings.device, batch_size=settings.batch_size,
            max_length=settings.max_length, labels=settings.labels,
        )
    if encoder is None:
        raise ValueError("the embedded sentiment backend needs the shared encoder")
    ngrams = None
    if settings.multilingual:
        from models.multilingual import NgramSentiment

        ngrams = NgramSentiment.load(settings.multilingual_weights)
    return EmbeddedSentiment(encoder, settings.weights, ngrams)
