"""Alert latency (incident opened to channel received, p50/p99 over 200 alerts on loopback).

The live path, with real parts: a Store in a temporary directory, `IncidentBook.apply` opening
one incident per claim (distinct cluster keys, severity high, so the route matches), the
`AlertDispatcher` running its own loop (`start()`; nothing calls `wake()`: the outbox row the
incident book writes wakes it, as in the daemon) and real channels sending to receivers on
127.0.0.1: a Slack incoming webhook served by aiohttp, and as extra rows the signed JSON webhook
(same aiohttp server) and email (aiosmtpd). Every `[alerting]` setting but the group wait is
the default, so the dispatcher's fallback poll (`poll_interval`, 5 s) is far above every
figure: an alert that waited for it would show. The clock starts when `apply()` returns (the
incident and its outbox row are committed) and stops when the receiver starts handling the
request (for SMTP: the end of DATA).

`[alerting] group_wait = 0` for the measurement: the default 30 s group wait holds "opened"
alerts on purpose so related mentions arrive together; it is deliberate delay, not latency.

Two arrival patterns: one incident at a time with a small gap (`--gap-ms`), and a burst where
one detection batch opens every incident back to back (the dispatcher starts sending while the
rest are still being opened, `max_in_flight_per_channel` at a time). Baseline, measured in
the same run against the same receiver: the same payloads sent bare (an aiohttp POST of the
recorded body for Slack and webhook, an aiosmtplib send of the recorded message for email),
in the same pattern. The receiver runs on its own thread and event loop, so it shares the
process with the sender in both the measurement and the baseline.

    .venv/bin/python benchmarks/bench_alert_latency.py [--count 200] [--gap-ms 20]
        [--channels slack,webhook,email] [--timeout 30] [--json]

Exits 1 when an alert did not arrive within `--timeout` seconds or arrived twice.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import aiosmtplib
from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from monitor.alerting.channels import build_channel
from monitor.alerting.config import AlertingConfig
from monitor.alerting.dispatcher import AlertDispatcher
from monitor.alerting.routing import Router
from monitor.clock import SystemClock
from monitor.config import Config, parse_config
from monitor.incidents import IncidentBook
from monitor.records import Assessment, Engagement, Mention, RiskFactor
from monitor.store import Store

CHANNELS = ("slack", "webhook", "email")
PATTERNS = ("gap", "burst")
SLACK_URL_ENV = "BENCH_ALERT_SLACK_WEBHOOK_URL"
HOOK_SECRET_ENV = "BENCH_ALERT_HOOK_SECRET"
SENDER = "brand-monitor@bench.example"
RECIPIENT = "oncall@bench.example"
MENTIONS_PER_INCIDENT = 3
_SLACK_ID = re.compile(r"incident #(\d+)")
_MAIL_ID = re.compile(rb"^X-Brand-Monitor-Incident: (\d+)", re.MULTILINE)
_BASELINE_FROM = re.compile(r"^baseline-(\d+)@")


# -- the receiver: one aiohttp server and one SMTP server on loopback, stamping arrivals -------


class Arrivals:
    """When each request reached the receiver (perf_counter seconds) and what it carried."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.at: dict[tuple[str, int], float] = {}
        self.body: dict[tuple[str, int], bytes] = {}
        self.repeats: dict[str, int] = {}  # deliveries of something that had already arrived
        self.on_record: Callable[[], None] | None = None  # called on the receiver's thread

    def record(self, kind: str, key: int, at: float, body: bytes) -> None:
        with self._lock:
            if (kind, key) in self.at:
                self.repeats[kind] = self.repeats.get(kind, 0) + 1
                return
            self.at[(kind, key)] = at
            self.body[(kind, key)] = body
            notify = self.on_record
        if notify is not None:
            notify()

    def clear(self) -> None:
        """Forget everything: each run numbers its incidents from 1 again."""
        with self._lock:
            self.at.clear()
            self.body.clear()
            self.repeats.clear()

    def count(self, kind: str, keys: Sequence[int]) -> int:
        with self._lock:
            return sum((kind, k) in self.at for k in keys)


class HttpReceiver:
    """Slack incoming webhook, JSON webhook and baseline endpoints on 127.0.0.1."""

    def __init__(self, arrivals: Arrivals) -> None:
        self.arrivals = arrivals
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    async def slack(self, request: web.Request) -> web.Response:
        at = time.perf_counter()
        body = await request.read()
        match = _SLACK_ID.search(json.loads(body)["text"])
        if match is None:
            return web.Response(status=400, text="invalid_payload")
        self.arrivals.record("slack", int(match.group(1)), at, body)
        return web.Response(text="ok")  # what Slack answers an accepted incoming webhook

    async def hook(self, request: web.Request) -> web.Response:
        at = time.perf_counter()
        body = await request.read()
        self.arrivals.record("webhook", int(json.loads(body)["incident"]["id"]), at, body)
        return web.Response(text="ok")

    async def baseline(self, request: web.Request) -> web.Response:
        at = time.perf_counter()
        body = await request.read()
        self.arrivals.record("baseline", int(request.match_info["n"]), at, body)
        return web.Response(text="ok")

    def start(self) -> None:
        self._thread = threading.Thread(target=self._serve, name="bench-receiver", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the loopback receiver did not start within 10 s")

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        app = web.Application()
        app.router.add_post("/services/{path:.*}", self.slack)
        app.router.add_post("/hook", self.hook)
        app.router.add_post("/baseline/{n}", self.baseline)
        runner = web.AppRunner(app, access_log=None)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", 0).start())
        self.port = int(runner.addresses[0][1])
        self._ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)


class MailHandler:
    """aiosmtpd handler stamping each message at the end of DATA."""

    def __init__(self, arrivals: Arrivals) -> None:
        self.arrivals = arrivals

    async def handle_DATA(  # aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        at = time.perf_counter()
        raw = envelope.original_content or b""
        baseline = _BASELINE_FROM.match(envelope.mail_from or "")
        if baseline is not None:
            self.arrivals.record("baseline", int(baseline.group(1)), at, raw)
        else:
            match = _MAIL_ID.search(raw)
            if match is None:
                return "554 5.6.0 no X-Brand-Monitor-Incident header"
            self.arrivals.record("email", int(match.group(1)), at, raw)
        return "250 Message accepted for delivery"


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


# -- the daemon's side: config, store, incidents, dispatcher ----------------------------------


def bench_config(channel: str, http_port: int, smtp_port: int) -> Config:
    """The TOML a user would write for one channel, with the group wait turned off."""
    table = {
        "slack": f'kind = "slack"\nwebhook_url = {{ env = "{SLACK_URL_ENV}" }}',
        "webhook": f'kind = "webhook"\nurl = "http://127.0.0.1:{http_port}/hook"\n'
        f'secret = {{ env = "{HOOK_SECRET_ENV}" }}',
        "email": f'kind = "email"\nhost = "127.0.0.1"\nport = {smtp_port}\nsecurity = "none"\n'
        f'sender = "{SENDER}"\nto = ["{RECIPIENT}"]\nmessage_id_host = "bench.example"',
    }[channel]
    text = f"""
[[brands]]
name = "Acme"

[alerting]
group_wait = 0

[[channels]]
name = "{channel}"
timeout = 5
{table}

[[routes]]
name = "high-and-up"
min_severity = "high"
channels = ["{channel}"]
"""
    return parse_config(tomllib.loads(text), "<bench>")


def claim_mentions(count: int, run: str, clock: SystemClock) -> list[Mention]:
    """Three engaged posts per claim, so each alert carries evidence like a real one."""
    now = clock.now()
    out = []
    for i in range(count):
        for n in range(MENTIONS_PER_INCIDENT):
            published = now - timedelta(minutes=30 - 7 * n)
            out.append(Mention(
                platform="reddit", external_id=f"{run}-{i}-{n}",
                text=f"Acme cola made my kids sick after the festival (claim {i}, post {n})",
                url=f"https://www.reddit.com/r/food/comments/{run}{i}x{n}/acme/",
                title=f"Acme cola made us sick ({i}.{n})", author=f"u/parent{i}_{n}",
                author_reach=1_000 * (n + 1), published_at=published,
                engagement=Engagement(likes=120 * n, shares=30 * n, comments=9 * n, views=5_000),
                source="reddit-food", brands=("Acme",), fetched_at=published, lang="en",
            ))
    return out


def assessment(i: int, run: str, mention_ids: list[int], clock: SystemClock) -> Assessment:
    """A high-severity health claim; each has its own cluster key, so each opens an incident."""
    return Assessment(
        brand="Acme", kind="viral_claim", key=f"claim:{run}-{i}", category="health_safety",
        risk=0.72, severity="high",
        factors=[RiskFactor("harm", 0.74, "health/safety claim, confidence 0.91"),
                 RiskFactor("spread", 0.61, "3 authors on reddit in 30 min")],
        summary=f"Acme cola made people sick at the Riverside festival (claim {i})",
        mention_ids=mention_ids, author_count=MENTIONS_PER_INCIDENT, platforms=["reddit"],
        at=clock.now(),
    )


@dataclass
class Opened:
    """What one run produced: when each incident was committed, and the outbox at the end."""

    opened_at: dict[int, float] = field(default_factory=dict)  # incident id -> perf_counter
    statuses: dict[str, int] = field(default_factory=dict)  # outbox rows by status
    apply_s: float = 0.0  # time spent inside apply(), all incidents together
    first_opened_at: float = 0.0  # perf_counter when the first apply() returned


async def run_dispatcher(
    config: Config, db_path: Path, count: int, pattern: str, gap: float, arrivals: Arrivals,
    kind: str, wait_s: float,
) -> Opened:
    """Open `count` incidents through the live code path and wait for their alerts to arrive."""
    clock = SystemClock()
    store = await Store(db_path).open()
    router = Router(config)
    channels = {c.name: build_channel(c) for c in config.channels if c.enabled}
    dispatcher = AlertDispatcher(store, router, channels, clock=clock)
    book = IncidentBook(
        store, router.route, clock, config.detection, group_wait=config.alerting.group_wait
    )
    result = Opened()
    try:
        run = f"{kind}-{pattern}"
        stored = await store.save_mentions(claim_mentions(count, run, clock))
        ids = [m.id for m in stored if m.id is not None]
        await dispatcher.start()
        await dispatcher.wait_idle()  # the loop has looked once and sleeps, as in a daemon
        for i in range(count):
            mine = ids[i * MENTIONS_PER_INCIDENT : (i + 1) * MENTIONS_PER_INCIDENT]
            claim = assessment(i, run, mine, clock)
            before = time.perf_counter()
            incident = await book.apply(claim)
            committed = time.perf_counter()
            result.apply_s += committed - before
            if incident is None:
                raise RuntimeError(f"claim {i} opened no incident; the benchmark setup is wrong")
            result.opened_at[incident.id] = committed
            result.first_opened_at = result.first_opened_at or committed
            if pattern == "gap":
                await asyncio.sleep(gap)
        await wait_for_arrivals(arrivals, kind, list(result.opened_at), wait_s)
        await dispatcher.stop()
        rows = await store.read(lambda tx: tx.sqlite.execute(
            "SELECT status, count(*) FROM alerts GROUP BY status"
        ).fetchall())
        result.statuses = {str(s): int(n) for s, n in rows}
    finally:
        await dispatcher.stop()
        await store.close()
    return result


async def wait_for_arrivals(
    arrivals: Arrivals, kind: str, keys: list[int], wait_s: float = 30.0
) -> None:
    """Return when every key has arrived, or after `wait_s` seconds (the rest are lost)."""
    loop = asyncio.get_running_loop()
    arrived = asyncio.Event()

    def notify() -> None:
        try:
            loop.call_soon_threadsafe(arrived.set)
        except RuntimeError:  # an arrival after the run ended and its loop closed
            pass

    arrivals.on_record = notify
    try:
        async with asyncio.timeout(wait_s):
            while arrivals.count(kind, keys) < len(keys):
                await arrived.wait()
                arrived.clear()
    except TimeoutError:
        pass
    finally:
        arrivals.on_record = None


# -- the baseline: the same payloads sent bare ----------------------------------------------


async def http_baseline(
    bodies: list[bytes], url: str, pattern: str, gap: float, arrivals: Arrivals
) -> dict[int, float]:
    """POST each body with one reused aiohttp session (as the channels do); key -> start time."""
    started: dict[int, float] = {}
    headers = {"Content-Type": "application/json; charset=utf-8"}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:

        async def post(key: int, body: bytes) -> None:
            async with session.post(f"{url}/{key}", data=body, headers=headers) as resp:
                await resp.read()
                resp.raise_for_status()

        await _send_all(bodies, pattern, gap, started, post)
        await wait_for_arrivals(arrivals, "baseline", list(started))
    return started


async def smtp_baseline(
    messages: list[bytes], port: int, pattern: str, gap: float, arrivals: Arrivals
) -> dict[int, float]:
    """Send each recorded message over a new SMTP connection (as the email channel does)."""
    started: dict[int, float] = {}

    async def send(key: int, message: bytes) -> None:
        await aiosmtplib.send(
            message, sender=f"baseline-{key}@bench.example", recipients=[RECIPIENT],
            hostname="127.0.0.1", port=port, timeout=5,
        )

    await _send_all(messages, pattern, gap, started, send)
    await wait_for_arrivals(arrivals, "baseline", list(started))
    return started


async def _send_all(
    payloads: list[bytes], pattern: str, gap: float, started: dict[int, float],
    send: Callable[[int, bytes], Awaitable[None]],
) -> None:
    keys = range(1, len(payloads) + 1)
    if pattern == "gap":
        for key, payload in zip(keys, payloads, strict=True):
            started[key] = time.perf_counter()
            await send(key, payload)
            await asyncio.sleep(gap)
        return
    at = time.perf_counter()
    started.update(dict.fromkeys(keys, at))
    await asyncio.gather(*(send(k, p) for k, p in zip(keys, payloads, strict=True)))


# -- figures ----------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


@dataclass
class Row:
    """One channel and arrival pattern: alert latency against the bare-send baseline."""

    channel: str
    pattern: str
    alerts: int
    received: int
    lost: int
    duplicates: int  # alerts the receiver got more than once
    payload_bytes: int  # mean size of what the receiver got
    p50_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    baseline_p50_ms: float | None
    baseline_p99_ms: float | None
    ratio_p50: float | None
    ratio_p99: float | None
    apply_ms: float  # mean time of one IncidentBook.apply (incident + outbox row committed)
    span_ms: float | None  # first incident opened to the last arrival
    outbox: dict[str, int]


def latencies_ms(started: dict[int, float], arrivals: Arrivals, kind: str) -> list[float]:
    return [
        (arrivals.at[(kind, key)] - t0) * 1000
        for key, t0 in started.items()
        if (kind, key) in arrivals.at
    ]


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def make_row(
    channel: str, pattern: str, opened: Opened, arrivals: Arrivals, kind: str,
    baseline: list[float],
) -> Row:
    measured = latencies_ms(opened.opened_at, arrivals, kind)
    sizes = [len(arrivals.body[(kind, k)]) for k in opened.opened_at if (kind, k) in arrivals.body]
    arrived = [arrivals.at[(kind, k)] for k in opened.opened_at if (kind, k) in arrivals.at]
    p50 = percentile(measured, 50) if measured else None
    p99 = percentile(measured, 99) if measured else None
    b50 = percentile(baseline, 50) if baseline else None
    b99 = percentile(baseline, 99) if baseline else None
    return Row(
        channel=channel, pattern=pattern, alerts=len(opened.opened_at), received=len(measured),
        lost=len(opened.opened_at) - len(measured), duplicates=arrivals.repeats.get(kind, 0),
        payload_bytes=round(sum(sizes) / len(sizes)) if sizes else 0,
        p50_ms=p50, p99_ms=p99, max_ms=max(measured) if measured else None,
        baseline_p50_ms=b50, baseline_p99_ms=b99,
        ratio_p50=ratio(p50, b50), ratio_p99=ratio(p99, b99),
        apply_ms=opened.apply_s * 1000 / max(len(opened.opened_at), 1),
        span_ms=(max(arrived) - opened.first_opened_at) * 1000 if arrived else None,
        outbox=opened.statuses,
    )


# -- the run ----------------------------------------------------------------------------------


@contextmanager
def bench_secrets(http_port: int) -> Iterator[None]:
    """The channels' secrets, by reference as in a real config; restored afterwards."""
    values = {
        SLACK_URL_ENV: f"http://127.0.0.1:{http_port}/services/T0BENCH/B0BENCH/benchwebhookpath",
        HOOK_SECRET_ENV: "whsec-bench-0123456789abcdef",
    }
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


async def measure(
    channels: Sequence[str], count: int, gap: float, wait_s: float, tmp: Path
) -> tuple[list[Row], AlertingConfig]:
    """Every channel in both patterns, each followed by its baseline; rows and [alerting]."""
    arrivals = Arrivals()
    http = HttpReceiver(arrivals)
    http.start()
    smtp_port = free_port()
    mail = Controller(MailHandler(arrivals), hostname="127.0.0.1", port=smtp_port)
    mail.start()
    rows: list[Row] = []
    alerting = AlertingConfig()
    try:
        with bench_secrets(http.port):
            for channel in channels:
                config = bench_config(channel, http.port, smtp_port)
                alerting = config.alerting
                for pattern in PATTERNS:
                    db = tmp / f"{channel}-{pattern}.db"
                    arrivals.clear()
                    opened = await run_dispatcher(
                        config, db, count, pattern, gap, arrivals, channel, wait_s
                    )
                    payloads = [
                        arrivals.body[(channel, k)]
                        for k in opened.opened_at
                        if (channel, k) in arrivals.body
                    ]
                    if channel == "email":
                        started = await smtp_baseline(
                            payloads, smtp_port, pattern, gap, arrivals
                        )
                    else:
                        started = await http_baseline(
                            payloads, f"http://127.0.0.1:{http.port}/baseline", pattern, gap,
                            arrivals,
                        )
                    baseline = latencies_ms(started, arrivals, "baseline")
                    rows.append(make_row(channel, pattern, opened, arrivals, channel, baseline))
    finally:
        mail.stop()
        http.stop()
    return rows, alerting


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:8.1f}"


def _x(value: float | None) -> str:
    return "-" if value is None else f"{value:6.1f}x"


def print_table(
    rows: list[Row], count: int, gap_ms: float, alerting: AlertingConfig, elapsed: float
) -> None:
    print(
        f"alert latency: incident opened (apply() returned) -> receiver handling the request, "
        f"{count} alerts per row, loopback 127.0.0.1"
    )
    print(
        f"[alerting] group_wait = {alerting.group_wait:g} for this measurement (the default 30 s "
        "group wait is deliberate delay, not latency); defaults otherwise: "
        f"max_in_flight_per_channel = {alerting.max_in_flight_per_channel}, fallback "
        f"poll_interval = {alerting.poll_interval:g} s (the outbox write wakes the dispatcher)"
    )
    print(
        f"gap: one incident every {gap_ms:g} ms; burst: one detection batch opens all {count} "
        "back to back"
    )
    print("baseline: the same payloads sent bare (aiohttp POST; aiosmtplib for email), same run")
    print()
    header = (
        f"{'channel':<8} {'pattern':<7} {'recv':>9} {'bytes':>6} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8} {'base p50':>8} {'base p99':>8} {'p50 x':>7} {'p99 x':>7}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r.channel:<8} {r.pattern:<7} {f'{r.received}/{r.alerts}':>9} "
            f"{r.payload_bytes:>6} {_ms(r.p50_ms)} {_ms(r.p99_ms)} {_ms(r.max_ms)} "
            f"{_ms(r.baseline_p50_ms)} {_ms(r.baseline_p99_ms)} {_x(r.ratio_p50):>7} "
            f"{_x(r.ratio_p99):>7}"
        )
    print()
    for r in rows:
        if r.pattern == "burst" and r.span_ms is not None:
            print(
                f"{r.channel} burst: opening {r.alerts} incidents took {r.apply_ms:.2f} ms each "
                f"({r.apply_ms * r.alerts:.0f} ms in all); first opened to last arrival "
                f"{r.span_ms:.0f} ms ({r.alerts / max(r.span_ms, 1e-9) * 1000:.0f} alerts/s)"
            )
    lost = sum(r.lost for r in rows)
    duplicates = sum(r.duplicates for r in rows)
    print(f"lost alerts: {lost}; duplicates: {duplicates}; total time {elapsed:.1f} s")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--count", type=int, default=200, help="alerts per row (default 200)")
    parser.add_argument(
        "--gap-ms", type=float, default=20.0, help="gap between incidents in the gap pattern"
    )
    parser.add_argument(
        "--channels", default=",".join(CHANNELS),
        help=f"comma-separated, from {', '.join(CHANNELS)} (default: all)",
    )
    parser.add_argument(
        "--timeout", type=float, default=30.0,
        help="seconds to wait for alerts after the last incident opened; later ones are lost",
    )
    parser.add_argument("--json", action="store_true", help="print machine-readable figures")
    args = parser.parse_args(argv)
    channels = [c.strip() for c in args.channels.split(",") if c.strip()]
    unknown = [c for c in channels if c not in CHANNELS]
    if unknown or not channels:
        parser.error(f"unknown channel(s) {unknown}; choose from {', '.join(CHANNELS)}")
    if args.count < 1:
        parser.error("--count must be at least 1")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-alert-latency-") as tmp:
        rows, alerting = asyncio.run(
            measure(channels, args.count, args.gap_ms / 1000, args.timeout, Path(tmp))
        )
    elapsed = time.perf_counter() - started
    if args.json:
        figures: dict[str, Any] = {
            "benchmark": "alert_latency",
            "count": args.count,
            "gap_ms": args.gap_ms,
            "group_wait_s": alerting.group_wait,
            "poll_interval_s": alerting.poll_interval,
            "max_in_flight_per_channel": alerting.max_in_flight_per_channel,
            "elapsed_s": round(elapsed, 2),
            "rows": [asdict(r) for r in rows],
        }
        print(json.dumps(figures, indent=2))
    else:
        print_table(rows, args.count, args.gap_ms, alerting, elapsed)
    failed = False
    if any(r.lost for r in rows):
        print(
            f"error: some alerts did not arrive within {args.timeout:g} s; the outbox "
            "statuses in the --json output show where they stopped",
            file=sys.stderr,
        )
        failed = True
    if any(r.duplicates for r in rows):
        print("error: some alerts arrived more than once (no daemon restart happened)",
              file=sys.stderr)
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
