"""The alert outbox: SQL for alert rows (enqueue, claim, record attempts, list, re-queue).

Every function takes the sqlite-utils `db` handed out by `Store.transaction` / `Store.read` and
runs plain SQL on it: sqlite-utils' own helpers commit on their own and would end the caller's
transaction. Statuses: pending -> sending -> sent | failed | silenced | merged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from monitor.clock import from_iso, iso

REASONS = ("opened", "escalated", "reminder", "resolved", "digest")
STATUSES = ("pending", "sending", "sent", "failed", "silenced", "merged")
# Reminders may repeat, so each one gets its own key; everything else is one key per change.
_REPEATING = frozenset({"reminder"})


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


def idempotency_key(incident_id: int, reason: str, severity: str) -> str:
    """The key receivers use to drop repeats of the same incident change."""
    return f"incident-{incident_id}:{reason}:{severity}"


def enqueue_alert(
    db: Database,
    *,
    incident_id: int,
    reason: str,
    severity: str,
    channels: list[str],
    now: datetime,
    delay: float = 0.0,
) -> list[int]:
    """Add one pending alert row per channel inside the caller's transaction; return new row ids.

    The same incident change (same key) on the same channel is inserted once: calling this again
    for it is a no-op. Each reminder gets a fresh key (`...:r<n>`).
    """
    key = idempotency_key(incident_id, reason, severity)
    if reason in _REPEATING:
        row = db.execute(
            "SELECT count(DISTINCT idempotency_key) FROM alerts "
            "WHERE incident_id = ? AND reason = ?",
            [incident_id, reason],
        ).fetchone()
        key = f"{key}:r{int(row[0]) + 1}"
    return insert_alert_rows(
        db,
        incident_id=incident_id,
        key=key,
        reason=reason,
        severity=severity,
        channels=channels,
        now=now,
        not_before=now + timedelta(seconds=delay),
    )


def insert_alert_rows(
    db: Database,
    *,
    incident_id: int | None,
    key: str,
    reason: str,
    severity: str,
    channels: list[str],
    now: datetime,
    not_before: datetime,
) -> list[int]:
    """INSERT OR IGNORE one row per channel under an explicit idempotency key."""
    created: list[int] = []
    for channel in dict.fromkeys(channels):  # keep order, drop repeats
        cur = db.execute(
            "INSERT OR IGNORE INTO alerts (incident_id, idempotency_key, channel, reason, "
            "severity, status, created_at, not_before) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)",
            [incident_id, key, channel, reason, severity, iso(now), iso(not_before)],
        )
        if cur.rowcount:
            created.append(int(cur.lastrowid or 0))
    return created


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


def get_alert(db: Database, alert_id: int) -> AlertRow | None:
    """One alert row by id."""
    rows = list(db.query("SELECT * FROM alerts WHERE id = ?", [alert_id]))
    return _row(rows[0]) if rows else None


def claim_due(db: Database, now: datetime, limit: int = 100) -> list[AlertRow]:
    """Mark due pending rows `sending` and return them (call inside a transaction).

    A due row waits while an `opened` row for the same incident and channel is still inside
    its group wait, so the first message carries every change made during the wait. Rows for an
    incident and channel that already has a row in flight wait for it to finish.
    """
    rows = [
        _row(r)
        for r in db.query(
            "SELECT * FROM alerts a WHERE a.status = 'pending' AND a.not_before <= ? "
            "AND NOT EXISTS (SELECT 1 FROM alerts o WHERE o.status = 'pending' "
            "  AND o.reason = 'opened' AND o.not_before > ? AND o.channel = a.channel "
            "  AND o.incident_id IS a.incident_id AND a.incident_id IS NOT NULL) "
            "AND NOT EXISTS (SELECT 1 FROM alerts s WHERE s.status = 'sending' "
            "  AND s.channel = a.channel AND s.incident_id IS a.incident_id "
            "  AND a.incident_id IS NOT NULL) "
            "ORDER BY a.not_before, a.id LIMIT ?",
            [iso(now), iso(now), limit],
        )
    ]
    if rows:
        db.conn.executemany(
            "UPDATE alerts SET status = 'sending', attempts = attempts + 1 WHERE id = ?",
            [(r.id,) for r in rows],
        )
    return rows


def record_attempt(db: Database, alert_id: int, at: datetime, ok: bool, detail: str) -> None:
    """Append one delivery attempt to `alert_attempts`."""
    db.execute(
        "INSERT INTO alert_attempts (alert_id, at, ok, detail) VALUES (?, ?, ?, ?)",
        [alert_id, iso(at), int(ok), detail],
    )


def mark_sent(
    db: Database, alert_id: int, at: datetime, detail: str, external_ref: str | None
) -> None:
    """The channel confirmed delivery."""
    db.execute(
        "UPDATE alerts SET status = 'sent', sent_at = ?, external_ref = ?, last_error = NULL "
        "WHERE id = ?",
        [iso(at), external_ref, alert_id],
    )
    record_attempt(db, alert_id, at, True, detail)


def mark_merged(
    db: Database, alert_id: int, into: int, at: datetime, external_ref: str | None
) -> None:
    """Delivered as part of another alert's message (changes made within one group wait)."""
    db.execute(
        "UPDATE alerts SET status = 'merged', sent_at = ?, external_ref = ?, last_error = ? "
        "WHERE id = ?",
        [iso(at), external_ref, f"sent together with alert {into}", alert_id],
    )


def mark_retry(
    db: Database, alert_id: int, at: datetime, detail: str, not_before: datetime
) -> None:
    """A retryable failure: back to pending until `not_before`."""
    db.execute(
        "UPDATE alerts SET status = 'pending', not_before = ?, last_error = ? WHERE id = ?",
        [iso(not_before), detail, alert_id],
    )
    record_attempt(db, alert_id, at, False, detail)


def mark_failed(db: Database, alert_id: int, at: datetime, detail: str) -> None:
    """A failure that retrying cannot fix, or retries ran out: stays failed until re-queued."""
    db.execute(
        "UPDATE alerts SET status = 'failed', last_error = ? WHERE id = ?", [detail, alert_id]
    )
    record_attempt(db, alert_id, at, False, detail)


def mark_silenced(db: Database, alert_id: int, detail: str) -> None:
    """Not sent because an active silence matched (checked at dispatch time)."""
    db.execute(
        "UPDATE alerts SET status = 'silenced', last_error = ? WHERE id = ?", [detail, alert_id]
    )


def postpone(db: Database, alert_id: int, not_before: datetime, why: str) -> None:
    """Put a claimed row back to pending until `not_before` (quiet hours); not an attempt."""
    db.execute(
        "UPDATE alerts SET status = 'pending', not_before = ?, attempts = max(attempts - 1, 0), "
        "last_error = ? WHERE id = ?",
        [iso(not_before), why, alert_id],
    )


def release_in_flight(db: Database) -> int:
    """Rows left `sending` by a crash go back to pending; returns how many.

    The send may have reached the receiver before the crash, so this can cause one duplicate,
    which the idempotency key lets receivers drop. Losing the alert would be worse.
    """
    cur = db.execute(
        "UPDATE alerts SET status = 'pending', "
        "last_error = 'interrupted while sending (daemon stopped); re-sending' "
        "WHERE status = 'sending'"
    )
    return int(cur.rowcount)


def thread_ref(db: Database, incident_id: int | None, channel: str) -> str | None:
    """The channel's reference of the incident's latest delivered message (e.g. Slack thread)."""
    if incident_id is None:
        return None
    row = db.execute(
        "SELECT external_ref FROM alerts WHERE incident_id = ? AND channel = ? "
        "AND status = 'sent' AND external_ref IS NOT NULL ORDER BY sent_at DESC, id DESC LIMIT 1",
        [incident_id, channel],
    ).fetchone()
    return str(row[0]) if row else None


def list_alerts(
    db: Database, *, status: str | None = None, incident_id: int | None = None, limit: int = 50
) -> list[AlertRow]:
    """Newest alert rows first, optionally filtered."""
    where: list[str] = []
    args: list[Any] = []
    if status:
        where.append("status = ?")
        args.append(status)
    if incident_id is not None:
        where.append("incident_id = ?")
        args.append(incident_id)
    sql = "SELECT * FROM alerts" + (" WHERE " + " AND ".join(where) if where else "")
    return [_row(r) for r in db.query(sql + " ORDER BY id DESC LIMIT ?", [*args, limit])]


def attempts_of(db: Database, alert_id: int) -> list[dict[str, Any]]:
    """Delivery attempts of one alert, oldest first."""
    return list(
        db.query(
            "SELECT at, ok, detail FROM alert_attempts WHERE alert_id = ? ORDER BY id", [alert_id]
        )
    )


def requeue(db: Database, alert_id: int, now: datetime) -> AlertRow:
    """Send a failed or silenced alert again now; ValueError says why it cannot be."""
    row = get_alert(db, alert_id)
    if row is None:
        raise ValueError(f"no alert with id {alert_id}; see `brand-monitor alerts list`")
    if row.status not in ("failed", "silenced"):
        raise ValueError(
            f"alert {alert_id} is {row.status}; only failed or silenced alerts can be retried"
        )
    db.execute(
        "UPDATE alerts SET status = 'pending', not_before = ?, requeued_at = ?, last_error = NULL "
        "WHERE id = ?",
        [iso(now), iso(now), alert_id],
    )
    updated = get_alert(db, alert_id)
    assert updated is not None
    return updated


def last_alert_at(db: Database, incident_id: int) -> datetime | None:
    """When the incident's newest alert row was created (any channel, any status)."""
    row = db.execute(
        "SELECT max(created_at) FROM alerts WHERE incident_id = ?", [incident_id]
    ).fetchone()
    return from_iso(row[0]) if row else None
