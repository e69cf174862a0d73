"""Throughput of brand matching and dedupe over synthetic mentions; near-duplicate recall.

    .venv/bin/python benchmarks/bench_matching.py
    .venv/bin/python benchmarks/bench_matching.py \\
        --corpus ../shared/data/tweeteval-sentiment/train_text.txt

The first run times `BrandMatcher.match` (20 brands), `canonical_url`, `content_fingerprint`
and `NearDuplicateIndex.find` + `add` over 10,000 seeded synthetic texts. With `--corpus`
(one text per line) it also measures how often edited copies of real texts are found as near
duplicates (distance <= 3) and how many unrelated pairs would be taken for duplicates.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.config import BrandConfig
from monitor.dedupe import (
    NearDuplicateIndex,
    canonical_url,
    content_fingerprint,
    fingerprint_distance,
)
from monitor.matching import BrandMatcher

BRANDS = [
    BrandConfig(name="Acme", aliases=["Acme Corp"], exclusions=["acme anvil cartoon"]),
    BrandConfig(name="Globex", phrases=["globex cola"]),
    BrandConfig(name="Initech", handles=["@initech"]),
    BrandConfig(name="Nestlé", aliases=["Nespresso"]),
    BrandConfig(name="Umbrella", query='umbrella AND (recall OR "made me sick") NOT weather'),
    BrandConfig(name="Hooli", aliases=["hooli xyz", "nucleus"]),
    BrandConfig(name="Soylent", exclusions=["soylent green"]),
    BrandConfig(name="Wonka", phrases=["wonka bar", "everlasting gobstopper"]),
    BrandConfig(name="Cyberdyne", languages=["en", "de"]),
    BrandConfig(name="Tyrell", aliases=["Tyrell Corporation"]),
    BrandConfig(name="Wayne Enterprises", aliases=["WayneTech"]),
    BrandConfig(name="Stark Industries", aliases=["Stark"], exclusions=["stark contrast"]),
    BrandConfig(name="Oscorp"),
    BrandConfig(name="Massive Dynamic"),
    BrandConfig(name="Vandelay", aliases=["Vandelay Industries"]),
    BrandConfig(name="Pied Piper", query='"pied piper" NOT (hamelin OR fairy)'),
    BrandConfig(name="Müller", aliases=["Muellermilch"]),
    BrandConfig(name="Аэрофлот"),
    BrandConfig(name="ソニー", aliases=["Sony"]),
    BrandConfig(name="삼성", aliases=["Samsung"]),
]
MENTIONS = [
    "Acme", "acme corp", "Globex cola", "#initech", "Nestle", "NESTLÉ", "umbrella recall",
    "Hooli", "soylent", "Wonka bar", "cyberdyne", "Tyrell", "WayneTech", "Stark", "Oscorp",
    "Massive Dynamic", "Vandelay", "pied piper", "Müller", "Аэрофлот", "ソニー", "삼성",
]
FILLER = (
    "the a my our this that was is are were been really very so just still never always "
    "bought ordered returned used tried opened drank ate broke fixed called emailed waited "
    "phone store order delivery refund support battery screen bottle can package update app "
    "terrible great awful fine slow fast broken sick happy angry late early cheap expensive "
    "today yesterday again finally recall lawsuit breach outage scam weather green contrast"
).split()


def synthetic_texts(count: int, seed: int = 7) -> list[str]:
    """Mention-like texts: 12-40 words, about a third naming a brand, some with links."""
    rng = random.Random(seed)
    texts = []
    for i in range(count):
        words = rng.choices(FILLER, k=rng.randint(12, 40))
        if rng.random() < 0.35:
            words.insert(rng.randrange(len(words)), rng.choice(MENTIONS))
        if rng.random() < 0.2:
            words.append(f"https://example.com/post/{i}?utm_source=feed")
        texts.append(" ".join(words))
    return texts


def rate(label: str, items: Sequence[object], run: Callable[[], object]) -> float:
    # CPU time, not wall time: the figure should not depend on what else the machine runs.
    start = time.process_time()
    run()
    elapsed = time.process_time() - start
    per_second = len(items) / elapsed
    print(f"{label:<44} {per_second:>10,.0f}/s  ({elapsed * 1e6 / len(items):6.1f} µs CPU each)")
    return per_second


def throughput(count: int) -> None:
    texts = synthetic_texts(count)
    urls = [f"https://M.Example.com/p/{i}/?utm_source=x&b=2&a={i}#top" for i in range(count)]
    matcher = BrandMatcher(BRANDS)
    print(f"{count:,} synthetic texts, {len(BRANDS)} brands, mean {mean_len(texts):.0f} chars")
    matcher.match(texts[0])  # compile-time caches out of the timing
    found = 0

    def match_all() -> None:
        nonlocal found
        found = sum(1 for t in texts if matcher.match(t, lang="en", author="someone"))

    rate("BrandMatcher.match", texts, match_all)
    print(f"{'':<44} {found:,} texts matched a brand")
    rate("canonical_url", urls, lambda: [canonical_url(u) for u in urls])
    rate("content_fingerprint", texts, lambda: [content_fingerprint(t) for t in texts])
    index: NearDuplicateIndex[int] = NearDuplicateIndex(window=timedelta(hours=1))
    start = datetime(2025, 1, 1, tzinfo=UTC)

    fingerprints = [content_fingerprint(t) for t in texts]

    def index_all() -> None:
        # As the pipeline would: fingerprint once, look up, then index.
        for i, fingerprint in enumerate(fingerprints):
            at = start + timedelta(seconds=i)
            index.find_fingerprint(fingerprint, at)
            index.add_fingerprint(i, fingerprint, at)

    rate("NearDuplicateIndex find + add (fingerprints)", texts, index_all)


def mean_len(texts: Sequence[str]) -> float:
    return sum(map(len, texts)) / len(texts)


def near_duplicate_recall(corpus: Path, sample_size: int = 3000, seed: int = 1) -> None:
    lines = corpus.read_text(encoding="utf-8").splitlines()
    rng = random.Random(seed)
    texts = [t.strip().strip('"') for t in lines if len(t.split()) >= 8]
    sample = rng.sample(texts, min(sample_size, len(texts)))
    print(f"near duplicates: {len(sample):,} texts of >= 8 words from {corpus}")
    found: dict[str, list[bool]] = {}
    for text in sample:
        words = text.split()
        i, j = rng.randrange(len(words)), rng.randrange(len(words))
        copies = {
            "one word replaced": " ".join([*words[:i], "zebra", *words[i + 1 :]]),
            "one word dropped": " ".join([*words[:i], *words[i + 1 :]]),
            "hashtag appended": f"{text} #boycott",
            "retweeted with link": f"RT @someone: {text} https://t.co/abc",
            "two words replaced": " ".join(
                "zebra" if k in (i, j) else w for k, w in enumerate(words)
            ),
        }
        fingerprint = content_fingerprint(text)
        for kind, copy in copies.items():
            close = fingerprint_distance(fingerprint, content_fingerprint(copy)) <= 3
            found.setdefault(kind, []).append(close)
    for kind, hits in found.items():
        print(f"  {kind:<24} found {sum(hits) / len(hits):6.1%}")
    fingerprints = [content_fingerprint(t) for t in sample]
    pairs = false = 0
    for a in range(0, len(sample), 3):
        for b in range(a + 1, len(sample), 7):
            if sample[a] == sample[b]:
                continue
            pairs += 1
            false += fingerprint_distance(fingerprints[a], fingerprints[b]) <= 3
    print(f"  unrelated pairs within distance 3: {false:,} of {pairs:,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--corpus", type=Path, help="one text per line, for near-duplicate recall")
    args = parser.parse_args()
    throughput(args.count)
    if args.corpus is not None:
        near_duplicate_recall(args.corpus)


if __name__ == "__main__":
    main()
