"""End-to-end throughput of 1, 2 and 3 daemons sharing one PostgreSQL database, against one
daemon on SQLite, in the same run on the same machine.

Each setup starts real `brand-monitor run` daemons (the embedded models, one signed webhook
source; several daemons get one config and a fresh database of their own on the server), waits
until their models have loaded, pushes a warm-up of 100 mentions and waits for it, then pushes
`--mentions` mentions in batches of `--batch` spread round-robin over the daemons, and stops
the clock when every one is stored, scored and (PostgreSQL) read by the detection leader.
mentions/s = mentions / that time. Ratios are against the SQLite daemon of the same run.

The PostgreSQL server is given by URL (its maintenance database, e.g. `postgres`); the script
creates a database per setup there and drops it afterwards. Not named bench_*: it needs a
server (`make bench` runs those without arguments).

    .venv/bin/python benchmarks/scale_out_postgres.py \\
        --url postgresql://user@127.0.0.1:5432/postgres [--mentions 3000] [--batch 100] \\
        [--daemons 1,2,3] [--threads N] [--json]

`--threads` sets each daemon's torch threads (`[models] threads`); by default torch picks.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_memory import generated_texts
from tests.daemon_cluster import Daemon, counts, daemon_config, make_daemons, push

WARMUP = 100


def database_url(server: str, name: str) -> str:
    """The server URL with another database name."""
    parts = urlsplit(server)
    return urlunsplit(parts._replace(path=f"/{name}"))


def processed(location: str | Path) -> int:
    """Mentions stored, scored and (PostgreSQL) read by detection; -1 while some are not."""
    if isinstance(location, Path):
        if not location.exists():
            return -1
        with sqlite3.connect(f"file:{location}?mode=ro", uri=True) as conn:
            mentions = conn.execute("SELECT count(*) FROM mentions").fetchone()[0]
            scored = conn.execute("SELECT count(*) FROM scores").fetchone()[0]
        return int(mentions) if mentions == scored else -1
    now = counts(location)
    done = now["mentions"] == now["scored"] and now["detection_queue"] == 0
    return now["mentions"] if done else -1


async def wait_processed(location: str | Path, total: int, timeout: float) -> float:  # noqa: ASYNC109
    """Seconds until `total` mentions are processed (raises after `timeout`)."""
    started = time.monotonic()
    while await asyncio.to_thread(processed, location) != total:
        if time.monotonic() - started > timeout:
            raise SystemExit(f"not all {total} mentions were processed within {timeout:.0f} s")
        await asyncio.sleep(0.2)
    return time.monotonic() - started


def batches(texts: list[str], start: int, count: int, size: int) -> list[list[dict[str, object]]]:
    """`count` mentions from id `start`, in batches of `size`."""
    rnd = random.Random(start)
    out: list[list[dict[str, object]]] = []
    for first in range(start, start + count, size):
        out.append([
            {"id": f"m{i}", "text": f"{rnd.choice(texts)} ({i})", "author": f"user{i % 5000}"}
            for i in range(first, min(first + size, start + count))
        ])
    return out


async def push_all(daemons: list[Daemon], work: list[list[dict[str, object]]]) -> None:
    """Push every batch, round-robin over the daemons, one request in flight per daemon."""
    async with aiohttp.ClientSession() as session:

        async def sender(daemon: Daemon, mine: list[list[dict[str, object]]]) -> None:
            assert daemon.base is not None
            for batch in mine:
                if not await push(session, daemon.base, batch):
                    raise SystemExit(f"daemon {daemon.name} refused a push")

        await asyncio.gather(*(
            sender(d, work[n::len(daemons)]) for n, d in enumerate(daemons)
        ))


async def run_setup(
    label: str, location: str | Path, daemons: int, texts: list[str], mentions: int,
    batch: int, threads: int | None, workdir: Path,
) -> dict[str, object]:
    """Start the daemons, warm them up, time `mentions` end to end; stop them."""
    config = daemon_config(location, hook_url=None, heartbeat=5.0, lease=30.0, claim=120.0)
    if threads:
        config += f"\n[models]\nthreads = {threads}\n"
    started = make_daemons(workdir, daemons, config)
    try:
        for daemon in started:
            await daemon.start()
        for daemon in started:
            await daemon.ready()
        await push_all(started, batches(texts, 0, WARMUP, batch))
        await wait_processed(location, WARMUP, 600)
        clock = time.monotonic()
        await push_all(started, batches(texts, WARMUP, mentions, batch))
        pushed_s = time.monotonic() - clock
        await wait_processed(location, WARMUP + mentions, 1800)
        elapsed = time.monotonic() - clock
    finally:
        for daemon in started:
            await daemon.stop()
    rate = mentions / elapsed
    print(f"{label:>16}: {mentions} mentions in {elapsed:6.1f} s = {rate:6.1f}/s "
          f"(pushes accepted in {pushed_s:.1f} s)", flush=True)
    return {"setup": label, "daemons": daemons, "seconds": round(elapsed, 2),
            "mentions_per_s": round(rate, 1), "push_seconds": round(pushed_s, 2)}


async def main_async(args: argparse.Namespace) -> list[dict[str, object]]:
    # Those that name the brand itself: the daemons' config has no alias (@AcmeCares).
    texts = [t for t in generated_texts(5000) if "Acme " in t]
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        sqlite_dir = root / "sqlite"
        sqlite_dir.mkdir()
        results.append(await run_setup(
            "sqlite x1", sqlite_dir / "bench.db", 1, texts, args.mentions, args.batch,
            args.threads, sqlite_dir,
        ))
        for count in args.daemons:
            name = f"bm_scale_{os.getpid()}_{count}"
            with psycopg.connect(args.url, autocommit=True) as admin:
                admin.execute(f"CREATE DATABASE {name}")
            workdir = root / f"pg{count}"
            workdir.mkdir()
            try:
                results.append(await run_setup(
                    f"postgresql x{count}", database_url(args.url, name), count, texts,
                    args.mentions, args.batch, args.threads, workdir,
                ))
            finally:
                with psycopg.connect(args.url, autocommit=True) as admin:
                    admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    return results


def main(argv: list[str] | None = None) -> int:
    """Run every setup and print mentions/s with ratios to the SQLite daemon."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="PostgreSQL maintenance database URL")
    parser.add_argument("--mentions", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--daemons", default="1,2,3", help="daemon counts on PostgreSQL")
    parser.add_argument("--threads", type=int, help="torch threads per daemon")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    args.daemons = [int(n) for n in args.daemons.split(",")]
    print(f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f} at start", flush=True)
    results = asyncio.run(main_async(args))
    baseline = float(results[0]["mentions_per_s"])  # type: ignore[arg-type]
    for row in results:
        row["ratio_to_sqlite"] = round(float(row["mentions_per_s"]) / baseline, 2)  # type: ignore[arg-type]
    print(f"load average {os.getloadavg()[0]:.2f} at end")
    for row in results:
        print(f"{row['setup']:>16}: {row['mentions_per_s']:>7}/s  x{row['ratio_to_sqlite']}")
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
