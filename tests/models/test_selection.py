"""Recipe choice by cross-validation: merged seed ensembles, fair adjustments, topic folds."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from models.heads import merge_heads
from models.selection import (
    Candidate,
    best_offsets,
    best_threshold,
    cross_validate,
    kmeans,
    pick,
    shift_logits,
    topic_folds,
)
from models.train import fit_ensemble, fit_head, make_recipe, stratified_folds

BASE = {
    "feature_set": "mean", "hidden": (8,), "epochs": 15, "lr": 1e-2, "weight_decay": 0.01,
    "dropout": 0.1, "input_dropout": 0.0, "batch_size": 32, "seed": 3, "seeds": 1, "adjust": "",
}
NAMES: dict[str, Any] = {"label_names": ("a", "b", "c"), "name": "t", "encoder": "e"}


def blobs(n: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three overlapping Gaussian classes in 10 dimensions, the middle one a minority."""
    rng = np.random.default_rng(seed)
    labels = rng.choice(3, size=n, p=[0.4, 0.2, 0.4])
    centres = rng.normal(size=(3, 10))
    x = centres[labels] + rng.normal(scale=1.2, size=(n, 10))
    return x.astype(np.float32), labels


def test_a_merged_ensemble_averages_the_logits_of_its_members() -> None:
    x, y = blobs()
    heads = [
        fit_head(x, y, feature_set="mean", hidden=(8,), epochs=5, batch_size=32, lr=1e-2,
                 weight_decay=0.01, dropout=0.1, seed=s, **NAMES)
        for s in (1, 2, 3)
    ]
    merged = merge_heads(heads)
    assert merged.layers[0][0].shape == (10, 24)  # three hidden layers of 8, side by side
    log_probs = np.mean([np.log(h.predict_proba(x)) for h in heads], axis=0)
    expected = np.exp(log_probs) / np.exp(log_probs).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(merged.predict_proba(x), expected, atol=1e-5)
    # fit_ensemble with seeds=3 is the same three fits, merged.
    together = fit_ensemble(x, y, {**BASE, "hidden": (8,), "epochs": 5, "seed": 1, "seeds": 3},
                            **NAMES)
    np.testing.assert_allclose(together.predict_proba(x), merged.predict_proba(x), atol=1e-5)


def test_heads_on_other_features_do_not_merge() -> None:
    x, y = blobs()
    one = fit_head(x, y, feature_set="mean", hidden=(4,), epochs=2, **NAMES)
    other = fit_head(x + 1.0, y, feature_set="mean", hidden=(4,), epochs=2, **NAMES)
    with pytest.raises(ValueError, match="same features"):
        merge_heads([one, other])


def test_cross_validation_scores_every_candidate_on_the_same_folds() -> None:
    x, y = blobs(360)
    candidates = [
        Candidate("logreg", {"hidden": []}),
        Candidate("mlp", {}),
        Candidate("mlp+bias", {"adjust": "bias"}),
        Candidate("mlp-x2", {"seeds": 2}),
    ]
    results = cross_validate({"mean": x}, y, BASE, candidates, folds=4, metric="macro_recall")
    assert [r.name for r in results] == ["logreg", "mlp", "mlp+bias", "mlp-x2"]
    for result in results:
        assert len(result.fold_scores) == 4
        assert 0.5 < result.mean <= 1.0  # the blobs are learnable, well above chance (1/3)
        assert result.spread >= 0.0
        np.testing.assert_allclose(result.oof.sum(axis=1), 1.0, atol=1e-5)
    plain, biased = results[1], results[2]
    # Same fitted heads (the fits are shared), so identical out-of-fold predictions.
    np.testing.assert_array_equal(plain.oof, biased.oof)
    assert len(biased.adjustment) == 3 and biased.adjustment[1] == 0.0
    assert results[0].recipe["hidden"] == ()


def test_each_row_is_predicted_by_a_head_that_never_saw_it() -> None:
    x, y = blobs(200)
    results = cross_validate({"mean": x}, y, BASE, [Candidate("mlp")], folds=5,
                             metric="macro_recall")
    folds = stratified_folds(y, 5, 2021)
    tests = np.sort(np.concatenate([test for _, test in folds]))
    np.testing.assert_array_equal(tests, np.arange(len(y)))  # every row is tested once
    manual = np.zeros_like(results[0].oof)
    recipe = make_recipe(BASE, {})
    for train, test in folds:
        assert not set(train.tolist()) & set(test.tolist())
        manual[test] = fit_ensemble(x[train], y[train], recipe, **NAMES).predict_proba(x[test])
    np.testing.assert_allclose(results[0].oof, manual, atol=1e-6)


def test_logit_offsets_move_predictions_towards_a_class() -> None:
    probs = np.asarray([[0.45, 0.40, 0.15], [0.2, 0.5, 0.3]])
    np.testing.assert_allclose(shift_logits(probs, [0, 0, 0]), probs, atol=1e-9)
    shifted = shift_logits(probs, [-0.3, 0.0, 0.0])
    assert shifted[0].argmax() == 1
    np.testing.assert_allclose(shifted.sum(axis=1), 1.0)
    # Neutral is under-called here; the chosen offsets must lower negative or positive.
    truth = np.asarray([1, 1, 0, 2])
    guesses = np.asarray([[0.5, 0.45, 0.05], [0.1, 0.4, 0.5], [0.8, 0.1, 0.1], [0.1, 0.1, 0.8]])
    offsets = best_offsets(truth, guesses)
    assert offsets[1] == 0.0 and min(offsets) < 0
    assert (shift_logits(guesses, offsets).argmax(axis=1) == truth).all()


def test_threshold_choice_prefers_the_one_nearest_one_half_among_ties() -> None:
    truth = np.asarray([0, 0, 1, 1])
    probs = np.stack([1 - np.asarray([0.1, 0.2, 0.8, 0.9]), [0.1, 0.2, 0.8, 0.9]], axis=1)
    assert best_threshold(truth, probs) == 0.5
    probs = np.stack([1 - np.asarray([0.1, 0.2, 0.35, 0.9]), [0.1, 0.2, 0.35, 0.9]], axis=1)
    assert best_threshold(truth, probs) <= 0.35


def test_topic_folds_keep_each_cluster_whole() -> None:
    rng = np.random.default_rng(5)
    centres = rng.normal(size=(6, 16))
    topic = rng.integers(0, 6, size=240)
    points = centres[topic] * 5 + rng.normal(size=(240, 16))
    clusters = kmeans(points, 6, seed=1)
    # Well-separated blobs: each found cluster is exactly one true topic.
    for c in range(6):
        assert len(set(topic[clusters == c].tolist())) == 1
    folds = topic_folds(points, topic, 3, topics=6)
    tests = [set(test.tolist()) for _, test in folds]
    assert sorted(i for t in tests for i in t) == list(range(240))
    for t in range(6):
        rows = set(np.flatnonzero(topic == t).tolist())
        assert sum(bool(rows & test) for test in tests) == 1  # the topic sits in one fold


def test_unknown_candidates_are_named_in_the_error() -> None:
    candidates = [Candidate("a"), Candidate("b")]
    assert [c.name for c in pick(candidates, ["b"])] == ["b"]
    assert [c.name for c in pick(candidates, None)] == ["a", "b"]
    with pytest.raises(ValueError, match=r"unknown candidate\(s\) \['z'\]"):
        pick(candidates, ["z"])
