"""The store is the only package that holds SQL or a database handle."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# A database driver, a sqlite-utils handle, or a statement run on a connection.
_DATABASE = re.compile(r"\bsqlite_utils\b|\bsqlite3\b|\.execute\(|\.executemany\(|\.query\(|db\[\"")


def test_only_the_store_touches_the_database() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for package in ("monitor", "connectors", "models")
        for path in sorted((ROOT / package).rglob("*.py"))
        if (ROOT / "monitor" / "store") not in path.parents
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _DATABASE.search(line)
    ]
    assert not offenders, "SQL or a database handle outside monitor/store:\n" + "\n".join(offenders)
