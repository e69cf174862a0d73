"""Email channel against a real aiosmtpd server: plain, STARTTLS, implicit TLS, AUTH, failures."""

from __future__ import annotations

import logging
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from blockbuster import BlockBuster

from monitor.alerting.channels import build_channel
from monitor.alerting.channels.email import EmailChannel
from monitor.alerting.settings import parse_channels
from tests.alerting.factory import hostile_alert, make_alert, make_incident

PASSWORD = "correct-horse-battery-staple"


@dataclass
class Inbox:
    """Records what the server accepted."""

    envelopes: list[Envelope] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # recipients answered with 550

    async def handle_RCPT(  # aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        out = []
        for env in self.envelopes:
            raw = env.original_content or env.content
            assert isinstance(raw, bytes)
            parsed = message_from_bytes(raw, policy=policy.default)
            assert isinstance(parsed, EmailMessage)
            out.append(parsed)
        return out


def authenticator(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == b"alerts"
        and auth_data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


def start(inbox: Inbox, **smtp: Any) -> Iterator[int]:
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **smtp)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture
def plain_server(inbox: Inbox) -> Iterator[int]:
    yield from start(inbox, authenticator=authenticator, auth_require_tls=False)


@pytest.fixture
def starttls_server(inbox: Inbox, server_tls: ssl.SSLContext) -> Iterator[int]:
    yield from start(
        inbox, tls_context=server_tls, require_starttls=True, authenticator=authenticator
    )


@pytest.fixture
def implicit_tls_server(inbox: Inbox, server_tls: ssl.SSLContext) -> Iterator[int]:
    yield from start(inbox, ssl_context=server_tls, authenticator=authenticator)


def email_channel(port: int, **extra: Any) -> EmailChannel:
    table = {
        "kind": "email",
        "name": "mail-oncall",
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "sender": "monitor@acme.example",
        "to": ["oncall@acme.example", "pr@acme.example"],
        "message_id_host": "mon1.acme.example",
        "timeout": 5,
        **extra,
    }
    channel = build_channel(parse_channels([table])[0])
    assert isinstance(channel, EmailChannel)
    return channel


# -- delivery ----------------------------------------------------------------------------------


async def test_plain_relay_gets_multipart_alert_for_every_recipient(
    inbox: Inbox, plain_server: int, no_blocking: BlockBuster
) -> None:
    channel = email_channel(plain_server)
    delivery = await channel.send(make_alert())
    assert delivery.ok, delivery.detail
    assert delivery.detail == f"sent to 2 recipient(s) via SMTP server 127.0.0.1:{plain_server}"
    (envelope,) = inbox.envelopes
    assert envelope.mail_from == "monitor@acme.example"
    assert envelope.rcpt_tos == ["oncall@acme.example", "pr@acme.example"]
    (message,) = inbox.messages()
    assert message["Subject"] == "[HIGH] Acme: Acme cola made people sick at the Riverside festival"
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    assert "Next: brand-monitor incidents ack 42" in plain.get_content()
    assert '<a href="https://www.reddit.com/r/food/comments/1/acme/">' in html.get_content()
    assert message["Message-ID"] == delivery.external_ref
    assert message["Auto-Submitted"] == "auto-generated"


async def test_alerts_of_one_incident_share_a_thread(inbox: Inbox, plain_server: int) -> None:
    channel = email_channel(plain_server)
    opened = await channel.send(make_alert())
    escalated = await channel.send(
        make_alert(alert_id=8, reason="escalated", idempotency_key="42:escalated:critical")
    )
    other = await channel.send(make_alert(alert_id=9, incident=make_incident(id=43)))
    assert opened.ok and escalated.ok and other.ok
    first, second, third = inbox.messages()
    thread = "<incident-42@brand-monitor.mon1.acme.example>"
    assert first["In-Reply-To"] == first["References"] == thread
    assert second["In-Reply-To"] == second["References"] == thread
    assert third["References"] == "<incident-43@brand-monitor.mon1.acme.example>"
    ids = {first["Message-ID"], second["Message-ID"], third["Message-ID"]}
    assert len(ids) == 3
    # A retry of the same alert reuses its Message-ID, so receivers can drop the duplicate.
    again = await channel.send(make_alert())
    assert again.external_ref == opened.external_ref


async def test_hostile_text_cannot_inject_headers_or_markup(
    inbox: Inbox, plain_server: int
) -> None:
    channel = email_channel(plain_server)
    assert (await channel.send(hostile_alert())).ok
    (envelope,) = inbox.envelopes
    assert envelope.rcpt_tos == ["oncall@acme.example", "pr@acme.example"]
    (message,) = inbox.messages()
    assert message["Bcc"] is None and message["X-Injected"] is None
    assert "\n" not in message["Subject"] and "\x1b" not in message["Subject"]
    html = message.get_body(("html",))
    plain = message.get_body(("plain",))
    assert html is not None and plain is not None
    html_text, plain_text = html.get_content(), plain.get_content()
    assert "<script>" not in html_text and "&lt;script&gt;" in html_text
    assert "javascript:" not in html_text
    assert "\x1b" not in plain_text and "\x1b" not in html_text


async def test_partly_refused_recipients_still_deliver_and_say_who(
    inbox: Inbox, plain_server: int
) -> None:
    inbox.refuse.add("pr@acme.example")
    delivery = await email_channel(plain_server).send(make_alert())
    assert delivery.ok
    assert "sent to 1 of 2 recipients" in delivery.detail
    assert "pr@acme.example: 550 5.1.1 no such mailbox here" in delivery.detail


async def test_every_recipient_refused_is_a_permanent_failure(
    inbox: Inbox, plain_server: int
) -> None:
    inbox.refuse.update({"oncall@acme.example", "pr@acme.example"})
    delivery = await email_channel(plain_server).send(make_alert())
    assert not delivery.ok and not delivery.retryable
    assert "refused every recipient" in delivery.detail and "550" in delivery.detail


# -- TLS and AUTH ------------------------------------------------------------------------------


async def test_starttls_with_login(
    no_blocking: BlockBuster,
    inbox: Inbox,
    starttls_server: int,
    ca_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)
    channel = email_channel(
        starttls_server,
        security="starttls",
        ca_file=str(ca_file),
        username="alerts",
        password={"env": "SMTP_PASSWORD"},
    )
    with caplog.at_level(logging.DEBUG):
        delivery = await channel.send(make_alert())
    assert delivery.ok, delivery.detail
    assert len(inbox.envelopes) == 1
    assert PASSWORD not in caplog.text and PASSWORD not in repr(channel)


async def test_implicit_tls(inbox: Inbox, implicit_tls_server: int, ca_file: Path) -> None:
    channel = email_channel(implicit_tls_server, security="tls", ca_file=str(ca_file))
    delivery = await channel.send(make_alert())
    assert delivery.ok, delivery.detail
    assert len(inbox.envelopes) == 1


async def test_untrusted_certificate_is_a_permanent_tls_failure(
    inbox: Inbox, starttls_server: int
) -> None:
    channel = email_channel(starttls_server, security="starttls")
    delivery = await channel.send(make_alert())
    assert not delivery.ok and not delivery.retryable
    assert "TLS certificate of SMTP server 127.0.0.1" in delivery.detail
    assert "unable to get local issuer certificate" in delivery.detail
    assert "ca_file" in delivery.detail
    assert inbox.envelopes == []


async def test_wrong_password_is_refused_with_the_server_reply(
    inbox: Inbox,
    starttls_server: int,
    ca_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    wrong = "not-the-password-123"
    monkeypatch.setenv("SMTP_PASSWORD", wrong)
    channel = email_channel(
        starttls_server,
        security="starttls",
        ca_file=str(ca_file),
        username="alerts",
        password={"env": "SMTP_PASSWORD"},
    )
    with caplog.at_level(logging.DEBUG):
        delivery = await channel.send(make_alert())
    assert not delivery.ok and not delivery.retryable
    assert "refused the login for 'alerts': 535 5.7.8 Authentication credentials invalid" in (
        delivery.detail
    )
    assert wrong not in delivery.detail and wrong not in caplog.text
    assert inbox.envelopes == []


async def test_starttls_required_but_not_offered(plain_server: int) -> None:
    delivery = await email_channel(plain_server, security="starttls").send(make_alert())
    assert not delivery.ok and not delivery.retryable
    assert "does not offer STARTTLS" in delivery.detail


async def test_server_down_is_retryable() -> None:
    delivery = await email_channel(free_port()).send(make_alert())
    assert not delivery.ok and delivery.retryable
    assert "connection refused by SMTP server 127.0.0.1:" in delivery.detail


async def test_unset_password_is_a_clear_permanent_failure(
    plain_server: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SMTP_PASSWORD", raising=False)
    channel = email_channel(plain_server, username="alerts", password={"env": "SMTP_PASSWORD"})
    delivery = await channel.send(make_alert())
    assert not delivery.ok and not delivery.retryable
    assert "SMTP_PASSWORD is not set" in delivery.detail


# -- settings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"to": []}, "at least 1 item"),
        ({"to": ["oncall@acme.example, pr@acme.example"]}, "not email addresses"),
        ({"sender": "monitor"}, "not an email address"),
        ({"username": "alerts"}, "username and password go together"),
        ({"password": "hunter2", "username": "a"}, "references to environment variables"),
        ({"security": "ssl"}, "Input should be 'starttls', 'tls' or 'none'"),
        ({"smtp_host": "x"}, "Extra inputs are not permitted"),
    ],
)
def test_settings_refuse_unusable_tables(changes: dict[str, Any], message: str) -> None:
    table = {
        "kind": "email",
        "name": "m",
        "host": "smtp.example",
        "sender": "a@b.example",
        "to": ["c@d.example"],
        **changes,
    }
    with pytest.raises(ValueError, match=message):
        parse_channels([table])


def test_default_ports_follow_the_security_mode() -> None:
    base = {"kind": "email", "name": "m", "host": "h", "sender": "a@b.example", "to": ["c@d.e"]}
    ports = [
        parse_channels([{**base, "security": mode}])[0].effective_port()  # type: ignore[union-attr]
        for mode in ("starttls", "tls", "none")
    ]
    assert ports == [587, 465, 25]
