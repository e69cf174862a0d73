"""The alert latency benchmark runs end to end: every alert arrives once, on every channel."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_alert_latency.py"


def load_bench(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The benchmark script as a module (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location("bench_alert_latency", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the class is being built.
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    return module


def test_every_alert_arrives_once_with_figures(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    bench = load_bench(monkeypatch)
    code = bench.main(["--count", "5", "--gap-ms", "2", "--json"])
    figures = json.loads(capsys.readouterr().out)
    assert code == 0
    assert figures["group_wait_s"] == 0
    # The daemon's defaults otherwise: the outbox write wakes the dispatcher, so no alert waits
    # for the fallback poll (5 s); an alert that did would show as a multi-second latency.
    poll_ms = figures["poll_interval_s"] * 1000
    assert poll_ms >= 5000 and figures["max_in_flight_per_channel"] == 2
    rows = {(r["channel"], r["pattern"]): r for r in figures["rows"]}
    assert set(rows) == {
        (c, p) for c in ("slack", "webhook", "email") for p in ("gap", "burst")
    }
    for row in rows.values():
        assert (row["alerts"], row["received"], row["lost"], row["duplicates"]) == (5, 5, 0, 0)
        # The dispatcher recorded each delivery, and nothing is left pending or failed.
        assert row["outbox"] == {"sent": 5}
        assert 0 < row["p50_ms"] <= row["p99_ms"] <= row["max_ms"] < poll_ms / 2
        assert row["baseline_p50_ms"] > 0 and row["ratio_p50"] > 0
        assert row["payload_bytes"] > 500  # a rendered alert with its evidence, not an empty post
    # The channel secrets were set for the run only.
    assert bench.SLACK_URL_ENV not in os.environ and bench.HOOK_SECRET_ENV not in os.environ
