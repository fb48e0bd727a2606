"""The ``neardup`` command: a thin layer over the library.

Each subcommand parses options, calls one library entry point and prints a summary. User
errors (``NeardupError``) print one clear message and exit with code 2; nothing is written
unless the whole job succeeded.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from neardup.errors import InputError, NeardupError

app = typer.Typer(
    name="neardup",
    help="Find near-duplicate and semantically similar texts: dedup, search, evaluate.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
index_app = typer.Typer(help="Build and maintain a persistent search index.", no_args_is_help=True)
app.add_typer(index_app, name="index")
train_app = typer.Typer(help="Train on labelled data.", no_args_is_help=True)
app.add_typer(train_app, name="train")

console = Console(stderr=True)
out = Console()

ModelOpt = Annotated[
    Optional[str],
    typer.Option(
        "--model",
        "-m",
        help="Preset name, sentence-transformers folder or Hugging Face id "
        "(default: multilingual-e5-small). 'none' for a lexical-only pipeline.",
    ),
]
TextOpt = Annotated[
    list[str],
    typer.Option("--text", "-t", help="Text column; repeat to join several columns."),
]
IdOpt = Annotated[
    Optional[str], typer.Option("--id", help="Id column (default: the row number).")
]
FormatOpt = Annotated[
    Optional[str],
    typer.Option("--format", help="csv, tsv, jsonl or parquet (default: from the extension)."),
]
EncodingOpt = Annotated[
    Optional[str], typer.Option("--encoding", help="Text encoding of CSV/TSV/JSONL input.")
]


def _model_arg(model: str | None) -> str | None:
    from neardup.models import DEFAULT_MODEL

    if model is None:
        return DEFAULT_MODEL
    return None if model.lower() == "none" else model


def _threshold_arg(value: str) -> float | str:
    if value == "auto":
        return "auto"
    try:
        return float(value)
    except ValueError:
        raise InputError(f"--threshold must be a number or 'auto', got {value!r}") from None


def _load(path: Path, text: list[str], id_col: str | None, fmt: str | None, encoding: str | None):
    from neardup.io import load_collection, read_table

    if not text:
        raise InputError(f"{path}: give at least one --text COLUMN naming the text to compare")
    frame = read_table(path, fmt, encoding=encoding)
    return load_collection(frame, list(text), id_col, source=str(path))


def _timings_line(timings: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.2f}s" for k, v in timings.items())


# --------------------------------------------------------------------------------------------
# dedup
# --------------------------------------------------------------------------------------------


@app.command()
def dedup(
    input: Annotated[Path, typer.Argument(help="CSV, TSV, JSONL or Parquet file.")],
    text: TextOpt = [],  # noqa: B006 - typer needs a literal default
    id: IdOpt = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Output folder.")] = Path(
        "neardup-output"
    ),
    model: ModelOpt = None,
    threshold: Annotated[
        str, typer.Option(help="Link pairs scoring at least this; 'auto' reads it from the data.")
    ] = "auto",
    method: Annotated[
        str,
        typer.Option(
            help="Clustering: agglomerative (average linkage on the candidate graph; resists "
            "chaining), leiden (community detection) or components."
        ),
    ] = "agglomerative",
    candidates: Annotated[
        Optional[list[str]],
        typer.Option("--candidates", help="Candidate sources: knn, lexical-knn, minhash (repeat)."),
    ] = None,
    k: Annotated[int, typer.Option(help="Neighbours per text for kNN candidates.")] = 30,
    knn_method: Annotated[
        str,
        typer.Option(help="kNN search: auto (exact below 20k rows, else HNSW), exact, hnsw, ivf."),
    ] = "auto",
    minhash_threshold: Annotated[
        float, typer.Option(help="Jaccard level at which MinHash-LSH proposes a pair.")
    ] = 0.5,
    scorer: Annotated[
        str,
        typer.Option(
            help="Pair score: default (lexical + embedding), lexical, embedding, or a folder "
            "made by `neardup train scorer` (its threshold is used unless --threshold is given)."
        ),
    ] = "default",
    representative: Annotated[
        str, typer.Option(help="Which row represents a group: first, longest or central.")
    ] = "first",
    against: Annotated[
        Optional[Path],
        typer.Option(help="Train file: report INPUT rows that duplicate a row of it (leakage)."),
    ] = None,
    link_across: Annotated[
        Optional[str],
        typer.Option(
            "--link-across",
            help="Column naming each row's source; link only rows from different sources "
            "(record linkage between shops or data sets).",
        ),
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Encoding batch size.")] = 64,
    fmt: FormatOpt = None,
    encoding: EncodingOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Find groups of near-duplicates in INPUT and keep one row per group."""
    from neardup.dedup import Deduplicator
    from neardup.io import atomic_output_dir, detect_format, write_table

    collection = _load(input, text, id, fmt, encoding)
    in_format = detect_format(input, fmt)
    dd = Deduplicator(
        _model_arg(model),
        threshold=_threshold_arg(threshold),
        candidates=candidates or None,
        k=k,
        knn_method=knn_method,
        minhash_threshold=minhash_threshold,
        scorer=scorer,
        cluster=method,
        representative=representative,
        batch_size=batch_size,
        show_progress=not quiet,
    )
    if collection.empty_rows:
        console.print(
            f"[yellow]{len(collection.empty_rows)} row(s) have empty text (first: row "
            f"{collection.empty_rows[0]}); they are kept as singletons.[/yellow]"
        )
    if against is not None:
        train = _load(against, text, id, None, encoding)
        leaks = dd.find_leaks(
            collection.texts, train.texts, test_ids=collection.ids, train_ids=train.ids
        )
        matches = leaks.matches_frame()
        texts_by_test = dict(zip(collection.ids, collection.texts))
        texts_by_train = dict(zip(train.ids, train.texts))
        matches["test_text"] = [texts_by_test[i] for i in matches["test_id"]]
        matches["train_text"] = [texts_by_train[i] for i in matches["train_id"]]
        clean = collection.frame.loc[~leaks.is_leaked]
        with atomic_output_dir(output) as stage:
            write_table(matches, stage / "leaks.csv", "csv")
            write_table(clean, stage / f"clean.{_ext(in_format)}", in_format)
        table = Table(title="neardup dedup --against", show_header=False)
        table.add_row("test rows", str(len(collection.ids)))
        table.add_row("train rows", str(len(train.ids)))
        table.add_row("test rows leaked from train", str(leaks.n_leaked))
        table.add_row("threshold", f"{leaks.threshold.value:.4f} ({leaks.threshold.source})")
        table.add_row("model / scorer", f"{leaks.model} / {leaks.scorer}")
        table.add_row("time", _timings_line(leaks.timings))
        table.add_row("outputs", f"{output}/leaks.csv, {output}/clean.{_ext(in_format)}")
        out.print(table)
        return

    sources = None
    if link_across is not None:
        if link_across not in collection.frame.columns:
            raise InputError(
                f"{input}: no column {link_across!r} for --link-across; columns are "
                f"{', '.join(map(str, collection.frame.columns))}"
            )
        sources = collection.frame[link_across].astype(str).tolist()
    result = dd.deduplicate(collection.texts, collection.ids, sources=sources)
    deduplicated = collection.frame.loc[result.is_representative]
    with atomic_output_dir(output) as stage:
        write_table(result.clusters_frame(), stage / "clusters.csv", "csv")
        write_table(result.pairs_frame(), stage / "pairs.csv", "csv")
        write_table(deduplicated, stage / f"deduplicated.{_ext(in_format)}", in_format)
        (stage / "summary.json").write_text(json.dumps(_summary(result), indent=2))
    table = Table(title="neardup dedup", show_header=False)
    table.add_row("rows", str(result.n_rows))
    table.add_row("groups of duplicates", str(result.n_duplicate_groups))
    table.add_row("rows kept", str(result.n_rows - result.n_removed))
    table.add_row("rows removed", str(result.n_removed))
    if result.empty_rows:
        table.add_row("empty rows (kept)", str(len(result.empty_rows)))
    table.add_row("candidate pairs", str(result.n_candidates))
    table.add_row("threshold", f"{result.threshold.value:.4f} ({result.threshold.source})")
    table.add_row("model / scorer / clustering", f"{result.model} / {result.scorer} / {result.cluster_method}")
    table.add_row("time", _timings_line(result.timings))
    table.add_row("outputs", f"{output}/clusters.csv, pairs.csv, deduplicated.{_ext(in_format)}")
    out.print(table)
    if result.threshold.source.startswith("auto"):
        console.print(
            f"Reuse this threshold with --threshold {result.threshold.value:.4f}, "
            "or tune it on labelled data with `neardup evaluate`."
        )


def _ext(fmt: str) -> str:
    return {"csv": "csv", "tsv": "tsv", "jsonl": "jsonl", "parquet": "parquet"}[fmt]


def _summary(result) -> dict:
    return {
        "rows": result.n_rows,
        "duplicate_groups": result.n_duplicate_groups,
        "rows_removed": result.n_removed,
        "empty_rows": result.empty_rows,
        "candidate_pairs": result.n_candidates,
        "threshold": result.threshold.value,
        "threshold_source": result.threshold.source,
        "model": result.model,
        "scorer": result.scorer,
        "cluster_method": result.cluster_method,
        "timings_s": result.timings,
    }


# --------------------------------------------------------------------------------------------
# index and search
# --------------------------------------------------------------------------------------------


@index_app.command("build")
def index_build(
    input: Annotated[Path, typer.Argument(help="CSV, TSV, JSONL or Parquet file.")],
    text: TextOpt = [],  # noqa: B006
    id: IdOpt = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Index folder.")] = Path(
        "neardup-index"
    ),
    model: ModelOpt = None,
    index_type: Annotated[str, typer.Option(help="auto, flat or hnsw.")] = "auto",
    batch_size: Annotated[int, typer.Option(help="Encoding batch size.")] = 64,
    fmt: FormatOpt = None,
    encoding: EncodingOpt = None,
) -> None:
    """Encode INPUT and save a search index folder."""
    from neardup.index import Index
    from neardup.models import load_encoder

    collection = _load(input, text, id, fmt, encoding)
    name = _model_arg(model)
    if name is None:
        raise InputError("an index needs a model; drop --model none")
    metadata = collection.frame.drop(columns=[c for c in text if c in collection.frame.columns])
    if id is not None:
        metadata = metadata.drop(columns=[id])
    index = Index.build(
        collection.texts,
        collection.ids,
        load_encoder(name),
        metadata=metadata.reset_index(drop=True) if len(metadata.columns) else None,
        index_type=index_type,
        batch_size=batch_size,
        show_progress=True,
    )
    index.save(output)
    out.print(f"Indexed {len(index)} texts with {name} into {output}")


@index_app.command("add")
def index_add(
    index_dir: Annotated[Path, typer.Argument(help="Index folder.")],
    input: Annotated[Path, typer.Argument(help="File with the rows to add.")],
    text: TextOpt = [],  # noqa: B006
    id: IdOpt = None,
    fmt: FormatOpt = None,
    encoding: EncodingOpt = None,
) -> None:
    """Add the rows of INPUT to an index (ids must be new)."""
    from neardup.index import Index

    index = Index.load(index_dir)
    collection = _load(input, text, id, fmt, encoding)
    if id is None:
        raise InputError("index add needs --id: row numbers would collide with existing ids")
    metadata = collection.frame.drop(columns=[c for c in [*text, id] if c in collection.frame.columns])
    index.add(
        collection.texts,
        collection.ids,
        metadata=metadata.reset_index(drop=True) if len(metadata.columns) else None,
    )
    index.save(index_dir)
    out.print(f"Added {len(collection.ids)} texts; the index now holds {len(index)}")


@index_app.command("remove")
def index_remove(
    index_dir: Annotated[Path, typer.Argument(help="Index folder.")],
    ids: Annotated[list[str], typer.Argument(help="Ids to remove.")],
    missing_ok: Annotated[bool, typer.Option(help="Ignore ids that are not in the index.")] = False,
) -> None:
    """Remove items by id."""
    from neardup.index import Index

    index = Index.load(index_dir)
    removed = index.remove(ids, missing_ok=missing_ok)
    index.save(index_dir)
    out.print(f"Removed {removed} texts; the index now holds {len(index)}")


@app.command()
def search(
    index_dir: Annotated[Path, typer.Argument(help="Index folder built by `neardup index build`.")],
    query: Annotated[list[str], typer.Argument(help="One or more query texts.")],
    k: Annotated[int, typer.Option("-k", help="Results per query.")] = 5,
    model: Annotated[
        Optional[str],
        typer.Option("--model", "-m", help="Model (must be the index's; default: from its manifest)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """Return the items most similar to each QUERY."""
    from neardup.index import Index

    encoder = None
    if model is not None:
        from neardup.models import load_encoder

        encoder = load_encoder(model)
    index = Index.load(index_dir, encoder=encoder)
    results = index.search(list(query), k=k)
    for q, hits in zip(query, results):
        if as_json:
            for rank, hit in enumerate(hits, 1):
                record = {"query": q, "rank": rank, "id": hit.id, "score": round(float(hit.score), 6),
                          "text": hit.text, "metadata": hit.metadata}
                # one JSON object per line (JSON Lines), for pipes and jq
                typer.echo(json.dumps(record, ensure_ascii=False, default=str))
            continue
        table = Table(title=f"query: {q}")
        table.add_column("#", justify="right")
        table.add_column("id")
        table.add_column("score", justify="right")
        table.add_column("text")
        for rank, hit in enumerate(hits, 1):
            table.add_row(str(rank), str(hit.id), f"{hit.score:.4f}", hit.text)
        out.print(table)


# --------------------------------------------------------------------------------------------
# train
# --------------------------------------------------------------------------------------------


@train_app.command("scorer")
def train_scorer(
    data: Annotated[Path, typer.Argument(help="Labelled pairs: CSV, TSV, JSONL or Parquet.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder to save the scorer in.")],
    model: ModelOpt = None,
    text1: Annotated[str, typer.Option("--text1", help="First text column.")] = "text1",
    text2: Annotated[str, typer.Option("--text2", help="Second text column.")] = "text2",
    label: Annotated[
        str, typer.Option("--label", help="Label column (1 duplicate, 0 not).")
    ] = "label",
    classifier: Annotated[
        str, typer.Option(help="gbdt (gradient-boosted trees) or logistic.")
    ] = "gbdt",
    dev_fraction: Annotated[
        float, typer.Option(help="Share of pairs held out to pick the threshold and measure.")
    ] = 0.2,
    seed: Annotated[int, typer.Option(help="Seed of the held-out split.")] = 0,
    batch_size: Annotated[int, typer.Option(help="Encoding batch size.")] = 64,
) -> None:
    """Learn a pair scorer from labelled pairs; use it with `neardup dedup --scorer DIR`."""
    from neardup.train.scorer import train_pair_scorer

    report = train_pair_scorer(
        data, model_name=_model_arg(model), text1_col=text1, text2_col=text2, label_col=label,
        dev_fraction=dev_fraction, seed=seed, classifier=classifier, output=output,
        batch_size=batch_size, show_progress=True,
    )
    table = Table(
        title=f"neardup train scorer ({report.n_pairs} pairs, {report.n_positive} positive; "
        f"held out {report.n_dev})"
    )
    for col in ("scorer", "AP", "F1", "precision", "recall", "threshold"):
        table.add_column(col, justify="left" if col == "scorer" else "right")
    for name, m in report.rows():
        table.add_row(name, f"{m.ap:.4f}", f"{m.f1:.4f}", f"{m.precision:.4f}",
                      f"{m.recall:.4f}", f"{m.threshold:.4f}")
    out.print(table)
    out.print(
        f"model {report.model_name or 'none'}; encode {report.encode_seconds:.1f}s, train "
        f"{report.train_seconds:.1f}s. Saved to {output}; use it with `neardup dedup FILE "
        f"--scorer {output} --model {model or report.model_name or 'none'}` "
        f"(links at {report.scorer.threshold_:.4f} unless --threshold is given)"
    )


# --------------------------------------------------------------------------------------------
# evaluate, models, sample
# --------------------------------------------------------------------------------------------


@app.command()
def evaluate(
    data: Annotated[Path, typer.Argument(help="Pairs/groups file, or a BEIR folder.")],
    task: Annotated[
        str, typer.Option(help="pairs, groups or retrieval (default: detected).")
    ] = "auto",
    model: ModelOpt = None,
    scorer: Annotated[str, typer.Option(help="Pair score: default, lexical, embedding.")] = "default",
    method: Annotated[str, typer.Option(help="Clustering for groups.")] = "agglomerative",
    text: Annotated[
        Optional[str], typer.Option("--text", help="Text column (groups) or first text (pairs).")
    ] = None,
    text2: Annotated[Optional[str], typer.Option("--text2", help="Second text column (pairs).")] = None,
    label: Annotated[Optional[str], typer.Option("--label", help="Label column.")] = None,
    fmt: FormatOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
) -> None:
    """Measure quality on labelled data and print the threshold that maximises F1."""
    from neardup.evaluate.run import run_evaluation

    report = run_evaluation(
        data, task=task, model=_model_arg(model), scorer=scorer, cluster=method, fmt=fmt,
        text_col=text, text2_col=text2, label_col=label, show_progress=not as_json,
    )
    if as_json:
        typer.echo(json.dumps(report.as_dict(), default=float, indent=2))
        return
    table = Table(title=f"neardup evaluate ({report.task}, {report.n_items} items)")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in report.metrics.items():
        is_count = name.split("@")[0].startswith(("n_", "pair_tp", "pair_fp", "pair_fn"))
        shown = str(int(value)) if is_count else (
            f"{value:.4f}" if isinstance(value, float) else str(value)
        )
        table.add_row(name, shown)
    out.print(table)
    if report.best_threshold is not None:
        out.print(
            f"Best threshold: {report.best_threshold:.4f} — use it with "
            f"`neardup dedup … --threshold {report.best_threshold:.4f}`"
        )


@app.command()
def models() -> None:
    """List the model presets that work offline."""
    from neardup.models import DEFAULT_MODEL, PRESETS

    table = Table(title="model presets")
    for col in ("name", "aliases", "dim", "languages", "description"):
        table.add_column(col)
    for name, preset in PRESETS.items():
        mark = " (default)" if name == DEFAULT_MODEL else ""
        table.add_row(
            name + mark,
            ", ".join(getattr(preset, "aliases", ())),
            str(getattr(preset, "dim", "")),
            str(getattr(preset, "languages", "")),
            str(getattr(preset, "description", "")),
        )
    out.print(table)


@app.command()
def sample(
    output: Annotated[Path, typer.Argument(help="Folder to write the sample into.")] = Path("sample"),
) -> None:
    """Write a small multilingual sample collection with known duplicate groups."""
    from neardup.sample import write_sample

    files = write_sample(output)
    out.print(
        f"Wrote {files.news} ({files.n_rows} rows, {files.n_groups} true groups; columns "
        "id, title, source, group)"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the command line and return its exit code (2 for user errors)."""
    import click

    try:
        app(args=argv, prog_name="neardup", standalone_mode=False)
    except NeardupError as exc:
        console.print(f"[bold red]error:[/bold red] {exc}", highlight=False, soft_wrap=True)
        return 2
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        console.print("aborted")
        return 130
    return 0


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    run()
