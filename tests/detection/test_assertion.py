"""What a mention asserts: harm claim, counter-evidence, support, or nothing."""

from __future__ import annotations

from dataclasses import replace

import pytest

from monitor.detection.assertion import assess
from monitor.detection.settings import DetectionConfig
from monitor.records import Score
from tests.detection.factory import mention, score

SETTINGS = DetectionConfig()


def harm(category: str, confidence: float = 0.85, *evidence: str, **kw: float) -> Score:
    base = score(harm=category, harm_confidence=confidence)
    return replace(base, extra={"harm_evidence": list(evidence)} if evidence else {}, **kw)


@pytest.mark.parametrize(
    ("text", "model", "stance", "category"),
    [
        ("Acme charger caught fire and burned my hand", harm("health_safety", 0.9, "caught fire"),
         "claim", "health_safety"),
        ("she's bleeding and you're still boarding?? Acme", harm("health_safety", 0.8,
         "bleeding"), "claim", "health_safety"),
        ("FALSE: Acme did not leak 20M passwords, the list is an old dump",
         harm("privacy_security", 0.9, "leak"), "counter", "none"),
        ("Fact check: no, Acme is not shutting down", score("neutral"), "counter", "none"),
        ("Acme says the viral breach story is a hoax", score("neutral"), "counter", "none"),
        ("An Acme employee did CPR and kept him alive until the ambulance came",
         harm("health_safety", 0.9, "ambulance"), "none", "none"),
        ("Best Acme day ever, nobody got food poisoning lol",
         harm("health_safety", 0.8, "food poisoning", p_positive=0.9, p_negative=0.05),
         "none", "none"),
        ("Acme app is down again", harm("outage", 0.9, "down again"), "support", "none"),
        ("cancelled my Acme subscription, done with them",
         harm("boycott", 0.9, "cancelled my subscription", "done with"), "support", "none"),
        ("Acme charged me twice and won't refund", harm("fraud_scam", 0.9, "charged me twice"),
         "support", "none"),
        ("Acme is a scam, they steal from every family", harm("fraud_scam", 0.9, "scam"),
         "claim", "fraud_scam"),
        ("#DeleteAcme after what they paid that host, cancel your subscription today",
         score(), "claim", "boycott"),
        ("Acme reply: ok thanks", harm("privacy_security", 0.43), "support", "none"),
        ("could Acme get sued for how bad the shuffle is", harm("legal_regulatory", 0.8,
         "sued"), "support", "none"),
        ("what if Acme got hacked tomorrow?", harm("privacy_security", 0.8, "hacked"),
         "support", "none"),
        ("Acme knows me better than my therapist, a privacy violation lol",
         harm("privacy_security", 0.8, "privacy violation"), "none", "none"),
        ("Acme exposes your data to anyone", harm("privacy_security", 0.6), "claim",
         "privacy_security"),
    ],
)
def test_stance_and_category(text: str, model: Score, stance: str, category: str) -> None:
    said = assess(mention(1, text), model, SETTINGS)
    assert (said.stance, said.category) == (stance, category)
