"""Fixtures for the dashboard tests."""

from __future__ import annotations

import pytest

from tests.web.dashboard import SECRET_ENV


@pytest.fixture(autouse=True)
def web_secret(monkeypatch: pytest.MonkeyPatch) -> str:
    """The [web] secret every test dashboard signs with."""
    value = "test-secret-" + "x" * 32
    monkeypatch.setenv(SECRET_ENV, value)
    return value
