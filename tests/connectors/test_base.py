"""The connector contract's shared mechanics: per-item skips and text that always encodes."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from connectors.base import Cursor, FetchResult, map_items
from connectors.textutil import encodable
from monitor.records import Mention


@pytest.mark.parametrize(
    ("raw", "repaired"),
    [
        ("plain Acme text", "plain Acme text"),
        ("Acme \ud83d kettle", "Acme \ufffd kettle"),  # lone high half (JSON "\ud83d")
        ("\ude00 at the start", "\ufffd at the start"),  # lone low half
        ("\ud83d\ude00", "\U0001f600"),  # a pair held as two halves is the real character
        ("\ude00\ud83d", "\ufffd\ufffd"),  # halves in the wrong order are not a pair
    ],
)
def test_encodable(raw: str, repaired: str) -> None:
    assert encodable(raw) == repaired
    repaired.encode("utf-8")


def test_fetch_result_never_carries_text_the_store_cannot_encode() -> None:
    clean = Mention(platform="x", external_id="1", text="Acme is fine")
    dirty = Mention(
        platform="x", external_id="2\udc00", text="Acme \ud83d recall", url="https://e.x/\ud800",
        title="t\udfff", author="a\ud83d", parent_id="p\udc00",
    )

    result = FetchResult(mentions=[clean, dirty], cursor=Cursor())

    assert result.mentions[0] is clean  # untouched when nothing needs repair
    repaired = result.mentions[1]
    assert (repaired.text, repaired.external_id, repaired.author) == (
        "Acme \ufffd recall", "2\ufffd", "a\ufffd",
    )
    for value in (repaired.url, repaired.title, repaired.parent_id):
        assert value is not None and value.endswith("\ufffd")


def test_map_items_skips_what_raises_with_one_line_and_keeps_the_rest(
    caplog: pytest.LogCaptureFixture,
) -> None:
    items: list[Any] = [{"id": 1, "n": 2}, {"id": "bad\ud83d\nid", "n": 0}, {"n": None}, "x"]

    def to_record(item: Any) -> int | None:
        if not isinstance(item, dict):
            return None  # known unusable: the mapper logs its own reason
        return 10 // item["n"]  # ZeroDivisionError, TypeError: what a malformed item does

    with caplog.at_level(logging.WARNING, logger="connectors.base"):
        records, skipped = map_items("forum", items, to_record)

    assert (records, skipped) == ([5], 3)
    assert [r.getMessage() for r in caplog.records] == [
        "source forum: skipped item 1 (id 'bad\ufffd\\nid'): cannot read it "
        "(ZeroDivisionError: integer division or modulo by zero); the rest of the page is kept",
        "source forum: skipped item 2: cannot read it (TypeError: unsupported operand type(s) "
        "for //: 'int' and 'NoneType'); the rest of the page is kept",
    ]


def test_connectors_do_not_import_the_config_module() -> None:
    """Connectors take their option types from monitor.configtypes, not the whole Config."""
    probe = (
        "import importlib, pkgutil, sys, connectors\n"
        "for module in pkgutil.iter_modules(connectors.__path__):\n"
        "    importlib.import_module('connectors.' + module.name)\n"
        "print(sorted(m for m in sys.modules if m.startswith('monitor')))\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, check=True
    )
    assert "'monitor.config'" not in done.stdout, done.stdout
    assert "'monitor.configtypes'" in done.stdout
