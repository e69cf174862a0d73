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

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from monitor.alerting.outbox import enqueue_alert, idempotency_key, insert_alert_rows
from monitor.clock import Clock, from_iso, iso
from monitor.detection.settings import DetectionConfig
from monitor.records import SEVERITIES, Assessment, Incident, RiskFactor
from monitor.store import Store

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


@dataclass(frozen=True, slots=True)
class IncidentEvent:
    """One line of an incident's timeline."""

    id: int
    incident_id: int
    at: datetime
    kind: str  # opened / grew / escalated / rescored / acknowledged / note / resolved / reopened
    actor: str  # "detector" or a person
    detail: dict[str, Any]


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
        return await self.store.read(load_incident, incident_id)

    async def events(self, incident_id: int) -> list[IncidentEvent]:
        """An incident's timeline, oldest first."""
        return await self.store.read(_events, incident_id)

    async def top_mentions(self, incident_id: int, limit: int = 5) -> list[dict[str, Any]]:
        """The incident's mentions with the widest audience (latest engagement included)."""
        return await self.store.read(_top_mentions, incident_id, limit)

    async def engagement(self, incident_id: int) -> list[dict[str, Any]]:
        """Every engagement snapshot of the incident's mentions, oldest first."""
        return await self.store.read(_engagement, incident_id)

    async def mention_times(self, incident_id: int) -> list[datetime]:
        """When each of the incident's mentions was seen, oldest first."""
        return await self.store.read(_mention_times, incident_id)

    # -- transactions (run on the store thread) ------------------------------------------------

    def _apply(self, db: Database, a: Assessment) -> Incident | None:
        now = a.at
        row = _active_row(db, a.key)
        if row is not None:
            return self._grow(db, incident_from_row(row), a, now)
        if a.severity is None:
            return None
        cutoff = iso(now - timedelta(seconds=self.settings.reopen_window))
        row = _one(
            db,
            "SELECT * FROM incidents WHERE status = 'resolved' AND resolved_at >= ? "
            "AND cluster_key = ? AND NOT EXISTS (SELECT 1 FROM incident_events e "
            "WHERE e.incident_id = incidents.id AND e.kind = 'merged' "
            "AND json_extract(e.detail, '$.into') IS NOT NULL) "
            "ORDER BY resolved_at DESC LIMIT 1",
            [cutoff, a.key],
        )
        if row is not None:
            return self._reopen(db, incident_from_row(row), a, now)
        return self._open(db, a, now)

    def _open(self, db: Database, a: Assessment, now: datetime) -> Incident:
        assert a.severity is not None
        cur = db.execute(
            "INSERT INTO incidents (brand, kind, category, severity, status, summary, cluster_key, "
            "risk, factors, opened_at, updated_at, author_count, platforms, projection) "
            "VALUES (?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [a.brand, a.kind, a.category, a.severity, a.summary, a.key, a.risk,
             _factors_json(a.factors), iso(now), iso(now), a.author_count,
             json.dumps(sorted(a.platforms)), a.projection],
        )
        incident_id = int(cur.lastrowid or 0)
        added = _attach(db, incident_id, a.mention_ids)
        _update_counts(db, incident_id, a)
        _write_event(db, incident_id, now, "opened", DETECTOR, {
            "severity": a.severity, "risk": round(a.risk, 3), "mentions": added, "key": a.key,
        })
        incident = _require(db, incident_id)
        self._alert(db, incident, "opened", now, delay=self.group_wait)
        log.info("opened incident %d (%s, %s) for %s", incident_id, a.severity, a.kind, a.brand)
        return incident

    def _reopen(self, db: Database, old: Incident, a: Assessment, now: datetime) -> Incident:
        # The returning posts decide: an old peak is history, not a reason to page again.
        severity = a.severity or "info"
        db.execute(
            "UPDATE incidents SET status = 'open', resolved_at = NULL, acknowledged_by = NULL, "
            "severity = ?, cluster_key = ?, risk = ?, factors = ?, updated_at = ?, projection = ?, "
            "summary = ? WHERE id = ?",
            [severity, a.key, a.risk, _factors_json(a.factors), iso(now), a.projection,
             a.summary, old.id],
        )
        added = _attach(db, old.id, a.mention_ids)
        _update_counts(db, old.id, a)
        _write_event(db, old.id, now, "reopened", DETECTOR, {
            "severity": severity, "risk": round(a.risk, 3), "added": added, "key": a.key,
            "resolved_at": iso(old.resolved_at),
        })
        incident = _require(db, old.id)
        self._alert(db, incident, "opened", now, delay=self.group_wait)
        log.info("reopened incident %d (%s) for %s", old.id, severity, a.brand)
        return incident

    def _grow(self, db: Database, old: Incident, a: Assessment, now: datetime) -> Incident:
        added = _attach(db, old.id, a.mention_ids)
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
        db.execute(
            "UPDATE incidents SET severity = ?, risk = ?, factors = ?, updated_at = ?, "
            "projection = ?, summary = ?, category = ? WHERE id = ?",
            [severity, risk, _factors_json(factors), iso(now), a.projection,
             a.summary or old.summary, a.category if recategorised else old.category, old.id],
        )
        _update_counts(db, old.id, a)
        if added or platforms_changed:
            _write_event(db, old.id, now, "grew", DETECTOR, {
                "added": added, "risk": round(a.risk, 3),
                "platforms": sorted(set(a.platforms) | set(old.platforms)),
            })
        if escalate:
            _write_event(db, old.id, now, "escalated", DETECTOR, {
                "from": old.severity, "to": severity, "risk": round(a.risk, 3),
            })
        if rescored and not (added or platforms_changed or escalate):
            _write_event(db, old.id, now, "rescored", DETECTOR, {
                "from": round(old.risk, 3), "to": round(a.risk, 3), "projection": a.projection,
            })
        incident = _require(db, old.id)
        if escalate:
            self._alert(db, incident, "escalated", now)
            log.info("escalated incident %d %s -> %s", old.id, old.severity, severity)
        return incident

    def _merge(
        self, db: Database, survivor: str, absorbed: str, now: datetime
    ) -> Incident | None:
        gone_row = _active_row(db, absorbed)
        if gone_row is None:
            return None
        gone = incident_from_row(gone_row)
        keep_row = _active_row(db, survivor)
        if keep_row is None:
            # Only the absorbed cluster had an incident: it now follows the surviving cluster.
            db.execute("UPDATE incidents SET cluster_key = ?, updated_at = ? WHERE id = ?",
                       [survivor, iso(now), gone.id])
            _write_event(db, gone.id, now, "merged", DETECTOR, {"key": survivor, "from": absorbed})
            return _require(db, gone.id)
        keep = incident_from_row(keep_row)
        ids = [r[0] for r in db.execute(
            "SELECT mention_id FROM incident_mentions WHERE incident_id = ?", [gone.id]
        ).fetchall()]
        added = _attach(db, keep.id, ids)
        severity = max(keep.severity, gone.severity, key=_rank)
        db.execute(
            "UPDATE incidents SET severity = ?, updated_at = ?, mention_count = "
            "(SELECT count(*) FROM incident_mentions WHERE incident_id = ?) WHERE id = ?",
            [severity, iso(now), keep.id, keep.id],
        )
        _write_event(db, keep.id, now, "merged", DETECTOR, {
            "incident": gone.id, "added": added, "severity": severity,
        })
        db.execute(
            "UPDATE incidents SET status = 'resolved', resolved_at = ?, updated_at = ? "
            "WHERE id = ?",
            [iso(now), iso(now), gone.id],
        )
        _write_event(db, gone.id, now, "merged", DETECTOR, {"into": keep.id})
        # Its alerts still waiting out the group wait would announce a claim that is now #keep.
        db.execute(
            "UPDATE alerts SET status = 'merged', last_error = ? "
            "WHERE incident_id = ? AND status = 'pending'",
            [f"incident merged into #{keep.id} before sending", gone.id],
        )
        _write_event(db, gone.id, now, "resolved", DETECTOR, {"reason": f"merged into #{keep.id}"})
        log.info("merged incident %d into %d (one claim)", gone.id, keep.id)
        return _require(db, keep.id)

    def _tick(self, db: Database, now: datetime) -> list[Incident]:
        quiet = timedelta(seconds=self.settings.quiet_period)
        marks = ", ".join("?" for _ in _ACTIVITY)
        rows = db.execute(
            "SELECT i.id, max(e.at) FROM incidents i "
            "JOIN incident_events e ON e.incident_id = i.id "
            f"WHERE i.status IN ('open', 'acknowledged') AND e.kind IN ({marks}) GROUP BY i.id "
            "ORDER BY i.id",
            list(_ACTIVITY),
        ).fetchall()
        resolved: list[Incident] = []
        for incident_id, last in rows:
            last_at = from_iso(last)
            assert last_at is not None
            if now - last_at < quiet:
                continue
            incident = self._close(db, incident_id, now, DETECTOR, {
                "reason": "quiet", "last_activity": last,
                "quiet_minutes": round((now - last_at).total_seconds() / 60),
            })
            resolved.append(incident)
        return resolved

    def _close(
        self, db: Database, incident_id: int, now: datetime, actor: str, detail: dict[str, Any]
    ) -> Incident:
        db.execute(
            "UPDATE incidents SET status = 'resolved', resolved_at = ?, updated_at = ? "
            "WHERE id = ?",
            [iso(now), iso(now), incident_id],
        )
        _write_event(db, incident_id, now, "resolved", actor, detail)
        incident = _require(db, incident_id)
        self._alert(db, incident, "resolved", now)
        log.info("resolved incident %d (%s)", incident_id, actor)
        return incident

    def _ack(self, db: Database, incident_id: int, by: str, note: str | None) -> Incident:
        incident = _existing(db, incident_id)
        if incident.status != "open":
            who = f" by {incident.acknowledged_by}" if incident.acknowledged_by else ""
            raise IncidentError(
                f"incident {incident_id} is already {incident.status}{who}; nothing to acknowledge"
            )
        now = self.clock.now()
        db.execute(
            "UPDATE incidents SET status = 'acknowledged', acknowledged_by = ?, updated_at = ? "
            "WHERE id = ?",
            [by, iso(now), incident_id],
        )
        _write_event(db, incident_id, now, "acknowledged", by, {"note": note} if note else {})
        return _require(db, incident_id)

    def _resolve_by(self, db: Database, incident_id: int, by: str) -> Incident:
        incident = _existing(db, incident_id)
        if incident.status == "resolved":
            raise IncidentError(f"incident {incident_id} is already resolved")
        return self._close(db, incident_id, self.clock.now(), by, {"reason": "manual"})

    def _note(self, db: Database, incident_id: int, text: str, by: str) -> IncidentEvent:
        _existing(db, incident_id)
        now = self.clock.now()
        db.execute("UPDATE incidents SET updated_at = ? WHERE id = ?", [iso(now), incident_id])
        event_id = _write_event(db, incident_id, now, "note", by, {"text": text})
        return IncidentEvent(event_id, incident_id, now, "note", by, {"text": text})

    def _alert(
        self, db: Database, incident: Incident, reason: str, now: datetime, delay: float = 0.0
    ) -> list[int]:
        channels = self.router(incident, reason)
        if not channels:
            return []
        cycle = db.execute(
            "SELECT count(*) FROM incident_events WHERE incident_id = ? AND kind = 'reopened'",
            [incident.id],
        ).fetchone()[0]
        if cycle == 0:
            return enqueue_alert(
                db, incident_id=incident.id, reason=reason, severity=incident.severity,
                channels=channels, now=now, delay=delay,
            )
        # After a reopen the same reason and severity are a new change: give them a new key.
        key = f"{idempotency_key(incident.id, reason, incident.severity)}:c{cycle}"
        return insert_alert_rows(
            db, incident_id=incident.id, key=key, reason=reason, severity=incident.severity,
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
        return await self.store.read(_list, status, brand, min_severity, since, limit)


def _person(by: str) -> str:
    name = by.strip()
    if not name:
        raise IncidentError("say who is doing this (--by NAME)")
    if name == DETECTOR:
        raise IncidentError(f"{DETECTOR!r} is reserved for the daemon; use your own name")
    return name


def _one(db: Database, sql: str, args: Sequence[Any]) -> dict[str, Any] | None:
    rows = list(db.query(sql, list(args)))
    return rows[0] if rows else None


def _active_row(db: Database, key: str) -> dict[str, Any] | None:
    """The open or acknowledged incident that follows a cluster key, if any."""
    return _one(
        db,
        "SELECT * FROM incidents WHERE cluster_key = ? AND status IN ('open', 'acknowledged') "
        "ORDER BY id DESC LIMIT 1",
        [key],
    )


def load_incident(db: Database, incident_id: int) -> Incident | None:
    """One incident by id (inside a store transaction or read)."""
    row = _one(db, "SELECT * FROM incidents WHERE id = ?", [incident_id])
    return incident_from_row(row) if row else None


def _require(db: Database, incident_id: int) -> Incident:
    incident = load_incident(db, incident_id)
    assert incident is not None, "read back inside the same transaction"
    return incident


def _existing(db: Database, incident_id: int) -> Incident:
    incident = load_incident(db, incident_id)
    if incident is None:
        raise IncidentError(
            f"there is no incident {incident_id}; `brand-monitor incidents list` shows the ids"
        )
    return incident


def _attach(db: Database, incident_id: int, mention_ids: Sequence[int]) -> int:
    """Link stored mentions to the incident; returns how many were new (unknown ids skipped)."""
    added = 0
    ids = sorted(set(mention_ids))
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        cur = db.execute(
            "INSERT OR IGNORE INTO incident_mentions (incident_id, mention_id) "
            f"SELECT ?, id FROM mentions WHERE id IN ({marks})",
            [incident_id, *chunk],
        )
        added += max(cur.rowcount, 0)
    return added


def _update_counts(db: Database, incident_id: int, a: Assessment) -> None:
    row = db.execute(
        "SELECT author_count, platforms FROM incidents WHERE id = ?", [incident_id]
    ).fetchone()
    platforms = sorted(set(json.loads(row[1] or "[]")) | set(a.platforms))
    # Distinct authors over every attached mention: a reopened claim's second wave adds to the
    # first instead of replacing it (anonymous posts count once per platform, as in clusters).
    attached = db.execute(
        "SELECT count(DISTINCT coalesce(m.author, '(anonymous on ' || m.platform || ')')) "
        "FROM incident_mentions i JOIN mentions m ON m.id = i.mention_id "
        "WHERE i.incident_id = ?",
        [incident_id],
    ).fetchone()[0]
    db.execute(
        "UPDATE incidents SET mention_count = (SELECT count(*) FROM incident_mentions "
        "WHERE incident_id = ?), author_count = ?, platforms = ? WHERE id = ?",
        [incident_id, max(int(row[0]), a.author_count, int(attached)), json.dumps(platforms),
         incident_id],
    )


def _write_event(
    db: Database, incident_id: int, at: datetime, kind: str, actor: str, detail: dict[str, Any]
) -> int:
    cur = db.execute(
        "INSERT INTO incident_events (incident_id, at, kind, actor, detail) VALUES (?, ?, ?, ?, ?)",
        [incident_id, iso(at), kind, actor, json.dumps(detail, ensure_ascii=False)],
    )
    return int(cur.lastrowid or 0)


def _factors_json(factors: Sequence[RiskFactor]) -> str:
    return json.dumps(
        [{"name": f.name, "value": round(f.value, 4), "detail": f.detail} for f in factors],
        ensure_ascii=False,
    )


def incident_from_row(row: Mapping[str, Any]) -> Incident:
    """An Incident from an `incidents` row (factors and platforms are stored as JSON)."""
    return Incident(
        id=row["id"],
        brand=row["brand"],
        kind=row["kind"],
        severity=row["severity"],
        status=row["status"],
        summary=row["summary"],
        category=row["category"],
        risk=row["risk"],
        factors=[
            RiskFactor(f["name"], float(f["value"]), f["detail"])
            for f in json.loads(row["factors"] or "[]")
        ],
        opened_at=from_iso(row["opened_at"]),
        updated_at=from_iso(row["updated_at"]),
        resolved_at=from_iso(row["resolved_at"]),
        mention_count=row["mention_count"],
        author_count=row["author_count"],
        platforms=json.loads(row["platforms"] or "[]"),
        acknowledged_by=row["acknowledged_by"],
        projection=row["projection"],
        cluster_key=row["cluster_key"],
    )


def _events(db: Database, incident_id: int) -> list[IncidentEvent]:
    return [
        IncidentEvent(
            id=r["id"], incident_id=r["incident_id"], at=from_iso(r["at"]),  # type: ignore[arg-type]
            kind=r["kind"], actor=r["actor"], detail=json.loads(r["detail"] or "{}"),
        )
        for r in db.query(
            "SELECT * FROM incident_events WHERE incident_id = ? ORDER BY at, id", [incident_id]
        )
    ]


def _list(
    db: Database,
    status: str | None,
    brand: str | None,
    min_severity: str | None,
    since: datetime | None,
    limit: int,
) -> list[Incident]:
    where: list[str] = []
    args: list[Any] = []
    if status:
        where.append("status = ?")
        args.append(status)
    if brand:
        where.append("brand = ?")
        args.append(brand)
    if min_severity:
        allowed = SEVERITIES[SEVERITIES.index(min_severity):]
        where.append(f"severity IN ({', '.join('?' for _ in allowed)})")
        args += allowed
    if since:
        where.append("(opened_at >= ? OR updated_at >= ?)")
        args += [iso(since), iso(since)]
    sql = "SELECT * FROM incidents" + (" WHERE " + " AND ".join(where) if where else "")
    sql += " ORDER BY opened_at DESC, id DESC LIMIT ?"
    return [incident_from_row(r) for r in db.query(sql, [*args, limit])]


def _top_mentions(db: Database, incident_id: int, limit: int) -> list[dict[str, Any]]:
    return list(
        db.query(
            "SELECT m.id, m.platform, m.author, m.author_reach, m.url, m.text, m.seen_at, "
            "coalesce(e.likes, 0) + coalesce(e.shares, 0) + coalesce(e.comments, 0) AS engagement "
            "FROM incident_mentions im JOIN mentions m ON m.id = im.mention_id "
            "LEFT JOIN engagement e ON e.id = (SELECT id FROM engagement WHERE mention_id = m.id "
            "ORDER BY observed_at DESC, id DESC LIMIT 1) "
            "WHERE im.incident_id = ? "
            "ORDER BY coalesce(m.author_reach, 0) + engagement DESC, m.seen_at, m.id LIMIT ?",
            [incident_id, limit],
        )
    )


def _engagement(db: Database, incident_id: int) -> list[dict[str, Any]]:
    return list(
        db.query(
            "SELECT e.mention_id, e.observed_at, e.likes, e.shares, e.comments, e.views "
            "FROM engagement e JOIN incident_mentions im ON im.mention_id = e.mention_id "
            "WHERE im.incident_id = ? ORDER BY e.observed_at, e.id",
            [incident_id],
        )
    )


def _mention_times(db: Database, incident_id: int) -> list[datetime]:
    rows = db.execute(
        "SELECT m.seen_at FROM incident_mentions im JOIN mentions m ON m.id = im.mention_id "
        "WHERE im.incident_id = ? ORDER BY m.seen_at",
        [incident_id],
    ).fetchall()
    return [t for (text,) in rows if (t := from_iso(text)) is not None]
