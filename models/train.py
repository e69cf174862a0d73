"""Training and evaluation data for the shipped heads: loaders, feature cache, fitting."""

from __future__ import annotations

import csv
import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from models.encoder import PooledOutput, SentenceEncoder
from models.heads import FEATURE_SETS, Head, build_features, merge_heads, normalize_text

if TYPE_CHECKING:
    from models.selection import CandidateResult

log = logging.getLogger(__name__)

CACHE_DIR = Path(".cache") / "features"


def load_tweeteval(folder: Path, split: str) -> tuple[list[str], np.ndarray]:
    """Texts and labels (0 neg, 1 neu, 2 pos) of a TweetEval-format `<split>_text.txt` pair."""
    text_path = folder / f"{split}_text.txt"
    label_path = folder / f"{split}_labels.txt"
    for path in (text_path, label_path):
        if not path.is_file():
            raise FileNotFoundError(
                f"{path} not found while reading the {split!r} split of {folder}; a "
                f"TweetEval-format folder holds {split}_text.txt and {split}_labels.txt, "
                "one line per text"
            )
    texts = text_path.read_text(encoding="utf-8").splitlines()
    labels = [int(line) for line in label_path.read_text(encoding="utf-8").split()]
    if len(texts) != len(labels):
        raise ValueError(
            f"{text_path} has {len(texts)} lines but {label_path} has {len(labels)} labels; "
            "they must pair line by line"
        )
    return texts, np.asarray(labels, dtype=np.int64)


def load_labelled_csv(path: Path) -> tuple[list[str], np.ndarray]:
    """Texts and 0/1 labels from a CSV file with `text` and `label` columns."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found; give a CSV file with text and label columns")
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"text", "label"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{path} lacks column(s) {sorted(missing)}; it needs text and label")
        rows = [(row["text"], int(row["label"])) for row in reader]
    return [text for text, _ in rows], np.asarray([label for _, label in rows], dtype=np.int64)


def load_negation_set(path: Path) -> list[dict[str, str]]:
    """Rows of a JSONL file with `text`, `label` (negative/neutral/positive) and `set` keys."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found; give a JSONL file with text, label and set")
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        if not {"text", "label", "set"} <= set(row):
            raise ValueError(f"{path}:{number} needs text, label and set keys")
        rows.append({key: str(value) for key, value in row.items()})
    return rows


def cached_pooled(
    encoder: SentenceEncoder, texts: Sequence[str], *, cache_dir: Path | None = CACHE_DIR
) -> PooledOutput:
    """Encoder poolings of normalised texts, cached on disk by content so retraining is quick."""
    normalised = [normalize_text(text) for text in texts]
    if cache_dir is None:
        return encoder.encode_pooled(normalised)
    digest = hashlib.sha256()
    digest.update(f"{encoder.name}|{encoder.max_length}|{encoder.quantized}\n".encode())
    for text in normalised:
        digest.update(text.encode("utf-8", "surrogatepass") + b"\n")
    path = cache_dir / f"{digest.hexdigest()[:24]}.npz"
    if path.is_file():
        with np.load(path) as data:
            return PooledOutput(
                embedding=data["embedding"].astype(np.float32),
                layer_means=data["layer_means"].astype(np.float32),
                last_max=data["last_max"].astype(np.float32),
            )
    log.info("encoding %d texts (cached afterwards in %s)", len(texts), cache_dir)
    pooled = encoder.encode_pooled(normalised)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(
        tmp,
        embedding=pooled.embedding,
        layer_means=pooled.layer_means.astype(np.float16),
        last_max=pooled.last_max.astype(np.float16),
    )
    tmp.replace(path)
    return pooled


def fit_head(
    features: np.ndarray,
    labels: np.ndarray,
    *,
    label_names: Sequence[str],
    name: str,
    feature_set: str,
    encoder: str,
    hidden: Sequence[int] = (),
    epochs: int = 30,
    batch_size: int = 256,
    lr: float = 1e-3,
    weight_decay: float = 1e-2,
    dropout: float = 0.1,
    input_dropout: float = 0.0,
    balanced: bool = True,
    seed: int = 13,
    info: dict[str, object] | None = None,
) -> Head:
    """Train a softmax head (logistic regression when `hidden` is empty) with AdamW, seeded."""
    import torch

    threads = torch.get_num_threads()
    # One thread: these matrices are small, and on a busy shared CPU two threads spin-waiting
    # on each other made a fit 9x slower (45 s vs 390 s for a 1,536-text complaint head).
    torch.set_num_threads(1)
    try:
        return _fit_head(
            features, labels, label_names=label_names, name=name, feature_set=feature_set,
            encoder=encoder, hidden=hidden, epochs=epochs, batch_size=batch_size, lr=lr,
            weight_decay=weight_decay, dropout=dropout, input_dropout=input_dropout,
            balanced=balanced, seed=seed, info=info,
        )
    finally:
        torch.set_num_threads(threads)


def _fit_head(
    features: np.ndarray,
    labels: np.ndarray,
    *,
    label_names: Sequence[str],
    name: str,
    feature_set: str,
    encoder: str,
    hidden: Sequence[int],
    epochs: int,
    batch_size: int,
    lr: float,
    weight_decay: float,
    dropout: float,
    input_dropout: float,
    balanced: bool,
    seed: int,
    info: dict[str, object] | None,
) -> Head:
    import torch
    from torch import nn

    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    classes = len(label_names)
    mean = features.mean(axis=0)
    scale = features.std(axis=0) + 1e-6
    x = torch.from_numpy(((features - mean) / scale).astype(np.float32))
    y = torch.from_numpy(labels.astype(np.int64))
    counts = np.bincount(labels, minlength=classes).astype(np.float64)
    # Balanced weights optimise macro-averaged recall, TweetEval's metric.
    weights = counts.sum() / (classes * np.maximum(counts, 1)) if balanced else np.ones(classes)
    modules: list[nn.Module] = [nn.Dropout(input_dropout)] if input_dropout else []
    width = features.shape[1]
    for size in hidden:
        modules += [nn.Linear(width, size), nn.GELU(approximate="tanh"), nn.Dropout(dropout)]
        width = size
    modules.append(nn.Linear(width, classes))
    net = nn.Sequential(*modules)
    loss_fn = nn.CrossEntropyLoss(weight=torch.tensor(weights, dtype=torch.float32))
    optimizer = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay)
    steps = epochs * ((len(x) + batch_size - 1) // batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps)
    net.train()
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=generator)
        for start in range(0, len(x), batch_size):
            batch = order[start : start + batch_size]
            optimizer.zero_grad()
            loss = loss_fn(net(x[batch]), y[batch])
            loss.backward()
            optimizer.step()
            schedule.step()
    linears = [m for m in net if isinstance(m, nn.Linear)]
    layers = [
        (m.weight.detach().numpy().T.copy(), m.bias.detach().numpy().copy()) for m in linears
    ]
    return Head(
        name=name, labels=tuple(label_names), feature_set=feature_set, encoder=encoder,
        mean=mean.astype(np.float32), scale=scale.astype(np.float32), layers=layers,
        info=dict(info or {}),
    )


def classification_report(
    truth: np.ndarray, predicted: np.ndarray, classes: int
) -> dict[str, float]:
    """Macro recall, macro F1, accuracy and per-class recall/F1 (in [0, 1])."""
    report: dict[str, float] = {"count": float(len(truth))}
    recalls, f1s = [], []
    for c in range(classes):
        tp = float(np.sum((predicted == c) & (truth == c)))
        support = float(np.sum(truth == c))
        claimed = float(np.sum(predicted == c))
        recall = tp / support if support else 0.0
        precision = tp / claimed if claimed else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        report[f"recall_{c}"] = recall
        report[f"f1_{c}"] = f1
        recalls.append(recall)
        f1s.append(f1)
    report["macro_recall"] = float(np.mean(recalls))
    report["macro_f1"] = float(np.mean(f1s))
    report["accuracy"] = float(np.mean(truth == predicted)) if len(truth) else 0.0
    return report


# The shipped recipes. Sentiment was chosen on TweetEval val (sent-head-v1; `models cv
# sentiment` now compares recipes on train), complaint by `models cv complaint` inside its
# training split (five seeds merged); see models/README.md for the comparisons.
SENTIMENT_RECIPE: dict[str, Any] = {
    "feature_set": "layers+max", "hidden": (64,), "epochs": 10, "lr": 1e-3,
    "weight_decay": 0.01, "dropout": 0.5, "input_dropout": 0.3, "batch_size": 256, "seed": 13,
    "seeds": 1, "adjust": "",
}
COMPLAINT_RECIPE: dict[str, Any] = {
    "feature_set": "layers", "hidden": (64,), "epochs": 30, "lr": 1e-3,
    "weight_decay": 0.01, "dropout": 0.3, "input_dropout": 0.2, "batch_size": 64, "seed": 13,
    "seeds": 5, "adjust": "",
}
SENTIMENT_HEAD_NAME = "sent-head-v2"
COMPLAINT_HEAD_NAME = "complaint-v2"
COMPLAINT_HOLDOUT = 0.2
COMPLAINT_SPLIT_SEED = 2019


RECIPE_KEYS = frozenset(SENTIMENT_RECIPE)
# After training: none, logit offsets per class (sentiment) or a decision threshold (complaint).
ADJUSTMENTS = ("", "bias", "threshold")


def make_recipe(base: dict[str, Any], overrides: dict[str, Any] | None) -> dict[str, Any]:
    """The base recipe with some keys replaced (for `--recipe` comparisons); unknown keys fail."""
    unknown = set(overrides or {}) - RECIPE_KEYS
    if unknown:
        raise ValueError(f"unknown recipe key(s) {sorted(unknown)}; known: {sorted(RECIPE_KEYS)}")
    recipe = {**base, **(overrides or {})}
    if recipe["feature_set"] not in FEATURE_SETS:
        raise ValueError(
            f"feature_set must be one of {FEATURE_SETS}, not {recipe['feature_set']!r}"
        )
    recipe["hidden"] = tuple(int(size) for size in recipe["hidden"])
    if recipe["adjust"] not in ADJUSTMENTS:
        raise ValueError(f"adjust must be one of {ADJUSTMENTS}, not {recipe['adjust']!r}")
    return recipe


def fit_ensemble(
    features: np.ndarray, labels: np.ndarray, recipe: dict[str, Any], **names: Any
) -> Head:
    """Fit `recipe["seeds"]` heads with consecutive seeds and merge them into one Head."""
    seeds = int(recipe.get("seeds", 1))
    args = {k: v for k, v in recipe.items() if k not in {"feature_set", "seeds", "adjust"}}
    heads = []
    for offset in range(seeds):
        args["seed"] = int(recipe["seed"]) + offset
        heads.append(
            fit_head(features, labels, feature_set=recipe["feature_set"], **names, **args)
        )
    return merge_heads(heads)


def train_sentiment_head(
    folder: Path,
    *,
    cache_dir: Path | None = CACHE_DIR,
    encoder: SentenceEncoder | None = None,
    overrides: dict[str, Any] | None = None,
    folds: int = 0,
    cv: CandidateResult | None = None,
    command: str = "",
) -> Head:
    """Fit the sentiment head on `<folder>/train` and record its `<folder>/val` figures.

    With `folds` > 1 (or a recipe that adjusts its logits, which needs out-of-fold
    predictions), k-fold CV on train runs first and its figures are recorded too; `cv` gives
    that result ready-made (from `models cv sentiment --out`).
    """
    from models.sentiment import SENTIMENT_LABELS

    recipe = make_recipe(SENTIMENT_RECIPE, overrides)
    train_texts, train_labels = load_tweeteval(folder, "train")
    val_texts, val_labels = load_tweeteval(folder, "val")
    encoder = encoder or SentenceEncoder()
    feature_set = recipe["feature_set"]
    train_x = build_features(cached_pooled(encoder, train_texts, cache_dir=cache_dir), feature_set)
    val_x = build_features(cached_pooled(encoder, val_texts, cache_dir=cache_dir), feature_set)
    names = {"label_names": SENTIMENT_LABELS, "name": SENTIMENT_HEAD_NAME, "encoder": encoder.name}
    if cv is None:
        cv = _cross_validate(train_x, train_labels, recipe, folds, "macro_recall", names)
    head = fit_ensemble(train_x, train_labels, recipe, **names)
    if recipe["adjust"] == "bias" and cv is not None:
        weight, bias = head.layers[-1]
        head.layers[-1] = (weight, bias + np.asarray(cv.adjustment, dtype=np.float32))
    report = classification_report(val_labels, head.predict_proba(val_x).argmax(axis=1), 3)
    head.info = {
        "data": f"TweetEval sentiment: {len(train_texts)} train, {len(val_texts)} val",
        "command": command or "brand-monitor models train sentiment --data DIR"
                   + (f" --cv {folds}" if folds > 1 else ""),
        "recipe": json.dumps(recipe),
        "val_macro_recall": round(report["macro_recall"], 4),
        "val_accuracy": round(report["accuracy"], 4),
        "val_macro_f1": round(report["macro_f1"], 4),
    }
    if cv is not None:
        k = len(cv.fold_scores)
        head.info[f"cv{k}_macro_recall"] = round(cv.mean, 4)
        head.info[f"cv{k}_spread"] = round(cv.spread, 4)
        if recipe["adjust"] == "bias":
            head.info["logit_offsets"] = json.dumps(cv.adjustment)
    log.info("sentiment head: val macro recall %.4f", report["macro_recall"])
    return head


def _cross_validate(
    features: np.ndarray,
    labels: np.ndarray,
    recipe: dict[str, Any],
    folds: int,
    metric: str,
    names: dict[str, Any],
) -> CandidateResult | None:
    """The recipe's k-fold CV on training data (as `models cv` runs it), when asked or needed."""
    if folds <= 1 and not recipe["adjust"]:
        return None
    # Imported here: selection builds on this module's loaders and fitting.
    from models.selection import Candidate, cross_validate

    return cross_validate(
        {recipe["feature_set"]: features}, labels, recipe, [Candidate("shipped")],
        folds=max(folds, 2) if folds > 1 else 5, metric=metric, names=names,
    )[0]


def stratified_split(
    labels: np.ndarray, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """(train, holdout) row indices; each class keeps its share in the holdout."""
    rng = np.random.default_rng(seed)
    holdout: list[int] = []
    for value in np.unique(labels):
        rows = np.flatnonzero(labels == value)
        rng.shuffle(rows)
        holdout.extend(rows[: int(round(fraction * len(rows)))].tolist())
    held = np.asarray(sorted(holdout), dtype=np.int64)
    return np.setdiff1d(np.arange(len(labels)), held), held


def train_complaint_head(
    csv_path: Path,
    *,
    cache_dir: Path | None = CACHE_DIR,
    encoder: SentenceEncoder | None = None,
    overrides: dict[str, Any] | None = None,
    folds: int = 0,
    cv: CandidateResult | None = None,
    command: str = "",
) -> Head:
    """Fit the complaint head on a stratified 80% of the CSV; record figures on the other 20%.

    With `folds` > 1 (or a recipe that moves its threshold), also record k-fold CV F1 inside
    the 80%, as `models cv complaint` computes it: how the recipe was chosen without looking
    at the hold-out. `cv` gives that result ready-made (from `models cv complaint --out`).
    """
    from models.complaint import COMPLAINT_LABELS

    recipe = make_recipe(COMPLAINT_RECIPE, overrides)
    texts, labels = load_labelled_csv(csv_path)
    encoder = encoder or SentenceEncoder()
    features = build_features(
        cached_pooled(encoder, texts, cache_dir=cache_dir), recipe["feature_set"]
    )
    train, holdout = stratified_split(labels, COMPLAINT_HOLDOUT, COMPLAINT_SPLIT_SEED)
    names = {"label_names": COMPLAINT_LABELS, "name": COMPLAINT_HEAD_NAME, "encoder": encoder.name}
    if cv is None:
        cv = _cross_validate(features[train], labels[train], recipe, folds, "f1", names)
    threshold = 0.5
    if recipe["adjust"] == "threshold" and cv is not None:
        threshold = cv.adjustment[0]
    head = fit_ensemble(features[train], labels[train], recipe, **names)
    predicted = (head.predict_proba(features[holdout])[:, 1] >= threshold).astype(int)
    report = classification_report(labels[holdout], predicted, 2)
    head.info = {
        "data": f"{csv_path.name}: {len(train)} train, {len(holdout)} held out "
                f"(stratified, seed {COMPLAINT_SPLIT_SEED})",
        "command": command or "brand-monitor models train complaint --data FILE.csv"
                   + (f" --cv {folds}" if folds > 1 else ""),
        "recipe": json.dumps(recipe),
        "threshold": threshold,
        "holdout_f1_complaint": round(report["f1_1"], 4),
        "holdout_macro_f1": round(report["macro_f1"], 4),
        "holdout_accuracy": round(report["accuracy"], 4),
    }
    if cv is not None:
        k = len(cv.fold_scores)
        head.info[f"cv{k}_f1_complaint"] = round(cv.mean, 4)
        head.info[f"cv{k}_spread"] = round(cv.spread, 4)
    log.info("complaint head: hold-out F1 %.4f, macro-F1 %.4f", report["f1_1"], report["macro_f1"])
    return head


def stratified_folds(
    labels: np.ndarray, folds: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, test) index pairs of a stratified k-fold split."""
    rng = np.random.default_rng(seed)
    assignment = np.zeros(len(labels), dtype=np.int64)
    for value in np.unique(labels):
        rows = np.flatnonzero(labels == value)
        rng.shuffle(rows)
        assignment[rows] = np.arange(len(rows)) % folds
    return [
        (np.flatnonzero(assignment != k), np.flatnonzero(assignment == k)) for k in range(folds)
    ]


def calibration_error(truth: np.ndarray, probs: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: |accuracy - confidence| averaged over confidence bins."""
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == truth
    edges = np.linspace(0.0, 1.0, bins + 1)
    error = 0.0
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        inside = (confidence > low) & (confidence <= high)
        if inside.any():
            error += float(inside.mean()) * abs(
                float(correct[inside].mean()) - float(confidence[inside].mean())
            )
    return error
