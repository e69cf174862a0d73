"""A throwaway PostgreSQL server for tests: a fresh cluster (initdb) in a temporary directory,
listening on a free local port, stopped and deleted after the session.

Uses the distribution's `postgresql` package (Debian: /usr/lib/postgresql/<version>/bin). Tests
that need the server skip, saying why, only when it cannot be had: the package is missing, or
the tests run as root and there is no `postgres` user to run the server as (PostgreSQL refuses
to run as root). A server that is installed but fails to start fails the test with its log.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

USER = "brand_monitor"  # the cluster's superuser
START_TIMEOUT = 60  # seconds; initdb and the first start on a loaded 2-core host take a while


@dataclass(frozen=True, slots=True)
class PostgresServer:
    """A running throwaway cluster."""

    host: str
    port: int
    user: str
    data_dir: Path
    bin_dir: Path

    @property
    def url(self) -> str:
        """Connection URL of the default database (trust authentication: no password)."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/postgres"


def bin_dir() -> Path | None:
    """Where initdb and pg_ctl are: on PATH, else the newest /usr/lib/postgresql/*/bin."""
    on_path = shutil.which("initdb")
    if on_path is not None and shutil.which("pg_ctl") is not None:
        return Path(on_path).resolve().parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return versions[-1].parent if versions else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server_account() -> pwd.struct_passwd | None:
    """The account to run the server as: this one, or `postgres` when running as root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip(
            "PostgreSQL tests need a non-root account to run the server: the tests run as root "
            "and there is no `postgres` user (the distribution's postgresql package creates it)"
        )


def _run(command: list[str], account: pwd.struct_passwd | None, log: Path) -> None:
    """Run a server tool (as `account` when given); fail the test with its output if it fails."""
    if account is not None:
        command = ["runuser", "-u", account.pw_name, "--", *command]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=START_TIMEOUT, check=False,
        env={**os.environ, "LC_ALL": "C"},
    )
    if done.returncode != 0:
        server_log = log.read_text(errors="replace")[-4000:] if log.exists() else ""
        pytest.fail(
            f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}{done.stderr}"
            f"{server_log}",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """Start a fresh PostgreSQL cluster for the test session; skip when none can be had."""
    tools = bin_dir()
    if tools is None:
        pytest.skip(
            "PostgreSQL is not installed (no initdb on PATH or in /usr/lib/postgresql/*/bin): "
            "install the distribution's postgresql package to run these tests"
        )
    account = _server_account()
    root = Path(tempfile.mkdtemp(prefix="bm-postgres-"))
    data, sockets, log = root / "data", root / "sockets", root / "server.log"
    sockets.mkdir()
    if account is not None:
        for path in (root, sockets):
            os.chown(path, account.pw_uid, account.pw_gid)
    port = _free_port()
    server = PostgresServer("127.0.0.1", port, USER, data, tools)
    started = False
    try:
        # No fsync: the cluster is thrown away, and tests should not wait for the disk.
        _run([str(tools / "initdb"), "-D", str(data), "-U", USER, "--auth=trust",
              "-E", "UTF8", "--locale=C", "--no-sync"], account, log)
        options = (f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")
        _run([str(tools / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options,
              "-w", "-t", str(START_TIMEOUT), "start"], account, log)
        started = True
        yield server
    finally:
        if started:
            _run([str(tools / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                 account, log)
        shutil.rmtree(root, ignore_errors=True)
