"""Shared test fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from blockbuster import BlockBuster, blockbuster_ctx


@pytest.fixture
def no_blocking() -> Iterator[BlockBuster]:
    """Fail the test if code running on the event loop makes a blocking call."""
    with blockbuster_ctx() as bb:
        yield bb
