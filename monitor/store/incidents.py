"""What the store keeps about incidents: the incident rows, their mentions and their timeline."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.clock import from_iso, iso
from monitor.records import Assessment, Engagement, Incident, Mention, RiskFactor
from monitor.store.rows import chunks, marks
from monitor.store.sql import Db, json_text


@dataclass(frozen=True, slots=True)
class IncidentEvent:
    """One line of an incident's timeline."""

    id: int
    incident_id: int
    at: datetime
    kind: str  # opened / grew / escalated / rescored / acknowledged / note / resolved / reopened
    actor: str  # "detector" or a person
    detail: dict[str, Any]


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


def _factors_json(factors: Sequence[RiskFactor]) -> str:
    return json.dumps(
        [{"name": f.name, "value": round(f.value, 4), "detail": f.detail} for f in factors],
        ensure_ascii=False,
    )


class IncidentRows:
    """The `incidents`, `incident_mentions` and `incident_events` tables."""

    def __init__(self, db: Db) -> None:
        self._db = db

    def _one(self, sql: str, args: Sequence[Any], lock: bool = False) -> Incident | None:
        if lock and self._db.dialect == "postgresql":
            # The row stays locked until the transaction ends: another daemon's change to this
            # incident waits for this one and then reads its result.
            sql += " FOR UPDATE"
        rows = list(self._db.query(sql, list(args)))
        return incident_from_row(rows[0]) if rows else None

    def lock_key(self, key: str) -> None:
        """Hold the cluster key until the transaction ends, so that two daemons never open two
        incidents for one claim (PostgreSQL; a SQLite write transaction is alone already)."""
        if self._db.dialect == "postgresql":
            self._db.execute("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", [key])

    # -- reading incidents ------------------------------------------------------------------

    def get(self, incident_id: int, *, lock: bool = False) -> Incident | None:
        """One incident by id; `lock` holds its row until the transaction ends."""
        return self._one("SELECT * FROM incidents WHERE id = ?", [incident_id], lock)

    def by_ids(self, incident_ids: Sequence[int]) -> list[Incident]:
        """The incidents with these ids that still exist, by id."""
        found: list[Incident] = []
        for chunk in chunks(incident_ids):
            rows = self._db.query(
                f"SELECT * FROM incidents WHERE id IN ({marks(chunk)}) ORDER BY id", chunk
            )
            found.extend(incident_from_row(r) for r in rows)
        return found

    def active(self, key: str, *, lock: bool = False) -> Incident | None:
        """The open or acknowledged incident that follows a cluster key, if any; `lock` holds
        its row until the transaction ends."""
        return self._one(
            "SELECT * FROM incidents WHERE cluster_key = ? AND status IN ('open', 'acknowledged') "
            "ORDER BY id DESC LIMIT 1",
            [key], lock,
        )

    def reopenable(self, key: str, resolved_since: datetime) -> Incident | None:
        """The newest incident of a cluster key resolved since a time, other than by being
        merged into another incident."""
        return self._one(
            "SELECT * FROM incidents WHERE status = 'resolved' AND resolved_at >= ? "
            "AND cluster_key = ? AND NOT EXISTS (SELECT 1 FROM incident_events e "
            "WHERE e.incident_id = incidents.id AND e.kind = 'merged' "
            f"AND {json_text(self._db, 'e.detail', 'into')} IS NOT NULL) "
            "ORDER BY resolved_at DESC LIMIT 1",
            [iso(resolved_since), key],
        )

    def find(
        self,
        *,
        status: str | None,
        brand: str | None,
        severities: Sequence[str] | None,
        since: datetime | None,
        limit: int,
    ) -> list[Incident]:
        """Incidents, newest first, filtered by status, brand, severity and opening time."""
        where: list[str] = []
        args: list[Any] = []
        if status:
            where.append("status = ?")
            args.append(status)
        if brand:
            where.append("brand = ?")
            args.append(brand)
        if severities:
            where.append(f"severity IN ({marks(severities)})")
            args += list(severities)
        if since:
            where.append("(opened_at >= ? OR updated_at >= ?)")
            args += [iso(since), iso(since)]
        sql = "SELECT * FROM incidents" + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY opened_at DESC, id DESC LIMIT ?"
        return [incident_from_row(r) for r in self._db.query(sql, [*args, limit])]

    def open_unacknowledged(self) -> list[Incident]:
        """Open incidents nobody has acknowledged."""
        rows = self._db.query(
            "SELECT * FROM incidents WHERE status = 'open' AND acknowledged_by IS NULL"
        )
        return [incident_from_row(r) for r in rows]

    def active_keys(self) -> set[str]:
        """Cluster keys of open or acknowledged incidents."""
        rows = self._db.execute(
            "SELECT cluster_key FROM incidents WHERE status IN ('open', 'acknowledged') "
            "AND cluster_key IS NOT NULL"
        ).fetchall()
        return {r[0] for r in rows}

    def claim_members(self, resolved_since: datetime) -> dict[tuple[int, str], str]:
        """(mention id, brand) -> cluster key, for claim incidents active or resolved since."""
        rows = self._db.execute(
            "SELECT im.mention_id, i.brand, i.cluster_key FROM incidents i "
            "JOIN incident_mentions im ON im.incident_id = i.id "
            "WHERE i.cluster_key LIKE 'claim:%' "
            "AND (i.status IN ('open', 'acknowledged') OR i.resolved_at >= ?) "
            "ORDER BY i.id",
            [iso(resolved_since)],
        ).fetchall()
        return {(r[0], r[1]): r[2] for r in rows}

    def last_activity(self, kinds: Sequence[str]) -> list[tuple[int, datetime]]:
        """(id, time of its latest event of these kinds) of every active incident, by id."""
        rows = self._db.execute(
            "SELECT i.id, max(e.at) FROM incidents i "
            "JOIN incident_events e ON e.incident_id = i.id "
            f"WHERE i.status IN ('open', 'acknowledged') AND e.kind IN ({marks(kinds)}) "
            "GROUP BY i.id ORDER BY i.id",
            list(kinds),
        ).fetchall()
        return [(int(r[0]), at) for r in rows if (at := from_iso(r[1])) is not None]

    def changed_between(self, since: datetime, until: datetime) -> list[tuple[int, datetime]]:
        """(incident id, event time) of every event in [since, until), without repeats."""
        rows = self._db.execute(
            "SELECT DISTINCT incident_id, at FROM incident_events WHERE at >= ? AND at < ?",
            [iso(since), iso(until)],
        ).fetchall()
        return [(int(r[0]), at) for r in rows if (at := from_iso(r[1])) is not None]

    def count_active_by_severity(self) -> dict[str, int]:
        """Open or acknowledged incidents per severity."""
        rows = self._db.execute(
            "SELECT severity, count(*) FROM incidents WHERE status IN ('open', 'acknowledged') "
            "GROUP BY severity"
        ).fetchall()
        return {str(severity): int(n) for severity, n in rows}

    # -- writing incidents ------------------------------------------------------------------

    def open(self, a: Assessment, now: datetime) -> int:
        """Insert an open incident for an assessment (which has a severity); returns its id."""
        cur = self._db.execute(
            "INSERT INTO incidents (brand, kind, category, severity, status, summary, "
            "cluster_key, risk, factors, opened_at, updated_at, author_count, platforms, "
            "projection) VALUES (?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            [a.brand, a.kind, a.category, a.severity, a.summary, a.key, a.risk,
             _factors_json(a.factors), iso(now), iso(now), a.author_count,
             json.dumps(sorted(a.platforms)), a.projection],
        )
        return int(cur.fetchone()[0])

    def reopen(self, incident_id: int, a: Assessment, severity: str, now: datetime) -> None:
        """Open a resolved incident again with the assessment's risk, reasons and headline."""
        self._db.execute(
            "UPDATE incidents SET status = 'open', resolved_at = NULL, acknowledged_by = NULL, "
            "severity = ?, cluster_key = ?, risk = ?, factors = ?, updated_at = ?, "
            "projection = ?, summary = ? WHERE id = ?",
            [severity, a.key, a.risk, _factors_json(a.factors), iso(now), a.projection,
             a.summary, incident_id],
        )

    def update(
        self,
        incident_id: int,
        *,
        severity: str,
        risk: float,
        factors: Sequence[RiskFactor],
        now: datetime,
        projection: str | None,
        summary: str,
        category: str,
    ) -> None:
        """Write a grown incident's severity, risk, reasons, projection, headline and category."""
        self._db.execute(
            "UPDATE incidents SET severity = ?, risk = ?, factors = ?, updated_at = ?, "
            "projection = ?, summary = ?, category = ? WHERE id = ?",
            [severity, risk, _factors_json(factors), iso(now), projection, summary, category,
             incident_id],
        )

    def follow(self, incident_id: int, key: str, now: datetime) -> None:
        """The incident now follows another cluster key."""
        self._db.execute(
            "UPDATE incidents SET cluster_key = ?, updated_at = ? WHERE id = ?",
            [key, iso(now), incident_id],
        )

    def absorbed(self, incident_id: int, severity: str, now: datetime) -> None:
        """After mentions moved in from a merged incident: new severity, recounted mentions."""
        self._db.execute(
            "UPDATE incidents SET severity = ?, updated_at = ?, mention_count = "
            "(SELECT count(*) FROM incident_mentions WHERE incident_id = ?) WHERE id = ?",
            [severity, iso(now), incident_id, incident_id],
        )

    def resolve(self, incident_id: int, now: datetime) -> None:
        """Mark an incident resolved now."""
        self._db.execute(
            "UPDATE incidents SET status = 'resolved', resolved_at = ?, updated_at = ? "
            "WHERE id = ?",
            [iso(now), iso(now), incident_id],
        )

    def acknowledge(self, incident_id: int, by: str, now: datetime) -> None:
        """Mark an incident acknowledged by a person."""
        self._db.execute(
            "UPDATE incidents SET status = 'acknowledged', acknowledged_by = ?, updated_at = ? "
            "WHERE id = ?",
            [by, iso(now), incident_id],
        )

    def touch(self, incident_id: int, now: datetime) -> None:
        """Record that the incident changed now."""
        self._db.execute(
            "UPDATE incidents SET updated_at = ? WHERE id = ?", [iso(now), incident_id]
        )

    # -- mentions of an incident ------------------------------------------------------------

    def attach(self, incident_id: int, mention_ids: Sequence[int]) -> int:
        """Link stored mentions to the incident; returns how many were new (unknown ids
        skipped)."""
        added = 0
        for chunk in chunks(mention_ids):
            cur = self._db.execute(
                "INSERT INTO incident_mentions (incident_id, mention_id) "
                f"SELECT ?, id FROM mentions WHERE id IN ({marks(chunk)}) "
                "ON CONFLICT DO NOTHING",
                [incident_id, *chunk],
            )
            added += max(cur.rowcount, 0)
        return added

    def recount(self, incident_id: int, authors: int, platforms: Sequence[str]) -> None:
        """Recount the incident's mentions; keep at least `authors` authors and add platforms.

        Distinct authors are counted over every attached mention, so a reopened claim's second
        wave adds to the first instead of replacing it (anonymous posts count once per
        platform, as in clusters).
        """
        row = self._db.execute(
            "SELECT author_count, platforms FROM incidents WHERE id = ?", [incident_id]
        ).fetchone()
        merged = sorted(set(json.loads(row[1] or "[]")) | set(platforms))
        attached = self._db.execute(
            "SELECT count(DISTINCT coalesce(m.author, '(anonymous on ' || m.platform || ')')) "
            "FROM incident_mentions i JOIN mentions m ON m.id = i.mention_id "
            "WHERE i.incident_id = ?",
            [incident_id],
        ).fetchone()[0]
        self._db.execute(
            "UPDATE incidents SET mention_count = (SELECT count(*) FROM incident_mentions "
            "WHERE incident_id = ?), author_count = ?, platforms = ? WHERE id = ?",
            [incident_id, max(int(row[0]), authors, int(attached)), json.dumps(merged),
             incident_id],
        )

    def mention_ids(self, incident_id: int) -> list[int]:
        """Ids of the incident's mentions."""
        return [int(r[0]) for r in self._db.execute(
            "SELECT mention_id FROM incident_mentions WHERE incident_id = ?", [incident_id]
        ).fetchall()]

    def mention_times(self, incident_id: int) -> list[datetime]:
        """When each of the incident's mentions was seen, oldest first."""
        rows = self._db.execute(
            "SELECT m.seen_at FROM incident_mentions im JOIN mentions m ON m.id = im.mention_id "
            "WHERE im.incident_id = ? ORDER BY m.seen_at",
            [incident_id],
        ).fetchall()
        return [t for (text,) in rows if (t := from_iso(text)) is not None]

    def top_mentions(self, incident_id: int, limit: int) -> list[dict[str, Any]]:
        """The incident's mentions with the widest audience (reach plus latest engagement)."""
        return list(self._db.query(
            "SELECT m.id, m.platform, m.author, m.author_reach, m.url, m.text, m.seen_at, "
            "coalesce(e.likes, 0) + coalesce(e.shares, 0) + coalesce(e.comments, 0) "
            "AS engagement "
            "FROM incident_mentions im JOIN mentions m ON m.id = im.mention_id "
            "LEFT JOIN engagement e ON e.id = (SELECT id FROM engagement "
            "WHERE mention_id = m.id ORDER BY observed_at DESC, id DESC LIMIT 1) "
            "WHERE im.incident_id = ? "
            # The sum again, not its alias: PostgreSQL names no output column inside an expression.
            "ORDER BY coalesce(m.author_reach, 0) + coalesce(e.likes, 0) + coalesce(e.shares, 0) "
            "+ coalesce(e.comments, 0) DESC, m.seen_at, m.id LIMIT ?",
            [incident_id, limit],
        ))

    def most_engaged(self, incident_id: int, limit: int) -> list[Mention]:
        """The incident's most engaged mentions, each with its latest engagement snapshot."""
        rows = self._db.query(
            "SELECT m.*, e.likes, e.shares, e.comments, e.views, e.extra AS e_extra, "
            "e.id AS e_id FROM incident_mentions im JOIN mentions m ON m.id = im.mention_id "
            "LEFT JOIN engagement e ON e.id = (SELECT id FROM engagement WHERE mention_id = m.id "
            "  ORDER BY observed_at DESC, id DESC LIMIT 1) "
            "WHERE im.incident_id = ? "
            "ORDER BY coalesce(e.likes, 0) + coalesce(e.shares, 0) + coalesce(e.comments, 0) "
            "DESC, coalesce(m.author_reach, 0) DESC, m.id LIMIT ?",
            [incident_id, limit],
        )
        mentions = []
        for row in rows:
            engagement = None
            if row["e_id"] is not None:
                extra = json.loads(row["e_extra"]) if row["e_extra"] else {}
                engagement = Engagement(
                    likes=row["likes"], shares=row["shares"], comments=row["comments"],
                    views=row["views"], extra=extra,
                )
            mentions.append(
                Mention(
                    id=row["id"], platform=row["platform"], external_id=row["external_id"],
                    text=row["text"], url=row["url"], title=row["title"], author=row["author"],
                    author_reach=row["author_reach"], published_at=from_iso(row["published_at"]),
                    lang=row["lang"], parent_id=row["parent_id"], engagement=engagement,
                    source=row["source"], brands=tuple(json.loads(row["brands"])),
                    canonical_url=row["canonical_url"], fetched_at=from_iso(row["fetched_at"]),
                )
            )
        return mentions

    def engagement(self, incident_id: int) -> list[dict[str, Any]]:
        """Every engagement snapshot of the incident's mentions, oldest first."""
        return list(self._db.query(
            "SELECT e.mention_id, e.observed_at, e.likes, e.shares, e.comments, e.views "
            "FROM engagement e JOIN incident_mentions im ON im.mention_id = e.mention_id "
            "WHERE im.incident_id = ? ORDER BY e.observed_at, e.id",
            [incident_id],
        ))

    # -- timeline ---------------------------------------------------------------------------

    def add_event(
        self, incident_id: int, at: datetime, kind: str, actor: str, detail: dict[str, Any]
    ) -> int:
        """Append an event to the incident's timeline; returns its id."""
        cur = self._db.execute(
            "INSERT INTO incident_events (incident_id, at, kind, actor, detail) "
            "VALUES (?, ?, ?, ?, ?) RETURNING id",
            [incident_id, iso(at), kind, actor, json.dumps(detail, ensure_ascii=False)],
        )
        return int(cur.fetchone()[0])

    def events(self, incident_id: int) -> list[IncidentEvent]:
        """The incident's timeline, oldest first."""
        return [
            IncidentEvent(
                id=r["id"], incident_id=r["incident_id"],
                at=from_iso(r["at"]),  # type: ignore[arg-type]
                kind=r["kind"], actor=r["actor"], detail=json.loads(r["detail"] or "{}"),
            )
            for r in self._db.query(
                "SELECT * FROM incident_events WHERE incident_id = ? ORDER BY at, id",
                [incident_id],
            )
        ]

    def event_count(self, incident_id: int, kind: str) -> int:
        """How many events of one kind the incident's timeline holds."""
        return int(self._db.execute(
            "SELECT count(*) FROM incident_events WHERE incident_id = ? AND kind = ?",
            [incident_id, kind],
        ).fetchone()[0])
