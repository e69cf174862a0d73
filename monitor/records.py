"""Plain data records that travel through the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Engagement:
    """Engagement counters of one mention at one moment; None means the platform does not say."""

    likes: int | None = None
    shares: int | None = None
    comments: int | None = None
    views: int | None = None
    # Platform-specific counters kept for display (e.g. reddit upvote_ratio, bluesky quotes).
    extra: dict[str, float] = field(default_factory=dict)

    def total(self) -> int:
        """Sum of the interaction counters (views excluded: they dwarf the rest)."""
        return sum(v for v in (self.likes, self.shares, self.comments) if v is not None)


@dataclass(frozen=True, slots=True)
class EngagementUpdate:
    """A re-read of a stored mention's counters, returned by `Connector.refresh`."""

    platform: str
    external_id: str
    engagement: Engagement
    observed_at: datetime


@dataclass(slots=True)
class Mention:
    """One post, article, comment or video that may mention a brand."""

    platform: str  # rss, reddit, hackernews, mastodon, bluesky, youtube, x, json, webhook
    external_id: str  # the platform's own id (or the feed entry id / link)
    text: str  # plain text: title + body, HTML stripped, whitespace folded
    url: str | None = None
    title: str | None = None
    author: str | None = None
    author_reach: int | None = None  # followers / subscribers when the platform gives them
    published_at: datetime | None = None  # UTC; None when the source gives no date
    lang: str | None = None  # ISO 639-1 if the platform says; detected otherwise
    parent_id: str | None = None  # thread/parent id for replies and comments
    engagement: Engagement | None = None
    source: str = ""  # name of the configured source that produced it (set by the runner)
    # Filled by the pipeline:
    brands: tuple[str, ...] = ()
    canonical_url: str | None = None
    fetched_at: datetime | None = None
    id: int | None = None  # row id once stored


@dataclass(frozen=True, slots=True)
class Score:
    """Model output for one mention."""

    sentiment: str  # negative / neutral / positive
    p_negative: float
    p_neutral: float
    p_positive: float
    complaint: float  # probability the mention is a complaint
    harm_category: str  # health_safety, fraud_scam, ..., none
    harm_confidence: float
    model: str  # model id and version that produced it
    extra: dict[str, Any] = field(default_factory=dict)
    # The sentence embedding (numpy vector) for claim clustering; in memory only, never stored.
    embedding: Any = field(default=None, compare=False, repr=False)


SEVERITIES = ("info", "low", "medium", "high", "critical")
HARM_CATEGORIES = (
    "health_safety",
    "fraud_scam",
    "legal_regulatory",
    "privacy_security",
    "discrimination_ethics",
    "outage",
    "boycott",
    "none",
)
# "sentiment_shift" is what complaint surges were called before 0.2; old rows keep the name.
INCIDENT_KINDS = ("viral_claim", "complaint_surge", "volume_spike", "sentiment_shift")


@dataclass(frozen=True, slots=True)
class RiskFactor:
    """One reason an incident matters, in numbers and in words."""

    name: str  # e.g. "spread", "velocity", "harm", "negativity", "reach", "volume"
    value: float  # the factor's contribution in [0, 1]
    detail: str  # e.g. "31 authors on 3 platforms in 52 min"


@dataclass(slots=True)
class Incident:
    """One damaging claim or anomaly about a brand, tracked from open to resolve."""

    id: int
    brand: str
    kind: str  # one of INCIDENT_KINDS
    severity: str  # one of SEVERITIES
    status: str  # open / acknowledged / resolved
    summary: str  # the claim in one sentence
    category: str = "none"  # harm category
    risk: float = 0.0
    factors: list[RiskFactor] = field(default_factory=list)
    opened_at: datetime | None = None
    updated_at: datetime | None = None
    resolved_at: datetime | None = None
    mention_count: int = 0
    author_count: int = 0
    platforms: list[str] = field(default_factory=list)
    acknowledged_by: str | None = None
    projection: str | None = None  # e.g. "on this curve, 10k shares by 15:00"
    cluster_key: str | None = None  # the claim cluster or anomaly it tracks (Assessment.key)


@dataclass(frozen=True, slots=True)
class Digest:
    """The incidents a digest route collected over one period, for one message."""

    route: str  # the route's name
    period_start: datetime  # UTC, inclusive
    period_end: datetime  # UTC, exclusive
    incidents: list[Incident]  # most severe first; state as of sending
    muted: int = 0  # incidents left out because a silence covered them at sending time


@dataclass(frozen=True, slots=True)
class AlertLinks:
    """Dashboard links an alert carries when `[web]` is configured with a public_url."""

    incident_url: str  # the incident's page (needs a login)
    ack_url: str  # signed and expiring: a confirmation page, acknowledging only by POST
    slack_buttons: bool = False  # Slack bot messages carry Acknowledge / Resolve buttons


@dataclass(slots=True)
class AlertMessage:
    """What a channel sends: one alert about one incident change, with its evidence.

    A digest (reason "digest") carries `digest`; its `incident` is the digest's first entry,
    so a channel that knows nothing of digests still sends something true.
    """

    alert_id: int
    idempotency_key: str  # incident:reason:severity; receivers drop repeats
    reason: str  # opened / escalated / reminder / resolved / digest / test
    incident: Incident
    top_mentions: list[Mention] = field(default_factory=list)
    # Mentions (or engagement) per time bucket, oldest first, for the growth sparkline.
    curve: list[tuple[datetime, int]] = field(default_factory=list)
    created_at: datetime | None = None
    digest: Digest | None = None
    links: AlertLinks | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """The outcome of one send attempt."""

    channel: str
    ok: bool
    detail: str  # "sent", or the exact failure: DNS, TLS, auth, HTTP status and body
    retryable: bool = True  # False for errors that retrying cannot fix (bad token, 4xx payload)
    retry_after: float | None = None  # seconds, when the receiver said so
    external_ref: str | None = None  # Slack message ts, email Message-ID, ...


@dataclass(slots=True)
class Assessment:
    """Detection's verdict on one claim cluster or volume anomaly: the input to incidents."""

    brand: str
    kind: str  # one of INCIDENT_KINDS
    key: str  # stable key of the claim cluster ("claim:<id>") or anomaly ("volume:<brand>")
    category: str  # harm category, "none" for volume/sentiment incidents without one
    risk: float  # in [0, 1]
    severity: str | None  # one of SEVERITIES, or None when below the "info" threshold
    factors: list[RiskFactor]
    summary: str  # the claim in one sentence, from the top mentions
    mention_ids: list[int]  # mentions that support it (new ones are attached to the incident)
    author_count: int
    platforms: list[str]
    at: datetime  # when the assessment was made (clock time)
    projection: str | None = None
