"""Small builders for alerting tests: an incident about Acme with evidence, overridable per test."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from monitor.records import AlertMessage, Engagement, Incident, Mention, RiskFactor

T0 = datetime(2024, 5, 17, 14, 0, tzinfo=UTC)

# Every trick a hostile post could try on our outputs, in one string.
HOSTILE = (
    "<!channel> <@U123> <http://evil|click> @here @everyone "
    "\x1b[31mred\x1b[0m \x1b]8;;http://evil.example\x07hidden link\x1b]8;;\x07 \x1b]0;pwned\x07 "
    "<script>alert(1)</script> <img src=x onerror=alert(2)> a & b"
)


def make_mention(n: int = 1, **changes: Any) -> Mention:
    """A reddit post about Acme with engagement and a link."""
    mention = Mention(
        platform="reddit",
        external_id=f"t3_{n}",
        text=f"Acme cola made my kids sick after the festival, post {n}",
        url=f"https://www.reddit.com/r/food/comments/{n}/acme/",
        title=f"Acme cola made us sick ({n})",
        author=f"u/parent{n}",
        author_reach=12_300,
        published_at=T0 + timedelta(minutes=n),
        engagement=Engagement(likes=1_234, shares=340, comments=55, views=10_000),
        source="reddit-food",
    )
    return replace(mention, **changes)


def make_incident(**changes: Any) -> Incident:
    """Incident 42: a high-severity health claim about Acme spreading on three platforms."""
    incident = Incident(
        id=42,
        brand="Acme",
        kind="viral_claim",
        severity="high",
        status="open",
        summary="Acme cola made people sick at the Riverside festival",
        category="health_safety",
        risk=0.87,
        factors=[
            RiskFactor("harm", 0.74, "health/safety claim, confidence 0.91"),
            RiskFactor("spread", 0.82, "31 authors on 3 platforms in 52 min"),
            RiskFactor("velocity", 0.65, "shares doubling every 18 min"),
        ],
        opened_at=T0,
        updated_at=T0 + timedelta(minutes=50),
        mention_count=57,
        author_count=31,
        platforms=["reddit", "x", "youtube"],
        projection="on this curve, 10k shares by 15:40 UTC",
    )
    return replace(incident, **changes)


def make_alert(**changes: Any) -> AlertMessage:
    """An "opened" alert for incident 42 with three mentions and a six-bucket curve."""
    incident = changes.pop("incident", None) or make_incident()
    alert = AlertMessage(
        alert_id=7,
        idempotency_key=f"{incident.id}:opened:{incident.severity}",
        reason="opened",
        incident=incident,
        top_mentions=[make_mention(n) for n in range(1, 4)],
        curve=[(T0 + timedelta(minutes=10 * i), c) for i, c in enumerate([3, 5, 9, 14, 26, 41])],
        created_at=T0 + timedelta(minutes=50),
    )
    return replace(alert, **changes)


def hostile_alert() -> AlertMessage:
    """An alert whose every untrusted field carries injection attempts."""
    incident = make_incident(
        summary="Acme\r\nBcc: victim@example.com\r\n\r\n" + HOSTILE,
        factors=[RiskFactor("spread", 0.8, HOSTILE)],
        projection=HOSTILE,
    )
    mention = make_mention(
        1,
        text=HOSTILE,
        title="title\r\nX-Injected: yes " + HOSTILE,
        author="<@U999> \x1b[2J",
        url="javascript:alert(1)",
    )
    evil_link = make_mention(2, url='https://example.com/a|b>c<d "e"', title=HOSTILE)
    return make_alert(incident=incident, top_mentions=[mention, evil_link])
