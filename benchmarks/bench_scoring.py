"""Scoring throughput: Scorer.score vs the bare encoder and a one-text-at-a-time pipeline loop.

Run: .venv/bin/python benchmarks/bench_scoring.py [--texts 512] [--threads 2] [--json]
Each variant (fp32, int8) runs in its own process so load time and resident memory are its own.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BRANDS = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay"]
OPENERS = ["Just tried", "Honestly", "Wow,", "Can't believe", "Anyone else think", "Update:",
           "PSA:", "So", "Day 3 and", "Shoutout to"]
BODIES = [
    "the new {b} app keeps crashing every time I open it",
    "{b} support fixed my problem in five minutes, impressed",
    "my {b} order arrived broken and nobody answers the phone",
    "{b} yogurt made my whole family sick last night",
    "is {b} down again? can't log in since this morning",
    "{b} just announced a recall of their baby formula",
    "loving the {b} summer collection, great quality",
    "{b} charged my card twice and refuses a refund, total scam",
    "{b} leaked customer passwords according to this report",
    "we are boycotting {b} after what the CEO said",
    "the {b} store on main street opens at nine",
]
TAILS = ["", " #fail", " 😡", " 🙌", " http://t.co/abc123", " @{b}help", " lol", " !!!",
         " thread below", " #customerservice"]


def synthetic_texts(count: int, seed: int = 7) -> list[str]:
    """Tweet-like mentions built from templates (no external data)."""
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        brand = rng.choice(BRANDS)
        parts = [rng.choice(OPENERS), rng.choice(BODIES), rng.choice(TAILS)]
        if rng.random() < 0.4:
            parts.append(" " + rng.choice(BODIES))
        texts.append((" ".join(parts[:2]) + "".join(parts[2:])).format(b=brand))
    return texts


def rss_mib() -> float:
    """Resident memory of this process in MiB (Linux /proc, else ru_maxrss)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def child(variant: str, count: int, threads: int, loop_count: int) -> dict[str, Any]:
    """Measure one variant in this process."""
    import torch

    from models.scorer import Scorer
    from models.settings import ModelsConfig

    torch.set_num_threads(threads)
    texts = synthetic_texts(count)
    before = rss_mib()
    started = time.perf_counter()
    scorer = Scorer.from_config(ModelsConfig(quantize=variant == "int8", threads=threads))
    load_s = time.perf_counter() - started
    rss_after_load = rss_mib()
    scorer.score(texts[:64])  # warm-up: first calls allocate and pick kernels

    encoder = scorer.encoder
    batch = scorer.config.batch_size
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))

    def bare() -> None:
        # Tokenise + forward only, same batches (length-sorted) as the scorer uses.
        with torch.inference_mode():
            for start in range(0, len(texts), batch):
                chunk = [texts[i] for i in order[start : start + batch]]
                tokens = encoder.tokenizer(chunk, padding=True, truncation=True,
                                           max_length=encoder.max_length, return_tensors="pt")
                encoder.model(**tokens)

    # Interleave repeats so that load from other processes hits both sides alike.
    bare_s, score_s = [], []
    for _ in range(3):
        started = time.perf_counter()
        bare()
        bare_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        scorer.score(texts)
        score_s.append(time.perf_counter() - started)
    result: dict[str, Any] = {
        "variant": variant,
        "texts": count,
        "threads": threads,
        "load_s": load_s,
        "rss_before_mib": before,
        "rss_after_load_mib": rss_after_load,
        "bare_tps": _rate(count, min(bare_s)),
        "score_tps": _rate(count, min(score_s)),
    }
    if variant == "fp32":
        result["pipeline_tps"] = pipeline_loop_rate(texts[:loop_count])
    result["rss_end_mib"] = rss_mib()
    return result


def pipeline_loop_rate(texts: list[str]) -> float:
    """A transformers text-classification pipeline on the same encoder, called once per text."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline
    from transformers.utils import logging as hf_logging

    from models.encoder import embedded_encoder_dir

    hf_logging.set_verbosity_error()  # the new classification layer is untrained: expected here
    source = str(embedded_encoder_dir())
    model = AutoModelForSequenceClassification.from_pretrained(source, num_labels=3)
    classify = pipeline("text-classification", model=model,
                        tokenizer=AutoTokenizer.from_pretrained(source), device="cpu")
    for text in texts[:8]:
        classify(text)
    started = time.perf_counter()
    for text in texts:
        classify(text, truncation=True, max_length=128)
    return _rate(len(texts), time.perf_counter() - started)


def main() -> None:
    """Run both variants in child processes and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=512)
    parser.add_argument("--loop-texts", type=int, default=192)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", choices=["fp32", "int8"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.texts, args.threads, args.loop_texts)))
        return
    results = {}
    for variant in ("fp32", "int8"):
        out = subprocess.run(
            [sys.executable, __file__, "--child", variant, "--texts", str(args.texts),
             "--threads", str(args.threads), "--loop-texts", str(args.loop_texts)],
            check=True, capture_output=True, text=True,
        ).stdout
        results[variant] = json.loads(out.strip().splitlines()[-1])
    fp32, int8 = results["fp32"], results["int8"]
    summary = {
        "fp32": fp32,
        "int8": int8,
        "scorer_overhead_vs_bare_fp32": 1 - fp32["score_tps"] / fp32["bare_tps"],
        "scorer_overhead_vs_bare_int8": 1 - int8["score_tps"] / int8["bare_tps"],
        "speedup_vs_pipeline_loop": fp32["score_tps"] / fp32["pipeline_tps"],
        "int8_speedup": int8["score_tps"] / fp32["score_tps"],
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print(f"{args.texts} synthetic texts, {args.threads} torch threads "
          f"(pipeline loop on {args.loop_texts})")
    print(f"{'':28}{'fp32':>12}{'int8':>12}")
    rows = [
        ("Scorer.score texts/s", "score_tps", "{:12.1f}"),
        ("bare encoder texts/s", "bare_tps", "{:12.1f}"),
        ("load seconds", "load_s", "{:12.2f}"),
        ("RSS after load MiB", "rss_after_load_mib", "{:12.0f}"),
        ("RSS at end MiB", "rss_end_mib", "{:12.0f}"),
    ]
    for label, key, fmt in rows:
        print(f"{label:28}" + fmt.format(fp32[key]) + fmt.format(int8[key]))
    print(f"{'pipeline loop texts/s':28}" + "{:12.1f}".format(fp32["pipeline_tps"]))
    print(f"scorer overhead vs bare encoder: fp32 {summary['scorer_overhead_vs_bare_fp32']:.1%}, "
          f"int8 {summary['scorer_overhead_vs_bare_int8']:.1%}  (target < 15%)")
    print(f"Scorer.score vs one-text pipeline loop: {summary['speedup_vs_pipeline_loop']:.1f}x "
          "(target >= 5x)")
    print(f"int8 vs fp32 Scorer.score: {summary['int8_speedup']:.2f}x")


if __name__ == "__main__":
    main()
