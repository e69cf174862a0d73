"""Claim clusters: which mentions end up counted as the same claim."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from monitor.detection.claims import ClaimIndex, mention_links
from monitor.detection.settings import DetectionConfig
from tests.detection.factory import at, claim_vector, mention, score

SICK = "Drank an Acme cola yesterday and the whole family got sick, stay away from it"
SCAM = "Acme support charged my card twice and refuses to refund, total scam"


def test_near_duplicate_copies_form_one_cluster_without_embeddings() -> None:
    index = ClaimIndex()
    batch = [
        (mention(1, SICK, minutes=0), score(), None),
        (mention(2, "RT " + SICK + "!!", minutes=3, platform="bluesky"), score(), None),
        (mention(3, SCAM, minutes=4), score(), None),
    ]
    changed = index.add(batch, now=at(5))
    assert len(changed) == 2
    sick = index.get("claim:acme:1")
    assert sick is not None
    assert sick.mention_ids() == [1, 2]
    assert sorted(sick.platforms) == ["bluesky", "mastodon"]
    assert index.get("claim:acme:3") is not None


def test_shared_link_joins_different_wording_but_home_page_does_not() -> None:
    video = "https://www.youtube.com/watch?v=abc123&si=tracking"
    index = ClaimIndex()
    index.add(
        [
            (mention(1, f"Watch this about Acme {video}", minutes=0), score(), None),
            (mention(2, "Unbelievable what this clip shows "
                     "https://youtube.com/watch?v=abc123", minutes=1), score(), None),
            (mention(3, "Acme is the worst https://acme.example/", minutes=2), score(), None),
            (mention(4, "I hate Acme so much https://acme.example", minutes=3), score(), None),
        ],
        now=at(5),
    )
    keys = sorted(c.key for c in index.clusters())
    assert keys == ["claim:acme:1", "claim:acme:3", "claim:acme:4"]
    assert index.get("claim:acme:1").mention_ids() == [1, 2]  # type: ignore[union-attr]


def test_mention_links_canonicalises_and_skips_home_pages() -> None:
    m = mention(1, "see https://www.reddit.com/r/x/comments/9/?utm_source=a, and https://acme.example")
    links = mention_links(m)
    assert "https://www.reddit.com/r/x/comments/9" in links
    assert not any(link.startswith("https://acme.example") for link in links)


@pytest.mark.parametrize(
    ("threshold", "expected_clusters"),
    [(0.72, 2), (0.999, 4)],
)
def test_embedding_similarity_groups_paraphrases_by_threshold(
    threshold: float, expected_clusters: int
) -> None:
    # Paraphrases in two languages share a topic vector; the scam claim has its own.
    index = ClaimIndex(DetectionConfig(claim_similarity=threshold))
    index.add(
        [
            (mention(1, SICK, minutes=0), score(), claim_vector(0, 1)),
            (mention(2, "Mi hijo se enfermó después de beber Acme", minutes=2,
                     platform="reddit"), score(), claim_vector(0, 2)),
            (mention(3, SCAM, minutes=3), score(), claim_vector(5, 3)),
            (mention(4, "Acme made my kid throw up all night", minutes=4,
                     platform="bluesky"), score(), claim_vector(0, 4)),
        ],
        now=at(5),
    )
    assert len(index) == expected_clusters
    if expected_clusters == 2:
        sick = index.get("claim:acme:1")
        assert sick is not None and sick.mention_ids() == [1, 2, 4]
        assert sick.author_count == 3


def test_only_negative_or_confident_harm_claims_are_clustered() -> None:
    index = ClaimIndex()
    index.add(
        [
            (mention(1, "Love the new Acme flavour", minutes=0), score("positive"), None),
            (mention(2, "Acme opens a store downtown", minutes=1), score("neutral"), None),
            (mention(3, "Reports say Acme cola is being recalled for contamination", minutes=2),
             score("neutral", harm="legal_regulatory", harm_confidence=0.8), None),
            (mention(4, "Acme recall? probably nothing", minutes=3),
             score("neutral", harm="legal_regulatory", harm_confidence=0.2), None),
        ],
        now=at(5),
    )
    assert [c.key for c in index.clusters()] == ["claim:acme:3"]
    assert index.get("claim:acme:3").category == "legal_regulatory"  # type: ignore[union-attr]


def test_brands_never_share_a_cluster() -> None:
    index = ClaimIndex()
    index.add(
        [
            (mention(1, SICK, brand="acme"), score(), claim_vector(0, 1)),
            (mention(2, SICK.replace("Acme", "Globex"), brand="globex"), score(),
             claim_vector(0, 2)),
        ],
        now=at(1),
    )
    assert sorted(c.key for c in index.clusters()) == ["claim:acme:1", "claim:globex:2"]


def test_idle_clusters_are_evicted_and_a_returning_claim_starts_fresh() -> None:
    index = ClaimIndex(DetectionConfig(claim_window="1h"))
    index.add([(mention(1, SICK, minutes=0), score(), claim_vector(0, 1))], now=at(0))
    index.add([(mention(2, SCAM, minutes=90), score(), claim_vector(5, 2))], now=at(90))
    assert [c.key for c in index.clusters()] == ["claim:acme:2"]
    index.add([(mention(3, SICK, minutes=95), score(), claim_vector(0, 3))], now=at(95))
    assert sorted(c.key for c in index.clusters()) == ["claim:acme:2", "claim:acme:3"]


def test_cluster_count_is_bounded() -> None:
    index = ClaimIndex(DetectionConfig(max_clusters=3))
    for n in range(10):
        index.add([(mention(n + 1, f"complaint number {n} " * 3 + f"topic{n}", minutes=n),
                    score(), claim_vector(n, n))], now=at(n))
    assert [c.key for c in index.clusters()] == ["claim:acme:8", "claim:acme:9", "claim:acme:10"]


def test_growth_rate_counts_recent_against_earlier_hour() -> None:
    index = ClaimIndex()
    batch = [(mention(n, SICK + f" #{n}", minutes=10 * n, author=f"a{n % 4}"), score(),
              claim_vector(0, n)) for n in range(1, 4)]  # 3 mentions in the first hour
    batch += [(mention(n, SICK + f" #{n}", minutes=60 + 5 * (n - 3)), score(), claim_vector(0, n))
              for n in range(4, 16)]  # 12 in the second
    index.add(batch, now=at(120))
    cluster = index.get("claim:acme:1")
    assert cluster is not None
    recent, earlier = cluster.growth_rate(at(120), timedelta(hours=1))
    assert (recent, earlier) == (12.0, 3.0)
    assert cluster.mention_count == 15
    assert cluster.author_count == 15
    assert cluster.first_seen == at(10) and cluster.last_seen == at(120)


def test_future_dated_mention_is_counted_at_clock_time() -> None:
    index = ClaimIndex()
    index.add([(mention(1, SICK, minutes=600), score(), None)], now=at(5))
    cluster = index.get("claim:acme:1")
    assert cluster is not None and cluster.last_seen == at(5)


def test_top_members_and_summary_come_from_the_widest_audience() -> None:
    index = ClaimIndex()
    index.add(
        [
            (mention(1, SICK, reach=50), score(), claim_vector(0, 1)),
            (mention(2, "Acme cola\x1b[31m made people sick, says \nnews desk", reach=900_000,
                     minutes=1), score(), claim_vector(0, 2)),
            (mention(3, SICK + " again", reach=10, likes=5000, minutes=2), score(),
             claim_vector(0, 3)),
        ],
        now=at(3),
    )
    cluster = index.get("claim:acme:1")
    assert cluster is not None
    assert [m.mention_id for m in cluster.top_members(3)] == [2, 3, 1]
    assert cluster.summary() == "Acme cola made people sick, says news desk"


def test_same_input_gives_same_clusters() -> None:
    def run() -> list[tuple[str, list[int]]]:
        index = ClaimIndex()
        rng = np.random.default_rng(7)
        batch = [(mention(n, f"Acme claim variant {n % 3} " + "word " * (n % 5), minutes=n),
                  score(), claim_vector(int(rng.integers(0, 3)), n)) for n in range(1, 40)]
        index.add(batch, now=at(40))
        return [(c.key, c.mention_ids()) for c in index.clusters()]

    assert run() == run()


def test_translations_of_a_harm_claim_join_by_category_not_plain_complaints() -> None:
    index = ClaimIndex(DetectionConfig())
    texts = [
        "Acme bars made my kids sick",  # en
        "Les barres Acme ont rendu mes enfants malades",  # fr
        "Acme Riegel haben meine Kinder krank gemacht",  # de
        "Las barritas Acme enfermaron a mis hijos",  # es
    ]
    batch = [
        (mention(n, text, minutes=n), score(harm="health_safety", harm_confidence=0.8), None)
        for n, text in enumerate(texts, start=1)
    ]
    # A complaint (no harm) and a weak harm guess stay out of the claim's cluster.
    batch.append((mention(10, "Acme app crashes all the time", minutes=5), score(), None))
    batch.append((
        mention(11, "Acme bars taste odd, maybe bad?", minutes=6),
        score(harm="health_safety", harm_confidence=0.3), None,
    ))
    index.add(batch, at(10))
    sizes = sorted(c.mention_count for c in index.clusters("acme"))
    assert sizes == [1, 1, 4]
    biggest = max(index.clusters("acme"), key=lambda c: c.mention_count)
    assert biggest.category == "health_safety"
