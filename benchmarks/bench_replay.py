"""Replay speed and outcomes over the scenario files, against the models' own throughput.

    .venv/bin/python benchmarks/bench_replay.py [--json] [FILE.jsonl ...]

For each scenario (default: every tests/fixtures/scenarios/*.jsonl) it runs the live pipeline
in virtual time (`monitor.replay.replay`) and prints mentions/s with the incidents it opened.
Baseline, measured in the same run: the configured models alone scoring the same texts in
batches of 64 (texts/s), the part of replay no pipeline can avoid. The ratio says what the rest
of the live path (matching, dedupe, storage, clustering, volume detectors, incidents, outbox,
1,440 detection steps per virtual day) costs on top of the models.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.config import load_config
from monitor.pipeline import clean_text
from monitor.replay import read_records, replay

SCENARIOS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "scenarios"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print a table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--config", type=Path, default=SCENARIOS / "config.toml")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    files = args.files or sorted(SCENARIOS.glob("*.jsonl"))
    config = load_config(args.config)

    from models.scorer import Scorer

    started = time.perf_counter()
    scorer = Scorer.from_config(config.models)
    load_seconds = time.perf_counter() - started
    rows = []
    for path in files:
        records = read_records(path)
        texts = [clean_text(r.text) for r in records]
        started = time.perf_counter()
        for begin in range(0, len(texts), 64):
            scorer.score(texts[begin : begin + 64])
        model_rate = len(texts) / (time.perf_counter() - started)
        with tempfile.TemporaryDirectory() as scratch:
            report = asyncio.run(replay(records, config, Path(scratch) / "r.db", scorer=scorer))
        rows.append({
            "scenario": path.stem, "mentions": report.records, "seconds": round(report.seconds, 2),
            "replay_per_s": round(report.rate, 1), "models_per_s": round(model_rate, 1),
            "ratio": round(report.rate / model_rate, 3),
            "incidents": [
                f"#{i.id} {i.severity} {i.kind} {i.brand} [{i.category}] {i.status} "
                f"({i.mention_count} mentions)"
                for i in report.incidents
            ],
        })
    if args.json:
        print(json.dumps({"model_load_seconds": round(load_seconds, 2), "scenarios": rows}))
        return 0
    print(f"models loaded in {load_seconds:.1f}s (not counted below)")
    print(f"{'scenario':<18} {'mentions':>8} {'replay/s':>9} {'models/s':>9} {'ratio':>6}")
    for row in rows:
        print(f"{row['scenario']:<18} {row['mentions']:>8} {row['replay_per_s']:>9} "
              f"{row['models_per_s']:>9} {row['ratio']:>6}")
    total = sum(r["mentions"] for r in rows)
    seconds = sum(r["seconds"] for r in rows)
    print(f"{'all':<18} {total:>8} {total / seconds:>9.1f}")
    for row in rows:
        print(f"\n{row['scenario']}:")
        for line in row["incidents"] or ["no incidents"]:
            print(f"  {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
