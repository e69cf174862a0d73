"""The handle a store job works through: one repository per kind of thing the store keeps."""

from __future__ import annotations

from monitor.store.cluster import ClusterRows
from monitor.store.detectors import DetectorRows
from monitor.store.digests import DigestRows
from monitor.store.incidents import IncidentRows
from monitor.store.mentions import MentionRows
from monitor.store.outbox import OutboxRows
from monitor.store.silences import SilenceRows
from monitor.store.sources import SourceRows
from monitor.store.sql import Db, SqliteDb


class Tx:
    """What `Store.transaction` and `Store.read` hand to their function, on the store thread.

    Valid only inside that call: it must not be kept or passed to another thread. Inside
    `transaction` every write through it commits together or not at all.
    """

    def __init__(self, db: Db) -> None:
        self.mentions = MentionRows(db)
        self.incidents = IncidentRows(db)
        self.outbox = OutboxRows(db)
        self.digests = DigestRows(db)
        self.silences = SilenceRows(db)
        self.sources = SourceRows(db)
        self.detectors = DetectorRows(db)
        self.cluster = ClusterRows(db)  # PostgreSQL: daemons, leases and work queues
        self.db = db  # SQL beside the repositories: monitor/store (copying) and tests
        # The SQLite backend's own handle, for tests and benchmarks that set up or inspect rows
        # directly; product code outside monitor/store never touches it.
        self._sqlite = db if isinstance(db, SqliteDb) else None

    @property
    def sqlite(self) -> SqliteDb:
        """The SQLite connection (tests and benchmarks); TypeError on another backend."""
        if self._sqlite is None:
            raise TypeError("this store is not SQLite")
        return self._sqlite
