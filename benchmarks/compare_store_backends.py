"""The store on PostgreSQL against the store on SQLite: ingest through the real pipeline, then
full-text searches, with the same mentions in the same run.

The PostgreSQL server is given by URL (its maintenance database, e.g. `postgres`); the script
creates a database of its own there and drops it afterwards. Both backends run on this machine,
so the figures compare the stores' own work, not a network. Not named bench_*: `make bench`
runs those without arguments, and this one needs a server.

    .venv/bin/python benchmarks/compare_store_backends.py \
        --url postgresql://user@127.0.0.1:5432/postgres [--mentions 20000] [--batch 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_ingest import BRANDS, make_mentions
from monitor.clock import VirtualClock
from monitor.matching import BrandMatcher
from monitor.pipeline import Pipeline
from monitor.store import PostgresTarget, Store

QUERIES = ["recall", "delivery", '"support never"', "lawsuit", "prices"]


async def run(location: Path | PostgresTarget, n: int, batch: int, searches: int
              ) -> tuple[float, float]:
    """(seconds to ingest n mentions, seconds for `searches` searches) on one backend."""
    mentions = make_mentions(n)
    store = await Store(location).open()
    try:
        clock = VirtualClock(datetime(2026, 11, 2, tzinfo=UTC))
        pipeline = Pipeline(store, BrandMatcher(BRANDS), clock)
        started = time.perf_counter()
        for i in range(0, n, batch):
            await pipeline.ingest("bench", mentions[i : i + batch])
        ingest = time.perf_counter() - started
        started = time.perf_counter()
        for i in range(searches):
            await store.search_mentions(QUERIES[i % len(QUERIES)], limit=20)
        return ingest, time.perf_counter() - started
    finally:
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="a PostgreSQL server's maintenance database")
    parser.add_argument("--mentions", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--searches", type=int, default=200)
    args = parser.parse_args()
    name = f"bm_bench_{os.getpid()}"
    parts = urlsplit(args.url)
    url = urlunsplit(parts._replace(path=f"/{name}"))
    with psycopg.connect(args.url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            lite = asyncio.run(run(Path(tmp, "bm.db"), args.mentions, args.batch, args.searches))
        pg = asyncio.run(run(PostgresTarget(url), args.mentions, args.batch, args.searches))
    finally:
        with psycopg.connect(args.url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name}")
    n, s = args.mentions, args.searches
    print(f"mentions: {n}, batch size {args.batch}, 20 brands; {s} searches (limit 20)")
    print(f"  ingest  SQLite     : {n / lite[0]:8.0f} mentions/s")
    print(f"  ingest  PostgreSQL : {n / pg[0]:8.0f} mentions/s  (ratio {lite[0] / pg[0]:.2f})")
    print(f"  search  SQLite     : {1000 * lite[1] / s:8.2f} ms each")
    print(f"  search  PostgreSQL : {1000 * pg[1] / s:8.2f} ms each")


if __name__ == "__main__":
    main()
