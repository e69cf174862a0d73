"""Turn a digest (the incidents of one route and period) into words, for every channel format.

`render.render_text`, `render_terminal`, `render_html`, `render_slack` and `email_subject` hand
an AlertMessage that carries a digest to this module, so every channel sends digests without
knowing about them. It lives beside `render` (whose helpers it shares) to keep each module
small. Incident summaries come from mention text: untrusted, escaped here exactly as `render`
escapes them.
"""

from __future__ import annotations

from typing import Any

from monitor.alerting.render import (
    _ANSI_RESET,
    _ANSI_SEVERITY,
    SEVERITY_EMOJI,
    SLACK_CONTEXT_TEXT,
    SLACK_FALLBACK_TEXT,
    SLACK_HEADER_TEXT,
    SLACK_MAX_BLOCKS,
    SlackMessage,
    _clock_time,
    _fit,
    _section,
    incident_headline,
    spread_words,
)
from monitor.alerting.sanitize import (
    escape_html,
    escape_slack,
    header_text,
    one_line,
    truncate,
    truncate_slack,
    utf16_len,
)
from monitor.clock import iso
from monitor.records import Digest, Incident

MAX_ITEMS = 100  # text and HTML; a longer list ends with the command that shows the rest
SUMMARY_CHARS = 300
# Header, period, "and N more", silenced note: the rest of Slack's 50 blocks list incidents.
SLACK_MAX_ITEMS = SLACK_MAX_BLOCKS - 4


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def period_words(digest: Digest) -> str:
    """ "2024-05-17 00:00–2024-05-18 00:00 UTC" """
    start = _clock_time(digest.period_start, True)
    end = _clock_time(digest.period_end, True)
    return f"{start}–{end} UTC"


def digest_title(digest: Digest) -> str:
    """ "Digest: team-mail — 2 incidents" (single line, no markup)."""
    count = _plural(len(digest.incidents), "incident")
    return f"Digest: {one_line(digest.route)} — {count}"


def status_words(incident: Incident) -> str:
    """ "open", "acknowledged by ana", "resolved"."""
    status = one_line(incident.status)
    if incident.status == "acknowledged" and incident.acknowledged_by:
        status += f" by {one_line(incident.acknowledged_by)}"
    return status


def ack_command(incident: Incident) -> str | None:
    """The command that acknowledges the incident while it is open."""
    return f"brand-monitor incidents ack {incident.id}" if incident.status == "open" else None


def opened_words(incident: Incident) -> str:
    """ "opened 2024-05-17 09:12 UTC", or "" when unknown."""
    if incident.opened_at is None:
        return ""
    return f"opened {_clock_time(incident.opened_at, True)} UTC"


def _opened_line(incident: Incident) -> str | None:
    if incident.opened_at is None:
        return None
    return f"   Opened: {_clock_time(incident.opened_at, True)} UTC"


def more_command(digest: Digest) -> str:
    """The command that lists every incident of the period."""
    return f"brand-monitor incidents list --since {iso(digest.period_start)}"


def _intro(digest: Digest) -> str:
    return f"Incidents that opened or changed in {period_words(digest)}, most severe first."


def _muted_words(digest: Digest) -> str:
    return f"{_plural(digest.muted, 'silenced incident')} not listed."


def digest_subject(digest: Digest) -> str:
    """Email subject: route, count and period; safe as a header value."""
    count = _plural(len(digest.incidents), "incident")
    return header_text(f"[digest] {one_line(digest.route)}: {count}, {period_words(digest)}", 150)


def digest_lines(digest: Digest, *, color: bool = False) -> str:
    """Plain text (email text part, console, webhook `text`); colour only with `color`."""
    lines = [digest_title(digest), _intro(digest)]
    for n, incident in enumerate(digest.incidents[:MAX_ITEMS], 1):
        head = f"{n}. {incident_headline(incident)} — #{incident.id}, {status_words(incident)}"
        if color:
            head = f"{_ANSI_SEVERITY.get(incident.severity, '')}{head}{_ANSI_RESET}"
        lines += ["", head]
        lines.append(f"   Claim: {truncate(one_line(incident.summary), SUMMARY_CHARS)}")
        lines.append(f"   Spread: {spread_words(incident)}")
        opened = _opened_line(incident)
        if opened:
            lines.append(opened)
        step = ack_command(incident)
        if step:
            lines.append(f"   Next: {step}")
    hidden = len(digest.incidents) - MAX_ITEMS
    if hidden > 0:
        lines += ["", f"… and {hidden} more: {more_command(digest)}"]
    if digest.muted:
        lines += ["", _muted_words(digest)]
    return "\n".join(lines) + "\n"


def digest_html(digest: Digest) -> str:
    """HTML for the email's HTML part; every untrusted value escaped."""
    esc = escape_html
    parts = [
        "<!DOCTYPE html>",
        '<html><body style="font-family: sans-serif; line-height: 1.4">',
        f"<h2>{esc(digest_title(digest))}</h2>",
        f"<p>{esc(_intro(digest))}</p>",
        "<ol>",
    ]
    for incident in digest.incidents[:MAX_ITEMS]:
        summary = truncate(one_line(incident.summary), SUMMARY_CHARS)
        details = " · ".join(p for p in (spread_words(incident), opened_words(incident)) if p)
        item = (
            f"<li><strong>{esc(incident_headline(incident))}</strong> — "
            f"#{incident.id}, {esc(status_words(incident))}<br>"
            f"<strong>Claim:</strong> {esc(summary)}<br>{esc(details)}"
        )
        step = ack_command(incident)
        if step:
            item += f"<br>Next: <code>{esc(step)}</code>"
        parts.append(item + "</li>")
    parts.append("</ol>")
    hidden = len(digest.incidents) - MAX_ITEMS
    if hidden > 0:
        parts.append(f"<p>… and {hidden} more: <code>{esc(more_command(digest))}</code></p>")
    if digest.muted:
        parts.append(f"<p>{esc(_muted_words(digest))}</p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _context(text: str) -> dict[str, Any]:
    element = {"type": "mrkdwn", "text": _fit(text, SLACK_CONTEXT_TEXT)}
    return {"type": "context", "elements": [element]}


def digest_slack(digest: Digest) -> SlackMessage:
    """Block Kit: a header, the period, then one section per incident, within Slack's limits."""
    header = truncate(f"🗞️ {digest_title(digest)}", SLACK_HEADER_TEXT, measure=utf16_len)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header, "emoji": True}},
        _context(escape_slack(_intro(digest))),
    ]
    for incident in digest.incidents[:SLACK_MAX_ITEMS]:
        emoji = SEVERITY_EMOJI.get(incident.severity, "")
        title = escape_slack(f"{incident_headline(incident)} — #{incident.id}")
        lines = [
            f"{emoji} *{title}*, {escape_slack(status_words(incident))}",
            f"*Claim:* {truncate_slack(incident.summary, 500)}",
            " · ".join(
                escape_slack(p) for p in (spread_words(incident), opened_words(incident)) if p
            ),
        ]
        step = ack_command(incident)
        if step:
            lines.append(f"Acknowledge: `{step}`")
        blocks.append(_section("\n".join(lines)))
    hidden = len(digest.incidents) - SLACK_MAX_ITEMS
    if hidden > 0:
        blocks.append(_context(f"… and {hidden} more: `{more_command(digest)}`"))
    if digest.muted:
        blocks.append(_context(escape_slack(_muted_words(digest))))
    fallback = escape_slack(f"{digest_title(digest)}, {period_words(digest)}")
    return SlackMessage(text=_fit(fallback, SLACK_FALLBACK_TEXT), blocks=blocks[:SLACK_MAX_BLOCKS])
