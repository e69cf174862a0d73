"""Score the volume-spike detector on NAB's realTweets series with NAB's scorer.

    .venv/bin/python benchmarks/eval_nab.py [--data ../shared/data/nab-realtweets]
        [--scorer ../shared/eval/nab_score.py] [--out /tmp/nab-volume] [--sweep 3,4,5,6]
        [--scales 1,3,12,36,72] [--set FIELD=VALUE ...] [--skip-default]

Writes three result folders under --out: `scores/` (the detector's `onset_score` for every row,
the anomaly score of `detect_csv`, scored at NAB's best threshold), `bursts/` (`score`, which
stays high through a burst, scored the same way to show why NAB needs the onset score) and
`alerts/` (the default
alert decisions as 0/1, scored at 0.5), runs the scorer on them and prints its lines plus the
detector's speed. `--sweep` also scores the alert decisions made with other `alert_surprise`
settings and `--scales` the score and alerts with other window lengths (tuning on NAB: not the
defaults).
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.detection.volume import VolumeDetector, VolumeSettings  # noqa: E402

SERIES = ("AAPL", "GOOG", "IBM", "KO", "PFE")


def run_series(path: Path, settings: VolumeSettings) -> tuple[list[list[str]], float]:
    """Rows of timestamp,value,onset_score,alert,score for one series and the seconds spent."""
    with path.open(newline="", encoding="utf-8") as f:
        rows = [(r["timestamp"], int(r["value"])) for r in csv.DictReader(f)]
    detector = VolumeDetector(settings)
    out = []
    started = time.perf_counter()
    for stamp, value in rows:
        reading = detector.update(datetime.fromisoformat(stamp), value)
        out.append(
            [
                stamp,
                str(value),
                f"{reading.onset_score:.6f}",
                str(int(reading.alert)),
                f"{reading.score:.6f}",
            ]
        )
    return out, time.perf_counter() - started


def write(folder: Path, name: str, rows: list[list[str]], column: int) -> None:
    """One scorer input file: timestamp and the chosen column as anomaly_score."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / name).open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["timestamp", "anomaly_score"])
        writer.writerows([r[0], r[column]] for r in rows)


def main() -> None:
    """Run the detector on every series, then the scorer on the results."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/nab-realtweets")
    ap.add_argument("--scorer", type=Path, default=ROOT.parent / "shared/eval/nab_score.py")
    ap.add_argument("--out", type=Path, default=Path("/tmp/nab-volume"))
    ap.add_argument("--sweep", default="", help="comma-separated alert_surprise values")
    ap.add_argument("--scales", default="", help="comma-separated window lengths in buckets")
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="score a variant with these VolumeSettings fields (repeatable), e.g. "
        "--set sustained_scales=36,72 --set adaptive_share=0.005",
    )
    ap.add_argument("--skip-default", action="store_true", help="only score the --set variant")
    args = ap.parse_args()
    if not args.data.is_dir():
        raise SystemExit(f"NAB data not found at {args.data}; pass --data PATH to realTweets")
    if not args.skip_default:
        evaluate(args, VolumeSettings(), "", full=True)
    if args.set:
        fields = dict(parse_field(item) for item in args.set)
        print(f"== score and alerts with {fields}")
        evaluate(args, replace(VolumeSettings(), **fields), "-variant", full=True)
    for value in filter(None, args.sweep.split(",")):
        print(f"== alerts with alert_surprise={value}")
        evaluate(args, VolumeSettings(alert_surprise=float(value)), f"-{value}", full=False)
    if args.scales:
        scales = tuple(int(v) for v in args.scales.split(","))
        print(f"== score and alerts with scales={scales}")
        evaluate(args, VolumeSettings(scales=scales), "-scales", full=True)


def parse_field(item: str) -> tuple[str, Any]:
    """`name=value` as a VolumeSettings field: `1,3` a tuple, `none` None, else a float."""
    name, _, text = item.partition("=")
    if name not in VolumeSettings.__dataclass_fields__:
        raise SystemExit(f"--set {item}: VolumeSettings has no field {name!r}")
    if text.lower() == "none":
        return name, None
    if "," in text or name.endswith("scales"):
        return name, tuple(int(v) for v in text.split(",") if v)
    return name, float(text)


def evaluate(args: argparse.Namespace, settings: VolumeSettings, suffix: str, full: bool) -> None:
    """Detector over every series, then the scorer: anomaly scores (if full) and alerts."""
    buckets, seconds, alerts = 0, 0.0, 0
    for ticker in SERIES:
        name = f"Twitter_volume_{ticker}.csv"
        rows, spent = run_series(args.data / name, settings)
        buckets, seconds = buckets + len(rows), seconds + spent
        alerts += sum(r[3] == "1" for r in rows)
        write(args.out / f"scores{suffix}", name, rows, 2)
        write(args.out / f"bursts{suffix}", name, rows, 4)
        write(args.out / f"alerts{suffix}", name, rows, 3)
    windows = str(args.data / "windows.json")
    speed = buckets / seconds
    print(f"{buckets} buckets in {seconds:.2f} s: {speed:,.0f} buckets/s; {alerts} alerts")
    runs = [("alerts (0/1 at 0.5)", f"alerts{suffix}", ["--threshold", "0.5"])]
    if full:
        runs[:0] = [
            ("onset_score (anomaly score), best threshold", f"scores{suffix}", []),
            ("score (stays high in a burst), best threshold", f"bursts{suffix}", []),
        ]
    for label, folder, extra in runs:
        print(f"== {label}")
        command = [sys.executable, str(args.scorer), str(args.out / folder), "--windows", windows]
        subprocess.run(command + extra, check=True)


if __name__ == "__main__":
    main()
