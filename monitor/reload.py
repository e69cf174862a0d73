"""What a config reload changes: compared section by section, applied without a restart."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from connectors.base import Connector, connector_class
from connectors.webhook import WebhookIntake
from monitor.alerting.channels import Channel, build_channel
from monitor.alerting.routing import Router
from monitor.alerting.settings import default_channels
from monitor.config import Config, ConfigError, SourceConfig, load_config
from monitor.matching import BrandMatcher
from monitor.scoring import config_masker

if TYPE_CHECKING:
    from monitor.service import Service

# Sections whose objects are built once at start (the database, the HTTP server and client, the
# models, the detectors, logging): a change to them is reported and waits for a restart.
RESTART_SECTIONS = ("storage", "server", "http", "models", "detection", "logging")


def _source_map(config: Config) -> dict[str, SourceConfig]:
    return {s.name: s for s in config.enabled_sources()}


@dataclass(slots=True)
class ReloadPlan:
    """The differences between the running config and a new one."""

    added: list[str] = field(default_factory=list)  # enabled sources new to the daemon
    removed: list[str] = field(default_factory=list)  # sources gone or disabled
    changed: list[str] = field(default_factory=list)  # sources whose table (or polling) changed
    brands: bool = False
    alerting: bool = False  # channels, routes or [alerting]
    restart_only: list[str] = field(default_factory=list)

    @classmethod
    def between(cls, old: Config, new: Config) -> ReloadPlan:
        """Compare two validated configs."""
        before, after = _source_map(old), _source_map(new)
        # A runner carries the polling and engagement settings: changing them rebuilds runners.
        shared = (
            old.polling != new.polling or old.engagement != new.engagement
        )
        return cls(
            added=sorted(after.keys() - before.keys()),
            removed=sorted(before.keys() - after.keys()),
            changed=sorted(
                name for name in before.keys() & after.keys()
                if before[name] != after[name] or shared
            ),
            brands=old.brands != new.brands,
            alerting=(
                old.channels != new.channels or old.routes != new.routes
                or old.alerting != new.alerting
            ),
            restart_only=[s for s in RESTART_SECTIONS if getattr(old, s) != getattr(new, s)],
        )

    def summary(self) -> str:
        """One line for the log: what is applied now, what waits for a restart."""
        parts = []
        for label, names in (("added", self.added), ("removed", self.removed),
                             ("changed", self.changed)):
            if names:
                parts.append(f"sources {label}: {', '.join(names)}")
        if self.brands:
            parts.append("brands updated")
        if self.alerting:
            parts.append("channels, routes and alerting updated")
        if self.restart_only:
            sections = ", ".join(f"[{s}]" for s in self.restart_only)
            parts.append(f"changes to {sections} take effect at the next restart")
        return "; ".join(parts) or "no changes"


@dataclass(slots=True)
class ReloadOutcome:
    """What a reload did: applied (with a summary of the changes) or refused (with problems)."""

    ok: bool
    problems: list[str] = field(default_factory=list)
    summary: str = ""


async def apply_config_file(service: Service) -> ReloadOutcome:
    """Read the service's config file again and apply it, or say why it cannot be."""
    if service.config_path is None:
        return ReloadOutcome(False, ["the daemon was not started from a config file"])
    try:
        new = await asyncio.to_thread(load_config, service.config_path)
    except ConfigError as exc:
        return ReloadOutcome(False, [f"{exc.path}: {p}" for p in exc.problems])
    plan = ReloadPlan.between(service.config, new)
    # Build everything that can fail (secrets, options) before changing anything.
    try:
        sources = _source_map(new)
        fresh = {
            name: service.build_connector(sources[name])
            for name in [*plan.added, *plan.changed]
        }
        router = Router(new) if plan.alerting else service.router
        channels = _channels_for(service, new) if plan.alerting else service.channels
        pushed = [
            fresh.get(source.name) or service.build_connector(source)
            for source in new.enabled_sources() if connector_class(source.kind).push_only
        ]
        intake = WebhookIntake.from_connectors(pushed, service.submit_pushed, clock=service.clock)
    except ValueError as exc:
        return ReloadOutcome(False, [str(exc)])
    _apply(service, new, plan, fresh, router, channels)
    service.intake = intake
    service.config = new
    return ReloadOutcome(True, [], plan.summary())


def _channels_for(service: Service, config: Config) -> dict[str, Channel]:
    """Channels of a new config: unchanged ones are kept (open sessions, sends in flight)."""
    channels: dict[str, Channel] = {}
    old = {c.name: c for c in (service.config.channels or default_channels())}
    for settings in config.channels or default_channels():
        if not settings.enabled:
            continue
        if old.get(settings.name) == settings and settings.name in service.channels:
            channels[settings.name] = service.channels[settings.name]
        else:
            channels[settings.name] = build_channel(settings)
    return channels


def _apply(
    service: Service,
    new: Config,
    plan: ReloadPlan,
    fresh: dict[str, Connector],
    router: Router,
    channels: dict[str, Channel],
) -> None:
    """Swap in what changed; queued mentions and outbox rows are untouched."""
    if plan.brands:
        service.pipeline.matcher = BrandMatcher(new.brands)
        service.scoring.masker = config_masker(new.brands)
        if service.detection.volume is not None:
            service.detection.volume.brands = [b.name for b in new.brands]
    for name in [*plan.removed, *plan.changed]:
        service.unschedule(name)
        old_runner = service.runners.pop(name, None)
        if old_runner is not None:  # a stream source stops its reader task
            service.close_later(old_runner.connector.close())
    sources = _source_map(new)
    for name, connector in fresh.items():
        if connector.push_only:
            continue
        service.runners[name] = runner = service.build_runner(sources[name], connector, new)
        if service.scheduler is not None:
            service.schedule(name, runner)
    if plan.alerting:
        retired = [c for n, c in service.channels.items() if channels.get(n) is not c]
        service.router, service.channels = router, channels
        service.incidents.router = router.route
        service.incidents.group_wait = new.alerting.group_wait
        service.dispatcher.use(router, channels)
        if retired:
            # Sends in flight still hold the old channels: close them once those are done.
            service.close_later(_close_channels(retired, after=RETIRE_AFTER))


RETIRE_AFTER = 60.0  # seconds a replaced channel stays open for the sends it has in flight


async def _close_channels(channels: list[Channel], after: float) -> None:
    with contextlib.suppress(asyncio.CancelledError):  # a stop closes them at once
        await asyncio.sleep(after)
    for channel in channels:
        await channel.close()
