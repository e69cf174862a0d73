"""Multilingual sentiment without a multilingual encoder: hashed character and word n-grams.

A linear classifier over hashed n-grams, trained on the XLM-T tweet sentiment splits (see
models/README.md). Each n-gram is counted twice: once shared by every language and once tagged
with the text's language, so cues common to several languages (emoji, cognates, hashtags) pool
their evidence while a word that means different things in two languages can still differ. For
the languages it was trained on, its probabilities are blended with the encoder head's, with a
weight per language chosen by cross-validation on the training data.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from models.heads import WEIGHTS_DIR, HeadFormatError, normalize_text

DEFAULT_MULTILINGUAL_WEIGHTS = WEIGHTS_DIR / "sentiment-ngrams.safetensors"
# Language tag for texts whose language was not detected or is not one the model was trained on.
OTHER = "xx"

_TOKEN = re.compile(r"\w+|[^\w\s]")
_REPEAT = re.compile(r"(.)\1{2,}")


@dataclass(frozen=True, slots=True)
class NgramSpec:
    """How texts become hashed features; stored with the weights so both sides agree."""

    bits: int = 17
    char_min: int = 2
    char_max: int = 5
    word_max: int = 2
    tagged: bool = True  # also emit every n-gram tagged with the language
    shared: bool = True  # emit the untagged n-grams

    @property
    def buckets(self) -> int:
        """Number of hash buckets (feature columns)."""
        return 1 << self.bits


def language_tag(lang: str | None, languages: Sequence[str]) -> str:
    """The tag a text's features carry: its language if the model knows it, else `xx`."""
    return lang if lang is not None and lang in languages else OTHER


_PRIME = np.uint64(1_000_003)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(keys: np.ndarray) -> np.ndarray:
    """Scramble 64-bit keys so that their top bits make good hash buckets."""
    keys = keys ^ (keys >> np.uint64(31))
    keys = keys * _GOLDEN
    return np.asarray(keys ^ (keys >> np.uint64(29)))


def _prepare(text: str) -> str:
    # Case and runs of a repeated letter ("sooooo") carry little beyond the plain form here;
    # NUL separates texts in the batched hashing below.
    return _REPEAT.sub(r"\1\1\1", normalize_text(text).casefold().replace("\0", " "))


def _char_keys(prepared: Sequence[str], spec: NgramSpec) -> tuple[np.ndarray, np.ndarray]:
    """(text index, key) of every character n-gram of every text, hashed in one pass."""
    joined = "\0".join(f" {text} " for text in prepared)
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    breaks = np.cumsum(codes == 0)
    docs_parts, keys_parts = [], []
    rolling = np.zeros(len(codes), dtype=np.uint64)
    for n in range(1, spec.char_max + 1):
        width = len(codes) - n + 1
        if width <= 0:
            break
        # Polynomial hash of codes[i : i + n], extended by one character per round.
        rolling = rolling[:width] * _PRIME + codes[n - 1 : n - 1 + width]
        if n < spec.char_min:
            continue
        inside = (breaks[n - 1 : n - 1 + width] == breaks[:width]) & (codes[:width] != 0)
        docs_parts.append(breaks[:width][inside])
        keys_parts.append(_mix(rolling[inside] + np.uint64(n)))
    if not keys_parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint64)
    return np.concatenate(docs_parts).astype(np.int64), np.concatenate(keys_parts)


def _word_keys(prepared: Sequence[str], spec: NgramSpec) -> tuple[np.ndarray, np.ndarray]:
    """(text index, key) of every word unigram and bigram (words and single symbols)."""
    docs: list[int] = []
    hashes: list[int] = []
    for index, text in enumerate(prepared):
        tokens = _TOKEN.findall(text)
        docs.extend([index] * len(tokens))
        hashes.extend(zlib.crc32(t.encode("utf-8", "surrogatepass")) for t in tokens)
    doc_array = np.asarray(docs, dtype=np.int64)
    word = np.asarray(hashes, dtype=np.uint64)
    docs_parts = [doc_array]
    keys_parts = [_mix(word + np.uint64(1 << 40))]
    if spec.word_max >= 2 and len(word) > 1:
        same = doc_array[1:] == doc_array[:-1]
        pairs = word[:-1][same] * _PRIME + word[1:][same]
        docs_parts.append(doc_array[1:][same])
        keys_parts.append(_mix(pairs + np.uint64(2 << 40)))
    return np.concatenate(docs_parts), np.concatenate(keys_parts)


def ngram_rows(
    texts: Sequence[str], tags: Sequence[str], spec: NgramSpec
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR parts (row offsets, columns, values) of the feature matrix: log counts, L2-normalised."""
    prepared = [_prepare(text) for text in texts]
    char_docs, char_keys = _char_keys(prepared, spec)
    word_docs, word_keys = _word_keys(prepared, spec)
    docs = np.concatenate([char_docs, word_docs])
    keys = np.concatenate([char_keys, word_keys])
    all_docs, all_keys = [], []
    if spec.shared:
        all_docs.append(docs)
        all_keys.append(keys)
    if spec.tagged:
        salts = np.asarray(
            [zlib.crc32(tag.encode()) << 20 for tag in tags], dtype=np.uint64
        )
        all_docs.append(docs)
        all_keys.append(_mix(keys ^ salts[docs]))
    doc = np.concatenate(all_docs)
    buckets = np.concatenate(all_keys) >> np.uint64(64 - spec.bits)
    cells, counts = np.unique(doc * spec.buckets + buckets.astype(np.int64), return_counts=True)
    rows = cells // spec.buckets
    values = (1.0 + np.log(counts)).astype(np.float32)
    norms = np.sqrt(np.bincount(rows, weights=values * values, minlength=len(texts)))
    values /= np.maximum(norms[rows], 1e-12).astype(np.float32)
    offsets = np.searchsorted(rows, np.arange(len(texts) + 1))
    return offsets.astype(np.int64), (cells % spec.buckets).astype(np.int64), values


def blend_share(blend: Mapping[str, float], lang: str | None, languages: Sequence[str]) -> float:
    """The n-gram share for a text: by its language, or the `xx` share when none was detected.

    A detected language the model never saw (Russian, Japanese...) keeps the encoder head.
    """
    if lang is not None and lang not in languages:
        return 0.0
    return blend.get(language_tag(lang, languages), 0.0)


def ngram_probs(scores: np.ndarray) -> np.ndarray:
    """Probabilities from the three one-vs-rest logistic scores: each sigmoid, renormalised."""
    positive = 1.0 / (1.0 + np.exp(-np.clip(scores, -30.0, 30.0)))
    return np.asarray(positive / positive.sum(axis=1, keepdims=True), dtype=np.float32)


@dataclass(frozen=True, slots=True)
class Calibration:
    """Softmax of the one-vs-rest scores times a temperature, plus a per-class offset.

    Fitted by log loss on out-of-fold scores of the training data (never on val).
    """

    temperature: float = 1.0
    offsets: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def probs(self, scores: np.ndarray) -> np.ndarray:
        """(n, 3) probabilities from (n, 3) scores."""
        z = self.temperature * np.asarray(scores, dtype=np.float64) + np.asarray(self.offsets)
        z -= z.max(axis=1, keepdims=True)
        exp = np.exp(z)
        return np.asarray(exp / exp.sum(axis=1, keepdims=True), dtype=np.float32)


@dataclass
class NgramSentiment:
    """Hashed n-gram linear sentiment classifier and its per-language blend weights."""

    spec: NgramSpec
    languages: tuple[str, ...]  # the ISO 639-1 codes it was trained on
    weights: np.ndarray  # (buckets, 3) float32
    bias: np.ndarray  # (3,)
    # Share of the n-gram model in the blend with the encoder head, per language tag.
    # Languages absent here (English included) keep the encoder head alone.
    blend: dict[str, float] = field(default_factory=dict)
    name: str = "sent-ngrams-v1"
    info: dict[str, Any] = field(default_factory=dict)
    # None (files written before calibration): sigmoids renormalised, as `ngram_probs`.
    calibration: Calibration | None = None

    def predict_proba(self, texts: Sequence[str], langs: Sequence[str | None]) -> np.ndarray:
        """An (n, 3) negative/neutral/positive probability array from the n-grams alone."""
        tags = [language_tag(lang, self.languages) for lang in langs]
        offsets, columns, values = ngram_rows(texts, tags, self.spec)
        contributions = self.weights[columns] * values[:, None]
        logits = np.zeros((len(texts), 3), dtype=np.float32)
        nonempty = offsets[:-1] < offsets[1:]
        if nonempty.any():
            # reduceat sums each row's slice; empty rows would repeat a neighbour, so skip them.
            sums = np.add.reduceat(contributions, offsets[:-1][nonempty], axis=0)
            logits[nonempty] = sums
        return self.probs(logits + self.bias)

    def probs(self, scores: np.ndarray) -> np.ndarray:
        """Probabilities from the linear scores: calibrated when the file carries a calibration."""
        if self.calibration is None:
            return ngram_probs(scores)
        return self.calibration.probs(scores)

    def blend_weight(self, lang: str | None) -> float:
        """How much the n-gram model counts for a text in `lang` (0: encoder head only)."""
        return blend_share(self.blend, lang, self.languages)

    def combine(
        self, texts: Sequence[str], langs: Sequence[str | None], head_probs: np.ndarray
    ) -> np.ndarray:
        """The encoder head's probabilities blended with the n-grams' where the language asks."""
        shares = np.asarray([self.blend_weight(lang) for lang in langs], dtype=np.float32)
        rows = [int(i) for i in np.flatnonzero(shares > 0)]
        if not rows:
            return head_probs
        ngram = self.predict_proba([texts[i] for i in rows], [langs[i] for i in rows])
        out = np.array(head_probs, dtype=np.float32, copy=True)
        share = shares[rows, None]
        out[rows] = share * ngram + (1.0 - share) * out[rows]
        return out

    def size_bytes(self) -> int:
        """Bytes of parameters as stored (float16 weights)."""
        return self.weights.size * 2 + self.bias.nbytes

    def save(self, path: Path) -> None:
        """Write the weights (float16; nearly every bucket is used) and settings to safetensors."""
        from safetensors.numpy import save_file

        metadata = {
            "format": "brand-monitor-ngram-sentiment-1",
            "name": self.name,
            "spec": json.dumps(asdict(self.spec)),
            "languages": json.dumps(list(self.languages)),
            "blend": json.dumps(self.blend, sort_keys=True),
            "info": json.dumps(self.info, sort_keys=True),
        }
        if self.calibration is not None:
            metadata["calibration"] = json.dumps(asdict(self.calibration))
        path.parent.mkdir(parents=True, exist_ok=True)
        save_file(
            {
                # C order: safetensors writes the raw buffer (coef_.T is Fortran-ordered).
                "weights": np.ascontiguousarray(self.weights, dtype=np.float16),
                "bias": self.bias.astype(np.float32),
            },
            str(path),
            metadata=metadata,
        )

    @classmethod
    def load(cls, path: Path | None = None) -> NgramSentiment:
        """Read a file written by `save` (default: the shipped one)."""
        from safetensors import SafetensorError, safe_open

        path = path or DEFAULT_MULTILINGUAL_WEIGHTS
        if not path.is_file():
            raise HeadFormatError(
                f"multilingual sentiment weights {path} not found; reinstall the package or "
                "retrain them with `brand-monitor models train multilingual`"
            )
        try:
            with safe_open(str(path), framework="numpy") as handle:
                metadata: Mapping[str, str] = handle.metadata() or {}
                stored = handle.get_tensor("weights")
                bias = handle.get_tensor("bias")
            if metadata.get("format") != "brand-monitor-ngram-sentiment-1":
                raise HeadFormatError(f"{path} is not an n-gram sentiment weights file")
            spec = NgramSpec(**json.loads(metadata["spec"]))
            calibration = None
            if "calibration" in metadata:
                fitted = json.loads(metadata["calibration"])
                negative, neutral, positive = (float(v) for v in fitted["offsets"])
                calibration = Calibration(
                    float(fitted["temperature"]), (negative, neutral, positive)
                )
            weights = stored.astype(np.float32)
            if weights.shape != (spec.buckets, 3):
                raise HeadFormatError(
                    f"{path} holds weights of shape {weights.shape}, not ({spec.buckets}, 3)"
                )
            return cls(
                spec=spec,
                languages=tuple(json.loads(metadata["languages"])),
                weights=weights,
                bias=bias.astype(np.float32),
                blend={k: float(v) for k, v in json.loads(metadata["blend"]).items()},
                name=metadata.get("name", "sent-ngrams"),
                info=json.loads(metadata.get("info", "{}")),
                calibration=calibration,
            )
        except (OSError, KeyError, ValueError, TypeError, SafetensorError) as exc:
            if isinstance(exc, HeadFormatError):
                raise
            raise HeadFormatError(
                f"cannot read multilingual sentiment weights {path}: {exc}"
            ) from exc
