"""The daemon: wires config, store, connectors, runners, scheduler and the HTTP server."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from connectors.base import Connector, connector_class
from connectors.webhook import ROUTE as INGEST_ROUTE
from connectors.webhook import WebhookIntake
from monitor.alerting.channels import Channel, build_channel
from monitor.alerting.dispatcher import AlertDispatcher, due_reminders
from monitor.alerting.routing import Router
from monitor.alerting.settings import default_channels
from monitor.clock import Clock, SystemClock, iso
from monitor.cluster import DetectionLeader, Membership
from monitor.config import Config, SourceConfig, exposure_warnings
from monitor.detection.engine import DetectionEngine
from monitor.httpclient import HttpClient, HttpLimits
from monitor.incidents import IncidentBook
from monitor.matching import BrandMatcher
from monitor.metrics import Metrics
from monitor.pipeline import Pipeline
from monitor.records import SEVERITIES
from monitor.reload import ReloadOutcome, apply_config_file
from monitor.runner import SourceRunner, health_of
from monitor.scoring import ScoringStage, TextScorer, config_masker
from monitor.status import status_line, stored_counts
from monitor.store import Store, StoreError, retention_cutoff

log = logging.getLogger(__name__)
SHUTDOWN_GRACE = 10.0  # seconds in-flight polls get to finish on SIGTERM
STOP_DEADLINE = 30.0  # the whole stop, well inside systemd's default 90 s


def http_limits(config: Config) -> HttpLimits:
    """HttpLimits from the `[http]` table."""
    h = config.http
    limits = HttpLimits(
        connect_timeout=h.connect_timeout,
        read_timeout=h.read_timeout,
        total_timeout=h.total_timeout,
        max_body_bytes=h.max_body_bytes,
        max_redirects=h.max_redirects,
    )
    if h.user_agent:
        limits = HttpLimits(**{**limits.__dict__, "user_agent": h.user_agent})
    return limits


def package_version() -> str:
    """The installed brand-monitor version ("unknown" from a tree never installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("brand-monitor")
    except PackageNotFoundError:
        return "unknown"


VERSION = package_version()  # read once at import: it reads files, never on the event loop


def load_scorer(config: Config) -> TextScorer:
    """Build the configured models (runs on the scoring thread: loading takes seconds)."""
    from models.scorer import Scorer  # lazy: torch and transformers are heavy imports

    return Scorer.from_config(config.models)


class Service:
    """One running daemon. `start()`, then `wait()`; `stop()` is idempotent."""

    def __init__(
        self,
        config: Config,
        clock: Clock | None = None,
        scorer_factory: Callable[[], TextScorer] | None = None,
        *,
        config_path: Path | None = None,
    ) -> None:
        self.config = config
        self.config_path = config_path  # re-read on SIGHUP and POST /-/reload
        self.clock = clock or SystemClock()
        self.metrics = Metrics()
        self.store = Store(
            config.storage.location(), exclusive=True,
            on_write=self.metrics.store_write_seconds.observe,
        )
        self.http = HttpClient(http_limits(config))
        self.pipeline = Pipeline(self.store, BrandMatcher(config.brands), self.clock)
        self.scoring = ScoringStage(
            self.store, scorer_factory or (lambda: load_scorer(config)), self.clock, self.metrics,
            masker=config_masker(config.brands),
        )
        self.pipeline.on_new_mentions(self.scoring.submit)
        self.router = Router(config)
        self.channels: dict[str, Channel] = {
            c.name: build_channel(c) for c in (config.channels or default_channels()) if c.enabled
        }
        self.dispatcher = AlertDispatcher(self.store, self.router, self.channels, clock=self.clock)
        self.dispatcher.on_outcome = lambda channel, outcome: self.metrics.alerts.labels(
            channel, outcome
        ).inc()
        self.metrics.build.info({"version": VERSION, "python": sys.version.split()[0]})
        self._status_mark: tuple[datetime, int, int] | None = None  # at, sent, failed
        self.incidents = IncidentBook(
            self.store, self.router.route, self.clock, config.detection,
            group_wait=config.alerting.group_wait,
        )
        self.detection = self._new_detection()
        self.scoring.on_scored(self._on_scored)
        # Several daemons on one PostgreSQL database (monitor/cluster.py): set by start().
        self.membership: Membership | None = None
        self.leader: DetectionLeader | None = None
        self._leader_wake = asyncio.Event()
        self.runners: dict[str, SourceRunner] = {}
        self.intake: WebhookIntake | None = None
        self.scheduler: AsyncIOScheduler | None = None
        self._reload_lock = asyncio.Lock()
        self.extra_routes: list[web.RouteDef] = []
        self._web: web.AppRunner | None = None
        self._lead_task: asyncio.Task[None] | None = None
        # Torch threads set because other daemons share this host (None: torch's own choice).
        self._threads: int | None = None
        self._own_threads: int | None = None
        self._inflight: set[asyncio.Task[Any]] = set()
        self._closing: set[asyncio.Task[None]] = set()  # retired connectors' close() (streams)
        self._stopped = asyncio.Event()
        self._stopping = False
        self.http_port: int | None = None

    def _new_detection(self) -> DetectionEngine:
        """A detection engine over the current config (a new leader starts from one)."""
        engine = DetectionEngine(
            self.store, self.incidents, self.clock, self.config.detection,
            brands=[b.name for b in self.config.brands],
        )
        self.detection = engine
        return engine

    @property
    def detecting(self) -> bool:
        """Whether this daemon runs detection (alone on its database, or as the leader)."""
        return self.leader is None or self.leader.leading

    async def start(self, *, realtime: bool = True) -> None:
        """Open the store, build runners, start the scheduler and the HTTP server.

        With `realtime=False` nothing runs by itself: no scheduler, scoring worker, dispatcher
        loop or HTTP server; a virtual-time driver (replay, backtest, demo) calls the same
        jobs in order instead (`monitor.virtual.VirtualDriver`).
        """
        await self.store.open()
        if self.store.shared and realtime:
            storage = self.config.storage
            self.membership = Membership(
                self.store, heartbeat=storage.heartbeat, lease=storage.lease
            )
            await self.membership.beat()
            self.leader = DetectionLeader(self.membership, self._new_detection)
            self.dispatcher.holder = self.membership.holder
            self.scoring.share(self.membership.holder, storage.scoring_claim)
            log.info(
                "sharing database %s as daemon %s", self.config.storage.describe(),
                self.membership.holder,
            )
        pushed = []
        for source in self.config.enabled_sources():
            connector = self.build_connector(source)
            if connector.push_only:
                pushed.append(connector)
            else:
                self.runners[source.name] = self.build_runner(source, connector, self.config)
        # Mounted even with no webhook source, so one added by a reload is served.
        self.intake = WebhookIntake.from_connectors(pushed, self.submit_pushed, clock=self.clock)
        self.extra_routes.append(web.post(INGEST_ROUTE, self._ingest))
        if self.leader is None:
            await self.detection.restore()  # a leader restores when it takes the lease
        await self.dispatcher.recover()
        if not realtime:
            return
        await self.scoring.start()
        await self.dispatcher.start()
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        if self.membership is not None:
            self.scheduler.add_job(
                self._tracked(self.beat), IntervalTrigger(seconds=self.membership.heartbeat),
                id="heartbeat", name="cluster heartbeat", max_instances=1, coalesce=True,
            )
            self._lead_task = asyncio.create_task(self._lead_forever(), name="detection-leader")
        for name, runner in self.runners.items():
            self.schedule(name, runner)
        self.scheduler.add_job(
            self._tracked(self.remind), IntervalTrigger(seconds=60),
            id="reminders", name="alert reminders and escalation", max_instances=1, coalesce=True,
        )
        if self.config.logging.status_interval > 0:
            self._status_mark = (self.clock.now(), 0, 0)
            self.scheduler.add_job(
                self._tracked(self.log_status),
                IntervalTrigger(seconds=self.config.logging.status_interval),
                id="status", name="status log line", max_instances=1, coalesce=True,
            )
        self.scheduler.add_job(
            self._tracked(self.prune), IntervalTrigger(seconds=self.config.storage.prune_interval),
            id="prune", name="retention prune", max_instances=1, coalesce=True,
            next_run_time=self.clock.now() + timedelta(seconds=30),
        )
        self.scheduler.start()
        if self.config.server.enabled:
            await self._start_http()
        log.info(
            "brand-monitor started: %d brands, %d sources, database %s",
            len(self.config.brands), len(self.runners), self.config.storage.describe(),
        )

    def build_connector(self, source: SourceConfig) -> Connector:
        """The connector for a source table (raises ValueError on a bad or unset option)."""
        return connector_class(source.kind)(
            source.name, source.options(), self.http, clock=self.clock
        )

    def build_runner(
        self, source: SourceConfig, connector: Connector, config: Config
    ) -> SourceRunner:
        """A runner for a polled source, with the polling settings of `config`."""
        runner = SourceRunner(
            source, connector, self.store, self.pipeline, self.clock,
            config.polling, self.metrics, engagement=config.engagement,
        )
        if self.membership is not None:
            runner.lease = self.membership.hold
        return runner

    def schedule(self, name: str, runner: SourceRunner) -> None:
        """Add a source's poll (and engagement refresh) jobs, first poll within seconds."""
        assert self.scheduler is not None
        interval = runner.source.interval or runner.connector.default_interval
        jitter = runner.source.jitter
        jitter_s = jitter * interval if jitter < 1 else jitter
        # Stagger first polls over a few seconds so start-up is not a burst.
        first = self.clock.now() + timedelta(seconds=random.uniform(0.5, 5.0))
        self.scheduler.add_job(
            self._tracked(runner.poll), IntervalTrigger(seconds=interval, jitter=jitter_s),
            id=f"poll:{name}", name=f"poll {name}", max_instances=1, coalesce=True,
            next_run_time=first, misfire_grace_time=int(interval),
        )
        if runner.connector.supports_refresh:
            self.scheduler.add_job(
                self._tracked(runner.refresh),
                IntervalTrigger(seconds=runner.engagement.refresh_interval, jitter=30),
                id=f"refresh:{name}", name=f"refresh {name}", max_instances=1, coalesce=True,
            )

    def unschedule(self, name: str) -> None:
        """Remove a source's jobs; a poll already running finishes on its own."""
        if self.scheduler is None:
            return
        for job_id in (f"poll:{name}", f"refresh:{name}"):
            if self.scheduler.get_job(job_id) is not None:
                self.scheduler.remove_job(job_id)

    async def reload(self) -> ReloadOutcome:
        """Re-read the config file and apply it; on any problem keep running on the old one."""
        async with self._reload_lock:
            outcome = await apply_config_file(self)
        self.metrics.config_reload_ok.set(1 if outcome.ok else 0)
        if outcome.ok:
            self.metrics.config_reload_time.set(self.clock.now().timestamp())
            log.info("config reloaded from %s: %s", self.config_path, outcome.summary)
        else:
            log.error(
                "config reload failed; still running on the previous config: %s",
                "; ".join(outcome.problems),
            )
        return outcome

    def close_later(self, closing: Coroutine[Any, Any, None]) -> None:
        """Run a retired part's close() in the background; a stop waits for it, briefly."""
        task = asyncio.create_task(closing, name="close-retired")
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def _tracked(self, job: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[None]]:
        """Wrap a job so shutdown can wait for it, and so it never runs after stop()."""

        async def run() -> None:
            if self._stopping:
                return
            task = asyncio.current_task()
            assert task is not None
            self._inflight.add(task)
            try:
                await job()
            except asyncio.CancelledError:
                if not self._stopping:
                    raise
                # Shutdown ran out of grace time: the job's work is retried on the next start.
                log.warning("a running job was stopped by shutdown before it finished")
            except StoreError as exc:  # the store's message says what to do; no traceback
                log.error("scheduled job failed: %s", exc)
            except Exception:
                log.exception("scheduled job failed")
            finally:
                self._inflight.discard(task)

        return run

    async def _ingest(self, request: web.Request) -> web.StreamResponse:
        """The webhook intake of the current config (a reload swaps it)."""
        assert self.intake is not None
        return await self.intake.handle(request)

    async def _reload_request(self, request: web.Request) -> web.Response:
        """`POST /-/reload`: 200 with what changed, or 400 with why the config was refused."""
        outcome = await self.reload()
        body = {"status": "ok" if outcome.ok else "error", "changes": outcome.summary,
                "problems": outcome.problems}
        return web.json_response(body, status=200 if outcome.ok else 400)

    async def submit_pushed(self, source: str, mentions: list[Any]) -> int:
        """Ingest mentions pushed to a webhook source; how many were new."""
        allowed = next((s.brands for s in self.config.sources if s.name == source), [])
        report = await self.pipeline.ingest(source, mentions, allowed)
        for brand, count in report.per_brand.items():
            self.metrics.mentions.labels(source, brand).inc(count)
        return report.stored

    async def _on_scored(self, scored: list[Any]) -> None:
        if self.leader is not None:
            self._leader_wake.set()  # the leader reads them from the detection queue
            return
        await self.detection.on_scored(scored)
        self.dispatcher.wake()

    async def beat(self) -> None:
        """Heartbeat; the leader also re-sends alerts of daemons that died mid-send."""
        assert self.membership is not None
        await self.membership.beat()
        if self.detecting and await self.membership.tidy():
            self.dispatcher.wake()
        if self.config.models.threads is None:
            await self._share_cores()

    async def _share_cores(self) -> None:
        """Split this host's cores between the daemons on it: two daemons each running torch
        on every core made scoring half as fast as one daemon (scale_out_postgres.py)."""
        assert self.membership is not None
        host = self.membership.host
        members = await self.store.read(lambda tx: tx.cluster.members())
        here = sum(1 for m in members if m.alive and m.host == host)
        cores = os.cpu_count() or 1
        wanted = max(1, cores // here) if here > 1 else self._own_threads
        if wanted is None or wanted == self._threads:
            return
        before = await self.scoring.use_threads(wanted)
        if before is None:
            return  # the models have not loaded yet: the next heartbeat tries again
        if self._own_threads is None:
            self._own_threads = before  # torch's choice alone on the host, restored later
        self._threads = wanted
        if here > 1:
            log.info(
                "%d daemons share this host's %d cores: scoring on %d torch threads",
                here, cores, wanted,
            )
        else:
            log.info("alone on this host again: scoring on %d torch threads", wanted)

    async def _lead_forever(self) -> None:
        """Lead detection whenever this daemon holds (or can take) the detection lease."""
        assert self.leader is not None
        failing = False
        while not self._stopping:
            try:
                read = await self.leader.step()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # One line per outage, not one per retry (the database may be down for minutes).
                log.log(logging.DEBUG if failing else logging.ERROR,
                        "detection leader step failed (%s); trying again shortly", exc)
                failing, read = True, 0
            else:
                if failing:
                    log.info("detection leader steps work again")
                failing = False
            if read:
                self.dispatcher.wake()
                continue
            self._leader_wake.clear()
            # A follower asks for the lease every heartbeat; the leader polls its queue often.
            wait = 0.5 if self.leader.leading else self.config.storage.heartbeat
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._leader_wake.wait(), wait)

    async def remind(self) -> None:
        """Queue reminders for unacknowledged incidents; escalate unacknowledged critical ones."""
        if not self.detecting:
            return  # the detection leader does this for every daemon
        await self.detection.tick()
        if await due_reminders(self.store, self.router, self.clock.now()):
            self.dispatcher.wake()

    async def log_status(self) -> str:
        """Log one line on the daemon's state since the last one (and return it)."""
        now = self.clock.now()
        at, sent, failed = self._status_mark or (now, 0, 0)
        counts = await self.store.read(stored_counts, iso(at))
        line = status_line(
            counts, minutes=(now - at).total_seconds() / 60,
            sent=self.dispatcher.sent - sent, failed=self.dispatcher.failed - failed,
            scoring_queue=self.scoring.depth,
            unhealthy=[n for n, r in self.runners.items()
                       if health_of(r.state, now) not in ("ok", "pending")],
        )
        self._status_mark = (now, self.dispatcher.sent, self.dispatcher.failed)
        log.info(line)
        return line

    async def prune(self) -> None:
        """Delete mentions older than the retention period."""
        if not self.detecting:
            return  # the detection leader prunes for every daemon
        cutoff = retention_cutoff(self.clock.now(), self.config.storage.retention_days)
        removed = await self.store.prune(cutoff)
        if removed:
            log.info("retention: removed %d mentions older than %s", removed, cutoff.date())

    async def _start_http(self) -> None:
        app = web.Application(client_max_size=2 * 1024 * 1024)
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        app.router.add_post("/-/reload", self._reload_request)
        app.router.add_routes(self.extra_routes)
        if self.config.web is not None:  # the dashboard shares this server and its [server] host
            from monitor.web.app import mount_service

            mount_service(app, self)
        self._web = web.AppRunner(app, access_log=None)
        await self._web.setup()
        site = web.TCPSite(self._web, self.config.server.host, self.config.server.port)
        try:
            await site.start()
        except OSError as exc:
            raise RuntimeError(
                f"cannot listen on {self.config.server.host}:{self.config.server.port}: {exc}. "
                "Change [server] port, or set [server] enabled = false"
            ) from None
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        self.http_port = sockets[0].getsockname()[1] if sockets else self.config.server.port
        log.info("HTTP server on http://%s:%s", self.config.server.host, self.http_port)
        for warning in exposure_warnings(self.config):
            log.warning(warning)

    async def health(self) -> tuple[bool, dict[str, Any]]:
        """Whether store and scheduler are alive, with per-source health."""
        try:
            store_ok = await asyncio.wait_for(self.store.ping(), timeout=5)
        except Exception:
            store_ok = False
        scheduler_ok = bool(self.scheduler and self.scheduler.running)
        now = self.clock.now()
        sources = {}
        for name, runner in self.runners.items():
            state = runner.state
            sources[name] = {
                "health": health_of(state, now),
                "last_success": state.last_success.isoformat() if state and state.last_success
                else None,
                "last_error": state.last_error if state else None,
                "consecutive_failures": state.consecutive_failures if state else 0,
            }
        ok = store_ok and scheduler_ok and not self._stopping
        body: dict[str, Any] = {
            "status": "ok" if ok else "unhealthy", "store": store_ok,
            "scheduler": scheduler_ok, "models": self.scoring.load_error or "ok",
            "sources": sources,
        }
        if self.membership is not None:
            body["cluster"] = {"daemon": self.membership.holder, "leads_detection": self.detecting}
        return ok, body

    async def _healthz(self, request: web.Request) -> web.Response:
        ok, body = await self.health()
        return web.json_response(body, status=200 if ok else 503, dumps=json.dumps)

    async def _metrics(self, request: web.Request) -> web.Response:
        self.metrics.queue_depth.labels("store").set(self.store.pending)
        self.metrics.queue_depth.labels("scoring").set(self.scoring.depth)
        counts = await self.store.read(stored_counts)
        self.metrics.mentions_stored.set(counts.mentions)
        for severity in SEVERITIES:
            self.metrics.incidents_open.labels(severity).set(counts.open_incidents[severity])
        for channel in {*self.channels, *counts.pending_alerts}:
            self.metrics.alerts_pending.labels(channel).set(counts.pending_alerts[channel])
        return web.Response(body=self.metrics.render(), content_type="text/plain")

    def install_signal_handlers(self) -> None:
        """SIGTERM and SIGINT start a graceful stop; SIGHUP reloads the config."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._on_signal, sig)
        loop.add_signal_handler(signal.SIGHUP, self._on_sighup)

    def _on_sighup(self) -> None:
        log.info("received SIGHUP: reloading %s", self.config_path)
        task = asyncio.create_task(self.reload(), name="reload")
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    def _on_signal(self, sig: signal.Signals) -> None:
        log.info("received %s: stopping", sig.name)
        self.request_stop()

    def request_stop(self) -> None:
        """Ask `wait()` to return."""
        self._stopped.set()

    async def wait(self) -> None:
        """Block until a stop is requested."""
        await self._stopped.wait()

    async def stop(self) -> None:
        """Stop polling, let in-flight work finish (bounded), flush and close. Idempotent."""
        if self._stopping:
            return
        self._stopping = True
        if self.scheduler and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self._inflight:
            log.info(
                "waiting up to %.0fs for %d running polls", SHUTDOWN_GRACE, len(self._inflight)
            )
            _done, pending = await asyncio.wait(set(self._inflight), timeout=SHUTDOWN_GRACE)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=2)
        if self._lead_task is not None:
            self._lead_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._lead_task
        if self._web is not None:
            await self._web.cleanup()
        await self.scoring.stop()
        await self.dispatcher.stop()
        for task in self._closing:  # retired channels and streams: close them now
            task.cancel()
        if self._closing:
            await asyncio.wait(set(self._closing), timeout=5)
        for channel in self.channels.values():
            await channel.close()
        for runner in self.runners.values():
            await runner.connector.close()
        await self.http.close()
        if self.membership is not None:
            try:  # others take over this daemon's sources and detection at once
                await self.membership.leave()
            except Exception as exc:
                log.warning("could not leave the shared database cleanly (%s); the others "
                            "take over once this daemon's leases run out", exc)
        await self.store.close()
        log.info("brand-monitor stopped")


async def run_service(config: Config, config_path: Path | None = None) -> None:
    """Run the daemon until SIGTERM/SIGINT; a signal during start-up stops it too."""
    service = Service(config, config_path=config_path)
    service.install_signal_handlers()
    try:
        starting = asyncio.create_task(service.start(), name="start")
        stop_requested = asyncio.create_task(service.wait(), name="wait-for-stop")
        await asyncio.wait({starting, stop_requested}, return_when=asyncio.FIRST_COMPLETED)
        if not starting.done():
            log.info("stop requested during start-up")
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await starting
        else:
            starting.result()  # a failed start raises here
            await stop_requested
        stop_requested.cancel()
    finally:
        try:
            await asyncio.wait_for(service.stop(), timeout=STOP_DEADLINE)
        except TimeoutError:
            # systemd kills at 90 s; exiting first keeps the log truthful. Unfinished work is
            # redone at the next start (stored mentions are rescored, outbox rows re-sent).
            log.error("stopping took over %.0fs; exiting without waiting further", STOP_DEADLINE)
