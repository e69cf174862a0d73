"""Stopping the real daemon is quick whatever it is doing: loading models, or a deep queue."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.records import Mention
from monitor.store import Store

QUEUED = 1_200
SUBJECTS = ["skates", "helmet", "app", "delivery", "refund", "charger", "jacket", "bottle"]
VERBS = ["broke after a week", "is great", "arrived late", "made my kid sick", "works fine",
         "overheated", "was charged twice", "is a scam"]


def _config(tmp_path: Path) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(textwrap.dedent(f"""
        [[brands]]
        name = "Acme"
        [[sources]]
        kind = "rss"
        name = "news"
        url = "http://127.0.0.1:9/feed"
        [storage]
        path = "{tmp_path / 'bm.db'}"
        [server]
        port = 0
    """))
    return config


def _store_unscored(db: Path, count: int) -> None:
    async def fill() -> None:
        store = await Store(db).open()
        now = datetime.now(UTC)
        await store.save_mentions([
            Mention(
                platform="rss", external_id=f"m{i}", source="news", brands=("Acme",),
                text=f"My Acme {SUBJECTS[i % 8]} {VERBS[(i // 8) % 8]} (order {i})",
                published_at=now - timedelta(seconds=i), fetched_at=now,
            )
            for i in range(count)
        ])
        await store.close()

    asyncio.run(fill())


class Daemon:
    """`brand-monitor run` in a subprocess, its output collected line by line."""

    def __init__(self, config: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "run", "--config", str(config)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    def wait_for(self, needle: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not any(needle in line for line in self.lines):
            assert self.proc.poll() is None, "daemon exited:\n" + "".join(self.lines)
            assert time.monotonic() < deadline, f"{needle!r} not seen:\n" + "".join(self.lines)
            time.sleep(0.02)

    def scoring_queue(self) -> float:
        """The scoring queue depth the daemon reports on /metrics."""
        line = next(line for line in self.lines if "HTTP server on " in line)
        url = line.split("HTTP server on ", 1)[1].strip() + "/metrics"
        with urllib.request.urlopen(url, timeout=10) as resp:
            text = resp.read().decode()
        match = re.search(r'brand_monitor_queue_depth\{queue="scoring"\} (\S+)', text)
        return float(match.group(1)) if match else 0.0

    def terminate(self, timeout: float) -> float:
        """SIGTERM; the seconds it took to exit (fails the test past `timeout`)."""
        sent = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(
                f"not stopped {timeout}s after SIGTERM:\n" + "".join(self.lines)
            ) from None
        self._reader.join(timeout=5)
        assert code == 0, "".join(self.lines)
        return time.monotonic() - sent

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def test_sigterm_while_models_load_with_a_deep_queue_exits_without_waiting_for_them(
    tmp_path: Path,
) -> None:
    _store_unscored(tmp_path / "bm.db", QUEUED)
    daemon = Daemon(_config(tmp_path))
    try:
        daemon.wait_for("loading models")
        loaded_before = any("models loaded" in line for line in daemon.lines)
        took = daemon.terminate(timeout=30)
    finally:
        daemon.kill()
    out = "".join(daemon.lines)
    assert "brand-monitor stopped" in out and "Traceback" not in out, out
    if not loaded_before:
        # The stop did not sit out the model load (several seconds, more on a cold disk).
        assert took < 8, f"stop took {took:.1f}s:\n{out}"


def test_sigterm_with_a_deep_scoring_queue_stops_in_seconds_and_keeps_the_rest(
    tmp_path: Path,
) -> None:
    db = tmp_path / "bm.db"
    _store_unscored(db, QUEUED)
    daemon = Daemon(_config(tmp_path))
    try:
        daemon.wait_for("models loaded")
        deadline = time.monotonic() + 60
        while daemon.scoring_queue() < QUEUED / 2:  # the start-up sweep has queued the backlog
            assert time.monotonic() < deadline, "backlog never queued:\n" + "".join(daemon.lines)
            time.sleep(0.05)
        took = daemon.terminate(timeout=30)
    finally:
        daemon.kill()
    out = "".join(daemon.lines)
    assert "brand-monitor stopped" in out and "Traceback" not in out, out
    # It finished the batch it was scoring, not the whole queue (that waits for the next start).
    # The batch in progress (its grace is 5 s) and the usual stop steps, not the backlog
    # (which takes minutes on a loaded machine); bounded loosely so a busy CI host passes.
    assert took < 20, f"stop took {took:.1f}s:\n{out}"
    assert "will be scored at the next start" in out, out.splitlines()

    async def counts() -> tuple[int, int]:
        store = await Store(db).open()
        try:
            return await store.count_mentions(), len(await store.unscored_mentions(limit=QUEUED))
        finally:
            await store.close()

    total, unscored = asyncio.run(counts())
    # Nothing lost, and the backlog was left for the next start rather than scored at stop.
    assert total == QUEUED and unscored > 0
