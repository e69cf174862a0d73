"""Prometheus metrics, in a registry of our own so tests and several services don't collide."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, generate_latest


class Metrics:
    """Every metric the daemon exports on /metrics."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.polls = Counter(
            "brand_monitor_polls", "Source polls by outcome", ["source", "outcome"],
            registry=self.registry,
        )
        self.poll_errors = Counter(
            "brand_monitor_poll_errors", "Failed polls by source and error type",
            ["source", "error"], registry=self.registry,
        )
        self.mentions = Counter(
            "brand_monitor_mentions_ingested", "New mentions stored", ["source", "brand"],
            registry=self.registry,
        )
        self.source_healthy = Gauge(
            "brand_monitor_source_healthy", "1 when the source's last poll succeeded", ["source"],
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "brand_monitor_queue_depth", "Items waiting per internal queue", ["queue"],
            registry=self.registry,
        )
        self.store_write_seconds = Histogram(
            "brand_monitor_store_write_seconds", "Duration of one store write transaction",
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=self.registry,
        )

        self.alerts = Counter(
            "brand_monitor_alerts", "Alert delivery outcomes (sent, retry, failed) by channel",
            ["channel", "outcome"], registry=self.registry,
        )
        self.alerts_pending = Gauge(
            "brand_monitor_alerts_pending", "Alerts waiting to be delivered, by channel",
            ["channel"], registry=self.registry,
        )
        self.incidents_open = Gauge(
            "brand_monitor_incidents_open", "Open or acknowledged incidents by severity",
            ["severity"], registry=self.registry,
        )
        self.mentions_stored = Gauge(
            "brand_monitor_mentions_stored", "Mentions in the database", registry=self.registry,
        )
        self.mentions_scored = Counter(
            "brand_monitor_mentions_scored", "Mentions scored by the models",
            registry=self.registry,
        )
        self.build = Info("brand_monitor_build", "Version of the running daemon",
                          registry=self.registry)
        self.config_reload_ok = Gauge(
            "brand_monitor_config_last_reload_successful",
            "1 when the last config reload succeeded (or none was tried), 0 when it failed",
            registry=self.registry,
        )
        self.config_reload_ok.set(1)
        self.config_reload_time = Gauge(
            "brand_monitor_config_last_reload_success_timestamp_seconds",
            "Unix time of the last successful config load (start or reload)",
            registry=self.registry,
        )
        self.config_reload_time.set_to_current_time()

    def render(self) -> bytes:
        """The exposition text for /metrics."""
        return generate_latest(self.registry)
