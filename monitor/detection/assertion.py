"""What a scored mention asserts about the brand: a harm claim, counter-evidence, or neither.

The models say which harm a text is about; this module decides whether the text *asserts* it,
because only assertions spread as claims. Decisions, each measured on the support stream
(`benchmarks/eval_claims.py`):
- Fact-checks, debunks and denials ("FALSE:", "fact check", "hoax", "X denies") are
  counter-evidence (stance "counter"), whatever harm words they repeat.
- Outages are service complaints: "the app is down" from many people is a complaint surge,
  measured by volume, not a claim about the company's conduct.
- A category backed only by personal service cues ("cancel my subscription", "charged me
  twice", "switch to") is a complaint, not a boycott call or a fraud accusation.
- A category backed by the semantic score alone (no cue phrase) needs a higher confidence and a
  negative tone: on real support traffic the prototype score alone flagged one short reply in
  eight ("Nope", "brazil").
- A happy post is not a claim, whatever medical words it uses ("crew saved a passenger's life").
"""

from __future__ import annotations

import re
from typing import Literal

from monitor.detection.settings import DetectionConfig
from monitor.records import Mention, Score

Stance = Literal["claim", "counter", "none"]

# Harm categories that describe the service failing rather than a damaging claim.
SERVICE_CATEGORIES = frozenset({"outage"})

# Fact-check, debunk and denial markers in the languages the harm lexicons read.
_COUNTER = re.compile(
    r"(?:\bfact[\s-]?check|\bdebunk|\bhoax(?:es)?\b|\bfalse(?:ly)?\b|\bfake news\b|\bnot true\b"
    r"|\buntrue\b|\bno evidence\b|\bmisinformation\b|\bdisinformation\b|\bmisleading claim"
    r"|\bden(?:y|ies|ied)\b|\bdenial\b|\brefute[sd]?\b|\bsetting the record straight\b"
    r"|\bdid not happen\b|\bdidn'?t happen\b|\bnever happened\b|\bis (?:a )?satire\b"
    r"|\bfalso\b|\bbulo\b|\bdesmient|\bdesmente|\bboato\b|\bverificaci[oó]n\b"
    r"|\bfaux\b|\bintox\b|\bd[ée]ment|\bfausse information"
    r"|\bfalschmeldung|\bfaktencheck|\bdementi|\bfake\b(?=.*\b(?:claim|news|post|story|rumou?r)))",
    re.IGNORECASE,
)
# Evidence of each category that a customer writes about their own account, not a claim.
_SERVICE_CUES = {
    "boycott": re.compile(
        r"^(?:cancel\w*(?: my \w+)?|cancel\w* my subscription|cancelled my account|closing my "
        r"account|switch\w* to|uninstall\w*|done with|never again|i m out|anyone else|"
        r"delete \w+ app|delete the app|one[- ]star review)$"
    ),
    "fraud_scam": re.compile(
        r"^(?:charged me (?:twice|again|three times|3 times)|double (?:charged|billed)|"
        r"overcharg\w*|hidden fee\w*|refus\w* to refund|never refunded|will not refund|"
        r"no refund|took my money|keep\w* billing|kept billing|billing me after|billed me after|"
        r"charging me after|never received|never arrived|ripped me off|rip off|rip-off|ripoff|"
        r"money grab|ghosted\w*|denied my claim|refurbished|as new|lost everything)$"
    ),
    "privacy_security": re.compile(r"^(?:password\w*|security|privacy|2fa|credentials)$"),
}


def is_counter_text(text: str) -> bool:
    """Whether a text reads as a fact-check, debunk or denial."""
    return bool(_COUNTER.search(text))


def might_join_claim(score: Score) -> bool:
    """A cheap pre-filter: scores that could assert a harm claim under any settings."""
    return score.harm_category != "none" and score.harm_category not in SERVICE_CATEGORIES


def stance(mention: Mention, score: Score, settings: DetectionConfig) -> Stance:
    """Whether the mention asserts a harm claim, argues against one, or neither."""
    if _COUNTER.search(mention.text):
        return "counter"
    return "claim" if asserts_harm(score, settings) else "none"


def asserts_harm(score: Score, settings: DetectionConfig) -> bool:
    """Whether the score reads as an assertion of damaging harm (see the module's rules)."""
    category = score.harm_category
    if category == "none" or category in SERVICE_CATEGORIES:
        return False
    if score.harm_confidence < settings.harm_min_confidence:
        return False
    if score.p_positive >= 0.5 and score.p_positive > score.p_negative:
        return False  # a happy story that uses harm words
    evidence = [str(e) for e in score.extra.get("harm_evidence", [])]
    service = _SERVICE_CUES.get(category)
    if evidence and service is not None and all(service.match(e) for e in evidence):
        return False
    if not evidence:  # the semantic score alone
        return (
            score.harm_confidence >= settings.semantic_min_confidence
            and score.p_negative >= 0.5
        )
    return True
