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
from datetime import UTC, datetime, timedelta

from monitor.alerting.config import severity_rank
from monitor.alerting.routing import Router
from monitor.alerting.silences import matching_silence
from monitor.clock import iso
from monitor.records import Digest, Incident
from monitor.store import Tx

log = logging.getLogger(__name__)

REASON = "digest"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def period_start(at: datetime, period: float) -> datetime:
    """Start of the UTC-aligned period of `period` seconds that contains `at`."""
    step = timedelta(seconds=period)
    return EPOCH + ((at.astimezone(UTC) - EPOCH) // step) * step


def digest_key(route: str, start: datetime) -> str:
    """The idempotency key of a route's digest for the period starting at `start`."""
    return f"{REASON}:{route}:{iso(start)}"


def enqueue_due(tx: Tx, router: Router, now: datetime) -> list[int]:
    """Enqueue the digests of periods that have ended, for every digest route; new row ids."""
    created: list[int] = []
    for index, route in enumerate(router.routes):
        if route.digest is not None:
            created += _collect(tx, router, index, route.digest, now)
    return created


def _collect(tx: Tx, router: Router, index: int, period: float, now: datetime) -> list[int]:
    name = router.route_name(index)
    current = period_start(now, period)
    since = tx.digests.watermark(name)
    if since is None:
        # First sight of this route: collect from the start of the running period.
        tx.digests.set_watermark(name, current)
        return []
    if since >= current:
        return []
    changed: dict[datetime, set[int]] = {}
    for incident_id, at in tx.incidents.changed_between(since, current):
        # A watermark off the period grid (the period was changed) starts a short first period.
        changed.setdefault(max(since, period_start(at, period)), set()).add(incident_id)
    created: list[int] = []
    if changed:
        wanted = sorted(set().union(*changed.values()))
        routed = {
            i.id: i for i in tx.incidents.by_ids(wanted) if index in router.matching_routes(i)
        }
        enabled = set(router.channel_names)
        channels = [c for c in router.routes[index].channels if c in enabled]
        for start in sorted(changed):
            listed = [routed[i] for i in sorted(changed[start]) if i in routed]
            if listed and channels:
                end = period_start(start, period) + timedelta(seconds=period)
                created += _enqueue(tx, name, start, end, listed, channels, now)
    tx.digests.set_watermark(name, current)
    if created:
        log.info("digest route %s: %d digest alert(s) queued", name, len(created))
    return created


def _enqueue(
    tx: Tx,
    route: str,
    start: datetime,
    end: datetime,
    incidents: list[Incident],
    channels: list[str],
    now: datetime,
) -> list[int]:
    key = digest_key(route, start)
    tx.digests.add(key, route, start, end, now, [i.id for i in incidents])
    severity = max((i.severity for i in incidents), key=severity_rank)
    return tx.outbox.insert(
        incident_id=None, key=key, reason=REASON, severity=severity, channels=channels,
        now=now, not_before=now,
    )


def read_digest(tx: Tx, key: str, now: datetime) -> Digest | None:
    """The digest stored under `key`, with its incidents' current state; None when it is gone.

    Incidents an active silence covers are left out and counted in `muted`.
    """
    stored = tx.digests.get(key)
    if stored is None:
        return None
    route, start, end = stored
    listed: list[Incident] = []
    muted = 0
    for incident in tx.incidents.by_ids(tx.digests.incident_ids(key)):
        if matching_silence(tx, incident, now) is not None:
            muted += 1
        else:
            listed.append(incident)
    listed.sort(key=lambda i: (-severity_rank(i.severity), i.opened_at or EPOCH, i.id))
    return Digest(route, start, end, listed, muted)
