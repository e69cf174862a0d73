"""The demo's capture mailbox: a real SMTP server (aiosmtpd) on 127.0.0.1 writing to an mbox.

Every message the email channel sends is accepted and appended, as received, to one mbox file
that any mail reader opens (`mutt -f FILE`, Thunderbird's ImportExportTools, Python's
`mailbox.mbox`). It runs on the caller's event loop: nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import logging
import mailbox
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

log = logging.getLogger(__name__)


class _MboxHandler:
    """aiosmtpd handler: append each accepted message to the mbox."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.received = 0

    async def handle_DATA(  # aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or envelope.content
        if not isinstance(raw, bytes):
            raw = str(raw).encode("utf-8")
        await asyncio.to_thread(self._append, raw, envelope.mail_from or "MAILER-DAEMON")
        self.received += 1
        return "250 Message accepted for delivery"

    def _append(self, raw: bytes, sender: str) -> None:
        box = mailbox.mbox(self.path)
        try:
            box.lock()
            message = mailbox.mboxMessage(raw)
            message.set_from(sender, True)  # the envelope sender and the time of arrival
            box.add(message)
            box.flush()
        finally:
            box.unlock()
            box.close()


class CaptureMailbox:
    """An SMTP server on 127.0.0.1 (a free port) that keeps every message in `path`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handler = _MboxHandler(path)
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def received(self) -> int:
        """Messages accepted since start."""
        return self._handler.received

    async def start(self) -> int:
        """Listen on 127.0.0.1 on a free port; returns the port."""
        loop = asyncio.get_running_loop()
        handler = self._handler

        def protocol() -> Any:
            return SMTP(handler, hostname="demo-mailbox.localhost", enable_SMTPUTF8=True)

        self._server = await loop.create_server(protocol, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    async def close(self) -> None:
        """Stop accepting mail; safe to call twice."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
            await server.wait_closed()


def read_mbox(path: Path) -> list[EmailMessage]:
    """Every message of an mbox file, parsed (blocking: run it in a thread from async code)."""
    if not path.exists():
        return []
    box = mailbox.mbox(path, create=False)
    try:
        messages = []
        for key in box.keys():
            parsed = message_from_bytes(box.get_bytes(key), policy=policy.default)
            assert isinstance(parsed, EmailMessage)
            messages.append(parsed)
        return messages
    finally:
        box.close()
