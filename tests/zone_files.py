"""Which time-zone files a snippet of code opens, run in a fresh interpreter with an audit hook
(a zone file read on the event loop blocks it)."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Installed before the snippet runs: records every tz database file opened (system or tzdata).
_RECORDER = """
import sys

opened = []


def record(event, args):
    path = str(args[0]) if event == "open" and args else ""
    if "zoneinfo" in path and not path.endswith((".py", ".pyc")):
        opened.append(path)


"""


def zone_files_opened(setup: str, code: str) -> list[str]:
    """The zone files `code` opens after `setup` has run (setup's own opens do not count)."""
    script = (
        textwrap.dedent(setup) + _RECORDER + "sys.addaudithook(record)\n"
        + textwrap.dedent(code) + "\nprint(repr(opened))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True, text=True, check=True, timeout=120, cwd=ROOT,
    )
    opened: list[str] = ast.literal_eval(result.stdout.strip().splitlines()[-1])
    return opened
