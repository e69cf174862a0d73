"""Retention pruning at scale: how long the store's writer thread is held, and what waits behind it.

Builds a store of --mentions mentions (1M by default; --per-day a day, so the oldest day holds
14,001 of them), each with brands, a score and engagement snapshots, and --evidence of them
attached to incidents (25 per incident). Then prunes the oldest --days with `Store.prune` while
a probe writes a source state every 10 ms, as the pollers would, and reports the longest single
write job on the writer thread and the longest wait the probe saw.

Baseline, in the same run, on a copy of the same file: the previous prune, one DELETE statement
in one write job, on the schema without migration 5's indexes.

    .venv/bin/python benchmarks/bench_prune.py [--mentions 1000000] [--days 1] [--keep DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.clock import iso
from monitor.store import BUCKET_SECONDS, PRUNE_BATCH, SourceState, Store, Tx, bucket_start

START = datetime(2026, 1, 1, tzinfo=UTC)
BRANDS = [f"Brand{i}" for i in range(10)]
WORDS = (
    "the new flavour is great but delivery took ages and support never answered my email "
    "launch event today prices went up again recall lawsuit store opening weekend sale "
    "made me sick after drinking it refund please broken on arrival love this so much "
    "customer service scam warning data breach leaked passwords outage again today"
).split()
CHUNK = 50_000


@dataclass
class PruneRun:
    """What one prune did to the writer thread."""

    removed: int
    total_s: float
    longest_hold_s: float
    jobs: int
    probe_longest_wait_s: float
    probe_writes: int


def build(path: Path, mentions: int, per_day: int, evidence: int, seed: int = 11) -> None:
    """Create the schema through Store, then bulk-insert the rows with plain SQL (fast)."""
    asyncio.run(_create_schema(path))
    rng = random.Random(seed)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    step = 86_400 / per_day
    buckets: dict[tuple[str, str], int] = {}
    every = max(1, mentions // evidence) if evidence else 0
    attached: list[int] = []
    for first in range(0, mentions, CHUNK):
        rows, brand_rows, score_rows, snapshots = [], [], [], []
        for i in range(first + 1, min(first + CHUNK, mentions) + 1):
            seen = START + timedelta(seconds=(i - 1) * step)
            brands = rng.sample(BRANDS, 2 if rng.random() < 0.1 else 1)
            text = " ".join(rng.choices(WORDS, k=rng.randint(8, 30)))
            rows.append((
                i, "rss", f"item-{i}", f"feed{i % 20}", f"https://news.example/{i}",
                f"https://news.example/{i}", None, f"{brands[0]} {text}", f"user{i % 5000}",
                rng.randint(10, 100_000), iso(seen), iso(seen), iso(seen), "en", None,
                json.dumps(brands),
            ))
            brand_rows += [(i, b) for b in brands]
            negative = rng.random() < 0.3
            score_rows.append((
                i, "negative" if negative else "neutral", 0.7 if negative else 0.1, 0.2, 0.1,
                0.3, "none", 0.1, "bench", iso(seen),
            ))
            for k in range(rng.randint(1, 3)):
                snapshots.append((i, iso(seen + timedelta(minutes=30 * k)), k * 10, k, k, None))
            for b in brands:
                key = (b, iso(bucket_start(seen, BUCKET_SECONDS)) or "")
                buckets[key] = buckets.get(key, 0) + 1
            if every and i % every == 0:
                attached.append(i)
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO mentions (id, platform, external_id, source, url, canonical_url, title, "
            "text, author, author_reach, published_at, fetched_at, seen_at, lang, parent_id, "
            "brands) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows,
        )
        conn.executemany("INSERT INTO mention_brands VALUES (?, ?)", brand_rows)
        conn.executemany(
            "INSERT INTO scores (mention_id, sentiment, p_negative, p_neutral, p_positive, "
            "complaint, harm_category, harm_confidence, model, scored_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?)", score_rows,
        )
        conn.executemany(
            "INSERT INTO engagement (mention_id, observed_at, likes, shares, comments, views) "
            "VALUES (?,?,?,?,?,?)", snapshots,
        )
        conn.execute("COMMIT")
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO volume_buckets (brand, bucket_start, total) VALUES (?, ?, ?)",
        [(b, start, n) for (b, start), n in buckets.items()],
    )
    for n, group in enumerate(_groups(attached, 25)):
        opened = iso(START + timedelta(days=n % 60))
        cur = conn.execute(
            "INSERT INTO incidents (brand, kind, severity, status, summary, opened_at, "
            "updated_at) VALUES (?, 'viral_claim', 'high', ?, 'bench claim', ?, ?)",
            [BRANDS[n % len(BRANDS)], "open" if n % 5 == 0 else "resolved", opened, opened],
        )
        conn.executemany(
            "INSERT INTO incident_mentions VALUES (?, ?)", [(cur.lastrowid, m) for m in group]
        )
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


async def _create_schema(path: Path) -> None:
    store = await Store(path).open()
    await store.close()


def _groups(items: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def old_prune(tx: Tx, cutoff: str) -> int:
    """The prune before batching, verbatim: one statement in one write job."""
    db = tx.sqlite
    cur = db.execute(
        "DELETE FROM mentions WHERE seen_at < ? AND id NOT IN "
        "(SELECT mention_id FROM incident_mentions)",
        [cutoff],
    )
    db.execute("DELETE FROM volume_buckets WHERE bucket_start < ?", [cutoff])
    return int(cur.rowcount)


async def timed_prune(path: Path, prune: Callable[[Store], Awaitable[int]]) -> PruneRun:
    """Run `prune` on a store at `path` while a probe writes every 10 ms; time every write job."""
    holds: list[float] = []
    store = await Store(path, on_write=holds.append).open()
    stop = asyncio.Event()
    waits: list[float] = []

    async def probe() -> None:
        state = SourceState(name="probe", kind="rss")
        while not stop.is_set():
            started = time.perf_counter()
            state.polls += 1
            await store.save_source_state(state)
            waits.append(time.perf_counter() - started)
            try:
                await asyncio.wait_for(stop.wait(), timeout=0.01)
            except TimeoutError:
                pass

    prober = asyncio.create_task(probe())
    await asyncio.sleep(0.05)  # the probe is writing before the prune starts
    holds.clear()
    started = time.perf_counter()
    removed = await prune(store)
    total = time.perf_counter() - started
    stop.set()
    await prober
    await store.close()
    return PruneRun(removed, total, max(holds), len(holds), max(waits), len(waits))


def report(label: str, run: PruneRun) -> None:
    """One line of figures."""
    print(
        f"{label:<34} removed {run.removed:>7,}  total {run.total_s:7.2f} s  "
        f"longest write job {run.longest_hold_s:7.3f} s  "
        f"longest probe wait {run.probe_longest_wait_s:7.3f} s  "
        f"({run.jobs} write jobs, {run.probe_writes} probe writes)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=1_000_000)
    parser.add_argument("--per-day", type=int, default=14_001, help="mentions a day")
    parser.add_argument("--evidence", type=int, default=20_000,
                        help="mentions attached to incidents, 25 per incident")
    parser.add_argument("--days", type=float, default=1.0, help="how much of the oldest to prune")
    parser.add_argument("--batch", type=int, default=PRUNE_BATCH, help="mentions per write job")
    parser.add_argument("--keep", type=Path, help="build the stores here and keep them")
    args = parser.parse_args()

    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-prune-"))
    folder.mkdir(parents=True, exist_ok=True)
    current, previous = folder / "prune.db", folder / "prune-baseline.db"
    for stale in folder.glob("prune*.db*"):
        stale.unlink()
    try:
        started = time.perf_counter()
        build(current, args.mentions, args.per_day, args.evidence)
        size = current.stat().st_size / 1e6
        print(f"built {args.mentions:,} mentions ({args.evidence:,} incident evidence), "
              f"{size:,.0f} MB, in {time.perf_counter() - started:.0f} s")
        shutil.copyfile(current, previous)
        with sqlite3.connect(previous) as conn:  # the schema before migration 5
            conn.execute("DROP INDEX incident_mentions_mention")
            conn.execute("DROP INDEX volume_buckets_start")
        cutoff = START + timedelta(days=args.days)
        print(f"pruning mentions seen before {iso(cutoff)} (the oldest {args.days:g} day(s))")

        base = asyncio.run(timed_prune(
            previous, lambda store: store.transaction(old_prune, iso(cutoff))
        ))
        report("before: one DELETE, no indexes", base)
        new = asyncio.run(timed_prune(
            current, lambda store: store.prune(cutoff, batch=args.batch)
        ))
        report(f"now: batches of {args.batch}, indexed", new)
        if new.removed != base.removed:
            raise SystemExit(f"the two prunes removed different counts: {new.removed} vs "
                             f"{base.removed}")
        print(
            f"longest write job {base.longest_hold_s / new.longest_hold_s:.0f}x shorter; "
            f"longest wait of other writes {base.probe_longest_wait_s:.2f} s -> "
            f"{new.probe_longest_wait_s:.3f} s; goal: longest write job under 0.5 s: "
            f"{'met' if new.longest_hold_s < 0.5 else 'NOT met'}"
        )
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
