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
- A happy post is not a claim, whatever medical words it uses, and neither is a rescue story
  ("an employee did CPR and saved his life": the brand helped, it did not harm).
- A call to boycott is a boycott claim even when the classifier reads only personal churn:
  "#DeleteAcme", "cancel your subscription", "spread the word".
- Jokes ("lol", "💀") are not claims; questions and suppositions ("could X get sued",
  "what if X got hacked") ask, they do not assert: they may support a claim, not start one. An
  exclamation that ends in "??" ("she's bleeding and you're still boarding??") still asserts.
- Everything else that is not happy may carry a claim without asserting it ("wait, this is
  real??", "same thing happened to me", a link to the video): stance "support". Supporters
  join a claim that is already spreading (same link, reply, copy or close meaning) and count
  as its spread, but never start one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from monitor.detection.settings import DetectionConfig
from monitor.records import Mention, Score

Stance = Literal["claim", "counter", "support", "none"]

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
# Someone was saved, helped or recovered: a story the brand comes out of well.
_RESCUE = re.compile(
    r"\b(?:cpr|saved (?:his|her|their|a|the|my) \w*\s?li(?:fe|ves)|saved (?:him|her|them)"
    r"|life[- ]saving|lifesaver|kept (?:him|her|them|a \w+|the \w+) alive|survived|is stable"
    r"|hero(?:es|ic)?\b|rescued|faith in humanity|good news|recovering well)",
    re.IGNORECASE,
)
# A call on others to leave the brand, or a boycott hashtag.
_BOYCOTT_CALL = re.compile(
    r"(?:#(?:delete|boycott|cancel|ban|quit|dump|uninstall|byebye|goodbye)\w{3,}"
    r"|#\w{3,}(?:boycott|mustgo|out)\b|\bcancel your (?:\w+ )?(?:subscription|account|plan)s?"
    r"|\bdelete (?:the|your) (?:app|account)|\bspread the word\b|\bjoin (?:me|us) in\b"
    r"|\beveryone (?:cancel|delete|uninstall)|\bstop (?:using|paying|supporting)\b)",
    re.IGNORECASE,
)

# Laughing at it: jokes and hyperbole ("a privacy violation lol") are not claims.
_JOKE = re.compile(r"(?:\b(?:lol|lmao|lmfao|rofl|jk|haha\w*|hehe\w*)\b|😂|🤣|💀|/s\b)",
                   re.IGNORECASE)
# A post that opens with a question or a supposition asks or imagines; it does not assert.
_ASKS = re.compile(
    r"^\W*(?:(?:@\w+|https?://\S+)\W*)*(?:could|would|should|can|will|is|are|was|were|does|do|"
    r"did|has|have|what|why|how|who|anyone|any1|imagine|if|suppose|hypothetically|wonder)\b",
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


@dataclass(frozen=True, slots=True)
class Assertion:
    """What one mention does about a claim, and which harm it asserts."""

    stance: Stance
    category: str = "none"  # the harm category asserted ("none" unless stance is "claim")
    confidence: float = 0.0


def assess(mention: Mention, score: Score, settings: DetectionConfig) -> Assertion:
    """Whether the mention asserts a harm claim, argues against one, may carry one, or neither."""
    text = mention.text
    if _COUNTER.search(text):
        return Assertion("counter")
    if _RESCUE.search(text) or _JOKE.search(text):
        return Assertion("none")
    if _happy(score):
        # Praise, unless it names harm in so many words: then it may be sarcasm ("Great. Just
        # great. It burned a kid"), which can carry a claim but not start one.
        return Assertion("support" if score.extra.get("harm_evidence") else "none")
    if _ASKS.search(text):
        return Assertion("support")  # a question may carry a claim; it does not start one
    if asserts_harm(score, settings):
        return Assertion("claim", score.harm_category, score.harm_confidence)
    if _BOYCOTT_CALL.search(text):
        return Assertion("claim", "boycott", max(score.harm_confidence, 0.8)
                         if score.harm_category == "boycott" else 0.8)
    return Assertion("support")


def _happy(score: Score) -> bool:
    return score.p_positive >= 0.5 and score.p_positive > score.p_negative


def asserts_harm(score: Score, settings: DetectionConfig) -> bool:
    """Whether the score reads as an assertion of damaging harm (see the module's rules)."""
    category = score.harm_category
    if category == "none" or category in SERVICE_CATEGORIES:
        return False
    if score.harm_confidence < settings.harm_min_confidence:
        return False
    if _happy(score):
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
