"""Ingest: match brands, normalise, detect language, dedupe, store, then hand on for scoring."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field

from monitor.clock import Clock, sane_published
from monitor.dedupe import canonical_url
from monitor.language import detect_language
from monitor.matching import BrandMatcher
from monitor.records import Mention
from monitor.store import Store

log = logging.getLogger(__name__)
MAX_TEXT_CHARS = 20_000  # a mention longer than this is truncated: models read 128 tokens anyway
NewMentionsListener = Callable[[list[Mention]], Awaitable[None]]


@dataclass(slots=True)
class IngestReport:
    """What one ingest call did, for logs and metrics."""

    received: int = 0
    matched: int = 0
    stored: int = 0
    per_brand: dict[str, int] = field(default_factory=dict)

    @property
    def duplicates(self) -> int:
        """Matched mentions that were already stored."""
        return self.matched - self.stored


# C0/C1 controls, DEL, zero-width and bidi-override characters: never meaningful in a mention.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean_text(text: str) -> str:
    """Drop control characters and fold whitespace (newlines included) to single spaces."""
    return " ".join(_CONTROL.sub("", text).split())[:MAX_TEXT_CHARS]


class Pipeline:
    """Turns raw connector output into stored, brand-tagged mentions."""

    def __init__(self, store: Store, matcher: BrandMatcher, clock: Clock) -> None:
        self.store = store
        self.matcher = matcher
        self.clock = clock
        self._listeners: list[NewMentionsListener] = []

    def on_new_mentions(self, listener: NewMentionsListener) -> None:
        """Call `listener` with every batch of newly stored mentions (scoring, detection)."""
        self._listeners.append(listener)

    def prepare(
        self, source: str, mentions: Sequence[Mention], brands: Collection[str] = ()
    ) -> list[Mention]:
        """CPU-bound part (run off the loop): match brands, clean, canonicalise, detect language."""
        now = self.clock.now()
        kept: list[Mention] = []
        for mention in mentions:
            mention.text = clean_text(mention.text)
            if mention.title:
                mention.title = clean_text(mention.title)
            matched = self.matcher.match(mention.text, mention.lang, mention.author)
            if matched and mention.lang is None:
                # Detect only for matches (it costs ~0.5 ms), then re-match so a brand's
                # `languages` filter applies to platforms that do not say the language.
                mention.lang = detect_language(mention.text)
                if mention.lang is not None:
                    matched = self.matcher.match(mention.text, mention.lang, mention.author)
            if brands:
                matched = tuple(b for b in matched if b in brands)
            if not matched:
                continue
            mention.brands = matched
            mention.source = source
            mention.fetched_at = now
            # Future dates would skew volume buckets; pre-web dates (year 999, epoch 0) are
            # feed errors: the mention keeps its first-seen time instead.
            mention.published_at = sane_published(mention.published_at, now)
            mention.canonical_url = canonical_url(mention.url) if mention.url else None
            kept.append(mention)
        return kept

    async def ingest(
        self, source: str, mentions: Sequence[Mention], brands: Collection[str] = ()
    ) -> IngestReport:
        """Match, dedupe and store one batch; notify listeners of the new ones."""
        report = IngestReport(received=len(mentions))
        if not mentions:
            return report
        prepared = await asyncio.to_thread(self.prepare, source, mentions, brands)
        report.matched = len(prepared)
        new = await self.store.save_mentions(prepared) if prepared else []
        report.stored = len(new)
        for mention in new:
            for brand in mention.brands:
                report.per_brand[brand] = report.per_brand.get(brand, 0) + 1
        for listener in self._listeners:
            await listener(new)
        return report
