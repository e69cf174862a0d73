"""Ingest throughput: match + dedupe + store through the real pipeline, against plain sqlite3.

Baseline: the same rows written with sqlite3 `executemany` into a table of the same shape (no
matching, no dedupe checks, no FTS triggers, no volume buckets) in the same run. The ratio says
what the pipeline's work costs on top of the raw insert.

    .venv/bin/python benchmarks/bench_ingest.py [--mentions 20000] [--batch 200]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.clock import VirtualClock
from monitor.config import BrandConfig
from monitor.matching import BrandMatcher
from monitor.pipeline import Pipeline
from monitor.records import Mention
from monitor.store import Store

WORDS = (
    "the new flavour is great but delivery took ages and support never answered my email "
    "launch event today prices went up again recall lawsuit store opening weekend sale"
).split()
BRANDS = [BrandConfig(name=f"Brand{i}", aliases=[f"B{i}Co"]) for i in range(20)]


def make_mentions(n: int, seed: int = 7) -> list[Mention]:
    """Synthetic feed items; about 70% mention one of the brands."""
    rng = random.Random(seed)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        words = rng.choices(WORDS, k=rng.randint(8, 30))
        if rng.random() < 0.7:
            words.insert(rng.randrange(len(words)), f"Brand{rng.randrange(20)}")
        out.append(Mention(
            platform="rss", external_id=f"item-{i}", text=" ".join(words),
            url=f"https://news.example/{i}?utm_source=feed", title=None, author=f"user{i % 500}",
            published_at=start + timedelta(seconds=i), lang="en",
        ))
    return out


async def pipeline_run(mentions: list[Mention], batch: int, db: Path) -> float:
    store = await Store(db).open()
    clock = VirtualClock(datetime(2026, 11, 2, tzinfo=UTC))
    pipeline = Pipeline(store, BrandMatcher(BRANDS), clock)
    started = time.perf_counter()
    for i in range(0, len(mentions), batch):
        await pipeline.ingest("bench", mentions[i : i + batch])
    elapsed = time.perf_counter() - started
    await store.close()
    return elapsed


def baseline_run(mentions: list[Mention], batch: int, db: Path) -> float:
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(
        "CREATE TABLE mentions (id INTEGER PRIMARY KEY, platform TEXT, external_id TEXT, "
        "url TEXT, text TEXT, author TEXT, published_at TEXT, UNIQUE (platform, external_id))"
    )
    rows = [
        (m.platform, m.external_id, m.url, m.text, m.author, str(m.published_at))
        for m in mentions
    ]
    started = time.perf_counter()
    for i in range(0, len(rows), batch):
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO mentions (platform, external_id, url, text, author, published_at) "
            "VALUES (?,?,?,?,?,?)",
            rows[i : i + batch],
        )
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base_s = baseline_run(make_mentions(args.mentions), args.batch, Path(tmp, "base.db"))
        # Language is given, as most platforms do; detection cost is measured separately below.
        pipe_s = asyncio.run(
            pipeline_run(make_mentions(args.mentions), args.batch, Path(tmp, "bm.db"))
        )
        no_lang = make_mentions(2000, seed=9)
        for m in no_lang:
            m.lang = None
        detect_s = asyncio.run(pipeline_run(no_lang, args.batch, Path(tmp, "lang.db")))
    n = args.mentions
    print(f"mentions: {n}, batch size {args.batch}, 20 brands")
    print(f"  plain sqlite3 executemany : {n / base_s:10.0f} mentions/s")
    print(f"  pipeline match+dedupe+store: {n / pipe_s:10.0f} mentions/s")
    print(f"  ratio (pipeline / baseline): {base_s / pipe_s:10.3f}")
    print(f"  pipeline incl. language detection (2000 texts): {2000 / detect_s:.0f} mentions/s")


if __name__ == "__main__":
    main()
