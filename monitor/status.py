"""The daemon's state in a few numbers: for the periodic status log line and for /metrics."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from monitor.clock import from_iso
from monitor.store import Tx


@dataclass(slots=True)
class StoredCounts:
    """Counts read from the database in one go."""

    mentions: int = 0
    new_mentions: int = 0
    open_incidents: Counter[str] = field(default_factory=Counter)  # severity -> open or acked
    pending_alerts: Counter[str] = field(default_factory=Counter)  # channel -> pending/sending


def stored_counts(tx: Tx, since: str | None = None) -> StoredCounts:
    """Mentions stored (and fetched since `since`, ISO text), active incidents by severity,
    undelivered alerts by channel."""
    counts = StoredCounts()
    counts.mentions = tx.mentions.count()
    start = from_iso(since)
    if start is not None:
        counts.new_mentions = tx.mentions.count_fetched_since(start)
    counts.open_incidents.update(tx.incidents.count_active_by_severity())
    counts.pending_alerts.update(tx.outbox.count_by_channel(("pending", "sending")))
    return counts


def status_line(
    counts: StoredCounts,
    *,
    minutes: float,
    sent: int,
    failed: int,
    scoring_queue: int,
    unhealthy: list[str],
) -> str:
    """One log line: what came in, what is open, what was sent, what is wrong."""
    incidents = sum(counts.open_incidents.values())
    by_severity = ", ".join(
        f"{n} {s}" for s, n in sorted(counts.open_incidents.items()) if n
    )
    pending = sum(counts.pending_alerts.values())
    parts = [
        f"{counts.new_mentions} new mentions in {minutes:.0f} min ({counts.mentions} stored)",
        f"{incidents} open incidents" + (f" ({by_severity})" if by_severity else ""),
        f"alerts: {sent} sent, {failed} failed, {pending} waiting",
        f"scoring queue {scoring_queue}",
        "unhealthy sources: " + (", ".join(sorted(unhealthy)) if unhealthy else "none"),
    ]
    return "status: " + "; ".join(parts)
