"""What several daemons on one PostgreSQL database share: heartbeats, leases and work queues.

PostgreSQL only (SQLite has one daemon per file). Every time here is the database server's
`now()`, never a daemon's clock, so daemons on machines whose clocks disagree still agree on
who holds what. Work is claimed with `FOR UPDATE SKIP LOCKED`: two daemons asking at once get
different rows and neither waits for the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.records import Mention, Score
from monitor.store.dbfile import StoreError
from monitor.store.mentions import SCORED_COLUMNS, row_to_mention, row_to_scored
from monitor.store.rows import readable
from monitor.store.sql import Db
from monitor.store.vectors import embedding_from

# (mention, score, embedding or None) as detection reads them.
DetectionItem = tuple[Mention, Score, Any]
LEADER_LEASE = "detection"  # the lease whose holder runs detection (monitor/cluster.py)
# True while the daemon named by the statement's next parameter holds the leader's lease: the
# detection queue is read and emptied under it, so a leader that stalled past its lease can
# neither read nor drop what its successor must read.
_LEADS = (
    f"EXISTS (SELECT 1 FROM leases l WHERE l.name = '{LEADER_LEASE}' AND l.holder = ? "
    "AND l.expires_at >= now())"
)


@dataclass(frozen=True, slots=True)
class Member:
    """One daemon sharing the database, as its last heartbeat left it."""

    holder: str
    host: str
    pid: int
    started_at: datetime
    seen_until: datetime
    alive: bool
    leases: tuple[str, ...]


class ClusterRows:
    """The `daemons`, `leases`, `scoring_queue` and `detection_queue` tables (PostgreSQL)."""

    def __init__(self, db: Db) -> None:
        self._db = db

    def _require_shared(self) -> Db:
        if self._db.dialect != "postgresql":
            raise StoreError("several daemons can share only a PostgreSQL database")
        return self._db

    # -- daemons and leases -----------------------------------------------------------------

    def heartbeat(self, holder: str, host: str, pid: int, ttl: float) -> None:
        """Say this daemon is alive for `ttl` more seconds (registers it the first time)."""
        self._require_shared().execute(
            "INSERT INTO daemons (holder, host, pid, seen_until) "
            "VALUES (?, ?, ?, now() + make_interval(secs => ?)) "
            "ON CONFLICT (holder) DO UPDATE SET seen_until = excluded.seen_until",
            [holder, host, pid, ttl],
        )

    def leave(self, holder: str) -> None:
        """Drop this daemon's row, leases and scoring claims (a clean stop: others take over at
        once)."""
        db = self._require_shared()
        db.execute("DELETE FROM leases WHERE holder = ?", [holder])
        db.execute(
            "UPDATE scoring_queue SET holder = NULL, claimed_until = NULL WHERE holder = ?",
            [holder],
        )
        db.execute("DELETE FROM daemons WHERE holder = ?", [holder])

    def forget_dead(self, older_than: float) -> int:
        """Delete daemons whose heartbeat stopped over `older_than` seconds ago."""
        return self._require_shared().execute(
            "DELETE FROM daemons WHERE seen_until < now() - make_interval(secs => ?)",
            [older_than],
        ).rowcount

    def hold(self, name: str, holder: str, ttl: float) -> bool:
        """Take or renew the lease `name` for `ttl` seconds; False while another holds it.

        A lease is free once it runs out, or as soon as its holder's heartbeat has: a source's
        lease lasts a few poll intervals, and a dead daemon must not keep it that long.
        """
        row = self._require_shared().execute(
            "INSERT INTO leases (name, holder, expires_at) "
            "VALUES (?, ?, now() + make_interval(secs => ?)) "
            "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, "
            "expires_at = excluded.expires_at "
            "WHERE leases.holder = excluded.holder OR leases.expires_at < now() "
            "OR EXISTS (SELECT 1 FROM daemons d WHERE d.holder = leases.holder "
            "AND d.seen_until < now()) "
            "RETURNING holder",
            [name, holder, ttl],
        ).fetchone()
        return row is not None

    def members(self) -> list[Member]:
        """Every daemon with a heartbeat row, with the leases each holds now, oldest first."""
        rows = self._require_shared().query(
            "SELECT d.holder, d.host, d.pid, d.started_at, d.seen_until, "
            "d.seen_until >= now() AS alive, "
            "coalesce(array_agg(l.name ORDER BY l.name) FILTER (WHERE l.name IS NOT NULL), "
            "'{}') AS leases "
            "FROM daemons d LEFT JOIN leases l ON l.holder = d.holder AND l.expires_at >= now() "
            "GROUP BY d.holder ORDER BY d.started_at, d.holder"
        )
        return [
            Member(r["holder"], r["host"], int(r["pid"]), r["started_at"], r["seen_until"],
                   bool(r["alive"]), tuple(r["leases"]))
            for r in rows
        ]

    # -- scoring ----------------------------------------------------------------------------

    def claim_for_scoring(self, holder: str, limit: int, ttl: float) -> list[Mention]:
        """Claim up to `limit` queued mentions for `ttl` seconds, oldest first.

        A mention whose claim ran out (its daemon died or stalled) is claimable again; scoring
        it twice stores one score (the scores table keeps the first).
        """
        db = self._require_shared()
        claimed = db.execute(
            "UPDATE scoring_queue SET holder = ?, claimed_until = now() + make_interval(secs => ?) "
            "WHERE mention_id IN (SELECT mention_id FROM scoring_queue "
            "WHERE claimed_until IS NULL OR claimed_until < now() "
            "ORDER BY mention_id LIMIT ? FOR UPDATE SKIP LOCKED) RETURNING mention_id",
            [holder, ttl, limit],
        ).fetchall()
        ids = sorted(int(r[0]) for r in claimed)
        if not ids:
            return []
        rows = db.query("SELECT * FROM mentions WHERE id = ANY(?) ORDER BY id", [ids])
        return readable(rows, row_to_mention, "mentions")

    def scoring_backlog(self) -> int:
        """Mentions waiting for a score, claimed or not."""
        row = self._require_shared().execute("SELECT count(*) FROM scoring_queue").fetchone()
        return int(row[0]) if row else 0

    def queue_unscored(self) -> int:
        """Queue stored mentions that have no score and are not queued (a copied database, a
        row a bug left behind); returns how many."""
        return self._require_shared().execute(
            "INSERT INTO scoring_queue (mention_id) SELECT m.id FROM mentions m "
            "WHERE NOT EXISTS (SELECT 1 FROM scores s WHERE s.mention_id = m.id) "
            "ON CONFLICT DO NOTHING"
        ).rowcount

    # -- detection --------------------------------------------------------------------------

    def detection_batch(self, leader: str, limit: int) -> list[DetectionItem]:
        """The oldest queued scored mentions, if `leader` holds the detection lease (else [])."""
        rows = self._require_shared().query(
            f"SELECT m.*, {SCORED_COLUMNS}, q.embedding AS q_embedding "
            "FROM detection_queue q JOIN mentions m ON m.id = q.mention_id "
            "JOIN scores s ON s.mention_id = q.mention_id "
            f"WHERE {_LEADS} ORDER BY q.mention_id LIMIT ?",
            [leader, limit],
        )
        return readable(rows, _detection_item, "detection_queue")

    def detection_done(self, leader: str, mention_ids: Sequence[int]) -> int:
        """Drop read mentions from the queue, only while `leader` still holds the lease."""
        if not mention_ids:
            return 0
        return self._require_shared().execute(
            f"DELETE FROM detection_queue WHERE mention_id = ANY(?) AND {_LEADS}",
            [list(mention_ids), leader],
        ).rowcount


def _detection_item(row: dict[str, Any]) -> DetectionItem:
    mention, score = row_to_scored(row)
    return mention, score, embedding_from(row["q_embedding"])

