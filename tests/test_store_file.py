"""The database file: one daemon per file whatever the path, and one-line errors for bad files."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.records import Mention
from monitor.store import Store, StoreError

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


async def make_store(path: Path, n: int = 3) -> None:
    """A closed brand-monitor database at `path` holding `n` mentions."""
    store = await Store(path).open()
    await store.save_mentions([
        Mention(platform="rss", external_id=f"id-{i}", source="feed", text="Acme made me sick",
                fetched_at=NOW, published_at=NOW, brands=("Acme",))
        for i in range(n)
    ])
    await store.close()


@pytest.fixture
def other_paths(tmp_path: Path) -> Iterator[tuple[Path, Path, Path]]:
    """The database path, a symlink to it, and a hard link to it (in another directory)."""
    db = tmp_path / "data" / "bm.db"
    db.parent.mkdir()
    db.touch()
    (tmp_path / "elsewhere").mkdir()
    symlink = tmp_path / "elsewhere" / "via-symlink.db"
    symlink.symlink_to(db)
    hardlink = tmp_path / "elsewhere" / "via-hardlink.db"
    os.link(db, hardlink)
    yield db, symlink, hardlink


# -- one daemon per database file -------------------------------------------------------------


async def test_second_daemon_through_a_symlink_or_hard_link_is_refused(
    other_paths: tuple[Path, Path, Path],
) -> None:
    db, symlink, hardlink = other_paths
    first = await Store(db, exclusive=True).open()
    for other in (symlink, hardlink):
        with pytest.raises(StoreError) as refused:
            await Store(other, exclusive=True).open()
        message = str(refused.value)
        assert f"another brand-monitor daemon (pid {os.getpid()}" in message
        assert str(other) in message and "stop it first" in message
    # The first daemon goes on working after the refusals.
    await first.save_mentions([Mention(platform="rss", external_id="x", source="s", text="t",
                                       fetched_at=NOW, brands=("Acme",))])
    await first.close()
    again = await Store(hardlink, exclusive=True).open()  # free again after close
    await again.close()


CHILD = textwrap.dedent("""
    import asyncio, sys
    from monitor.store import Store

    async def main():
        store = await Store(sys.argv[1], exclusive=True).open()
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        await store.close()

    asyncio.run(main())
""")


async def test_daemon_in_another_process_is_seen_through_any_link(
    other_paths: tuple[Path, Path, Path],
) -> None:
    db, symlink, hardlink = other_paths
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, str(db), cwd=ROOT,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        assert await asyncio.wait_for(child.stdout.readline(), timeout=60) == b"ready\n"
        for path in (db, symlink, hardlink):
            with pytest.raises(StoreError, match=rf"daemon \(pid {child.pid}\) is already using"):
                await Store(path, exclusive=True).open()
    finally:
        child.stdin.write(b"stop\n")
        await child.stdin.drain()
        assert await asyncio.wait_for(child.wait(), timeout=60) == 0
    after = await Store(symlink, exclusive=True).open()  # released when the other one closed
    await after.close()


# -- damaged, locked and read-only databases ---------------------------------------------------


async def test_file_that_is_not_a_database_says_how_to_recover(tmp_path: Path) -> None:
    db = tmp_path / "bm.db"
    db.write_bytes(b"this is a text file, not a database\n" * 200)
    with pytest.raises(StoreError) as error:
        await Store(db, exclusive=True).open()
    message = str(error.value)
    assert f"database {db} is damaged or not a SQLite database" in message
    assert f"sqlite3 {db} .recover" in message and "brand-monitor keeps no backups" in message
    assert "\n" not in message


async def test_damaged_schema_page_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    db = tmp_path / "bm.db"
    await make_store(db)
    with db.open("r+b") as f:  # page 1 past the 100-byte header holds the schema
        f.seek(100)
        f.write(b"\xff" * 3000)
    with pytest.raises(StoreError) as error:
        await Store(db).open()
    message = str(error.value)
    assert "database disk image is malformed" in message and ".recover" in message
    assert ", found while " in message


@pytest.mark.parametrize("journal", ["wal", "delete"])
async def test_database_locked_by_another_process_waits_then_says_so(
    tmp_path: Path, journal: str
) -> None:
    db = tmp_path / "bm.db"
    await make_store(db)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute(f"PRAGMA journal_mode = {journal}")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        store = Store(db, exclusive=True, busy_timeout=0.3)
        started = asyncio.get_running_loop().time()
        with pytest.raises(StoreError) as error:
            await store.open()
        waited = asyncio.get_running_loop().time() - started
    finally:
        holder.rollback()
        holder.close()
    assert f"database {db} is locked by another process: waited 0.3 s" in str(error.value)
    assert waited >= 0.25  # it waited rather than failing at once
    reopened = await Store(db, exclusive=True).open()  # free once the other process lets go
    assert await reopened.count_mentions() == 3
    await reopened.close()


async def test_database_lock_released_within_the_wait_is_no_error(tmp_path: Path) -> None:
    db = tmp_path / "bm.db"
    await make_store(db)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    asyncio.get_running_loop().call_later(0.2, holder.rollback)
    store = await Store(db, exclusive=True, busy_timeout=30).open()
    holder.close()
    assert await store.count_mentions() == 3
    await store.close()


async def test_write_blocked_by_another_process_is_a_store_error(tmp_path: Path) -> None:
    db = tmp_path / "bm.db"
    store = await Store(db, busy_timeout=0.2).open()
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match="is locked by another process: .* starting a write"):
            await store.save_mentions([Mention(platform="rss", external_id="x", source="s",
                                               text="t", fetched_at=NOW, brands=("Acme",))])
    finally:
        holder.rollback()
        holder.close()
        await store.close()


def deny_writes(path: Path) -> None:
    """chmod a-w on `path`; skip the test where that does not stop this user (root)."""
    path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    if os.access(path, os.W_OK):
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
        pytest.skip("this user may write despite chmod (root with CAP_DAC_OVERRIDE)")


def allow_writes(path: Path) -> None:
    """Undo `deny_writes`, so pytest can clean up."""
    path.chmod(0o755)


@pytest.mark.parametrize("exists", [True, False])
async def test_read_only_directory_names_the_directory(tmp_path: Path, exists: bool) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    db = folder / "bm.db"
    if exists:
        await make_store(db)
    deny_writes(folder)
    try:
        with pytest.raises(StoreError) as error:
            await Store(db, exclusive=True).open()
    finally:
        allow_writes(folder)
    assert f"its directory {folder} is not writable by" in str(error.value)
    assert "set [storage] path" in str(error.value)


async def test_read_only_database_file_says_so(tmp_path: Path) -> None:
    db = tmp_path / "bm.db"
    await make_store(db)
    deny_writes(db)
    with pytest.raises(StoreError, match=f"database {db} is read-only for "):
        await Store(db, exclusive=True).open()


async def test_directory_that_cannot_be_made_is_a_clear_error(tmp_path: Path) -> None:
    deny_writes(tmp_path)
    try:
        with pytest.raises(StoreError, match=f"cannot create directory {tmp_path / 'new'}"):
            await Store(tmp_path / "new" / "bm.db").open()
    finally:
        allow_writes(tmp_path)


# -- what a user running the daemon sees --------------------------------------------------------


def run_daemon(tmp_path: Path, db: Path) -> tuple[int, str]:
    """`brand-monitor run` as a user starts it; returns the exit code and stderr."""
    import subprocess

    config = tmp_path / "config.toml"
    config.write_text(textwrap.dedent(f"""
        [[brands]]
        name = "Acme"
        [[sources]]
        kind = "rss"
        name = "news"
        url = "https://news.example/feed"
        [storage]
        path = "{db}"
        [server]
        enabled = false
    """))
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "run", "--config", str(config)], cwd=ROOT,
        capture_output=True, text=True, timeout=60,
        # 80 columns, as under systemd or a pipe: the message must still be one line.
        env={**os.environ, "COLUMNS": "80"},
    )
    return done.returncode, done.stderr


def error_line(stderr: str) -> str:
    """The one `error:` line of the output; fails on a traceback or several error lines."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, stderr
    return lines[0]


def test_run_on_a_damaged_database_prints_one_line(tmp_path: Path) -> None:
    db = tmp_path / "bm.db"
    asyncio.run(make_store(db))
    with db.open("r+b") as f:
        f.seek(100)
        f.write(b"\xff" * 3000)
    code, stderr = run_daemon(tmp_path, db)
    assert code == 1
    assert f"database {db} is damaged" in error_line(stderr)


def test_run_beside_a_running_daemon_prints_one_line(
    tmp_path: Path, other_paths: tuple[Path, Path, Path]
) -> None:
    db, symlink, _ = other_paths

    async def held() -> tuple[int, str]:
        first = await Store(db, exclusive=True).open()
        try:
            return await asyncio.to_thread(run_daemon, tmp_path, symlink)
        finally:
            await first.close()

    code, stderr = asyncio.run(held())
    assert code == 1
    assert f"(pid {os.getpid()}) is already using {symlink}" in error_line(stderr)


def test_run_in_a_read_only_directory_prints_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    deny_writes(folder)
    try:
        code, stderr = run_daemon(tmp_path, folder / "bm.db")
    finally:
        allow_writes(folder)
    assert code == 1
    assert f"its directory {folder} is not writable" in error_line(stderr)
