"""The alert outbox: SQL for alert rows (enqueue, claim, record attempts, list, re-queue).

Every function takes the sqlite-utils `db` handed out by `Store.transaction` / `Store.read` and
runs plain SQL on it: sqlite-utils' own helpers commit on their own and would end the caller's
transaction. Statuses: pending -> sending -> sent | failed | silenced | merged.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from monitor.clock import from_iso, iso

log = logging.getLogger(__name__)

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


# Who to tell when alert rows are written on a database handle: the dispatcher's wake-up. Keyed
# by the store's handle, so only writes on that connection notify; a lock because watching may
# stop on the event loop while writes notify on the store thread.
_watchers: weakref.WeakKeyDictionary[Database, list[Callable[[], None]]] = (
    weakref.WeakKeyDictionary()
)
_watchers_lock = threading.Lock()


def watch(db: Database, callback: Callable[[], None]) -> Callable[[], None]:
    """Call `callback` when alert rows are inserted or re-queued on `db`; returns how to stop.

    The callback runs on the writing thread inside the writing transaction, so it must be quick
    and hand over to its own thread (`loop.call_soon_threadsafe`). The returned function may be
    called from any thread, more than once.
    """
    with _watchers_lock:
        _watchers.setdefault(db, []).append(callback)
    handle = weakref.ref(db)

    def unwatch() -> None:
        target = handle()
        with _watchers_lock:
            callbacks = _watchers.get(target) if target is not None else None
            if callbacks is not None and callback in callbacks:
                callbacks.remove(callback)

    return unwatch


def _notify(db: Database) -> None:
    with _watchers_lock:
        callbacks = list(_watchers.get(db, ()))
    for callback in callbacks:
        try:
            callback()
        except Exception:
            # A failing wake-up must not roll back the incident change that wrote the row: the
            # dispatcher's fallback poll still finds it.
            log.exception("could not wake the alert dispatcher; its next poll finds the alert")


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
    if created:
        _notify(db)
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


@dataclass(frozen=True, slots=True)
class Claim:
    """One claim round: groups of rows to send (one message each) and when to look again."""

    groups: list[list[AlertRow]]
    next_due: datetime | None  # earliest `not_before` of a pending row that is not due yet

    @property
    def rows(self) -> int:
        """How many rows were claimed."""
        return sum(len(group) for group in self.groups)


def _group_key(row: AlertRow) -> tuple[int, str]:
    # Rows without an incident (digests) cannot be merged with anything: a group of their own.
    return (row.incident_id if row.incident_id is not None else -row.id, row.channel)


def claim_due(db: Database, now: datetime, per_channel: int, limit: int = 100) -> Claim:
    """Mark due pending rows `sending` and return them in send groups (inside a transaction).

    A group is the due rows of one incident on one channel, sent as one message. At most
    `per_channel` groups per channel are `sending` at any time, counting those already in
    flight: a crash re-sends every `sending` row, so this bounds the duplicates it can cause.
    A due row waits while an `opened` row for the same incident and channel is still inside its
    group wait, so the first message carries every change made during the wait. Rows for an
    incident and channel that already has a row in flight wait for it to finish.
    """
    busy = {
        str(channel): int(count)
        for channel, count in db.execute(
            "SELECT channel, count(DISTINCT coalesce(incident_id, -id)) FROM alerts "
            "WHERE status = 'sending' GROUP BY channel"
        ).fetchall()
    }
    full = [channel for channel, count in busy.items() if count >= per_channel]
    skip = f"AND a.channel NOT IN ({', '.join('?' for _ in full)}) " if full else ""
    candidates = [
        _row(r)
        for r in db.query(
            "SELECT * FROM alerts a WHERE a.status = 'pending' AND a.not_before <= ? "
            + skip
            + "AND NOT EXISTS (SELECT 1 FROM alerts o WHERE o.status = 'pending' "
            "  AND o.reason = 'opened' AND o.not_before > ? AND o.channel = a.channel "
            "  AND o.incident_id IS a.incident_id AND a.incident_id IS NOT NULL) "
            "AND NOT EXISTS (SELECT 1 FROM alerts s WHERE s.status = 'sending' "
            "  AND s.channel = a.channel AND s.incident_id IS a.incident_id "
            "  AND a.incident_id IS NOT NULL) "
            "ORDER BY a.not_before, a.id LIMIT ?",
            [iso(now), *full, iso(now), limit],
        )
    ]
    groups: dict[tuple[int, str], list[AlertRow]] = {}
    for row in candidates:
        key = _group_key(row)
        if key not in groups:
            if busy.get(row.channel, 0) >= per_channel:
                continue  # the channel's slots are taken; the row waits for a send to finish
            busy[row.channel] = busy.get(row.channel, 0) + 1
            groups[key] = []
        groups[key].append(row)
    claimed = [row for group in groups.values() for row in group]
    if claimed:
        db.conn.executemany(
            "UPDATE alerts SET status = 'sending', attempts = attempts + 1 WHERE id = ?",
            [(r.id,) for r in claimed],
        )
    later = db.execute(
        "SELECT min(not_before) FROM alerts WHERE status = 'pending' AND not_before > ?",
        [iso(now)],
    ).fetchone()[0]
    return Claim(groups=list(groups.values()), next_due=from_iso(later))


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

    Their sends may have reached the receivers before the crash, so each can arrive twice, under
    the same idempotency key, which lets receivers drop the repeat; losing an alert would be
    worse. `claim_due` keeps at most `max_in_flight_per_channel` groups `sending` per channel,
    so that is the most repeats one crash causes on a channel.
    """
    cur = db.execute(
        "UPDATE alerts SET status = 'pending', "
        "last_error = 'interrupted while sending (daemon stopped); re-sending' "
        "WHERE status = 'sending'"
    )
    return int(cur.rowcount)


def release_rows(db: Database, alert_ids: list[int]) -> None:
    """Put `sending` rows whose outcome could not be recorded back to pending (may repeat)."""
    db.conn.executemany(
        "UPDATE alerts SET status = 'pending', "
        "last_error = 'outcome not recorded (database error); sending again' "
        "WHERE id = ? AND status = 'sending'",
        [(alert_id,) for alert_id in alert_ids],
    )


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
    _notify(db)
    updated = get_alert(db, alert_id)
    assert updated is not None
    return updated


def last_alert_at(db: Database, incident_id: int) -> datetime | None:
    """When the incident's newest alert row was created (any channel, any status)."""
    row = db.execute(
        "SELECT max(created_at) FROM alerts WHERE incident_id = ?", [incident_id]
    ).fetchone()
    return from_iso(row[0]) if row else None


def holding_row(db: Database, row: AlertRow, now: datetime) -> tuple[str, AlertRow] | None:
    """What keeps a due pending row from being claimed, by `claim_due`'s rules, if anything.

    ("group_wait", the opened row still inside its group wait) or ("in_flight", the row of the
    same incident and channel being sent); None when only the dispatcher's next round is missing.
    """
    if row.incident_id is None:
        return None
    for kind, sql, args in (
        ("group_wait", "status = 'pending' AND reason = 'opened' AND not_before > ?", [iso(now)]),
        ("in_flight", "status = 'sending'", []),
    ):
        found = list(db.query(
            f"SELECT * FROM alerts WHERE {sql} AND incident_id = ? AND channel = ? AND id != ? "
            "ORDER BY not_before DESC LIMIT 1",
            [*args, row.incident_id, row.channel, row.id],
        ))
        if found:
            return kind, _row(found[0])
    return None
