"""`brand-monitor models ...` through typer's CliRunner: info, eval, train, and its errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from models.cli import app
from models.heads import Head

runner = CliRunner()

# Written for these tests: (text, label) with 0 negative, 1 neutral, 2 positive.
SENTIMENT = [
    ("I hate this phone, the battery dies by noon", 0),
    ("Worst customer service I have ever dealt with", 0),
    ("My flight got cancelled again, so angry", 0),
    ("The meeting is moved to 3pm on Thursday", 1),
    ("The store opens at nine tomorrow", 1),
    ("New episode comes out on Friday", 1),
    ("Loving my new headphones, the sound is amazing", 2),
    ("Best pizza in town, thank you so much!", 2),
    ("What a beautiful morning, feeling great", 2),
]
COMPLAINTS = [
    ("@shop my parcel is two weeks late and nobody replies", 1),
    ("you charged me twice and still no refund, ridiculous", 1),
    ("the app crashes every time I open it since the update", 1),
    ("waited an hour on the phone and got cut off, awful", 1),
    ("my replacement arrived broken too, this is a joke", 1),
    ("the train was late again and no announcement at all", 1),
    ("thanks for the quick help today, all sorted", 0),
    ("does the store open on sundays?", 0),
    ("great match last night, what a goal", 0),
    ("happy birthday mum, love you", 0),
    ("reading a good book in the park", 0),
    ("new blog post about gardening is up", 0),
]


def write_tweeteval(folder: Path, split: str, rows: list[tuple[str, int]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{split}_text.txt").write_text("\n".join(t for t, _ in rows) + "\n")
    (folder / f"{split}_labels.txt").write_text("\n".join(str(y) for _, y in rows) + "\n")


def write_csv(path: Path, rows: list[tuple[str, int]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["tweet_id", "text", "label"])
        writer.writerows((i, text, label) for i, (text, label) in enumerate(rows))
    return path


def test_info_shows_what_is_loaded_and_from_where() -> None:
    result = runner.invoke(app, ["info"])
    assert result.exit_code == 0, result.output
    assert "embedded:minilm+sent-head-v1+complaint-v2+harm-v3" in result.output
    assert "sentiment-head.safetensors" in result.output
    assert "load seconds" in result.output


def test_eval_sentiment_prints_the_tweeteval_metrics(tmp_path: Path) -> None:
    write_tweeteval(tmp_path, "test", SENTIMENT)
    result = runner.invoke(app, ["eval", "sentiment", "--data", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["count"] == len(SENTIMENT)
    for key in ("macro_recall", "accuracy", "macro_f1", "recall_negative", "recall_neutral",
                "recall_positive", "texts_per_second", "calibration_error"):
        assert key in report
    # Plain sentences like these are easy: the shipped head gets most of them.
    assert report["accuracy"] >= 7 / 9
    recalls = [report[f"recall_{c}"] for c in ("negative", "neutral", "positive")]
    assert report["macro_recall"] == pytest.approx(sum(recalls) / 3)


def test_eval_sentiment_explains_a_missing_split(tmp_path: Path) -> None:
    write_tweeteval(tmp_path, "val", SENTIMENT)
    result = runner.invoke(app, ["eval", "sentiment", "--data", str(tmp_path)])
    assert result.exit_code == 2
    assert "test_text.txt" in result.output
    assert "not found" in result.output


def test_train_then_eval_complaint_with_the_new_head(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "complaints.csv", COMPLAINTS * 2)
    out = tmp_path / "complaint.safetensors"
    result = runner.invoke(app, [
        "train", "complaint", "--data", str(data), "--out", str(out),
        "--cache", str(tmp_path / "cache"), "--json",
    ])
    assert result.exit_code == 0, result.output
    head = Head.load(out)
    assert head.labels == ("not_complaint", "complaint")
    assert json.loads(result.output)["holdout_f1_complaint"] == head.info["holdout_f1_complaint"]
    assert list((tmp_path / "cache").glob("*.npz")), "encoder output is cached for retraining"

    config = tmp_path / "config.toml"
    config.write_text(f'[models.complaint]\nweights = "{out}"\n')
    result = runner.invoke(app, ["eval", "complaint", "--data", str(data), "--config",
                                 str(config), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["count"] == 2 * len(COMPLAINTS)
    # Most of this set was in the training split: the new head must fit it.
    assert report["f1_complaint"] > 0.8 and report["macro_f1"] > 0.8


def test_train_sentiment_writes_a_head_that_eval_can_use(tmp_path: Path) -> None:
    data = tmp_path / "tweeteval"
    write_tweeteval(data, "train", SENTIMENT * 4)
    write_tweeteval(data, "val", SENTIMENT)
    out = tmp_path / "sentiment.safetensors"
    result = runner.invoke(app, [
        "train", "sentiment", "--data", str(data), "--out", str(out),
        "--cache", str(tmp_path / "cache"), "--json",
    ])
    assert result.exit_code == 0, result.output
    trained = json.loads(result.output)
    assert trained["written"] == str(out)
    assert Head.load(out).info["val_macro_recall"] == trained["val_macro_recall"]
    config = tmp_path / "config.toml"
    config.write_text(f'[models.sentiment]\nweights = "{out}"\n')
    result = runner.invoke(app, ["eval", "sentiment", "--data", str(data), "--split", "val",
                                 "--config", str(config), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["macro_recall"] == pytest.approx(trained["val_macro_recall"],
                                                                      abs=1e-3)


def test_a_typo_in_the_models_table_is_reported_with_its_key(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[models]\nquantise = true\n")
    result = runner.invoke(app, ["info", "--config", str(config)])
    assert result.exit_code == 2
    assert "models.quantise" in result.output


def test_cv_complaint_compares_recipes_and_writes_the_best(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "complaints.csv", COMPLAINTS * 3)
    out = tmp_path / "complaint.safetensors"
    result = runner.invoke(app, [
        "cv", "complaint", "--data", str(data), "--folds", "3",
        "--candidates", "logreg,mlp64+threshold", "--cache", str(tmp_path / "cache"),
        "--out", str(out), "--json",
    ])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    rows = {row["candidate"]: row for row in report["candidates"]}
    assert list(rows) == ["logreg", "mlp64+threshold"]
    for row in rows.values():
        assert len(row["folds"]) == 3
        assert row["mean"] == pytest.approx(sum(row["folds"]) / 3)
    assert report["best"] == max(rows, key=lambda name: rows[name]["mean"])
    assert len(rows["mlp64+threshold"]["adjustment"]) == 1
    head = Head.load(out)
    assert head.info["cv3_f1_complaint"] == round(rows[report["best"]]["mean"], 4)
    assert f"--candidates {report['best']}" in head.info["command"]
    assert 0.0 <= head.info["holdout_f1_complaint"] <= 1.0


def test_cv_sentiment_reads_train_only_until_it_writes(tmp_path: Path) -> None:
    data = tmp_path / "tweeteval"
    write_tweeteval(data, "train", SENTIMENT * 4)
    result = runner.invoke(app, [
        "cv", "sentiment", "--data", str(data), "--folds", "3", "--candidates", "mlp64+bias",
        "--cache", str(tmp_path / "cache"),
    ])
    # No val split exists: comparing recipes never needs it.
    assert result.exit_code == 0, result.output
    assert "mlp64+bias" in result.output and "best by CV: mlp64+bias" in result.output
    write_tweeteval(data, "val", SENTIMENT)
    out = tmp_path / "sentiment.safetensors"
    result = runner.invoke(app, [
        "cv", "sentiment", "--data", str(data), "--folds", "3", "--candidates", "mlp64+bias",
        "--cache", str(tmp_path / "cache"), "--out", str(out), "--json",
    ])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    head = Head.load(out)
    assert json.loads(head.info["logit_offsets"]) == report["candidates"][0]["adjustment"]
    assert head.info["cv3_macro_recall"] == round(report["candidates"][0]["mean"], 4)
    assert head.info["val_macro_recall"] == report["val_macro_recall"]


def test_cv_names_an_unknown_candidate(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "complaints.csv", COMPLAINTS)
    result = runner.invoke(app, ["cv", "complaint", "--data", str(data), "--candidates", "mlp9",
                                 "--cache", str(tmp_path / "cache")])
    assert result.exit_code == 2
    assert "unknown candidate(s) ['mlp9']" in result.output
