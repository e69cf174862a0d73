"""The alert outbox: idempotency keys, enqueueing alerts and claiming due rows in send groups.

The rows themselves live in the store (`tx.outbox`, monitor/store/outbox.py); this module holds
the rules. Statuses: pending -> sending -> sent | failed | silenced | merged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.store import AlertRow, Tx

__all__ = [
    "REASONS", "STATUSES", "AlertRow", "Claim", "claim_due", "enqueue_alert", "idempotency_key",
    "requeue",
]

REASONS = ("opened", "escalated", "reminder", "resolved", "digest")
STATUSES = ("pending", "sending", "sent", "failed", "silenced", "merged")
# Reminders may repeat, so each one gets its own key; everything else is one key per change.
_REPEATING = frozenset({"reminder"})


def idempotency_key(incident_id: int, reason: str, severity: str) -> str:
    """The key receivers use to drop repeats of the same incident change."""
    return f"incident-{incident_id}:{reason}:{severity}"


def enqueue_alert(
    tx: Tx,
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
        key = f"{key}:r{tx.outbox.key_count(incident_id, reason) + 1}"
    return tx.outbox.insert(
        incident_id=incident_id,
        key=key,
        reason=reason,
        severity=severity,
        channels=channels,
        now=now,
        not_before=now + timedelta(seconds=delay),
    )


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


def claim_due(
    tx: Tx, now: datetime, per_channel: int, limit: int = 100, holder: str | None = None
) -> Claim:
    """Mark due pending rows `sending` and return them in send groups (inside a transaction).

    A group is the due rows of one incident on one channel, sent as one message. At most
    `per_channel` groups per channel are `sending` at any time, counting those already in
    flight: a crash re-sends every `sending` row, so this bounds the duplicates it can cause.
    A due row waits while an `opened` row for the same incident and channel is still inside its
    group wait, so the first message carries every change made during the wait. Rows for an
    incident and channel that already has a row in flight wait for it to finish.
    """
    tx.outbox.lock_claims()  # several daemons' dispatchers claim one at a time
    busy = tx.outbox.sending_groups()
    full = [channel for channel, count in busy.items() if count >= per_channel]
    groups: dict[tuple[int, str], list[AlertRow]] = {}
    for row in tx.outbox.claimable(now, full, limit):
        key = _group_key(row)
        if key not in groups:
            if busy.get(row.channel, 0) >= per_channel:
                continue  # the channel's slots are taken; the row waits for a send to finish
            busy[row.channel] = busy.get(row.channel, 0) + 1
            groups[key] = []
        groups[key].append(row)
    claimed = [row.id for group in groups.values() for row in group]
    if claimed:
        tx.outbox.mark_sending(claimed, holder)
    return Claim(groups=list(groups.values()), next_due=tx.outbox.next_due(now))


def requeue(tx: Tx, alert_id: int, now: datetime) -> AlertRow:
    """Send a failed or silenced alert again now; ValueError says why it cannot be."""
    row = tx.outbox.get(alert_id)
    if row is None:
        raise ValueError(f"no alert with id {alert_id}; see `brand-monitor alerts list`")
    if row.status not in ("failed", "silenced"):
        raise ValueError(
            f"alert {alert_id} is {row.status}; only failed or silenced alerts can be retried"
        )
    tx.outbox.requeue(alert_id, now)
    updated = tx.outbox.get(alert_id)
    assert updated is not None
    return updated
