"""What only the PostgreSQL store does: its migrations, its search syntax, its errors and its
configuration. Sharing one database between daemons: test_pg_cluster.py. Behaviour shared with
SQLite is tested on both backends in the store-level modules (tests/store_backends.py)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner, Result

from monitor.cli import app
from monitor.config import ConfigError, parse_config
from monitor.records import Mention, Score
from monitor.store import PostgresTarget, Store, StoreError, Tx
from monitor.store.schema_pg import MIGRATIONS, TABLES
from tests.alerting.dispatch_support import insert_incident
from tests.pg_server import PostgresServer
from tests.store_backends import fresh_database, postgres_server  # noqa: F401

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def mention(i: int, text: str) -> Mention:
    return Mention(
        platform="rss", external_id=f"id-{i}", text=text, fetched_at=NOW, published_at=NOW,
        brands=("Acme",), source="feed",
    )


@pytest.fixture
def target(postgres_server: PostgresServer) -> PostgresTarget:  # noqa: F811
    return PostgresTarget(fresh_database(postgres_server))


async def test_migrations_are_recorded_once(target: PostgresTarget) -> None:
    for _ in range(2):  # reopening applies nothing twice
        store = await Store(target).open()
        await store.close()
    with psycopg.connect(target.url) as conn:
        rows = conn.execute("SELECT version, name FROM schema_migrations ORDER BY version")
        assert rows.fetchall() == [(version, name) for version, name, _ in MIGRATIONS]


async def test_search_reads_web_search_syntax(target: PostgresTarget) -> None:
    store = await Store(target).open()
    await store.save_mentions([
        mention(1, "Acme cola gave my kids food poisoning"),
        mention(2, "Loving the new Acme rocket skates"),
        mention(3, "Acme skates: the wheels came off"),
    ])
    found = await store.search_mentions("skates -rocket")
    assert [h["external_id"] for h in found] == ["id-3"]
    found = await store.search_mentions("poisoning or wheels")
    assert sorted(h["external_id"] for h in found) == ["id-1", "id-3"]
    assert await store.search_mentions('"unterminated') == []  # never a syntax error
    await store.close()


async def test_unreachable_server_is_one_plain_line(postgres_server: PostgresServer) -> None:  # noqa: F811
    closed = f"postgresql://{postgres_server.user}@127.0.0.1:1/postgres"
    with pytest.raises(StoreError, match=r"^cannot use PostgreSQL database postgresql://") as err:
        await Store(PostgresTarget(closed)).open()
    assert "\n" not in str(err.value)


async def test_missing_database_names_itself(postgres_server: PostgresServer) -> None:  # noqa: F811
    url = f"postgresql://{postgres_server.user}@127.0.0.1:{postgres_server.port}/nowhere"
    with pytest.raises(StoreError, match='database "nowhere" does not exist'):
        await Store(PostgresTarget(url)).open()


def test_a_password_in_the_url_is_refused() -> None:
    with pytest.raises(ValueError, match="must not hold a password"):
        PostgresTarget("postgresql://bm:secret@db.example/brand")
    target = PostgresTarget("postgresql://bm@db.example/brand", password="secret")
    assert "secret" not in repr(target) and "secret" not in str(target)


# -- [storage] url in the config ------------------------------------------------------------

BRANDS = [{"name": "Acme"}]


def storage_problems(storage: Mapping[str, object]) -> list[str]:
    with pytest.raises(ConfigError) as err:
        parse_config({"brands": BRANDS, "storage": storage})
    return err.value.problems


def test_url_and_path_are_exclusive() -> None:
    problems = storage_problems({"path": "bm.db", "url": "postgresql://bm@db.example/brand"})
    assert problems == [
        "storage: path (a SQLite file) and url (a PostgreSQL database) are exclusive: keep one"
    ]


def test_url_must_be_postgresql_without_a_password() -> None:
    assert "url must be a PostgreSQL URL" in storage_problems({"url": "mysql://db/brand"})[0]
    assert "must not hold a password" in storage_problems(
        {"url": "postgresql://bm:hunter2@db.example/brand"}
    )[0]
    assert "password is for a PostgreSQL url" in storage_problems(
        {"password": {"env": "BM_TEST_DB_PASSWORD"}}
    )[0]


def test_password_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    storage = {
        "url": "postgresql://bm@db.example:5433/brand",
        "password": {"env": "BM_TEST_DB_PASSWORD"},
    }
    monkeypatch.delenv("BM_TEST_DB_PASSWORD", raising=False)
    assert storage_problems(storage) == [
        "storage.password: environment variable BM_TEST_DB_PASSWORD is not set"
    ]
    monkeypatch.setenv("BM_TEST_DB_PASSWORD", "hunter2")
    config = parse_config({"brands": BRANDS, "storage": storage})
    assert config.storage.location() == PostgresTarget(
        "postgresql://bm@db.example:5433/brand", "hunter2"
    )
    assert config.storage.describe() == "postgresql://bm@db.example:5433/brand"


def test_sqlite_stays_the_default() -> None:
    config = parse_config({"brands": BRANDS})
    assert config.storage.location() == Path("brand-monitor.db")


# -- brand-monitor store copy ---------------------------------------------------------------


async def filled_sqlite(path: Path) -> None:
    """A SQLite store with mentions, scores, an incident with its event, mentions and alert."""
    store = await Store(path).open()
    saved = await store.save_mentions(
        [mention(i, f"Acme cola made me sick {i}") for i in range(3)]
    )
    score = Score("negative", 0.9, 0.05, 0.05, 0.8, "health_safety", 0.9, "test-model")
    await store.save_scores([(m, score) for m in saved], NOW)

    def incident(tx: Tx) -> None:
        incident_id = insert_incident(tx, NOW)
        tx.incidents.add_event(incident_id, NOW, "opened", "detector", {"risk": 0.8})
        tx.outbox.insert(
            incident_id=incident_id, key=f"incident-{incident_id}-opened", reason="opened",
            severity="high", channels=["slack-ops"], now=NOW, not_before=NOW,
        )

    await store.transaction(incident)
    await store.close()


async def test_store_copy_moves_every_row_and_numbering_goes_on(
    tmp_path: Path, target: PostgresTarget
) -> None:
    path = tmp_path / "bm.db"
    await filled_sqlite(path)
    done = await copy_command(path, target)
    assert done.exit_code == 0, done.output
    assert "mentions: 6 of 6 rows" in done.output  # 3 saved and 3 of the incident's
    sqlite_counts = {t: select_sqlite(path, t) for t in TABLES}
    pg = await Store(target).open()
    try:
        pg_counts = {t: await pg.read(lambda tx, t: count(tx, t), t) for t in TABLES}
        assert pg_counts == sqlite_counts and pg_counts["incident_events"] == 1
        unscored = pg_counts["mentions"] - pg_counts["scores"]
        assert unscored > 0 and await pg.read(lambda tx: tx.cluster.scoring_backlog()) == unscored
        found = await pg.search_mentions("sick 2")  # the index covers copied rows
        assert sorted(h["external_id"] for h in found) == ["id-2", "t3_1_2"]
        assert len(await pg.save_mentions([mention(9, "Acme again")])) == 1  # ids continue
        assert await pg.count_mentions() == 7
    finally:
        await pg.close()


async def test_store_copy_refuses_a_database_that_is_not_empty(
    tmp_path: Path, target: PostgresTarget
) -> None:
    path = tmp_path / "bm.db"
    await filled_sqlite(path)
    pg = await Store(target).open()
    await pg.save_mentions([mention(1, "already here")])
    await pg.close()
    done = await copy_command(path, target)
    assert done.exit_code == 1
    assert "is not empty (mentions has 1 rows): copy only into a new, empty database" in (
        done.output
    )
    pg = await Store(target).open()
    assert await pg.count_mentions() == 1  # nothing copied
    await pg.close()


async def test_store_copy_refuses_a_database_a_daemon_runs_on(
    tmp_path: Path, target: PostgresTarget
) -> None:
    path = tmp_path / "bm.db"
    await filled_sqlite(path)
    pg = await Store(target).open()
    await pg.transaction(lambda tx: tx.cluster.heartbeat("host:42:abc", "host", 42, 30.0))
    await pg.close()
    done = await copy_command(path, target)
    assert done.exit_code == 1
    assert "in use by 1 running brand-monitor daemon(s): stop them first" in done.output


def test_store_copy_from_a_postgresql_config_asks_for_the_sqlite_file(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[[brands]]\nname = "Acme"\n[storage]\nurl = "postgresql://bm@db.example/brand"\n',
        encoding="utf-8",
    )
    args = ["store", "copy", "--config", str(config), "--to", "postgresql://bm@db.example/new"]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 1
    assert "is already PostgreSQL (postgresql://bm@db.example/brand): give the SQLite" in (
        done.output
    )


async def copy_command(path: Path, target: PostgresTarget) -> Result:
    """`brand-monitor store copy`, on a thread of its own: the command runs its own loop."""
    args = ["store", "copy", "--db", str(path), "--to", target.url]
    return await asyncio.to_thread(CliRunner().invoke, app, args)


def count(tx: Tx, table: str) -> int:
    return int(tx.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def select_sqlite(path: Path, table: str) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
