"""Schema migrations, applied in order and recorded in the database."""

from __future__ import annotations

# Each migration is (version, name, SQL script). Never edit a released migration: add a new one.
MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "initial schema",
        """
        CREATE TABLE mentions (
            id INTEGER PRIMARY KEY,
            platform TEXT NOT NULL,
            external_id TEXT NOT NULL,
            source TEXT NOT NULL,
            url TEXT,
            canonical_url TEXT,
            title TEXT,
            text TEXT NOT NULL,
            author TEXT,
            author_reach INTEGER,
            published_at TEXT,
            fetched_at TEXT NOT NULL,
            seen_at TEXT NOT NULL,             -- published_at, else first-seen time
            lang TEXT,
            parent_id TEXT,
            brands TEXT NOT NULL,              -- JSON list, for display
            UNIQUE (platform, external_id)
        );
        CREATE INDEX mentions_canonical_url ON mentions (canonical_url);
        CREATE INDEX mentions_seen_at ON mentions (seen_at);
        CREATE TABLE mention_brands (
            mention_id INTEGER NOT NULL REFERENCES mentions(id) ON DELETE CASCADE,
            brand TEXT NOT NULL,
            PRIMARY KEY (mention_id, brand)
        );
        CREATE INDEX mention_brands_brand ON mention_brands (brand, mention_id);
        CREATE TABLE engagement (
            id INTEGER PRIMARY KEY,
            mention_id INTEGER NOT NULL REFERENCES mentions(id) ON DELETE CASCADE,
            observed_at TEXT NOT NULL,
            likes INTEGER, shares INTEGER, comments INTEGER, views INTEGER,
            extra TEXT
        );
        CREATE INDEX engagement_mention ON engagement (mention_id, observed_at);
        CREATE TABLE scores (
            mention_id INTEGER PRIMARY KEY REFERENCES mentions(id) ON DELETE CASCADE,
            sentiment TEXT NOT NULL,
            p_negative REAL NOT NULL, p_neutral REAL NOT NULL, p_positive REAL NOT NULL,
            complaint REAL NOT NULL,
            harm_category TEXT NOT NULL,
            harm_confidence REAL NOT NULL,
            model TEXT NOT NULL,
            scored_at TEXT NOT NULL,
            extra TEXT
        );
        CREATE TABLE source_state (
            name TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            config_fingerprint TEXT,
            cursor TEXT,                       -- JSON, connector-defined
            etag TEXT,
            last_modified TEXT,
            last_attempt TEXT,
            last_success TEXT,
            last_error TEXT,
            consecutive_failures INTEGER NOT NULL DEFAULT 0,
            disabled_until TEXT,
            parked INTEGER NOT NULL DEFAULT 0, -- 1 after an auth error, until config changes
            budget TEXT,                       -- JSON RateBudget
            polls INTEGER NOT NULL DEFAULT 0,
            mentions_total INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE volume_buckets (
            brand TEXT NOT NULL,
            bucket_start TEXT NOT NULL,
            total INTEGER NOT NULL DEFAULT 0,
            negative INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (brand, bucket_start)
        );
        CREATE TABLE detector_state (
            key TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE incidents (
            id INTEGER PRIMARY KEY,
            brand TEXT NOT NULL,
            kind TEXT NOT NULL,
            category TEXT NOT NULL DEFAULT 'none',
            severity TEXT NOT NULL,
            status TEXT NOT NULL,
            summary TEXT NOT NULL,
            cluster_key TEXT,
            risk REAL NOT NULL DEFAULT 0,
            factors TEXT,
            opened_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            resolved_at TEXT,
            mention_count INTEGER NOT NULL DEFAULT 0,
            author_count INTEGER NOT NULL DEFAULT 0,
            platforms TEXT,
            acknowledged_by TEXT,
            projection TEXT
        );
        CREATE INDEX incidents_status ON incidents (status, brand);
        CREATE TABLE incident_events (
            id INTEGER PRIMARY KEY,
            incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
            at TEXT NOT NULL,
            kind TEXT NOT NULL,
            actor TEXT NOT NULL,
            detail TEXT
        );
        CREATE INDEX incident_events_incident ON incident_events (incident_id, at);
        CREATE TABLE incident_mentions (
            incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
            mention_id INTEGER NOT NULL REFERENCES mentions(id) ON DELETE CASCADE,
            PRIMARY KEY (incident_id, mention_id)
        );
        CREATE TABLE alerts (
            id INTEGER PRIMARY KEY,
            incident_id INTEGER REFERENCES incidents(id) ON DELETE SET NULL,
            idempotency_key TEXT NOT NULL,
            channel TEXT NOT NULL,
            reason TEXT NOT NULL,
            severity TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending',   -- pending / sending / sent / failed
            created_at TEXT NOT NULL,
            not_before TEXT NOT NULL,                 -- group wait / backoff
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            sent_at TEXT,
            external_ref TEXT,
            UNIQUE (idempotency_key, channel)
        );
        CREATE INDEX alerts_pending ON alerts (status, not_before);
        CREATE TABLE alert_attempts (
            id INTEGER PRIMARY KEY,
            alert_id INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
            at TEXT NOT NULL,
            ok INTEGER NOT NULL,
            detail TEXT
        );
        CREATE TABLE silences (
            id INTEGER PRIMARY KEY,
            brand TEXT,
            category TEXT,
            starts_at TEXT NOT NULL,
            ends_at TEXT NOT NULL,
            reason TEXT NOT NULL,
            created_by TEXT
        );
        -- Full-text index over mention text, kept in step by triggers (external content).
        CREATE VIRTUAL TABLE mentions_fts USING fts5(
            title, text, content='mentions', content_rowid='id',
            tokenize='unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER mentions_ai AFTER INSERT ON mentions BEGIN
            INSERT INTO mentions_fts (rowid, title, text) VALUES (new.id, new.title, new.text);
        END;
        CREATE TRIGGER mentions_ad AFTER DELETE ON mentions BEGIN
            INSERT INTO mentions_fts (mentions_fts, rowid, title, text)
            VALUES ('delete', old.id, old.title, old.text);
        END;
        CREATE TRIGGER mentions_au AFTER UPDATE ON mentions BEGIN
            INSERT INTO mentions_fts (mentions_fts, rowid, title, text)
            VALUES ('delete', old.id, old.title, old.text);
            INSERT INTO mentions_fts (rowid, title, text) VALUES (new.id, new.title, new.text);
        END;
        """,
    ),
    (
        3,
        "alert re-queue time, digest periods",
        """
        ALTER TABLE alerts ADD COLUMN requeued_at TEXT;   -- give-up window restarts here
        CREATE INDEX alerts_incident ON alerts (incident_id, channel, status);
        CREATE TABLE alert_digests (
            route TEXT PRIMARY KEY,
            last_sent_at TEXT NOT NULL
        );
        """,
    ),
    (
        4,
        "digest contents",
        """
        -- One row per digest route and period that had something to send; alert_digests keeps
        -- each route's watermark (the end of the newest period already collected).
        CREATE TABLE digests (
            key TEXT PRIMARY KEY,                     -- idempotency key of its alert rows
            route TEXT NOT NULL,
            period_start TEXT NOT NULL,
            period_end TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE TABLE digest_incidents (
            digest_key TEXT NOT NULL REFERENCES digests(key) ON DELETE CASCADE,
            incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
            PRIMARY KEY (digest_key, incident_id)
        );
        """,
    ),
    (
        5,
        "indexes for retention pruning",
        """
        -- Deleting a mention cascades to incident_mentions by mention_id, and pruning skips
        -- mentions that are incident evidence: without this index each deleted mention scans the
        -- whole table (24 s to prune one day of a 1M-mention store, benchmarks/bench_prune.py).
        CREATE INDEX incident_mentions_mention ON incident_mentions (mention_id);
        -- Volume buckets are pruned by age; the primary key starts with the brand.
        CREATE INDEX volume_buckets_start ON volume_buckets (bucket_start);
        """,
    ),
    (
        6,
        "repair pre-web publication dates",
        """
        -- Before 0.3 a feed's year-999 date was stored unpadded ("999-06-01..."): it sorted
        -- after every real date, so retention never removed the row and detection read it as
        -- recent. Such dates (and any before 1990) become unknown, as the ingest now does.
        UPDATE mentions SET published_at = NULL, seen_at = fetched_at
        WHERE published_at IS NOT NULL
          AND (published_at < '1990' OR published_at NOT GLOB '[12][0-9][0-9][0-9]-*');
        UPDATE mentions SET seen_at = fetched_at
        WHERE seen_at < '1990' OR seen_at NOT GLOB '[12][0-9][0-9][0-9]-*';
        DELETE FROM volume_buckets
        WHERE bucket_start < '1990' OR bucket_start NOT GLOB '[12][0-9][0-9][0-9]-*';
        """,
    ),
]
