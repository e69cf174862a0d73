"""Harm-claim reading on hard cases: precision and recall per kind and language, real path.

Each post of `tests/fixtures/harm_stance_eval.jsonl` is scored as the daemon scores it (the
embedded Scorer on the text with the brand's names masked) and read by
`monitor.detection.assertion.assess` on the original text. Its outcome is "claim:<category>"
(stance claim), "counter" (fact-check, debunk, denial) or "none" (stance support or none:
neither starts a claim). Kinds: claim, negation, denial, debunk, positive (praise with
medical or harm words), exclamation (a question that asserts, "...and you're still boarding??")
and question (a genuine one). The split is fixed by a hash of the text (a third is test).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.detection.assertion import Assertion, assess  # noqa: E402
from monitor.detection.settings import DetectionConfig  # noqa: E402
from monitor.records import Mention, Score  # noqa: E402

EVAL_SET = ROOT / "tests" / "fixtures" / "harm_stance_eval.jsonl"
KINDS = ("claim", "exclamation", "negation", "positive", "question", "denial", "debunk")
OUTCOMES = ("claim", "counter", "none")
AT = datetime(2026, 1, 1, tzinfo=UTC)


def split_of(text: str) -> str:
    """The split a text belongs to, fixed by its hash: one third test, two thirds train."""
    return "test" if hashlib.sha256(text.encode("utf-8")).digest()[0] % 3 == 0 else "train"


def load(path: Path = EVAL_SET, split: str = "all") -> list[dict[str, Any]]:
    """Rows of `split` (train, test or all); a row whose split is not its hash's is an error."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    for row in rows:
        if row["split"] != split_of(row["text"]):
            raise ValueError(f"row split {row['split']!r} is not the hash's: {row['text']!r}")
    return [r for r in rows if split in ("all", r["split"])]


def outcome(said: Assertion) -> str:
    """What the reading means for alerting: a claim of one category, counter-evidence, or none."""
    if said.stance == "claim":
        return f"claim:{said.category}"
    return "counter" if said.stance == "counter" else "none"


def read(
    rows: Sequence[dict[str, Any]], scorer: Any, settings: DetectionConfig | None = None
) -> list[str]:
    """The outcome of each row, scored and read as the daemon reads a mention."""
    from monitor.scoring import brand_masker

    settings = settings or DetectionConfig()
    masked = [brand_masker(row["brand"])(row["text"]) for row in rows]
    scores: list[Score] = scorer.score(masked)
    out = []
    for index, (row, score) in enumerate(zip(rows, scores, strict=True)):
        mention = Mention(
            platform="x", external_id=f"stance-{index}", text=row["text"], author=f"u{index}",
            published_at=AT, fetched_at=AT, brands=(row["brand"][0],), id=index + 1,
        )
        out.append(outcome(assess(mention, score, settings)))
    return out


def _group(label: str) -> str:
    return label.split(":")[0]


def metrics(rows: Sequence[dict[str, Any]], predicted: Sequence[str]) -> dict[str, Any]:
    """Recall per kind; precision and recall per outcome (a claim is right only in its category)."""
    kinds: dict[str, dict[str, Any]] = {}
    for kind in KINDS:
        pairs = [(r["expected"], p) for r, p in zip(rows, predicted, strict=True)
                 if r["kind"] == kind]
        if pairs:
            kinds[kind] = {
                "n": len(pairs),
                "recall": sum(g == p for g, p in pairs) / len(pairs),
                "read_as": dict(Counter(_group(p) for _, p in pairs)),
            }
    outcomes: dict[str, dict[str, float]] = {}
    for group in OUTCOMES:
        gold = [_group(r["expected"]) == group for r in rows]
        said = [_group(p) == group for p in predicted]
        right = [g and r["expected"] == p for g, r, p in zip(gold, rows, predicted, strict=True)]
        outcomes[group] = {
            "n": sum(gold),
            "precision": sum(right) / sum(said) if any(said) else 0.0,
            "recall": sum(right) / sum(gold) if any(gold) else 0.0,
        }
    accuracy = sum(r["expected"] == p for r, p in zip(rows, predicted, strict=True))
    return {"n": len(rows), "accuracy": accuracy / max(len(rows), 1), "kinds": kinds,
            "outcomes": outcomes}


def report(rows: Sequence[dict[str, Any]], predicted: Sequence[str]) -> dict[str, Any]:
    """Metrics over all rows and per language."""
    langs = sorted({r["lang"] for r in rows})
    by_lang = {}
    for lang in langs:
        pairs = [(r, p) for r, p in zip(rows, predicted, strict=True) if r["lang"] == lang]
        by_lang[lang] = metrics([r for r, _ in pairs], [p for _, p in pairs])
    return {"all": metrics(rows, predicted), "languages": by_lang}


def print_report(split: str, table: dict[str, Any]) -> None:
    """The tables: per kind, per outcome, per language."""
    total = table["all"]
    print(f"stance eval: split={split} n={total['n']} accuracy {total['accuracy']:.3f}")
    print(f"{'kind':<13}{'n':>4}{'recall':>8}   read as")
    for kind, m in total["kinds"].items():
        read_as = ", ".join(f"{k} {v}" for k, v in sorted(m["read_as"].items()))
        print(f"{kind:<13}{m['n']:>4}{m['recall']:>8.2f}   {read_as}")
    print(f"{'outcome':<13}{'n':>4}{'precision':>10}{'recall':>8}")
    for group, m in total["outcomes"].items():
        print(f"{group:<13}{int(m['n']):>4}{m['precision']:>10.2f}{m['recall']:>8.2f}")
    print(f"{'language':<9}{'n':>4}{'acc':>6}  claim P/R   counter P/R  none P/R   "
          "kind recall")
    for lang, m in table["languages"].items():
        o = m["outcomes"]
        kinds = " ".join(f"{k[:4]} {v['recall']:.2f}" for k, v in m["kinds"].items())
        print(
            f"{lang:<9}{m['n']:>4}{m['accuracy']:>6.2f}  "
            + "  ".join(f"{o[g]['precision']:.2f}/{o[g]['recall']:.2f}" for g in OUTCOMES)
            + f"   {kinds}"
        )


def main(argv: list[str] | None = None) -> int:
    """Score the set with the embedded models and print the tables (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--split", choices=("train", "test", "all"), default="train")
    parser.add_argument("--data", type=Path, default=EVAL_SET)
    parser.add_argument("--errors", action="store_true", help="list the posts read wrong")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    from models.scorer import Scorer

    rows = load(args.data, args.split)
    predicted = read(rows, Scorer.from_config())
    table = report(rows, predicted)
    if args.json:
        print(json.dumps({"split": args.split, **table}, indent=2))
    else:
        print_report(args.split, table)
    if args.errors:
        for row, said in zip(rows, predicted, strict=True):
            if said != row["expected"]:
                print(f"  [{row['lang']} {row['kind']}] want {row['expected']} got {said} :: "
                      f"{row['text']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
