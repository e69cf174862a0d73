"""Small trainable heads on frozen encoder features, shared by sentiment and complaint."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from models.encoder import PooledOutput

_HANDLE = re.compile(r"(?<![\w@])@\w{1,30}")
_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
_SPACE = re.compile(r"\s+")

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


def normalize_text(text: str) -> str:
    """Tweet normalisation as TweetEval does it: handles -> @user, links -> http, spaces folded."""
    text = _HANDLE.sub("@user", text)
    text = _URL.sub("http", text)
    return _SPACE.sub(" ", text).strip()


FEATURE_SETS = ("mean", "mean+max", "layers", "layers+max")


def build_features(pooled: PooledOutput, feature_set: str) -> np.ndarray:
    """Concatenate the poolings a head was trained on into one float32 matrix."""
    last = pooled.layer_means[:, -1]
    if feature_set == "mean":
        parts = [pooled.embedding]
    elif feature_set == "mean+max":
        parts = [pooled.embedding, last, pooled.last_max]
    elif feature_set == "layers":
        parts = [pooled.embedding, *_hidden_layers(pooled)]
    elif feature_set == "layers+max":
        parts = [
            pooled.embedding,
            *_hidden_layers(pooled),
            pooled.last_max,
        ]
    else:
        raise ValueError(f"unknown feature set {feature_set!r}; expected one of {FEATURE_SETS}")
    return np.concatenate(parts, axis=1).astype(np.float32, copy=False)


def _hidden_layers(pooled: PooledOutput) -> list[np.ndarray]:
    # Layer 0 is the token embedding layer: context-free, so left out.
    return [pooled.layer_means[:, i] for i in range(1, pooled.layer_means.shape[1])]


class HeadFormatError(ValueError):
    """A head weights file is missing, unreadable or made for another encoder."""


@dataclass
class Head:
    """A standardise -> (Linear -> GELU)* -> Linear -> softmax classifier run in numpy."""

    name: str  # e.g. "sent-head-v1"; goes into Score.model
    labels: tuple[str, ...]
    feature_set: str
    encoder: str
    mean: np.ndarray
    scale: np.ndarray
    layers: list[tuple[np.ndarray, np.ndarray]]  # (weight (in, out), bias (out,))
    temperature: float = 1.0
    info: dict[str, Any] = field(default_factory=dict)  # training data, command, val figures

    def features(self, pooled: PooledOutput) -> np.ndarray:
        """The feature matrix this head reads."""
        return build_features(pooled, self.feature_set)

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """(n, len(labels)) class probabilities for a feature matrix."""
        hidden = (features - self.mean) / self.scale
        for weight, bias in self.layers[:-1]:
            hidden = _gelu(hidden @ weight + bias)
        weight, bias = self.layers[-1]
        logits = (hidden @ weight + bias) / self.temperature
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        probs: np.ndarray = (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)
        return probs

    def size_bytes(self) -> int:
        """Number of bytes of parameters (what the weights file mostly holds)."""
        arrays = [self.mean, self.scale, *[a for pair in self.layers for a in pair]]
        return int(sum(a.nbytes for a in arrays))

    def save(self, path: Path) -> None:
        """Write the head as a safetensors file (float16 weights, metadata in the header)."""
        from safetensors.numpy import save_file

        tensors = {"mean": self.mean.astype(np.float32), "scale": self.scale.astype(np.float32)}
        for i, (weight, bias) in enumerate(self.layers):
            tensors[f"layer{i}.weight"] = weight.astype(np.float16)
            tensors[f"layer{i}.bias"] = bias.astype(np.float32)
        metadata = {
            "format": "brand-monitor-head/1",
            "name": self.name,
            "labels": json.dumps(list(self.labels)),
            "feature_set": self.feature_set,
            "encoder": self.encoder,
            "temperature": repr(float(self.temperature)),
            "info": json.dumps(self.info, sort_keys=True),
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        save_file(tensors, str(path), metadata=metadata)

    @classmethod
    def load(cls, path: Path) -> Head:
        """Read a head written by `save`; raise HeadFormatError with the path when it cannot."""
        from safetensors import safe_open

        if not path.is_file():
            raise HeadFormatError(
                f"head weights {path} not found; reinstall brand-monitor or retrain with "
                "`brand-monitor models train ...`"
            )
        try:
            with safe_open(str(path), framework="numpy") as handle:
                metadata: Mapping[str, str] = handle.metadata() or {}
                tensors = {key: handle.get_tensor(key) for key in handle.keys()}
        except Exception as exc:  # safetensors raises its own error types for corrupt files
            raise HeadFormatError(f"cannot read head weights {path}: {exc}") from None
        if metadata.get("format") != "brand-monitor-head/1":
            raise HeadFormatError(f"{path} is not a brand-monitor head weights file")
        count = sum(1 for key in tensors if key.endswith(".weight"))
        layers = [
            (tensors[f"layer{i}.weight"].astype(np.float32), tensors[f"layer{i}.bias"])
            for i in range(count)
        ]
        return cls(
            name=metadata["name"],
            labels=tuple(json.loads(metadata["labels"])),
            feature_set=metadata["feature_set"],
            encoder=metadata["encoder"],
            mean=tensors["mean"],
            scale=tensors["scale"],
            layers=layers,
            temperature=float(metadata.get("temperature", "1.0")),
            info=json.loads(metadata.get("info", "{}")),
        )


def merge_heads(heads: Sequence[Head]) -> Head:
    """One Head whose logits are the mean of the given heads' logits (same features and scaler).

    With one hidden layer, averaging logits is exactly a wider MLP: hidden units side by side,
    output weights divided by the number of heads. So an ensemble costs no new file format.
    """
    first = heads[0]
    if len(heads) == 1:
        return first
    depth = len(first.layers)
    if depth > 2 or any(len(h.layers) != depth for h in heads):
        raise ValueError("only heads with the same depth, at most one hidden layer, can merge")
    for head in heads[1:]:
        if not (np.array_equal(head.mean, first.mean) and np.array_equal(head.scale, first.scale)):
            raise ValueError("heads to merge must be trained on the same features")
    k = float(len(heads))
    if depth == 1:
        weight = np.mean([h.layers[0][0] for h in heads], axis=0)
        bias = np.mean([h.layers[0][1] for h in heads], axis=0)
        layers = [(weight, bias)]
    else:
        layers = [
            (np.concatenate([h.layers[0][0] for h in heads], axis=1),
             np.concatenate([h.layers[0][1] for h in heads])),
            (np.concatenate([h.layers[1][0] for h in heads], axis=0) / k,
             np.mean([h.layers[1][1] for h in heads], axis=0)),
        ]
    return Head(
        name=first.name, labels=first.labels, feature_set=first.feature_set,
        encoder=first.encoder, mean=first.mean, scale=first.scale,
        layers=[(w.astype(np.float32), b.astype(np.float32)) for w, b in layers],
        info=dict(first.info),
    )


def _gelu(x: np.ndarray) -> np.ndarray:
    # tanh approximation; torch training uses nn.GELU(approximate="tanh") to match exactly.
    return 0.5 * x * (1.0 + np.tanh(0.7978845608028654 * (x + 0.044715 * x**3)))
