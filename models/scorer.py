"""The Scorer: sentiment, complaint and harm-claim scores per text from one shared encoder pass."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from models.complaint import ComplaintModel
from models.encoder import DEFAULT_ENCODER, SentenceEncoder, embedded_encoder_dir
from models.heads import normalize_text
from models.sentiment import (
    SENTIMENT_LABELS,
    EmbeddedSentiment,
    SentimentModel,
    detect_languages,
    load_sentiment,
)
from models.settings import ModelsConfig
from monitor.records import Score

if TYPE_CHECKING:
    from models.harm import HarmClassifier

log = logging.getLogger(__name__)

# Texts scored per encoder pass: bounds memory (the poolings hold ~10 KB per text).
CHUNK = 1024


class Scorer:
    """Scores mentions: synchronous and batch-first; each text is embedded once for all heads."""

    def __init__(
        self,
        *,
        encoder: SentenceEncoder,
        sentiment: SentimentModel,
        complaint: ComplaintModel,
        harm: HarmClassifier,
        config: ModelsConfig,
        load_seconds: dict[str, float] | None = None,
    ) -> None:
        self.encoder = encoder
        self.sentiment = sentiment
        self.complaint = complaint
        self.harm = harm
        self.config = config
        self.load_seconds = dict(load_seconds or {})

    @classmethod
    def from_config(cls, config: ModelsConfig | None = None) -> Scorer:
        """Load the encoder and every model named by the `[models]` table."""
        from models.harm import HarmClassifier

        config = config or ModelsConfig()
        seconds: dict[str, float] = {}
        started = time.perf_counter()
        encoder = SentenceEncoder(
            DEFAULT_ENCODER, device=config.device, max_length=config.max_length,
            quantize=config.quantize, threads=config.threads,
        )
        seconds["encoder"] = time.perf_counter() - started
        started = time.perf_counter()
        sentiment = load_sentiment(config.sentiment, encoder)
        seconds["sentiment"] = time.perf_counter() - started
        started = time.perf_counter()
        complaint = ComplaintModel(encoder, config.complaint.weights)
        seconds["complaint"] = time.perf_counter() - started
        started = time.perf_counter()
        harm_settings = config.harm
        harm = HarmClassifier(
            encoder if harm_settings.backend == "prototypes" else None,
            backend=harm_settings.backend, model=harm_settings.model,
            hypothesis_template=harm_settings.hypothesis_template, device=harm_settings.device,
            batch_size=harm_settings.batch_size, max_length=harm_settings.max_length,
        )
        seconds["harm"] = time.perf_counter() - started
        scorer = cls(
            encoder=encoder, sentiment=sentiment, complaint=complaint, harm=harm, config=config,
            load_seconds=seconds,
        )
        log.info("models loaded in %.1fs: %s", sum(seconds.values()), scorer.model_id)
        return scorer

    @property
    def model_id(self) -> str:
        """Every model and version that produces a Score, e.g. embedded:minilm+sent-head-v1+..."""
        encoder = "embedded:minilm" if self.encoder.name == DEFAULT_ENCODER else self.encoder.name
        if self.encoder.quantized:
            encoder += "-int8"
        sentiment = (
            self.sentiment.name if isinstance(self.sentiment, EmbeddedSentiment)
            else f"hf:{self.sentiment.name}"
        )
        return f"{encoder}+{sentiment}+{self.complaint.name}+{self.harm.version}"

    def use_threads(self, threads: int) -> int:
        """Run torch on `threads` CPU threads from the next batch on; returns the count before."""
        import torch

        before = int(torch.get_num_threads())
        torch.set_num_threads(threads)
        return before

    def score(
        self, texts: Sequence[str], langs: Sequence[str | None] | None = None
    ) -> list[Score]:
        """One Score per text, in order; `langs` (ISO 639-1 or None) are detected if not given."""
        if langs is not None and len(langs) != len(texts):
            raise ValueError(f"{len(langs)} languages given for {len(texts)} texts")
        scores: list[Score] = []
        for start in range(0, len(texts), CHUNK):
            chunk_langs = None if langs is None else list(langs[start : start + CHUNK])
            scores.extend(self._score_chunk(list(texts[start : start + CHUNK]), chunk_langs))
        return scores

    def _needs_languages(self) -> bool:
        multilingual = (
            isinstance(self.sentiment, EmbeddedSentiment) and self.sentiment.ngrams is not None
        )
        return multilingual or self.harm.backend == "prototypes"

    def _score_chunk(self, texts: list[str], langs: list[str | None] | None) -> list[Score]:
        if not texts:
            return []
        if langs is None and self._needs_languages():
            # Detected once here for the sentiment blend and the harm classifier alike.
            langs = detect_languages(texts)
        normalised = [normalize_text(text) for text in texts]
        pooled = self.encoder.encode_pooled(normalised, batch_size=self.config.batch_size)
        if isinstance(self.sentiment, EmbeddedSentiment):
            sentiment = self.sentiment.predict_pooled(pooled, texts, langs)
        else:
            sentiment = self.sentiment.predict_proba(normalised)
        complaint = self.complaint.predict_pooled(pooled)
        harm = self.harm.predict(texts, embeddings=pooled.embedding, langs=langs)
        model_id = self.model_id
        out = []
        for index, (probs, p_complaint, claim) in enumerate(
            zip(sentiment, complaint, harm, strict=True)
        ):
            extra: dict[str, Any] = {}
            if claim.evidence:
                extra["harm_evidence"] = list(claim.evidence)
            if claim.category != "none":
                extra["harm_basis"] = claim.basis
            out.append(Score(
                sentiment=SENTIMENT_LABELS[int(np.argmax(probs))],
                p_negative=float(probs[0]), p_neutral=float(probs[1]), p_positive=float(probs[2]),
                complaint=float(p_complaint),
                harm_category=claim.category, harm_confidence=float(claim.confidence),
                model=model_id, extra=extra, embedding=pooled.embedding[index],
            ))
        return out

    def info(self) -> dict[str, Any]:
        """What is loaded, from where, and how long loading took (for `models info`)."""
        import torch

        encoder_source = (
            str(embedded_encoder_dir()) if self.encoder.name == DEFAULT_ENCODER
            else self.encoder.name
        )
        sentiment: dict[str, Any]
        if isinstance(self.sentiment, EmbeddedSentiment):
            head = self.sentiment.head
            sentiment = {
                "backend": "embedded", "name": head.name, "weights": str(self.sentiment.weights),
                "features": head.feature_set, "parameters_bytes": head.size_bytes(),
                "trained": head.info,
            }
            ngrams = self.sentiment.ngrams
            if ngrams is not None:
                sentiment["multilingual"] = {
                    "name": ngrams.name, "languages": list(ngrams.languages),
                    "blend": ngrams.blend, "parameters_bytes": ngrams.size_bytes(),
                    "trained": ngrams.info,
                }
        else:
            sentiment = {
                "backend": "transformers", "name": self.sentiment.name,
                "labels": list(getattr(self.sentiment, "labels", [])),
            }
        complaint = self.complaint.head
        return {
            "model_id": self.model_id,
            "device": self.config.device,
            "torch_threads": torch.get_num_threads(),
            "quantize": self.encoder.quantized,
            "encoder": {"name": self.encoder.name, "source": encoder_source,
                        "max_length": self.encoder.max_length, "dim": self.encoder.dim},
            "sentiment": sentiment,
            "complaint": {
                "name": complaint.name, "weights": str(self.complaint.weights),
                "features": complaint.feature_set, "threshold": self.complaint.threshold,
                "parameters_bytes": complaint.size_bytes(), "trained": complaint.info,
            },
            "harm": {"name": self.harm.version, "backend": self.harm.backend,
                     "lexicons": str(Path(__file__).resolve().parent / "lexicons")},
            "load_seconds": {k: round(v, 3) for k, v in self.load_seconds.items()},
        }
