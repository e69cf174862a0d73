"""Run the real daemon against the scripted day, in virtual time, and report what it did.

The feed server and the capture mailbox listen on 127.0.0.1; the config is one a user could
write (it is saved next to the database); the Service is the daemon's own, started without its
real-time parts and driven minute by minute by `VirtualDriver`, delivering alerts as it goes.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from monitor.alerting.settings import ConsoleSettings, EmailSettings
from monitor.clock import VirtualClock
from monitor.config import Config, ConfigError, parse_config
from monitor.demo.feeds import FeedServer
from monitor.demo.mailbox import CaptureMailbox, read_mbox
from monitor.demo.script import DAY_HOURS, DAY_START, scripted_day
from monitor.records import Incident
from monitor.service import Service  # not in run_demo: the import reads files (no blocking)
from monitor.store import AlertRow, Tx
from monitor.virtual import VirtualDriver

log = logging.getLogger(__name__)
# The X token, YouTube key and Bluesky app password the feed server accepts.
TOKEN_ENV = "BRAND_MONITOR_DEMO_TOKEN"
DATABASE = "brand-monitor.db"
MBOX = "alerts.mbox"
CONFIG = "demo-config.toml"

CONFIG_TEMPLATE = """\
# The config `brand-monitor demo` ran with: the sources point at its feed server on
# 127.0.0.1:{port} and email goes to its capture mailbox; both lived only while it ran.

[[brands]]
name = "Kestrel"                      # snack bars
aliases = ["Kestrel bars", "Kestrel Foods"]
exclusions = ["american kestrel"]     # the bird is not the brand

[[brands]]
name = "Voltra"                       # phones
aliases = ["Voltra X9"]

[[sources]]
kind = "rss"
name = "news"
url = "{base}/news/rss?q=Kestrel+OR+Voltra"
interval = "10m"

[[sources]]
kind = "reddit"
name = "reddit"
search = ["Kestrel OR Voltra"]
base_url = "{base}/reddit"
interval = "5m"

[[sources]]
kind = "mastodon"
name = "mastodon"
instances = ["{base}/mastodon"]
hashtags = ["Kestrel", "Voltra"]
interval = "5m"

[[sources]]
kind = "bluesky"
name = "bluesky"
search = ["Kestrel", "Voltra"]
auth_service = "{base}/bluesky"       # search needs a session: an app password's login
identifier = "demo-monitor.bsky.social"
app_password = {{ env = "{token_env}" }}
interval = "5m"

[[sources]]
kind = "bluesky_stream"               # Bluesky's live stream (Jetstream), matched locally
name = "bluesky-live"
terms = ["Kestrel", "Voltra"]
url = "{ws_base}/bluesky/subscribe"
interval = "1m"                       # how often matched posts are handed over

[[sources]]
kind = "x"
name = "x"
query = "(Kestrel OR Voltra) -is:retweet"
bearer_token = {{ env = "{token_env}" }}
base_url = "{base}/x"
interval = "5m"

[[sources]]
kind = "youtube"
name = "youtube"
query = "Kestrel|Voltra"
api_key = {{ env = "{token_env}" }}
base_url = "{base}/youtube/v3"
interval = "15m"                      # a search costs 100 of the 10,000 daily quota units

[storage]
path = "{database}"

[models]
threads = 1                           # small batches: one thread is as fast and shares the CPU

[server]
enabled = false

[alerting]
group_wait = "30s"
unmatched_channels = []               # below the routes' severities: recorded, not sent

[alerting.repeat_interval]
critical = "4h"
high = "6h"

[[channels]]
kind = "console"
name = "console"
stream = "stdout"

[[channels]]
kind = "email"
name = "email"
host = "127.0.0.1"
port = {smtp_port}
security = "none"                     # a mailbox on this machine; use "starttls" for a relay
sender = "brand-monitor@demo.example"
to = ["comms-team@demo.example"]
message_id_host = "demo.example"

[[routes]]
name = "harm claims to the comms team"
categories = ["health_safety", "fraud_scam", "legal_regulatory", "privacy_security",
              "discrimination_ethics", "outage", "boycott"]
min_severity = "medium"
channels = ["console", "email"]
send_resolved = true

[[routes]]
name = "everything else on the console"
min_severity = "low"
channels = ["console"]
"""


class DemoError(Exception):
    """The demo cannot run (or could not finish); the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class HourMark:
    """Where the day stands, once per virtual hour."""

    now: datetime
    published: int  # scripted posts published so far
    stored: dict[str, int]  # mentions stored per brand
    open_incidents: int
    alerts_sent: int


@dataclass(slots=True)
class DemoReport:
    """What the demo ran and what the daemon did."""

    out_dir: Path
    database: Path
    mbox: Path
    config_file: Path
    start: datetime
    end: datetime
    seconds: float = 0.0
    published: int = 0
    stored: dict[str, int] = field(default_factory=dict)
    incidents: list[Incident] = field(default_factory=list)  # oldest first
    alerts: list[AlertRow] = field(default_factory=list)  # oldest first
    destinations: dict[str, str] = field(default_factory=dict)  # channel -> where it delivers
    emails: list[EmailMessage] = field(default_factory=list)
    requests: dict[str, int] = field(default_factory=dict)  # feed server requests per platform


def config_text(base_url: str, smtp_port: int, database: Path) -> str:
    """The demo's config as TOML, pointing at the feed server and the capture mailbox."""
    port = base_url.rsplit(":", 1)[-1]
    return CONFIG_TEMPLATE.format(
        base=base_url, ws_base="ws" + base_url.removeprefix("http"), port=port,
        smtp_port=smtp_port, token_env=TOKEN_ENV,
        database=str(database).replace("\\", "\\\\").replace('"', '\\"'),
    )


def _stats(tx: Tx) -> tuple[dict[str, int], int, int]:
    open_incidents = sum(tx.incidents.count_active_by_severity().values())
    return tx.mentions.count_by_brand(), open_incidents, tx.outbox.count(("sent",))


def _waiting(tx: Tx) -> int:
    return tx.outbox.count(("pending", "sending"))


def _destinations(config: Config) -> dict[str, str]:
    """Where each channel delivers, in words."""
    found = {}
    for channel in config.channels:
        if isinstance(channel, EmailSettings):
            found[channel.name] = ", ".join(channel.to)
        elif isinstance(channel, ConsoleSettings):
            found[channel.name] = channel.stream
    return found


def _check_out_dir(out_dir: Path) -> Path:
    """The directory, made if needed and resolved; DemoError when it holds an earlier run."""
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in (DATABASE, MBOX):
        if (out_dir / name).exists():
            raise DemoError(
                f"{out_dir / name} already exists: the demo starts from an empty database and "
                "mailbox. Give a new directory with --out (or leave --out out for a fresh one)"
            )
    return out_dir


async def run_demo(
    out_dir: Path,
    *,
    hours: float = DAY_HOURS,
    progress: Callable[[HourMark], None] | None = None,
) -> DemoReport:
    """Play `hours` of the scripted day (from 06:00 UTC) through the daemon; report the outcome.

    `progress` is called at every full virtual hour.
    """
    if not 0 < hours <= DAY_HOURS:
        raise DemoError(f"--hours must be between 1 and {DAY_HOURS}, got {hours:g}")
    out_dir = await asyncio.to_thread(_check_out_dir, out_dir)
    day = await asyncio.to_thread(scripted_day)
    start, end = DAY_START, DAY_START + timedelta(hours=hours)
    report = DemoReport(out_dir=out_dir, database=out_dir / DATABASE, mbox=out_dir / MBOX,
                        config_file=out_dir / CONFIG, start=start, end=end)
    clock = VirtualClock(start)
    token = secrets.token_urlsafe(24)
    feeds = FeedServer(day, clock, token)
    mailbox = CaptureMailbox(report.mbox)
    previous_token = os.environ.get(TOKEN_ENV)
    os.environ[TOKEN_ENV] = token  # the sources read their secrets from here
    started = time.perf_counter()
    try:
        base_url = await feeds.start()
        smtp_port = await mailbox.start()
        text = config_text(base_url, smtp_port, report.database)
        await asyncio.to_thread(report.config_file.write_text, text, encoding="utf-8")
        try:
            # In a thread: validation imports the connector modules, which read files.
            config: Config = await asyncio.to_thread(
                parse_config, tomllib.loads(text), str(report.config_file)
            )
        except ConfigError as exc:  # a bug in the template, not something the user did
            raise DemoError(f"the demo's own config is invalid: {exc}") from None
        report.destinations = _destinations(config)
        service = Service(config, clock=clock)
        try:
            await service.start(realtime=False)
            driver = VirtualDriver(service, clock, deliver=True)

            def models_failed() -> DemoError:
                return DemoError(
                    f"the models could not be loaded: {service.scoring.load_error}; check the "
                    "installation with `brand-monitor models info`"
                )

            async def hourly(now: datetime) -> bool:
                feeds.clock_moved()  # the live stream sends what was published meanwhile
                if service.scoring.load_error:
                    raise models_failed()  # nothing would be scored: stop instead of playing on
                if progress is not None and now.minute == 0:
                    stored, open_incidents, sent = await service.store.read(_stats)
                    published = sum(1 for p in day if p.published_at <= now)
                    progress(HourMark(now, published, stored, open_incidents, sent))
                return False  # input arrives through the sources' polls

            await driver.run_until(end, hourly)
            # Alerts still in their group wait when the day ends go out before the report.
            grace = end + timedelta(seconds=config.alerting.group_wait + driver.step_seconds)
            while await service.store.read(_waiting) and clock.now() < grace:
                clock.advance(driver.step_seconds)
                await driver.step(fed=False)
            if service.scoring.load_error:
                raise models_failed()
            report.stored, _, _ = await service.store.read(_stats)
            incidents = await service.incidents.list(limit=10_000)
            report.incidents = sorted(incidents, key=lambda i: (i.opened_at, i.id))
            rows = await service.store.read(lambda tx: tx.outbox.recent(limit=100_000))
            report.alerts = sorted(rows, key=lambda r: r.id)
        finally:
            await service.stop()
    finally:
        if previous_token is None:
            os.environ.pop(TOKEN_ENV, None)
        else:
            os.environ[TOKEN_ENV] = previous_token
        await mailbox.close()
        await feeds.close()
    report.seconds = time.perf_counter() - started
    report.published = sum(1 for p in day if p.published_at <= clock.now())
    report.emails = await asyncio.to_thread(read_mbox, report.mbox)
    report.requests = dict(feeds.requests)
    return report
