"""The scoring thread never turns a clean exit into an abort, and the daemon never waits on it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# A process that leaves a torch computation running on the scoring thread and then ends.
SCRIPT = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {root!r})
    import torch
    from monitor.worker_thread import DaemonThreadExecutor, exit_now_if_busy

    def work():
        a = torch.randn(600, 600)
        end = time.monotonic() + 3
        while time.monotonic() < end:
            a = torch.tanh(a @ a)
        print("call finished", flush=True)

    executor = DaemonThreadExecutor("scoring")
    executor.submit(work)
    time.sleep(0.5)
    if {daemon_exit}:
        exit_now_if_busy()
""")


def _run(daemon_exit: bool) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(root=str(ROOT), daemon_exit=daemon_exit)],
        capture_output=True, text=True, timeout=120,
    )
    return done, time.monotonic() - started


def test_exit_while_torch_runs_on_the_thread_waits_for_the_call_instead_of_aborting() -> None:
    done, _ = _run(daemon_exit=False)
    # Before: interpreter shutdown tore torch's thread pool down under the call: SIGABRT.
    assert done.returncode == 0, done.stderr
    assert "call finished" in done.stdout
    assert "terminate called" not in done.stderr


def test_the_daemon_exits_at_once_without_waiting_for_the_call() -> None:
    done, took = _run(daemon_exit=True)
    assert done.returncode == 0, done.stderr
    assert "call finished" not in done.stdout
    assert took < 3 + 10  # the call alone needs 3 s after start-up; no wait, no abort
