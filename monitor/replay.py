"""Replay and backtest: run recorded mentions through the live pipeline in virtual time.

Input is JSON Lines, one mention per line (schema in `ReplayRecord`, documented in README).
Each mention arrives at its `published_at`; its engagement snapshots arrive at their own times
(as engagement refresh would deliver them). The Service is the daemon's own, started without
its real-time parts and driven by `VirtualDriver`; alerts are written to the outbox exactly as
live but never delivered, and the report lists where they would have gone.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from monitor.clock import VirtualClock, from_iso, iso
from monitor.config import Config
from monitor.matching import BrandMatcher
from monitor.pipeline import clean_text
from monitor.records import Engagement, EngagementUpdate, Incident, Mention
from monitor.scoring import config_masker
from monitor.store import PostgresTarget, Store, Tx, has_detector_state

log = logging.getLogger(__name__)
REPLAY_SOURCE = "replay"
REPLAY_MARK = "replay:database"  # detector_state key that marks a database replay created
_MAX_ERRORS = 10


class ReplayError(Exception):
    """The input or the target database cannot be replayed; the message says why."""


class Snapshot(BaseModel):
    """Cumulative engagement counters observed at one time."""

    model_config = ConfigDict(extra="forbid")

    at: AwareDatetime
    likes: int | None = Field(default=None, ge=0)
    shares: int | None = Field(default=None, ge=0)
    comments: int | None = Field(default=None, ge=0)
    views: int | None = Field(default=None, ge=0)

    def engagement(self) -> Engagement:
        """As the record the store keeps."""
        return Engagement(self.likes, self.shares, self.comments, self.views)


class ReplayRecord(BaseModel):
    """One line of a replay file."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    platform: str = Field(min_length=1)
    text: str = Field(min_length=1)
    published_at: AwareDatetime  # with a timezone: 2026-11-02T09:14:00Z
    url: str | None = None
    title: str | None = None
    author: str | None = None
    author_reach: int | None = Field(default=None, ge=0)
    lang: str | None = None
    parent_id: str | None = None
    engagement: list[Snapshot] = Field(default_factory=list)

    def mention(self) -> Mention:
        """The mention as a connector would hand it to the pipeline."""
        first = self.engagement[0] if self.engagement else None
        return Mention(
            platform=self.platform, external_id=self.id, text=self.text, url=self.url,
            title=self.title, author=self.author, author_reach=self.author_reach,
            published_at=self.published_at, lang=self.lang, parent_id=self.parent_id,
            engagement=first.engagement() if first and first.at <= self.published_at else None,
        )


def read_records(path: Path) -> list[ReplayRecord]:
    """Parse a JSON Lines file; every bad line is reported with its number."""
    records: list[ReplayRecord] = []
    errors: list[str] = []
    try:
        handle = open(path, encoding="utf-8", errors="strict")
    except OSError as exc:
        raise ReplayError(f"cannot read {path}: {exc.strerror or exc}") from None
    with handle:
        try:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    records.append(ReplayRecord.model_validate_json(line))
                except ValidationError as exc:
                    first = exc.errors()[0]
                    where = ".".join(str(p) for p in first["loc"]) or "line"
                    errors.append(f"line {number}: {where}: {first['msg']}")
                if len(errors) >= _MAX_ERRORS:
                    break
        except UnicodeDecodeError as exc:
            raise ReplayError(
                f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})"
            ) from None
    if errors:
        raise ReplayError(f"{path}: {len(errors)} bad line(s), fix them and run again:\n  "
                          + "\n  ".join(errors))
    if not records:
        raise ReplayError(f"{path} holds no mentions")
    return records


@dataclass(slots=True)
class ReplayReport:
    """What a replay did and what it would have alerted on."""

    records: int = 0
    stored: int = 0
    scored: int = 0
    seconds: float = 0.0
    start: datetime | None = None
    end: datetime | None = None
    incidents: list[Incident] = field(default_factory=list)
    timelines: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    database: str = ""

    @property
    def rate(self) -> float:
        """Mentions replayed per wall-clock second."""
        return self.records / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (`replay --json`)."""
        return {
            "records": self.records, "stored": self.stored, "scored": self.scored,
            "seconds": round(self.seconds, 3), "mentions_per_second": round(self.rate, 1),
            "start": iso(self.start), "end": iso(self.end), "database": self.database,
            "incidents": [
                {
                    "id": i.id, "brand": i.brand, "kind": i.kind, "category": i.category,
                    "severity": i.severity, "status": i.status, "risk": round(i.risk, 3),
                    "opened_at": iso(i.opened_at), "resolved_at": iso(i.resolved_at),
                    "mentions": i.mention_count, "authors": i.author_count,
                    "platforms": i.platforms, "summary": i.summary, "projection": i.projection,
                    "why": [{"factor": f.name, "value": round(f.value, 3), "detail": f.detail}
                            for f in i.factors],
                    "timeline": self.timelines.get(i.id, []),
                }
                for i in self.incidents
            ],
            "alerts": self.alerts,
        }


class PrescoredScorer:
    """The configured models, run over every replay text up front in large batches.

    Scoring one minute of mentions at a time wastes most of the encoder's batching; scoring
    the same texts first and handing each Score out when the live stage asks gives the same
    Scores (same models, same cleaned text) about twice as fast. A text not seen up front is
    scored on demand.
    """

    def __init__(self, scorer: Any, texts: Sequence[str], chunk: int = 256) -> None:
        self.scorer = scorer
        self.model_id: str = scorer.model_id
        unique = list(dict.fromkeys(texts))
        self._cache: dict[str, Any] = {}
        for begin in range(0, len(unique), chunk):
            part = unique[begin : begin + chunk]
            self._cache.update(zip(part, scorer.score(part), strict=True))
            log.info("replay: scored %d/%d texts", min(begin + chunk, len(unique)), len(unique))

    def score(self, texts: Sequence[str]) -> list[Any]:
        """Scores in order; each cached Score is handed out once (memory stays bounded)."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            self._cache.update(zip(missing, self.scorer.score(missing), strict=True))
        scores = {t: self._cache.pop(t) for t in dict.fromkeys(texts)}
        return [scores[t] for t in texts]


def _check_target(path: Path) -> None:
    """Replay writes its own database: refuse one that the daemon (or anything else) uses."""
    if not path.exists() or path.stat().st_size == 0:
        return
    marked = has_detector_state(path, REPLAY_MARK)
    if not marked:
        raise ReplayError(
            f"{path} exists and was not created by replay; replay writes incidents and alerts "
            "into its database, so give a new file with --db (or leave --db out for a "
            "temporary one)"
        )


def replay_config(config: Config, db_path: Path) -> Config:
    """The config a replay runs with: same brands, models, detection and routes; no sources,
    no HTTP server, its own database."""
    # url and password cleared too: with a PostgreSQL [storage] the replay would otherwise
    # write its incidents and alerts into the daemon's live database.
    storage = config.storage.model_copy(update={"path": db_path, "url": None, "password": None})
    server = config.server.model_copy(update={"enabled": False})
    return config.model_copy(update={"storage": storage, "server": server, "sources": []})


async def replay(
    records: Sequence[ReplayRecord],
    config: Config,
    db_path: Path,
    *,
    tail: float | None = None,
    progress: Any = None,
    scorer: Any = None,
) -> ReplayReport:
    """Run records through the live pipeline in virtual time and report the incidents.

    `tail` is how long virtual time runs on after the last record (default: the quiet period
    plus ten minutes, so incidents that would auto-resolve do). `progress(done, total)` is
    called every few hundred mentions. `scorer` reuses already loaded models (the configured
    ones are loaded otherwise).
    """
    from monitor.service import Service, load_scorer
    from monitor.virtual import VirtualDriver

    await asyncio.to_thread(_check_target, db_path)
    ordered = sorted(records, key=lambda r: r.published_at)
    start = ordered[0].published_at.replace(second=0, microsecond=0)
    end = ordered[-1].published_at + timedelta(
        seconds=tail if tail is not None else config.detection.quiet_period + 600
    )
    arrivals = [(r.published_at, r) for r in ordered]
    updates = sorted(
        (
            (snap.at, EngagementUpdate(r.platform, r.id, snap.engagement(), snap.at))
            for r in ordered for snap in r.engagement if snap.at > r.published_at
        ),
        key=lambda pair: pair[0],
    )
    clock = VirtualClock(start)
    run_config = replay_config(config, db_path)
    matcher = BrandMatcher(config.brands)
    masker = config_masker(config.brands)  # the scoring stage masks brand names too
    matching = [
        masker(text) for text in (clean_text(r.text) for r in ordered)
        if matcher.match(text, None, None)
    ]

    def load() -> PrescoredScorer:
        return PrescoredScorer(scorer or load_scorer(run_config), matching)

    service = Service(run_config, clock=clock, scorer_factory=load)
    report = ReplayReport(records=len(ordered), start=start, end=end, database=str(db_path))
    next_arrival = 0
    next_update = 0
    brands = [b.name for b in config.brands]
    started = time.perf_counter()

    async def feed(now: datetime) -> bool:
        nonlocal next_arrival, next_update
        batch: list[Mention] = []
        while next_arrival < len(arrivals) and arrivals[next_arrival][0] <= now:
            batch.append(arrivals[next_arrival][1].mention())
            next_arrival += 1
        if batch:
            ingested = await service.pipeline.ingest(REPLAY_SOURCE, batch, brands)
            report.stored += ingested.stored
            if progress is not None and next_arrival // 500 != (next_arrival - len(batch)) // 500:
                progress(next_arrival, len(arrivals))
        due: list[EngagementUpdate] = []
        while next_update < len(updates) and updates[next_update][0] <= now:
            due.append(updates[next_update][1])
            next_update += 1
        if due:
            await service.store.add_engagement(due)
        return bool(batch or due)

    try:
        await service.start(realtime=False)
        await service.store.save_detector_states({REPLAY_MARK: {"created": iso(start)}}, start)
        driver = VirtualDriver(service, clock, deliver=False)
        await driver.run_until(end, feed)
        if service.scoring.load_error:
            raise ReplayError(f"the models could not be loaded: {service.scoring.load_error}")
        report.scored = service.scoring.scored_total
        report.seconds = time.perf_counter() - started
        report.incidents = sorted(
            await service.incidents.list(limit=10_000), key=lambda i: (i.opened_at, i.id)
        )
        for incident in report.incidents:
            report.timelines[incident.id] = [
                {"at": iso(e.at), "event": e.kind, **_event_detail(e.detail)}
                for e in await service.incidents.events(incident.id)
            ]
        report.alerts = await service.store.read(_alerts)
    finally:
        await service.stop()
    return report


def _event_detail(detail: dict[str, Any]) -> dict[str, Any]:
    keep = ("severity", "from", "to", "risk", "added", "mentions", "reason")
    return {k: detail[k] for k in keep if k in detail}


def _alerts(tx: Tx) -> list[dict[str, Any]]:
    return [
        {"incident": a.incident_id, "reason": a.reason, "severity": a.severity,
         "channel": a.channel, "due": iso(a.not_before)}
        for a in reversed(tx.outbox.recent(limit=None))
    ]


# -- backtest -------------------------------------------------------------------------------


async def stored_records(
    source_db: Path | PostgresTarget, since: datetime
) -> list[ReplayRecord]:
    """The mentions (and engagement history) a daemon's database holds since a time.

    Opened without the daemon's lock and only read, so a backtest can run beside the daemon.
    """
    if isinstance(source_db, Path) and not await asyncio.to_thread(source_db.exists):
        raise ReplayError(f"no database at {source_db}; give the daemon's database with --db")
    store = Store(source_db)
    await store.open()
    try:
        rows = await store.read(lambda tx: tx.mentions.history(since))
    finally:
        await store.close()
    records = []
    for row in rows:
        # A snapshot taken when the mention was fetched can precede its publication time only
        # through clock skew; keep it as the first observation.
        published = from_iso(row["published_at"])
        for snap in row["engagement"]:
            snap["at"] = max(from_iso(snap["at"]), published)  # type: ignore[type-var]
        records.append(ReplayRecord.model_validate(row))
    return records


def format_lines(report: ReplayReport) -> Iterable[str]:
    """The report as plain text lines (mention text already made inert by the caller's print)."""
    from monitor.alerting.sanitize import one_line

    yield (
        f"replayed {report.records} mentions ({iso(report.start)} .. {iso(report.end)}) in "
        f"{report.seconds:.1f}s: {report.rate:.0f} mentions/s; {report.stored} stored, "
        f"{report.scored} scored"
    )
    if not report.incidents:
        yield "no incidents would have been opened"
    for incident in report.incidents:
        yield ""
        yield (
            f"#{incident.id} {incident.severity.upper()} {incident.kind} {incident.brand}"
            f" [{incident.category}] {incident.status}"
        )
        yield f"  claim: {one_line(incident.summary)[:160]}"
        for event in report.timelines.get(incident.id, []):
            if event["event"] in ("opened", "escalated", "reopened", "resolved"):
                extra = event.get("severity") or event.get("to") or event.get("reason") or ""
                risk = f" risk {event['risk']:.2f}" if "risk" in event else ""
                yield f"  {event['at'][:16].replace('T', ' ')}  {event['event']} {extra}{risk}"
        why = "; ".join(f.detail for f in incident.factors[:4])
        yield f"  why: {one_line(why)}"
        yield (
            f"  {incident.mention_count} mentions, {incident.author_count} authors on "
            f"{', '.join(incident.platforms)}"
            + (f"; {incident.projection}" if incident.projection else "")
        )
    if report.alerts:
        per_channel: dict[str, int] = {}
        for alert in report.alerts:
            per_channel[alert["channel"]] = per_channel.get(alert["channel"], 0) + 1
        yield ""
        yield "alerts that would have been sent: " + ", ".join(
            f"{n} to {channel}" for channel, n in sorted(per_channel.items())
        )
