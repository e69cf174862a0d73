"""What the store keeps about mentions: the posts, their brands, scores and engagement snapshots,
and the full-text index over their text."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from monitor.clock import from_iso, iso
from monitor.records import Engagement, EngagementUpdate, Mention, Score
from monitor.store.dbfile import StoreError
from monitor.store.detectors import add_negatives, add_totals, bucket_start
from monitor.store.rows import CHUNK, marks, readable
from monitor.store.sql import Db
from monitor.store.vectors import embedding_bytes

# PostgreSQL's text of a mention for search, with the `simple` configuration (no stemming or
# stop words, as SQLite's unicode61 tokenizer: mentions come in many languages).
SEARCH_VECTOR = "to_tsvector('simple', coalesce(m.title, '') || ' ' || m.text)"
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
# Engagement counters of one snapshot: (mention id, observed at, likes, shares, comments, views).
Snapshot = tuple[int, datetime, int | None, int | None, int | None, int | None]
# One mention of a brand's window for volume evidence: (id, author, platform, reach,
# sentiment or None when unscored, held by an active claim incident).
WindowMention = tuple[int, str | None, str, int, str | None, bool]


def row_to_mention(row: dict[str, Any]) -> Mention:
    """A mentions row as a Mention."""
    return Mention(
        id=row["id"],
        platform=row["platform"],
        external_id=row["external_id"],
        source=row["source"],
        url=row["url"],
        canonical_url=row["canonical_url"],
        title=row["title"],
        text=row["text"],
        author=row["author"],
        author_reach=row["author_reach"],
        published_at=from_iso(row["published_at"]),
        fetched_at=from_iso(row["fetched_at"]),
        lang=row["lang"],
        parent_id=row["parent_id"],
        brands=tuple(json.loads(row["brands"])),
    )


# The score columns a scored read selects beside `m.*` (scores aliased s), prefixed s_.
SCORED_COLUMNS = (
    "s.sentiment AS s_sentiment, s.p_negative AS s_p_negative, s.p_neutral AS s_p_neutral, "
    "s.p_positive AS s_p_positive, s.complaint AS s_complaint, "
    "s.harm_category AS s_harm_category, s.harm_confidence AS s_harm_confidence, "
    "s.model AS s_model, s.extra AS s_extra"
)


def row_to_scored(row: dict[str, Any]) -> tuple[Mention, Score]:
    """A mention row joined with its score columns (prefixed s_)."""
    extra = row.get("s_extra")
    return row_to_mention(row), Score(
        sentiment=row["s_sentiment"], p_negative=row["s_p_negative"],
        p_neutral=row["s_p_neutral"], p_positive=row["s_p_positive"],
        complaint=row["s_complaint"], harm_category=row["s_harm_category"],
        harm_confidence=row["s_harm_confidence"], model=row["s_model"],
        extra=json.loads(extra) if extra else {},
    )


class MentionRows:
    """The `mentions`, `mention_brands`, `scores` and `engagement` tables and `mentions_fts`."""

    def __init__(self, db: Db) -> None:
        self._db = db

    def save(self, mentions: Sequence[Mention]) -> list[Mention]:
        """Insert mentions not seen before (by platform+id or canonical URL); return new ones.

        Sets each new mention's id and counts it into its brands' volume buckets.
        """
        db = self._db
        new: list[Mention] = []
        # Canonical URLs already stored, asked once per batch: on PostgreSQL every statement is
        # a round trip to the server. Those this batch stores are added as it goes.
        seen_urls = self._stored_urls([m.canonical_url for m in mentions if m.canonical_url])
        brand_rows: list[tuple[int, str]] = []
        volume: dict[tuple[str, str], int] = {}
        for mention in mentions:
            if mention.canonical_url and mention.canonical_url in seen_urls:
                continue
            fetched = mention.fetched_at
            assert fetched is not None, "the pipeline sets fetched_at"
            seen = mention.published_at or fetched
            cur = db.execute(
                "INSERT INTO mentions (platform, external_id, source, url, "
                "canonical_url, title, text, author, author_reach, published_at, fetched_at, "
                "seen_at, lang, parent_id, brands) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT DO NOTHING RETURNING id",
                [
                    mention.platform, mention.external_id, mention.source, mention.url,
                    mention.canonical_url, mention.title, mention.text, mention.author,
                    mention.author_reach, iso(mention.published_at), iso(fetched), iso(seen),
                    mention.lang, mention.parent_id, json.dumps(list(mention.brands)),
                ],
            )
            inserted = cur.fetchone()
            if inserted is None:
                continue  # same platform + external id already stored
            mention.id = int(inserted[0])
            if mention.canonical_url:
                seen_urls.add(mention.canonical_url)
            brand_rows.extend((mention.id, b) for b in mention.brands)
            if mention.engagement is not None:
                self._snapshot(mention.id, mention.engagement, fetched)
            bucket = iso(bucket_start(seen)) or ""
            for brand in mention.brands:
                volume[(brand, bucket)] = volume.get((brand, bucket), 0) + 1
            new.append(mention)
        db.executemany("INSERT INTO mention_brands (mention_id, brand) VALUES (?, ?)", brand_rows)
        add_totals(db, volume)
        if db.dialect == "postgresql" and new:
            # Daemons sharing the database claim their scoring work from this queue.
            db.executemany(
                "INSERT INTO scoring_queue (mention_id) VALUES (?)", [(m.id,) for m in new]
            )
        return new

    def _stored_urls(self, urls: Sequence[str]) -> set[str]:
        """Which of these canonical URLs a stored mention has."""
        distinct = sorted(set(urls))
        found: set[str] = set()
        for start in range(0, len(distinct), CHUNK):
            chunk = distinct[start : start + CHUNK]
            found.update(r[0] for r in self._db.execute(
                f"SELECT canonical_url FROM mentions WHERE canonical_url IN ({marks(chunk)})",
                chunk,
            ).fetchall())
        return found

    def _snapshot(self, mention_id: int, e: Engagement, at: datetime) -> None:
        self._db.execute(
            "INSERT INTO engagement (mention_id, observed_at, likes, shares, comments, views, "
            "extra) VALUES (?,?,?,?,?,?,?)",
            [mention_id, iso(at), e.likes, e.shares, e.comments, e.views,
             json.dumps(e.extra) if e.extra else None],
        )

    def add_engagement(self, updates: Sequence[EngagementUpdate]) -> int:
        """Store engagement snapshots for known mentions; returns how many were stored."""
        stored = 0
        for update in updates:
            row = self._db.execute(
                "SELECT id FROM mentions WHERE platform = ? AND external_id = ?",
                [update.platform, update.external_id],
            ).fetchone()
            if row:
                self._snapshot(row[0], update.engagement, update.observed_at)
                stored += 1
        return stored

    def save_scores(self, scored: Sequence[tuple[Mention, Score]], at: datetime) -> None:
        """Store model scores and count negative mentions into the volume buckets."""
        negative: dict[tuple[str, str], int] = {}
        shared = self._db.dialect == "postgresql"
        fresh: list[tuple[int, Any]] = []
        for mention, score in scored:
            cur = self._db.execute(
                "INSERT INTO scores (mention_id, sentiment, p_negative, p_neutral, "
                "p_positive, complaint, harm_category, harm_confidence, model, scored_at, extra) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
                [
                    mention.id, score.sentiment, score.p_negative, score.p_neutral,
                    score.p_positive, score.complaint, score.harm_category,
                    score.harm_confidence, score.model, iso(at),
                    json.dumps(score.extra) if score.extra else None,
                ],
            )
            if cur.rowcount and shared:
                assert mention.id is not None
                fresh.append((mention.id, score.embedding))
            if cur.rowcount and score.sentiment == "negative":
                seen = mention.published_at or mention.fetched_at or at
                bucket = iso(bucket_start(seen)) or ""
                for brand in mention.brands:
                    negative[(brand, bucket)] = negative.get((brand, bucket), 0) + 1
        add_negatives(self._db, negative)
        if shared:
            # Scored once, whichever daemon scored it; the detection leader reads it next.
            self._db.execute(
                "DELETE FROM scoring_queue WHERE mention_id = ANY(?)",
                [[m.id for m, _ in scored]],
            )
            self._db.executemany(
                "INSERT INTO detection_queue (mention_id, embedding) VALUES (?, ?) "
                "ON CONFLICT DO NOTHING",
                [(mention_id, embedding_bytes(e)) for mention_id, e in fresh],
            )

    def refresh_candidates(self, source: str, since: datetime, limit: int) -> list[str]:
        """External ids of a source's mentions to re-read: open-incident evidence, then newest."""
        rows = self._db.execute(
            "SELECT m.external_id FROM mentions m LEFT JOIN ("
            "  SELECT DISTINCT im.mention_id FROM incident_mentions im"
            "  JOIN incidents i ON i.id = im.incident_id WHERE i.status != 'resolved'"
            ") hot ON hot.mention_id = m.id "
            "WHERE m.source = ? AND (hot.mention_id IS NOT NULL OR m.seen_at >= ?) "
            "ORDER BY hot.mention_id IS NULL, m.seen_at DESC LIMIT ?",
            [source, iso(since), limit],
        ).fetchall()
        return [r[0] for r in rows]

    def unscored(self, limit: int) -> list[Mention]:
        """Stored mentions that have no score yet, oldest first."""
        rows = self._db.query(
            "SELECT m.* FROM mentions m LEFT JOIN scores s ON s.mention_id = m.id "
            "WHERE s.mention_id IS NULL ORDER BY m.id LIMIT ?",
            [limit],
        )
        return readable(rows, row_to_mention, "mentions")

    def scored_since(
        self, since: datetime, *, unread: bool = True
    ) -> list[tuple[Mention, Score]]:
        """Mentions first seen since a time with their scores, oldest first; with
        `unread=False` (PostgreSQL) without those the detection queue still holds."""
        waiting = (
            "" if unread else
            " AND NOT EXISTS (SELECT 1 FROM detection_queue q WHERE q.mention_id = m.id)"
        )
        rows = self._db.query(
            f"SELECT m.*, {SCORED_COLUMNS} "
            "FROM mentions m JOIN scores s ON s.mention_id = m.id "
            f"WHERE m.seen_at >= ?{waiting} ORDER BY m.seen_at, m.id",
            [iso(since)],
        )
        return readable(rows, row_to_scored, "mentions")

    def search(
        self, query: str | None, brand: str | None, since: datetime | None, limit: int
    ) -> list[dict[str, Any]]:
        """Mentions matching a full-text query, newest first; StoreError on a malformed query.

        SQLite reads the query as FTS5 syntax; PostgreSQL as a web search (`websearch_to_tsquery`:
        words, "quoted phrases", or, -word), which never fails.
        """
        where: list[str] = []
        args: list[Any] = []
        frm = "mentions m"
        if query and _CJK.search(query):
            # unicode61 does not segment Chinese/Japanese/Korean: fall back to substring search.
            where.append("(m.text LIKE ? OR m.title LIKE ?)")
            args += [f"%{query}%", f"%{query}%"]
        elif query and self._db.dialect == "postgresql":
            # The expression of the mentions_search GIN index (schema_pg.py), so it is used.
            where.append(f"{SEARCH_VECTOR} @@ websearch_to_tsquery('simple', ?)")
            args.append(query)
        elif query:
            frm = "mentions_fts f JOIN mentions m ON m.id = f.rowid"
            where.append("mentions_fts MATCH ?")
            args.append(query)
        if brand:
            where.append("m.id IN (SELECT mention_id FROM mention_brands WHERE brand = ?)")
            args.append(brand)
        if since:
            where.append("m.seen_at >= ?")
            args.append(iso(since))
        sql = (
            "SELECT m.*, s.sentiment, s.complaint, s.harm_category FROM " + frm
            + " LEFT JOIN scores s ON s.mention_id = m.id"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY m.seen_at DESC LIMIT ?"
        )
        try:
            return list(self._db.query(sql, [*args, limit]))
        except sqlite3.OperationalError as exc:
            raise StoreError(
                f"cannot search for {query!r}: {exc}. Quote words with special characters, "
                'e.g. "acme-cola" or "made me sick"'
            ) from None

    def count(self) -> int:
        """Number of stored mentions."""
        return int(self._db.execute("SELECT count(*) FROM mentions").fetchone()[0])

    def count_fetched_since(self, since: datetime) -> int:
        """Number of mentions fetched at or after `since`."""
        return int(self._db.execute(
            "SELECT count(*) FROM mentions WHERE fetched_at >= ?", [iso(since)]
        ).fetchone()[0])

    def count_by_brand(self) -> dict[str, int]:
        """Stored mentions per brand, by brand name."""
        rows = self._db.execute(
            "SELECT brand, count(*) FROM mention_brands GROUP BY brand ORDER BY brand"
        ).fetchall()
        return {str(brand): int(n) for brand, n in rows}

    def snapshots(self, mention_ids: Sequence[int]) -> list[Snapshot]:
        """Every engagement snapshot of these mentions, oldest first."""
        if not mention_ids:
            return []
        rows = self._db.execute(
            "SELECT mention_id, observed_at, likes, shares, comments, views FROM engagement "
            f"WHERE mention_id IN ({marks(mention_ids)}) ORDER BY observed_at",
            list(mention_ids),
        ).fetchall()
        return [
            (r[0], observed, r[2], r[3], r[4], r[5])
            for r in rows
            if (observed := from_iso(r[1])) is not None  # NOT NULL in the schema
        ]

    def brand_window(self, brand: str, start: datetime, end: datetime) -> list[WindowMention]:
        """A brand's mentions seen in [start, end), each with its sentiment and whether an
        active claim incident holds it."""
        rows = self._db.execute(
            "SELECT m.id, m.author, m.platform, coalesce(m.author_reach, 0), s.sentiment, "
            "EXISTS (SELECT 1 FROM incident_mentions im JOIN incidents i "
            "ON i.id = im.incident_id WHERE im.mention_id = m.id AND i.kind = 'viral_claim' "
            "AND i.status IN ('open', 'acknowledged')) "
            "FROM mention_brands b JOIN mentions m ON m.id = b.mention_id "
            "LEFT JOIN scores s ON s.mention_id = m.id "
            "WHERE b.brand = ? AND m.seen_at >= ? AND m.seen_at < ?",
            [brand, iso(start), iso(end)],
        ).fetchall()
        return [(r[0], r[1], r[2], r[3], r[4], bool(r[5])) for r in rows]

    def history(self, since: datetime) -> list[dict[str, Any]]:
        """Mentions seen since a time, oldest first, each with its engagement snapshots (as
        stored text), in the shape of a replay record."""
        rows = self._db.execute(
            "SELECT id, platform, external_id, text, url, title, author, author_reach, seen_at, "
            "lang, parent_id FROM mentions WHERE seen_at >= ? ORDER BY seen_at, id",
            [iso(since)],
        ).fetchall()
        snapshots: dict[int, list[dict[str, Any]]] = {}
        for mention_id, at, likes, shares, comments, views in self._db.execute(
            "SELECT e.mention_id, e.observed_at, e.likes, e.shares, e.comments, e.views "
            "FROM engagement e JOIN mentions m ON m.id = e.mention_id WHERE m.seen_at >= ? "
            "ORDER BY e.observed_at, e.id",
            [iso(since)],
        ):
            snapshots.setdefault(mention_id, []).append(
                {"at": at, "likes": likes, "shares": shares, "comments": comments, "views": views}
            )
        return [
            {
                "id": r[2], "platform": r[1], "text": r[3], "url": r[4], "title": r[5],
                "author": r[6], "author_reach": r[7], "published_at": r[8], "lang": r[9],
                "parent_id": r[10], "engagement": snapshots.get(r[0], []),
            }
            for r in rows
        ]

    def prune(
        self, cutoff: str, after: tuple[str, int] | None, batch: int
    ) -> tuple[int, tuple[str, int] | None]:
        """Delete up to `batch` mentions older than `cutoff`, in (seen_at, id) order past `after`.

        Returns how many were deleted and where the next batch starts (None when done). Walking
        on from `after` instead of from the oldest never rescans the evidence mentions kept
        behind.
        """
        past = "AND (seen_at, id) > (?, ?) " if after else ""
        rows = self._db.execute(
            "SELECT id, seen_at FROM mentions WHERE seen_at < ? " + past
            + "ORDER BY seen_at, id LIMIT ?",
            [cutoff, *(after or ()), batch],
        ).fetchall()
        if not rows:
            return 0, None
        ids = [row[0] for row in rows]
        # Mentions attached to an incident are evidence: keep them as long as the incident.
        cur = self._db.execute(
            f"DELETE FROM mentions WHERE id IN ({marks(ids)}) AND NOT EXISTS "
            "(SELECT 1 FROM incident_mentions im WHERE im.mention_id = mentions.id)",
            ids,
        )
        last = rows[-1]
        return int(cur.rowcount), ((last[1], last[0]) if len(rows) == batch else None)
