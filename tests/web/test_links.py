"""Signed acknowledge links in alerts: a GET only shows a page; the page's POST acknowledges."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp.test_utils import TestClient

from monitor.alerting.render import render_html, render_slack, render_text
from monitor.records import AlertLinks, AlertMessage
from monitor.web.app import Dashboard
from tests.web.dashboard import build

Client = TestClient[Any, Any]


@pytest.fixture
async def client(
    tmp_path: Path, aiohttp_client: Callable[..., Awaitable[Client]]
) -> tuple[Client, Dashboard]:
    app, dash = await build(tmp_path / "bm.db")
    return await aiohttp_client(app), dash


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))


async def test_opening_a_link_shows_a_confirmation_and_does_not_acknowledge(
    client: tuple[Client, Dashboard],
) -> None:
    c, dash = client
    url = dash.links.url(1, "ack", dash.ctx.clock.now().timestamp())
    assert url.startswith("http://127.0.0.1:8787/link/1/ack?expires=")
    for _ in range(3):  # a mail scanner may follow it several times
        page = await c.get(path_of(url))
        assert page.status == 200
        assert page.headers["Cache-Control"] == "no-store"
        assert "Acknowledge incident 1?" in await page.text()
    incident = await dash.ctx.book.get(1)
    assert incident is not None and incident.status == "open"
    assert [e.kind for e in await dash.ctx.book.events(1)] == ["opened"]


async def test_posting_the_confirmation_acknowledges_with_the_given_name(
    client: tuple[Client, Dashboard],
) -> None:
    c, dash = client
    url = dash.links.url(1, "ack", dash.ctx.clock.now().timestamp())
    page = await c.get(path_of(url))
    form = fields(await page.text()) | {"name": "Maria"}
    done = await c.post(urlsplit(url).path, data=form)
    assert done.status == 200
    assert "acknowledged by Maria (email link)" in await done.text()
    events = await dash.ctx.book.events(1)
    assert (events[-1].kind, events[-1].actor) == ("acknowledged", "Maria (email link)")


async def test_expired_link_is_refused(client: tuple[Client, Dashboard]) -> None:
    c, dash = client
    long_ago = dash.ctx.clock.now().timestamp() - dash.config.link_lifetime - 60
    url = dash.links.url(1, "ack", long_ago)
    page = await c.get(path_of(url))
    assert page.status == 403
    assert "expired" in await page.text()
    # A genuine form token with the expired link's own (correctly signed) expiry: refused.
    fresh = dash.links.url(1, "ack", dash.ctx.clock.now().timestamp())
    form = fields(await (await c.get(path_of(fresh))).text())
    old = dict(re.findall(r"(expires|sig)=(\w+)", url))
    posted = await c.post("/link/1/ack", data=form | old | {"name": "Maria"})
    assert posted.status == 403
    assert "expired" in await posted.text()
    incident = await dash.ctx.book.get(1)
    assert incident is not None and incident.status == "open"


@pytest.mark.parametrize("tamper", ["incident", "expiry", "signature"])
async def test_tampered_link_is_refused(client: tuple[Client, Dashboard], tamper: str) -> None:
    c, dash = client
    url = dash.links.url(1, "ack", dash.ctx.clock.now().timestamp())
    path = path_of(url)
    if tamper == "incident":
        path = path.replace("/link/1/", "/link/2/")
    elif tamper == "expiry":
        path = re.sub(r"expires=(\d+)", lambda m: f"expires={int(m.group(1)) + 86400}", path)
    else:
        path = path[:-1] + ("0" if path[-1] != "0" else "1")
    page = await c.get(path)
    assert page.status == 403
    assert "not valid" in await page.text()
    posted = await c.post(urlsplit(path).path, data={"name": "x"})
    assert posted.status == 403
    for incident in await dash.ctx.book.list():
        assert incident.status == "open"


async def test_alerts_carry_the_links_in_every_format(client: tuple[Client, Dashboard]) -> None:
    _, dash = client
    incident = await dash.ctx.book.get(1)
    assert incident is not None
    ack = dash.links.url(1, "ack", dash.ctx.clock.now().timestamp())
    links = AlertLinks("http://127.0.0.1:8787/incidents/1", ack)
    alert = AlertMessage(1, "1:opened:high", "opened", incident, links=links)
    assert f"Acknowledge in the browser: {ack}" in render_text(alert)
    assert ack.replace("&", "&amp;") in render_html(alert)
    slack = render_slack(alert)
    assert not [b for b in slack.blocks if b["type"] == "actions"]  # no signing secret: a link
    assert ack.replace("&", "&amp;") in str(slack.blocks)
    without = AlertMessage(1, "1:opened:high", "opened", incident)
    assert "/link/" not in render_text(without) + render_html(without)
