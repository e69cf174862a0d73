"""SQLite storage via sqlite-utils: one thread owns the connection; async methods queue to it."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlite_utils import Database

from monitor.clock import iso
from monitor.dbfile import DatabaseLock, StoreError, explain, not_writable
from monitor.records import Engagement, EngagementUpdate, Mention, Score
from monitor.schema import MIGRATIONS
from monitor.store_rows import (
    SourceState,
    readable,
    row_to_bucket,
    row_to_detector_state,
    row_to_mention,
    row_to_scored,
    row_to_state,
)

__all__ = ["BUCKET_SECONDS", "PRUNE_BATCH", "SourceState", "Store", "StoreError"]

log = logging.getLogger(__name__)
T = TypeVar("T")
BUCKET_SECONDS = 300
# Mentions deleted per write job when pruning: small enough that ingestion, incidents and alert
# delivery queued behind a prune wait milliseconds, not the whole prune.
PRUNE_BATCH = 500
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def bucket_start(when: datetime, seconds: int = BUCKET_SECONDS) -> datetime:
    """Start of the fixed-size bucket containing `when`."""
    epoch = int(when.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=when.tzinfo)


class Store:
    """The only door to SQLite. Every call runs on one dedicated thread, in submission order."""

    def __init__(
        self,
        path: str | Path,
        *,
        exclusive: bool = False,
        on_write: Callable[[float], None] | None = None,
        busy_timeout: float = 10.0,
    ) -> None:
        self.path = Path(path)
        self.exclusive = exclusive
        self.busy_timeout = busy_timeout  # seconds to wait for another process's write lock
        self._on_write = on_write
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        self._db: Database | None = None
        self._lock: DatabaseLock | None = None
        self._pending = 0
        self._closed = False

    @property
    def pending(self) -> int:
        """Operations queued or running on the store thread."""
        return self._pending

    async def open(self) -> Store:
        """Take the daemon lock (if exclusive), open the database and apply migrations.

        Raises StoreError with one plain line when the database is locked, damaged, read-only
        or in a directory this user cannot write to.
        """
        await self._call(self._open_sync)
        return self

    def _open_sync(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create directory {self.path.parent} for database {self.path}: "
                f"{exc.strerror or exc}. Create it, or set [storage] path to a writable place"
            ) from None
        # A daemon must write; a command that only reads may use a read-only file.
        problem = not_writable(self.path, check_file=self.exclusive)
        if problem:
            raise StoreError(problem)
        if self.exclusive:
            self._lock = DatabaseLock.acquire(self.path)
        doing = ["opening it"]  # the step under way, for the error message
        try:
            self._connect(doing)
        except BaseException as exc:
            if self._db is not None:
                self._db.conn.close()
                self._db = None
            if self._lock is not None:
                self._lock.release()
                self._lock = None
            if isinstance(exc, sqlite3.Error):
                raise StoreError(explain(self.path, exc, doing[-1], self.busy_timeout)) from None
            raise

    def _connect(self, doing: list[str]) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=True)
        self._db = Database(conn)
        conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
        conn.execute("PRAGMA journal_mode = WAL")  # the first read: damage shows here
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        self._migrate(doing)
        if self.exclusive:
            # A daemon writes from its first poll: find out now, not in the first job, when
            # another process holds the write lock.
            doing.append("checking at start that it can be written")
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("COMMIT")

    def _migrate(self, doing: list[str]) -> None:
        db = self._require_db()
        doing.append("reading its schema version")
        db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        applied = {row[0] for row in db.execute("SELECT version FROM schema_migrations")}
        for version, name, script in MIGRATIONS:
            if version in applied:
                continue
            doing.append(f"applying schema migration {version} ({name})")
            statements = list(sqlite_statements(script))
            db.execute("BEGIN IMMEDIATE")
            try:
                for statement in statements:
                    db.execute(statement)
                db.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                    [version, name, iso(datetime.now().astimezone())],
                )
                db.execute("COMMIT")
            except Exception:
                db.execute("ROLLBACK")
                raise
            log.info("applied schema migration %d (%s)", version, name)

    def schema_version(self) -> int:
        """Highest applied migration (sync; for tests and `check-config`)."""
        row = self._require_db().execute("SELECT max(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    def _require_db(self) -> Database:
        if self._db is None:
            raise StoreError("store is not open")
        return self._db

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        if self._closed:
            raise StoreError("store is closed")
        self._pending += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        finally:
            self._pending -= 1

    async def transaction(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(db, *args)` in one BEGIN IMMEDIATE transaction on the store thread.

        For sibling modules (incidents, outbox) that keep their SQL beside their logic; `db` is
        the sqlite-utils Database and must not escape `fn`.
        """

        def run() -> T:
            db = self._require_db()
            started = time.perf_counter()
            try:
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(
                    explain(self.path, exc, "starting a write", self.busy_timeout)
                ) from None
            try:
                result = fn(db, *args)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            if self._on_write is not None:
                self._on_write(time.perf_counter() - started)
            return result

        return await self._call(run)

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(db, *args)` on the store thread without a write transaction."""
        return await self._call(lambda: fn(self._require_db(), *args))

    async def close(self) -> None:
        """Finish queued work, checkpoint the WAL and close; safe to call twice."""
        if self._closed:
            return

        def shutdown() -> None:
            if self._db is not None:
                try:
                    self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                finally:
                    self._db.conn.close()
                    self._db = None
            if self._lock is not None:  # after the connection: see monitor.dbfile
                self._lock.release()
                self._lock = None

        await self._call(shutdown)
        self._closed = True
        self._executor.shutdown(wait=False)  # its last task is done: nothing to wait for

    async def ping(self) -> bool:
        """True when the store thread answers a trivial query."""
        return await self.read(lambda db: db.execute("SELECT 1").fetchone()[0] == 1)

    # -- mentions ---------------------------------------------------------------------------

    async def save_mentions(self, mentions: Sequence[Mention]) -> list[Mention]:
        """Insert mentions not seen before (by platform+id or canonical URL); return new ones."""
        return await self.transaction(_insert_mentions, list(mentions))

    async def add_engagement(self, updates: Sequence[EngagementUpdate]) -> int:
        """Store engagement snapshots for known mentions; returns how many were stored."""
        return await self.transaction(_insert_engagement, list(updates))

    async def refresh_candidates(self, source: str, since: datetime, limit: int) -> list[str]:
        """External ids of a source's mentions to re-read: open-incident evidence, then newest."""

        def run(db: Database) -> list[str]:
            rows = db.execute(
                "SELECT m.external_id FROM mentions m LEFT JOIN ("
                "  SELECT DISTINCT im.mention_id FROM incident_mentions im"
                "  JOIN incidents i ON i.id = im.incident_id WHERE i.status != 'resolved'"
                ") hot ON hot.mention_id = m.id "
                "WHERE m.source = ? AND (hot.mention_id IS NOT NULL OR m.seen_at >= ?) "
                "ORDER BY hot.mention_id IS NULL, m.seen_at DESC LIMIT ?",
                [source, iso(since), limit],
            ).fetchall()
            return [r[0] for r in rows]

        return await self.read(run)

    async def save_scores(self, scored: Sequence[tuple[Mention, Score]], at: datetime) -> None:
        """Store model scores and count negative mentions into the volume buckets."""
        await self.transaction(_insert_scores, list(scored), at)

    async def unscored_mentions(self, limit: int = 256) -> list[Mention]:
        """Stored mentions that have no score yet (e.g. the model was unavailable), oldest first."""
        rows = await self.read(
            lambda db: list(
                db.query(
                    "SELECT m.* FROM mentions m LEFT JOIN scores s ON s.mention_id = m.id "
                    "WHERE s.mention_id IS NULL ORDER BY m.id LIMIT ?",
                    [limit],
                )
            )
        )
        return readable(rows, row_to_mention, "mentions")

    async def scored_mentions(self, since: datetime) -> list[tuple[Mention, Score]]:
        """Mentions first seen since a time with their scores, oldest first (detection restore)."""
        rows = await self.read(
            lambda db: list(
                db.query(
                    "SELECT m.*, s.sentiment AS s_sentiment, s.p_negative AS s_p_negative, "
                    "s.p_neutral AS s_p_neutral, s.p_positive AS s_p_positive, "
                    "s.complaint AS s_complaint, s.harm_category AS s_harm_category, "
                    "s.harm_confidence AS s_harm_confidence, s.model AS s_model "
                    "FROM mentions m JOIN scores s ON s.mention_id = m.id "
                    "WHERE m.seen_at >= ? ORDER BY m.seen_at, m.id",
                    [iso(since)],
                )
            )
        )
        return readable(rows, row_to_scored, "mentions")

    async def search_mentions(
        self,
        query: str | None = None,
        *,
        brand: str | None = None,
        since: datetime | None = None,
        limit: int = 20,
    ) -> list[dict[str, Any]]:
        """Mentions matching an FTS5 query, newest first; StoreError on a malformed query."""

        def run(db: Database) -> list[dict[str, Any]]:
            where: list[str] = []
            args: list[Any] = []
            frm = "mentions m"
            if query and _CJK.search(query):
                # unicode61 does not segment Chinese/Japanese/Korean: fall back to substring search.
                where.append("(m.text LIKE ? OR m.title LIKE ?)")
                args += [f"%{query}%", f"%{query}%"]
            elif query:
                frm = "mentions_fts f JOIN mentions m ON m.id = f.rowid"
                where.append("mentions_fts MATCH ?")
                args.append(query)
            if brand:
                where.append("m.id IN (SELECT mention_id FROM mention_brands WHERE brand = ?)")
                args.append(brand)
            if since:
                where.append("m.seen_at >= ?")
                args.append(iso(since))
            sql = (
                "SELECT m.*, s.sentiment, s.complaint, s.harm_category FROM " + frm
                + " LEFT JOIN scores s ON s.mention_id = m.id"
                + (" WHERE " + " AND ".join(where) if where else "")
                + " ORDER BY m.seen_at DESC LIMIT ?"
            )
            try:
                return list(db.query(sql, [*args, limit]))
            except sqlite3.OperationalError as exc:
                raise StoreError(
                    f"cannot search for {query!r}: {exc}. Quote words with special characters, "
                    'e.g. "acme-cola" or "made me sick"'
                ) from None

        return await self.read(run)

    async def count_mentions(self) -> int:
        """Number of stored mentions."""
        return await self.read(lambda db: db.execute("SELECT count(*) FROM mentions").fetchone()[0])

    async def volume(self, brand: str, since: datetime) -> list[tuple[datetime, int, int]]:
        """(bucket start, total, negative) for a brand since a time, oldest first."""
        rows = await self.read(
            lambda db: list(db.query(
                "SELECT bucket_start, total, negative FROM volume_buckets "
                "WHERE brand = ? AND bucket_start >= ? ORDER BY bucket_start",
                [brand, iso(since)],
            ))
        )
        return readable(rows, row_to_bucket, "volume_buckets", key="bucket_start")

    async def prune(self, older_than: datetime, *, batch: int = PRUNE_BATCH) -> int:
        """Delete mentions (and their scores, engagement) first seen before `older_than`.

        Works in write jobs of at most `batch` mentions so that other store work (ingestion,
        incidents, alert delivery) runs between them; returns how many mentions were deleted.
        """
        cutoff = iso(older_than)
        batch = max(1, batch)
        removed = 0
        after: tuple[str, int] | None = None
        while True:
            deleted, after = await self.transaction(_prune_mentions, cutoff, after, batch)
            removed += deleted
            if after is None:
                break
        while await self.transaction(_prune_buckets, cutoff, batch) == batch:
            pass
        return removed

    # -- source state -----------------------------------------------------------------------

    async def source_state(self, name: str) -> SourceState | None:
        """Persisted state of one source, or None before its first poll."""

        rows = await self.read(
            lambda db: list(db.query("SELECT * FROM source_state WHERE name = ?", [name]))
        )
        # An unreadable row reads as no state: the source starts afresh and overwrites it.
        states = readable(rows, row_to_state, "source_state", key="name")
        return states[0] if states else None

    async def source_states(self) -> list[SourceState]:
        """All persisted source states, by name."""
        rows = await self.read(
            lambda db: list(db.query("SELECT * FROM source_state ORDER BY name"))
        )
        return readable(rows, row_to_state, "source_state", key="name")

    async def save_source_state(self, state: SourceState) -> None:
        """Insert or replace one source's state."""

        def run(db: Database) -> None:
            row = asdict(state)
            for key in ("cursor", "budget"):
                row[key] = json.dumps(row[key]) if row[key] is not None else None
            for key in ("last_attempt", "last_success", "disabled_until"):
                row[key] = iso(row[key])
            row["parked"] = int(row["parked"])
            # Raw SQL: sqlite-utils' upsert commits on its own, which would end our transaction.
            columns = ", ".join(row)
            marks = ", ".join("?" for _ in row)
            db.execute(
                f"INSERT OR REPLACE INTO source_state ({columns}) VALUES ({marks})",
                list(row.values()),
            )

        await self.transaction(run)

    # -- detector state ---------------------------------------------------------------------

    async def load_detector_state(self, key: str) -> dict[str, Any] | None:
        """Saved state of a streaming detector, or None."""

        rows = await self.read(
            lambda db: list(db.query("SELECT key, state FROM detector_state WHERE key = ?", [key]))
        )
        # An unreadable state reads as none saved: the detector learns afresh.
        states = readable(rows, row_to_detector_state, "detector_state", key="key")
        return states[0] if states else None

    async def save_detector_states(self, states: dict[str, dict[str, Any]], at: datetime) -> None:
        """Persist several detectors' states in one transaction."""

        def run(db: Database) -> None:
            db.conn.executemany(
                "INSERT OR REPLACE INTO detector_state (key, state, updated_at) VALUES (?, ?, ?)",
                [(k, json.dumps(v), iso(at)) for k, v in states.items()],
            )

        await self.transaction(run)


def sqlite_statements(script: str) -> Iterable[str]:
    """Yield complete SQL statements from `script` using sqlite3.complete_statement."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer.strip()
            buffer = ""
    if buffer.strip():
        yield buffer.strip()


def _insert_mentions(db: Database, mentions: list[Mention]) -> list[Mention]:
    new: list[Mention] = []
    seen_urls: set[str] = set()
    volume: dict[tuple[str, str], int] = {}
    for mention in mentions:
        if mention.canonical_url:
            if mention.canonical_url in seen_urls:
                continue
            hit = db.execute(
                "SELECT 1 FROM mentions WHERE canonical_url = ? LIMIT 1", [mention.canonical_url]
            ).fetchone()
            if hit:
                continue
        fetched = mention.fetched_at
        assert fetched is not None, "the pipeline sets fetched_at"
        seen = mention.published_at or fetched
        cur = db.execute(
            "INSERT OR IGNORE INTO mentions (platform, external_id, source, url, canonical_url, "
            "title, text, author, author_reach, published_at, fetched_at, seen_at, lang, "
            "parent_id, brands) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                mention.platform, mention.external_id, mention.source, mention.url,
                mention.canonical_url, mention.title, mention.text, mention.author,
                mention.author_reach, iso(mention.published_at), iso(fetched), iso(seen),
                mention.lang, mention.parent_id, json.dumps(list(mention.brands)),
            ],
        )
        if cur.rowcount == 0:
            continue  # same platform + external id already stored
        mention.id = int(cur.lastrowid or 0)
        if mention.canonical_url:
            seen_urls.add(mention.canonical_url)
        db.conn.executemany(
            "INSERT INTO mention_brands (mention_id, brand) VALUES (?, ?)",
            [(mention.id, b) for b in mention.brands],
        )
        if mention.engagement is not None:
            _insert_snapshot(db, mention.id, mention.engagement, fetched)
        bucket = iso(bucket_start(seen)) or ""
        for brand in mention.brands:
            volume[(brand, bucket)] = volume.get((brand, bucket), 0) + 1
        new.append(mention)
    db.conn.executemany(
        "INSERT INTO volume_buckets (brand, bucket_start, total) VALUES (?, ?, ?) "
        "ON CONFLICT (brand, bucket_start) DO UPDATE SET total = total + excluded.total",
        [(brand, bucket, n) for (brand, bucket), n in volume.items()],
    )
    return new


def _insert_snapshot(db: Database, mention_id: int, e: Engagement, at: datetime) -> None:
    db.execute(
        "INSERT INTO engagement (mention_id, observed_at, likes, shares, comments, views, extra) "
        "VALUES (?,?,?,?,?,?,?)",
        [mention_id, iso(at), e.likes, e.shares, e.comments, e.views,
         json.dumps(e.extra) if e.extra else None],
    )


def _insert_engagement(db: Database, updates: list[EngagementUpdate]) -> int:
    stored = 0
    for update in updates:
        row = db.execute(
            "SELECT id FROM mentions WHERE platform = ? AND external_id = ?",
            [update.platform, update.external_id],
        ).fetchone()
        if row:
            _insert_snapshot(db, row[0], update.engagement, update.observed_at)
            stored += 1
    return stored


def _insert_scores(db: Database, scored: list[tuple[Mention, Score]], at: datetime) -> None:
    negative: dict[tuple[str, str], int] = {}
    for mention, score in scored:
        cur = db.execute(
            "INSERT OR IGNORE INTO scores (mention_id, sentiment, p_negative, p_neutral, "
            "p_positive, complaint, harm_category, harm_confidence, model, scored_at, extra) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            [
                mention.id, score.sentiment, score.p_negative, score.p_neutral, score.p_positive,
                score.complaint, score.harm_category, score.harm_confidence, score.model,
                iso(at), json.dumps(score.extra) if score.extra else None,
            ],
        )
        if cur.rowcount and score.sentiment == "negative":
            seen = mention.published_at or mention.fetched_at or at
            bucket = iso(bucket_start(seen)) or ""
            for brand in mention.brands:
                negative[(brand, bucket)] = negative.get((brand, bucket), 0) + 1
    db.conn.executemany(
        "UPDATE volume_buckets SET negative = negative + ? WHERE brand = ? AND bucket_start = ?",
        [(n, brand, bucket) for (brand, bucket), n in negative.items()],
    )


def _prune_mentions(
    db: Database, cutoff: str, after: tuple[str, int] | None, batch: int
) -> tuple[int, tuple[str, int] | None]:
    """Delete up to `batch` mentions older than `cutoff`, in (seen_at, id) order past `after`.

    Returns how many were deleted and where the next batch starts (None when done). Walking on
    from `after` instead of from the oldest never rescans the evidence mentions kept behind.
    """
    past = "AND (seen_at, id) > (?, ?) " if after else ""
    rows = db.execute(
        "SELECT id, seen_at FROM mentions WHERE seen_at < ? " + past
        + "ORDER BY seen_at, id LIMIT ?",
        [cutoff, *(after or ()), batch],
    ).fetchall()
    if not rows:
        return 0, None
    ids = [row[0] for row in rows]
    # Mentions attached to an incident are evidence: keep them as long as the incident.
    cur = db.execute(
        f"DELETE FROM mentions WHERE id IN ({', '.join('?' for _ in ids)}) AND NOT EXISTS "
        "(SELECT 1 FROM incident_mentions im WHERE im.mention_id = mentions.id)",
        ids,
    )
    last = rows[-1]
    return int(cur.rowcount), ((last[1], last[0]) if len(rows) == batch else None)


def _prune_buckets(db: Database, cutoff: str, batch: int) -> int:
    """Delete up to `batch` volume buckets that start before `cutoff`; returns how many."""
    cur = db.execute(
        "DELETE FROM volume_buckets WHERE rowid IN "
        "(SELECT rowid FROM volume_buckets WHERE bucket_start < ? LIMIT ?)",
        [cutoff, batch],
    )
    return int(cur.rowcount)


def retention_cutoff(now: datetime, days: int) -> datetime:
    """The time before which mentions are pruned."""
    return now - timedelta(days=days)
