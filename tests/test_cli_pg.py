"""The query commands and the dashboard on PostgreSQL: without --db they open the config's
[storage] url, through the real CLI against a fresh database of the throwaway cluster."""

from __future__ import annotations

import asyncio
import json
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import psycopg
import pytest
from typer.testing import CliRunner, Result

from monitor.cli import app
from monitor.clock import VirtualClock
from monitor.detection.settings import DetectionConfig
from monitor.incidents import IncidentBook
from monitor.records import Assessment, Incident, Mention, RiskFactor
from monitor.store import PostgresTarget, SourceState, Store
from monitor.web.serve import Served, serve_database
from tests.pg_server import PostgresServer
from tests.store_backends import fresh_database, postgres_server  # noqa: F401
from tests.web.dashboard import log_in

NOW = datetime.now(UTC).replace(microsecond=0)
PASSWORD_ENV = "BM_TEST_CLI_PG_PASSWORD"
CLAIM = "Acme cola made my kids ill at the Riverside festival"


def route(incident: Incident, reason: str) -> list[str]:
    return ["console"]


def write_config(directory: Path, storage: str) -> Path:
    """A config with one brand, one source and the given [storage] table body."""
    path = directory / "config.toml"
    path.write_text(textwrap.dedent("""
        [[brands]]
        name = "Acme"
        [[sources]]
        kind = "rss"
        name = "news"
        url = "https://news.example/feed"
        [server]
        enabled = false
        [storage]
    """) + storage + "\n")
    return path


async def seed(target: PostgresTarget) -> None:
    """Mentions, a source's state, and one open critical incident with its queued alert."""
    store = await Store(target).open()
    try:
        saved = await store.save_mentions([
            Mention(platform="rss", external_id=str(n), source="news", fetched_at=NOW,
                    published_at=NOW - timedelta(minutes=n), brands=("Acme",),
                    text=f"{CLAIM} #{n}" if n < 3 else "Acme launch party was fun",
                    url=f"https://news.example/{n}", author=f"user{n}")
            for n in range(1, 4)
        ])
        await store.save_source_state(SourceState(
            name="news", kind="rss", last_success=NOW - timedelta(minutes=5),
            mentions_total=3, last_error="HTTP 500 from https://news.example/feed",
        ))
        book = IncidentBook(store, route, VirtualClock(NOW), DetectionConfig())
        await book.apply(Assessment(
            brand="Acme", kind="viral_claim", key="claim:acme:1", category="health_safety",
            risk=0.9, severity="critical",
            factors=[RiskFactor("spread", 0.93, "2 authors on 1 platform in 5 min")],
            summary=CLAIM, mention_ids=[m.id for m in saved[:2] if m.id is not None],
            author_count=2, platforms=["rss"], at=NOW,
        ))
    finally:
        await store.close()


@pytest.fixture
def database(postgres_server: PostgresServer) -> str:  # noqa: F811
    """A fresh PostgreSQL database holding `seed`'s rows; returns its URL."""
    url = fresh_database(postgres_server)
    asyncio.run(seed(PostgresTarget(url)))
    return url


@pytest.fixture
def config(database: str, tmp_path: Path) -> Path:
    """A config whose [storage] is that database, its password read from the environment."""
    # The throwaway cluster trusts local logins, so any password works; giving one proves the
    # commands resolve it from the environment instead of refusing the config.
    return write_config(tmp_path, f'url = "{database}"\npassword = {{ env = "{PASSWORD_ENV}" }}')


def invoke(*args: str, password: str | None = "not-checked") -> Result:
    """`brand-monitor ARGS` with the password variable set (or unset, for None)."""
    runner = CliRunner(env={"COLUMNS": "250", PASSWORD_ENV: password})
    return runner.invoke(app, list(args))


def error_line(result: Result) -> str:
    """The one line a failed command printed; fails the test on a traceback or more lines."""
    assert isinstance(result.exception, SystemExit), result.exception
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


def test_incidents_list_and_show_read_postgresql(config: Path) -> None:
    listed = invoke("incidents", "list", "--json", "-c", str(config))
    assert listed.exit_code == 0, listed.output
    (incident,) = json.loads(listed.stdout)
    assert (incident["brand"], incident["severity"], incident["status"]) == (
        "Acme", "critical", "open")
    shown = invoke("incidents", "show", str(incident["id"]), "--json", "-c", str(config))
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    assert data["incident"]["summary"] == CLAIM
    assert [e["kind"] for e in data["events"]] == ["opened"]
    assert sorted(m["url"] for m in data["top_mentions"]) == [
        "https://news.example/1", "https://news.example/2"]


def test_ack_is_written_to_postgresql(config: Path, database: str) -> None:
    (incident,) = json.loads(invoke("incidents", "list", "--json", "-c", str(config)).stdout)
    acked = invoke("incidents", "ack", str(incident["id"]), "--by", "dana", "--note",
                   "statement drafted", "-c", str(config))
    assert acked.exit_code == 0, acked.output
    assert f"incident {incident['id']} acknowledged by dana" in acked.output
    with psycopg.connect(database) as pg:
        row = pg.execute("SELECT status, acknowledged_by FROM incidents WHERE id = %s",
                         [incident["id"]]).fetchone()
        kinds = [r[0] for r in pg.execute(
            "SELECT kind FROM incident_events WHERE incident_id = %s ORDER BY id",
            [incident["id"]])]
    assert row == ("acknowledged", "dana")
    assert kinds == ["opened", "acknowledged"]


def test_mentions_search_reads_postgresql(config: Path) -> None:
    found = invoke("mentions", "search", "ill", "--brand", "acme", "--json", "-c", str(config))
    assert found.exit_code == 0, found.output
    rows = json.loads(found.stdout)
    assert sorted(r["external_id"] for r in rows) == ["1", "2"]
    assert all(r["brands"] == ["Acme"] for r in rows)


def test_alerts_list_reads_postgresql(config: Path) -> None:
    listed = invoke("alerts", "list", "--json", "-c", str(config))
    assert listed.exit_code == 0, listed.output
    (alert,) = json.loads(listed.stdout)
    assert (alert["channel"], alert["reason"], alert["severity"], alert["status"]) == (
        "console", "opened", "critical", "pending")


def test_sources_status_reads_postgresql(config: Path) -> None:
    listed = invoke("sources", "--json", "-c", str(config))
    assert listed.exit_code == 0, listed.output
    (source,) = json.loads(listed.stdout)
    assert (source["name"], source["health"], source["mentions"]) == ("news", "ok", 3)
    assert source["last_error"] == "HTTP 500 from https://news.example/feed"


def test_backtest_reads_postgresql_and_writes_only_its_own_file(
    config: Path, database: str
) -> None:
    result = invoke("backtest", "--since", "1d", "--json", "-c", str(config))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["records"], report["stored"]) == (3, 3)
    assert report["database"].endswith("replay.db")
    with psycopg.connect(database) as pg:  # the live database is only read
        assert pg.execute("SELECT count(*) FROM incidents").fetchone() == (1,)
        assert pg.execute("SELECT count(*) FROM mentions").fetchone() == (3,)


def test_db_flag_still_means_a_sqlite_file(config: Path, tmp_path: Path) -> None:
    missing = tmp_path / "elsewhere.db"
    result = invoke("incidents", "list", "-c", str(config), "--db", str(missing))
    assert result.exit_code == 1
    assert error_line(result) == f"error: no database at {missing}: run the daemon first, or " \
        "pass --db"


def test_an_unreachable_server_is_one_line(tmp_path: Path) -> None:
    # Port 1 on the loopback: nothing listens, so the connection is refused at once.
    config = write_config(tmp_path, 'url = "postgresql://bm@127.0.0.1:1/brand"')
    for args in (["incidents", "list"], ["mentions", "search", "ill"], ["alerts", "list"],
                 ["sources"]):
        result = invoke(*args, "-c", str(config))
        assert result.exit_code == 1, args
        assert error_line(result).startswith(
            "error: cannot use PostgreSQL database postgresql://bm@127.0.0.1:1/brand: "), args


def test_a_database_the_server_refuses_is_one_line(
    postgres_server: PostgresServer, tmp_path: Path  # noqa: F811
) -> None:
    url = f"postgresql://{postgres_server.user}@127.0.0.1:{postgres_server.port}/nowhere"
    config = write_config(tmp_path, f'url = "{url}"')
    result = invoke("incidents", "ack", "1", "-c", str(config))
    assert result.exit_code == 1
    line = error_line(result)
    assert line.startswith(f"error: cannot use PostgreSQL database {url}: ")
    assert 'database "nowhere" does not exist' in line


def test_an_unset_password_variable_is_named(tmp_path: Path) -> None:
    url = "postgresql://bm@db.example:5432/brand"
    config = write_config(tmp_path, f'url = "{url}"\npassword = {{ env = "{PASSWORD_ENV}" }}')
    for args in (["incidents", "list"], ["mentions", "search", "ill"], ["alerts", "list"],
                 ["sources"]):
        result = invoke(*args, "-c", str(config), password=None)
        assert result.exit_code == 1, args
        assert error_line(result) == (
            f"error: [storage] password for {url}: environment variable {PASSWORD_ENV} is not "
            "set; export it, or pass --db FILE to read a SQLite database instead"
        ), args


async def test_the_dashboard_serves_a_postgresql_database(database: str) -> None:
    ready: asyncio.Future[Served] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    serving = asyncio.create_task(
        serve_database(PostgresTarget(database), ["Acme"], ready.set_result, stop=stop)
    )
    try:
        served = await asyncio.wait_for(ready, 30)
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            listed = await log_in(http, served.url, served.user, served.password)
            assert listed.status == 200
            assert CLAIM in await listed.text()
    finally:
        stop.set()
        await asyncio.wait_for(serving, 30)
