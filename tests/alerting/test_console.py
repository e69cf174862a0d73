"""Console channel: readable output on a stream, terminal escapes from mentions stripped."""

from __future__ import annotations

import io
import re

import pytest
from blockbuster import BlockBuster

from monitor.alerting.channels import build_channel
from monitor.alerting.channels.console import ConsoleChannel
from monitor.alerting.settings import ConsoleSettings, default_channels, parse_channels
from tests.alerting.factory import hostile_alert, make_alert


class TtyBuffer(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def console(stream: io.StringIO, color: str = "auto") -> ConsoleChannel:
    settings = ConsoleSettings(kind="console", name="console", color=color)  # type: ignore[arg-type]
    return ConsoleChannel(settings, stream=stream)


async def test_writes_a_readable_alert(no_blocking: BlockBuster) -> None:
    stream = io.StringIO()
    delivery = await console(stream).send(make_alert())
    assert delivery.ok and delivery.detail == "written to stderr"
    out = stream.getvalue()
    assert out.startswith("HIGH · Acme · viral claim · health/safety — New incident #42\n")
    assert "Next: brand-monitor incidents ack 42" in out
    assert "\x1b" not in out  # not a terminal: no colour


async def test_hostile_escapes_never_reach_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    stream = TtyBuffer()
    assert (await console(stream).send(hostile_alert())).ok
    out = stream.getvalue()
    # Only our own colour codes on the headline survive; the mention's CSI, OSC 8 hyperlink,
    # window-title and clear-screen sequences are gone.
    assert re.findall(r"\x1b[^m]*m", out) == ["\x1b[1;31m", "\x1b[0m"]
    assert out.count("\x1b") == 2 and "\x07" not in out and "\r" not in out
    assert "hidden link" in out and "pwned" not in out


@pytest.mark.parametrize(
    ("color", "tty", "no_color", "coloured"),
    [
        ("auto", True, "", True),
        ("auto", True, "1", False),
        ("auto", False, "", False),
        ("always", False, "", True),
        ("never", True, "", False),
    ],
)
async def test_colour_choice(
    monkeypatch: pytest.MonkeyPatch, color: str, tty: bool, no_color: str, coloured: bool
) -> None:
    monkeypatch.setenv("NO_COLOR", no_color)
    stream = TtyBuffer() if tty else io.StringIO()
    await console(stream, color).send(make_alert())
    assert ("\x1b[" in stream.getvalue()) is coloured


async def test_closed_stream_is_a_failed_delivery() -> None:
    stream = io.StringIO()
    stream.close()
    delivery = await console(stream).send(make_alert())
    assert not delivery.ok and not delivery.retryable
    assert "cannot write to stderr" in delivery.detail


async def test_default_channel_is_the_console_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    (settings,) = default_channels()
    channel = build_channel(settings)
    assert isinstance(channel, ConsoleChannel)
    assert (await channel.send(make_alert())).ok
    captured = capsys.readouterr()
    assert captured.out == "" and "New incident #42" in captured.err


def test_console_settings_from_toml_table() -> None:
    (settings,) = parse_channels([{"kind": "console", "name": "tty", "stream": "stdout"}])
    assert isinstance(settings, ConsoleSettings) and settings.stream == "stdout"
    with pytest.raises(ValueError, match="Input should be 'stderr' or 'stdout'"):
        parse_channels([{"kind": "console", "name": "tty", "stream": "/dev/tty"}])
    with pytest.raises(ValueError, match="does not match any of the expected tags"):
        parse_channels([{"kind": "pager", "name": "p"}])
