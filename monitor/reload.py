"""What a config reload changes: compared section by section, applied without a restart."""

from __future__ import annotations

from dataclasses import dataclass, field

from monitor.config import Config, SourceConfig

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
