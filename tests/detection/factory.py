"""Builders for scored mentions used by the detection tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from monitor.records import Engagement, Mention, Score

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    """T0 plus some minutes."""
    return T0 + timedelta(minutes=minutes)


def claim_vector(topic: int, jitter: int = 0, dim: int = 32) -> np.ndarray:
    """A unit vector near axis `topic`; different `jitter` seeds give cosine ~0.95 to each other."""
    vector = np.zeros(dim)
    vector[topic] = 1.0
    rng = np.random.default_rng(jitter)
    vector += rng.normal(0, 0.05, dim)
    return vector / np.linalg.norm(vector)


def mention(
    n: int,
    text: str,
    *,
    minutes: float = 0,
    author: str | None = None,
    platform: str = "mastodon",
    reach: int | None = 300,
    brand: str = "acme",
    url: str | None = None,
    likes: int | None = None,
) -> Mention:
    """A stored mention with id `n`."""
    return Mention(
        platform=platform,
        external_id=f"{platform}-{n}",
        text=text,
        url=url or f"https://{platform}.example/post/{n}",
        author=author or f"user{n}",
        author_reach=reach,
        published_at=at(minutes),
        fetched_at=at(minutes),
        brands=(brand,),
        id=n,
        engagement=Engagement(likes=likes) if likes is not None else None,
    )


def score(
    sentiment: str = "negative",
    *,
    p_negative: float | None = None,
    complaint: float = 0.7,
    harm: str = "none",
    harm_confidence: float = 0.0,
) -> Score:
    """A model score."""
    neg = p_negative if p_negative is not None else {"negative": 0.9, "neutral": 0.1}.get(
        sentiment, 0.03
    )
    pos = 0.9 if sentiment == "positive" else 0.05
    return Score(
        sentiment=sentiment, p_negative=neg, p_neutral=max(0.0, 1 - neg - pos), p_positive=pos,
        complaint=complaint, harm_category=harm, harm_confidence=harm_confidence, model="test",
    )
