"""Claim judgement on a real brand stream: injected claims, hard negatives and false pages.

    .venv/bin/python benchmarks/eval_claims.py [--days N] [--json] [--cache DIR]

Background: `../shared/data/support-stream/spotify-support-requests.csv`, ~15,000 real tweets
sent to one brand's support account over two months (complaints, questions, praise; no crisis).
Into it go the campaigns of `benchmarks/campaigns.py` (invented texts: seven harm claims, a
debunk of one of them, and hard negatives). Everything runs through the live pipeline in
virtual time (`monitor.replay.replay`, default settings, the embedded models), and the
incidents, their mentions and the alerts are read back from the replay's database.

Per claim it prints: incidents (low or above) about it, the share of its posts in the main
one, the headline, category, minutes from the 10th post to the first page (low or above), and
whether it was high before its peak hour. Per hard negative: the highest severity paged (nothing may
page; the complaint storm may page a complaint surge at low). Per debunk: the share of its posts
attached to the claim it answers, and that it paged nothing of its own. Background:
pages per brand-week on incidents holding no campaign post. The `ok` column applies the targets
of issue 11. `--campaigns heldout` uses `benchmarks/campaigns_heldout.py` instead, a second set
written by someone who never saw the detection rules, and never used for tuning: its figures
are the honest ones. The README gives both, and the same script's figures for version 0.1 (run
from that commit with this file and the campaign files copied in).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import hashlib
import html
import importlib
import json
import logging
import pickle
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from monitor.config import Config  # noqa: E402
from monitor.records import SEVERITIES  # noqa: E402
from monitor.replay import ReplayRecord, replay  # noqa: E402

STREAM = ROOT.parent / "shared" / "data" / "support-stream" / "spotify-support-requests.csv"
FIRST_DAY = datetime(2017, 10, 4, tzinfo=UTC)
LAST_DAY = datetime(2017, 12, 4, tzinfo=UTC)  # exclusive
PAGE = ("opened", "escalated")
# Hard negatives that are real complaint storms: a complaint surge at low is right for them,
# a claim incident or anything above low is not.
COMPLAINT_STORMS = {"logout_storm"}  # and every campaign whose name ends in "_storm"


def _rank(severity: str | None) -> int:
    return -1 if not severity else SEVERITIES.index(severity)


def background(days: float | None) -> list[ReplayRecord]:
    """The support stream as replay records (x posts), its authors given a stable reach."""
    end = FIRST_DAY + timedelta(days=days) if days else LAST_DAY
    records = []
    with open(STREAM, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if not row.get("created_at") or not row.get("text"):
                continue
            at = datetime.strptime(row["created_at"], "%a %b %d %H:%M:%S %z %Y")
            if not FIRST_DAY <= at < end:
                continue
            # The corpus has no follower counts: a stable lognormal-ish reach per author
            # (median ~250, 1% above 10k) so reach is not zero for the whole background.
            digest = int(hashlib.sha256(row["author_id"].encode()).hexdigest()[:8], 16)
            reach = int(30 * 10 ** (3.2 * (digest / 0xFFFFFFFF) ** 1.6))
            records.append(ReplayRecord(
                id=f"bg-{row['tweet_id']}", platform="x", text=html.unescape(row["text"]),
                published_at=at, author=f"u{row['author_id']}", author_reach=reach,
                url=f"https://x.com/u{row['author_id']}/status/{row['tweet_id']}",
            ))
    return records


class CachedScorer:
    """The embedded models, with Scores cached on disk per text (same models, same Scores)."""

    def __init__(self, cache: Path | None) -> None:
        from models.scorer import Scorer

        self.scorer = Scorer.from_config()
        self.model_id = self.scorer.model_id
        self.path = cache / f"scores-{_models_digest()}.pickle" if cache else None
        self.cache: dict[str, Any] = {}
        if self.path and self.path.exists():
            self.cache = pickle.loads(self.path.read_bytes())

    def score(self, texts: list[str]) -> list[Any]:
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            self.cache.update(zip(missing, self.scorer.score(missing), strict=True))
        return [self.cache[t] for t in texts]

    def save(self) -> None:
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_bytes(pickle.dumps(self.cache))


def _models_digest() -> str:
    """Changes whenever a file of models/ changes (lexicons, weights, code)."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "models").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def config(db: Path) -> Config:
    """Defaults everywhere; one brand with the handles the stream uses."""
    return Config.model_validate({
        "brands": [{"name": "Spotify", "aliases": ["SpotifyCares", "Spotify Premium"]}],
        "storage": {"path": str(db)},
        "server": {"enabled": False},
        "logging": {"level": "WARNING"},
    })


@dataclass
class Incident:
    id: int
    kind: str
    category: str
    severity: str
    summary: str
    mention_ids: set[str]  # external ids
    first_high: datetime | None
    pages: list[tuple[datetime, str, str]]  # (due, reason, severity)


def _read(db: Path) -> list[Incident]:
    with sqlite3.connect(db) as conn:
        incidents = {}
        for row in conn.execute("SELECT id, kind, category, severity, summary FROM incidents"):
            incidents[row[0]] = Incident(row[0], row[1], row[2], row[3], row[4], set(), None, [])
        for incident_id, external in conn.execute(
            "SELECT i.incident_id, m.external_id FROM incident_mentions i "
            "JOIN mentions m ON m.id = i.mention_id"
        ):
            incidents[incident_id].mention_ids.add(external)
        for incident_id, at, detail in conn.execute(
            "SELECT incident_id, at, detail FROM incident_events ORDER BY at, id"
        ):
            info = json.loads(detail or "{}")
            severity = info.get("to") or info.get("severity")
            incident = incidents[incident_id]
            if severity in ("high", "critical") and incident.first_high is None:
                incident.first_high = datetime.fromisoformat(at.replace("Z", "+00:00"))
        seen = set()
        for incident_id, reason, severity, created, not_before in conn.execute(
            "SELECT incident_id, reason, severity, created_at, not_before FROM alerts ORDER BY id"
        ):
            if reason not in PAGE or (incident_id, reason, severity, created) in seen:
                continue
            seen.add((incident_id, reason, severity, created))
            due = datetime.fromisoformat((not_before or created).replace("Z", "+00:00"))
            incidents[incident_id].pages.append((due, reason, severity))
    return list(incidents.values())


def _peak_hour(times: list[datetime]) -> datetime:
    hours = Counter(t.replace(minute=0, second=0, microsecond=0) for t in times)
    return min(h for h, n in hours.items() if n == max(hours.values()))


def evaluate(campaigns: list[Any], incidents: list[Incident], weeks: float) -> dict[str, Any]:
    """The table: one row per campaign, plus the background's pages per brand-week."""
    owner: dict[str, str] = {p["id"]: c.name for c in campaigns for p in c.posts}
    rows = []
    for campaign in campaigns:
        ids = {p["id"] for p in campaign.posts}
        texts = {" ".join(p["text"].split()) for p in campaign.posts}
        times = sorted(datetime.fromisoformat(p["published_at"].replace("Z", "+00:00"))
                       for p in campaign.posts)
        holding = [i for i in incidents if i.mention_ids & ids]
        # An incident is about this campaign when the campaign is a real part of it (5 posts,
        # or 30% of its mentions); a stray post inside another claim's incident is reported
        # as `stray`, not as a second incident.
        about = [i for i in holding if len(i.mention_ids & ids) >= min(5, len(ids))
                 or len(i.mention_ids & ids) >= 0.3 * len(i.mention_ids)]
        visible = [i for i in about if _rank(i.severity) >= _rank("low") or i.pages]
        main = max(holding, key=lambda i: len(i.mention_ids & ids), default=None)
        pages = sorted(p for i in about for p in i.pages if _rank(p[2]) >= _rank("low"))
        row: dict[str, Any] = {
            "campaign": campaign.name, "kind": campaign.kind, "expected": campaign.category,
            "posts": len(ids), "incidents": len(holding), "paging_incidents": len(visible),
            "top_severity": max((p[2] for p in pages), key=_rank, default="-"),
            "stray": sum(len(i.mention_ids & ids) for i in holding if i not in about),
            "pages": len(pages),
        }
        if main is not None:
            row.update({
                "main": main.id, "main_kind": main.kind, "category": main.category,
                "share": round(len(main.mention_ids & ids) / len(ids), 3),
                "foreign": len(main.mention_ids - ids),
                "headline": main.summary[:90],
                "headline_ok": " ".join(main.summary.rstrip("…").split())[:60] in
                " ".join(texts),
            })
        if campaign.kind == "claim":
            tenth = times[min(9, len(times) - 1)]
            first = pages[0][0] if pages else None
            peak = _peak_hour(times)
            row["page_after_10th_min"] = (
                round((first - tenth).total_seconds() / 60, 1) if first else None
            )
            row["high_before_peak"] = bool(main and main.first_high and main.first_high < peak)
            row["ok"] = bool(
                main and len(visible) == 1 and row["share"] >= 0.9 and row["headline_ok"]
                and main.category == campaign.category and first is not None
                and (first - tenth) <= timedelta(minutes=15) and row["high_before_peak"]
            )
        elif campaign.kind == "debunk":
            target = next(c for c in campaigns if c.name == campaign.debunks)
            target_ids = {p["id"] for p in target.posts}
            claim = max(incidents, key=lambda i: len(i.mention_ids & target_ids), default=None)
            row["attached_to_claim"] = round(
                len(claim.mention_ids & ids) / len(ids), 3) if claim else 0.0
            row["ok"] = all(i is claim for i in visible) and not any(
                i is not claim and i.pages for i in holding)
        elif campaign.name in COMPLAINT_STORMS or campaign.name.endswith("_storm"):
            row["ok"] = all(_rank(p[2]) <= _rank("low") for p in pages) and not any(
                i.kind == "viral_claim" for i in visible
            )
        else:
            # Hard negatives: no page at low or above from an incident made of them.
            row["ok"] = not pages
        rows.append(row)
    background_pages: Counter[str] = Counter()
    examples: list[str] = []
    for incident in incidents:
        if any(m in owner for m in incident.mention_ids):
            continue
        for _due, _reason, severity in incident.pages:
            band = "high+" if _rank(severity) >= _rank("high") else (
                "low/medium" if _rank(severity) >= _rank("low") else "info")
            background_pages[band] += 1
        if incident.pages and len(examples) < 12:
            examples.append(f"#{incident.id} {incident.severity} {incident.kind} "
                            f"[{incident.category}] {incident.summary[:80]}")
    per_week = {k: round(v / weeks, 2) for k, v in background_pages.items()}
    return {
        "campaigns": rows,
        "background": {
            "brand_weeks": round(weeks, 2), "pages": dict(background_pages),
            "per_brand_week": per_week,
            "incidents": sum(1 for i in incidents
                             if not any(m in owner for m in i.mention_ids)),
            "ok": per_week.get("high+", 0) <= 1 and per_week.get("low/medium", 0) <= 3,
            "examples": examples,
        },
    }


def print_table(result: dict[str, Any]) -> None:
    """The result as a plain-text table."""
    print(f"{'campaign':<24} {'kind':<8} {'posts':>5} {'inc':>3} {'share':>6} {'category':<22} "
          f"{'10th→page':>9} {'high<peak':>9} {'top':<8} {'stray':>5} ok")
    for r in result["campaigns"]:
        category = r.get("category", "-")
        mark = "" if category == r["expected"] or r["kind"] != "claim" else " (want "
        mark += r["expected"] + ")" if mark else ""
        print(f"{r['campaign']:<24} {r['kind']:<8} {r['posts']:>5} {r['paging_incidents']:>3} "
              f"{r.get('share', 0):>6.0%} {category + mark:<22} "
              f"{str(r.get('page_after_10th_min', '')):>9} "
              f"{str(r.get('high_before_peak', '')):>9} {r['top_severity']:<8} "
              f"{r['stray']:>5} {'yes' if r['ok'] else 'NO'}")
    for r in result["campaigns"]:
        if "headline" in r:
            flag = "" if r["headline_ok"] else "  [not from the campaign]"
            print(f"  {r['campaign']}: #{r['main']} {r['main_kind']} “{r['headline']}”{flag}")
    bg = result["background"]
    print(f"\nbackground: {bg['brand_weeks']} brand-weeks, {bg['incidents']} incidents, pages "
          f"{bg['pages']} = per brand-week {bg['per_brand_week']} -> "
          f"{'ok' if bg['ok'] else 'TOO MANY'} (target: high+ <= 1, low/medium <= 3)")
    for line in bg["examples"]:
        print("  ", line)


def _campaigns(which: str) -> list[Any]:
    module = importlib.import_module("campaigns" if which == "dev" else "campaigns_heldout")
    return module.build_campaigns(FIRST_DAY)  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    """Run the evaluation; print the table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=None, help="background days (default all)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--cache", type=Path, default=None,
                        help="keep model scores here between runs (same models: same scores)")
    parser.add_argument("--no-campaigns", action="store_true", help="background only")
    parser.add_argument("--campaigns", choices=["dev", "heldout"], default="dev",
                        help="dev: the set detection was tuned on; heldout: never tuned on")
    parser.add_argument("--keep-db", type=Path, default=None,
                        help="write the replay database here (a new file) to inspect it")
    args = parser.parse_args(argv)
    if not STREAM.exists():
        print(f"needs {STREAM} (the shared data folder beside the project)", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING)
    records = background(args.days)
    end = FIRST_DAY + timedelta(days=args.days) if args.days else LAST_DAY
    campaigns = [] if args.no_campaigns else [
        c for c in _campaigns(args.campaigns)
        if datetime.fromisoformat(c.posts[-1]["published_at"].replace("Z", "+00:00")) < end
    ]
    records += [ReplayRecord.model_validate(p) for c in campaigns for p in c.posts]
    started = time.perf_counter()
    scorer = CachedScorer(args.cache)
    with tempfile.TemporaryDirectory() as scratch:
        db = args.keep_db or Path(scratch) / "eval.db"
        asyncio.run(replay(records, config(db), db, scorer=scorer))
        incidents = _read(db)
    scorer.save()
    weeks = (end - FIRST_DAY).total_seconds() / (7 * 86400)
    result = evaluate(campaigns, incidents, weeks)
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["mentions"] = len(records)
    if args.json:
        print(json.dumps(result, indent=1, default=str))
    else:
        print(f"{len(records)} mentions replayed in {result['seconds']}s\n")
        print_table(result)
    ok = all(r["ok"] for r in result["campaigns"]) and result["background"]["ok"]
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
