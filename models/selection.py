"""Choosing a head recipe by k-fold cross-validation on training data only (never on val)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from models.encoder import PooledOutput, SentenceEncoder
from models.heads import Head, build_features, merge_heads
from models.train import (
    CACHE_DIR,
    COMPLAINT_HOLDOUT,
    COMPLAINT_RECIPE,
    COMPLAINT_SPLIT_SEED,
    SENTIMENT_RECIPE,
    cached_pooled,
    classification_report,
    fit_ensemble,
    load_labelled_csv,
    load_tweeteval,
    make_recipe,
    stratified_folds,
    stratified_split,
)

log = logging.getLogger(__name__)

# Folds are drawn with this seed unless told otherwise, so every candidate sees the same folds.
CV_SEED = 2021


@dataclass(frozen=True)
class Candidate:
    """A recipe to compare: its name and the keys it replaces in the base recipe.

    The recipe key `adjust` says how the output is corrected after training: "bias" adds
    per-class logit offsets (sentiment), "threshold" moves the complaint decision threshold;
    both are chosen on out-of-fold predictions.
    """

    name: str
    overrides: dict[str, Any] = field(default_factory=dict)


@dataclass
class CandidateResult:
    """One candidate's cross-validated scores (each in [0, 1]) and out-of-fold probabilities."""

    name: str
    recipe: dict[str, Any]
    fold_scores: list[float]
    oof: np.ndarray  # (n, classes) probabilities, each row from the model that did not see it
    adjustment: list[float] = field(default_factory=list)  # offsets or [threshold] on all folds

    @property
    def mean(self) -> float:
        """Mean score over folds."""
        return float(np.mean(self.fold_scores))

    @property
    def spread(self) -> float:
        """Standard deviation of the fold scores."""
        return float(np.std(self.fold_scores, ddof=1)) if len(self.fold_scores) > 1 else 0.0


def macro_recall(truth: np.ndarray, probs: np.ndarray) -> float:
    """TweetEval's metric on argmax predictions."""
    return classification_report(truth, probs.argmax(axis=1), probs.shape[1])["macro_recall"]


def complaint_f1(truth: np.ndarray, probs: np.ndarray, threshold: float = 0.5) -> float:
    """F1 of the complaint class at a threshold on its probability."""
    return classification_report(truth, (probs[:, 1] >= threshold).astype(int), 2)["f1_1"]


def shift_logits(probs: np.ndarray, offsets: Sequence[float]) -> np.ndarray:
    """Probabilities after adding per-class offsets to their logits (log-probabilities)."""
    logits = np.log(np.clip(probs, 1e-12, 1.0)) + np.asarray(offsets, dtype=np.float64)
    logits -= logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    shifted: np.ndarray = exp / exp.sum(axis=1, keepdims=True)
    return shifted


# Offsets searched for the negative and positive classes (neutral stays at 0): a small grid,
# since a fine one would fit the noise of the out-of-fold predictions.
OFFSET_GRID = np.round(np.arange(-0.6, 0.61, 0.1), 2)
THRESHOLD_GRID = np.round(np.arange(0.30, 0.71, 0.025), 3)


def best_offsets(truth: np.ndarray, probs: np.ndarray) -> list[float]:
    """Logit offsets (negative, 0, positive) that maximise macro recall on these predictions."""
    best, chosen = -1.0, [0.0, 0.0, 0.0]
    for negative in OFFSET_GRID:
        for positive in OFFSET_GRID:
            offsets = [float(negative), 0.0, float(positive)]
            score = macro_recall(truth, shift_logits(probs, offsets))
            # Strictly better only, so ties keep the offsets nearest zero seen first.
            if score > best + 1e-9 or (
                abs(score - best) <= 1e-9 and _size(offsets) < _size(chosen)
            ):
                best, chosen = score, offsets
    return chosen


def best_threshold(truth: np.ndarray, probs: np.ndarray) -> float:
    """Complaint threshold that maximises F1 on these predictions (nearest 0.5 among ties)."""
    scores = [(complaint_f1(truth, probs, float(t)), -abs(float(t) - 0.5), float(t))
              for t in THRESHOLD_GRID]
    return max(scores)[2]


def _size(offsets: Sequence[float]) -> float:
    return float(sum(abs(o) for o in offsets))


Metric = Callable[[np.ndarray, np.ndarray], float]


def cross_validate(
    features: dict[str, np.ndarray],
    labels: np.ndarray,
    base: dict[str, Any],
    candidates: Sequence[Candidate],
    *,
    folds: int,
    metric: str,
    fold_indices: list[tuple[np.ndarray, np.ndarray]] | None = None,
    seed: int = CV_SEED,
    names: dict[str, Any] | None = None,
) -> list[CandidateResult]:
    """k-fold CV of every candidate on the same folds; `features` maps feature set -> matrix.

    `metric` is "macro_recall" (sentiment) or "f1" (complaint). Recipes with an `adjust` are
    scored fairly: fold k's offsets or threshold are chosen on the other folds' out-of-fold
    predictions, never on fold k.
    """
    splits = fold_indices or stratified_folds(labels, folds, seed)
    classes = int(labels.max()) + 1
    names = names or {"label_names": tuple(str(c) for c in range(classes)), "name": "cv",
                      "encoder": "cv"}
    score: Metric = macro_recall if metric == "macro_recall" else complaint_f1
    # Heads already fitted (recipe, fold, seed): a 5-seed ensemble reuses the 1-seed fits.
    fitted: dict[tuple[str, int, int], Head] = {}
    results = []
    for candidate in candidates:
        recipe = make_recipe(base, candidate.overrides)
        x = features[recipe["feature_set"]]
        oof = np.zeros((len(labels), classes), dtype=np.float64)
        for k, (train, test) in enumerate(splits):
            heads = []
            for offset in range(int(recipe.get("seeds", 1))):
                single = {**recipe, "seeds": 1, "seed": int(recipe["seed"]) + offset,
                          "adjust": ""}
                key = (json.dumps(single, sort_keys=True), k, int(single["seed"]))
                if key not in fitted:
                    fitted[key] = fit_ensemble(x[train], labels[train], single, **names)
                heads.append(fitted[key])
            oof[test] = merge_heads(heads).predict_proba(x[test])
        fold_scores = []
        for k, (_, test) in enumerate(splits):
            probs = oof[test]
            rest = np.concatenate([t for j, (_, t) in enumerate(splits) if j != k])
            if recipe["adjust"] == "bias":
                probs = shift_logits(probs, best_offsets(labels[rest], oof[rest]))
                fold_scores.append(score(labels[test], probs))
            elif recipe["adjust"] == "threshold":
                threshold = best_threshold(labels[rest], oof[rest])
                fold_scores.append(complaint_f1(labels[test], probs, threshold))
            else:
                fold_scores.append(score(labels[test], probs))
        adjustment: list[float] = []
        if recipe["adjust"] == "bias":
            adjustment = best_offsets(labels, oof)
        elif recipe["adjust"] == "threshold":
            adjustment = [best_threshold(labels, oof)]
        result = CandidateResult(candidate.name, recipe, fold_scores, oof, adjustment)
        log.info("%s: %.4f +- %.4f %s", candidate.name, result.mean, result.spread, adjustment)
        results.append(result)
    return results


def topic_folds(
    embedding: np.ndarray, labels: np.ndarray, folds: int, *, topics: int = 60,
    seed: int = CV_SEED,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Folds that keep each topic (a k-means cluster of sentence embeddings) in one fold.

    A harder test than random folds: the model is scored on topics it never saw in training,
    as a test set collected later, about other events, would be.
    """
    clusters = kmeans(embedding, topics, seed=seed)
    sizes = np.bincount(clusters, minlength=topics)
    fold_of_topic = np.zeros(topics, dtype=np.int64)
    load = np.zeros(folds)
    # Largest topics first, each into the emptiest fold: folds end up about the same size.
    for topic in np.argsort(-sizes, kind="stable"):
        fold = int(np.argmin(load))
        fold_of_topic[topic] = fold
        load[fold] += sizes[topic]
    assignment = fold_of_topic[clusters]
    del labels  # folds follow topics only; class shares differ a little between folds
    return [
        (np.flatnonzero(assignment != k), np.flatnonzero(assignment == k)) for k in range(folds)
    ]


def kmeans(points: np.ndarray, k: int, *, seed: int, rounds: int = 25) -> np.ndarray:
    """Cluster index per row: spherical k-means (cosine) with k-means++ seeding, numpy only."""
    rng = np.random.default_rng(seed)
    x = points / np.maximum(np.linalg.norm(points, axis=1, keepdims=True), 1e-12)
    centres = [x[rng.integers(len(x))]]
    distance = 1.0 - x @ centres[0]
    for _ in range(k - 1):
        weights = np.maximum(distance, 0.0) ** 2
        centres.append(x[rng.choice(len(x), p=weights / weights.sum())])
        distance = np.minimum(distance, 1.0 - x @ centres[-1])
    centre = np.stack(centres)
    assignment = np.zeros(len(x), dtype=np.int64)
    for _ in range(rounds):
        assignment = (x @ centre.T).argmax(axis=1)
        for c in range(k):
            members = x[assignment == c]
            if len(members):
                mean = members.mean(axis=0)
                centre[c] = mean / max(float(np.linalg.norm(mean)), 1e-12)
    return assignment


# What `brand-monitor models cv` compares; names are what the README tables show.
SENTIMENT_CANDIDATES = (
    Candidate("logreg", {"hidden": [], "input_dropout": 0.0}),
    Candidate("mlp64", {}),
    Candidate("mlp64+bias", {"adjust": "bias"}),
    Candidate("mlp64x3", {"seeds": 3}),
    Candidate("mlp64x3+bias", {"seeds": 3, "adjust": "bias"}),
    Candidate("mlp64x5", {"seeds": 5}),
    Candidate("mlp64x5+bias", {"seeds": 5, "adjust": "bias"}),
)
COMPLAINT_CANDIDATES = (
    Candidate("logreg", {"hidden": [], "seeds": 1}),
    Candidate("mlp64", {"seeds": 1}),
    Candidate("mlp64+threshold", {"seeds": 1, "adjust": "threshold"}),
    Candidate("mlp64-layers+max", {"seeds": 1, "feature_set": "layers+max"}),
    Candidate("mlp64x5", {"seeds": 5}),
    Candidate("mlp64x5+threshold", {"seeds": 5, "adjust": "threshold"}),
)


def pick(candidates: Sequence[Candidate], names: Sequence[str] | None) -> list[Candidate]:
    """The candidates named (all when `names` is empty), in the order given; unknown names fail."""
    if not names:
        return list(candidates)
    known = {c.name: c for c in candidates}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown candidate(s) {unknown}; known: {list(known)}")
    return [known[n] for n in names]


def cv_sentiment(
    folder: Path,
    *,
    folds: int = 5,
    split: str = "random",
    names: Sequence[str] | None = None,
    cache_dir: Path | None = CACHE_DIR,
    encoder: SentenceEncoder | None = None,
) -> list[CandidateResult]:
    """Cross-validate the sentiment candidates on `<folder>/train` only (val is not read)."""
    from models.sentiment import SENTIMENT_LABELS

    texts, labels = load_tweeteval(folder, "train")
    pooled = cached_pooled(encoder or SentenceEncoder(), texts, cache_dir=cache_dir)
    chosen = pick(SENTIMENT_CANDIDATES, names)
    return cross_validate(
        _feature_sets(pooled, SENTIMENT_RECIPE, chosen), labels, SENTIMENT_RECIPE, chosen,
        folds=folds, metric="macro_recall",
        fold_indices=_folds(pooled, labels, folds, split),
        names={"label_names": SENTIMENT_LABELS, "name": "cv", "encoder": "cv"},
    )


def cv_complaint(
    csv_path: Path,
    *,
    folds: int = 5,
    split: str = "random",
    names: Sequence[str] | None = None,
    cache_dir: Path | None = CACHE_DIR,
    encoder: SentenceEncoder | None = None,
) -> list[CandidateResult]:
    """Cross-validate the complaint candidates inside the 80% training split (hold-out unread)."""
    from models.complaint import COMPLAINT_LABELS

    texts, labels = load_labelled_csv(csv_path)
    pooled = cached_pooled(encoder or SentenceEncoder(), texts, cache_dir=cache_dir)
    train, _ = stratified_split(labels, COMPLAINT_HOLDOUT, COMPLAINT_SPLIT_SEED)
    pooled = PooledOutput(
        embedding=pooled.embedding[train], layer_means=pooled.layer_means[train],
        last_max=pooled.last_max[train],
    )
    chosen = pick(COMPLAINT_CANDIDATES, names)
    return cross_validate(
        _feature_sets(pooled, COMPLAINT_RECIPE, chosen), labels[train], COMPLAINT_RECIPE, chosen,
        folds=folds, metric="f1",
        fold_indices=_folds(pooled, labels[train], folds, split),
        names={"label_names": COMPLAINT_LABELS, "name": "cv", "encoder": "cv"},
    )


SPLITS = ("random", "topic")


def _folds(
    pooled: PooledOutput, labels: np.ndarray, folds: int, split: str
) -> list[tuple[np.ndarray, np.ndarray]]:
    if split == "random":
        return stratified_folds(labels, folds, CV_SEED)
    if split == "topic":
        return topic_folds(pooled.embedding, labels, folds)
    raise ValueError(f"split must be one of {SPLITS}, not {split!r}")


def _feature_sets(
    pooled: PooledOutput, base: dict[str, Any], candidates: Sequence[Candidate]
) -> dict[str, np.ndarray]:
    wanted = {make_recipe(base, c.overrides)["feature_set"] for c in candidates}
    return {name: build_features(pooled, name) for name in sorted(wanted)}
