"""The shared HTTP client: redirects between real local servers, and bounded JSON decoding."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from connectors.base import Cursor, SourceError
from connectors.jsonapi import JsonApiConnector, JsonApiOptions
from monitor.httpclient import HttpClient, HttpLimits, NestingTooDeep, json_depth, load_json
from tests.connectors.replay_server import ReplayServer, Reply

API_KEY = "fk-FAKE-forum-api-key-0b7d21"
SESSION_COOKIE = "session=FAKE-cookie-55aa"
ITEMS = {"items": [{"id": 1, "text": "Acme Cola smells of solvent"}]}

ServerFactory = Callable[[Any], Awaitable[TestServer]]


@pytest.fixture
async def http() -> AsyncIterator[HttpClient]:
    client = HttpClient(HttpLimits(connect_timeout=2, read_timeout=2, total_timeout=5))
    yield client
    await client.close()


async def start(aiohttp_server: ServerFactory, replay: ReplayServer) -> str:
    """Serve `replay` on its own port (so its own origin); return the base URL."""
    server = await aiohttp_server(replay.app())
    return str(server.make_url("")).rstrip("/")


def forum(url: str, http: HttpClient) -> JsonApiConnector:
    """A JSON source configured with a secret Api-Key header and a Cookie."""
    options = JsonApiOptions.model_validate(
        {
            "url": url,
            "headers": {"Api-Key": {"env": "FORUM_API_KEY"}, "Cookie": SESSION_COOKIE},
            "items": "items[*]",
            "fields": {"id": "id", "text": "text"},
        }
    )
    return JsonApiConnector("forum", options, http)


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORUM_API_KEY", API_KEY)


# --- redirects ----------------------------------------------------------------------------------

async def test_configured_headers_are_not_sent_to_another_origin(aiohttp_server, http):
    other = ReplayServer().add("/latest.json", Reply.json(ITEMS))
    other_base = await start(aiohttp_server, other)
    first = ReplayServer().add(
        "/latest.json", Reply(status=302, headers={"Location": f"{other_base}/latest.json"})
    )
    first_base = await start(aiohttp_server, first)

    result = await forum(f"{first_base}/latest.json", http).fetch(Cursor())

    assert [m.text for m in result.mentions] == ["Acme Cola smells of solvent"]
    (sent_first,) = first.requests
    assert sent_first.headers["Api-Key"] == API_KEY  # the configured origin gets it
    (sent_other,) = other.requests
    assert "Api-Key" not in sent_other.headers
    assert "Cookie" not in sent_other.headers
    assert sent_other.headers["Accept"] == "application/json"  # harmless headers still go


async def test_same_origin_redirect_keeps_configured_headers(aiohttp_server, http):
    replay = ReplayServer()
    replay.add("/old/latest.json", Reply(status=301, headers={"Location": "/latest.json"}))
    replay.add("/latest.json", Reply.json(ITEMS))
    base = await start(aiohttp_server, replay)

    result = await forum(f"{base}/old/latest.json", http).fetch(Cursor())

    assert len(result.mentions) == 1
    moved = replay.requests_to("/latest.json")[0]
    assert moved.headers["Api-Key"] == API_KEY
    assert moved.headers["Cookie"] == SESSION_COOKIE


async def test_cross_origin_redirect_drops_authorization_and_token_headers(aiohttp_server, http):
    other = ReplayServer().add("/next", Reply.json({}))
    other_base = await start(aiohttp_server, other)
    first = ReplayServer().add(
        "/start", Reply(status=307, headers={"Location": f"{other_base}/next"})
    )
    first_base = await start(aiohttp_server, first)
    credentials = {"Authorization": "Bearer tok-FAKE-1", "X-Auth-Token": "tok-FAKE-2"}

    await http.get(f"{first_base}/start", headers=credentials)

    assert credentials.items() <= first.requests[0].headers.items()
    (request,) = other.requests
    assert not credentials.keys() & request.headers.keys()


async def test_post_body_is_not_resent_to_another_origin(aiohttp_server, http):
    other = ReplayServer().add("/session", Reply.json({}), method="POST")
    other_base = await start(aiohttp_server, other)
    first = ReplayServer().add(
        "/session", Reply(status=307, headers={"Location": f"{other_base}/session"}),
        method="POST",
    )
    first_base = await start(aiohttp_server, first)

    with pytest.raises(SourceError, match="another origin.*body was not sent again"):
        await http.post(f"{first_base}/session", json_body={"password": "pw-FAKE-4"})

    assert other.requests == []


async def test_see_other_after_post_is_a_get_without_the_body(aiohttp_server, http):
    replay = ReplayServer()
    replay.add("/login", Reply(status=303, headers={"Location": "/welcome"}), method="POST")
    replay.add("/welcome", Reply.json({"ok": True}))
    base = await start(aiohttp_server, replay)

    response = await http.post(f"{base}/login", data={"user": "acme"})

    assert response.json() == {"ok": True}
    assert response.url == f"{base}/welcome"
    assert replay.requests_to("/welcome")[0].body == b""


async def test_redirect_loop_and_non_http_target_are_source_errors(aiohttp_server):
    replay = ReplayServer(repeat_last=True)
    replay.add("/loop", Reply(status=302, headers={"Location": "/loop"}))
    replay.add("/away", Reply(status=302, headers={"Location": "file:///etc/passwd"}))
    base = await start(aiohttp_server, replay)
    client = HttpClient(HttpLimits(max_redirects=3, total_timeout=5))
    try:
        with pytest.raises(SourceError, match="redirected more than 3 times"):
            await client.get(f"{base}/loop")
        assert len(replay.requests_to("/loop")) == 4  # the first request and three redirects
        with pytest.raises(SourceError, match="not an http\\(s\\) address"):
            await client.get(f"{base}/away")
    finally:
        await client.close()


# --- JSON nesting -------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("body", "depth"),
    [
        (b"42", 0),
        (b"[]", 1),
        (b'{"a": [1, {"b": [2]}]}', 4),
        (b'{"text": "[[[[{{{{"}', 1),  # brackets inside strings do not nest
        (b'["say \\"[[[\\" twice", "\\\\", ["x"]]', 2),  # escaped quotes and backslashes
        (b"[" * 5000 + b"]" * 5000, 5000),
        (b'["unterminated [[[', 1),
    ],
    ids=["scalar", "empty", "mixed", "in-string", "escapes", "deep", "unterminated"],
)
def test_json_depth(body: bytes, depth: int) -> None:
    assert json_depth(body) == depth


def test_load_json_refuses_deep_nesting_before_parsing() -> None:
    with pytest.raises(NestingTooDeep, match="deeper than 100 levels"):
        load_json(b"[" * 20_000)  # json.loads alone raises RecursionError here
    assert load_json(b"[" * 100 + b"]" * 100) is not None


@pytest.mark.parametrize(
    ("body", "value"),
    [
        (b'{"t": "a\\ud83d b"}', {"t": "a\ufffd b"}),  # lone high half
        (b'{"t": "\\ude00"}', {"t": "\ufffd"}),  # lone low half
        (b'{"t": "\\ud83d\\ude00"}', {"t": "\U0001f600"}),  # a real pair stays the emoji
        (b'{"k\\udc00": ["\\ud800"]}', {"k\ufffd": ["\ufffd"]}),  # keys and nested values
        (b'["a\xed\xa0\xbd"]', ["a\ufffd"]),  # the surrogate as raw (invalid) UTF-8 bytes
        ('["\ud83d"]'.encode("utf-16-le", "surrogatepass"), ["\ufffd"]),  # UTF-16 body
    ],
    ids=["high", "low", "pair", "key-and-list", "raw-bytes", "utf-16"],
)
def test_load_json_strings_always_encode_as_utf8(body: bytes, value: Any) -> None:
    decoded = load_json(body)

    assert decoded == value
    json.dumps(decoded, ensure_ascii=False).encode("utf-8")  # raises on a surrogate


def test_alert_channels_import_no_connector_code() -> None:
    """Channels take their HTTP basics from monitor.outbound, not from the connectors' client."""
    probe = (
        "import importlib, pkgutil, sys, monitor.alerting.channels as channels\n"
        "for module in pkgutil.iter_modules(channels.__path__):\n"
        "    importlib.import_module('monitor.alerting.channels.' + module.name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('connectors', 'monitor')))\n"
    )
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, check=True
    )
    assert "'connectors" not in done.stdout, done.stdout
    assert "'monitor.outbound'" in done.stdout
