"""What the store keeps about digests: each route's watermark and each enqueued digest's list."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from monitor.clock import from_iso, iso
from monitor.store.sql import Db


class DigestRows:
    """The `alert_digests`, `digests` and `digest_incidents` tables."""

    def __init__(self, db: Db) -> None:
        self._db = db

    def watermark(self, route: str) -> datetime | None:
        """The end of the newest period already collected for a route, if any."""
        row = self._db.execute(
            "SELECT last_sent_at FROM alert_digests WHERE route = ?", [route]
        ).fetchone()
        return from_iso(row[0]) if row else None

    def set_watermark(self, route: str, until: datetime) -> None:
        """Move a route's watermark."""
        self._db.execute(
            "INSERT INTO alert_digests (route, last_sent_at) VALUES (?, ?) "
            "ON CONFLICT (route) DO UPDATE SET last_sent_at = excluded.last_sent_at",
            [route, iso(until)],
        )

    def add(
        self,
        key: str,
        route: str,
        start: datetime,
        end: datetime,
        now: datetime,
        incident_ids: Sequence[int],
    ) -> None:
        """Record a digest and the incidents it lists; a key already stored is kept as is."""
        self._db.execute(
            "INSERT INTO digests (key, route, period_start, period_end, created_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [key, route, iso(start), iso(end), iso(now)],
        )
        self._db.executemany(
            "INSERT INTO digest_incidents (digest_key, incident_id) VALUES (?, ?) "
            "ON CONFLICT DO NOTHING",
            [(key, incident_id) for incident_id in incident_ids],
        )

    def get(self, key: str) -> tuple[str, datetime, datetime] | None:
        """(route, period start, period end) of the digest stored under `key`."""
        row = self._db.execute(
            "SELECT route, period_start, period_end FROM digests WHERE key = ?", [key]
        ).fetchone()
        if row is None:
            return None
        start, end = from_iso(row[1]), from_iso(row[2])
        assert start is not None and end is not None
        return str(row[0]), start, end

    def incident_ids(self, key: str) -> list[int]:
        """Ids of the incidents a digest lists."""
        return [
            int(r[0])
            for r in self._db.execute(
                "SELECT incident_id FROM digest_incidents WHERE digest_key = ?", [key]
            ).fetchall()
        ]
