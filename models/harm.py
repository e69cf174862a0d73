"""The harm-claim classifier: multilingual cue lexicons, negation, and a semantic backstop."""

from __future__ import annotations

import logging
import os
import re
import tomllib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np

from monitor.records import HARM_CATEGORIES

if TYPE_CHECKING:
    from models.encoder import SentenceEncoder

log = logging.getLogger(__name__)

VERSION = "harm-v3"
LEXICON_DIR = Path(__file__).resolve().parent / "lexicons"
CLAIMS: tuple[str, ...] = tuple(c for c in HARM_CATEGORIES if c != "none")
DEFAULT_TEMPLATE = "This text claims {}."

# Weights of one cue hit; several hits of one category combine as a noisy-OR.
CUE_WEIGHTS = {"strong": 0.8, "weak": 0.3}
# How much the semantic score can add: capped below a strong cue so that a paraphrase without
# any cue always reads as less certain than an explicit claim. For NLI, an undecided 0.5
# entailment (0.375) stays below the threshold.
SEMANTIC_WEIGHT = {"prototypes": 0.6, "zero-shot": 0.75}
# Below this combined score the text is "none".
THRESHOLD = 0.4
# How many words a clause-opening subject negator ("nobody", "niemand") reaches.
SUBJECT_REACH = 8
# Prototype similarities become a distribution over the 8 labels with this softmax temperature.
PROTOTYPE_TEMPERATURE = 0.05

Backend = Literal["lexicon", "prototypes", "zero-shot"]

_CJK = re.compile(
    r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\u1100-\u11ff\uff66-\uff9f]"
)
_SENTENCE_END = re.compile(r"[.!?。\n]+")
_CLAUSE_MARK = re.compile(r"[,;:()\"…—–、,.!?。\n]")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class HarmResult:
    """The harm category of one text, how sure, and the cue phrases behind it."""

    category: str  # one of monitor.records.HARM_CATEGORIES
    confidence: float  # in [0, 1]; for "none": 1 - the best harm score
    evidence: tuple[str, ...] = ()  # cue phrases that fired for `category`, as found in the text
    basis: str = "none"  # lexicon, semantic, lexicon+semantic, or none
    vetoed: tuple[str, ...] = ()  # cues found but negated, asked as a question, or idioms


def normalize(text: str) -> str:
    """NFKC + casefold, Latin/Cyrillic accents removed, English n't expanded, apostrophes spaced."""
    text = unicodedata.normalize("NFKC", text).casefold()
    # Strip only combining marks of the Latin/Cyrillic range: kana voicing marks must stay.
    text = "".join(ch for ch in unicodedata.normalize("NFD", text) if not 0x300 <= ord(ch) <= 0x36F)
    text = unicodedata.normalize("NFC", text).replace("’", "'").replace("`", "'")
    text = re.sub(r"\b(can|won)'t\b", lambda m: "can not" if m[1] == "can" else "will not", text)
    text = re.sub(r"\bcannot\b", "can not", text)
    text = re.sub(r"n't\b", " not", text)
    return text.replace("'", " ")


def _cue_pattern(cue: str) -> str:
    """Regex body for one normalised spaced-script cue (the word boundaries are added once)."""
    pattern = ""
    for word in cue.split():
        if word == "**":
            # A gap of up to four words; a number with separators ("40.000") is one word.
            pattern += r"(?:[\s\-/,]+(?:\d+(?:[.,]\d+)+|\w+)){0,4}"
            continue
        if pattern:
            pattern += r"[\s\-/,]+" if pattern.endswith("}") else r"[\s\-/]+"
        # A lone "*" is exactly one word; "*" inside a word is any letters.
        pattern += r"\w+" if word == "*" else r"\w*".join(re.escape(p) for p in word.split("*"))
    return pattern


def _alternation(cues: Sequence[str]) -> re.Pattern[str] | None:
    """One regex for many cues: substring for CJK/Hangul cues, word-bounded for the rest."""
    normal = sorted({normalize(c).strip() for c in cues if c.strip()}, key=len, reverse=True)
    spaced = [_cue_pattern(c) for c in normal if not _CJK.search(c)]
    cjk = [re.escape(c) for c in normal if _CJK.search(c)]
    # The boundary is factored out of the alternation: most positions fail it at once.
    parts = ([r"(?<!\w)(?:" + "|".join(spaced) + r")(?!\w)"] if spaced else []) + cjk
    return re.compile("|".join(parts)) if parts else None


@dataclass(slots=True)
class _Language:
    """One language's compiled lexicon."""

    code: str
    negations: frozenset[str]
    subject_negations: frozenset[str]  # "nobody": opening a clause, it negates the whole clause
    negations_after: tuple[str, ...]
    clause_breaks: frozenset[str]
    hedges: frozenset[str]
    window: int
    cues: dict[tuple[str, str], re.Pattern[str]]  # (tier, category) -> alternation
    idioms: dict[str, re.Pattern[str]]  # category -> alternation


@dataclass(slots=True)
class _Scan:
    """Cue hits of one text: claims per category, and categories vetoed by negation/idiom."""

    hits: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    vetoed: dict[str, list[str]] = field(default_factory=dict)


def load_lexicons(directory: Path = LEXICON_DIR) -> list[_Language]:
    """Read and compile every `<lang>.toml` lexicon in `directory`."""
    languages = []
    for path in sorted(directory.glob("*.toml")):
        if path.stem == "prototypes":
            continue
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(
                f"cannot read harm lexicon {path}: {exc}; fix or remove the file"
            ) from None
        cues: dict[tuple[str, str], re.Pattern[str]] = {}
        for tier in CUE_WEIGHTS:
            for category, phrases in data.get(tier, {}).items():
                if category not in CLAIMS:
                    raise ValueError(
                        f"harm lexicon {path}: [{tier}] names unknown category {category!r}"
                    )
                pattern = _alternation(phrases)
                if pattern is not None:
                    cues[(tier, category)] = pattern
        idioms = {c: p for c, ph in data.get("idioms", {}).items() if (p := _alternation(ph))}
        languages.append(
            _Language(
                code=str(data.get("language", path.stem)),
                negations=frozenset(normalize(w).strip() for w in data.get("negations", [])),
                subject_negations=frozenset(
                    normalize(w).strip() for w in data.get("subject_negations", [])
                ),
                negations_after=tuple(normalize(w) for w in data.get("negations_after", [])),
                clause_breaks=frozenset(
                    normalize(w).strip() for w in data.get("clause_breaks", [])
                ),
                hedges=frozenset(normalize(w).strip() for w in data.get("hedges", [])),
                window=int(data.get("negation_window", 3)),
                cues=cues,
                idioms=idioms,
            )
        )
    if not languages:
        raise ValueError(f"no harm lexicons (*.toml) found in {directory}")
    return languages


def _is_question(text: str, start: int, end: int) -> bool:
    """Whether the sentence holding text[start:end] is a plain question ("is this a scam?").

    An emphatic ending ("??", "?!", "???") makes it an exclamation that asserts ("she's
    bleeding and you're still boarding??"): vetoing those missed 19 of the 20 such claims in
    the stance set's train split. A genuine question written that way ("anyone else get sick
    from this??") is told by its opener, in monitor.detection.assertion.
    """
    following = _SENTENCE_END.search(text, end)
    if not following:
        return False
    run = "".join(following.group().split())
    return run.startswith("?") and run.count("?") == 1 and "!" not in run


def _after_break(lang: _Language, words: list[str]) -> list[str]:
    """The words after the last clause-break word ("but"): a negation before it is spent."""
    for index in range(len(words) - 1, -1, -1):
        if words[index] in lang.clause_breaks:
            return words[index + 1 :]
    return words


def _negated(lang: _Language, text: str, start: int, end: int) -> bool:
    """Whether a negator governs the cue at text[start:end], or a hedge ("I thought") does."""
    clause_start = max((m.end() for m in _CLAUSE_MARK.finditer(text, 0, start)), default=0)
    words = _after_break(lang, _WORD.findall(text[clause_start:start]))
    if lang.negations.intersection(words[-lang.window :]):
        return True
    # "Nobody in our group got food poisoning": a negated subject reaches past the window.
    if words and words[0] in lang.subject_negations and len(words) <= SUBJECT_REACH:
        return True
    if lang.hedges:
        sentence_start = max((m.end() for m in _SENTENCE_END.finditer(text, 0, start)), default=0)
        if lang.hedges.intersection(_after_break(lang, _WORD.findall(text[sentence_start:start]))):
            return True
    if lang.negations_after:
        clause_end = _CLAUSE_MARK.search(text, end)
        after = text[end : clause_end.start() if clause_end else len(text)][:10]
        return any(marker in after for marker in lang.negations_after)
    return False


def scan(languages: Sequence[_Language], raw_text: str) -> _Scan:
    """Find the claim cues of every language in one text, with negation and idiom vetoes."""
    text = normalize(raw_text)
    result = _Scan()
    for lang in languages:
        for category, pattern in lang.idioms.items():
            for match in pattern.finditer(text):
                result.vetoed.setdefault(category, []).append(match.group())
                # Blank the idiom so that its words cannot fire as cues ("to die for").
                text = (
                    text[: match.start()]
                    + " " * (match.end() - match.start())
                    + text[match.end() :]
                )
    found: dict[str, list[tuple[int, int, int, str, bool]]] = {}
    for lang in languages:
        for (tier, category), pattern in lang.cues.items():
            rank = list(CUE_WEIGHTS).index(tier)
            for match in pattern.finditer(text):
                start, end = match.span()
                vetoed = _negated(lang, text, start, end) or _is_question(text, start, end)
                found.setdefault(category, []).append((rank, start, end, match.group(), vetoed))
    for category, matches in found.items():
        kept: dict[tuple[int, int], tuple[int, str, bool]] = {}
        # Strong and longer cues first: a weak cue inside a strong one ("sick" in "made me
        # sick") is not counted twice. The same span found by two languages' lexicons ("down"
        # is English and German slang) is vetoed if either language's negation applies.
        for rank, start, end, cue, vetoed in sorted(matches, key=lambda m: (m[0], m[1] - m[2])):
            if (start, end) in kept:
                old_rank, old_cue, old_vetoed = kept[(start, end)]
                kept[(start, end)] = (old_rank, old_cue, old_vetoed or vetoed)
            elif not any(start < e and s < end for s, e in kept):
                kept[(start, end)] = (rank, cue, vetoed)
        for rank, cue, vetoed in kept.values():
            if vetoed:
                result.vetoed.setdefault(category, []).append(cue)
            else:
                result.hits.setdefault(category, []).append((cue, list(CUE_WEIGHTS.values())[rank]))
    return result


class _Semantics(Protocol):
    def scores(
        self,
        texts: Sequence[str],
        embeddings: np.ndarray | None,
        langs: Sequence[str | None] | None = None,
    ) -> np.ndarray: ...


class PrototypeSemantics:
    """Cosine similarity of encoder embeddings to short prototype sentences per label."""

    def __init__(
        self, encoder: SentenceEncoder, path: Path = LEXICON_DIR / "prototypes.toml"
    ) -> None:
        data = tomllib.loads(path.read_text(encoding="utf-8"))["prototypes"]
        self.encoder = encoder
        self.labels = [*CLAIMS, "none"]
        self._owner = np.array([i for i, label in enumerate(self.labels) for _ in data[label]])
        self._prototypes = encoder.encode([s for label in self.labels for s in data[label]])

    def similarities(self, texts: Sequence[str], embeddings: np.ndarray | None) -> np.ndarray:
        """(n, 8): the best cosine similarity of each text to each label's prototypes."""
        emb = (
            self.encoder.encode(texts) if embeddings is None else np.asarray(embeddings, np.float32)
        )
        if emb.shape != (len(texts), self._prototypes.shape[1]):
            raise ValueError(
                f"embeddings have shape {emb.shape} but {len(texts)} texts of the encoder's "
                f"dimension {self._prototypes.shape[1]} were expected; pass embeddings from "
                "the same encoder"
            )
        sims = emb @ self._prototypes.T
        best = np.full((len(texts), len(self.labels)), -1.0, dtype=np.float32)
        for index in range(len(self.labels)):
            best[:, index] = sims[:, self._owner == index].max(axis=1)
        return best

    def scores(
        self,
        texts: Sequence[str],
        embeddings: np.ndarray | None,
        langs: Sequence[str | None] | None = None,
    ) -> np.ndarray:
        """(n, 7) probability-like score per harm category (softmax over the 8 labels)."""
        from monitor.language import detect_language

        logits = self.similarities(texts, embeddings) / PROTOTYPE_TEMPERATURE
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        # all-MiniLM-L6-v2 is an English model: its similarities for other languages are noise
        # (measured: false alarms on French/German praise), so only English or undetectable
        # (short) texts get a semantic score; the lexicons cover the other languages.
        if langs is None:
            langs = [detect_language(t) for t in texts]
        foreign = [lang not in (None, "en") for lang in langs]
        probs[np.array(foreign, dtype=bool)] = 0.0
        return probs[:, : len(CLAIMS)]


class ZeroShotSemantics:
    """Any Hugging Face NLI model scoring "This text claims <description>." per category."""

    def __init__(
        self,
        model: str,
        *,
        template: str = DEFAULT_TEMPLATE,
        device: str = "cpu",
        batch_size: int = 16,
        max_length: int = 256,
        path: Path = LEXICON_DIR / "prototypes.toml",
    ) -> None:
        import torch  # noqa: F401  (imported here so the lexicon backend never pays for torch)
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        if "{}" not in template:
            raise ValueError(
                f"hypothesis template {template!r} needs a {{}} where the category goes"
            )
        local = Path(model).expanduser().is_dir()
        offline = local or os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
        try:
            self.tokenizer: Any = AutoTokenizer.from_pretrained(model, local_files_only=offline)
            net: Any = AutoModelForSequenceClassification.from_pretrained(
                model, local_files_only=offline
            )
        except (OSError, ValueError) as exc:
            raise RuntimeError(
                f"cannot load zero-shot harm model {model!r} ({type(exc).__name__}); give a local "
                "directory with an NLI model, or run once with network access to fill the cache"
            ) from None
        labels = {str(v).lower(): int(k) for k, v in net.config.id2label.items()}
        self.entail = next((i for name, i in labels.items() if name.startswith("entail")), None)
        self.contra = next((i for name, i in labels.items() if name.startswith("contradict")), None)
        if self.entail is None or self.contra is None:
            raise ValueError(
                f"zero-shot harm model {model!r} has labels {sorted(labels)}; an NLI model with "
                "'entailment' and 'contradiction' labels is needed"
            )
        descriptions = tomllib.loads(path.read_text(encoding="utf-8"))["descriptions"]
        self.hypotheses = [template.format(descriptions[c]) for c in CLAIMS]
        self.model: Any = net.eval().to(device)
        self.device, self.batch_size, self.max_length = device, batch_size, max_length

    def scores(
        self,
        texts: Sequence[str],
        embeddings: np.ndarray | None = None,
        langs: Sequence[str | None] | None = None,
    ) -> np.ndarray:
        """(n, 7) entailment probability (vs contradiction) of each category's hypothesis."""
        import torch

        pairs = [(t, h) for t in texts for h in self.hypotheses]
        out = np.zeros(len(pairs), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(pairs), self.batch_size):
                batch = pairs[start : start + self.batch_size]
                tokens = self.tokenizer(
                    [p for p, _ in batch],
                    [h for _, h in batch],
                    padding=True,
                    truncation="only_first",
                    max_length=self.max_length,
                    return_tensors="pt",
                ).to(self.device)
                logits = self.model(**tokens).logits.float()[:, [self.contra, self.entail]]
                out[start : start + len(batch)] = torch.softmax(logits, dim=-1)[:, 1].cpu().numpy()
        return out.reshape(len(texts), len(CLAIMS))


class HarmClassifier:
    """Harm-claim category per text: lexicon cues, with a semantic score for paraphrases.

    Per category c, lexicon evidence L = 1 - prod(1 - w) over its non-negated cue hits
    (strong cue w=0.8, weak w=0.3) and semantic evidence S in [0, 1] (prototype softmax or
    NLI entailment) combine as noisy-OR: score = 1 - (1 - L)(1 - k*S), k = 0.6 for prototypes,
    0.75 for zero-shot. A category whose cue was negated, asked as a question or matched an
    idiom gets S = 0, so the paraphrase signal cannot undo a veto. The best category wins if
    its score reaches 0.4; otherwise "none" with confidence 1 - best score.
    """

    def __init__(
        self,
        encoder: SentenceEncoder | None = None,
        *,
        backend: Backend | None = None,
        model: str | None = None,
        hypothesis_template: str = DEFAULT_TEMPLATE,
        device: str = "cpu",
        batch_size: int = 16,
        max_length: int = 256,
        lexicon_dir: Path = LEXICON_DIR,
    ) -> None:
        self.backend: Backend = backend or ("prototypes" if encoder is not None else "lexicon")
        self.languages = load_lexicons(lexicon_dir)
        self.semantics: _Semantics | None = None
        if self.backend == "prototypes":
            if encoder is None:
                raise ValueError('harm backend "prototypes" needs the sentence encoder')
            self.semantics = PrototypeSemantics(encoder, lexicon_dir / "prototypes.toml")
        elif self.backend == "zero-shot":
            if not model:
                raise ValueError(
                    'harm backend "zero-shot" needs model = "<NLI model id or directory>"'
                )
            self.semantics = ZeroShotSemantics(
                model,
                template=hypothesis_template,
                device=device,
                batch_size=batch_size,
                max_length=max_length,
                path=lexicon_dir / "prototypes.toml",
            )
        self.version = VERSION if self.backend != "zero-shot" else f"{VERSION}+nli:{model}"
        self._weight = SEMANTIC_WEIGHT.get(self.backend, 0.0)
        log.debug(
            "harm classifier %s: backend %s, lexicons %s",
            self.version, self.backend, ",".join(lang.code for lang in self.languages),
        )

    def predict(
        self,
        texts: Sequence[str],
        embeddings: np.ndarray | None = None,
        langs: Sequence[str | None] | None = None,
    ) -> list[HarmResult]:
        """Classify each text; `embeddings` (from the shared encoder) avoid encoding twice.

        `langs` (detected languages, one per text) spare detecting them again.
        """
        if not texts:
            return []
        scans = [scan(self.languages, text) for text in texts]
        semantic = np.zeros((len(texts), len(CLAIMS)), dtype=np.float32)
        if self.semantics is not None:
            semantic = self.semantics.scores(texts, embeddings, langs)
        return [self._decide(s, row) for s, row in zip(scans, semantic, strict=True)]

    def _decide(self, found: _Scan, semantic: np.ndarray) -> HarmResult:
        scores = np.zeros(len(CLAIMS))
        for index, category in enumerate(CLAIMS):
            lexical = 1.0 - float(np.prod([1.0 - w for _, w in found.hits.get(category, [])]))
            support = 0.0 if category in found.vetoed else self._weight * float(semantic[index])
            scores[index] = 1.0 - (1.0 - lexical) * (1.0 - support)
        best = int(scores.argmax())
        category = CLAIMS[best]
        vetoed = tuple(dict.fromkeys(w for words in found.vetoed.values() for w in words))
        if scores[best] < THRESHOLD:
            return HarmResult("none", round(1.0 - float(scores[best]), 4), vetoed=vetoed)
        evidence = tuple(dict.fromkeys(w for w, _ in found.hits.get(category, [])))
        semantic_part = (
            self._weight * float(semantic[best]) >= 0.05 and category not in found.vetoed
        )
        basis = "+".join(b for b, on in (("lexicon", evidence), ("semantic", semantic_part)) if on)
        return HarmResult(category, round(float(scores[best]), 4), evidence, basis, vetoed)
