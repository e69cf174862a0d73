"""Per-category precision/recall/F1 of the harm-claim classifier on the labelled eval set."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from models.harm import HarmClassifier  # noqa: E402
from monitor.records import HARM_CATEGORIES  # noqa: E402

EVAL_SET = ROOT / "tests" / "fixtures" / "harm_eval.jsonl"


def load(path: Path, split: str, batch: int | None = None) -> list[dict[str, str]]:
    """Rows of the eval set in `split` (train, test or all), optionally of one writing batch."""
    rows = [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    return [
        r
        for r in rows
        if (split == "all" or r.get("split", "train") == split)
        and (batch is None or r.get("batch", 1) == batch)
    ]


def report(gold: list[str], pred: list[str]) -> dict[str, dict[str, float]]:
    """Precision, recall, F1 and support per category, plus macro averages over the 8 labels."""
    out: dict[str, dict[str, float]] = {}
    for label in HARM_CATEGORIES:
        tp = sum(g == p == label for g, p in zip(gold, pred, strict=True))
        fp = sum(p == label != g for g, p in zip(gold, pred, strict=True))
        fn = sum(g == label != p for g, p in zip(gold, pred, strict=True))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[label] = {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}
    out["macro"] = {
        k: sum(out[c][k] for c in HARM_CATEGORIES) / len(HARM_CATEGORIES)
        for k in ("precision", "recall", "f1")
    }
    out["macro"]["support"] = len(gold)
    out["macro"]["accuracy"] = sum(g == p for g, p in zip(gold, pred, strict=True)) / max(
        len(gold), 1
    )
    return out


def main() -> None:
    """Run the classifier over the eval set and print the table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--split", choices=("train", "test", "all"), default="test")
    parser.add_argument("--backend", choices=("lexicon", "prototypes"), default="prototypes")
    parser.add_argument("--data", type=Path, default=EVAL_SET)
    parser.add_argument(
        "--batch", type=int, choices=(1, 2), help="only posts of this writing batch"
    )
    parser.add_argument("--errors", action="store_true", help="list misclassified texts")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    rows = load(args.data, args.split, args.batch)
    encoder = None
    if args.backend == "prototypes":
        from models.encoder import SentenceEncoder

        encoder = SentenceEncoder()
    classifier = HarmClassifier(encoder, backend=args.backend)
    started = time.perf_counter()
    results = classifier.predict([r["text"] for r in rows])
    elapsed = time.perf_counter() - started
    gold = [r["label"] for r in rows]
    pred = [r.category for r in results]
    table = report(gold, pred)
    if args.json:
        print(
            json.dumps({"split": args.split, "backend": args.backend, "metrics": table}, indent=2)
        )
        return
    batch = f" batch={args.batch}" if args.batch else ""
    print(
        f"harm eval: split={args.split}{batch} backend={args.backend} n={len(rows)} "
        f"({len(rows) / elapsed:.0f} texts/s incl. encoding)"
    )
    print(f"{'category':<24}{'precision':>10}{'recall':>8}{'f1':>8}{'support':>9}")
    for label in (*HARM_CATEGORIES, "macro"):
        m = table[label]
        print(
            f"{label:<24}{m['precision']:>10.3f}{m['recall']:>8.3f}{m['f1']:>8.3f}{int(m['support']):>9}"
        )
    print(f"accuracy {table['macro']['accuracy']:.3f}")
    by_lang = Counter(r["lang"] for r in rows)
    right = Counter(r["lang"] for r, p in zip(rows, pred, strict=True) if r["label"] == p)
    print(
        "accuracy by language: "
        + ", ".join(f"{k} {right[k] / n:.2f}" for k, n in sorted(by_lang.items()))
    )
    if args.errors:
        for r, res in zip(rows, results, strict=True):
            if r["label"] != res.category:
                print(
                    f"  [{r['lang']}] gold={r['label']} pred={res.category} {res.confidence:.2f} "
                    f"{res.evidence} vetoed={res.vetoed} :: {r['text']}"
                )


if __name__ == "__main__":
    main()
