"""The ``neardup`` command: a thin layer over the library.

Each subcommand parses options, calls one library entry point and prints a summary. User
errors (``NeardupError``) print one clear message and exit with code 2; nothing is written
unless the whole job succeeded.
"""

from __future__ import annotations

import contextlib
import json
import math
import sys
import warnings
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from neardup.errors import InputError, NeardupError, ResultWarning
from neardup.rerank.pipeline import DEFAULT_FLOOR, DEFAULT_TOP_K  # shown in --help as is

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

# No console markup: paths, column names and texts are printed as they are ("export [v2].csv"
# must not lose its brackets, and "[/b]" in a column name must not crash the summary).
console = Console(stderr=True, markup=False)
out = Console(markup=False)

ModelOpt = Annotated[
    Optional[str],
    typer.Option(
        "--model",
        "-m",
        help="Preset name, sentence-transformers folder or Hugging Face id "
        "(default: multilingual-e5-small). 'none' for a lexical-only pipeline.",
    ),
]
# an index is a vector index: it has no lexical-only form
IndexModelOpt = Annotated[
    Optional[str],
    typer.Option(
        "--model",
        "-m",
        help="Preset name, sentence-transformers folder or Hugging Face id "
        "(default: multilingual-e5-small).",
    ),
]
Bf16Opt = Annotated[
    bool,
    typer.Option("--bf16", help="bfloat16 mixed precision: ~1.5x faster steps on CPUs with "
                 "AVX-512 BF16 and on recent GPUs; the saved model stays float32."),
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
SepOpt = Annotated[
    Optional[str],
    typer.Option("--sep", help="Field separator of CSV/TSV input (default: ',' or tab)."),
]


def _model_arg(model: str | None) -> str | None:
    from neardup.models import DEFAULT_MODEL

    if model is None:
        return DEFAULT_MODEL
    return None if model.strip().lower() == "none" else model


def _threshold_arg(value: str) -> float | str:
    if value == "auto":
        return "auto"
    try:
        return float(value)
    except ValueError:
        raise InputError(f"--threshold must be a number or 'auto', got {value!r}") from None


def _load(path: Path, text: list[str], id_col: str | None, fmt: str | None, encoding: str | None,
          sep: str | None = None):
    from neardup.io import load_collection, read_table

    if not text:
        raise InputError(f"{path}: give at least one --text COLUMN naming the text to compare")
    frame = read_table(path, fmt, encoding=encoding, sep=sep)
    return load_collection(frame, list(text), id_col, source=str(path))


def _format_of(path: Path, fmt: str | None, input_path: Path) -> str | None:
    """The --against file's format: its own extension's, so a CSV and a Parquet file can be
    compared; --format where the extension says nothing (a test.txt / train.txt pair) or is
    INPUT's own (--format tsv for a tab-separated test.csv means the same for train.csv)."""
    from neardup.io import detect_format

    try:
        own = detect_format(path, None)
    except InputError:
        return fmt
    try:
        same = detect_format(input_path, None) == own
    except InputError:
        same = False
    return fmt if fmt is not None and same else own


def _against_table(path: Path, fmt: str | None, encoding: str | None, sep: str | None,
                   input_fmt: str, id_col: str | None, id_given: bool):
    """Read the --against file. --sep belongs to INPUT's format: a TSV train file beside a
    ';'-separated test.csv keeps its tabs."""
    from neardup.io import detect_format, read_table

    own = detect_format(path, fmt)
    frame = read_table(path, fmt, encoding=encoding, sep=sep if own == input_fmt else None)
    if id_col is not None and not id_given and id_col not in frame.columns:
        raise InputError(
            f"{path}: no column {id_col!r} (the --id of INPUT, which --against-id defaults "
            f"to). Name its id column with --against-id COLUMN, or number its rows with "
            "--against-id ''."
        )
    return frame


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
        typer.Option(help="kNN search: auto (exact below 20k rows, else IVF), exact, hnsw, ivf."),
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
    against_text: Annotated[
        Optional[list[str]],
        typer.Option("--against-text", help="Text column(s) of the --against file (default: "
                     "the --text columns)."),
    ] = None,
    against_id: Annotated[
        Optional[str],
        typer.Option("--against-id", help="Id column of the --against file (default: --id, "
                     "or the row number; '' numbers its rows)."),
    ] = None,
    link_across: Annotated[
        Optional[str],
        typer.Option(
            "--link-across",
            help="Column naming each row's source; link only rows from different sources "
            "(record linkage between shops or data sets).",
        ),
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Encoding batch size.")] = 64,
    rerank: Annotated[
        Optional[Path],
        typer.Option(
            "--rerank",
            help="Cross-encoder folder from `neardup train cross-encoder`: re-score the "
            "candidate pairs with it and link on its scores (at its calibrated threshold).",
        ),
    ] = None,
    rerank_threshold: Annotated[
        Optional[float],
        typer.Option(help="Link threshold on re-ranker scores (default: the calibrated one)."),
    ] = None,
    rerank_floor: Annotated[
        float,
        typer.Option(help="Re-rank every candidate whose first-stage score reaches this."),
    ] = DEFAULT_FLOOR,
    rerank_top_k: Annotated[
        int, typer.Option(help="Also re-rank each text's k best candidates, whatever their score.")
    ] = DEFAULT_TOP_K,
    rerank_max_pairs: Annotated[
        Optional[int],
        typer.Option(help="Re-rank at most this many pairs (the best first); the rest are not linked."),
    ] = None,
    rerank_batch_size: Annotated[int, typer.Option(min=1, help="Pairs per re-ranker batch.")] = 32,
    fmt: FormatOpt = None,
    encoding: EncodingOpt = None,
    sep: SepOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Find groups of near-duplicates in INPUT and keep one row per group."""
    from neardup.dedup import Deduplicator
    from neardup.io import atomic_output_dir, detect_format, write_table

    collection = _load(input, text, id, fmt, encoding, sep)
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
        rerank=rerank,
        rerank_threshold=rerank_threshold,
        rerank_floor=rerank_floor,
        rerank_top_k=rerank_top_k,
        rerank_max_pairs=rerank_max_pairs,
        rerank_batch_size=rerank_batch_size,
    )
    if collection.empty_rows:
        console.print(
            f"{len(collection.empty_rows)} row(s) have empty text (first: row "
            f"{collection.empty_rows[0]}); they are kept as singletons.", style="yellow"
        )
    if against is not None:
        if link_across is not None:
            raise InputError("--link-across links rows within one collection; with --against "
                             "every pair already joins INPUT to the --against file: drop it.")
        unused = [flag for flag, value, default in (
            ("--method", method, "agglomerative"), ("--representative", representative, "first"),
        ) if value != default]
        if unused:
            # leak detection links each test row to its best train match: nothing is clustered
            raise InputError(f"{unused[0]} shapes groups, and --against forms none (each test "
                             "row is matched to train rows): drop it.")
        from neardup.io import load_collection

        train_id = against_id if against_id is not None else id
        train_frame = _against_table(against, _format_of(against, fmt, input), encoding, sep,
                                     in_format, train_id, against_id is not None)
        train = load_collection(
            train_frame, list(against_text or text), train_id or None, source=str(against),
            # the train file's columns are named by these options, and dropping --id would
            # renumber the test file's ids too
            text_option="--against-text", id_option="--against-id",
            no_id="pass --against-id ''",
        )
        with _noted_in_summary():
            leaks = dd.find_leaks(
                collection.texts, train.texts, test_ids=collection.ids, train_ids=train.ids
            )
        matches = leaks.matches_frame()
        texts_by_test = dict(zip(collection.ids, collection.texts))
        texts_by_train = dict(zip(train.ids, train.texts))
        matches["test_text"] = [texts_by_test[i] for i in matches["test_id"]]
        matches["train_text"] = [texts_by_train[i] for i in matches["train_id"]]
        clean = collection.frame.loc[~leaks.is_leaked]
        with atomic_output_dir(output, ledger=True, keep=(input, against)) as stage:
            write_table(matches, stage / "leaks.csv", "csv")
            write_table(clean, stage / f"clean.{_ext(in_format)}", in_format, sep=sep)
        table = Table(title="neardup dedup --against", show_header=False)
        table.add_row("test rows", str(len(collection.ids)))
        table.add_row("train rows", str(len(train.ids)))
        table.add_row("test rows leaked from train", str(leaks.n_leaked))
        table.add_row("threshold", _threshold_cell(leaks.threshold))
        table.add_row("model / scorer", f"{leaks.model or 'none (lexical only)'} / {leaks.scorer}")
        if leaks.rerank is not None:
            table.add_row("re-ranked", _rerank_line(leaks.rerank))
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
        import numpy as np

        column = collection.frame[link_across]
        missing = np.flatnonzero(column.isna().to_numpy() | (column.astype(str).str.strip() == "")
                                 .to_numpy())
        if missing.size:
            # as the string "nan" they would all be one source, never linked to each other
            shown = ", ".join(str(r) for r in missing[:5].tolist())
            raise InputError(
                f"{input}: column {link_across!r} (--link-across) is empty in {missing.size} "
                f"row{'s' if missing.size > 1 else ''} ({'e.g. ' if missing.size > 5 else ''}"
                f"{shown}; rows counted from 0); every row needs the source it came from: fill "
                "them in"
            )
        sources = column.astype(str).tolist()
    with _noted_in_summary():
        result = dd.deduplicate(collection.texts, collection.ids, sources=sources)
    deduplicated = collection.frame.loc[result.is_representative]
    with atomic_output_dir(output, ledger=True, keep=(input,)) as stage:
        write_table(result.clusters_frame(), stage / "clusters.csv", "csv")
        write_table(result.pairs_frame(), stage / "pairs.csv", "csv")
        write_table(deduplicated, stage / f"deduplicated.{_ext(in_format)}", in_format, sep=sep)
        (stage / "summary.json").write_text(
            json.dumps(_json_safe(_summary(result)), indent=2, allow_nan=False))
    table = Table(title="neardup dedup", show_header=False)
    table.add_row("rows", str(result.n_rows))
    table.add_row("groups of duplicates", str(result.n_duplicate_groups))
    table.add_row("rows kept", str(result.n_rows - result.n_removed))
    table.add_row("rows removed", str(result.n_removed))
    if result.empty_rows:
        table.add_row("empty rows (kept)", str(len(result.empty_rows)))
    table.add_row("candidate pairs", str(result.n_candidates))
    table.add_row("threshold", _threshold_cell(result.threshold))
    table.add_row("model / scorer / clustering",
                  f"{result.model or 'none (lexical only)'} / {result.scorer} / "
                  f"{result.cluster_method}")
    if result.rerank is not None:
        table.add_row("re-ranked", _rerank_line(result.rerank))
    if result.n_rows_at_k:
        table.add_row("warning", f"{result.n_rows_at_k} texts have --k {k} or more linked "
                                 "candidates: larger groups may be split; rerun with a larger --k "
                                 "(or a higher --threshold if groups should be small)")
    table.add_row("time", _timings_line(result.timings))
    table.add_row("outputs", f"{output}/clusters.csv, pairs.csv, deduplicated."
                             f"{_ext(in_format)}, summary.json")
    out.print(table)
    if result.threshold.source.startswith("auto") and math.isfinite(result.threshold.value):
        console.print(
            # the value as used: a rounded one could sit above a pair this run linked
            f"Reuse this threshold with --threshold {result.threshold.value!r}, "
            "or tune it on labelled data with `neardup evaluate`."
        )


@contextlib.contextmanager
def _noted_in_summary():
    """Hide the library's warnings that the summary table states, with the option to change
    (a Python warning would print them again with a source line)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResultWarning)
        yield


def _json_safe(value):
    """``value`` ready for strict JSON (numpy unwrapped, NaN and infinity as null)."""
    from neardup.io.values import plain_value

    return plain_value(value)


def _threshold_cell(info) -> str:
    if not math.isfinite(info.value):
        return f"none: no candidate pairs to link ({info.source})"
    return f"{info.value:.4f} ({info.source})"


def _rerank_line(stats) -> str:
    line = (
        f"{stats.n_scored} of {stats.n_candidates} candidate pairs by {stats.model} "
        f"({stats.n_below_floor} below floor {stats.floor:g} and outside each text's top "
        f"{stats.top_k})"
    )
    if stats.n_over_limit:
        line += f"; {stats.n_over_limit} more cut by --rerank-max-pairs {stats.max_pairs}"
    return line


def _ext(fmt: str) -> str:
    return {"csv": "csv", "tsv": "tsv", "jsonl": "jsonl", "parquet": "parquet"}[fmt]


def _summary(result) -> dict:
    return {
        "rows": result.n_rows,
        "duplicate_groups": result.n_duplicate_groups,
        "rows_removed": result.n_removed,
        "empty_rows": result.empty_rows,
        "candidate_pairs": result.n_candidates,
        "threshold": result.threshold.value,  # NaN (nothing to link) is written as null
        "threshold_source": result.threshold.source,
        "model": result.model,
        "scorer": result.scorer,
        "cluster_method": result.cluster_method,
        "rerank": None if result.rerank is None else result.rerank.as_dict(),
        "rows_at_k": result.n_rows_at_k,
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
    model: IndexModelOpt = None,
    index_type: Annotated[str, typer.Option(help="auto, flat or hnsw.")] = "auto",
    batch_size: Annotated[int, typer.Option(min=1, help="Encoding batch size.")] = 64,
    fmt: FormatOpt = None,
    encoding: EncodingOpt = None,
    sep: SepOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Encode INPUT and save a search index folder."""
    from neardup.index import Index
    from neardup.index.core import MANIFEST_FILE
    from neardup.io.atomic import check_output_folder
    from neardup.models import load_encoder

    # before reading and encoding anything: save() would refuse this folder at the end
    check_output_folder(output, MANIFEST_FILE, "search index", "neardup index build")
    collection = _load(input, text, id, fmt, encoding, sep)
    name = _model_arg(model)
    if name is None:
        raise InputError("an index needs a model; drop --model none")
    metadata = _index_metadata(collection.frame, text, id, input)
    index = Index.build(
        collection.texts,
        collection.ids,
        load_encoder(name),
        metadata=metadata.reset_index(drop=True) if len(metadata.columns) else None,
        index_type=index_type,
        batch_size=batch_size,
        show_progress=not quiet,
    )
    index.save(output)
    out.print(f"Indexed {len(index)} texts with {name} into {output}")


def _index_metadata(frame, text: list[str], id_col: str | None, source: Path):
    """The columns an index keeps as metadata: all but the text and id columns. Checked here,
    before the model loads, for names the index keeps for itself."""
    from neardup.index.core import RESERVED_COLUMNS

    metadata = frame.drop(columns=[c for c in [*text, id_col] if c is not None and c in frame])
    clash = [str(c) for c in metadata.columns if str(c) in RESERVED_COLUMNS]
    if clash:
        hint = (" Pass --id id if that column holds the ids." if "id" in clash and id_col is None
                else "")
        raise InputError(
            f"{source}: column {clash[0]!r} is neither the --text nor the --id column, and the "
            f"index cannot keep it as metadata: it stores {', '.join(map(repr, RESERVED_COLUMNS))} "
            f"itself.{hint} Otherwise rename or drop the column."
        )
    return metadata


@index_app.command("add")
def index_add(
    index_dir: Annotated[Path, typer.Argument(help="Index folder.")],
    input: Annotated[Path, typer.Argument(help="File with the rows to add.")],
    text: TextOpt = [],  # noqa: B006
    id: IdOpt = None,
    fmt: FormatOpt = None,
    encoding: EncodingOpt = None,
    sep: SepOpt = None,
) -> None:
    """Add the rows of INPUT to an index (ids must be new)."""
    from neardup.index import Index

    index = Index.load(index_dir)
    collection = _load(input, text, id, fmt, encoding, sep)
    if id is None:
        raise InputError("index add needs --id: row numbers would collide with existing ids")
    metadata = _index_metadata(collection.frame, text, id, input)
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
                typer.echo(json.dumps(_json_safe(record), ensure_ascii=False, default=str,
                                      allow_nan=False))
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
    batch_size: Annotated[int, typer.Option(min=1, help="Encoding batch size.")] = 64,
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


@train_app.command("bi-encoder")
def train_bi_encoder_cmd(
    data: Annotated[Path, typer.Argument(help="Training data: CSV, TSV, JSONL or Parquet.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder to save the model in.")],
    model: Annotated[
        Optional[str],
        typer.Option("--model", "-m", help="Base model: preset name or sentence-transformers "
                     "folder (default: multilingual-e5-small)."),
    ] = None,
    task: Annotated[
        str, typer.Option(help="pairs (text1,text2,label 0/1), scored (text1,text2,score: graded "
                          "similarity), positives (query,positive[,negative]), groups "
                          "(text,label), texts (one column), or auto.")
    ] = "auto",
    columns: Annotated[
        Optional[str],
        typer.Option(help="Comma-separated columns for the task's roles, in order "
                     "(e.g. --task scored --columns s1,s2,similarity)."),
    ] = None,
    loss: Annotated[
        Optional[str],
        typer.Option(help="pairs: online-contrastive, contrastive, cosent; scored: cosent; "
                     "positives: mnrl, "
                     "triplet-mean-closest; groups: multi-similarity, triplet, "
                     "triplet-mean-closest; texts: simcse (default: the first)."),
    ] = None,
    dev: Annotated[
        Optional[Path], typer.Option(help="Labelled dev file (default: a split of DATA).")
    ] = None,
    dev_fraction: Annotated[
        float, typer.Option(help="Share held out for dev when --dev is not given; 0 for none.")
    ] = 0.2,
    epochs: Annotated[float, typer.Option(help="Passes over the training data.")] = 1.0,
    max_steps: Annotated[
        Optional[int], typer.Option(help="Stop after this many steps (overrides --epochs).")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Training batch size.")] = 32,
    lr: Annotated[
        Optional[float],
        typer.Option("--lr", help="Learning rate (default 2e-5; 2e-4 with --lora; 1e-3 bilstm)."),
    ] = None,
    warmup_ratio: Annotated[float, typer.Option(help="Share of steps with rising LR.")] = 0.1,
    max_length: Annotated[
        Optional[int], typer.Option(help="Truncate texts to this many tokens.")
    ] = None,
    margin: Annotated[
        Optional[float], typer.Option(help="Margin of contrastive/triplet losses (cosine).")
    ] = None,
    hard_negatives: Annotated[
        int, typer.Option(help="Mine this many hard negatives per query (positives task).")
    ] = 0,
    lora: Annotated[bool, typer.Option(help="Train LoRA adapters (merged when saving).")] = False,
    lora_rank: Annotated[int, typer.Option(help="LoRA rank.")] = 8,
    freeze_embeddings: Annotated[
        bool, typer.Option(help="Freeze the word-embedding matrix (e5-small: 82% of its "
                           "weights): less optimiser memory, somewhat faster steps.")
    ] = False,
    architecture: Annotated[
        str, typer.Option(help="transformer (fine-tune --model) or bilstm (from scratch).")
    ] = "transformer",
    patience: Annotated[
        Optional[int], typer.Option(help="Stop after this many evaluations without gain.")
    ] = None,
    eval_steps: Annotated[
        Optional[int], typer.Option(help="Evaluate every N steps (default: every epoch).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the split, sampling and initialisation.")] = 0,
    device: Annotated[
        Optional[str], typer.Option(help="cpu, cuda or mps (default: cuda when available).")
    ] = None,
    fmt: FormatOpt = None,
    encoding: EncodingOpt = None,
    bf16: Bf16Opt = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Fine-tune a sentence embedding model; use it with --model DIR everywhere."""
    from neardup.models import DEFAULT_MODEL
    from neardup.train.bi_encoder import BiEncoderOptions, train_bi_encoder

    if model is not None and architecture == "bilstm":
        raise InputError("--model and --architecture bilstm exclude each other: the BiLSTM is "
                         "trained from scratch. Drop --model.")
    options = BiEncoderOptions(
        model=model or DEFAULT_MODEL, architecture=architecture,  # type: ignore[arg-type]
        task=task, loss=loss, margin=margin, epochs=epochs, max_steps=max_steps,
        columns=None if columns is None else tuple(c.strip() for c in columns.split(",")),
        batch_size=batch_size, learning_rate=lr, warmup_ratio=warmup_ratio,
        max_length=max_length, seed=seed, dev_fraction=dev_fraction, patience=patience,
        eval_steps=eval_steps, hard_negatives=hard_negatives, lora=lora, lora_rank=lora_rank,
        freeze_embeddings=freeze_embeddings, device=device, bf16=bf16,
    )
    result = train_bi_encoder(data, output, options, dev=dev, fmt=fmt, encoding=encoding,
                              show_progress=not quiet)
    table = Table(title=f"neardup train bi-encoder ({result.task}, loss {result.loss}; "
                  f"{result.n_train} train / {result.n_dev} dev rows)")
    if result.primary_metric is not None:
        table.add_column("dev metric")
        table.add_column(f"base ({result.base_model})", justify="right")
        table.add_column("trained", justify="right")
        table.add_column("change", justify="right")
        for name, after in result.trained_metrics.items():
            before = result.base_metrics[name]
            mark = " *" if name == result.primary_metric else ""
            table.add_row(name + mark, f"{before:.4f}", f"{after:.4f}", f"{after - before:+.4f}")
        out.print(table)
        out.print(f"* selects the checkpoint. Dev set: {result.dev_source}"
                  + (f" ({result.shared_dev_texts} texts also in training)"
                     if result.shared_dev_texts else ""))
    else:
        out.print(table)
        out.print("No dev set (plain texts or --dev-fraction 0): nothing measured; pass a "
                  "labelled dev file with --dev to compare with the base model.")
    for note in result.notes:
        console.print(Text.assemble(("note:", "yellow"), f" {note}"))
    out.print(
        f"{result.steps} steps in {result.train_seconds:.1f}s ({result.seconds_per_step:.2f}s per "
        f"step on {result.device}, evaluation aside); {result.trainable_parameters:,} of "
        f"{result.total_parameters:,} parameters trained. Saved to {output}; use it with "
        f"`neardup dedup FILE --model {output}`."
    )


@train_app.command("cross-encoder")
def train_cross_encoder_cmd(
    data: Annotated[Path, typer.Argument(help="Labelled pairs: CSV, TSV, JSONL or Parquet.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder to save the model in.")],
    base_model: Annotated[
        str,
        typer.Option(
            "--base-model", help="Preset or local model folder to start from (never downloaded)."
        ),
    ] = "multilingual-e5-small",
    dev: Annotated[
        Optional[Path],
        typer.Option(help="Dev pairs file (default: hold out --dev-fraction of DATA)."),
    ] = None,
    text1: Annotated[str, typer.Option("--text1", help="First text column.")] = "text1",
    text2: Annotated[str, typer.Option("--text2", help="Second text column.")] = "text2",
    label: Annotated[
        str, typer.Option("--label", help="Label column (1 duplicate, 0 not).")
    ] = "label",
    epochs: Annotated[float, typer.Option(help="Passes over the training pairs.")] = 1.0,
    batch_size: Annotated[int, typer.Option(min=1, help="Pairs per training step.")] = 16,
    lr: Annotated[float, typer.Option("--lr", help="Peak learning rate.")] = 5e-5,
    warmup: Annotated[
        float, typer.Option(help="Warm-up: fraction of the steps if < 1, else steps.")
    ] = 0.1,
    max_length: Annotated[int, typer.Option(help="Tokens per pair (longer ones are cut).")] = 128,
    seed: Annotated[int, typer.Option(help="Seed of the split, the new head and the order.")] = 0,
    device: Annotated[
        Optional[str], typer.Option(help="cpu, cuda, cuda:1 … (default: CUDA if any).")
    ] = None,
    freeze_embeddings: Annotated[
        bool,
        typer.Option(
            "--freeze-embeddings",
            help="Do not train the token embeddings (96M of e5-small's 118M weights): less "
            "memory and faster steps on a CPU.",
        ),
    ] = False,
    hard_negatives: Annotated[
        int,
        typer.Option(help="Negatives mined per positive anchor from bi-encoder neighbours."),
    ] = 0,
    negatives_model: Annotated[
        Optional[str],
        typer.Option(help="Bi-encoder that mines them (default: the base model)."),
    ] = None,
    swap: Annotated[
        bool, typer.Option("--swap/--no-swap", help="Also train on each pair swapped.")
    ] = True,
    symmetric: Annotated[
        bool,
        typer.Option(
            "--symmetric/--no-symmetric",
            help="Score both orders of a pair and average (evaluation, calibration, re-ranking).",
        ),
    ] = True,
    dev_fraction: Annotated[
        float, typer.Option(help="Share of distinct pairs held out when no --dev is given.")
    ] = 0.2,
    eval_steps: Annotated[
        Optional[int], typer.Option(help="Measure dev AP every N steps (default: 4 per epoch).")
    ] = None,
    threads: Annotated[
        Optional[int], typer.Option(help="torch CPU threads (default: torch's choice).")
    ] = None,
    bf16: Bf16Opt = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Fine-tune a cross-encoder on labelled pairs; use it with `neardup dedup --rerank DIR`."""
    from neardup.train.cross_encoder import CrossEncoderOptions, train_cross_encoder

    options = CrossEncoderOptions(
        epochs=epochs, batch_size=batch_size, learning_rate=lr, warmup=warmup,
        max_length=max_length, seed=seed, device=device, freeze_embeddings=freeze_embeddings,
        hard_negatives=hard_negatives, negatives_model=negatives_model, swap_augment=swap,
        symmetric=symmetric, dev_fraction=dev_fraction, eval_steps=eval_steps, threads=threads,
        bf16=bf16,
    )
    result = train_cross_encoder(
        data, output, base_model=base_model, dev=dev, text1_col=text1, text2_col=text2,
        label_col=label, options=options, show_progress=not quiet,
    )
    table = Table(
        title=f"neardup train cross-encoder ({result.n_train_pairs} training pairs"
        f"{f' + {result.n_hard_negatives} mined negatives' if result.n_hard_negatives else ''}; "
        f"dev {result.n_dev_pairs} pairs, {result.n_dev_positive} positive)"
    )
    for col in ("dev scores", "AP", "F1", "precision", "recall", "threshold"):
        table.add_column(col, justify="left" if col == "dev scores" else "right")
    rows = [(f"before: {result.base_model} cosine", result.baseline),
            ("after: cross-encoder", result.trained)]
    for name, m in rows:
        if m is not None:
            table.add_row(name, f"{m.ap:.4f}", f"{m.f1:.4f}", f"{m.precision:.4f}",
                          f"{m.recall:.4f}", f"{m.threshold:.4f}")
    out.print(table)
    out.print(
        f"{result.steps} steps on {result.device} ({result.seconds_per_step:.2f}s per step, "
        f"{result.n_trainable_parameters:,} of {result.n_parameters:,} weights trained); best "
        f"dev AP at step {result.best_step}; {result.total_seconds:.0f}s in all. Saved to "
        f"{output}; use it with `neardup dedup FILE --rerank {output}` (links at "
        f"{result.threshold:.4f} unless --rerank-threshold is given)"
    )
    if result.best_step == 0 and result.steps > 0:
        console.print(Text.assemble(
            ("note:", "yellow"),
            " no training step beat the untrained model on the dev pairs, so the saved "
            "re-ranker is the untrained one: try more epochs, a lower --lr, or more pairs."))


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
        typer.echo(json.dumps(_json_safe(report.as_dict()), indent=2, allow_nan=False))
        return
    table = Table(title=f"neardup evaluate ({report.task}, {report.n_items} items)")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in report.metrics.items():
        is_count = name.split("@")[0].startswith(("n_", "pair_tp", "pair_fp", "pair_fn"))
        shown = str(int(value)) if is_count else (
            f"{value:.4f}" if isinstance(value, float) else str(value)
        )
        if name == "threshold" and report.task == "pairs" and report.best_threshold is not None:
            shown = repr(report.best_threshold)  # the exact cut, as printed below
        table.add_row(name, shown)
    out.print(table)
    if report.best_threshold is not None:
        # repr: the value as computed (a pairs threshold is already the shortest exact cut)
        out.print(
            f"Best threshold: {report.best_threshold!r} — use it with "
            f"`neardup dedup … --threshold {report.best_threshold!r}`"
        )
    elif report.task == "pairs":
        out.print("The best F1 here calls every pair a duplicate (threshold at or below 0): no "
                  "threshold separates the labels, so there is none to carry to dedup.")


@app.command()
def distill(
    model: Annotated[str, typer.Argument(help="Preset name or sentence-transformers folder.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder to write the model to.")],
    pca_dims: Annotated[
        int, typer.Option("--pca-dims", help="Vector size (PCA components); 0: no PCA.")
    ] = 256,
    device: Annotated[
        Optional[str], typer.Option(help="torch device for distilling (default: CUDA if any).")
    ] = None,
) -> None:
    """Distil a transformer into a static model (model2vec): fastest encoding, lower quality."""
    from neardup.models.static import distill as distill_model

    if pca_dims < 0:
        raise InputError(f"--pca-dims must be 0 (no PCA) or positive, got {pca_dims}")
    console.print(f"Distilling {model}: one forward pass per vocabulary token ...")
    result = distill_model(model, output, pca_dims=pca_dims or None, device=device)
    out.print(
        f"Wrote {result.folder}: {result.vocab_size} tokens x {result.dim} dims, distilled in "
        f"{result.seconds:.1f}s. Use it with `neardup dedup FILE --model {result.folder}`."
    )


@app.command()
def models() -> None:
    """List the model presets that work offline."""
    from neardup.models import DEFAULT_MODEL, PRESETS

    table = Table(title="model presets")
    # the name is what users copy: never cut it; the other columns fold
    longest = max(len(name) + len(" (default)") for name in PRESETS)
    table.add_column("name", no_wrap=True, min_width=longest)
    table.add_column("aliases")
    table.add_column("dim")
    for col in ("languages", "description"):  # long model ids are single words
        table.add_column(col, overflow="fold")
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
    out.print(
        "Backends: append @onnx or @onnx-int8 (onnxruntime, no torch) or @static (token "
        "vectors distilled with model2vec; fastest, lower quality) to a transformer preset, "
        "e.g. multilingual-e5-small@static. Each is built once into the cache on first use."
    )


@app.command()
def sample(
    output: Annotated[Path, typer.Argument(help="Folder to write the sample into.")] = Path("sample"),
) -> None:
    """Write a small multilingual sample collection with known duplicate groups."""
    from neardup.sample import write_sample

    files = write_sample(output)
    out.print(
        f"Wrote {files.news} ({files.n_rows} rows: {files.n_duplicate_groups} true groups of "
        f"duplicates and {files.n_groups - files.n_duplicate_groups} singletons; columns id, "
        "title, source, group)"
    )


@app.command()
def export(
    model: Annotated[str, typer.Argument(help="Preset name or sentence-transformers folder.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder to write.")],
    onnx: Annotated[
        bool,
        typer.Option("--onnx", help="Write an ONNX folder (the only format, so the default)."),
    ] = True,
    int8: Annotated[
        bool, typer.Option("--int8", help="Also write a dynamically int8-quantised graph.")
    ] = False,
) -> None:
    """Export a model to ONNX (onnxruntime, no torch at inference) and check its vectors."""
    from neardup.models.export import check_export, export_onnx

    del onnx  # accepted so that `neardup export MODEL --onnx` reads as documented
    folder = export_onnx(model, output, int8=int8)
    table = Table(title=f"{model} exported: cosine to the torch vectors on probe texts")
    for col in ("graph", "--model", "min cosine", "mean cosine"):
        table.add_column(col, overflow="fold")
    for quantised in (False, True) if int8 else (False,):
        try:
            check = check_export(model, folder, int8=quantised)
        except BaseException:
            import shutil

            # the folder is this run's own (export refuses an existing output); an export
            # whose vectors could not be checked is not left behind as if it were done
            shutil.rmtree(folder, ignore_errors=True)
            raise
        table.add_row(
            check.graph,
            # a folder holding both graphs loads the int8 one by default
            f"{folder}@onnx-int8" if quantised else f"{folder}@onnx" if int8 else str(folder),
            f"{check.min_cosine:.5f}",
            f"{check.mean_cosine:.5f}",
        )
    out.print(table)
    if int8:
        from neardup.models.onnx_encoder import OnnxManifest

        described = OnnxManifest.read(folder).extra.get("int8") or {}
        if described.get("weight_type") == "QUInt8":
            # Exact everywhere, but a VNNI CPU runs int8 weights faster: say where it came from.
            out.print(
                "int8 graph: uint8 weights, because this CPU (x86 without VNNI) saturates on "
                "int8 ones; on a CPU with VNNI, int8 weights run faster: quantise again there "
                f"with neardup.models.export.add_int8({str(folder)!r}, replace=True)."
            )
    out.print(f"Wrote {folder}")


def _click_exceptions() -> tuple[tuple[type, ...], tuple[type, ...], tuple[type, ...]]:
    """(usage errors, exits, aborts) of click and of the copy of click that newer typer
    releases vendor: their classes are unrelated to click's, so catching click's alone lets
    a mistyped option end in a traceback."""
    import click

    errors: set[type] = {click.ClickException}
    # typer.BadParameter is a UsageError, hence a ClickException, of whichever click typer uses
    errors.update(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")
    exits = {click.exceptions.Exit, typer.Exit}
    aborts = {click.exceptions.Abort, typer.Abort}
    return tuple(errors), tuple(exits), tuple(aborts)


def main(argv: list[str] | None = None) -> int:
    """Run the command line and return its exit code (2 for user errors)."""
    errors, exits, aborts = _click_exceptions()
    try:
        app(args=argv, prog_name="neardup", standalone_mode=False)
    except NeardupError as exc:
        console.print(Text.assemble(("error:", "bold red"), f" {exc}"), highlight=False,
                      soft_wrap=True)
        return 2
    except exits as exc:
        return int(getattr(exc, "exit_code", 0) or 0)
    except errors as exc:
        exc.show()  # type: ignore[attr-defined]
        return int(getattr(exc, "exit_code", 2))
    except (*aborts, KeyboardInterrupt):
        console.print("aborted")
        return 130
    return 0


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    run()
