"""Claim clusters: which mentions end up counted as the same claim."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest

from monitor.detection.claims import ClaimIndex, mention_links
from monitor.detection.settings import DetectionConfig
from monitor.records import Mention, Score
from tests.detection.factory import at, claim_vector, mention, score

SICK = "Drank an Acme cola yesterday and the whole family got sick, stay away from it"
SCAM = "Acme support is a scam, they are stealing from every customer"


def harm(category: str = "health_safety", confidence: float = 0.8, *evidence: str) -> Score:
    """A negative score asserting `category` with cue phrases (a cue-less one is semantic)."""
    base = score(harm=category, harm_confidence=confidence)
    return replace(base, extra={"harm_evidence": list(evidence or ["got sick"])})


def foreign(n: int, text: str, lang: str, **kw: object) -> Mention:
    m = mention(n, text, **kw)  # type: ignore[arg-type]
    m.lang = lang
    return m


def test_near_duplicate_copies_form_one_cluster_without_embeddings() -> None:
    index = ClaimIndex()
    batch = [
        (mention(1, SICK, minutes=0), harm(), None),
        (mention(2, "RT " + SICK + "!!", minutes=3, platform="bluesky"), harm(), None),
        (mention(3, SCAM, minutes=4), harm("fraud_scam", 0.8, "scam"), None),
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
            (mention(1, f"Acme made my kid ill, watch {video}", minutes=0), harm(), None),
            (mention(2, "Unbelievable what this clip shows "
                     "https://youtube.com/watch?v=abc123", minutes=1), harm(), None),
            (mention(3, "Acme poisoned me https://acme.example/", minutes=2), harm(), None),
            (mention(4, "I got food poisoning, Acme https://acme.example", minutes=3), harm(),
             None),
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


@pytest.mark.parametrize(("threshold", "expected_clusters"), [(0.62, 2), (0.999, 4)])
def test_embedding_similarity_groups_paraphrases_by_threshold(
    threshold: float, expected_clusters: int
) -> None:
    index = ClaimIndex(
        DetectionConfig(
            claim_similarity=threshold, claim_merge_similarity=threshold,
            claim_similarity_with_cue=threshold, claim_merge_similarity_with_cue=threshold,
        )
    )
    index.add(
        [
            (mention(1, SICK, minutes=0), harm(), claim_vector(0, 1)),
            (mention(2, "My son got sick after one can of Acme", minutes=2,
                     platform="reddit"), harm(), claim_vector(0, 2)),
            (mention(3, SCAM, minutes=3), harm("fraud_scam", 0.8, "scam"), claim_vector(5, 3)),
            (mention(4, "Acme made my kid throw up all night", minutes=4,
                     platform="bluesky"), harm(), claim_vector(0, 4)),
        ],
        now=at(5),
    )
    assert len(index) == expected_clusters
    if expected_clusters == 2:
        sick = index.get("claim:acme:1")
        assert sick is not None and sick.mention_ids() == [1, 2, 4]
        assert sick.author_count == 3


def test_only_assertions_of_harm_are_clustered() -> None:
    index = ClaimIndex()
    positive = replace(harm(), p_negative=0.05, p_positive=0.9, sentiment="positive")
    index.add(
        [
            (mention(1, "Acme crew saved a passenger with CPR, he survived the heart attack"),
             positive, None),
            (mention(2, "Acme app crashes all the time, fix it", minutes=1), score(), None),
            (mention(3, "Acme is down again", minutes=2), harm("outage", 0.9, "down again"),
             None),
            (mention(4, "cancelled my Acme subscription, done with them", minutes=3),
             harm("boycott", 0.9, "cancelled my subscription", "done with"), None),
            (mention(5, "Acme refunds take forever", minutes=4),
             harm("fraud_scam", 0.45, ""), None),  # a semantic-only guess, not confident
            (mention(6, "Reports say Acme cola is being recalled for contamination",
                     minutes=5), harm("legal_regulatory", 0.8, "recalled"), None),
        ],
        now=at(6),
    )
    assert [c.key for c in index.clusters()] == ["claim:acme:6"]
    assert index.get("claim:acme:6").category == "legal_regulatory"  # type: ignore[union-attr]


def test_two_claims_of_one_category_stay_apart() -> None:
    # Same brand, same harm, same hour: a burn and a seizure are different stories.
    index = ClaimIndex()
    index.add(
        [
            (mention(n, f"Acme charger burned my hand #{n}", minutes=n), harm(),
             claim_vector(0, n)) for n in range(1, 5)
        ] + [
            (mention(n, f"Acme playlist gave my kid a seizure #{n}", minutes=n), harm(),
             claim_vector(7, n)) for n in range(5, 9)
        ],
        now=at(10),
    )
    assert sorted(c.mention_ids() for c in index.clusters()) == [[1, 2, 3, 4], [5, 6, 7, 8]]


def test_fact_checks_join_their_claim_as_counter_evidence_and_open_nothing_alone() -> None:
    article = "https://news.example/acme-leak"
    index = ClaimIndex()
    index.add(
        [(mention(n, f"Acme leaked our emails {article}", minutes=n),
          harm("privacy_security", 0.9, "leaked"), claim_vector(2, n)) for n in range(1, 4)],
        now=at(4),
    )
    changed = index.add(
        [
            (mention(10, f"FALSE: Acme was not breached, says the company {article}",
                     minutes=5), score("neutral"), claim_vector(3, 10)),
            (mention(11, "Fact check: no, Acme did not leak anything", minutes=6),
             score("neutral"), claim_vector(2, 11)),
            (mention(12, "Fact check: Acme is not shutting down", minutes=7),
             score("neutral"), claim_vector(9, 12)),  # answers a claim nobody made here
        ],
        now=at(8),
    )
    assert [c.key for c in changed] == ["claim:acme:1"]
    leak = index.get("claim:acme:1")
    assert leak is not None
    assert (leak.mention_count, leak.counter_count) == (3, 2)
    assert leak.mention_ids() == [1, 2, 3, 10, 11]
    assert len(index) == 1


def test_a_post_linking_two_clusters_merges_them_into_the_older() -> None:
    index = ClaimIndex()
    index.add([
        (mention(1, "Acme bars made my kid sick https://a.example/story", minutes=0), harm(),
         None),
        (mention(2, "Acme bars caused food poisoning https://b.example/video", minutes=5),
         harm(), None),
    ], now=at(6))
    assert len(index) == 2
    index.add([(mention(3, "same story: https://a.example/story https://b.example/video",
                        minutes=8), harm(), None)], now=at(9))
    assert index.take_merges() == [("claim:acme:1", "claim:acme:2")]
    assert [c.mention_ids() for c in index.clusters()] == [[1, 2, 3]]
    assert index.take_merges() == []


def test_brands_never_share_a_cluster() -> None:
    index = ClaimIndex()
    index.add(
        [
            (mention(1, SICK, brand="acme"), harm(), claim_vector(0, 1)),
            (mention(2, SICK.replace("Acme", "Globex"), brand="globex"), harm(),
             claim_vector(0, 2)),
        ],
        now=at(1),
    )
    assert sorted(c.key for c in index.clusters()) == ["claim:acme:1", "claim:globex:2"]


def test_a_claim_returning_within_the_reopen_window_finds_its_cluster() -> None:
    settings = DetectionConfig(claim_window="1h", reopen_window="3h")
    index = ClaimIndex(settings)
    index.add([(mention(1, SICK, minutes=0), harm(), claim_vector(0, 1))], now=at(0))
    index.add([(mention(2, "A different claim: Acme bars made my kid sick", minutes=150),
                harm(), claim_vector(0, 2))], now=at(150))
    assert [c.mention_ids() for c in index.clusters()] == [[1, 2]]
    index.add([(mention(3, SCAM, minutes=400), harm("fraud_scam", 0.8, "scam"),
                claim_vector(5, 3))], now=at(400))
    assert [c.key for c in index.clusters()] == ["claim:acme:3"]  # the old one is evicted
    index.add([(mention(4, SICK, minutes=405), harm(), claim_vector(0, 4))], now=at(405))
    assert sorted(c.key for c in index.clusters()) == ["claim:acme:3", "claim:acme:4"]


def test_cluster_count_is_bounded() -> None:
    index = ClaimIndex(DetectionConfig(max_clusters=3))
    for n in range(10):
        index.add([(mention(n + 1, f"harm claim number {n} " * 3 + f"topic{n}", minutes=n),
                    harm(), claim_vector(n, n))], now=at(n))
    assert [c.key for c in index.clusters()] == ["claim:acme:8", "claim:acme:9", "claim:acme:10"]


def test_growth_rate_counts_recent_against_earlier_hour() -> None:
    index = ClaimIndex()
    batch = [(mention(n, SICK + f" #{n}", minutes=10 * n, author=f"a{n % 4}"), harm(),
              claim_vector(0, n)) for n in range(1, 4)]  # 3 mentions in the first hour
    batch += [(mention(n, SICK + f" #{n}", minutes=60 + 5 * (n - 3)), harm(), claim_vector(0, n))
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
    index.add([(mention(1, SICK, minutes=600), harm(), None)], now=at(5))
    cluster = index.get("claim:acme:1")
    assert cluster is not None and cluster.last_seen == at(5)


def test_the_headline_is_the_most_representative_post_not_the_loudest() -> None:
    index = ClaimIndex()
    index.add(
        [
            (mention(1, "Acme cola\x1b[31m made my whole family sick, \nstay away", reach=50),
             harm(), claim_vector(0, 1)),
            (mention(2, "Acme cola made people sick https://news.example/acme-cola", minutes=1,
                     reach=40),
             harm(), claim_vector(0, 2)),
            # Loud but off-centre: a big account's aside that barely says the claim (it joins
            # by sharing the story's link).
            (mention(3, "ugh, Acme again https://news.example/acme-cola anyway, sick of this",
                     reach=900_000, likes=5000,
                     minutes=2), harm(), 0.6 * claim_vector(0, 3) + 0.8 * claim_vector(4, 3)),
            (mention(4, "Acme cola sick family too, we were up all night", minutes=3, reach=30),
             harm(), claim_vector(0, 4)),
        ],
        now=at(4),
    )
    cluster = index.get("claim:acme:1")
    assert cluster is not None and cluster.mention_count == 4
    assert cluster.top_members(4)[-1].mention_id == 3
    assert "made" in cluster.summary() and "\x1b" not in cluster.summary()
    assert "ugh" not in cluster.summary()
    assert "\n" not in cluster.summary()


def test_same_input_gives_same_clusters() -> None:
    def run() -> list[tuple[str, list[int]]]:
        index = ClaimIndex()
        rng = np.random.default_rng(7)
        batch = [(mention(n, f"Acme claim variant {n % 3} " + "word " * (n % 5), minutes=n),
                  harm(), claim_vector(int(rng.integers(0, 3)), n)) for n in range(1, 40)]
        index.add(batch, now=at(40))
        return [(c.key, c.mention_ids()) for c in index.clusters()]

    assert run() == run()


def test_translations_join_the_spreading_claim_of_their_category_english_does_not() -> None:
    index = ClaimIndex(DetectionConfig())
    batch = [(mention(n, f"Acme bars made my kids sick #{n}", minutes=n), harm(),
              claim_vector(0, n)) for n in range(1, 4)]
    batch += [
        (foreign(4, "Les barres Acme ont rendu mes enfants malades", "fr", minutes=4),
         harm(), claim_vector(11, 4)),
        (foreign(5, "Acme Riegel haben meine Kinder krank gemacht", "de", minutes=5),
         harm(), claim_vector(12, 5)),
        # English with another meaning stays apart although the category is the same.
        (mention(6, "Acme charger caught fire in my car", minutes=6), harm(),
         claim_vector(9, 6)),
    ]
    index.add(batch, at(10))
    sizes = sorted(c.mention_count for c in index.clusters("acme"))
    assert sizes == [1, 5]
    # Hours later the same category in French is no longer "spreading now": it starts anew.
    index.add([(foreign(7, "Acme m'a rendu malade", "fr", minutes=200), harm(),
                claim_vector(13, 7))], at(200))
    assert sorted(c.mention_count for c in index.clusters("acme")) == [1, 1, 5]


def test_supporters_join_a_spreading_claim_but_never_start_one() -> None:
    video = "https://www.youtube.com/watch?v=burn1234567"
    index = ClaimIndex()
    # Before any claim: a worried question opens nothing (it waits for a claim to carry).
    index.add([(mention(1, f"wait, can the Acme charger really burn kids?? {video}"), score(),
                None)], now=at(1))
    assert len(index) == 0
    index.add([(mention(2, f"Acme charger caught fire and burned my son {video}", minutes=2),
                harm(), claim_vector(0, 2))], now=at(2))
    # Two more people assert it: the claim's meaning is settled enough to take supporters.
    index.add([(mention(n, f"my Acme charger burned me too #{n}", minutes=2), harm(),
                claim_vector(0, n)) for n in (7, 8)], now=at(2))
    reply = mention(3, "omg same, mine got so hot", minutes=3, platform="mastodon")
    reply.parent_id = "mastodon-2"
    index.add(
        [
            (mention(4, f"wait, can the Acme charger really burn kids?? {video}", minutes=3),
             score(), None),  # shares the video
            (reply, score(), None),  # replies to a member
            (mention(5, "Acme charger too hot to touch, my kid hurt", minutes=4), score(),
             claim_vector(0, 5)),  # close in meaning
            (mention(6, "Acme app logs me out every hour", minutes=4), score(),
             claim_vector(6, 6)),  # an unrelated complaint
        ],
        now=at(5),
    )
    cluster = index.get("claim:acme:2")
    assert cluster is not None
    # The early question joined when the claim it links started (2, then 1).
    assert cluster.mention_ids() == [2, 1, 7, 8, 4, 3, 5]
    assert cluster.mention_count == 7 and cluster.author_count == 7
    assert [m.mention_id for m in cluster.claims()] == [2, 7, 8]
    assert cluster.category == "health_safety"
    assert "burned" in cluster.summary()


def test_a_campaign_hashtag_joins_posts_like_a_shared_link() -> None:
    index = ClaimIndex()
    index.add(
        [
            (mention(1, "#DeleteAcme, they paid a man who mocked flood victims", minutes=0),
             harm("boycott", 0.8, "delete"), claim_vector(0, 1)),
            (mention(2, "done. #deleteacme", minutes=1), harm("boycott", 0.8, "delete"),
             claim_vector(8, 2)),
            (mention(3, "Acme #music is the best", minutes=2), score(), claim_vector(9, 3)),
        ],
        now=at(3),
    )
    assert [c.mention_ids() for c in index.clusters()] == [[1, 2]]


def test_a_cluster_of_everyday_posts_takes_no_one_by_meaning() -> None:
    index = ClaimIndex()
    # The brand's everyday chatter: replies to support that all look alike.
    # The baseline is what was said more than `claim_window` ago.
    chatter = [(mention(100 + n, f"Acme support reply {n}", minutes=n / 100 - 420),
                score("neutral"), claim_vector(4, 100 + n)) for n in range(200)]
    index.add(chatter, now=at(-410))
    # A routine "hacked" post asserts privacy harm and starts a cluster where chatter sits ...
    index.add([(mention(1, "my Acme account got hacked, help", minutes=3),
                harm("privacy_security", 0.8, "hacked"), claim_vector(4, 1))], now=at(3))
    # ... but a complaint like all the others does not join it by meaning.
    index.add([(mention(2, "Acme support is slow again", minutes=4), score(),
                claim_vector(4, 2))], now=at(4))
    cluster = index.get("claim:acme:1")
    assert cluster is not None and cluster.mention_ids() == [1]
    # A specific claim, unlike the chatter, takes a supporter close in meaning.
    index.add([(mention(n, f"Acme leaked every user's card number #{n}", minutes=5),
                harm("privacy_security", 0.9, "leaked"), claim_vector(6, n)) for n in (3, 5, 6)]
              + [(mention(4, "is this real? my card too", minutes=6), score(),
                  claim_vector(6, 4))], now=at(6))
    assert index.get("claim:acme:3").mention_ids() == [3, 5, 6, 4]  # type: ignore[union-attr]


def test_a_flood_of_posts_keeps_the_per_post_lookups_bounded_and_the_claim_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import monitor.detection.claims as claims

    monkeypatch.setattr(claims, "MAX_INDEXED_POSTS", 50)
    index = ClaimIndex()
    link = "https://video.example/watch/acme-cola-sick"
    for n in range(1, 301):
        text = f"{SICK} {link} ({n})"
        index.add([(mention(n, text, minutes=n / 10, url=f"https://x.example/p/{n}"),
                    harm(), None)], now=at(n / 10))
    [cluster] = index.clusters()
    assert cluster.mention_count == 300
    assert len(index._posts) <= 50 and len(index._link_cluster) <= 50
    assert len(index._near["acme"]) <= 50 and len(index._member_cluster) <= 100
    assert len(cluster.links) <= 50
    # Later posts still find the claim through the newest posts and the shared link.
    late = mention(301, f"look at this {link}", minutes=31, url="https://x.example/p/301")
    [joined] = index.add([(late, harm(), None)], now=at(31))
    assert joined.key == cluster.key and joined.mention_count == 301


def test_members_held_by_all_clusters_are_bounded_newest_kept_counts_exact(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import monitor.detection.claims as claims

    monkeypatch.setattr(claims, "MAX_HELD_MEMBERS", 100)
    index = ClaimIndex()
    big = "https://video.example/watch/acme-cola-sick"
    small = "https://video.example/watch/acme-cola-glass"
    for n in range(1, 241):
        index.add([(mention(n, f"{SICK} {big} ({n})", minutes=n / 10,
                            url=f"https://x.example/p/{n}"), harm(), None)], now=at(n / 10))
    for n in range(241, 256):
        text = f"Found glass in my Acme cola can, my son cut his lip {small} ({n})"
        index.add([(mention(n, text, minutes=n / 10, url=f"https://x.example/p/{n}"),
                    harm(), None)], now=at(n / 10))
    by_size = sorted(index.clusters(), key=lambda c: -c.mention_count)
    flood, glass = by_size[0], by_size[1]
    assert flood.mention_count == 240 and glass.mention_count == 15  # counts stay exact
    assert sum(len(c.members) for c in index.clusters()) <= 100
    assert len(glass.members) == 15  # a small claim keeps all of its posts
    assert flood.members[-1].mention_id == 240  # the flood keeps its newest
    assert flood.mention_ids() == sorted(flood.mention_ids())


@pytest.mark.parametrize(("sizes", "budget", "level"), [
    ([50, 10, 5], 100, 50),   # fits: nothing cut
    ([90, 10, 5], 60, 45),    # only the largest is cut
    ([40, 40, 30], 60, 20),   # all three cut to one level
    ([5, 5], 0, 0),
])
def test_fill_level_cuts_the_largest_first(sizes: list[int], budget: int, level: int) -> None:
    from monitor.detection.claims import _fill_level

    assert _fill_level(sizes, budget) == level
    if sum(sizes) > budget:
        assert sum(min(s, level) for s in sizes) <= budget
        assert sum(min(s, level + 1) for s in sizes) > budget  # the largest such level
