"""Fixtures the connector tests share: the HTTP client and an empty replay script."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from monitor.httpclient import HttpClient, HttpLimits
from tests.connectors.replay_server import ReplayServer


@pytest.fixture
async def http() -> AsyncIterator[HttpClient]:
    """An HTTP client with a 64 kB body cap (a module may define its own limits)."""
    client = HttpClient(HttpLimits(max_body_bytes=64_000))
    yield client
    await client.close()


@pytest.fixture
def replay() -> ReplayServer:
    """A replay server with nothing scripted yet; tests add the replies they need."""
    return ReplayServer()
