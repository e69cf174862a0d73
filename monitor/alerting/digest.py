"""Digest routes: collect the incidents a route matches and send one message per period.

Periods are aligned to UTC: a "1d" digest covers 00:00-24:00 UTC, a "4h" digest 00:00-04:00,
04:00-08:00 and so on (a route's quiet hours then hold the message until they end). An incident
is listed in the digest of each period in which it opened or changed (any incident event).

The periodic `due_reminders` job (once a minute) enqueues the digest of every period that has
ended since the route's watermark (`alert_digests.last_sent_at`: the end of the newest period
already collected), in one transaction with the watermark, as outbox rows keyed
`digest:<route>:<period start>`. So a crash never enqueues two digests for one period, a restart
catches up on the periods it missed, and an empty period sends nothing. Which incidents a digest
lists is fixed when it is enqueued (`digest_incidents`); their state is read when it is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from sqlite_utils import Database

from monitor.alerting.config import severity_rank
from monitor.alerting.outbox import insert_alert_rows
from monitor.alerting.routing import Router
from monitor.alerting.silences import matching_silence
from monitor.clock import from_iso, iso
from monitor.records import Digest, Incident

log = logging.getLogger(__name__)

REASON = "digest"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Reads incidents by id (the dispatcher's reader; passed in to keep the import graph acyclic).
IncidentLoader = Callable[[Database, Sequence[int]], list[Incident]]


def period_start(at: datetime, period: float) -> datetime:
    """Start of the UTC-aligned period of `period` seconds that contains `at`."""
    step = timedelta(seconds=period)
    return EPOCH + ((at.astimezone(UTC) - EPOCH) // step) * step


def digest_key(route: str, start: datetime) -> str:
    """The idempotency key of a route's digest for the period starting at `start`."""
    return f"{REASON}:{route}:{iso(start)}"


def enqueue_due(db: Database, router: Router, now: datetime, load: IncidentLoader) -> list[int]:
    """Enqueue the digests of periods that have ended, for every digest route; new row ids."""
    created: list[int] = []
    for index, route in enumerate(router.routes):
        if route.digest is not None:
            created += _collect(db, router, index, route.digest, now, load)
    return created


def _collect(
    db: Database, router: Router, index: int, period: float, now: datetime, load: IncidentLoader
) -> list[int]:
    name = router.route_name(index)
    current = period_start(now, period)
    row = db.execute("SELECT last_sent_at FROM alert_digests WHERE route = ?", [name]).fetchone()
    since = from_iso(row[0]) if row else None
    if since is None:
        # First sight of this route: collect from the start of the running period.
        _set_watermark(db, name, current)
        return []
    if since >= current:
        return []
    changed: dict[datetime, set[int]] = {}
    for incident_id, at_text in db.execute(
        "SELECT DISTINCT incident_id, at FROM incident_events WHERE at >= ? AND at < ?",
        [iso(since), iso(current)],
    ).fetchall():
        at = from_iso(at_text)
        assert at is not None
        # A watermark off the period grid (the period was changed) starts a short first period.
        changed.setdefault(max(since, period_start(at, period)), set()).add(int(incident_id))
    created: list[int] = []
    if changed:
        wanted = sorted(set().union(*changed.values()))
        routed = {i.id: i for i in load(db, wanted) if index in router.matching_routes(i)}
        enabled = set(router.channel_names)
        channels = [c for c in router.routes[index].channels if c in enabled]
        for start in sorted(changed):
            listed = [routed[i] for i in sorted(changed[start]) if i in routed]
            if listed and channels:
                end = period_start(start, period) + timedelta(seconds=period)
                created += _enqueue(db, name, start, end, listed, channels, now)
    _set_watermark(db, name, current)
    if created:
        log.info("digest route %s: %d digest alert(s) queued", name, len(created))
    return created


def _enqueue(
    db: Database,
    route: str,
    start: datetime,
    end: datetime,
    incidents: list[Incident],
    channels: list[str],
    now: datetime,
) -> list[int]:
    key = digest_key(route, start)
    db.execute(
        "INSERT OR IGNORE INTO digests (key, route, period_start, period_end, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        [key, route, iso(start), iso(end), iso(now)],
    )
    db.conn.executemany(
        "INSERT OR IGNORE INTO digest_incidents (digest_key, incident_id) VALUES (?, ?)",
        [(key, i.id) for i in incidents],
    )
    severity = max((i.severity for i in incidents), key=severity_rank)
    return insert_alert_rows(
        db, incident_id=None, key=key, reason=REASON, severity=severity, channels=channels,
        now=now, not_before=now,
    )


def _set_watermark(db: Database, route: str, until: datetime) -> None:
    db.execute(
        "INSERT INTO alert_digests (route, last_sent_at) VALUES (?, ?) "
        "ON CONFLICT (route) DO UPDATE SET last_sent_at = excluded.last_sent_at",
        [route, iso(until)],
    )


def read_digest(db: Database, key: str, now: datetime, load: IncidentLoader) -> Digest | None:
    """The digest stored under `key`, with its incidents' current state; None when it is gone.

    Incidents an active silence covers are left out and counted in `muted`.
    """
    row = db.execute(
        "SELECT route, period_start, period_end FROM digests WHERE key = ?", [key]
    ).fetchone()
    if row is None:
        return None
    start, end = from_iso(row[1]), from_iso(row[2])
    assert start is not None and end is not None
    ids = [
        int(r[0])
        for r in db.execute(
            "SELECT incident_id FROM digest_incidents WHERE digest_key = ?", [key]
        ).fetchall()
    ]
    listed: list[Incident] = []
    muted = 0
    for incident in load(db, ids):
        if matching_silence(db, incident, now) is not None:
            muted += 1
        else:
            listed.append(incident)
    listed.sort(key=lambda i: (-severity_rank(i.severity), i.opened_at or EPOCH, i.id))
    return Digest(str(row[0]), start, end, listed, muted)
