"""What the store keeps about alert deliveries: the `alerts` outbox and its attempts.

Statuses: pending -> sending -> sent | failed | silenced | merged. Every method runs inside the
caller's transaction: sqlite-utils' own helpers commit on their own and would end it, so this
module writes plain SQL.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.clock import from_iso, iso
from monitor.store.rows import marks
from monitor.store.sql import Db

# Transaction advisory lock that serialises claiming on PostgreSQL ("brmon" + 2).
CLAIM_LOCK = 0x62726D6F6E + 2

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AlertRow:
    """One row of the `alerts` table."""

    id: int
    incident_id: int | None
    idempotency_key: str
    channel: str
    reason: str
    severity: str
    status: str
    created_at: datetime
    not_before: datetime
    attempts: int
    last_error: str | None
    sent_at: datetime | None
    external_ref: str | None
    requeued_at: datetime | None = None

    def give_up_from(self) -> datetime:
        """Start of the give-up window: creation, or the last manual re-queue."""
        return self.requeued_at or self.created_at


def _row(row: dict[str, Any]) -> AlertRow:
    created = from_iso(row["created_at"])
    not_before = from_iso(row["not_before"])
    assert created is not None and not_before is not None
    return AlertRow(
        id=row["id"],
        incident_id=row["incident_id"],
        idempotency_key=row["idempotency_key"],
        channel=row["channel"],
        reason=row["reason"],
        severity=row["severity"],
        status=row["status"],
        created_at=created,
        not_before=not_before,
        attempts=row["attempts"],
        last_error=row["last_error"],
        sent_at=from_iso(row["sent_at"]),
        external_ref=row["external_ref"],
        requeued_at=from_iso(row.get("requeued_at")),
    )


class OutboxRows:
    """The `alerts` and `alert_attempts` tables of one connection, and who to wake on writes."""

    def __init__(self, db: Db) -> None:
        self._db = db
        # The dispatcher's wake-up. A lock because watching may stop on the event loop while
        # writes notify on the store thread.
        self._watchers: list[Callable[[], None]] = []
        self._watchers_lock = threading.Lock()

    # -- wake-ups ---------------------------------------------------------------------------

    def watch(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call `callback` when alert rows are inserted or re-queued here; returns how to stop.

        The callback runs on the writing thread inside the writing transaction, so it must be
        quick and hand over to its own thread (`loop.call_soon_threadsafe`). The returned
        function may be called from any thread, more than once.
        """
        with self._watchers_lock:
            self._watchers.append(callback)

        def unwatch() -> None:
            with self._watchers_lock:
                if callback in self._watchers:
                    self._watchers.remove(callback)

        return unwatch

    def _notify(self) -> None:
        with self._watchers_lock:
            callbacks = list(self._watchers)
        for callback in callbacks:
            try:
                callback()
            except Exception:
                # A failing wake-up must not roll back the incident change that wrote the row:
                # the dispatcher's fallback poll still finds it.
                log.exception("could not wake the alert dispatcher; its next poll finds the alert")

    # -- writing ----------------------------------------------------------------------------

    def insert(
        self,
        *,
        incident_id: int | None,
        key: str,
        reason: str,
        severity: str,
        channels: Sequence[str],
        now: datetime,
        not_before: datetime,
    ) -> list[int]:
        """One pending row per channel under an idempotency key; a (key, channel) already
        stored is skipped. Returns the new row ids."""
        created: list[int] = []
        for channel in dict.fromkeys(channels):  # keep order, drop repeats
            cur = self._db.execute(
                "INSERT INTO alerts (incident_id, idempotency_key, channel, reason, "
                "severity, status, created_at, not_before) "
                "VALUES (?, ?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT DO NOTHING RETURNING id",
                [incident_id, key, channel, reason, severity, iso(now), iso(not_before)],
            )
            inserted = cur.fetchone()
            if inserted is not None:
                created.append(int(inserted[0]))
        if created:
            self._notify()
        return created

    def lock_claims(self) -> None:
        """Make this transaction the only one claiming rows until it ends (PostgreSQL: several
        daemons' dispatchers then never claim one row twice nor overrun a channel's slots; a
        SQLite write transaction is alone already)."""
        if self._db.dialect == "postgresql":
            self._db.execute("SELECT pg_advisory_xact_lock(?)", [CLAIM_LOCK])

    def mark_sending(self, alert_ids: Sequence[int], holder: str | None = None) -> None:
        """Claimed rows: `sending`, one more attempt (on PostgreSQL, by which daemon)."""
        if self._db.dialect == "postgresql":
            self._db.executemany(
                "UPDATE alerts SET status = 'sending', attempts = attempts + 1, claimed_by = ? "
                "WHERE id = ?",
                [(holder, alert_id) for alert_id in alert_ids],
            )
            return
        self._db.executemany(
            "UPDATE alerts SET status = 'sending', attempts = attempts + 1 WHERE id = ?",
            [(alert_id,) for alert_id in alert_ids],
        )

    def record_attempt(self, alert_id: int, at: datetime, ok: bool, detail: str) -> None:
        """Append one delivery attempt to `alert_attempts`."""
        self._db.execute(
            "INSERT INTO alert_attempts (alert_id, at, ok, detail) VALUES (?, ?, ?, ?)",
            [alert_id, iso(at), int(ok), detail],
        )

    def mark_sent(
        self, alert_id: int, at: datetime, detail: str, external_ref: str | None
    ) -> None:
        """The channel confirmed delivery."""
        self._db.execute(
            "UPDATE alerts SET status = 'sent', sent_at = ?, external_ref = ?, last_error = NULL "
            "WHERE id = ?",
            [iso(at), external_ref, alert_id],
        )
        self.record_attempt(alert_id, at, True, detail)

    def mark_merged(
        self, alert_id: int, into: int, at: datetime, external_ref: str | None
    ) -> None:
        """Delivered as part of another alert's message (changes made within one group wait)."""
        self._db.execute(
            "UPDATE alerts SET status = 'merged', sent_at = ?, external_ref = ?, last_error = ? "
            "WHERE id = ?",
            [iso(at), external_ref, f"sent together with alert {into}", alert_id],
        )

    def mark_retry(
        self, alert_id: int, at: datetime, detail: str, not_before: datetime
    ) -> None:
        """A retryable failure: back to pending until `not_before`."""
        self._db.execute(
            "UPDATE alerts SET status = 'pending', not_before = ?, last_error = ? WHERE id = ?",
            [iso(not_before), detail, alert_id],
        )
        self.record_attempt(alert_id, at, False, detail)

    def mark_failed(self, alert_id: int, at: datetime, detail: str) -> None:
        """A failure that retrying cannot fix, or retries ran out: stays failed until re-queued."""
        self._db.execute(
            "UPDATE alerts SET status = 'failed', last_error = ? WHERE id = ?", [detail, alert_id]
        )
        self.record_attempt(alert_id, at, False, detail)

    def mark_silenced(self, alert_id: int, detail: str) -> None:
        """Not sent because an active silence matched (checked at dispatch time)."""
        self._db.execute(
            "UPDATE alerts SET status = 'silenced', last_error = ? WHERE id = ?",
            [detail, alert_id],
        )

    def postpone(self, alert_id: int, not_before: datetime, why: str) -> None:
        """Put a claimed row back to pending until `not_before` (quiet hours); not an attempt."""
        self._db.execute(
            "UPDATE alerts SET status = 'pending', not_before = ?, "
            "attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, last_error = ? "
            "WHERE id = ?",
            [iso(not_before), why, alert_id],
        )

    def merge_pending(self, incident_id: int, detail: str) -> None:
        """The incident's rows still pending are not sent: it merged into another."""
        self._db.execute(
            "UPDATE alerts SET status = 'merged', last_error = ? "
            "WHERE incident_id = ? AND status = 'pending'",
            [detail, incident_id],
        )

    def release_in_flight(self) -> int:
        """Rows left `sending` by a crash go back to pending; returns how many.

        Their sends may have reached the receivers before the crash, so each can arrive twice,
        under the same idempotency key, which lets receivers drop the repeat; losing an alert
        would be worse.
        """
        if self._db.dialect == "postgresql":
            # Other daemons may be sending right now: only a dead daemon's rows are released.
            return int(self._db.execute(
                "UPDATE alerts SET status = 'pending', claimed_by = NULL, "
                "last_error = 'interrupted while sending (its daemon stopped); re-sending' "
                "WHERE status = 'sending' AND (claimed_by IS NULL OR NOT EXISTS "
                "(SELECT 1 FROM daemons d WHERE d.holder = alerts.claimed_by "
                "AND d.seen_until >= now()))"
            ).rowcount)
        cur = self._db.execute(
            "UPDATE alerts SET status = 'pending', "
            "last_error = 'interrupted while sending (daemon stopped); re-sending' "
            "WHERE status = 'sending'"
        )
        return int(cur.rowcount)

    def release_rows(self, alert_ids: Sequence[int]) -> None:
        """Put `sending` rows whose outcome could not be recorded back to pending (may repeat)."""
        self._db.executemany(
            "UPDATE alerts SET status = 'pending', "
            "last_error = 'outcome not recorded (database error); sending again' "
            "WHERE id = ? AND status = 'sending'",
            [(alert_id,) for alert_id in alert_ids],
        )

    def requeue(self, alert_id: int, now: datetime) -> None:
        """Make a row pending and due now, restarting its give-up window."""
        self._db.execute(
            "UPDATE alerts SET status = 'pending', not_before = ?, requeued_at = ?, "
            "last_error = NULL WHERE id = ?",
            [iso(now), iso(now), alert_id],
        )
        self._notify()

    # -- reading ----------------------------------------------------------------------------

    def get(self, alert_id: int) -> AlertRow | None:
        """One alert row by id."""
        rows = list(self._db.query("SELECT * FROM alerts WHERE id = ?", [alert_id]))
        return _row(rows[0]) if rows else None

    def recent(
        self, *, status: str | None = None, incident_id: int | None = None,
        limit: int | None = 50,
    ) -> list[AlertRow]:
        """Newest alert rows first, optionally filtered; `limit` None reads them all."""
        where: list[str] = []
        args: list[Any] = []
        if status:
            where.append("status = ?")
            args.append(status)
        if incident_id is not None:
            where.append("incident_id = ?")
            args.append(incident_id)
        sql = "SELECT * FROM alerts" + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY id DESC" + (" LIMIT ?" if limit else "")
        rows = self._db.query(sql, [*args, limit] if limit else args)
        return [_row(r) for r in rows]

    def attempts(self, alert_id: int) -> list[dict[str, Any]]:
        """Delivery attempts of one alert, oldest first: at, ok, detail."""
        return list(self._db.query(
            "SELECT at, ok, detail FROM alert_attempts WHERE alert_id = ? ORDER BY id", [alert_id]
        ))

    def key_count(self, incident_id: int, reason: str) -> int:
        """How many distinct idempotency keys the incident's rows for `reason` have."""
        row = self._db.execute(
            "SELECT count(DISTINCT idempotency_key) FROM alerts "
            "WHERE incident_id = ? AND reason = ?",
            [incident_id, reason],
        ).fetchone()
        return int(row[0])

    def sending_groups(self) -> dict[str, int]:
        """Per channel, how many send groups (incidents, or digest rows) are `sending`."""
        return {
            str(channel): int(count)
            for channel, count in self._db.execute(
                "SELECT channel, count(DISTINCT coalesce(incident_id, -id)) FROM alerts "
                "WHERE status = 'sending' GROUP BY channel"
            ).fetchall()
        }

    def claimable(self, now: datetime, skip_channels: Sequence[str], limit: int) -> list[AlertRow]:
        """Due pending rows, oldest due first, outside `skip_channels`, leaving out rows whose
        incident and channel has an `opened` row inside its group wait or a row `sending`."""
        skip = f"AND a.channel NOT IN ({marks(skip_channels)}) " if skip_channels else ""
        rows = self._db.query(
            "SELECT * FROM alerts a WHERE a.status = 'pending' AND a.not_before <= ? "
            + skip
            + "AND NOT EXISTS (SELECT 1 FROM alerts o WHERE o.status = 'pending' "
            "  AND o.reason = 'opened' AND o.not_before > ? AND o.channel = a.channel "
            "  AND o.incident_id = a.incident_id AND a.incident_id IS NOT NULL) "
            "AND NOT EXISTS (SELECT 1 FROM alerts s WHERE s.status = 'sending' "
            "  AND s.channel = a.channel AND s.incident_id = a.incident_id "
            "  AND a.incident_id IS NOT NULL) "
            "ORDER BY a.not_before, a.id LIMIT ?",
            [iso(now), *skip_channels, iso(now), limit],
        )
        return [_row(r) for r in rows]

    def next_due(self, now: datetime) -> datetime | None:
        """The earliest `not_before` of a pending row that is not due yet."""
        later = self._db.execute(
            "SELECT min(not_before) FROM alerts WHERE status = 'pending' AND not_before > ?",
            [iso(now)],
        ).fetchone()[0]
        return from_iso(later)

    def holding_row(self, row: AlertRow, now: datetime) -> tuple[str, AlertRow] | None:
        """What keeps a due pending row from being claimed, by `claimable`'s rules, if anything.

        ("group_wait", the opened row still inside its group wait) or ("in_flight", the row of
        the same incident and channel being sent); None when only the dispatcher's next round
        is missing.
        """
        if row.incident_id is None:
            return None
        for kind, sql, args in (
            ("group_wait", "status = 'pending' AND reason = 'opened' AND not_before > ?",
             [iso(now)]),
            ("in_flight", "status = 'sending'", []),
        ):
            found = list(self._db.query(
                f"SELECT * FROM alerts WHERE {sql} AND incident_id = ? AND channel = ? "
                "AND id != ? ORDER BY not_before DESC LIMIT 1",
                [*args, row.incident_id, row.channel, row.id],
            ))
            if found:
                return kind, _row(found[0])
        return None

    def thread_ref(self, incident_id: int | None, channel: str) -> str | None:
        """The channel's reference of the incident's latest delivered message (a Slack thread)."""
        if incident_id is None:
            return None
        row = self._db.execute(
            "SELECT external_ref FROM alerts WHERE incident_id = ? AND channel = ? "
            "AND status = 'sent' AND external_ref IS NOT NULL "
            "ORDER BY sent_at DESC, id DESC LIMIT 1",
            [incident_id, channel],
        ).fetchone()
        return str(row[0]) if row else None

    def delivered_before(self, incident_id: int, channel: str) -> bool:
        """Whether a message about the incident already reached this channel."""
        row = self._db.execute(
            "SELECT 1 FROM alerts WHERE incident_id = ? AND channel = ? AND status IN "
            "('sent', 'merged') LIMIT 1",
            [incident_id, channel],
        ).fetchone()
        return row is not None

    def last_created_at(self, incident_id: int) -> datetime | None:
        """When the incident's newest alert row was created (any channel, any status)."""
        row = self._db.execute(
            "SELECT max(created_at) FROM alerts WHERE incident_id = ?", [incident_id]
        ).fetchone()
        return from_iso(row[0]) if row else None

    def first_created_at(self, incident_id: int, severity: str) -> datetime | None:
        """When the incident's first alert row at this severity was created."""
        row = self._db.execute(
            "SELECT min(created_at) FROM alerts WHERE incident_id = ? AND severity = ?",
            [incident_id, severity],
        ).fetchone()
        return from_iso(row[0]) if row else None

    def count(self, statuses: Sequence[str]) -> int:
        """Rows in any of these statuses."""
        return int(self._db.execute(
            f"SELECT count(*) FROM alerts WHERE status IN ({marks(statuses)})", list(statuses)
        ).fetchone()[0])

    def count_by_channel(self, statuses: Sequence[str]) -> dict[str, int]:
        """Rows in any of these statuses, per channel."""
        rows = self._db.execute(
            f"SELECT channel, count(*) FROM alerts WHERE status IN ({marks(statuses)}) "
            "GROUP BY channel",
            list(statuses),
        ).fetchall()
        return {str(channel): int(n) for channel, n in rows}
