"""Webhook push intake through a real aiohttp server and client."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from connectors.base import Cursor, connector_class
from connectors.webhook import (
    SIGNATURE_HEADER,
    WebhookConnector,
    WebhookIntake,
    WebhookOptions,
    sign,
)
from monitor.clock import VirtualClock
from monitor.httpclient import HttpClient
from monitor.records import Mention

SECRET = "whsec-FAKE-shared-secret-9c1d2e"
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
T = int(NOW.timestamp())
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "webhook"

ClientFactory = Callable[[web.Application], Awaitable[TestClient[web.Request, web.Application]]]


class MemoryPipeline:
    """Stands in for the pipeline: keeps mentions, deduplicated by (platform, external_id)."""

    def __init__(self) -> None:
        self.stored: dict[tuple[str, str], Mention] = {}
        self.calls: list[tuple[str, int]] = []
        self.fail = False

    async def submit(self, source: str, mentions: list[Mention]) -> int:
        self.calls.append((source, len(mentions)))
        if self.fail:
            raise RuntimeError("database is locked")
        new = 0
        for mention in mentions:
            key = (mention.platform, mention.external_id)
            if key not in self.stored:
                self.stored[key] = mention
                new += 1
        return new


@pytest.fixture(autouse=True)
def secret_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBHOOK_TEST_SECRET", SECRET)


@pytest.fixture
def pipeline() -> MemoryPipeline:
    return MemoryPipeline()


@pytest.fixture
async def client(
    pipeline: MemoryPipeline, aiohttp_client: ClientFactory
) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    options = WebhookOptions.model_validate(
        {"secret": {"env": "WEBHOOK_TEST_SECRET"}, "max_body_bytes": 4096}
    )
    intake = WebhookIntake({"support": options}, pipeline.submit, clock=VirtualClock(NOW))
    app = web.Application()
    app.add_routes(intake.routes())
    yield await aiohttp_client(app)


def payload(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


async def post(
    client: TestClient[web.Request, web.Application],
    body: bytes,
    *,
    timestamp: int = T,
    signature: str | None = None,
    source: str = "support",
) -> tuple[int, Any]:
    header = signature if signature is not None else sign(SECRET, body, timestamp)
    async with client.post(
        f"/ingest/{source}",
        data=body,
        headers={SIGNATURE_HEADER: header, "Content-Type": "application/json"},
    ) as resp:
        return resp.status, await resp.json()


async def test_single_mention_is_accepted_and_mapped(client, pipeline):
    status, answer = await post(client, payload("single"))

    assert (status, answer) == (202, {"accepted": 1, "new": 1, "rejected": []})
    mention = pipeline.stored[("zendesk", "zd-48213")]
    assert mention.text.startswith("Customer reports their child was sick")
    assert mention.url == "https://support.example.com/tickets/48213"
    assert mention.title == "Illness after Acme Cola" and mention.author == "Support desk"
    assert mention.published_at == datetime(2026, 11, 21, 10, 50, tzinfo=UTC)
    assert mention.lang == "en" and mention.source == "support"
    assert pipeline.calls == [("support", 1)]


async def test_same_batch_twice_is_stored_once(client, pipeline):
    first = await post(client, payload("batch"))
    second = await post(client, payload("batch"))

    assert first == (202, {"accepted": 2, "new": 2, "rejected": []})
    assert second == (202, {"accepted": 2, "new": 0, "rejected": []})
    assert sorted(pipeline.stored) == [("tiktok", "7302"), ("tiktok", "tt-7301")]
    video = pipeline.stored[("tiktok", "tt-7301")]
    assert video.author_reach == 88_000
    assert video.published_at == datetime(2026, 11, 21, 11, 55, tzinfo=UTC)  # Unix seconds
    assert video.engagement is not None
    assert (video.engagement.likes, video.engagement.shares, video.engagement.views) == (
        5400, 830, 210_000,
    )
    assert pipeline.stored[("tiktok", "7302")].parent_id == "tt-7301"


async def test_malformed_items_are_reported_and_valid_ones_kept(client, pipeline):
    status, answer = await post(client, payload("mixed"))

    assert status == 202
    assert answer["accepted"] == 1 and answer["new"] == 1
    errors = {r["index"]: r["error"] for r in answer["rejected"]}
    assert errors == {
        1: "text: Field required",
        2: "publishedAt: unknown field",
        3: "id: must be a string or an integer",
        4: "engagement.likes: Input should be greater than or equal to 0",
        5: "Input should be a valid dictionary or instance of PushedMention",
    }
    assert list(pipeline.stored) == [("webhook", "ok-1")]  # the source's default platform


async def test_deeply_nested_body_is_400_not_a_crash(client, pipeline):
    body = b'{"mentions": [{"id": "n-1", "text": ' + b"[" * 1500 + b"]" * 1500 + b"}]}"

    status, answer = await post(client, body)

    assert status == 400
    assert answer["error"] == (
        "body is refused: it nests arrays and objects deeper than 100 levels; "
        "send mentions as flat objects"
    )
    assert pipeline.calls == []


async def test_lone_surrogates_are_replaced_and_every_item_kept(client, pipeline):
    status, answer = await post(client, payload("lone_surrogate"))

    assert (status, answer) == (202, {"accepted": 3, "new": 3, "rejected": []})
    sick = pipeline.stored[("tiktok", "tt-7401")]
    assert sick.text == "Acme Cola made my kid sick \ufffd should I report it?"
    assert sick.author == "worried\ufffdparent"
    assert pipeline.stored[("tiktok", "tt-7402")].text.endswith("\U0001f600")  # a real pair
    for mention in pipeline.stored.values():
        for value in (mention.text, mention.author or "", mention.external_id):
            value.encode("utf-8")  # what the store does; raises on a surrogate


async def test_nothing_usable_is_422(client, pipeline):
    body = json.dumps({"mentions": [{"id": "x"}]}).encode()

    status, answer = await post(client, body)

    assert status == 422
    rejected = [{"index": 0, "error": "text: Field required"}]
    assert answer == {"accepted": 0, "new": 0, "rejected": rejected}
    assert pipeline.calls == []


@pytest.mark.parametrize(
    ("secret", "signature", "timestamp", "reason"),
    [
        (SECRET, "", T, "missing X-Brand-Monitor-Signature"),
        (SECRET, "sha256=abc", T, "malformed"),
        ("wrong-secret-000", None, T, "does not match"),
        (SECRET, None, T - 301, "more than 300 s"),  # stale: a replay
        (SECRET, None, T + 301, "more than 300 s"),  # from the future
    ],
    ids=["missing", "malformed", "bad-signature", "stale", "future"],
)
async def test_bad_or_stale_signatures_are_401(
    client, pipeline, secret, signature, timestamp, reason
):
    body = payload("single")
    if signature is None:
        signature = sign(secret, body, timestamp)

    status, answer = await post(client, body, signature=signature, timestamp=timestamp)

    assert status == 401 and reason in answer["error"]
    assert pipeline.calls == []


async def test_tampered_body_is_401(client, pipeline):
    signature = sign(SECRET, payload("single"), T)

    status, _ = await post(client, payload("batch"), signature=signature)

    assert status == 401 and pipeline.calls == []


async def test_recent_timestamp_and_rotated_secret_are_accepted(client):
    body = payload("single")
    old = sign("previous-secret-1", body, T - 299).partition(",v1=")[2]
    header = sign(SECRET, body, T - 299) + f",v1={old}"

    status, _ = await post(client, body, signature=header)

    assert status == 202


async def test_oversized_body_is_413_without_reading_it(client, pipeline):
    sent: list[int] = []
    never = asyncio.Event()

    async def trickle() -> AsyncIterator[bytes]:
        sent.append(1024)
        yield b"{" + b" " * 1023
        await never.wait()  # the server must answer before the rest arrives
        yield b"}"

    headers = {SIGNATURE_HEADER: sign(SECRET, b"", T), "Content-Length": "5000000"}
    async with asyncio.timeout(5):
        async with client.post("/ingest/support", data=trickle(), headers=headers) as resp:
            assert resp.status == 413
            assert "4096-byte limit" in (await resp.json())["error"]
    assert sum(sent) == 1024 and pipeline.calls == []


async def test_oversized_chunked_body_is_413(client, pipeline):
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b" " * 1000

    headers = {SIGNATURE_HEADER: sign(SECRET, b"", T)}
    async with client.post("/ingest/support", data=chunks(), headers=headers) as resp:
        assert resp.status == 413
    assert pipeline.calls == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"id": "1", "text": ', "body is not valid JSON: Expecting value: line 1 column 21"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b'[{"id": "1", "text": "x"}]', 'expected one mention object or {"mentions"'),
        (b'{"mentions": {"id": "1"}}', "expected one mention object"),
    ],
    ids=["truncated", "not-utf8", "bare-list", "mentions-not-a-list"],
)
async def test_bad_json_is_400_with_the_reason(client, pipeline, body, reason):
    status, answer = await post(client, body)

    assert status == 400 and reason in answer["error"]
    assert pipeline.calls == []


async def test_unknown_source_is_404(client):
    status, answer = await post(client, payload("single"), source="nope")

    assert status == 404 and "no webhook source" in answer["error"]


async def test_pipeline_failure_is_503_so_the_sender_retries(client, pipeline):
    pipeline.fail = True

    async with client.post(
        "/ingest/support",
        data=payload("single"),
        headers={SIGNATURE_HEADER: sign(SECRET, payload("single"), T)},
    ) as resp:
        assert resp.status == 503 and resp.headers["Retry-After"] == "30"


async def test_secret_never_in_logs_or_answers(client, pipeline, caplog):
    answers: list[str] = []
    with caplog.at_level(logging.DEBUG):
        for signature in ("", "t=1,v1=00", sign("nope-nope", b"x", T), None):
            status, answer = await post(client, payload("mixed"), signature=signature)
            answers.append(json.dumps(answer))
        pipeline.fail = True
        await post(client, payload("single"))

    assert SECRET not in caplog.text
    assert all(SECRET not in a for a in answers)
    assert "WEBHOOK_TEST_SECRET" not in caplog.text


def test_signature_matches_the_documented_example() -> None:
    # The worked example in docs/sources-social2.md.
    body = b'{"id":"42","text":"Acme Cola made me sick"}'
    assert sign("whsec_example", body, 1795262400) == (
        "t=1795262400,v1=fbd74588b34968b04918ec0e424ba3e6"
        "c14218f98086aed06abfa7476bd457c7"
    )


async def test_connector_is_push_only() -> None:
    assert connector_class("webhook") is WebhookConnector
    assert WebhookConnector.push_only
    options = WebhookOptions.model_validate({"secret": {"env": "WEBHOOK_TEST_SECRET"}})
    http = HttpClient()
    connector = WebhookConnector("support", options, http)
    result = await connector.fetch(Cursor({"a": 1}))
    assert result.mentions == [] and result.cursor == Cursor({"a": 1})
    intake = WebhookIntake.from_connectors([connector], MemoryPipeline().submit)
    assert [r.path for r in intake.routes()] == ["/ingest/{source}"]
    await http.close()


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({}, "secret"),
        ({"secret": "literal"}, "environment variables"),
        ({"secret": {"env": "S"}, "max_body_bytes": 10}, "greater than or equal"),
        ({"secret": {"env": "S"}, "path": "/x"}, "Extra inputs"),
    ],
)
def test_options_validation(options: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError) as info:
        WebhookOptions.model_validate(options)
    assert problem in str(info.value)
