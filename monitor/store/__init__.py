"""The store: the only package that holds SQL or a database handle.

Interface. The rest of the code sees one object, `Store`, and one handle, `Tx`:

- `Store` is async. Its methods for the hot paths (`save_mentions`, `save_scores`,
  `add_engagement`, `unscored_mentions`, `search_mentions`, `prune`, source and detector
  state ...) each run one job on the store's writer thread. `open()` applies the recorded
  migrations; `close()` is idempotent.
- `await store.transaction(fn, *args)` runs `fn(tx, *args)` as one write transaction on that
  thread and returns its result; `await store.read(fn, *args)` runs it without one. This is
  how domain logic that must be atomic stays atomic without holding SQL: the incident
  lifecycle (monitor/incidents.py) changes an incident, writes its event and enqueues its alert
  rows inside one `transaction`, and the dispatcher claims outbox rows the same way.
- `tx` (a `Tx`) is only valid inside that call. It offers one repository per kind of thing
  the store keeps, each a module of this package with sync, typed methods that take and return
  records (`Mention`, `Incident`, `AlertRow`, `Silence`, `SourceState` ...), never rows or SQL:
  `tx.mentions` (mentions.py: mentions, brands, scores, engagement, full-text search),
  `tx.incidents` (incidents.py: incidents, their mentions and events), `tx.outbox`
  (outbox.py: alert deliveries and attempts, and the dispatcher's wake-up), `tx.digests`
  (digests.py), `tx.silences` (silences.py), `tx.sources` (sources.py: source state),
  `tx.detectors` (detectors.py: volume buckets and saved detector state) and, on PostgreSQL
  only, `tx.cluster` (cluster.py: daemons' heartbeats, leases, the scoring and detection
  queues).

Decisions.
- Repository methods are sync and run on the writer thread, not async per call: an incident
  change is a dozen statements that must see each other's writes, and one hop to the thread
  per change (not per statement) keeps ingest and alerting as fast as before the split.
- What is domain logic stays outside: which incident a claim grows, when an alert is due, how
  outbox rows group into one message, whether a silence may be added. The store answers
  questions and applies changes; it decides nothing about incidents or alerts.
- Two backends, one shape. `Store(path)` is SQLite (sqlite.py: sqlite-utils, FTS5, the
  one-daemon file lock in dbfile.py, WAL checkpoints); `Store(PostgresTarget(url, password))`
  is PostgreSQL (postgres.py: a psycopg pool, `transaction` inside `BEGIN ... COMMIT` on the
  worker thread, a GIN text-search index). `Store` itself
  (base.py) picks the backend and holds the hot-path methods built on `transaction` and `read`.
- Repositories write one SQL for both (sql.py's `Db`: `?` placeholders, `ON CONFLICT`,
  `RETURNING`, row values) and branch on `db.dialect` only where the dialects differ (JSON
  fields, text search). Each backend records its own migrations in `schema_migrations`
  (schema.py, schema_pg.py: applied in order, never edited once released); the tables and
  columns are the same, times ISO-8601 text on both, so `store copy` (copy.py) moves rows as
  they are. `Tx.sqlite` exposes SQLite's raw connection for tests and benchmarks only.
- Several daemons may share one PostgreSQL database (`Store.shared`); monitor/cluster.py says
  how they divide the work. The store gives them what must be atomic in the database: leases
  taken with one upsert against the server's clock, mentions claimed for scoring with
  `FOR UPDATE SKIP LOCKED`, the detection queue read and emptied only by the lease holder, a
  lock on a claim's key before its incident is read (`tx.incidents.lock_key`) and on the
  incident's row (`lock=True`), and outbox claims serialised by a transaction advisory lock.
  On SQLite these are no-ops or absent: one daemon holds the file.

Layout: base.py (`Store`), sqlite.py and postgres.py (connection, worker thread,
transactions, migrations of each backend), cluster.py and vectors.py (what daemons sharing a
PostgreSQL database share, and embeddings as bytes), postgres_target.py (a PostgreSQL URL and its
password), sql.py (`Db`, what repositories need of a connection), tx.py (`Tx`), schema.py and
schema_pg.py (migrations), copy.py (SQLite to PostgreSQL), rows.py (reading rows defensively),
dbfile.py (the database file: daemon lock and plain-words errors), and the repositories named
above.
"""

from __future__ import annotations

from monitor.store.base import Store
from monitor.store.dbfile import StoreError
from monitor.store.detectors import BUCKET_SECONDS, bucket_start
from monitor.store.incidents import IncidentEvent
from monitor.store.outbox import AlertRow
from monitor.store.postgres_target import PostgresTarget
from monitor.store.silences import Silence
from monitor.store.sources import SourceState
from monitor.store.sqlite import PRUNE_BATCH, has_detector_state, retention_cutoff
from monitor.store.tx import Tx

__all__ = [
    "BUCKET_SECONDS",
    "PRUNE_BATCH",
    "AlertRow",
    "IncidentEvent",
    "PostgresTarget",
    "Silence",
    "SourceState",
    "Store",
    "StoreError",
    "Tx",
    "bucket_start",
    "has_detector_state",
    "retention_cutoff",
]
