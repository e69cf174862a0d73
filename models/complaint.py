"""Complaint detection: probability that a mention is a complaint, a head on the shared encoder."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from models.encoder import PooledOutput, SentenceEncoder
from models.heads import WEIGHTS_DIR, Head, HeadFormatError, normalize_text

COMPLAINT_LABELS = ("not_complaint", "complaint")
DEFAULT_COMPLAINT_WEIGHTS = WEIGHTS_DIR / "complaint-head.safetensors"


class ComplaintModel:
    """A small head on all-MiniLM-L6-v2 features trained on complaint tweets (ACL 2019 data)."""

    def __init__(self, encoder: SentenceEncoder, weights: Path | None = None) -> None:
        self.encoder = encoder
        self.weights = weights or DEFAULT_COMPLAINT_WEIGHTS
        self.head = Head.load(self.weights)
        if tuple(self.head.labels) != COMPLAINT_LABELS:
            raise HeadFormatError(
                f"{self.weights} predicts {list(self.head.labels)}, not {list(COMPLAINT_LABELS)}; "
                "is it a complaint head?"
            )
        self.name = self.head.name
        # Decision threshold chosen at training time (on the training folds, not the hold-out).
        self.threshold = float(self.head.info.get("threshold", 0.5))

    def predict_pooled(self, pooled: PooledOutput) -> np.ndarray:
        """Complaint probability per text from encoder output already computed."""
        return self.head.predict_proba(self.head.features(pooled))[:, 1]

    def predict(self, texts: Sequence[str]) -> list[float]:
        """Complaint probability per text, in [0, 1]."""
        pooled = self.encoder.encode_pooled([normalize_text(t) for t in texts])
        return [float(p) for p in self.predict_pooled(pooled)]
