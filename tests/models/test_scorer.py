"""The Scorer: one Score per text from one shared encoder pass, with a versioned model id."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from models.complaint import ComplaintModel
from models.encoder import SentenceEncoder
from models.harm import HarmClassifier
from models.heads import normalize_text
from models.hf import TransformersSentiment
from models.scorer import Scorer
from models.sentiment import EmbeddedSentiment
from models.settings import ModelsConfig
from monitor.records import HARM_CATEGORIES
from tests.models.tiny_hf import build_tiny_classifier

# Written for these tests.
MENTIONS = [
    "Absolutely love the new Acme blender, best purchase this year!",
    "Acme yogurt made my whole family sick, two of us ended up in hospital",
    "The Acme store on Main Street opens at 9am on Saturdays.",
    "@AcmeHelp my order never arrived and nobody answers my emails. Worst service ever.",
]


@pytest.fixture(scope="module")
def scorer(encoder: SentenceEncoder) -> Scorer:
    config = ModelsConfig()
    return Scorer(
        encoder=encoder, sentiment=EmbeddedSentiment(encoder), complaint=ComplaintModel(encoder),
        harm=HarmClassifier(encoder), config=config,
    )


def test_one_score_per_text_in_order(scorer: Scorer) -> None:
    scores = scorer.score(MENTIONS)
    assert len(scores) == len(MENTIONS)
    for score in scores:
        probs = [score.p_negative, score.p_neutral, score.p_positive]
        assert sum(probs) == pytest.approx(1.0, abs=1e-4)
        assert score.sentiment == ("negative", "neutral", "positive")[int(np.argmax(probs))]
        assert 0.0 <= score.complaint <= 1.0
        assert score.harm_category in HARM_CATEGORIES
        assert 0.0 <= score.harm_confidence <= 1.0
        assert score.model == scorer.model_id
    praise, illness, neutral, complaint = scores
    assert praise.sentiment == "positive"
    assert illness.sentiment == "negative" and illness.harm_category == "health_safety"
    assert illness.extra["harm_evidence"]
    assert neutral.sentiment == "neutral" and neutral.harm_category == "none"
    assert complaint.sentiment == "negative"
    assert complaint.complaint > 0.5 > praise.complaint
    assert scorer.score([]) == []


def test_model_id_names_every_model_and_version(scorer: Scorer) -> None:
    assert scorer.model_id == "embedded:minilm+sent-head-v1+complaint-v2+harm-v3"


def test_each_text_goes_through_the_encoder_once(scorer: Scorer) -> None:
    seen: list[int] = []

    def count(_module: Any, _args: Any, kwargs: dict[str, Any], _out: Any) -> None:
        seen.append(int(kwargs["input_ids"].shape[0]))

    handle = scorer.encoder.model.register_forward_hook(count, with_kwargs=True)
    try:
        scorer.score(MENTIONS)
    finally:
        handle.remove()
    assert sum(seen) == len(MENTIONS)


def test_sharing_embeddings_gives_the_same_scores_as_each_model_alone(scorer: Scorer) -> None:
    scores = scorer.score(MENTIONS)
    assert isinstance(scorer.sentiment, EmbeddedSentiment)
    alone = scorer.sentiment.predict(MENTIONS)
    complaint = scorer.complaint.predict(MENTIONS)
    # The harm classifier reads the raw text for its cues and the shared embedding of the
    # normalised text (handles -> @user) for its semantic score.
    shared = scorer.encoder.encode([normalize_text(m) for m in MENTIONS])
    harm = scorer.harm.predict(MENTIONS, embeddings=shared)
    for score, s, c, h in zip(scores, alone, complaint, harm, strict=True):
        assert score.sentiment == s.label
        assert score.p_negative == pytest.approx(s.p_negative, abs=1e-4)
        assert score.complaint == pytest.approx(c, abs=1e-4)
        assert (score.harm_category, score.harm_confidence) == pytest.approx(
            (h.category, h.confidence), abs=1e-3
        )


def test_user_handles_and_links_do_not_change_the_score(scorer: Scorer) -> None:
    a, b = scorer.score([
        "@jenny_smith82 the Acme app is brilliant now http://t.co/XyZ123",
        "@user the Acme app is brilliant now http",
    ])
    assert (a.p_negative, a.p_positive, a.complaint) == pytest.approx(
        (b.p_negative, b.p_positive, b.complaint), abs=1e-5
    )


def test_transformers_sentiment_backend_in_the_scorer(
    scorer: Scorer, encoder: SentenceEncoder, tmp_path: Path
) -> None:
    folder = build_tiny_classifier(tmp_path / "tiny", ["negative", "neutral", "positive"])
    hf = TransformersSentiment(str(folder))
    mixed = Scorer(
        encoder=encoder, sentiment=hf, complaint=scorer.complaint, harm=scorer.harm,
        config=ModelsConfig.model_validate(
            {"sentiment": {"backend": "transformers", "model": str(folder)}}
        ),
    )
    assert mixed.model_id == f"embedded:minilm+hf:{folder}+complaint-v2+harm-v3"
    scores = mixed.score(MENTIONS)
    # Handles are normalised before the HF model too, as TweetEval-trained models expect.
    expected = hf.predict_proba([m.replace("@AcmeHelp", "@user") for m in MENTIONS])
    np.testing.assert_allclose([s.p_positive for s in scores], expected[:, 2], atol=1e-5)
    assert mixed.info()["sentiment"]["backend"] == "transformers"


def test_from_config_loads_everything_and_reports_it() -> None:
    loaded = Scorer.from_config(ModelsConfig(harm={"backend": "lexicon"}))
    info = loaded.info()
    assert info["model_id"] == loaded.model_id
    assert Path(info["sentiment"]["weights"]).is_file()
    assert Path(info["encoder"]["source"]).is_dir()
    assert set(info["load_seconds"]) == {"encoder", "sentiment", "complaint", "harm"}
    assert info["sentiment"]["trained"]["val_macro_recall"] > 0.68
    assert loaded.score(MENTIONS[1:2])[0].harm_category == "health_safety"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"quantise": True}, "Extra inputs"),
        ({"sentiment": {"backend": "transformers"}}, "needs model"),
        ({"sentiment": {"model": "x/y"}}, 'backend = "transformers"'),
        ({"harm": {"backend": "zero-shot"}}, "needs model"),
        ({"quantize": True, "device": "cuda"}, "cpu"),
        ({"batch_size": 0}, "greater than or equal"),
    ],
)
def test_models_table_is_validated(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ModelsConfig.model_validate(table)
