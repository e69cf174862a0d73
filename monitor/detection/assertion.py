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

Hard cases, measured on `tests/fixtures/harm_stance_eval.jsonl` (`benchmarks/eval_stance.py`;
figures, split and limits in models/README.md, harm section):
- The markers read folded text (casefolded, accents removed), so "dément", "réfute" and
  "notícia falsa" match. Counter-evidence covers the five big lexicon languages: "no such
  incident", "the screenshot ... is fake", "made up", "bulo", "no hubo ningún", "infox",
  "bidon", "Falschmeldung", "bestreitet", "haltlos", "keinen solchen Vorfall", "nega",
  "boato", "notícia falsa".
- A denial in the brand's voice is a spokesperson, statement or assurance ("insists",
  "asegura", "assure", "versichert", "garante", "nota da") followed in the same sentence by a
  negation. "I assure you" and "je vous assure" are a customer's words, not a denial.
- A counter marker wins over everything else: a claim that quotes the brand's denial reads as
  counter-evidence. The cost is small (it lowers risk, never pages), the gain is that
  fact-checks that repeat the harm words do not read as the harm.
- Rescue, protection and healing ("reanimiert", "kept me out of hospital", "caught a fake
  charge", "everyone's fine", "curou") are stories the brand comes out of well.
- A boycott hashtag ("#DumpX", "#BoicotX", "#BoykottX") is a claim even when the sentiment
  model reads the post as cheerful.
- The opening decides a question: an interjection ("are you serious X?!") is skipped; a
  "why"/"how" sentence that ends emphatically ("why is there metal in my granola??") exclaims;
  information requests ask in every lexicon language ("anyone", "alguien sabe", "quelqu'un",
  "weiß jemand", "é verdade"). models/harm.py no longer vetoes cues in a sentence that ends
  in "??" or "?!", so what decides is this opening.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from monitor.detection.settings import DetectionConfig
from monitor.records import Mention, Score

Stance = Literal["claim", "counter", "support", "none"]

# Harm categories that describe the service failing rather than a damaging claim.
SERVICE_CATEGORIES = frozenset({"outage"})

# Fact-check, debunk and denial markers in the languages the harm lexicons read. They match
# the folded text (casefolded, accents removed: "dément" reads "dement").
_COUNTER = re.compile(
    r"(?:\bfact[\s-]?check|\bdebunk|\bhoax(?:es)?\b|\bfalse(?:ly)?\b|\bfake news\b|\bnot true\b"
    r"|\buntrue\b|\bno evidence\b|\bmisinformation\b|\bdisinformation\b|\bmisleading claim"
    r"|^\W*misleading\b|\bno such (?:incident|thing|case|event|recall|breach|leak)\b"
    r"|\b(?:is|was) (?:a|an old) prank\b|\breverse image search\b"
    r"|\bold (?:photo|video|clip|pic|picture), new\b"
    r"|\b(?:is|are|was|were|been) (?:completely |totally |all )?made up\b"
    r"|\b(?:screenshot|photo|picture|pic|video|clip|image|e-?mail|notice|letter|document|post"
    r"|tweet|thread|story|article|headline|quote|statement)s?(?:\W+\w+){0,8}?\W+"
    r"(?:is|are|was|were) (?:a )?(?:fake|forged|fabricated|doctored|photoshopped)\b"
    r"|\bden(?:y|ies|ied)\b|\bdenial\b|\brefute[sd]?\b|\bsetting the record straight\b"
    r"|\bdid not happen\b|\bdidn'?t happen\b|\bnever happened\b|\bis (?:a )?satire\b"
    r"|\bfalso\b|\bbulo\b|\bdesmient|\bdesmente|\bdesmentid|\bboato\b|\bverificacion\b"
    r"|\bverificad[oa]s?\b|\bniega(?:n)?\b|\bno hubo (?:ningun|ninguna|nada)\b"
    r"|\bnoticia falsa\b|\bcorrente falsa\b|\bverificacao\b|\bfato ou fake\b|\bnega(?:m)?\b"
    r"|\brebate(?:m)? as acusacoes\b"
    r"|\bfaux\b|\bintox\b|\binfox\b|\bdement|\bfausse information|\bbidon\b|\baucun incident\b"
    r"|\bont verifie\b|\bverification faite\b"
    r"|\bfalschmeldung|\bfaktencheck|\bdementi|\bbestreit\w*|\bhaltlos\w*|^\W*falsch\b"
    r"|\b(?:ist|sind|war) falsch\b|kettenbrief|\bkein\w* solche\w* vorfall"
    r"|\b(?:ist|sind) eine? (?:zeitungs)?ente\b|\berfunden\b|^\W*stimmt nicht\b"
    r"|\bdas stimmt nicht\b"
    r"|\bfake\b(?=.*\b(?:claim|news|post|story|rumou?r)))"
)
# A denial in the brand's voice: its spokesperson or statement, or an assurance, followed in
# the same sentence by a negation ("Statement from X: no customer funds were lost", "X
# asegura que no ha habido ninguna filtración"). First-person assurances ("I assure you", "I
# insisted") are a customer's, not the brand's; "maintain" is left out ("failed to maintain
# the brakes, no one checked" is a claim).
_DENIAL = re.compile(
    r"(?:\bspokes(?:person|man|woman)\b|\bstatement from\b|(?<!\bi )\binsist(?:s|ed)?\b"
    r"|(?<!\bi )\bassur(?:es|ed)\b|\bcomunicado\b|\basegura(?:n|ron)?\b"
    r"|\bafirma(?:n|ron)?\b|(?<!\bi )(?<!je vous )\bassure(?:nt)?\b|\baffirme(?:nt)?\b"
    r"|\bcommunique\b"
    r"|\bstellungnahme\b|\bversicher(?:t|n|te)\b|\bnota d[oa]\b|\bgarante(?:m)?\b)"
    r"[^.!?]{0,80}?"
    r"\b(?:not|never|no|none|nothing|nobody|nunca|ningun[oa]?|nadie|jamas|pas|jamais"
    r"|aucun[e]?|nicht|kein\w*|nie|niemand|nao|nenhum[a]?|ninguem)\b"
)
# Someone was saved, helped, protected or healed: a story the brand comes out of well.
_RESCUE = re.compile(
    r"\b(?:cpr|reanim\w*|saved (?:his|her|their|a|the|my) \w*\s?li(?:fe|ves)"
    r"|saved (?:him|her|them)|life[- ]saving|lifesaver|kept (?:him|her|them|a \w+|the \w+) alive"
    r"|kept (?:me|him|her|us|them) out of (?:the )?hospital|survived|is stable"
    r"|everyone(?:'s| is) (?:fine|ok|okay|safe)|helped (?:me|us) (?:recover|get back|restore)"
    r"|(?:caught|blocked|stopped|flagged) (?:a|the) (?:fake|fraudulent|suspicious)"
    r"|in the best way|curou"
    r"|hero(?:es|ic)?\b|rescued|faith in humanity|good news|recovering well)"
)
# A call on others to leave the brand, or a boycott hashtag.
_BOYCOTT_TAG = re.compile(
    r"#(?:delete|boycott|boicot|boicote|boykott|cancel|ban|quit|dump|uninstall|byebye|goodbye)"
    r"\w{3,}|#\w{3,}(?:boycott|mustgo|out)\b"
)
_BOYCOTT_CALL = re.compile(
    r"(?:\bcancel your (?:\w+ )?(?:subscription|account|plan)s?"
    r"|\bdelete (?:the|your) (?:app|account)|\bspread the word\b|\bjoin (?:me|us) in\b"
    r"|\beveryone (?:cancel|delete|uninstall)|\bstop (?:using|paying|supporting)\b)"
)

# Laughing at it: jokes and hyperbole ("a privacy violation lol") are not claims.
_JOKE = re.compile(r"(?:\b(?:lol|lmao|lmfao|rofl|jk|haha\w*|hehe\w*)\b|😂|🤣|💀|/s\b)")
# A post that opens with a question or a supposition asks or imagines; it does not assert.
# Besides English, the openers that ask for information in the other lexicon languages
# ("alguien sabe", "quelqu'un", "weiß jemand", "é verdade").
_ASKS = re.compile(
    r"^\W*(?:(?:@\w+|https?://\S+)\W*)*(?:wait\W+)?"
    r"(?:could|would|should|can|will|is|are|was|were|does|do|"
    r"did|has|have|what|why|how|who|anyone|any1|imagine|if|suppose|hypothetically|wonder"
    r"|alguien|es verdad|es cierto|sabeis|sabe alguien|quelqu'un|est-ce que|c'est vrai"
    r"|weiss jemand|hat jemand|hatte jemand|ist noch jemand|stimmt es|alguem|e verdade|sera que)\b"
)
# A rhetorical "why/how" that ends emphatically ("why is there metal in my granola??", "how is
# nobody talking about X taking money??") exclaims what it names; it does not ask.
_RHETORICAL = re.compile(r"^\W*(?:(?:@\w+)\W*)*(?:why|how)\b[^.!?]*(?:\?\s*[?!]|!\s*\?)")
# An opening interjection ("are you serious X?!", "seriously??") says nothing about what asks.
_INTERJECTION = re.compile(
    r"^\W*(?:are you (?:serious|kidding(?: me)?)|seriously|really)\b[^.!?]*[.!?]+\s*"
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
    text = fold(mention.text)
    if _COUNTER.search(text) or _DENIAL.search(text):
        return Assertion("counter")
    if _RESCUE.search(text) or _JOKE.search(text):
        return Assertion("none")
    boycott = Assertion("claim", "boycott", max(score.harm_confidence, 0.8)
                        if score.harm_category == "boycott" else 0.8)
    if _BOYCOTT_TAG.search(text):
        return boycott  # a boycott hashtag calls on others, however cheerful the words
    if _happy(score):
        # Praise, unless it names harm in so many words: then it may be sarcasm ("Great. Just
        # great. It burned a kid"), which can carry a claim but not start one.
        return Assertion("support" if score.extra.get("harm_evidence") else "none")
    if asks(text):
        return Assertion("support")  # a question may carry a claim; it does not start one
    if asserts_harm(score, settings):
        return Assertion("claim", score.harm_category, score.harm_confidence)
    if _BOYCOTT_CALL.search(text):
        return boycott
    return Assertion("support")


def fold(text: str) -> str:
    """Casefolded, accents removed, apostrophes straightened: the text the markers read."""
    text = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", text).casefold())
    return "".join(c for c in text if not 0x300 <= ord(c) <= 0x36F).replace("\u2019", "'")


def asks(folded: str) -> bool:
    """Whether a (folded) post opens by asking or supposing rather than asserting."""
    folded = _INTERJECTION.sub("", folded, count=1)
    return bool(_ASKS.search(folded)) and not _RHETORICAL.search(folded)


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
