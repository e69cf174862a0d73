"""What a mention asserts: harm claim, counter-evidence, support, or nothing."""

from __future__ import annotations

from dataclasses import replace

import pytest

from monitor.detection.assertion import assess
from monitor.detection.settings import DetectionConfig
from monitor.records import Score
from tests.detection.factory import mention, score

SETTINGS = DetectionConfig()


def harm(
    category: str, confidence: float = 0.85, *evidence: str,
    p_positive: float | None = None, p_negative: float | None = None,
) -> Score:
    base = score(harm=category, harm_confidence=confidence)
    return replace(
        base, extra={"harm_evidence": list(evidence)} if evidence else {},
        p_positive=base.p_positive if p_positive is None else p_positive,
        p_negative=base.p_negative if p_negative is None else p_negative,
    )


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


# Counter-evidence in the lexicon languages, matched on accent-folded text.
COUNTERS = [
    "FALSCH: Das Video vom brennenden Acme Kühlschrank ist von 2016",
    "Acme bestreitet einen Konstruktionsfehler",
    "Acme nennt die Rassismusvorwürfe haltlos",
    "Es gab keinen solchen Vorfall im Acme Zug, die Polizei hat das bestätigt",
    "Notícia falsa: a Acme não foi condenada",
    "A Acme nega que o ônibus estivesse sem freios",
    "No hubo ningún brote de intoxicación en el Hotel Acme",
    "La Banque Acme réfute les accusations sur les prêts",
    "Infox : aucun client n'a été hospitalisé après le poulet Acme",
    "There was no such incident at the Acme gate, the airport confirmed it",
    "That screenshot of the Acme data breach email is fake, the sender isn't theirs",
    "the \"Acme pilot was drunk\" thread is made up",
    "Misleading: the Acme \"poisoning\" clip is a prank filmed in 2021",
]


@pytest.mark.parametrize("text", COUNTERS)
def test_fact_checks_and_denials_in_every_lexicon_language_are_counter_evidence(
    text: str,
) -> None:
    said = assess(mention(1, text), harm("health_safety", 0.9, "x"), SETTINGS)
    assert said.stance == "counter"


DENIALS = [
    "Statement from Acme: no customer funds were lost.",
    "Acme spokesperson: \"The photo was not taken in any of our bakeries.\"",
    "Acme CEO insists the airline has never sold tickets for cancelled flights",
    "Acme asegura que no ha habido ninguna filtración",
    "Acme assure ne jamais avoir vendu l'historique de ses abonnés",
    "Der Acme Chef versichert, die App übertrage keine Standortdaten",
    "Nota da Acme: nenhum cliente passou mal",
]


@pytest.mark.parametrize("text", DENIALS)
def test_the_brand_saying_it_did_not_happen_is_a_denial(text: str) -> None:
    said = assess(mention(1, text), harm("privacy_security", 0.9, "x"), SETTINGS)
    assert said.stance == "counter"


@pytest.mark.parametrize(
    "text",
    [
        "I assure you Acme never refunded a cent, it is a scam",
        "je vous assure qu'Acme ne rembourse jamais, c'est une arnaque",
        "the Acme charger I got is fake, a counterfeit that sparked",  # a counterfeit claim
        "Acme still hasn't made a statement and my kid is in hospital",
        "I insisted Acme check the brakes, nobody listened and they failed on the motorway",
        "Acme failed to maintain the brakes, no one checked them for a year",
    ],
)
def test_a_customer_assuring_or_calling_a_product_fake_is_not_a_denial(text: str) -> None:
    said = assess(mention(1, text), harm("fraud_scam", 0.9, "scam"), SETTINGS)
    assert said.stance == "claim"


@pytest.mark.parametrize(
    "text",
    [
        "Acme's fraud team caught a fake charge on my card before I even noticed",
        "the Acme pharmacist called my doctor, she probably kept me out of hospital",
        "Acme smoke alarm woke us when the toaster caught fire, everyone's fine",
        "Ein Fahrgast ist im Acme Zug kollabiert, das Personal hat sofort reanimiert",
        "this Acme hot sauce burned my mouth in the best way",
    ],
)
def test_stories_the_brand_comes_out_of_well_are_not_claims(text: str) -> None:
    said = assess(mention(1, text), harm("health_safety", 0.9, "caught fire"), SETTINGS)
    assert (said.stance, said.category) == ("none", "none")


def test_a_boycott_hashtag_is_a_claim_even_when_the_tone_reads_happy() -> None:
    happy = replace(harm("boycott", 0.8, "do not buy"), p_positive=0.6, p_negative=0.2)
    said = assess(mention(1, "don't buy their drinks, every can counts #DumpAcme"), happy,
                  SETTINGS)
    assert (said.stance, said.category) == ("claim", "boycott")


@pytest.mark.parametrize(
    ("text", "stance"),
    [
        # Rhetorical why/how with an emphatic ending exclaims what it names.
        ("why is there a chunk of metal in my Acme granola?? I almost broke a tooth", "claim"),
        ("how is nobody talking about Acme taking money out of closed accounts??", "claim"),
        # An opening interjection does not make the post a question.
        ("are you serious Acme?! your guard followed me around because I'm black", "claim"),
        # Genuine questions, emphatic or not, in any lexicon language, still ask.
        ("why is there metal in my Acme granola?", "support"),
        ("wait is Acme actually a scam?? my cousin keeps saying so", "support"),
        ("anyone else get sick after the Acme stall?? trying to work out if it was the heat",
         "support"),
        ("¿¿Alguien sabe si es verdad lo de la intoxicación en el Hotel Acme??", "support"),
        ("Quelqu'un sait si les batteries Acme prennent feu ??", "support"),
        ("Weiß jemand, ob die Acme Truhen echt überhitzen??", "support"),
        ("É verdade que o Acme deu intoxicação em gente??", "support"),
    ],
)
def test_rhetorical_and_genuine_questions(text: str, stance: str) -> None:
    said = assess(mention(1, text), harm("health_safety", 0.9, "x"), SETTINGS)
    assert said.stance == stance
