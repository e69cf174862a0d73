"""Turn one AlertMessage into words: plain text, terminal, HTML, Slack Block Kit, email subject.

Everything inside an alert that came from a platform (mention text, titles, authors, URLs) is
untrusted. Each format escapes it at the last moment, with the helpers in `sanitize`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from monitor.alerting.sanitize import (
    escape_html,
    escape_slack,
    header_text,
    html_link,
    one_line,
    safe_url,
    slack_link,
    truncate,
    truncate_slack,
    utf16_len,
)
from monitor.records import AlertMessage, Engagement, Incident, Mention

MAX_MENTIONS = 5
SNIPPET_CHARS = 280
SPARK_WIDTH = 24
_SPARK = "▁▂▃▄▅▆▇█"

# Slack's documented limits (https://api.slack.com/reference/block-kit/blocks).
SLACK_MAX_BLOCKS = 50
SLACK_SECTION_TEXT = 3000
SLACK_HEADER_TEXT = 150
SLACK_CONTEXT_TEXT = 2000
SLACK_FALLBACK_TEXT = 3000  # the API takes 40k, but notifications show a few lines
SLACK_ACTIONS_BLOCK = "incident_actions"

REASONS = {
    "opened": "New incident",
    "escalated": "Escalated",
    "reminder": "Still unacknowledged",
    "resolved": "Resolved",
    "digest": "Digest",
    "test": "Test alert",
}
KINDS = {
    "viral_claim": "viral claim",
    "volume_spike": "volume spike",
    "complaint_surge": "complaint surge",
    "sentiment_shift": "sentiment shift",
}
CATEGORIES = {
    "health_safety": "health/safety",
    "fraud_scam": "fraud/scam",
    "legal_regulatory": "legal/regulatory",
    "privacy_security": "privacy/security",
    "discrimination_ethics": "discrimination/ethics",
    "outage": "outage",
    "boycott": "boycott",
}
SEVERITY_EMOJI = {
    "critical": "🚨",
    "high": "🔴",
    "medium": "🟠",
    "low": "🟡",
    "info": "🔵",
}
_ANSI_SEVERITY = {
    "critical": "\x1b[1;97;41m",
    "high": "\x1b[1;31m",
    "medium": "\x1b[1;33m",
    "low": "\x1b[1;36m",
    "info": "\x1b[1m",
}
_ANSI_RESET = "\x1b[0m"


def compact_number(value: float) -> str:
    """1234 -> "1.2k", 12_300_000 -> "12.3M"; small numbers as they are."""
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            shown = f"{value / size:.1f}".removesuffix(".0")
            return f"{shown}{suffix}"
    return f"{value:g}" if isinstance(value, float) else str(value)


def sparkline(values: list[int], width: int = SPARK_WIDTH) -> str:
    """Block-character sparkline; buckets are summed in groups when there are more than `width`."""
    if not values:
        return ""
    if len(values) > width:
        group = -(-len(values) // width)  # ceiling division keeps the newest bucket whole
        start = len(values) % group
        heads = [sum(values[:start])] if start else []
        values = heads + [sum(values[i : i + group]) for i in range(start, len(values), group)]
    low, high = min(values), max(values)
    if high == low:
        return _SPARK[0 if high == 0 else 3] * len(values)
    steps = len(_SPARK) - 1
    return "".join(_SPARK[round((v - low) / (high - low) * steps)] for v in values)


def _clock_time(when: datetime, with_date: bool) -> str:
    when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%d %H:%M" if with_date else "%H:%M")


def _duration_words(seconds: float) -> str:
    if seconds % 86400 == 0 and seconds >= 86400:
        return f"{seconds / 86400:g} d"
    if seconds % 3600 == 0 and seconds >= 3600:
        return f"{seconds / 3600:g} h"
    if seconds >= 60:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


def growth_words(alert: AlertMessage) -> str | None:
    """The curve in words: "3 → 41 per 10 min, 14:00–14:50 UTC", or None without a curve."""
    curve = alert.curve
    if not curve:
        return None
    counts = [count for _, count in curve]
    first, last = curve[0][0], curve[-1][0]
    span = (last - first).total_seconds()
    with_date = span >= 86400 or first.astimezone(UTC).date() != last.astimezone(UTC).date()
    when = f"{_clock_time(first, with_date)}–{_clock_time(last, with_date)} UTC"
    if len(curve) < 2:
        return f"{compact_number(counts[0])} at {_clock_time(first, True)} UTC"
    step = (curve[1][0] - curve[0][0]).total_seconds()
    per = f" per {_duration_words(step)}" if step > 0 else ""
    return (
        f"{compact_number(counts[0])} → {compact_number(counts[-1])}{per} "
        f"(peak {compact_number(max(counts))}), {when}"
    )


def engagement_words(engagement: Engagement | None) -> str:
    """ "1.2k likes · 340 shares · 55 comments · 10k views", only the counters the platform gave."""
    if engagement is None:
        return ""
    parts = [
        f"{compact_number(value)} {label}"
        for value, label in (
            (engagement.likes, "likes"),
            (engagement.shares, "shares"),
            (engagement.comments, "comments"),
            (engagement.views, "views"),
        )
        if value is not None
    ]
    return " · ".join(parts)


@dataclass(frozen=True, slots=True)
class MentionSummary:
    """One top mention reduced to clean single-line parts (still unescaped for markup)."""

    platform: str
    author: str
    reach: str
    engagement: str
    snippet: str
    url: str | None  # already checked: http(s) only
    link_label: str


def summarise_mention(mention: Mention) -> MentionSummary:
    """Clean, truncated parts of one mention for display."""
    author = one_line(mention.author or "unknown author")
    reach = (
        f"{compact_number(mention.author_reach)} followers"
        if mention.author_reach is not None
        else ""
    )
    title = one_line(mention.title or "")
    return MentionSummary(
        platform=one_line(mention.platform),
        author=truncate(author, 80),
        reach=reach,
        engagement=engagement_words(mention.engagement),
        snippet=truncate(one_line(mention.text), SNIPPET_CHARS),
        url=safe_url(mention.url),
        link_label=truncate(title, 100) if title else "open",
    )


def top_mentions(alert: AlertMessage) -> list[MentionSummary]:
    """The first few mentions the detector ranked highest."""
    return [summarise_mention(m) for m in alert.top_mentions[:MAX_MENTIONS]]


def headline(alert: AlertMessage) -> str:
    """ "HIGH · Acme · viral claim · health/safety" (no markup, single line)."""
    return incident_headline(alert.incident)


def incident_headline(incident: Incident) -> str:
    """An incident's severity, brand, kind and category on one line, without markup."""
    parts = [
        incident.severity.upper(),
        one_line(incident.brand),
        KINDS.get(incident.kind, incident.kind),
    ]
    if incident.category in CATEGORIES:
        parts.append(CATEGORIES[incident.category])
    return " · ".join(one_line(p) for p in parts)


def reason_words(alert: AlertMessage) -> str:
    """ "New incident #42", "Escalated #42", ..."""
    label = REASONS.get(alert.reason, one_line(alert.reason).capitalize())
    return f"{label} #{alert.incident.id}"


def factor_lines(incident: Incident) -> list[str]:
    """Risk factors, strongest first: "spread 0.82: 31 authors on 3 platforms in 52 min"."""
    ordered = sorted(incident.factors, key=lambda f: f.value, reverse=True)
    return [
        f"{one_line(f.name)} {f.value:.2f}"
        + (f": {truncate(one_line(f.detail), 300)}" if f.detail else "")
        for f in ordered
    ]


def spread_words(incident: Incident) -> str:
    """ "57 mentions by 31 authors on reddit, x" """
    text = f"{incident.mention_count} mentions by {incident.author_count} authors"
    if incident.platforms:
        text += " on " + ", ".join(one_line(p) for p in incident.platforms)
    return text


def next_step(alert: AlertMessage) -> str | None:
    """The command that acknowledges the incident, or None when there is nothing to do."""
    incident = alert.incident
    if alert.reason == "resolved" or incident.status in ("resolved", "acknowledged"):
        return None
    return f"brand-monitor incidents ack {incident.id}"


def email_subject(alert: AlertMessage) -> str:
    """Subject line: severity, brand and the claim; safe as a header value."""
    if alert.digest is not None:
        from monitor.alerting import render_digest  # it builds on this module

        return render_digest.digest_subject(alert.digest)
    incident = alert.incident
    prefix = "[resolved] " if alert.reason == "resolved" else ""
    brand, claim = one_line(incident.brand), one_line(incident.summary)
    text = f"{prefix}[{incident.severity.upper()}] {brand}: {claim}"
    return header_text(text, 150)


def _mention_text_lines(index: int, mention: MentionSummary) -> list[str]:
    meta = " · ".join(
        p for p in (mention.platform, mention.author, mention.reach, mention.engagement) if p
    )
    lines = [f"  {index}. {meta}", f"     {mention.snippet}"]
    if mention.url:
        lines.append(f"     {mention.url}")
    return lines


def render_text(alert: AlertMessage) -> str:
    """Plain-text rendering (email text part, console); free of control characters."""
    return _render_lines(alert, color=False)


def render_terminal(alert: AlertMessage, *, color: bool = False) -> str:
    """Terminal rendering; untrusted parts are stripped of escapes, colour is ours alone."""
    return _render_lines(alert, color=color)


def _render_lines(alert: AlertMessage, *, color: bool) -> str:
    if alert.digest is not None:
        from monitor.alerting import render_digest  # it builds on this module

        return render_digest.digest_lines(alert.digest, color=color)
    incident = alert.incident
    head = f"{headline(alert)} — {reason_words(alert)}"
    if color:
        head = f"{_ANSI_SEVERITY.get(incident.severity, '')}{head}{_ANSI_RESET}"
    lines = [head, f"Claim: {truncate(one_line(incident.summary), 500)}"]
    factors = factor_lines(incident)
    lines.append(f"Why (risk {incident.risk:.2f}):" if factors else f"Risk: {incident.risk:.2f}")
    lines.extend(f"  - {line}" for line in factors)
    lines.append(f"Spread: {spread_words(incident)}")
    growth = growth_words(alert)
    if growth:
        lines.append(f"Growth: {sparkline([c for _, c in alert.curve])} {growth}")
    if incident.projection:
        lines.append(f"Projection: {truncate(one_line(incident.projection), 300)}")
    mentions = top_mentions(alert)
    if mentions:
        lines.append("Top mentions:")
        for i, mention in enumerate(mentions, 1):
            lines.extend(_mention_text_lines(i, mention))
    step = next_step(alert)
    if step:
        lines.append(f"Next: {step}")
        if alert.links:
            lines.append(f"Acknowledge in the browser: {alert.links.ack_url}")
    if alert.links:
        lines.append(f"Dashboard: {alert.links.incident_url}")
    if incident.acknowledged_by:
        lines.append(f"Acknowledged by {one_line(incident.acknowledged_by)}")
    return "\n".join(lines) + "\n"


def render_html(alert: AlertMessage) -> str:
    """HTML for the email's HTML part; every untrusted value escaped, http(s) links only."""
    if alert.digest is not None:
        from monitor.alerting import render_digest  # it builds on this module

        return render_digest.digest_html(alert.digest)
    incident = alert.incident
    esc = escape_html
    parts = [
        "<!DOCTYPE html>",
        '<html><body style="font-family: sans-serif; line-height: 1.4">',
        f"<h2>{esc(headline(alert))}</h2>",
        f"<p><strong>{esc(reason_words(alert))}</strong></p>",
        f"<p><strong>Claim:</strong> {esc(truncate(one_line(incident.summary), 500))}</p>",
        f"<p><strong>Risk {incident.risk:.2f}</strong> · {esc(spread_words(incident))}</p>",
    ]
    factors = factor_lines(incident)
    if factors:
        parts.append("<p><strong>Why</strong></p><ul>")
        parts.extend(f"<li>{esc(line)}</li>" for line in factors)
        parts.append("</ul>")
    growth = growth_words(alert)
    if growth:
        spark = sparkline([c for _, c in alert.curve])
        parts.append(
            f'<p><strong>Growth:</strong> <span style="font-family: monospace">{esc(spark)}</span> '
            f"{esc(growth)}</p>"
        )
    if incident.projection:
        parts.append(f"<p><strong>Projection:</strong> {esc(one_line(incident.projection))}</p>")
    mentions = top_mentions(alert)
    if mentions:
        parts.append("<p><strong>Top mentions</strong></p><ol>")
        for mention in mentions:
            meta = " · ".join(
                p
                for p in (mention.platform, mention.author, mention.reach, mention.engagement)
                if p
            )
            link = f"<br>{html_link(mention.url, mention.link_label)}" if mention.url else ""
            parts.append(f"<li>{esc(meta)}<br><q>{esc(mention.snippet)}</q>{link}</li>")
        parts.append("</ol>")
    step = next_step(alert)
    if step and alert.links:
        parts.append(f"<p>{html_link(alert.links.ack_url, 'Acknowledge')} (opens a "
                     f"confirmation page), or run <code>{esc(step)}</code></p>")
    elif step:
        parts.append(f"<p>Next: <code>{esc(step)}</code></p>")
    if alert.links:
        parts.append(f"<p>{html_link(alert.links.incident_url, 'Open in the dashboard')}</p>")
    if incident.acknowledged_by:
        parts.append(f"<p>Acknowledged by {esc(one_line(incident.acknowledged_by))}</p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """A Slack message: plain fallback `text` (notifications, screen readers) and Block Kit."""

    text: str
    blocks: list[dict[str, Any]]

    def payload(self) -> dict[str, Any]:
        """The JSON body fields shared by webhooks and chat.postMessage."""
        return {"text": self.text, "blocks": self.blocks}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _fit(text, SLACK_SECTION_TEXT)}}


def _fit(mrkdwn: str, limit: int) -> str:
    """Cut escaped mrkdwn at a line boundary when it is over `limit` (rare: long factors)."""
    if utf16_len(mrkdwn) <= limit:
        return mrkdwn
    kept: list[str] = []
    size = 0
    for line in mrkdwn.split("\n"):
        if size + utf16_len(line) + 2 > limit:
            break
        kept.append(line)
        size += utf16_len(line) + 1
    return "\n".join(kept) + "\n…"


def slack_actions(incident: Incident) -> dict[str, Any] | None:
    """Acknowledge / Resolve buttons for the incident's state (the daemon handles the clicks)."""
    buttons = []
    if incident.status == "open":
        buttons.append({"type": "button", "action_id": "incident_ack", "style": "primary",
                        "text": {"type": "plain_text", "text": "Acknowledge"},
                        "value": str(incident.id)})
    if incident.status != "resolved":
        buttons.append({"type": "button", "action_id": "incident_resolve",
                        "text": {"type": "plain_text", "text": "Resolve"},
                        "value": str(incident.id)})
    if not buttons:
        return None
    return {"type": "actions", "block_id": SLACK_ACTIONS_BLOCK, "elements": buttons}


def render_slack(
    alert: AlertMessage, *, root: bool = False, buttons: bool = True
) -> SlackMessage:
    """Block Kit message within Slack's limits; `root=True` marks the thread's first message.

    `buttons=False` leaves out the Acknowledge / Resolve buttons (incoming webhooks: a click
    could not update the message).
    """
    if alert.digest is not None:
        from monitor.alerting import render_digest  # it builds on this module

        return render_digest.digest_slack(alert.digest)
    incident = alert.incident
    emoji = "✅" if alert.reason == "resolved" else SEVERITY_EMOJI.get(incident.severity, "")
    header = truncate(f"{emoji} {headline(alert)}".strip(), SLACK_HEADER_TEXT, measure=utf16_len)
    claim = truncate_slack(incident.summary, 1000)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header, "emoji": True}},
        _section(f"*{escape_slack(reason_words(alert))}*\n*Claim:* {claim}"),
    ]
    factors = factor_lines(incident)
    why = [f"*Risk {incident.risk:.2f}* · {escape_slack(spread_words(incident))}"]
    why.extend(f"• {escape_slack(line)}" for line in factors)
    blocks.append(_section("\n".join(why)))
    growth = growth_words(alert)
    trend = []
    if growth:
        spark = sparkline([c for _, c in alert.curve])
        trend.append(f"*Growth:* `{spark}` {escape_slack(growth)}")
    if incident.projection:
        trend.append(f"*Projection:* {truncate_slack(incident.projection, 500)}")
    if trend:
        blocks.append(_section("\n".join(trend)))
    mentions = top_mentions(alert)
    if mentions:
        blocks.append({"type": "divider"})
        for mention in mentions:
            meta = " · ".join(
                escape_slack(p)
                for p in (mention.platform, mention.author, mention.reach, mention.engagement)
                if p
            )
            # Each line of a quote needs its own ">"; the snippet is one line already.
            lines = [meta, f">{escape_slack(mention.snippet)}"]
            if mention.url:
                lines.append(slack_link(mention.url, mention.link_label))
            blocks.append(_section("\n".join(lines)))
    links = alert.links
    actions = slack_actions(incident) if buttons and links and links.slack_buttons else None
    if actions and alert.reason != "resolved":
        blocks.append(actions)
    footer = []
    step = next_step(alert)
    if step and links and not actions:
        footer.append(slack_link(links.ack_url, "Acknowledge"))
    if step:
        footer.append(f"Acknowledge: `{step}`")
    if links:
        footer.append(slack_link(links.incident_url, "Dashboard"))
    if incident.acknowledged_by:
        footer.append(f"Acknowledged by {escape_slack(incident.acknowledged_by)}")
    if root and alert.created_at is not None:
        footer.append(f"Updated {_clock_time(alert.created_at, True)} UTC · details in thread")
    if footer:
        text = _fit(" · ".join(footer), SLACK_CONTEXT_TEXT)
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": text}]})
    blocks = blocks[:SLACK_MAX_BLOCKS]
    fallback = (
        f"{escape_slack(headline(alert))} — {escape_slack(reason_words(alert))}: "
        f"{truncate_slack(incident.summary, 1000)}"
    )
    return SlackMessage(text=_fit(fallback, SLACK_FALLBACK_TEXT), blocks=blocks)
