"""The data behind every page, and the same data as JSON under /api/."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from monitor.alerting.sanitize import safe_url
from monitor.clock import Clock, from_iso
from monitor.incidents import STATUSES, IncidentBook, IncidentError, IncidentEvent
from monitor.records import INCIDENT_KINDS, SEVERITIES, Incident
from monitor.runner import health_of
from monitor.store import AlertRow, Store, StoreError, Tx
from monitor.web.chart import render_svg, series

MAX_LIMIT = 500
_SINCE = re.compile(r"^(\d+)([hdw])$")
_UNITS = {"h": 3600, "d": 86400, "w": 604800}
# Escaped in JSON too, so a response can never be read as HTML whatever the browser guesses.
_JSON_HTML = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"}


class BadQuery(ValueError):
    """A filter value the API cannot use; the message says what to send instead."""


@dataclass(slots=True)
class WebContext:
    """What the dashboard reads and acts on: the daemon's store, incident book and clock."""

    store: Store
    book: IncidentBook
    clock: Clock
    brands: list[str]
    sources: dict[str, str] = field(default_factory=dict)  # configured name -> kind
    channels: dict[str, str] = field(default_factory=dict)  # configured name -> kind


def dumps(value: Any) -> str:
    """JSON with <, > and & escaped (and non-ASCII, bidi controls included, as \\u escapes)."""
    text = json.dumps(value, default=_default)
    return re.sub("[<>&]", lambda m: _JSON_HTML[m.group(0)], text)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def json_response(data: Any, status: int = 200) -> web.Response:
    """A JSON response in the API's encoding."""
    return web.Response(text=dumps(data), status=status, content_type="application/json")


def parse_since(value: str | None, now: datetime) -> datetime | None:
    """`24h`, `7d`, `2w` or an ISO date, as a UTC time."""
    if not value:
        return None
    match = _SINCE.match(value.strip())
    if match:
        return now - timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadQuery(
            f"since: expected 24h, 7d, 2w or a date such as 2026-01-31, got {value!r}"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _limit(value: str | None, default: int) -> int:
    if not value:
        return default
    if not value.isdigit() or not 1 <= int(value) <= MAX_LIMIT:
        raise BadQuery(f"limit: expected a number from 1 to {MAX_LIMIT}, got {value!r}")
    return int(value)


def _choice(name: str, value: str | None, allowed: tuple[str, ...]) -> str | None:
    if not value:
        return None
    if value not in allowed:
        raise BadQuery(f"{name}: expected one of {', '.join(allowed)}, got {value!r}")
    return value


def incident_dict(incident: Incident) -> dict[str, Any]:
    """An incident as JSON-ready data."""
    return asdict(incident)


def event_dict(event: IncidentEvent) -> dict[str, Any]:
    """One timeline event as JSON-ready data."""
    return asdict(event)


async def list_incidents(ctx: WebContext, query: Mapping[str, str]) -> dict[str, Any]:
    """Incidents filtered by status, brand, lowest severity, kind and time, newest first."""
    now = ctx.clock.now()
    filters = {
        "status": _choice("status", query.get("status"), STATUSES),
        "brand": query.get("brand") or None,
        "severity": _choice("severity", query.get("severity"), SEVERITIES),
        "kind": _choice("kind", query.get("kind"), INCIDENT_KINDS),
        "since": query.get("since") or None,
    }
    limit = _limit(query.get("limit"), 100)
    since = parse_since(filters["since"], now)
    # The book filters all but kind; read more than asked so a kind filter still fills a page.
    found = await ctx.book.list(
        status=filters["status"], brand=filters["brand"], min_severity=filters["severity"],
        since=since, limit=MAX_LIMIT if filters["kind"] else limit,
    )
    if filters["kind"]:
        found = [i for i in found if i.kind == filters["kind"]][:limit]
    return {"filters": filters, "incidents": [incident_dict(i) for i in found]}


async def incident_detail(ctx: WebContext, incident_id: int) -> dict[str, Any] | None:
    """One incident with its timeline, top mentions, chart data, alerts and notes."""
    incident = await ctx.book.get(incident_id)
    if incident is None:
        return None
    events = await ctx.book.events(incident_id)
    mentions = await ctx.book.top_mentions(incident_id, 10)
    times = await ctx.book.mention_times(incident_id)
    snapshots = await ctx.book.engagement(incident_id)
    alerts = await ctx.store.read(_alerts_of, incident_id)
    chart = series(times, snapshots)
    for mention in mentions:
        mention["url"] = safe_url(mention.get("url"))
    return {
        "incident": incident_dict(incident),
        "events": [event_dict(e) for e in events],
        "notes": [event_dict(e) for e in events if e.kind == "note"],
        "mentions": mentions,
        "alerts": alerts,
        "chart": {
            "step_seconds": chart.step,
            "starts": [s.isoformat() for s in chart.starts],
            "mentions": chart.mentions,
            "engagement": chart.engagement,
        },
        "chart_svg": render_svg(chart),
    }


def _alerts_of(tx: Tx, incident_id: int) -> list[dict[str, Any]]:
    return [
        {"id": a.id, "channel": a.channel, "reason": a.reason, "severity": a.severity,
         "status": a.status, "created_at": a.created_at, "sent_at": a.sent_at,
         "attempts": a.attempts, "last_error": a.last_error}
        for a in tx.outbox.recent(incident_id=incident_id, limit=100)
    ]


async def search_mentions(ctx: WebContext, query: Mapping[str, str]) -> dict[str, Any]:
    """Full-text search over stored mentions with brand, platform and time filters."""
    filters = {
        "q": (query.get("q") or "").strip() or None,
        "brand": query.get("brand") or None,
        "platform": query.get("platform") or None,
        "since": query.get("since") or None,
    }
    limit = _limit(query.get("limit"), 50)
    since = parse_since(filters["since"], ctx.clock.now())
    try:
        rows = await ctx.store.search_mentions(
            filters["q"], brand=filters["brand"], since=since,
            limit=MAX_LIMIT if filters["platform"] else limit,
        )
    except StoreError as exc:
        raise BadQuery(str(exc)) from None
    if filters["platform"]:
        rows = [r for r in rows if r.get("platform") == filters["platform"]][:limit]
    mentions = [
        {key: row.get(key) for key in (
            "id", "platform", "source", "author", "author_reach", "title", "text", "seen_at",
            "published_at", "sentiment", "complaint", "harm_category",
        )} | {"url": safe_url(row.get("url")), "brands": json.loads(row.get("brands") or "[]")}
        for row in rows
    ]
    return {"filters": filters, "mentions": mentions}


async def sources_status(ctx: WebContext) -> dict[str, Any]:
    """Each configured source's health, last success, last error and rate budget."""
    now = ctx.clock.now()
    states = {s.name: s for s in await ctx.store.source_states()}
    sources = []
    for name, kind in ctx.sources.items():
        state = states.get(name)
        sources.append({
            "name": name, "kind": kind, "health": health_of(state, now),
            "last_success": state.last_success if state else None,
            "last_attempt": state.last_attempt if state else None,
            "last_error": state.last_error if state else None,
            "consecutive_failures": state.consecutive_failures if state else 0,
            "disabled_until": state.disabled_until if state else None,
            "budget": state.budget if state else None,
            "mentions_total": state.mentions_total if state else 0,
        })
    return {"sources": sources}


async def channels_status(ctx: WebContext) -> dict[str, Any]:
    """Each configured channel's latest alert and how its delivery went."""
    latest = await ctx.store.read(_latest_per_channel)
    channels = []
    for name, kind in ctx.channels.items():
        row = latest.get(name)
        channels.append({
            "name": name, "kind": kind,
            "last_alert": None if row is None else {
                "id": row.id, "incident_id": row.incident_id, "reason": row.reason,
                "status": row.status, "created_at": row.created_at, "sent_at": row.sent_at,
                "last_error": row.last_error,
            },
        })
    return {"channels": channels}


def _latest_per_channel(tx: Tx) -> dict[str, AlertRow]:
    latest: dict[str, AlertRow] = {}
    for row in tx.outbox.recent(limit=500):  # newest first
        latest.setdefault(row.channel, row)
    return latest


def when(value: Any) -> str:
    """A stored time (datetime or ISO text) as `YYYY-MM-DD HH:MM UTC`, or a dash."""
    at = value if isinstance(value, datetime) else from_iso(value) if value else None
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if at else "–"


__all__ = ["BadQuery", "IncidentError", "WebContext", "dumps", "json_response", "when"]
