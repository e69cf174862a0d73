"""Robustness run: every document of the shared feed corpus through `parse_feed`.

The corpus (feedparser's own test documents, with the HTTP headers each expects) lives beside
the repository in `../shared/data/feeds`; the module is skipped where it is absent.
"""

from __future__ import annotations

import csv
import io
import threading
from pathlib import Path

import feedparser
import pytest

from connectors.base import SourceError
from connectors.rss import ParsedFeed, parse_feed

CORPUS = Path(__file__).resolve().parents[3] / "shared/data/feeds"
MANIFEST = CORPUS / "MANIFEST.csv"
DEADLINE_S = 10.0

if not MANIFEST.is_file():
    pytest.skip(f"feed corpus not found at {CORPUS}", allow_module_level=True)


def _rows() -> list[dict[str, str]]:
    with MANIFEST.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _headers(spec: str) -> dict[str, str]:
    """MANIFEST's http_headers column: one "Name: value" header, or nothing."""
    name, _, value = spec.partition(":")
    return {name.strip(): value.strip()} if name.strip() else {}


def _parse_with_deadline(row: dict[str, str]) -> ParsedFeed | SourceError:
    """Parse in a worker thread so a hang fails the test instead of stalling the run."""
    outcome: list[ParsedFeed | BaseException] = []

    def work() -> None:
        try:
            outcome.append(
                parse_feed(
                    (CORPUS / row["path"]).read_bytes(),
                    _headers(row["http_headers"]),
                    f"https://corpus.example/{row['path']}",
                )
            )
        except BaseException as exc:  # reported below, whatever it is
            outcome.append(exc)

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(DEADLINE_S)
    if worker.is_alive():
        pytest.fail(f"parse_feed still busy with {row['path']} after {DEADLINE_S}s")
    (result,) = outcome
    if isinstance(result, SourceError):
        return result
    if isinstance(result, BaseException):
        raise result
    return result


ROWS = _rows()


@pytest.mark.parametrize("row", ROWS, ids=[row["path"] for row in ROWS])
def test_document_parses_or_raises_source_error(row: dict[str, str]) -> None:
    outcome = _parse_with_deadline(row)
    # What feedparser finds on its own, given the raw bytes: our decoding and checks in front
    # of it must not lose entries, except where we refuse entity declarations on purpose.
    alone = feedparser.parse(
        io.BytesIO((CORPUS / row["path"]).read_bytes()),
        response_headers={k.lower(): v for k, v in _headers(row["http_headers"]).items()},
    )

    if isinstance(outcome, SourceError):
        assert not alone.entries or "declares XML entities" in str(outcome)
    else:
        assert len(outcome.mentions) + outcome.skipped >= len(alone.entries)
        assert all(m.text and m.external_id for m in outcome.mentions)
        assert all(
            m.published_at is None or m.published_at.utcoffset() is not None
            for m in outcome.mentions
        )
