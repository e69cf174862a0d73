"""Two daemons (in one process here) on one PostgreSQL database: the lease holder polls a shared
source, the other skips, and when the holder stops the other polls on from its cursor; daemons
on one host split its cores between them."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

import psycopg
from aiohttp import web
from aiohttp.test_utils import TestServer
from typer.testing import CliRunner

from monitor.cli import app
from monitor.config import parse_config
from monitor.service import Service
from tests.connectors.replay_server import ReplayServer, Reply
from tests.pg_server import PostgresServer
from tests.store_backends import fresh_database, postgres_server  # noqa: F401

ServerFactory = Callable[[web.Application], Awaitable[TestServer]]
FEED = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
    "<item><title>Acme skates recalled</title><link>https://n.example/1</link><guid>1</guid></item>"
    "</channel></rss>"
)


def lease_holder(url: str, name: str) -> str | None:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT holder FROM leases WHERE name = %s AND expires_at >= now()", [name]
        ).fetchone()
    return str(row[0]) if row else None


async def test_the_lease_holder_polls_and_the_other_takes_over_from_its_cursor(
    tmp_path: Path, postgres_server: PostgresServer, aiohttp_server: ServerFactory,  # noqa: F811
) -> None:
    replay = ReplayServer(repeat_last=True)
    replay.add(
        "/feed.xml",
        Reply(body=FEED.encode(), content_type="application/rss+xml", headers={"ETag": '"v1"'}),
        Reply(status=304),
    )
    feed = await aiohttp_server(replay.app())
    url = fresh_database(postgres_server)
    config = parse_config({
        "brands": [{"name": "Acme"}],
        "sources": [{"kind": "rss", "name": "news", "url": str(feed.make_url("/feed.xml")),
                     "interval": 3600}],
        "storage": {"url": url, "heartbeat": "0.5s", "lease": "2s"},
        "server": {"enabled": False},
    })
    first, second = Service(config), Service(config)
    await first.start()
    await second.start()
    stopped: list[Service] = []
    try:
        # Both schedule a first poll within seconds; only the lease holder's reaches the feed.
        for _ in range(200):
            if all(s.runners["news"].state is not None for s in (first, second)):
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        assert len(replay.requests_to("/feed.xml")) == 1
        holder_name = lease_holder(url, "source:news")
        assert holder_name is not None
        holder, other = (first, second) if first.membership and \
            first.membership.holder == holder_name else (second, first)
        assert await other.runners["news"].poll() == "elsewhere"
        assert await holder.runners["news"].poll() == "not_modified"
        assert len(replay.requests_to("/feed.xml")) == 2
        # `store daemons` lists both, alive, with the source's lease on its holder.
        (tmp_path / "config.toml").write_text(
            f'[[brands]]\nname = "Acme"\n[storage]\nurl = "{url}"\n', encoding="utf-8"
        )
        args = ["store", "daemons", "--config", str(tmp_path / "config.toml"), "--json"]
        listed = await asyncio.to_thread(CliRunner().invoke, app, args)
        assert listed.exit_code == 0, listed.output
        leases = {row["daemon"]: row["leases"] for row in json.loads(listed.output)
                  if row["alive"]}
        assert holder_name in leases and len(leases) == 2
        assert "source:news" in leases[holder_name]
        # Both report the source's health as its holder left it.
        for service in (first, second):
            _ok, body = await service.health()
            assert body["sources"]["news"]["health"] == "ok"
        assert await first.store.count_mentions() == 1

        await holder.stop()  # a clean stop gives its leases back at once
        stopped.append(holder)
        assert await other.runners["news"].poll() == "not_modified"
        last = replay.requests_to("/feed.xml")[-1]
        assert last.headers.get("If-None-Match") == '"v1"'  # the holder's cursor, not a refetch
        assert other.membership is not None
        assert lease_holder(url, "source:news") == other.membership.holder
    finally:
        for service in (first, second):
            if service not in stopped:
                await service.stop()


async def scoring_threads(service: Service) -> int:
    """Torch's thread count where the daemon scores (it is a per-thread setting)."""
    import torch

    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(service.scoring._executor, torch.get_num_threads)


async def test_daemons_on_one_host_split_its_cores(
    postgres_server: PostgresServer,  # noqa: F811
) -> None:
    url = fresh_database(postgres_server)
    config = parse_config({
        "brands": [{"name": "Acme"}],
        "storage": {"url": url, "heartbeat": "0.5s", "lease": "2s"},
        "server": {"enabled": False},
    })
    first, second = Service(config), Service(config)
    stopped: list[Service] = []
    try:
        # One after the other: transformers' lazy imports are not safe on two threads at once.
        own = 0
        for service in (first, second):
            await service.start()
            for _ in range(1200):  # the models load in the background
                if service.scoring.scorer is not None:
                    break
                await asyncio.sleep(0.05)
            assert service.scoring.scorer is not None, service.scoring.load_error
            own = own or await scoring_threads(first)  # before the second daemon joins
        await first.beat()
        await second.beat()
        half = max(1, (os.cpu_count() or 1) // 2)
        assert [await scoring_threads(s) for s in (first, second)] == [half, half]
        await second.stop()
        stopped.append(second)
        await first.beat()
        assert await scoring_threads(first) == own  # alone again: torch's own choice
    finally:
        for service in (first, second):
            if service not in stopped:
                await service.stop()
