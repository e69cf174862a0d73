"""Any Hugging Face sequence classifier as a sentiment backend, with label normalisation."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

SENTIMENT_LABELS = ("negative", "neutral", "positive")

_WORDS = {
    "negative": "negative", "neg": "negative", "very negative": "negative",
    "neutral": "neutral", "neu": "neutral", "mixed": "neutral",
    "positive": "positive", "pos": "positive", "very positive": "positive",
}
_STARS = re.compile(r"^([1-5])\s*stars?$")
_GENERIC = re.compile(r"^label_(\d+)$")


class ModelLoadError(RuntimeError):
    """A configured Hugging Face model could not be loaded; the message says what to do."""


def normalize_labels(
    id2label: Mapping[int, str], explicit: Mapping[str, str] | None = None
) -> list[str]:
    """Map a model's label names (by class index) to negative/neutral/positive.

    Recognises negative/neutral/positive and NEG/NEU/POS in any case, "very negative"-style
    five-way labels, star ratings (1-2 negative, 3 neutral, 4-5 positive) and generic LABEL_0..2
    (LABEL_0/1 for two-class models). `explicit` (the `labels` option) wins over all of these.
    """
    count = len(id2label)
    names = [str(id2label[i]) for i in range(count)]
    explicit = dict(explicit or {})
    unknown_keys = set(explicit) - set(names)
    if unknown_keys:
        raise ValueError(
            f"labels option names {sorted(unknown_keys)}, which the model does not have; "
            f"its labels are {names}"
        )
    out: list[str] = []
    for index, name in enumerate(names):
        key = name.strip().lower().replace("_", " ").replace("-", " ")
        key = re.sub(r"\s+", " ", key)
        generic = _GENERIC.match(name.strip().lower())
        stars = _STARS.match(key)
        if name in explicit:
            out.append(explicit[name])
        elif key in _WORDS:
            out.append(_WORDS[key])
        elif stars:
            value = int(stars.group(1))
            out.append("negative" if value <= 2 else "neutral" if value == 3 else "positive")
        elif generic and count in (2, 3) and int(generic.group(1)) == index:
            # The convention of cardiffnlp's and most sentiment checkpoints: ascending polarity.
            out.append(("negative", "positive")[index] if count == 2 else SENTIMENT_LABELS[index])
        else:
            raise ValueError(
                f"cannot tell what label {name!r} means (the model's labels are {names}); "
                'add labels = { "' + name + '" = "negative" | "neutral" | "positive", ... } '
                "to [models.sentiment]"
            )
    if "negative" not in out or "positive" not in out:
        raise ValueError(
            f"the model's labels {names} map to {out}; a sentiment model needs at least a "
            "negative and a positive class (set labels = {...} in [models.sentiment])"
        )
    return out


class TransformersSentiment:
    """Sentiment from any local or hub sequence-classification model; batch-first, synchronous."""

    def __init__(
        self,
        model: str,
        *,
        device: str = "cpu",
        batch_size: int = 32,
        max_length: int = 128,
        labels: Mapping[str, str] | None = None,
    ) -> None:
        # Imported here so importing the package does not pay for torch.
        import torch  # noqa: F401
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        local_dir = Path(model).expanduser()
        offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
        source = str(local_dir) if local_dir.is_dir() else model
        local_only = local_dir.is_dir() or offline
        try:
            self.tokenizer: Any = AutoTokenizer.from_pretrained(source, local_files_only=local_only)
            net: Any = AutoModelForSequenceClassification.from_pretrained(
                source, local_files_only=local_only
            )
        except (OSError, ValueError) as exc:
            where = (
                "the directory has no usable model files" if local_dir.is_dir()
                else "it is not a local directory and is not in the Hugging Face cache"
                if local_only else "it could not be downloaded from the Hugging Face hub"
            )
            raise ModelLoadError(
                f"cannot load sentiment model {model!r}: {where} ({type(exc).__name__}). "
                "Set [models.sentiment] model to a local directory holding config.json, the "
                "weights and the tokenizer, or run once with network access to fill the cache."
            ) from None
        try:
            id2label = {int(k): str(v) for k, v in net.config.id2label.items()}
            self.labels = normalize_labels(id2label, labels)
        except ValueError as exc:
            raise ModelLoadError(f"sentiment model {model!r}: {exc}") from None
        net.eval()
        self.model: Any = net.to(device)
        self.device = device
        self.batch_size = batch_size
        self.max_length = self._length_limit(max_length)
        self.name = model
        # (num_labels, 3) matrix summing each model class into negative/neutral/positive.
        self._collapse = np.zeros((len(self.labels), 3), dtype=np.float32)
        for index, label in enumerate(self.labels):
            self._collapse[index, SENTIMENT_LABELS.index(label)] = 1.0

    def _length_limit(self, requested: int) -> int:
        limit = requested
        tokenizer_max = int(getattr(self.tokenizer, "model_max_length", 0) or 0)
        if 0 < tokenizer_max < 100_000:
            limit = min(limit, tokenizer_max)
        positions = getattr(self.model.config, "max_position_embeddings", None)
        if isinstance(positions, int) and positions > 0:
            # RoBERTa-style models reserve two positions for padding offsets.
            reserved = 2 if getattr(self.model.config, "model_type", "") in (
                "roberta", "xlm-roberta", "camembert"
            ) else 0
            limit = min(limit, positions - reserved)
        return limit

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """An (n, 3) array of negative/neutral/positive probabilities; each row sums to 1."""
        import torch

        out = np.zeros((len(texts), 3), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                index = order[start : start + self.batch_size]
                tokens = self.tokenizer(
                    [texts[i] for i in index], padding=True, truncation=True,
                    max_length=self.max_length, return_tensors="pt",
                ).to(self.device)
                logits = self.model(**tokens).logits.float()
                probs = torch.softmax(logits, dim=-1).cpu().numpy()
                out[index] = probs @ self._collapse
        return out

    def predict(self, texts: Sequence[str]) -> list[tuple[str, np.ndarray]]:
        """(label, probabilities) per text; the label is the most probable of the three."""
        probs = self.predict_proba(texts)
        return [(SENTIMENT_LABELS[int(row.argmax())], row) for row in probs]
