"""Who may see and change what: login, sessions, CSRF, the failed-login limit, escaping."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from monitor.web.app import Dashboard
from tests.web.dashboard import HOSTILE, PASSWORD, build, web_config

Client = TestClient[Any, Any]
BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


@pytest.fixture
async def client(
    tmp_path: Path, aiohttp_client: Callable[..., Awaitable[Client]]
) -> tuple[Client, Dashboard]:
    app, dash = await build(tmp_path / "bm.db", web_config(login_attempts=3))
    return await aiohttp_client(app), dash


def form_token(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


async def log_in(client: Client, user: str = "ana", password: str = PASSWORD) -> Any:
    page = await client.get("/login")
    token = form_token(await page.text())
    return await client.post("/login", data={
        "csrf": token, "username": user, "password": password, "next": "/incidents/1",
    }, allow_redirects=False)


async def test_pages_without_a_session_redirect_to_login_and_api_answers_401(
    client: tuple[Client, Dashboard],
) -> None:
    c, _ = client
    for path in ("/incidents", "/incidents/1", "/mentions?q=sick", "/status"):
        response = await c.get(path, allow_redirects=False)
        assert response.status == 303, path
        assert response.headers["Location"].startswith("/login?next="), path
    api = await c.get("/api/incidents")
    assert api.status == 401
    assert "log in" in (await api.json())["error"]
    followed = await c.get("/incidents/1")
    assert 'action="/login"' in await followed.text()


async def test_login_sets_a_httponly_lax_cookie_and_returns_to_the_page_asked_for(
    client: tuple[Client, Dashboard],
) -> None:
    c, _ = client
    response = await log_in(c)
    assert response.status == 303
    assert response.headers["Location"] == "/incidents/1"
    cookie = next(v for v in response.headers.getall("Set-Cookie") if "bm_session=" in v)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # public_url is http here
    page = await c.get("/incidents/1")
    assert page.status == 200
    assert "Acme cola made my kids ill" in await page.text()


async def test_https_public_url_marks_cookies_secure(
    tmp_path: Path, aiohttp_client: Callable[..., Awaitable[Client]]
) -> None:
    app, _ = await build(tmp_path / "bm.db", web_config(public_url="https://monitor.example"))
    c = await aiohttp_client(app)
    # Over plain http the client rightly keeps Secure cookies to itself: read the header.
    page = await c.get("/login")
    cookie = next(v for v in page.headers.getall("Set-Cookie") if "bm_login=" in v)
    assert "Secure" in cookie and "HttpOnly" in cookie


async def test_login_only_redirects_within_the_site(client: tuple[Client, Dashboard]) -> None:
    c, _ = client
    page = await c.get("/login")
    response = await c.post("/login", data={
        "csrf": form_token(await page.text()), "username": "ana", "password": PASSWORD,
        "next": "//evil.example/",
    }, allow_redirects=False)
    assert response.headers["Location"] == "/incidents"


async def test_post_without_csrf_token_is_403_and_changes_nothing(
    client: tuple[Client, Dashboard],
) -> None:
    c, dash = client
    await log_in(c)
    missing = await c.post("/incidents/1/ack", data={}, allow_redirects=False)
    assert missing.status == 403
    forged = await c.post("/incidents/1/ack", data={"csrf": "0" * 64}, allow_redirects=False)
    assert forged.status == 403
    login_form = await c.post("/login", data={"username": "ana", "password": PASSWORD})
    assert login_form.status == 403
    incident = await dash.ctx.book.get(1)
    assert incident is not None and incident.status == "open"


async def test_acknowledge_note_resolve_and_silence_record_the_user_as_actor(
    client: tuple[Client, Dashboard],
) -> None:
    c, dash = client
    await log_in(c)
    token = form_token(await (await c.get("/incidents/1")).text())
    ack = await c.post("/incidents/1/ack", data={"csrf": token}, allow_redirects=False)
    assert ack.status == 303 and ack.headers["Location"] == "/incidents/1?done=acknowledged"
    await c.post("/incidents/1/note", data={"csrf": token, "text": "calling the plant"})
    silenced = await c.post("/incidents/1/silence", data={
        "csrf": token, "scope": "category", "hours": "4", "reason": "PR statement out",
    }, allow_redirects=False)
    assert silenced.status == 303
    await c.post("/incidents/1/resolve", data={"csrf": token})
    events = await dash.ctx.book.events(1)
    assert [(e.kind, e.actor) for e in events][1:] == [
        ("acknowledged", "ana"), ("note", "ana"), ("resolved", "ana"),
    ]
    detail = await (await c.get("/api/incidents/1")).json()
    assert detail["incident"]["status"] == "resolved"
    assert detail["notes"][0]["detail"]["text"] == "calling the plant"
    again = await c.post("/incidents/1/ack", data={"csrf": token})
    assert again.status == 409
    assert "already resolved" in await again.text()


async def test_failed_logins_are_limited_per_user_name(client: tuple[Client, Dashboard]) -> None:
    c, _ = client
    for _ in range(3):
        assert (await log_in(c, password="wrong")).status == 401
    refused = await log_in(c)  # even the right password, until the window passes
    assert refused.status == 429
    assert "Too many failed logins" in await refused.text()


async def test_failed_logins_are_limited_per_address_across_user_names(
    client: tuple[Client, Dashboard],
) -> None:
    c, _ = client
    for name in ("bob", "carol", "dave"):
        assert (await log_in(c, user=name, password="guess")).status == 401
    assert (await log_in(c)).status == 429


async def test_logout_ends_the_session(client: tuple[Client, Dashboard]) -> None:
    c, _ = client
    await log_in(c)
    page = await c.get("/incidents")
    cookie = c.session.cookie_jar.filter_cookies(c.make_url("/"))["bm_session"].value
    await c.post("/logout", data={"csrf": form_token(await page.text())})
    assert (await c.get("/incidents", allow_redirects=False)).status == 303
    # The old cookie, replayed, no longer works either.
    replay = await c.get("/incidents", cookies={"bm_session": cookie}, allow_redirects=False)
    assert replay.status == 303


async def test_hostile_mention_text_is_inert_in_pages_and_api(
    client: tuple[Client, Dashboard],
) -> None:
    c, _ = client
    await log_in(c)
    for path in ("/incidents", "/incidents/2", "/mentions?q=sick"):
        html = await (await c.get(path)).text()
        assert "<script>" not in html and "<b>bold" not in html, path
        assert "&lt;script&gt;alert(" in html, path
        assert not BIDI.search(html), f"raw bidi control in {path}"
    for path in ("/api/incidents", "/api/incidents/2", "/api/mentions?q=sick"):
        response = await c.get(path)
        raw = await response.text()
        assert response.content_type == "application/json"
        assert "<" not in raw and ">" not in raw and "\u202e" not in raw, path
    data = await (await c.get("/api/incidents/2")).json()
    assert data["incident"]["summary"] == HOSTILE  # escaped on the wire, intact once parsed
    page = await c.get("/incidents/2")
    assert "script-src 'none'" in page.headers["Content-Security-Policy"]


async def test_filters_and_bad_filters(client: tuple[Client, Dashboard]) -> None:
    c, _ = client
    await log_in(c)
    high = await (await c.get("/api/incidents?severity=high")).json()
    assert [i["id"] for i in high["incidents"]] == [1]
    bad = await c.get("/api/incidents?severity=urgent")
    assert bad.status == 400
    assert "expected one of info, low" in (await bad.json())["error"]
    found = await (await c.get("/api/mentions?q=kids&platform=mastodon&limit=3")).json()
    assert len(found["mentions"]) == 3
    sources = await (await c.get("/api/sources")).json()
    assert sources["sources"][0]["health"] == "ok"
