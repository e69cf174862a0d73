"""Bluesky stream throughput: posts per second the `bluesky_stream` source reads and matches.

A Jetstream stand-in runs in a child process (its own interpreter, so its sending does not share
our GIL) and sends `--posts` post-create events in Jetstream's JSON format as fast as the
socket takes them: realistic texts of 60-300 characters, a few with link cards and replies,
`--match-rate` of them naming a brand term. In this process the real connector reads them with
`--terms` (a few brand names and phrases), while the runner's part is played by a loop that
calls `fetch` every `--fetch-ms` milliseconds, and a ticker measures how late the event loop
wakes (every 10 ms) so that blocking the loop would show. The clock runs from the first fetch
to the fetch whose cursor reaches the last event.

    .venv/bin/python benchmarks/bench_jetstream.py [--posts 200000] [--match-rate 0.01]
        [--fetch-ms 100] [--json]

Baseline, measured in the same run against the same stand-in: a bare aiohttp WebSocket client
that only decodes each frame's JSON (`bare_client_posts_per_s`); `ratio` is the source's rate
over it. Bluesky's whole network posts some tens to a few hundred posts a second; the figure
to compare with that is `posts_per_s`. Exits 1 when a matched post was lost or handed over twice.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from aiohttp import web

from connectors.base import Cursor
from connectors.bluesky_stream import BlueskyStreamConnector, BlueskyStreamOptions
from monitor.httpclient import HttpClient

T0 = 1_725_911_162_329_308
TERMS = ["acme", "acme kettle", "globex", "initech", "umbrella corp"]
WORDS = (
    "the a to and of in is it for on that this with my just so was but be are have not at you "
    "today love new time day like people get one more good now know about really think going "
    "kettle coffee morning game music art post thread news photo friend work home city rain"
).split()


def event(n: int, matched: bool, rng: random.Random) -> dict[str, Any]:
    """One post-create commit in Jetstream's format."""
    words = [rng.choice(WORDS) for _ in range(rng.randint(10, 50))]
    if matched:
        words.insert(rng.randrange(len(words)), rng.choice(["Acme", "ACME kettle", "Globex"]))
    record: dict[str, Any] = {
        "$type": "app.bsky.feed.post",
        "createdAt": "2024-09-09T19:46:02.102Z",
        "langs": ["en"],
        "text": " ".join(words),
    }
    if n % 7 == 0:
        record["embed"] = {
            "$type": "app.bsky.embed.external",
            "external": {"uri": "https://news.example/a", "title": "A headline about the day",
                         "description": "What happened and why it matters."},
        }
    if n % 3 == 0:
        parent = {"cid": "bafyreib2", "uri": "at://did:plc:parent/app.bsky.feed.post/3l3q"}
        record["reply"] = {"root": parent, "parent": parent}
    return {
        "did": f"did:plc:user{n % 50_000:05d}",
        "time_us": T0 + n * 1000,
        "kind": "commit",
        "commit": {
            "rev": "3l3qo2vutsw2b", "operation": "create", "collection": "app.bsky.feed.post",
            "rkey": f"3l{n:011d}", "record": record,
            "cid": "bafyreidwaivazkwu67xztlmuobx35hs2lnfh3kolmgfmucldvhd3sgzcqi",
        },
    }


def serve(port: int, posts: int, match_rate: float) -> None:
    """The child process: a Jetstream stand-in on 127.0.0.1:`port`."""
    rng = random.Random(7)
    chosen = [rng.random() < match_rate for _ in range(posts)]
    frames = [json.dumps(event(n, chosen[n], rng)) for n in range(posts)]
    matched = sum(chosen)  # WORDS holds no term: only the chosen posts name one

    async def subscribe(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        for frame in frames:
            await ws.send_str(frame)
        async for _ in ws:
            pass
        return ws

    app = web.Application()
    app.router.add_get("/subscribe", subscribe)
    print(json.dumps({"ready": True, "matched": matched}), flush=True)
    web.run_app(app, host="127.0.0.1", port=port, print=None, handle_signals=True)


async def bare_read(port: int, posts: int) -> float:
    """Baseline: posts/s of a bare WebSocket client that only decodes each frame's JSON."""
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(f"ws://127.0.0.1:{port}/subscribe") as ws:
            started = time.perf_counter()
            seen = 0
            async for message in ws:
                json.loads(message.data)
                seen += 1
                if seen == posts:
                    break
            return posts / (time.perf_counter() - started)


async def measure(port: int, posts: int, fetch_ms: float) -> dict[str, Any]:
    """Read the stream with the real connector; returns the figures."""
    http = HttpClient()
    options = BlueskyStreamOptions(terms=TERMS, url=f"ws://127.0.0.1:{port}/subscribe")
    connector = BlueskyStreamConnector("bench", options, http)
    lags: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            before = loop.time()
            await asyncio.sleep(0.01)
            lags.append(loop.time() - before - 0.01)

    tick = asyncio.create_task(ticker())
    last = T0 + (posts - 1) * 1000
    cursor = Cursor()
    ids: list[str] = []
    started = time.perf_counter()
    while cursor.position.get("time_us", 0) < last:
        try:
            result = await connector.fetch(cursor)
        except Exception:  # not connected yet: poll again, as the runner would
            await asyncio.sleep(fetch_ms / 1000)
            continue
        ids += [m.external_id for m in result.mentions]
        cursor = result.cursor
        await asyncio.sleep(fetch_ms / 1000)
    elapsed = time.perf_counter() - started
    stop.set()
    await tick
    await connector.close()
    await http.close()
    lags.sort()
    return {
        "posts": posts,
        "seconds": round(elapsed, 2),
        "posts_per_s": round(posts / elapsed),
        "matched": len(ids),
        "repeated": len(ids) - len(set(ids)),
        "loop_lag_p99_ms": round(lags[int(len(lags) * 0.99)] * 1000, 1) if lags else None,
        "loop_lag_max_ms": round(lags[-1] * 1000, 1) if lags else None,
    }


def main() -> int:
    """Run the stand-in, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200_000)
    parser.add_argument("--match-rate", type=float, default=0.01)
    parser.add_argument("--fetch-ms", type=float, default=100.0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.posts, args.match_rate)
        return 0
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port), "--posts", str(args.posts),
         "--match-rate", str(args.match_rate)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert child.stdout is not None
        expected = json.loads(child.stdout.readline())["matched"]
        time.sleep(0.5)  # the child's server binds right after it says it is ready
        baseline = asyncio.run(bare_read(port, args.posts))
        figures = asyncio.run(measure(port, args.posts, args.fetch_ms))
        figures["bare_client_posts_per_s"] = round(baseline)
        figures["ratio"] = round(figures["posts_per_s"] / baseline, 3)
    finally:
        child.terminate()
        child.wait(timeout=10)
    figures["expected_matched"] = expected
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key:>18}: {value}")
    return 0 if figures["matched"] == expected and figures["repeated"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
