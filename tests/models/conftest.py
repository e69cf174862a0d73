"""Fixtures for the model tests: the embedded encoder, loaded once per session."""

from __future__ import annotations

import pytest

from models.encoder import SentenceEncoder


@pytest.fixture(scope="session")
def encoder() -> SentenceEncoder:
    """The embedded all-MiniLM-L6-v2 encoder (from the installed wheel; no network)."""
    return SentenceEncoder()
