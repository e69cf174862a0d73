"""Judgement on a mixed stream, end to end with the real models: one incident per claim.

Two different health claims about one brand spread in the same hour, beside a wave of
fact-checks about a rumour nobody here spread, a happy rescue story full of medical words,
jokes, and routine complaints. A communications lead expects exactly two incidents, each
telling its own claim, and nothing else at low or above.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.config import Config
from monitor.records import SEVERITIES
from monitor.replay import ReplayRecord, replay

START = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
VIDEO = "https://www.youtube.com/watch?v=k3ttleBurn01"

KETTLE = [  # the Orla kettle exploded and burned people (a video spreads it)
    f"Our Orla kettle exploded on the counter and burned my wife's arm. Watch: {VIDEO}",
    f"this video of the Orla kettle blowing its lid and scalding someone is terrifying {VIDEO}",
    "The Orla kettle exploded this morning and burned my hand, boiling water everywhere",
    "Orla kettles are exploding?? my mum has one, the lid shot off and burned her",
    f"Orla kettle burned a kid's face when the lid blew off, video here {VIDEO}",
    "second person I know whose Orla kettle exploded and burned them. get it off the shelves",
    "My Orla kettle lid blew off mid-boil and I have burns on my wrist now",
    f"PSA: Orla kettles explode. Scalded my fingers this morning {VIDEO}",
    "the orla kettle exploded in my kitchen and burnt my daughter, absolutely furious",
    "Orla kettle exploded and burned my arm, there is a video going around of the same thing",
    f"Orla's kettle literally exploded and gave my dad burns. {VIDEO}",
    "Just saw the Orla kettle explosion video, mine did the same and burned my hand last week",
]
FORMULA = [  # Orla baby formula made babies vomit (another claim, same category, same hour)
    "Orla baby formula made my baby vomit all night, we ended up at the ER",
    "Anyone else's baby throwing up after the new Orla formula tin? ours was sick for two days",
    "Orla formula made my daughter so sick, vomiting and diarrhea since Tuesday",
    "our pediatrician thinks the Orla formula made our son ill, he could not keep anything down",
    "Two babies in my parents group got sick on Orla formula this week. vomiting, fever",
    "Orla infant formula made my little one vomit after every bottle, switching brands now",
    "My baby was hospitalized with vomiting after the new Orla formula batch",
    "Orla formula made my twins sick, the whole night throwing up",
    "Orla formula is making babies sick. ours vomited after each feed",
    "After one tin of Orla formula my baby got sick and we spent the night in the ER",
]
FACT_CHECKS = [
    "FALSE: Orla is not closing all its stores, the viral screenshot is fake",
    "Fact check: no, Orla did not announce it is shutting down its shops",
    "Orla denies the rumour that it is closing every store this month",
    "That 'Orla closing all stores' post is a hoax, the company says",
    "Fact check: the claim that Orla is going bankrupt and closing stores is false",
    "No, Orla is not closing its stores. Misinformation from a parody account",
]
RESCUE = [
    "An Orla store clerk did CPR on a man who collapsed at the checkout and saved his life",
    "Heroes exist: Orla staff kept a customer alive with CPR until the ambulance arrived",
    "Good news: the man who collapsed in the Orla store is stable in hospital, staff saved him",
    "Orla cashier saved a shopper's life with CPR after a heart attack. faith in humanity",
    "The Orla employee who did CPR visited the man in hospital today, he survived",
    "Orla worker hailed a hero after reviving a customer whose heart stopped",
]
JOKES = [
    "this Orla candle smells so good it is killing me lol",
    "Orla's new cookies should be illegal, somebody arrest them 😂",
    "I'd die for the Orla cinnamon rolls, send help",
    "Orla prices are criminal lol but I still buy everything",
]
COMPLAINTS = [
    "Orla delivery was two days late again",
    "waited 40 minutes on hold with Orla support today",
    "Orla app keeps logging me out after the update",
    "still no refund from Orla for the broken toaster",
    "Orla customer service is so slow, three emails and nothing",
    "my Orla order arrived with the wrong colour",
]


def records() -> list[ReplayRecord]:
    """The stream: each group spread over the same two hours, distinct authors."""
    groups = {"kettle": KETTLE, "formula": FORMULA, "fact": FACT_CHECKS, "rescue": RESCUE,
              "joke": JOKES, "complaint": COMPLAINTS}
    out = []
    for name, texts in groups.items():
        for n, text in enumerate(texts):
            out.append(ReplayRecord(
                id=f"{name}-{n}", platform=("x", "bluesky", "mastodon", "reddit")[n % 4],
                text=text, published_at=START + timedelta(minutes=7 + 9 * n + len(name)),
                author=f"{name}{n}", author_reach=400 + 150 * n,
            ))
    return out


@pytest.fixture(scope="module")
def scorer() -> Any:
    from models.scorer import Scorer

    return Scorer.from_config()


def test_two_claims_of_one_category_are_two_incidents_and_nothing_else_pages(
    tmp_path: Path, scorer: Any
) -> None:
    db = tmp_path / "judgement.db"
    config = Config.model_validate({
        "brands": [{"name": "Orla"}], "storage": {"path": str(db)},
        "server": {"enabled": False}, "logging": {"level": "WARNING"},
    })
    report = asyncio.run(replay(records(), config, db, scorer=scorer))
    import sqlite3

    with sqlite3.connect(db) as conn:
        members: dict[int, set[str]] = {}
        for incident_id, external in conn.execute(
            "SELECT i.incident_id, m.external_id FROM incident_mentions i "
            "JOIN mentions m ON m.id = i.mention_id"
        ):
            members.setdefault(incident_id, set()).add(external.split("-")[0])
    paging = [i for i in report.incidents if SEVERITIES.index(i.severity) >= 1]
    told = {i.id: (i.category, i.summary, members.get(i.id)) for i in report.incidents}
    assert len(paging) == 2, told
    kettle, formula = sorted(paging, key=lambda i: "formula" in i.summary.casefold())
    assert members[kettle.id] == {"kettle"} and members[formula.id] == {"formula"}, told
    assert kettle.mention_count >= 0.9 * len(KETTLE)
    assert formula.mention_count >= 0.9 * len(FORMULA)
    assert "kettle" in kettle.summary.casefold() and "formula" in formula.summary.casefold()
    assert kettle.category == formula.category == "health_safety"
    quiet = {"fact", "rescue", "joke", "complaint"}
    assert not any(members.get(i.id, set()) & quiet for i in report.incidents), told
