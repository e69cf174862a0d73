"""The throwaway PostgreSQL server that PostgreSQL-backed tests run against."""

from __future__ import annotations

import shutil
import subprocess

from tests.pg_server import PostgresServer, postgres_server  # noqa: F401 - the fixture


def _psql(server: PostgresServer, sql: str) -> str:
    psql = shutil.which("psql") or str(server.bin_dir / "psql")
    done = subprocess.run(
        [psql, server.url, "-v", "ON_ERROR_STOP=1", "-Atc", sql],
        capture_output=True, text=True, timeout=30, check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_server_takes_writes_and_reads_them_back(postgres_server: PostgresServer) -> None:  # noqa: F811
    _psql(postgres_server, "CREATE TABLE probe (id serial PRIMARY KEY, text text NOT NULL)")
    _psql(postgres_server, "INSERT INTO probe (text) VALUES ('Acme cola made me sick')")
    assert _psql(postgres_server, "SELECT id, text FROM probe") == "1|Acme cola made me sick"


def test_the_cluster_is_private_to_the_tests(postgres_server: PostgresServer) -> None:  # noqa: F811
    # A fresh cluster in a temporary directory on a local port, owned by the test user.
    assert postgres_server.host == "127.0.0.1"
    assert (postgres_server.data_dir / "PG_VERSION").exists()
    assert _psql(postgres_server, "SHOW data_directory") == str(postgres_server.data_dir)
    assert _psql(postgres_server, "SELECT current_user") == postgres_server.user
