"""Incident lifecycle: open, grow, escalate, acknowledge, note, resolve and reopen.

Every change is one transaction that writes the incident row, an `incident_events` row and,
for opened / escalated / resolved, the outbox rows, so an alert exists exactly when its change
does. Decisions:
- Severity never goes down automatically while an incident is open: a claim that was critical
  an hour ago is not fine because the last batch was quiet. People resolve.
- A claim that returns within `reopen_window` of its incident's resolution (the same claim
  cluster: detection keeps a claim's identity that long) reopens that incident instead of
  opening a second. A reopened incident starts again from its current risk and pages at the
  severity the returning posts justify, never at its old peak. Each reopen starts a new alert
  cycle, so its alerts get fresh idempotency keys.
- Two claim clusters that turn out to be one claim merge: the younger incident's mentions move
  to the older one, which records a "merged" event; the younger is resolved as merged, with no
  alert (its claim goes on in the older incident).
- The headline follows the claim: each assessment's summary (its most representative post)
  replaces the stored one.
- Only newly attached mentions count as activity for the quiet period; a re-assessment of an
  unchanged cluster does not keep an incident open.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from monitor.alerting.outbox import enqueue_alert, idempotency_key
from monitor.clock import Clock, iso
from monitor.detection.settings import DetectionConfig
from monitor.records import SEVERITIES, Assessment, Incident
from monitor.store import IncidentEvent, Store, Tx

__all__ = ["ACTIVE", "DETECTOR", "STATUSES", "IncidentBook", "IncidentError", "IncidentEvent"]

log = logging.getLogger(__name__)

DETECTOR = "detector"
STATUSES = ("open", "acknowledged", "resolved")
ACTIVE = ("open", "acknowledged")
Router = Callable[[Incident, str], list[str]]
# A rescore with a smaller risk change than this is not worth an event (nor a row update).
_RESCORE_STEP = 0.05
_ACTIVITY = ("opened", "reopened", "grew")


class IncidentError(Exception):
    """A person asked for something the incident cannot do (unknown id, wrong status)."""


def _rank(severity: str | None) -> int:
    return -1 if severity is None else SEVERITIES.index(severity)


class IncidentBook:
    """The incidents table and its rules; the only writer of incidents and their events."""

    def __init__(
        self,
        store: Store,
        router: Router,
        clock: Clock,
        settings: DetectionConfig | None = None,
        *,
        group_wait: float = 30.0,
    ) -> None:
        self.store = store
        self.group_wait = group_wait  # [alerting] group_wait: the "opened" alert waits this long
        self.router = router
        self.clock = clock
        self.settings = settings or DetectionConfig()

    async def apply(self, assessment: Assessment) -> Incident | None:
        """Open, reopen, grow or escalate the incident for an assessment; None if there is none."""
        return await self.store.transaction(self._apply, assessment)

    async def merge(self, survivor: str, absorbed: str, now: datetime) -> Incident | None:
        """Fold the active incident of cluster `absorbed` into that of `survivor` (one claim)."""
        return await self.store.transaction(self._merge, survivor, absorbed, now)

    async def tick(self, now: datetime | None = None) -> list[Incident]:
        """Resolve active incidents with no new mentions for the quiet period; return them."""
        return await self.store.transaction(self._tick, now or self.clock.now())

    async def ack(self, incident_id: int, by: str, note: str | None = None) -> Incident:
        """Acknowledge an open incident on behalf of `by`."""
        return await self.store.transaction(self._ack, incident_id, _person(by), note)

    async def resolve(self, incident_id: int, by: str) -> Incident:
        """Resolve an active incident on behalf of `by`."""
        return await self.store.transaction(self._resolve_by, incident_id, _person(by))

    async def note(self, incident_id: int, text: str, by: str) -> IncidentEvent:
        """Add a note to an incident's timeline."""
        if not text.strip():
            raise IncidentError("the note is empty; give the text to add")
        return await self.store.transaction(self._note, incident_id, text, _person(by))

    async def get(self, incident_id: int) -> Incident | None:
        """One incident by id."""
        return await self.store.read(lambda tx: tx.incidents.get(incident_id))

    async def events(self, incident_id: int) -> list[IncidentEvent]:
        """An incident's timeline, oldest first."""
        return await self.store.read(lambda tx: tx.incidents.events(incident_id))

    async def top_mentions(self, incident_id: int, limit: int = 5) -> list[dict[str, Any]]:
        """The incident's mentions with the widest audience (latest engagement included)."""
        return await self.store.read(lambda tx: tx.incidents.top_mentions(incident_id, limit))

    async def engagement(self, incident_id: int) -> list[dict[str, Any]]:
        """Every engagement snapshot of the incident's mentions, oldest first."""
        return await self.store.read(lambda tx: tx.incidents.engagement(incident_id))

    async def mention_times(self, incident_id: int) -> list[datetime]:
        """When each of the incident's mentions was seen, oldest first."""
        return await self.store.read(lambda tx: tx.incidents.mention_times(incident_id))

    # -- transactions (run on the store thread) ------------------------------------------------

    def _apply(self, tx: Tx, a: Assessment) -> Incident | None:
        now = a.at
        tx.incidents.lock_key(a.key)
        active = tx.incidents.active(a.key, lock=True)
        if active is not None:
            return self._grow(tx, active, a, now)
        if a.severity is None:
            return None
        resolved = tx.incidents.reopenable(
            a.key, now - timedelta(seconds=self.settings.reopen_window)
        )
        if resolved is not None:
            return self._reopen(tx, resolved, a, now)
        return self._open(tx, a, now)

    def _open(self, tx: Tx, a: Assessment, now: datetime) -> Incident:
        assert a.severity is not None
        incident_id = tx.incidents.open(a, now)
        added = tx.incidents.attach(incident_id, a.mention_ids)
        tx.incidents.recount(incident_id, a.author_count, a.platforms)
        tx.incidents.add_event(incident_id, now, "opened", DETECTOR, {
            "severity": a.severity, "risk": round(a.risk, 3), "mentions": added, "key": a.key,
        })
        incident = _require(tx, incident_id)
        self._alert(tx, incident, "opened", now, delay=self.group_wait)
        log.info("opened incident %d (%s, %s) for %s", incident_id, a.severity, a.kind, a.brand)
        return incident

    def _reopen(self, tx: Tx, old: Incident, a: Assessment, now: datetime) -> Incident:
        # The returning posts decide: an old peak is history, not a reason to page again.
        severity = a.severity or "info"
        tx.incidents.reopen(old.id, a, severity, now)
        added = tx.incidents.attach(old.id, a.mention_ids)
        tx.incidents.recount(old.id, a.author_count, a.platforms)
        tx.incidents.add_event(old.id, now, "reopened", DETECTOR, {
            "severity": severity, "risk": round(a.risk, 3), "added": added, "key": a.key,
            "resolved_at": iso(old.resolved_at),
        })
        incident = _require(tx, old.id)
        self._alert(tx, incident, "opened", now, delay=self.group_wait)
        log.info("reopened incident %d (%s) for %s", old.id, severity, a.brand)
        return incident

    def _grow(self, tx: Tx, old: Incident, a: Assessment, now: datetime) -> Incident:
        added = tx.incidents.attach(old.id, a.mention_ids)
        escalate = _rank(a.severity) > _rank(old.severity)
        platforms_changed = not set(a.platforms) <= set(old.platforms)
        # Only rises are news: the incident keeps the risk and reasons of its worst moment, so
        # "why" still explains its severity after the burst has passed.
        rescored = a.risk - old.risk >= _RESCORE_STEP
        projected = a.projection != old.projection  # kept current on the row, no event
        retitled = bool(a.summary) and a.summary != old.summary  # the headline follows the claim
        # The dominant harm of a growing claim can change ("phishing" first, then the leak).
        recategorised = a.category != old.category and a.category != "none"
        if not (added or escalate or platforms_changed or rescored or projected or retitled
                or recategorised):
            return old
        severity = a.severity if escalate and a.severity else old.severity
        risk, factors = (a.risk, a.factors) if a.risk >= old.risk else (old.risk, old.factors)
        tx.incidents.update(
            old.id, severity=severity, risk=risk, factors=factors, now=now,
            projection=a.projection, summary=a.summary or old.summary,
            category=a.category if recategorised else old.category,
        )
        tx.incidents.recount(old.id, a.author_count, a.platforms)
        if added or platforms_changed:
            tx.incidents.add_event(old.id, now, "grew", DETECTOR, {
                "added": added, "risk": round(a.risk, 3),
                "platforms": sorted(set(a.platforms) | set(old.platforms)),
            })
        if escalate:
            tx.incidents.add_event(old.id, now, "escalated", DETECTOR, {
                "from": old.severity, "to": severity, "risk": round(a.risk, 3),
            })
        if rescored and not (added or platforms_changed or escalate):
            tx.incidents.add_event(old.id, now, "rescored", DETECTOR, {
                "from": round(old.risk, 3), "to": round(a.risk, 3), "projection": a.projection,
            })
        incident = _require(tx, old.id)
        if escalate:
            self._alert(tx, incident, "escalated", now)
            log.info("escalated incident %d %s -> %s", old.id, old.severity, severity)
        return incident

    def _merge(self, tx: Tx, survivor: str, absorbed: str, now: datetime) -> Incident | None:
        for key in sorted((survivor, absorbed)):  # one order everywhere: no deadlock
            tx.incidents.lock_key(key)
        gone = tx.incidents.active(absorbed, lock=True)
        if gone is None:
            return None
        keep = tx.incidents.active(survivor, lock=True)
        if keep is None:
            # Only the absorbed cluster had an incident: it now follows the surviving cluster.
            tx.incidents.follow(gone.id, survivor, now)
            tx.incidents.add_event(
                gone.id, now, "merged", DETECTOR, {"key": survivor, "from": absorbed}
            )
            return _require(tx, gone.id)
        added = tx.incidents.attach(keep.id, tx.incidents.mention_ids(gone.id))
        severity = max(keep.severity, gone.severity, key=_rank)
        tx.incidents.absorbed(keep.id, severity, now)
        tx.incidents.add_event(keep.id, now, "merged", DETECTOR, {
            "incident": gone.id, "added": added, "severity": severity,
        })
        tx.incidents.resolve(gone.id, now)
        tx.incidents.add_event(gone.id, now, "merged", DETECTOR, {"into": keep.id})
        # Its alerts still waiting out the group wait would announce a claim that is now #keep.
        tx.outbox.merge_pending(gone.id, f"incident merged into #{keep.id} before sending")
        tx.incidents.add_event(
            gone.id, now, "resolved", DETECTOR, {"reason": f"merged into #{keep.id}"}
        )
        log.info("merged incident %d into %d (one claim)", gone.id, keep.id)
        return _require(tx, keep.id)

    def _tick(self, tx: Tx, now: datetime) -> list[Incident]:
        quiet = timedelta(seconds=self.settings.quiet_period)
        resolved: list[Incident] = []
        for incident_id, last_at in tx.incidents.last_activity(_ACTIVITY):
            if now - last_at < quiet:
                continue
            current = tx.incidents.get(incident_id, lock=True)
            if current is None or current.status == "resolved":
                continue  # resolved by hand meanwhile
            incident = self._close(tx, incident_id, now, DETECTOR, {
                "reason": "quiet", "last_activity": iso(last_at),
                "quiet_minutes": round((now - last_at).total_seconds() / 60),
            })
            resolved.append(incident)
        return resolved

    def _close(
        self, tx: Tx, incident_id: int, now: datetime, actor: str, detail: dict[str, Any]
    ) -> Incident:
        tx.incidents.resolve(incident_id, now)
        tx.incidents.add_event(incident_id, now, "resolved", actor, detail)
        incident = _require(tx, incident_id)
        self._alert(tx, incident, "resolved", now)
        log.info("resolved incident %d (%s)", incident_id, actor)
        return incident

    def _ack(self, tx: Tx, incident_id: int, by: str, note: str | None) -> Incident:
        incident = _existing(tx, incident_id)
        if incident.status != "open":
            who = f" by {incident.acknowledged_by}" if incident.acknowledged_by else ""
            raise IncidentError(
                f"incident {incident_id} is already {incident.status}{who}; nothing to acknowledge"
            )
        now = self.clock.now()
        tx.incidents.acknowledge(incident_id, by, now)
        tx.incidents.add_event(incident_id, now, "acknowledged", by, {"note": note} if note else {})
        return _require(tx, incident_id)

    def _resolve_by(self, tx: Tx, incident_id: int, by: str) -> Incident:
        incident = _existing(tx, incident_id)
        if incident.status == "resolved":
            raise IncidentError(f"incident {incident_id} is already resolved")
        return self._close(tx, incident_id, self.clock.now(), by, {"reason": "manual"})

    def _note(self, tx: Tx, incident_id: int, text: str, by: str) -> IncidentEvent:
        _existing(tx, incident_id)
        now = self.clock.now()
        tx.incidents.touch(incident_id, now)
        event_id = tx.incidents.add_event(incident_id, now, "note", by, {"text": text})
        return IncidentEvent(event_id, incident_id, now, "note", by, {"text": text})

    def _alert(
        self, tx: Tx, incident: Incident, reason: str, now: datetime, delay: float = 0.0
    ) -> list[int]:
        channels = self.router(incident, reason)
        if not channels:
            return []
        cycle = tx.incidents.event_count(incident.id, "reopened")
        if cycle == 0:
            return enqueue_alert(
                tx, incident_id=incident.id, reason=reason, severity=incident.severity,
                channels=channels, now=now, delay=delay,
            )
        # After a reopen the same reason and severity are a new change: give them a new key.
        key = f"{idempotency_key(incident.id, reason, incident.severity)}:c{cycle}"
        return tx.outbox.insert(
            incident_id=incident.id, key=key, reason=reason, severity=incident.severity,
            channels=channels, now=now, not_before=now + timedelta(seconds=delay),
        )

    async def list(
        self,
        *,
        status: str | None = None,
        brand: str | None = None,
        min_severity: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> list[Incident]:
        """Incidents, newest first, filtered by status, brand, lowest severity and opening time."""
        if status is not None and status not in STATUSES:
            raise IncidentError(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
        if min_severity is not None and min_severity not in SEVERITIES:
            raise IncidentError(
                f"unknown severity {min_severity!r}; use one of {', '.join(SEVERITIES)}"
            )
        severities = SEVERITIES[SEVERITIES.index(min_severity):] if min_severity else None
        return await self.store.read(lambda tx: tx.incidents.find(
            status=status, brand=brand, severities=severities, since=since, limit=limit,
        ))


def _person(by: str) -> str:
    name = by.strip()
    if not name:
        raise IncidentError("say who is doing this (--by NAME)")
    if name == DETECTOR:
        raise IncidentError(f"{DETECTOR!r} is reserved for the daemon; use your own name")
    return name


def _require(tx: Tx, incident_id: int) -> Incident:
    incident = tx.incidents.get(incident_id)
    assert incident is not None, "read back inside the same transaction"
    return incident


def _existing(tx: Tx, incident_id: int) -> Incident:
    incident = tx.incidents.get(incident_id, lock=True)
    if incident is None:
        raise IncidentError(
            f"there is no incident {incident_id}; `brand-monitor incidents list` shows the ids"
        )
    return incident
