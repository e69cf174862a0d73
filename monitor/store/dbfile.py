"""The database file: the one-daemon lock on its identity, and plain-words errors for opening it."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from pathlib import Path


class StoreError(Exception):
    """The database cannot be used (locked by another daemon, unreadable, bad query)."""


# Files this process holds the daemon lock on, by (st_dev, st_ino). A second Store in the same
# process is refused from here, without opening the file: closing any descriptor of a file drops
# the POSIX locks SQLite holds on it in this process (https://sqlite.org/howtocorrupt.html 2.2).
_HELD: dict[tuple[int, int], Path] = {}
_HELD_GUARD = threading.Lock()


class DatabaseLock:
    """An exclusive flock on the database file itself, so that every path to it sees the lock.

    Symlinks and hard links reach the same inode, and flock locks the open file, not a name;
    SQLite's own fcntl() byte-range locks on the file are independent of it on Linux.
    """

    def __init__(self, path: Path, fd: int, identity: tuple[int, int]) -> None:
        self.path = path
        self._fd: int | None = fd
        self._identity = identity

    @classmethod
    def acquire(cls, path: Path) -> DatabaseLock:
        """Lock the database file (created empty if missing); StoreError names any holder."""
        with _HELD_GUARD:
            if path.exists():
                st = os.stat(path)
                _refuse_if_held_here(path, (st.st_dev, st.st_ino))
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)
            except OSError as exc:
                raise StoreError(open_failure(path, exc, "taking the daemon lock")) from None
            st = os.fstat(fd)
            identity = (st.st_dev, st.st_ino)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                # No daemon Store of this process has the file open (checked above), and a
                # daemon shares its process with no other connection to its database, so
                # closing this descriptor drops no SQLite lock.
                os.close(fd)
                if isinstance(exc, BlockingIOError):
                    owner = flock_owner(identity)
                    holder = f"pid {owner}" if owner else "pid unknown"
                    raise StoreError(locked_message(path, holder)) from None
                raise StoreError(
                    f"cannot lock database {path}: {exc.strerror or exc}. Its filesystem may not "
                    "support locks (a network share): put the database on a local disk"
                ) from None
            _HELD[identity] = path
        return cls(path, fd, identity)

    def release(self) -> None:
        """Give the lock up; call after the database connection is closed. Safe to call twice."""
        if self._fd is None:
            return
        with _HELD_GUARD:
            _HELD.pop(self._identity, None)
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None


def _refuse_if_held_here(path: Path, identity: tuple[int, int]) -> None:
    holder = _HELD.get(identity)
    if holder is not None:
        raise StoreError(locked_message(path, f"pid {os.getpid()}, this process, as {holder}"))


def locked_message(path: Path, holder: str) -> str:
    """The error for a database another daemon holds."""
    real = path.resolve()
    name = str(path) if real == path.absolute() else f"{path} (which is {real})"
    return (
        f"another brand-monitor daemon ({holder}) is already using {name}; "
        "stop it first, or give this one its own [storage] path"
    )


def flock_owner(identity: tuple[int, int]) -> int | None:
    """Pid holding a flock on the file with this (st_dev, st_ino), from /proc/locks (Linux)."""
    dev, ino = identity
    wanted = f"{os.major(dev):02x}:{os.minor(dev):02x}:{ino}"
    try:
        lines = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        # "1: FLOCK  ADVISORY  WRITE 25842 fe:00:2476816 0 EOF"; blocked waiters are "->" lines
        fields = line.split()
        if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5] == wanted:
            return int(fields[4]) if fields[4].isdigit() else None
    return None


def not_writable(path: Path, *, check_file: bool = True) -> str | None:
    """The error for a database file (if `check_file`) or directory this user cannot write to."""
    real = path.resolve()
    directory = real.parent  # SQLite puts -wal and -shm beside the real file
    if not os.access(directory, os.W_OK | os.X_OK):
        return (
            f"cannot use database {path}: its directory {directory} is not writable by "
            f"{_user()} (SQLite keeps its -wal and -shm files beside the database). Make the "
            "directory writable by this user, or set [storage] path to a file in a writable "
            "directory"
        )
    if check_file and real.exists() and not os.access(real, os.W_OK):
        return (
            f"database {path} is read-only for {_user()}: make the file writable by this user "
            "(and its -wal and -shm files, if present), or set [storage] path to another file"
        )
    return None


def open_failure(path: Path, exc: OSError, doing: str) -> str:
    """The error for an OS failure on the database file or its directory."""
    return not_writable(path) or (
        f"cannot open database {path} while {doing}: {exc.strerror or exc}. Check that the "
        f"path is right and that {_user()} may read and write it"
    )


def explain(path: Path, exc: sqlite3.Error, doing: str, busy_timeout: float) -> str:
    """What a SQLite error means for the user, what was being done, and what to do."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return (
            f"database {path} is locked by another process: waited {busy_timeout:g} s while "
            f"{doing} and it is still locked. Find what holds it (fuser -v {path}), let it "
            "finish or stop it, then try again"
        )
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
        return (
            f"database {path} is damaged or not a SQLite database ({exc}), found while {doing}. "
            "Stop every process using it and keep the file. brand-monitor keeps no backups: "
            f"restore yours if you have one, or recover what can be read with sqlite3 {path} "
            f".recover | sqlite3 {path}.recovered and move {path}.recovered to {path}"
        )
    if name.startswith("SQLITE_READONLY"):
        return not_writable(path) or (
            f"database {path} is read-only for {_user()} ({exc}) while {doing}. Make the file "
            "and its -wal and -shm files writable by this user"
        )
    if name.startswith("SQLITE_FULL"):
        return f"the disk holding database {path} is full while {doing}: free some space"
    if name.startswith(("SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH", "SQLITE_IOERR")):
        return not_writable(path) or (
            f"cannot open database {path} while {doing}: {exc}. Check that the path is right "
            f"and that {_user()} may read and write it and its directory"
        )
    return f"database {path} failed while {doing}: {exc}"


def _user() -> str:
    try:
        import pwd

        return f"user {pwd.getpwuid(os.geteuid()).pw_name}"
    except (ImportError, KeyError):
        return f"uid {os.geteuid()}"
