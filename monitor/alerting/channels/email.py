"""Email over SMTP (STARTTLS, implicit TLS or plain for local relays); threads per incident.

A digest (`alert.digest`) is one standalone email listing the period's incidents.
"""

from __future__ import annotations

import hashlib
import socket
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import ClassVar

import aiosmtplib

from monitor.alerting.channels.base import Channel
from monitor.alerting.render import email_subject, render_html, render_text
from monitor.alerting.sanitize import header_text, one_line
from monitor.alerting.settings import EmailSettings
from monitor.records import AlertMessage, Delivery


def incident_message_id(incident_id: int, host: str) -> str:
    """The stable per-incident id every alert's In-Reply-To/References points at."""
    return f"<incident-{incident_id}@brand-monitor.{host}>"


def alert_message_id(alert: AlertMessage, host: str) -> str:
    """One Message-ID per alert; a retry of the same alert reuses it so receivers can dedupe."""
    digest = hashlib.sha256(alert.idempotency_key.encode()).hexdigest()[:12]
    return f"<alert-{alert.alert_id}.{digest}.incident-{alert.incident.id}@brand-monitor.{host}>"


def digest_message_id(alert: AlertMessage, host: str) -> str:
    """One Message-ID per digest alert, stable across retries like `alert_message_id`."""
    digest = hashlib.sha256(alert.idempotency_key.encode()).hexdigest()[:12]
    return f"<digest-{alert.alert_id}.{digest}@brand-monitor.{host}>"


def build_email(alert: AlertMessage, settings: EmailSettings, host: str) -> EmailMessage:
    """The multipart/alternative message (plain text + HTML) for one alert."""
    thread_id = incident_message_id(alert.incident.id, host)
    message = EmailMessage()
    message["Subject"] = email_subject(alert)
    message["From"] = formataddr(("brand-monitor", settings.sender))
    message["To"] = ", ".join(settings.to)
    if alert.created_at is not None:
        message["Date"] = format_datetime(alert.created_at)
    else:
        message["Date"] = format_datetime(_utc_now())
    if alert.digest is not None:
        # A digest stands alone: threading it under one of its incidents would hide it there.
        message["Message-ID"] = digest_message_id(alert, host)
        message["X-Brand-Monitor-Digest"] = header_text(alert.digest.route, 100)
    else:
        message["Message-ID"] = alert_message_id(alert, host)
        message["In-Reply-To"] = thread_id
        message["References"] = thread_id
        message["X-Brand-Monitor-Incident"] = str(alert.incident.id)
    message["X-Brand-Monitor-Severity"] = header_text(alert.incident.severity, 20)
    message["X-Brand-Monitor-Idempotency-Key"] = header_text(alert.idempotency_key, 200)
    # Automated mail: ask vacation responders not to reply (RFC 3834).
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(render_text(alert))
    message.add_alternative(render_html(alert), subtype="html")
    return message


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _root_cause(exc: BaseException) -> BaseException:
    seen = exc
    while seen.__cause__ is not None:
        seen = seen.__cause__
    return seen


class EmailChannel(Channel):
    """Sends each alert as one email to every configured recipient."""

    kind: ClassVar[str] = "email"

    def __init__(self, settings: EmailSettings) -> None:
        super().__init__(settings)
        self.settings = settings
        # Resolved once: the host name lookup is a system call send() should not repeat.
        self._id_host = settings.id_host()
        self._tls_context: ssl.SSLContext | None = None
        if settings.security != "none":
            # Built once here: loading a CA file reads the disk, which send() must not do.
            context = ssl.create_default_context(
                cafile=str(settings.ca_file) if settings.ca_file else None
            )
            if not settings.verify_certificate:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            self._tls_context = context

    def __repr__(self) -> str:
        s = self.settings
        return (
            f"<EmailChannel name={self.name!r} server={s.host}:{s.effective_port()} "
            f"security={s.security} to={len(s.to)} recipients>"
        )

    async def send(self, alert: AlertMessage, *, thread_ref: str | None = None) -> Delivery:
        """Send the alert; `thread_ref` is unused (threading comes from the incident id)."""
        s = self.settings
        password: str | None = None
        if s.password is not None:
            try:
                password = s.password.reveal()
            except ValueError as exc:
                return self.failed(
                    f"cannot log in to SMTP server {s.host}: {exc}; export it and restart",
                    retryable=False,
                )
            self._add_secrets([password])
        message = build_email(alert, s, self._id_host)
        where = f"SMTP server {s.host}:{s.effective_port()}"
        client = aiosmtplib.SMTP(
            hostname=s.host,
            port=s.effective_port(),
            use_tls=s.security == "tls",
            start_tls=s.security == "starttls",
            tls_context=self._tls_context,
            timeout=s.timeout,
        )
        try:
            async with client:
                if s.username is not None and password is not None:
                    await client.login(s.username, password)
                refused, _ = await client.send_message(message)
        except aiosmtplib.SMTPAuthenticationError as exc:
            return self.failed(
                f"{where} refused the login for {s.username!r}: {exc.code} {one_line(exc.message)} "
                "(check username and password)",
                retryable=False,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            reasons = "; ".join(
                f"{one_line(r.recipient)}: {r.code} {one_line(r.message)}" for r in exc.recipients
            )
            retryable = all(400 <= r.code < 500 for r in exc.recipients)
            return self.failed(f"{where} refused every recipient: {reasons}", retryable=retryable)
        except aiosmtplib.SMTPResponseException as exc:
            # 4xx replies are temporary by definition (RFC 5321 §4.2.1), 5xx permanent.
            return self.failed(
                f"{where} answered {exc.code} {one_line(exc.message)}",
                retryable=400 <= exc.code < 500 or exc.code < 0,
            )
        except Exception as exc:
            detail, retryable = _describe_smtp_error(exc, where, s.timeout)
            return self.failed(detail, retryable=retryable)
        message_id = str(message["Message-ID"])
        delivered = len(s.to) - len(refused)
        if refused:
            skipped = "; ".join(
                f"{one_line(addr)}: {resp.code} {one_line(resp.message)}"
                for addr, resp in refused.items()
            )
            return self.ok(
                f"sent to {delivered} of {len(s.to)} recipients; refused: {skipped}", message_id
            )
        return self.ok(f"sent to {delivered} recipient(s) via {where}", message_id)


def _describe_smtp_error(exc: BaseException, where: str, timeout: float) -> tuple[str, bool]:
    """(detail, retryable) for connection, TLS and protocol failures."""
    cause = _root_cause(exc)
    if isinstance(cause, ssl.SSLCertVerificationError):
        # The server's certificate is not trusted: retrying will not change that.
        return (
            f"TLS certificate of {where} was rejected: {cause.verify_message or cause.reason}; "
            "set ca_file to the relay's CA, or fix the certificate",
            False,
        )
    if isinstance(cause, ssl.SSLError):
        return f"TLS handshake with {where} failed: {cause.reason or cause}", True
    if isinstance(cause, socket.gaierror):
        return f"DNS lookup failed for {where}: {cause.strerror or cause}", True
    if isinstance(cause, ConnectionRefusedError):
        return f"connection refused by {where} (is the mail server running?)", True
    if isinstance(exc, aiosmtplib.SMTPTimeoutError) or isinstance(cause, TimeoutError):
        return f"no answer from {where} within {timeout:g}s", True
    if isinstance(exc, aiosmtplib.SMTPServerDisconnected):
        return f"{where} closed the connection: {exc}", True
    if isinstance(exc, aiosmtplib.SMTPNotSupported | aiosmtplib.SMTPException) and (
        "STARTTLS" in str(exc).upper()
    ):
        return (
            f'{where} does not offer STARTTLS: {exc} (use security = "tls" for port 465, or '
            '"none" only for a relay on this machine or network)',
            False,
        )
    if isinstance(exc, aiosmtplib.SMTPException):
        return f"{where} failed: {exc}", True
    if isinstance(exc, OSError):
        return f"cannot reach {where}: {exc}", True
    raise exc
