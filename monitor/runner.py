"""SourceRunner: one source's polling, cursor, backoff, rate limits and health."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import datetime, timedelta

from connectors.base import AuthError, Connector, Cursor, FetchResult, RateLimited, SourceError
from monitor.clock import Clock
from monitor.config import EngagementConfig, PollingConfig, SourceConfig
from monitor.metrics import Metrics
from monitor.pipeline import Pipeline
from monitor.store import SourceState, Store

log = logging.getLogger(__name__)


def config_fingerprint(source: SourceConfig) -> str:
    """Stable hash of a source's config; a parked source is retried when it changes."""
    data = json.dumps(source.model_dump(mode="json"), sort_keys=True, default=str)
    return hashlib.sha256(data.encode()).hexdigest()[:16]


def health_of(state: SourceState | None, now: datetime) -> str:
    """One word for a source's health: pending, ok, failing, rate_limited or parked."""
    if state is None:
        return "pending"
    if state.parked:
        return "parked"
    if state.consecutive_failures > 0:
        return "failing"
    if state.disabled_until is not None and state.disabled_until > now:
        return "rate_limited"
    return "ok" if state.last_success is not None else "pending"


class SourceRunner:
    """Polls one source on demand; the scheduler calls `poll` on its interval."""

    def __init__(
        self,
        source: SourceConfig,
        connector: Connector,
        store: Store,
        pipeline: Pipeline,
        clock: Clock,
        polling: PollingConfig,
        metrics: Metrics,
        rng: random.Random | None = None,
        engagement: EngagementConfig | None = None,
    ) -> None:
        self.source = source
        self.connector = connector
        self.store = store
        self.pipeline = pipeline
        self.clock = clock
        self.polling = polling
        self.metrics = metrics
        self.rng = rng or random.Random()
        self.engagement = engagement or EngagementConfig()
        self.fingerprint = config_fingerprint(source)
        self.state: SourceState | None = None
        # Several daemons on one database: take or renew the source's lease (name, seconds)
        # before each poll; the daemon that holds it polls, the others skip.
        self.lease: Callable[[str, float], Awaitable[bool]] | None = None

    @property
    def lease_ttl(self) -> float:
        """How long a poll's lease lasts: a few intervals, so a live holder keeps it."""
        interval = self.source.interval or self.connector.default_interval
        return 3 * interval + self.polling.max_instances_timeout

    async def _leased(self) -> bool:
        """Whether this daemon may poll now (always, alone on its database)."""
        if self.lease is None:
            return True
        held = await self.lease(f"source:{self.name}", self.lease_ttl)
        # The state is the database's: another daemon may have polled since this one did.
        self.state = None
        if not held:  # health shows the source as its holder left it
            self.state = await self.store.source_state(self.name)
        return held

    @property
    def name(self) -> str:
        """The source's configured name."""
        return self.source.name

    async def _load_state(self) -> SourceState:
        if self.state is not None:
            return self.state
        state = await self.store.source_state(self.name) or SourceState(
            name=self.name, kind=self.source.kind
        )
        if state.config_fingerprint != self.fingerprint:
            if state.parked:
                log.info("source %s: config changed since it was parked; trying again", self.name)
            state.parked = False
            state.config_fingerprint = self.fingerprint
        self.state = state
        return state

    async def poll(self) -> str:
        """Poll once unless parked, backing off or polled by another daemon; returns the
        outcome word. Never raises."""
        if not await self._leased():
            return "elsewhere"
        state = await self._load_state()
        now = self.clock.now()
        if state.parked:
            return "parked"
        if state.disabled_until is not None and now < state.disabled_until:
            return "waiting"
        state.last_attempt = now
        state.polls += 1
        cursor = Cursor(state.cursor or {}, state.etag, state.last_modified)
        try:
            result = await asyncio.wait_for(
                self.connector.fetch(cursor), timeout=self.polling.max_instances_timeout
            )
            report = await self.pipeline.ingest(self.name, result.mentions, self.source.brands)
        except RateLimited as exc:
            outcome = self._rate_limited(state, now, exc)
        except AuthError as exc:
            outcome = self._parked(state, exc)
        except (SourceError, TimeoutError) as exc:
            outcome = self._failed(state, now, str(exc) or "timed out", type(exc).__name__)
        except Exception as exc:  # a connector bug must not stop the daemon
            if state.consecutive_failures == 0:
                log.exception("source %s: unexpected error while polling", self.name)
            outcome = self._failed(state, now, f"{type(exc).__name__}: {exc}", "internal")
        else:
            outcome = "not_modified" if result.not_modified else "ok"
            self._succeeded(state, now, result)
            state.mentions_total += report.stored
            for brand, count in report.per_brand.items():
                self.metrics.mentions.labels(self.name, brand).inc(count)
            if report.received:
                log.debug(
                    "source %s: %d items, %d about our brands, %d new",
                    self.name, report.received, report.matched, report.stored,
                )
        self.metrics.polls.labels(self.name, outcome).inc()
        self.metrics.source_healthy.labels(self.name).set(
            1 if health_of(state, now) in ("ok", "rate_limited") else 0
        )
        await self.store.save_source_state(state)
        return outcome

    async def refresh(self) -> int:
        """Re-read engagement of recent mentions within the budget; returns snapshots stored."""
        if not self.connector.supports_refresh or not await self._leased():
            return 0
        state = await self._load_state()
        now = self.clock.now()
        if state.parked or (state.disabled_until is not None and now < state.disabled_until):
            return 0  # the platform's budget goes to polling first
        refs = await self.store.refresh_candidates(
            self.name, now - timedelta(seconds=self.engagement.max_age),
            self.engagement.max_per_run,
        )
        if not refs:
            return 0
        try:
            updates = await asyncio.wait_for(
                self.connector.refresh(refs), timeout=self.polling.max_instances_timeout
            )
        except RateLimited as exc:
            self._rate_limited(state, now, exc)
            await self.store.save_source_state(state)
            return 0
        except AuthError as exc:
            self._parked(state, exc)
            await self.store.save_source_state(state)
            return 0
        except Exception as exc:  # refresh is best effort: polling decides the source's health
            log.debug("source %s: engagement refresh failed: %s", self.name, exc)
            self.metrics.poll_errors.labels(self.name, "refresh").inc()
            return 0
        return await self.store.add_engagement(updates)

    def _succeeded(self, state: SourceState, now: datetime, result: FetchResult) -> None:
        if state.consecutive_failures > 0:
            log.info(
                "source %s recovered after %d failed polls", self.name, state.consecutive_failures
            )
        state.cursor = result.cursor.position
        state.etag = result.cursor.etag
        state.last_modified = result.cursor.last_modified
        if result.budget is not None:
            budget = asdict(result.budget)
            budget["resets_at"] = result.budget.resets_at.isoformat() if result.budget.resets_at \
                else None
            state.budget = budget
        state.consecutive_failures = 0
        state.last_error = None
        state.last_success = now
        state.disabled_until = None

    def _rate_limited(self, state: SourceState, now: datetime, exc: RateLimited) -> str:
        already = state.disabled_until is not None and state.last_error == str(exc)
        state.disabled_until = now + timedelta(seconds=exc.retry_after)
        state.last_error = str(exc)
        log.log(
            logging.DEBUG if already else logging.WARNING,
            "source %s: %s; pausing for %.0fs", self.name, exc, exc.retry_after,
        )
        self.metrics.poll_errors.labels(self.name, "rate_limited").inc()
        return "rate_limited"

    def _parked(self, state: SourceState, exc: AuthError) -> str:
        state.parked = True
        state.last_error = str(exc)
        log.error(
            "source %s parked: %s. Fix its credentials in the config and restart; "
            "it stays off until the config changes", self.name, exc,
        )
        self.metrics.poll_errors.labels(self.name, "auth").inc()
        return "parked"

    def _failed(self, state: SourceState, now: datetime, reason: str, kind: str) -> str:
        state.consecutive_failures += 1
        failures = state.consecutive_failures
        backoff = min(
            self.polling.backoff_max, self.polling.backoff_initial * 2 ** min(failures - 1, 20)
        )
        backoff *= self.rng.uniform(0.8, 1.2)  # jitter so failing sources do not retry in step
        state.disabled_until = now + timedelta(seconds=backoff)
        state.last_error = reason
        if failures == 1:
            log.warning(
                "source %s is failing: %s; retrying in %.0fs", self.name, reason, backoff
            )
        elif failures == self.polling.max_consecutive_failures:
            log.error(
                "source %s has failed %d polls in a row (last: %s); retrying every %.0fs",
                self.name, failures, reason, self.polling.backoff_max,
            )
        else:
            log.debug("source %s failed again (%d): %s", self.name, failures, reason)
        self.metrics.poll_errors.labels(self.name, kind).inc()
        return "failed"
