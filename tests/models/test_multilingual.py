"""The multilingual n-gram sentiment path: features, the shipped file, blending and routing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from models.cli import app
from models.complaint import ComplaintModel
from models.encoder import SentenceEncoder
from models.harm import HarmClassifier
from models.heads import HeadFormatError
from models.multilingual import (
    DEFAULT_MULTILINGUAL_WEIGHTS,
    NgramSentiment,
    NgramSpec,
    ngram_rows,
)
from models.scorer import Scorer
from models.sentiment import EmbeddedSentiment
from models.settings import ModelsConfig, SentimentSettings
from tests.models.tiny_hf import build_tiny_classifier

runner = CliRunner()

# Written for these tests.
FRENCH_NEGATIVE = [
    "Franchement nul, la livraison a trois semaines de retard et personne ne répond.",
    "Je suis vraiment déçue, le produit est tombé en panne au bout de deux jours.",
]
SPANISH_POSITIVE = [
    "¡Me encanta! El mejor servicio que he tenido en años, muchas gracias 😍",
    "Qué maravilla de atención, todo llegó perfecto y antes de tiempo. ¡Gracias!",
]
GERMAN_NEGATIVE = ["Schrecklicher Kundenservice, ich bin total enttäuscht und wütend."]
PORTUGUESE_POSITIVE = ["Adorei o atendimento, foram super rápidos e simpáticos, recomendo muito!"]
ITALIAN_NEGATIVE = ["Servizio pessimo, una vergogna: ordine mai arrivato e nessun rimborso."]


@pytest.fixture(scope="module")
def ngrams() -> NgramSentiment:
    return NgramSentiment.load()


@pytest.fixture(scope="module")
def multilingual(encoder: SentenceEncoder, ngrams: NgramSentiment) -> EmbeddedSentiment:
    return EmbeddedSentiment(encoder, ngrams=ngrams)


def test_features_of_a_text_do_not_depend_on_its_batch() -> None:
    spec = NgramSpec(bits=16)
    texts = ["Très bon produit !", "", "Muy malo 😡 @someone http://x.y", "ok"]
    tags = ["fr", "xx", "es", "xx"]
    offsets, columns, values = ngram_rows(texts, tags, spec)
    for index, (text, tag) in enumerate(zip(texts, tags, strict=True)):
        alone = ngram_rows([text], [tag], spec)
        row = slice(offsets[index], offsets[index + 1])
        assert columns[row].tolist() == alone[1].tolist()
        np.testing.assert_allclose(values[row], alone[2])
        if offsets[index + 1] > offsets[index]:
            assert float(np.sum(values[row] ** 2)) == pytest.approx(1.0, abs=1e-5)


def test_language_tag_changes_the_tagged_features_only() -> None:
    spec = NgramSpec(bits=20)
    _, french, _ = ngram_rows(["service client"], ["fr"], spec)
    _, spanish, _ = ngram_rows(["service client"], ["es"], spec)
    shared_only = set(ngram_rows(["service client"], ["fr"], NgramSpec(bits=20, tagged=False))[1])
    assert shared_only <= set(french) and shared_only <= set(spanish)
    assert set(french) != set(spanish)


def test_shipped_model_is_small_and_covers_the_xlmt_languages(ngrams: NgramSentiment) -> None:
    assert DEFAULT_MULTILINGUAL_WEIGHTS.stat().st_size < 2_000_000
    assert set(ngrams.languages) == {"ar", "de", "en", "es", "fr", "hi", "it", "pt"}
    # English keeps the encoder head alone (its TweetEval figures stay as they are).
    assert ngrams.blend_weight("en") == 0.0
    assert all(ngrams.blend_weight(code) > 0 for code in ("fr", "es", "de", "it", "pt"))


# Written for these tests before the model was tried on them: (text, language, label).
POSTS = [
    ("Service client nul, trois semaines de retard et aucune réponse. Je suis furieux 😡", "fr", 0),
    ("Quelle honte, encore une panne, c'est vraiment n'importe quoi", "fr", 0),
    ("Merci pour votre aide, super équipe, je suis ravie ! 😍", "fr", 2),
    ("Trop bien ce nouveau magasin, j'adore ❤️", "fr", 2),
    ("Qué asco de servicio, nunca más compro aquí. Vergüenza 😡", "es", 0),
    ("Odio esta app, no funciona nada y nadie responde", "es", 0),
    ("¡Me encanta! Gracias por todo, sois geniales 😍", "es", 2),
    ("Qué felicidad, todo perfecto, muchas gracias ❤️", "es", 2),
    ("So ein Mist, schon wieder kaputt. Ich bin total enttäuscht 😡", "de", 0),
    ("Katastrophaler Service, nie wieder! Einfach nur schlecht", "de", 0),
    ("Vielen Dank, super Team, ich bin begeistert! 😍", "de", 2),
    ("Wunderbar, alles hat perfekt geklappt, danke ❤️", "de", 2),
    ("Che schifo di servizio, mai più. Vergogna 😡", "it", 0),
    ("Odio questa app, non funziona niente e nessuno risponde", "it", 0),
    ("Grazie mille, siete fantastici! Che bello 😍", "it", 2),
    ("Bellissimo, tutto perfetto, grazie di cuore ❤️", "it", 2),
    ("Que vergonha, péssimo atendimento, nunca mais 😡", "pt", 0),
    ("Odeio esse app, não funciona nada e ninguém responde", "pt", 0),
    ("Adorei! Muito obrigado, vocês são incríveis 😍", "pt", 2),
    ("Que lindo, tudo perfeito, obrigada de coração ❤️", "pt", 2),
]


def test_posts_in_other_languages_read_as_their_authors_meant(
    encoder: SentenceEncoder, multilingual: EmbeddedSentiment
) -> None:
    texts = [text for text, _, _ in POSTS]
    langs = [lang for _, lang, _ in POSTS]
    truth = np.asarray([label for _, _, label in POSTS])
    blended = multilingual.predict_proba(texts, langs).argmax(axis=1)
    head_only = EmbeddedSentiment(encoder).predict_proba(texts).argmax(axis=1)
    # The English head calls most of these neutral; the blend gets most of them right.
    assert np.mean(blended == truth) >= 0.75
    assert np.mean(blended == truth) >= np.mean(head_only == truth) + 0.25
    # Given no languages, it detects them as the pipeline does.
    np.testing.assert_allclose(
        multilingual.predict_proba(texts[:4]), multilingual.predict_proba(texts[:4], langs[:4]),
        atol=1e-6,
    )


def test_english_and_unknown_languages_keep_the_encoder_head(
    encoder: SentenceEncoder, multilingual: EmbeddedSentiment
) -> None:
    head_only = EmbeddedSentiment(encoder)
    texts = ["The support team sorted it out in minutes, great job", "Отличный сервис, спасибо"]
    np.testing.assert_allclose(
        multilingual.predict_proba(texts, ["en", "ru"]), head_only.predict_proba(texts), atol=1e-6
    )


def test_saved_model_loads_back_identically(ngrams: NgramSentiment, tmp_path: Path) -> None:
    path = tmp_path / "copy.safetensors"
    ngrams.save(path)
    again = NgramSentiment.load(path)
    assert again.spec == ngrams.spec and again.blend == ngrams.blend
    assert ngrams.calibration is not None and again.calibration == ngrams.calibration
    texts = FRENCH_NEGATIVE + SPANISH_POSITIVE
    np.testing.assert_array_equal(
        again.predict_proba(texts, ["fr", "fr", "es", "es"]),
        ngrams.predict_proba(texts, ["fr", "fr", "es", "es"]),
    )


def test_calibration_is_fitted_on_scores_and_files_without_one_keep_the_sigmoids(
    ngrams: NgramSentiment,
) -> None:
    pytest.importorskip("scipy")
    from models.multilingual import Calibration, ngram_probs
    from models.multilingual_train import fit_calibration

    # Labels drawn from a known calibration of random scores: the fit finds it again.
    rng = np.random.default_rng(5)
    scores = rng.normal(size=(20_000, 3)).astype(np.float32)
    truth = Calibration(2.0, (0.5, -0.3, 0.0))
    cumulative = np.cumsum(truth.probs(scores), axis=1)
    labels = (rng.random((len(scores), 1)) > cumulative).sum(axis=1)
    fitted = fit_calibration(scores, labels)
    assert fitted.temperature == pytest.approx(2.0, abs=0.1)
    np.testing.assert_allclose(fitted.offsets, truth.offsets, atol=0.08)
    # A file written before calibration gives the renormalised one-vs-rest sigmoids.
    plain = NgramSentiment(
        spec=ngrams.spec, languages=ngrams.languages, weights=ngrams.weights, bias=ngrams.bias
    )
    np.testing.assert_allclose(plain.probs(scores[:5]), ngram_probs(scores[:5]))
    assert not np.allclose(ngrams.probs(scores[:5]), ngram_probs(scores[:5]), atol=1e-3)


def test_missing_or_wrong_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(HeadFormatError, match="models train multilingual"):
        NgramSentiment.load(tmp_path / "absent.safetensors")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a safetensors file")
    with pytest.raises(HeadFormatError, match="cannot read"):
        NgramSentiment.load(bad)


def test_settings_keep_multilingual_keys_to_the_embedded_backend() -> None:
    assert SentimentSettings().multilingual is False  # opt-in in 0.3
    assert SentimentSettings(multilingual=True).multilingual is True
    with pytest.raises(ValueError, match="multilingual_weights apply"):
        SentimentSettings(backend="transformers", model="x", multilingual_weights=Path("w"))


def write_language(root: Path, name: str, rows: list[tuple[str, int]]) -> None:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "val_text.txt").write_text("\n".join(t for t, _ in rows) + "\n", encoding="utf-8")
    (folder / "val_labels.txt").write_text("\n".join(str(y) for _, y in rows) + "\n")


@pytest.fixture
def xlmt_folder(tmp_path: Path) -> Path:
    """A tiny folder in the XLM-T layout (val only), with texts written for these tests."""
    root = tmp_path / "xlmt"
    write_language(root, "french", [
        (FRENCH_NEGATIVE[0], 0), (FRENCH_NEGATIVE[1], 0),
        ("Le magasin de la rue Victor Hugo ouvre à neuf heures demain matin.", 1),
        ("Merci beaucoup, service impeccable et équipe adorable, je recommande !", 2),
    ])
    write_language(root, "spanish", [
        ("Qué desastre de servicio, nunca más vuelvo a comprar aquí.", 0),
        ("La tienda del centro abre mañana a las nueve de la mañana.", 1),
        (SPANISH_POSITIVE[0], 2), (SPANISH_POSITIVE[1], 2),
    ])
    return root


def test_eval_reports_a_table_per_language_for_the_xlmt_layout(xlmt_folder: Path) -> None:
    result = runner.invoke(app, ["eval", "sentiment", "--data", str(xlmt_folder),
                                 "--split", "val", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert list(report["languages"]) == ["french", "spanish", "all"]
    assert report["languages"]["french"]["count"] == 4
    assert report["languages"]["all"]["count"] == 8
    assert "sent-head-v1" in report["model"]  # the configured default (n-grams are opt-in)
    text = runner.invoke(app, ["eval", "sentiment", "--data", str(xlmt_folder), "--split", "val"])
    assert text.exit_code == 0, text.output
    assert "macro-F1" in text.output and "spanish" in text.output


def test_eval_per_language_with_a_hugging_face_model(xlmt_folder: Path, tmp_path: Path) -> None:
    model = build_tiny_classifier(tmp_path / "tiny", ["negative", "neutral", "positive"])
    config = tmp_path / "config.toml"
    config.write_text(
        f'[models.sentiment]\nbackend = "transformers"\nmodel = "{model.as_posix()}"\n'
    )
    result = runner.invoke(app, ["eval", "sentiment", "--data", str(xlmt_folder), "--split",
                                 "val", "--config", str(config), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert set(report["languages"]) == {"french", "spanish", "all"}
    assert "sent-ngrams" not in report["model"]


def test_scorer_reads_other_languages_in_one_encoder_pass(
    encoder: SentenceEncoder, multilingual: EmbeddedSentiment
) -> None:
    scorer = Scorer(
        encoder=encoder, sentiment=multilingual, complaint=ComplaintModel(encoder),
        harm=HarmClassifier(encoder), config=ModelsConfig(),
    )
    assert "+sent-ngrams-v1+" in scorer.model_id
    seen: list[int] = []

    def count(_module: Any, _args: Any, kwargs: dict[str, Any], _out: Any) -> None:
        seen.append(int(kwargs["input_ids"].shape[0]))

    texts = [text for text, _, _ in POSTS]
    handle = encoder.model.register_forward_hook(count, with_kwargs=True)
    try:
        scores = scorer.score(texts)
    finally:
        handle.remove()
    assert sum(seen) == len(texts)
    truth = [("negative", "neutral", "positive")[label] for _, _, label in POSTS]
    assert np.mean([s.sentiment == t for s, t in zip(scores, truth, strict=True)]) >= 0.75
    given = scorer.score(texts, langs=[lang for _, lang, _ in POSTS])
    assert [s.p_negative for s in given] == pytest.approx([s.p_negative for s in scores])
    with pytest.raises(ValueError, match="languages given"):
        scorer.score(texts, langs=["fr"])


def test_weights_round_trip_whatever_their_memory_order(tmp_path: Path) -> None:
    spec = NgramSpec(bits=8)
    rng = np.random.default_rng(0)
    # scikit-learn's coef_.T is Fortran-ordered; the file must still hold the right numbers.
    weights = np.asfortranarray(rng.normal(size=(3, spec.buckets)).astype(np.float32).T)
    model = NgramSentiment(spec=spec, languages=("fr",), weights=weights,
                           bias=np.zeros(3, dtype=np.float32), blend={"fr": 1.0})
    model.save(tmp_path / "m.safetensors")
    again = NgramSentiment.load(tmp_path / "m.safetensors")
    np.testing.assert_allclose(again.weights, weights, atol=2e-3)
