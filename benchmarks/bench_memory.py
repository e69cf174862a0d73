"""Resident memory of the real daemon over a long stream of pushed mentions (flat or growing?).

    .venv/bin/python benchmarks/bench_memory.py [--mentions 100000] [--batch 100]
        [--sample-every 10] [--texts FILE.csv] [--json]

Starts `brand-monitor run` in a subprocess with one signed webhook source and the embedded
models, then pushes `--mentions` mentions in batches of `--batch`, each batch once the scoring
queue (read from /metrics) is below two batches: a closed loop at the rate the daemon sustains,
so the queue does not count as growth. Texts come from `--texts` (a CSV with a `text` column,
for example the shared support stream) or, by default, are generated: complaints, questions,
praise and claims of varied length, so the models see the range of shapes a real stream has.

Samples the daemon's RSS (/proc/PID/status) every `--sample-every` seconds. Baseline, measured
in the same run: the daemon's RSS once its models have loaded, before the first push. Reports
the peak, the last sample, their ratio to the baseline, and the slope (MB per 10,000 mentions)
fitted over the second half of the run, where a leak shows and warm-up does not.

Exits 1 if the daemon dies or stops accepting pushes.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectors.webhook import sign

SECRET = "bench-memory-secret-0123456789"
SUBJECTS = ["app", "playlist", "premium plan", "family plan", "desktop app", "car mode",
            "podcast", "offline download", "smart speaker", "wrapped", "shuffle", "lyrics"]
COMPLAINTS = ["keeps crashing", "won't load", "skips every song", "logged me out again",
              "charged me twice", "lost all my downloads", "is so slow today", "stopped syncing"]
CLAIMS = ["leaked my card details", "is a scam, they stole my money",
          "made my phone overheat and burn my hand", "is selling our data to advertisers",
          "got hacked, change your passwords", "should be boycotted, #DeleteAcme"]
PRAISE = ["is the best thing ever", "made my commute", "finally fixed the bug, thanks",
          "recommendations are spot on"]


def generated_texts(count: int, seed: int = 7) -> list[str]:
    """Varied mention texts (a few words to a few sentences) naming the brand Acme."""
    rnd = random.Random(seed)
    texts = []
    for n in range(count):
        kind = rnd.random()
        subject = rnd.choice(SUBJECTS)
        if kind < 0.55:
            core = f"@AcmeCares the {subject} {rnd.choice(COMPLAINTS)}"
        elif kind < 0.7:
            core = f"Acme {subject} {rnd.choice(CLAIMS)}"
        elif kind < 0.85:
            core = f"Acme {subject} {rnd.choice(PRAISE)}"
        else:
            core = f"does anyone know why the Acme {subject} {rnd.choice(COMPLAINTS)}?"
        tail = " ".join(rnd.choice(SUBJECTS + COMPLAINTS) for _ in range(rnd.randrange(0, 25)))
        texts.append(f"{core} {tail} #{n}".strip())
    return texts


def csv_texts(path: Path) -> list[str]:
    """The `text` column of a CSV (the brand must be configured to match them: see --brand)."""
    with path.open(newline="", encoding="utf-8") as handle:
        return [row["text"] for row in csv.DictReader(handle) if row.get("text")]


class Daemon:
    """`brand-monitor run` on a temporary config; its output kept for the report."""

    def __init__(self, workdir: Path, brand: str, alias: str) -> None:
        config = workdir / "config.toml"
        config.write_text(textwrap.dedent(f"""
            [[brands]]
            name = "{brand}"
            aliases = ["{alias}"]
            [[sources]]
            kind = "webhook"
            name = "push"
            secret = {{ env = "BENCH_PUSH_SECRET" }}
            max_body_bytes = 10000000
            [storage]
            path = "{workdir / 'bench.db'}"
            [server]
            port = 0
        """))
        env = {**os.environ, "BENCH_PUSH_SECRET": SECRET, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "run", "--config", str(config)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
        )
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    def wait_for(self, needle: str, timeout: float = 300) -> str:
        deadline = time.monotonic() + timeout
        while True:
            for line in self.lines:
                if needle in line:
                    return line
            if self.proc.poll() is not None or time.monotonic() > deadline:
                output = "".join(self.lines)
                raise SystemExit(f"daemon did not get to {needle!r}:\n{output}")
            time.sleep(0.05)

    def rss_mb(self) -> float:
        with open(f"/proc/{self.proc.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def scoring_queue(base: str) -> float:
    """The daemon's scoring queue depth from /metrics."""
    with urllib.request.urlopen(base + "/metrics", timeout=30) as resp:
        text = resp.read().decode()
    match = re.search(r'brand_monitor_queue_depth\{queue="scoring"\} (\S+)', text)
    return float(match.group(1)) if match else 0.0


def push(base: str, batch: list[dict[str, object]]) -> None:
    body = json.dumps({"mentions": batch}).encode()
    request = urllib.request.Request(base + "/ingest/push", data=body, headers={
        "Content-Type": "application/json",
        "X-Brand-Monitor-Signature": sign(SECRET, body, int(time.time())),
    })
    with urllib.request.urlopen(request, timeout=60) as resp:
        resp.read()


def slope_per_10k(points: list[tuple[int, float]]) -> float:
    """Least-squares slope of RSS (MB) against mentions pushed, per 10,000 mentions."""
    if len(points) < 2:
        return 0.0
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mean_x) ** 2 for x in xs)
    if var == 0:
        return 0.0
    cov = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    return cov / var * 10_000


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--sample-every", type=float, default=10.0)
    parser.add_argument("--texts", type=Path, help="CSV with a text column (default: generated)")
    parser.add_argument("--brand", default="Acme", help="brand name the texts mention")
    parser.add_argument("--alias", default="AcmeCares", help="a second name for the brand")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    texts = csv_texts(args.texts) if args.texts else generated_texts(20_000)
    rnd = random.Random(11)

    with tempfile.TemporaryDirectory() as scratch:
        daemon = Daemon(Path(scratch), args.brand, args.alias)
        try:
            base = daemon.wait_for("HTTP server on ").split("HTTP server on ", 1)[1].strip()
            daemon.wait_for("models loaded")
            time.sleep(2)
            baseline = daemon.rss_mb()
            samples: list[tuple[float, int, float]] = [(0.0, 0, baseline)]
            started = last_sample = time.monotonic()
            pushed = 0
            while pushed < args.mentions:
                while scoring_queue(base) > 2 * args.batch:
                    time.sleep(0.05)
                batch = []
                for _ in range(min(args.batch, args.mentions - pushed)):
                    pushed += 1
                    batch.append({
                        "id": f"m{pushed}", "text": f"{rnd.choice(texts)} ({pushed})",
                        "author": f"user{rnd.randrange(20_000)}",
                        "author_reach": rnd.randrange(10, 20_000),
                    })
                push(base, batch)
                now = time.monotonic()
                if now - last_sample >= args.sample_every:
                    last_sample = now
                    samples.append((round(now - started, 1), pushed, daemon.rss_mb()))
                    if not args.json:
                        print(f"  {samples[-1][0]:7.0f} s  {pushed:7d} pushed  "
                              f"{samples[-1][2]:6.0f} MB", flush=True)
            while scoring_queue(base) > 0:
                time.sleep(0.2)
            elapsed = time.monotonic() - started
            samples.append((round(elapsed, 1), pushed, daemon.rss_mb()))
        finally:
            daemon.stop()

    second_half = [(n, mb) for _, n, mb in samples if n >= pushed / 2]
    peak = max(mb for _, _, mb in samples)
    result = {
        "mentions": pushed,
        "seconds": round(elapsed, 1),
        "mentions_per_s": round(pushed / elapsed, 1),
        "baseline_mb": round(baseline, 1),
        "peak_mb": round(peak, 1),
        "last_mb": round(samples[-1][2], 1),
        "peak_ratio": round(peak / baseline, 3),
        "last_ratio": round(samples[-1][2] / baseline, 3),
        "slope_mb_per_10k_second_half": round(slope_per_10k(second_half), 2),
        "samples": len(samples),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"mentions {pushed} in {elapsed:.0f} s ({result['mentions_per_s']}/s)")
        print(f"baseline (models loaded, idle) {baseline:.0f} MB")
        print(f"peak {peak:.0f} MB (x{result['peak_ratio']}), last {samples[-1][2]:.0f} MB "
              f"(x{result['last_ratio']})")
        print(f"slope over the second half: {result['slope_mb_per_10k_second_half']} MB "
              "per 10,000 mentions")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
