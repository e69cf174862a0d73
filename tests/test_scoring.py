"""The scoring stage: real models, off the loop; nothing lost while the models are unavailable."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from models.scorer import Scorer
from monitor.clock import VirtualClock
from monitor.records import Mention
from monitor.scoring import ScoringStage, TextScorer
from monitor.store import Store

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def broken_loader() -> TextScorer:
    raise OSError("model files missing")


async def test_mentions_stored_while_models_fail_are_scored_later(tmp_path: Path) -> None:
    store = await Store(tmp_path / "bm.db").open()
    texts = ["Acme cola gave my kids food poisoning", "Loving my new Acme skates!"]
    saved = await store.save_mentions([
        Mention(platform="rss", external_id=str(i), text=t, fetched_at=NOW, brands=("Acme",))
        for i, t in enumerate(texts)
    ])
    down = ScoringStage(store, broken_loader, VirtualClock(NOW))
    await down.start()
    await down.submit(saved)
    await asyncio.sleep(0.3)
    assert down.load_error is not None and "model files missing" in down.load_error
    await down.stop()
    assert len(await store.unscored_mentions()) == 2  # kept, not lost

    up = ScoringStage(store, Scorer.from_config, VirtualClock(NOW), sweep_interval=0.05)
    await up.start()  # the sweep finds what the failed stage left behind
    for _ in range(600):
        if not await store.unscored_mentions():
            break
        await asyncio.sleep(0.05)
    await up.stop()
    rows = await store.read(lambda tx: list(tx.sqlite.query(
        "SELECT m.external_id, s.sentiment, s.harm_category, s.model FROM scores s "
        "JOIN mentions m ON m.id = s.mention_id ORDER BY m.external_id"
    )))
    await store.close()
    assert [r["external_id"] for r in rows] == ["0", "1"]
    assert rows[0]["sentiment"] == "negative" and rows[0]["harm_category"] == "health_safety"
    assert rows[1]["sentiment"] == "positive"
    assert rows[0]["model"].startswith("embedded:minilm")


def test_brand_masker_replaces_names_and_aliases_as_whole_words_only() -> None:
    from monitor.scoring import brand_masker

    mask = brand_masker(["Acme", "Acme Foods"])
    masked = mask("ACME FOODS recalled bars; acme's app too")
    assert masked == "the brand recalled bars; the brand's app too"
    # Handles, hashtags and longer words keep their spelling.
    assert mask("@AcmeCares #DeleteAcme Acmeville") == "@AcmeCares #DeleteAcme Acmeville"
    assert brand_masker([])("Acme") == "Acme"
