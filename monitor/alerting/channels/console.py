"""Console: a readable rendering on stderr (or any text stream); the default channel."""

from __future__ import annotations

import os
import sys
from typing import ClassVar, TextIO

from monitor.alerting.channels.base import Channel
from monitor.alerting.render import render_terminal
from monitor.alerting.settings import ConsoleSettings
from monitor.records import AlertMessage, Delivery


def _wants_color(stream: TextIO, setting: str) -> bool:
    if setting != "auto":
        return setting == "always"
    # https://no-color.org: any non-empty NO_COLOR turns colour off.
    if os.environ.get("NO_COLOR"):
        return False
    try:
        return stream.isatty()
    except (OSError, ValueError):  # a closed stream; the write will report it
        return False


class ConsoleChannel(Channel):
    """Writes each alert to a text stream, untrusted text stripped of terminal escapes."""

    kind: ClassVar[str] = "console"

    def __init__(self, settings: ConsoleSettings, *, stream: TextIO | None = None) -> None:
        super().__init__(settings)
        self.settings = settings
        self._stream = stream

    @property
    def stream(self) -> TextIO:
        """The injected stream, or stderr/stdout looked up at write time (tests swap them)."""
        if self._stream is not None:
            return self._stream
        return sys.stdout if self.settings.stream == "stdout" else sys.stderr

    async def send(self, alert: AlertMessage, *, thread_ref: str | None = None) -> Delivery:
        """Write the alert; a closed or broken stream is a failed delivery."""
        stream = self.stream
        text = render_terminal(alert, color=_wants_color(stream, self.settings.color))
        try:
            # A few kilobytes to a terminal or pipe: a direct write is cheaper than a thread hop.
            stream.write(text + "\n")
            stream.flush()
        except (OSError, ValueError) as exc:  # ValueError: I/O operation on closed file
            return self.failed(f"cannot write to {self.settings.stream}: {exc}", retryable=False)
        return self.ok(f"written to {self.settings.stream}")
