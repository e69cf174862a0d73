"""Digest routes: low-severity incidents arrive as one email per period, through the real daemon
parts (incident book, reminders job, dispatcher) on a real store, a real SMTP server (aiosmtpd)
and a local webhook receiver, in virtual time."""

from __future__ import annotations

import json
import random
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from aiosmtpd.controller import Controller
from typer.testing import CliRunner

from monitor.alerting.channels import build_channel
from monitor.alerting.dispatcher import AlertDispatcher, due_reminders
from monitor.alerting.render import render_slack
from monitor.alerting.routing import Router
from monitor.cli import app
from monitor.clock import VirtualClock
from monitor.config import Config, parse_config
from monitor.incidents import IncidentBook
from monitor.records import AlertMessage, Assessment, Digest, Incident, Mention
from monitor.store import PostgresTarget, Store
from tests.alerting.dispatch_support import HOOK_SECRET, HOOK_SECRET_ENV, Receiver, webhook_channel
from tests.alerting.factory import HOSTILE, make_incident
from tests.alerting.test_email import Inbox, free_port
from tests.store_backends import postgres_server, select, store_location  # noqa: F401

T0 = datetime(2024, 5, 17, 14, 0, tzinfo=UTC)  # a Friday afternoon
MIDNIGHT = datetime(2024, 5, 18, 0, 0, tzinfo=UTC)  # the end of T0's "1d" period
ServerFactory = Callable[[web.Application], Awaitable[TestServer]]
ROUTES: list[dict[str, Any]] = [
    {"name": "oncall", "min_severity": "medium", "channels": ["hook"]},
    {"name": "team-digest", "max_severity": "low", "channels": ["team-mail"], "digest": "1d"},
]


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def smtp_port(inbox: Inbox) -> Iterator[int]:
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
async def hook(
    receiver: Receiver, aiohttp_server: ServerFactory, monkeypatch: pytest.MonkeyPatch
) -> TestServer:
    monkeypatch.setenv(HOOK_SECRET_ENV, HOOK_SECRET)
    return await aiohttp_server(receiver.app())


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(T0)


def make_config(
    smtp_port: int, hook: TestServer, routes: list[dict[str, Any]] | None = None
) -> Config:
    return parse_config({
        "brands": [{"name": "Acme"}],
        # Reminders for low incidents would be due hourly, were they not in a digest route.
        "alerting": {"repeat_interval": {"low": "1h", "info": "1h"}},
        "channels": [
            {
                "kind": "email", "name": "team-mail", "host": "127.0.0.1", "port": smtp_port,
                "security": "none", "sender": "monitor@acme.example",
                "to": ["team@acme.example"], "message_id_host": "mon1.acme.example",
                "timeout": 5,
            },
            {
                "kind": "webhook", "name": "hook", "url": str(hook.make_url("/hook")),
                "secret": {"env": HOOK_SECRET_ENV},
            },
        ],
        "routes": routes if routes is not None else ROUTES,
    })


@dataclass
class Daemon:
    """The parts of the daemon a digest passes through, opened on one database file."""

    store: Store
    router: Router
    dispatcher: AlertDispatcher
    book: IncidentBook
    clock: VirtualClock

    @classmethod
    async def start(
        cls, db: Path | PostgresTarget, config: Config, clock: VirtualClock, hook: TestServer
    ) -> Daemon:
        store = await Store(db).open()
        router = Router(config)
        channels = {
            "team-mail": build_channel(config.channels[0]),
            "hook": webhook_channel(hook, clock),
        }
        dispatcher = AlertDispatcher(store, router, channels, clock=clock, rng=random.Random(3))
        await dispatcher.recover()
        book = IncidentBook(store, router.route, clock)
        return cls(store, router, dispatcher, book, clock)

    async def tick(self) -> None:
        """One minute of the daemon: the reminders job, then the dispatcher drains the outbox."""
        await due_reminders(self.store, self.router, self.clock.now())
        while await self.dispatcher.run_once():
            pass

    async def run_until(self, until: datetime, step: float = 3600) -> None:
        """Tick every `step` seconds of virtual time up to `until`, then once at `until`."""
        while self.clock.now() + timedelta(seconds=step) < until:
            self.clock.advance(step)
            await self.tick()
        self.clock.set(until)
        await self.tick()

    async def stop(self) -> None:
        for channel in self.dispatcher.channels.values():
            await channel.close()
        await self.store.close()

    async def open_incident(
        self, key: str, severity: str, summary: str, category: str = "none", mentions: int = 2
    ) -> Incident:
        """What detection does for a new claim: store its mentions, then open the incident."""
        now = self.clock.now()
        saved = await self.store.save_mentions([
            Mention(
                platform="reddit", external_id=f"{key}-{n}", text=summary, author=f"u/{key}{n}",
                source="reddit-food", brands=("Acme",), fetched_at=now, published_at=now,
            )
            for n in range(mentions)
        ])
        incident = await self.book.apply(self.assessment(key, severity, summary, category, saved))
        assert incident is not None
        return incident

    def assessment(
        self, key: str, severity: str, summary: str, category: str, saved: list[Mention]
    ) -> Assessment:
        return Assessment(
            brand="Acme", kind="viral_claim", key=key, category=category, risk=0.3,
            severity=severity, factors=[], summary=summary,
            mention_ids=[m.id for m in saved if m.id is not None], author_count=len(saved),
            platforms=["reddit"], at=self.clock.now(),
        )


@pytest.fixture
async def daemon(
    store_location: Path | PostgresTarget,  # noqa: F811
    smtp_port: int, hook: TestServer, clock: VirtualClock,
) -> AsyncIterator[Daemon]:
    d = await Daemon.start(store_location, make_config(smtp_port, hook), clock, hook)
    await d.tick()  # the daemon is running when the period starts
    yield d
    await d.stop()


def alert_rows(store: Store) -> list[tuple[Any, ...]]:
    return select(store, "SELECT reason, channel, status FROM alerts ORDER BY id")


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def html_of(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None
    return str(part.get_content())


# -- the digest email -----------------------------------------------------------------------


async def test_two_low_incidents_in_one_period_arrive_as_one_email(
    daemon: Daemon, inbox: Inbox, receiver: Receiver
) -> None:
    daemon.clock.advance(3600)
    flat = await daemon.open_incident("claim:flat", "low", "Acme cola tastes flat this week")
    daemon.clock.advance(2 * 3600)
    outage = await daemon.open_incident(
        "claim:app", "low", "Acme app <script>alert(1)</script> <!channel> keeps logging out",
        category="outage", mentions=3,
    )
    await daemon.run_until(MIDNIGHT - timedelta(minutes=1), step=600)
    # Hours after both opened: no per-incident alert, no reminder, nothing anywhere yet.
    assert inbox.envelopes == [] and receiver.requests == []
    assert alert_rows(daemon.store) == []

    await daemon.run_until(MIDNIGHT + timedelta(seconds=30))
    (envelope,) = inbox.envelopes
    assert envelope.rcpt_tos == ["team@acme.example"]
    (message,) = inbox.messages()
    assert message["Subject"] == (
        "[digest] team-digest: 2 incidents, 2024-05-17 00:00–2024-05-18 00:00 UTC"
    )
    assert message["X-Brand-Monitor-Digest"] == "team-digest"
    # Folded onto a continuation line (a long value without spaces); unfolding keeps the space.
    assert message["X-Brand-Monitor-Idempotency-Key"].strip() == (
        "digest:team-digest:2024-05-17T00:00:00.000000Z"
    )
    assert message["In-Reply-To"] is None  # not threaded under one of its incidents
    text = text_of(message)
    assert f"LOW · Acme · viral claim — #{flat.id}, open" in text
    assert f"LOW · Acme · viral claim · outage — #{outage.id}, open" in text
    assert "Claim: Acme cola tastes flat this week" in text
    assert "Spread: 2 mentions by 2 authors on reddit" in text
    assert "Spread: 3 mentions by 3 authors on reddit" in text
    assert "Opened: 2024-05-17 15:00 UTC" in text and "Opened: 2024-05-17 17:00 UTC" in text
    assert f"Next: brand-monitor incidents ack {flat.id}" in text
    assert f"Next: brand-monitor incidents ack {outage.id}" in text
    html = html_of(message)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &lt;!channel&gt;" in html
    assert "<script>" not in html

    # The next hours of the new day send nothing more.
    await daemon.run_until(MIDNIGHT + timedelta(hours=3), step=60)
    assert len(inbox.envelopes) == 1
    assert alert_rows(daemon.store) == [("digest", "team-mail", "sent")]


async def test_an_incident_that_changes_is_listed_again_in_that_period(
    daemon: Daemon, inbox: Inbox
) -> None:
    daemon.clock.advance(3600)
    flat = await daemon.open_incident("claim:flat", "low", "Acme cola tastes flat this week")
    await daemon.open_incident("claim:cap", "info", "Acme bottle caps are hard to open")
    await daemon.run_until(MIDNIGHT + timedelta(seconds=30))
    assert "2 incidents" in str(inbox.messages()[0]["Subject"])

    daemon.clock.advance(10 * 3600)
    await daemon.book.ack(flat.id, by="ana")
    await daemon.run_until(MIDNIGHT + timedelta(days=1, seconds=30))
    first, second = inbox.messages()
    assert second["Subject"] == (
        "[digest] team-digest: 1 incident, 2024-05-18 00:00–2024-05-19 00:00 UTC"
    )
    text = text_of(second)
    assert f"#{flat.id}, acknowledged by ana" in text
    assert "bottle caps" not in text  # unchanged since the day before
    assert "Next:" not in text  # nothing left to acknowledge


async def test_an_empty_period_sends_nothing(daemon: Daemon, inbox: Inbox) -> None:
    await daemon.run_until(MIDNIGHT + timedelta(days=2, seconds=30))
    assert inbox.envelopes == []
    assert alert_rows(daemon.store) == []
    # The next period with something in it still gets its digest, listing only that.
    daemon.clock.advance(3600)
    await daemon.open_incident("claim:flat", "low", "Acme cola tastes flat this week")
    await daemon.run_until(MIDNIGHT + timedelta(days=3, seconds=30))
    (message,) = inbox.messages()
    assert "2024-05-20 00:00–2024-05-21 00:00 UTC" in str(message["Subject"])


async def test_a_restart_neither_loses_nor_repeats_the_digest(
    store_location: Path | PostgresTarget,  # noqa: F811
    smtp_port: int, hook: TestServer, clock: VirtualClock, inbox: Inbox,
) -> None:
    config = make_config(smtp_port, hook)
    db = store_location
    first = await Daemon.start(db, config, clock, hook)
    await first.tick()
    clock.advance(3600)
    await first.open_incident("claim:flat", "low", "Acme cola tastes flat this week")
    await first.open_incident("claim:cap", "low", "Acme bottle caps are hard to open")
    await first.run_until(MIDNIGHT - timedelta(hours=1))
    await first.stop()  # down over midnight: nobody was there when the period ended

    clock.set(MIDNIGHT + timedelta(hours=3))
    second = await Daemon.start(db, config, clock, hook)
    # Enqueued, then the daemon dies before the dispatcher sends it.
    assert await due_reminders(second.store, second.router, clock.now())
    await second.stop()

    clock.advance(60)
    third = await Daemon.start(db, config, clock, hook)
    await third.tick()
    await third.stop()
    (message,) = inbox.messages()
    assert "team-digest: 2 incidents, 2024-05-17 00:00–2024-05-18 00:00 UTC" in str(
        message["Subject"]
    )

    for _ in range(2):  # each further restart (new dispatcher, same database) sends nothing
        clock.advance(60)
        again = await Daemon.start(db, config, clock, hook)
        await again.run_until(clock.now() + timedelta(hours=2), step=60)
        await again.stop()
    assert len(inbox.envelopes) == 1


async def test_a_high_incident_on_the_same_brand_alerts_at_once(
    daemon: Daemon, inbox: Inbox, receiver: Receiver
) -> None:
    daemon.clock.advance(3600)
    flat = await daemon.open_incident("claim:flat", "low", "Acme cola tastes flat this week")
    cap = await daemon.open_incident("claim:cap", "low", "Acme bottle caps are hard to open")
    sick = await daemon.open_incident("claim:sick", "high", "Acme cola made people sick")
    await daemon.run_until(daemon.clock.now() + timedelta(seconds=61))  # past the group wait
    assert [(r["reason"], r["incident"]["id"]) for r in receiver.requests] == [
        ("opened", sick.id)
    ]
    assert inbox.envelopes == []

    # A low claim that turns high leaves the digest for the on-call route, at once.
    daemon.clock.advance(3600)
    saved = await daemon.store.save_mentions([])
    await daemon.book.apply(
        daemon.assessment("claim:flat", "high", "Acme cola tastes flat this week", "none", saved)
    )
    await daemon.tick()
    assert [(r["reason"], r["incident"]["id"]) for r in receiver.requests][1:] == [
        ("escalated", flat.id)
    ]

    await daemon.run_until(MIDNIGHT + timedelta(seconds=30))
    (message,) = inbox.messages()
    text = text_of(message)
    assert f"#{cap.id}, open" in text
    assert f"#{flat.id}," not in text and f"#{sick.id}," not in text
    assert "1 incident," in str(message["Subject"])


async def test_a_digest_to_a_webhook_lists_the_incidents_as_data(
    store_location: Path | PostgresTarget,  # noqa: F811
    smtp_port: int, hook: TestServer, clock: VirtualClock, receiver: Receiver
) -> None:
    routes = [{"name": "soc-daily", "channels": ["hook"], "digest": "4h"}]
    daemon = await Daemon.start(store_location, make_config(smtp_port, hook, routes), clock,
                                hook)
    try:
        await daemon.tick()
        daemon.clock.advance(600)
        flat = await daemon.open_incident("claim:flat", "low", "Acme cola tastes flat")
        await daemon.run_until(datetime(2024, 5, 17, 16, 0, 30, tzinfo=UTC), step=60)
    finally:
        await daemon.stop()
    (body,) = receiver.requests
    assert body["key"] == "digest:soc-daily:2024-05-17T12:00:00.000000Z"
    assert body["reason"] == "digest" and body["incident"] is None
    assert body["digest"]["route"] == "soc-daily"
    assert body["digest"]["period_start"] == "2024-05-17T12:00:00.000000Z"
    assert body["digest"]["period_end"] == "2024-05-17T16:00:00.000000Z"
    assert [i["id"] for i in body["digest"]["incidents"]] == [flat.id]
    assert body["text"].startswith("Digest: soc-daily — 1 incident\n")


async def test_quiet_hours_hold_the_digest_until_morning(
    store_location: Path | PostgresTarget,  # noqa: F811
    smtp_port: int, hook: TestServer, clock: VirtualClock, inbox: Inbox
) -> None:
    quiet = {"start": "22:00", "end": "07:00", "timezone": "Europe/Berlin"}
    routes = [{**ROUTES[1], "quiet_hours": quiet}]
    daemon = await Daemon.start(store_location, make_config(smtp_port, hook, routes), clock,
                                hook)
    try:
        await daemon.tick()
        daemon.clock.advance(3600)
        await daemon.open_incident("claim:flat", "low", "Acme cola tastes flat this week")
        await daemon.run_until(MIDNIGHT + timedelta(hours=4, minutes=59), step=300)
        assert inbox.envelopes == []  # 00:00 UTC is 02:00 in Berlin: held
        await daemon.run_until(MIDNIGHT + timedelta(hours=5, minutes=1), step=60)
    finally:
        await daemon.stop()
    assert len(inbox.envelopes) == 1  # 07:00 in Berlin


async def test_silenced_incidents_are_left_out_of_the_digest(
    daemon: Daemon, inbox: Inbox
) -> None:
    daemon.clock.advance(3600)
    await daemon.open_incident("claim:flat", "low", "Acme cola tastes flat this week")
    await daemon.open_incident("claim:app", "low", "Acme app logs out", category="outage")

    def silence(tx: Any) -> None:
        tx.db.execute(
            "INSERT INTO silences (brand, category, starts_at, ends_at, reason) "
            "VALUES ('Acme', 'outage', '2024-05-17T00:00:00.000000Z', "
            "'2024-05-19T00:00:00.000000Z', 'app fix shipping')"
        )

    await daemon.store.transaction(silence)
    await daemon.run_until(MIDNIGHT + timedelta(seconds=30))
    (message,) = inbox.messages()
    text = text_of(message)
    assert "tastes flat" in text and "logs out" not in text
    assert "1 silenced incident not listed." in text


# -- Slack and the limits of one message -----------------------------------------------------


def test_slack_digest_escapes_claims_and_stays_within_fifty_blocks() -> None:
    incidents = [
        make_incident(id=n, severity="low", summary=f"{HOSTILE} #{n}") for n in range(1, 61)
    ]
    digest = Digest("team-digest", MIDNIGHT - timedelta(days=1), MIDNIGHT, incidents)
    alert = AlertMessage(
        alert_id=1, idempotency_key="digest:team-digest:x", reason="digest",
        incident=incidents[0], digest=digest,
    )
    message = render_slack(alert)
    rendered = json.dumps(message.payload(), ensure_ascii=False)
    assert len(message.blocks) <= 50
    assert "<!channel>" not in rendered and "<@U123>" not in rendered
    assert "&lt;!channel&gt;" in rendered
    assert "… and 14 more: `brand-monitor incidents list --since 2024-05-17T00:00:00" in rendered


# -- configuration ---------------------------------------------------------------------------

cli = CliRunner(env={"COLUMNS": "250"})


def config_file(tmp_path: Path, route: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(textwrap.dedent("""
        [[brands]]
        name = "Acme"
        [storage]
        path = "{db}"
        [[channels]]
        kind = "email"
        name = "team-mail"
        host = "127.0.0.1"
        security = "none"
        sender = "monitor@acme.example"
        to = ["team@acme.example"]
        [[routes]]
    """).format(db=tmp_path / "bm.db") + textwrap.dedent(route))
    return path


@pytest.mark.parametrize(
    ("route", "problem"),
    [
        ('name = "d"\nchannels = ["team-mail"]\ndigest = "1d"\n', None),
        ('name = "d"\nchannels = ["team-mail"]\ndigest = "4h"\nmax_severity = "low"\n', None),
        (
            'name = "d"\nchannels = ["team-mail"]\ndigest = "daily"\n',
            "routes[0].digest: expected a duration such as 30s, 5m, 2h or 7d, got 'daily'",
        ),
        (
            'name = "d"\nchannels = ["team-mail"]\ndigest = "5h"\n',
            "routes[0].digest: a digest period runs from 1h to 1d and divides a day evenly "
            "(1h, 2h, 3h, 4h, 6h, 8h, 12h or 1d); got 5h",
        ),
        (
            'name = "d"\nchannels = ["team-mail"]\ndigest = "30m"\n',
            "routes[0].digest: a digest period runs from 1h to 1d",
        ),
        (
            'channels = ["team-mail"]\ndigest = "1d"\n',
            "routes[0]: a digest route needs a name",
        ),
        (
            'name = "d"\nchannels = ["team-mail"]\ndigest = "1d"\nsend_resolved = true\n',
            "routes[0]: send_resolved does not apply to a digest route",
        ),
        (
            'name = "d"\nchannels = ["team-mail"]\nmin_severity = "high"\nmax_severity = "low"\n',
            "routes[0]: min_severity 'high' is above max_severity 'low'",
        ),
    ],
)
def test_check_config_accepts_digest_and_explains_bad_values(
    tmp_path: Path, route: str, problem: str | None
) -> None:
    result = cli.invoke(app, ["check-config", str(config_file(tmp_path, route))])
    if problem is None:
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code == 2, result.output
        assert problem in result.output


def test_check_config_refuses_two_digest_routes_with_one_name(tmp_path: Path) -> None:
    route = 'name = "d"\nchannels = ["team-mail"]\ndigest = "1d"\n'
    path = config_file(tmp_path, route + "[[routes]]\n" + route)
    result = cli.invoke(app, ["check-config", str(path)])
    assert result.exit_code == 2
    assert "routes[1].name: another digest route is also named 'd'" in result.output
