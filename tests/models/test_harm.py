"""The harm-claim classifier: lexicon cues per language, negation, idioms, semantics, eval floor."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from models.encoder import SentenceEncoder
from models.harm import HarmClassifier, HarmResult, load_lexicons, normalize
from monitor.records import HARM_CATEGORIES

EVAL_SET = Path(__file__).resolve().parents[1] / "fixtures" / "harm_eval.jsonl"


@pytest.fixture(scope="session")
def harm_encoder() -> SentenceEncoder:
    """The embedded sentence encoder, loaded once per session (~7 s)."""
    return SentenceEncoder()


@pytest.fixture(scope="module")
def lexical() -> HarmClassifier:
    """The classifier with lexicons only (no encoder): fast and deterministic."""
    return HarmClassifier(backend="lexicon")


@pytest.fixture(scope="module")
def semantic(harm_encoder: SentenceEncoder) -> HarmClassifier:
    """The default classifier: lexicons plus prototype similarity on the encoder's embeddings."""
    return HarmClassifier(harm_encoder)


# (text, category, a cue that must be in the evidence) – one or more per language.
CLAIMS = [
    (
        "The Acme soup gave me food poisoning, I was up all night.",
        "health_safety",
        "food poisoning",
    ),
    ("Their new kettle caught fire on the counter!!", "health_safety", "caught fire"),
    ("Acme Pay is a SCAM, they emptied my account", "fraud_scam", "scam"),
    ("Acme is recalling 40k baby car seats", "legal_regulatory", "recalling"),
    ("Acme confirms data breach affecting 2 million users", "privacy_security", "data breach"),
    ("Acme's hiring policy is openly racist", "discrimination_ethics", "racist"),
    ("Acme app down for everyone?? can't log in since 8am", "outage", "can not log in"),
    ("#BoycottAcme until they pay their drivers", "boycott", "boycottacme"),
    ("El flan de Acme me enfermó, fatal.", "health_safety", "me enfermo"),
    ("Acme es una ESTAFA total", "fraud_scam", "estafa"),
    ("Le plat Acme m'a rendu malade", "health_safety", "rendu malade"),
    ("Intoxication alimentaire après le menu Acme", "health_safety", "intoxication alimentaire"),
    ("Die Acme Wurst hat uns vergiftet", "health_safety", "vergiftet"),
    ("Acme wird wegen Kartellabsprachen verklagt", "legal_regulatory", "verklagt"),
    ("O app da Acme está fora do ar", "outage", "fora do ar"),
    ("Vazamento de dados na Acme", "privacy_security", "vazamento"),
    ("Отравился пиццей Acme", "health_safety", "отравился"),
    ("Acme взломали вчера ночью", "privacy_security", "взломали"),
    ("Acmeのおにぎりで食中毒になりました", "health_safety", "食中毒"),
    ("Acmeは詐欺だ", "fraud_scam", "詐欺"),
    ("Acme 김밥 먹고 식중독 걸렸어요", "health_safety", "식중독"),
    ("Acme 불매 운동 합시다", "boycott", "불매"),
    ("Sain ruokamyrkytyksen Acmen pizzasta", "health_safety", "ruokamyrkytyksen"),
    ("Acme on täysi huijaus", "fraud_scam", "huijaus"),
]


@pytest.mark.parametrize(("text", "category", "cue"), CLAIMS)
def test_claims_are_found_with_their_cue_as_evidence(
    lexical: HarmClassifier, text: str, category: str, cue: str
) -> None:
    [result] = lexical.predict([text])
    assert result.category == category, result
    assert cue in result.evidence
    assert result.basis == "lexicon"
    assert 0.5 < result.confidence <= 1.0


NEGATED = [
    "Acme's curry did not make me sick, it was something else",
    "Never got sick from Acme once in ten years",
    "Acme is not a scam, refund came in 3 days",
    "no me enfermó la comida de Acme",
    "Acme n'est pas une arnaque",
    "Das Essen von Acme hat mich nicht krank gemacht",
    "A Acme não é golpe",
    "Я не отравился в Acme",
    "Acmeは詐欺じゃない",
    "Acme 음식 먹고 식중독 안 걸렸어요",
    "En saanut ruokamyrkytystä Acmesta",
]


@pytest.mark.parametrize("text", NEGATED)
def test_a_negated_cue_is_not_a_claim(lexical: HarmClassifier, text: str) -> None:
    [result] = lexical.predict([text])
    assert result.category == "none", result
    assert result.vetoed, "the negated cue should be reported"


HARD_NEGATIVES = [
    "this Acme chocolate is to die for",
    "killer deal on Acme headphones today",
    "the Acme x DJ collab is a sick beat",
    "at 20 bucks this Acme jacket is a steal",
    "I'd kill for an Acme burger right now",
    "Acme fire sale this weekend, everything must go",
    "that new Acme drop is fire",
    "Acme stock is down 2% after earnings",
    "Acme crashed the party with a surprise flavour, in a good way",
    "El postre de Acme está de muerte",
    "Ce burger Acme est une tuerie",
    "Der Acme Kuchen ist der Hammer",
    "Esse bolo da Acme é de morrer de bom",
    "Торт Acme просто бомба",
    "Acmeのケーキ、死ぬほどうまい",
    "Acme 케이크 진짜 죽여요",
    "Acmen kakku on tappavan hyvää",
]


@pytest.mark.parametrize("text", HARD_NEGATIVES)
def test_idioms_and_praise_are_not_claims(lexical: HarmClassifier, text: str) -> None:
    [result] = lexical.predict([text])
    assert result.category == "none", result


QUESTIONS = [
    "Is Acme a scam?",
    "¿Acme es una estafa?",
    "Acmeって詐欺なの？",
    "Has Acme ever had a recall?",
]


@pytest.mark.parametrize("text", QUESTIONS)
def test_a_plain_question_is_not_a_claim(lexical: HarmClassifier, text: str) -> None:
    [result] = lexical.predict([text])
    assert result.category == "none", result


def test_a_question_followed_by_an_assertion_is_a_claim(lexical: HarmClassifier) -> None:
    [result] = lexical.predict(["Anyone else? Acme app is down again, cannot pay."])
    assert result.category == "outage"


def test_a_negation_in_an_earlier_clause_does_not_cancel_the_claim(lexical: HarmClassifier) -> None:
    [result] = lexical.predict(["Not sure why, but the Acme salad made me sick"])
    assert result.category == "health_safety"


EMPHATIC = [
    ("she's bleeding on the jet bridge and Acme is still boarding??", "health_safety"),
    ("Acme put my kid in the hospital and you want me to fill out a survey???", "health_safety"),
    ("Ma Acme prend feu dans le garage et le SAV dit que c'est normal ??", "health_safety"),
    ("Meine Freundin mit Lebensmittelvergiftung im Krankenhaus und Acme schickt Gutscheine?!",
     "health_safety"),
]


@pytest.mark.parametrize(("text", "category"), EMPHATIC)
def test_an_emphatic_question_mark_ends_an_exclamation_not_a_question(
    lexical: HarmClassifier, text: str, category: str
) -> None:
    [result] = lexical.predict([text])
    assert result.category == category, result


SUBJECT_NEGATED = [
    "Nobody in our group got food poisoning at the new Acme bakery, pastries were great",
    "None of us got sick from the Acme buffet",
    "Niemand ist nach der Feier krank geworden, die Torten von Acme waren top",
    "Personne n'a été malade au mariage, le traiteur Acme était parfait",
    "Nadie se intoxicó en la boda, el catering de Acme estuvo perfecto",
    "Ninguém passou mal no casamento, o buffet da Acme estava perfeito",
]


@pytest.mark.parametrize("text", SUBJECT_NEGATED)
def test_a_clause_opening_subject_negator_negates_the_whole_clause(
    lexical: HarmClassifier, text: str
) -> None:
    [result] = lexical.predict([text])
    assert result.category == "none", result


def test_a_subject_negator_inside_the_clause_keeps_the_window_rule(
    lexical: HarmClassifier,
) -> None:
    # "nobody" is not the clause's subject here: the claim is that Acme takes the money.
    [result] = lexical.predict(
        ["how is nobody talking about Acme taking money out of closed accounts??"]
    )
    assert result.category == "fraud_scam", result
    # Beyond its reach (8 words) a subject negator no longer speaks for the cue.
    [far] = lexical.predict(
        ["Nobody from the Acme store on Main Street called us back after my son got food "
         "poisoning"]
    )
    assert far.category == "health_safety", far


def test_a_number_with_separators_is_one_word_inside_a_cue_gap(lexical: HarmClassifier) -> None:
    [result] = lexical.predict(["Acme ruft 40.000 Gefriertruhen wegen Überhitzung zurück"])
    assert result.category == "legal_regulatory", result


def test_batch_keeps_order_and_empty_input_gives_empty_output(lexical: HarmClassifier) -> None:
    texts = ["Acme is a scam", "love Acme", "Acme site is down"]
    assert [r.category for r in lexical.predict(texts)] == ["fraud_scam", "none", "outage"]
    assert lexical.predict([]) == []


def test_results_are_frozen_and_in_range(lexical: HarmClassifier) -> None:
    results = lexical.predict(["Acme made me sick", "nice weather", ""])
    for result in results:
        assert isinstance(result, HarmResult)
        assert result.category in HARM_CATEGORIES
        assert 0.0 <= result.confidence <= 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        results[0].category = "none"  # type: ignore[misc]
    assert lexical.version == "harm-v3"


def test_normalize_folds_width_case_accents_and_apostrophes() -> None:
    assert normalize("ＳＣＡＭ") == "scam"
    assert normalize("Intoxicación") == "intoxicacion"
    assert normalize("Übel") == "ubel"
    assert normalize("didn’t") == "did not"
    assert normalize("can't") == "can not"
    # Kana voicing marks are not accents: dropping them would change the word.
    assert normalize("ダウン") == "ダウン"


def test_lexicons_cover_every_language_and_category() -> None:
    languages = {lang.code: lang for lang in load_lexicons()}
    assert {"en", "es", "fr", "de", "pt", "ru", "ja", "ko", "fi"} <= set(languages)
    for lang in languages.values():
        covered = {category for _, category in lang.cues}
        assert covered == set(HARM_CATEGORIES) - {"none"}, lang.code


def test_a_broken_lexicon_file_is_reported_with_its_path(tmp_path: Path) -> None:
    (tmp_path / "xx.toml").write_text('[strong]\nhealth = ["ouch"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"xx\.toml.*unknown category 'health'"):
        load_lexicons(tmp_path)
    (tmp_path / "xx.toml").write_text("[strong\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"cannot read harm lexicon .*xx\.toml"):
        load_lexicons(tmp_path)
    with pytest.raises(ValueError, match="no harm lexicons"):
        load_lexicons(tmp_path / "empty")


# ----- semantic backstop (prototype similarity on the shared embeddings) -----


def test_a_paraphrase_without_any_cue_gets_a_lower_confidence_category(
    semantic: HarmClassifier,
) -> None:
    paraphrase, explicit = semantic.predict(
        [
            "After dinner at Acme I spent the whole night on the bathroom floor",
            "The Acme pasta gave me food poisoning",
        ]
    )
    assert paraphrase.category == "health_safety"
    assert paraphrase.basis == "semantic" and paraphrase.evidence == ()
    assert explicit.category == "health_safety"
    assert paraphrase.confidence < explicit.confidence


def test_negation_also_vetoes_the_semantic_score(semantic: HarmClassifier) -> None:
    [result] = semantic.predict(["The Acme fish did not make me sick at all"])
    assert result.category == "none"


def test_given_embeddings_are_used_instead_of_encoding_again(
    semantic: HarmClassifier, harm_encoder: SentenceEncoder
) -> None:
    texts = ["Acme's website has been unreachable all afternoon", "lovely Acme scarf"]
    embeddings = harm_encoder.encode(texts)
    assert semantic.predict(texts, embeddings) == semantic.predict(texts)
    # Embeddings of other texts change the semantic part: proof that they are used.
    swapped = semantic.predict(texts, embeddings[::-1].copy())
    assert [r.category for r in swapped] != [r.category for r in semantic.predict(texts)]


def test_embeddings_of_the_wrong_shape_are_refused(semantic: HarmClassifier) -> None:
    with pytest.raises(ValueError, match="embeddings have shape"):
        semantic.predict(["a", "b"], np.zeros((1, 384), dtype=np.float32))


# ----- the labelled evaluation set: a floor so that a regression fails -----


def _macro_f1(gold: list[str], pred: list[str]) -> float:
    scores = []
    for label in HARM_CATEGORIES:
        tp = sum(g == p == label for g, p in zip(gold, pred, strict=True))
        fp = sum(p == label != g for g, p in zip(gold, pred, strict=True))
        fn = sum(g == label != p for g, p in zip(gold, pred, strict=True))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores)


def _eval_rows() -> list[dict[str, str]]:
    return [json.loads(line) for line in EVAL_SET.read_text(encoding="utf-8").splitlines()]


def test_eval_set_is_large_multilingual_and_has_a_held_out_split() -> None:
    rows = _eval_rows()
    assert len(rows) >= 300
    assert {r["label"] for r in rows} == set(HARM_CATEGORIES)
    assert {"en", "es", "fr", "de", "pt", "ru", "ja", "ko", "fi"} <= {r["lang"] for r in rows}
    assert sum(r["split"] == "test" for r in rows) >= len(rows) // 4


# Measured macro-F1 (see models/README.md): lexicon 0.990 train, 0.931 test; default 0.937
# test. The floors leave a margin of about 0.03 for deliberate lexicon edits.
FLOORS = {("lexicon", "train"): 0.96, ("lexicon", "test"): 0.90, ("prototypes", "test"): 0.90}


@pytest.mark.parametrize("split", ["train", "test"])
def test_lexicon_macro_f1_floor(lexical: HarmClassifier, split: str) -> None:
    rows = [r for r in _eval_rows() if r["split"] == split]
    pred = [r.category for r in lexical.predict([r["text"] for r in rows])]
    assert _macro_f1([r["label"] for r in rows], pred) >= FLOORS[("lexicon", split)]


def test_default_backend_macro_f1_floor_on_held_out_split(semantic: HarmClassifier) -> None:
    rows = [r for r in _eval_rows() if r["split"] == "test"]
    pred = [r.category for r in semantic.predict([r["text"] for r in rows])]
    assert _macro_f1([r["label"] for r in rows], pred) >= FLOORS[("prototypes", "test")]


# ----- optional zero-shot NLI backend, with a tiny random model built here -----


@pytest.fixture(scope="module")
def tiny_nli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A randomly initialised 2-layer BERT with entailment/neutral/contradiction labels."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    root = tmp_path_factory.mktemp("nli")
    words = "this text claims that a company is scam made me sick down hacked recall boycott . ,"
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words.split()]
    (root / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    torch.manual_seed(0)
    labels = {0: "ENTAILMENT", 1: "NEUTRAL", 2: "CONTRADICTION"}
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=64,
        id2label=labels,
        label2id={v: k for k, v in labels.items()},
    )
    model_dir = root / "model"
    BertForSequenceClassification(config).save_pretrained(model_dir)
    BertTokenizer(vocab_file=str(root / "vocab.txt")).save_pretrained(model_dir)
    yield model_dir


def test_zero_shot_backend_runs_a_local_nli_model(tiny_nli: Path) -> None:
    classifier = HarmClassifier(backend="zero-shot", model=str(tiny_nli), max_length=48)
    texts = ["this company is a scam " * 40, "made me sick", "hello", ""]
    results = classifier.predict(texts)
    assert len(results) == 4
    assert all(r.category in HARM_CATEGORIES and 0.0 <= r.confidence <= 1.0 for r in results)
    # Lexicon evidence still counts with the NLI backend; a random model cannot outvote it.
    assert results[0].category == "fraud_scam" and "scam" in results[0].evidence
    assert classifier.version.startswith("harm-v3+nli:")


def test_zero_shot_backend_refuses_a_model_without_nli_labels(
    tmp_path: Path, tiny_nli: Path
) -> None:
    from transformers import AutoConfig

    odd = tmp_path / "odd"
    odd.mkdir()
    for item in tiny_nli.iterdir():
        (odd / item.name).write_bytes(item.read_bytes())
    config = AutoConfig.from_pretrained(odd)
    config.id2label = {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}
    config.label2id = {v: k for k, v in config.id2label.items()}
    config.save_pretrained(odd)
    with pytest.raises(ValueError, match="'entailment' and 'contradiction' labels"):
        HarmClassifier(backend="zero-shot", model=str(odd))


def test_zero_shot_backend_errors_say_what_to_do(
    tmp_path: Path, tiny_nli: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ValueError, match="needs model"):
        HarmClassifier(backend="zero-shot")
    with pytest.raises(ValueError, match="needs a \\{\\}"):
        HarmClassifier(backend="zero-shot", model=str(tiny_nli), hypothesis_template="no slot")
    with pytest.raises(RuntimeError, match="cannot load zero-shot harm model"):
        HarmClassifier(backend="zero-shot", model=str(tmp_path / "missing-model"))
