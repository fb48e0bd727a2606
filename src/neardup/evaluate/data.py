"""Loaders for the user's labelled evaluation data.

Three shapes of gold data:

* **pairs** — one row per text pair with a label: 0/1 (or true/false) for duplicate /
  not duplicate, or a graded similarity score (STS style). :func:`load_pairs`.
* **groups** — one row per text with a group label; texts sharing a label are duplicates of
  each other. :func:`load_groups`.
* **retrieval** — a BEIR folder (``corpus.jsonl``, ``queries.jsonl``, ``qrels/<split>.tsv``).
  :func:`load_beir`.

Tables are read by extension: ``.csv``, ``.tsv``, ``.jsonl`` (also ``.ndjson``), ``.parquet``
(``.pq``); ``.csv.gz``/``.tsv.gz``/``.jsonl.gz`` are decompressed on the fly. CSV/TSV cells are
read as text, never guessed (so ``"NA"`` or ``"007"`` stay what they are). Every problem is an
:class:`~neardup.errors.InputError` naming the file, row, column and value.
"""

from __future__ import annotations

import csv
import gzip
import json
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Iterator, Literal

import numpy as np
import pandas as pd

from neardup.errors import InputError

__all__ = [
    "PairData",
    "GroupData",
    "RetrievalData",
    "LabelKind",
    "load_pairs",
    "load_groups",
    "load_beir",
]

LabelKind = Literal["binary", "graded"]



# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Table:
    """A read table plus how to name its rows in messages."""

    frame: pd.DataFrame
    path: Path
    # JSONL: the 1-based file line of each row (blank lines are skipped); None otherwise
    lines: list[int] | None

    def where(self, i: int) -> str:
        if self.lines is not None:
            return f"line {self.lines[i]}"
        return f"row {i + 1} (counting data rows from 1, after any header)"


def _open_text(path: Path, gz: bool) -> IO[str]:
    # utf-8-sig: a byte-order mark (Windows editors write one) is not part of the first line
    if gz:
        return gzip.open(path, "rt", encoding="utf-8-sig")
    return open(path, encoding="utf-8-sig", newline="")


def _iter_jsonl(path: Path, gz: bool = False) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, object)`` for each non-blank line, naming bad lines exactly."""
    try:
        with _open_text(path, gz) as fh:
            for lineno, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InputError(
                        f"{path}, line {lineno}: not valid JSON ({exc.msg}); each line must be "
                        "one JSON object"
                    ) from None
                if not isinstance(obj, dict):
                    raise InputError(
                        f"{path}, line {lineno}: expected a JSON object like "
                        f'{{"text": ...}}, got {type(obj).__name__}'
                    )
                yield lineno, obj
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason}); re-save it as UTF-8") from None


def _read_table(path: Path, fmt: str | None = None) -> _Table:
    # one reader for the whole package: formats, encodings and their error messages live in
    # neardup.io
    from neardup.io import read_table

    return _Table(read_table(path, fmt), path, None)


def _require_columns(table: _Table, wanted: dict[str, str]) -> None:
    """``wanted`` maps parameter name -> column name; name the first missing one."""
    if len(table.frame) == 0:
        raise InputError(f"{table.path}: no data rows")
    cols = [str(c) for c in table.frame.columns]
    for param, col in wanted.items():
        if col not in table.frame.columns:
            raise InputError(
                f"{table.path}: no column {col!r} (found: {', '.join(map(repr, cols)) or 'none'}). "
                f"Rename the column, or pass {param}=<column name>."
            )


def _is_missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA


def _texts(table: _Table, col: str) -> list[str]:
    out: list[str] = []
    for i, v in enumerate(table.frame[col].tolist()):
        if _is_missing(v):
            raise InputError(
                f"{table.path}, {table.where(i)}, column {col!r}: the text is missing; "
                "fill it in or remove the row"
            )
        out.append(v if isinstance(v, str) else str(v))
    return out


# ---------------------------------------------------------------------------------------------
# Pairs
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PairData:
    """Labelled text pairs. ``labels`` is int64 0/1 when ``label_kind == "binary"``, float64
    similarity scores when ``"graded"``."""

    texts1: list[str]
    texts2: list[str]
    labels: np.ndarray
    label_kind: LabelKind
    path: Path | None = None

    def __len__(self) -> int:
        return len(self.texts1)

    @property
    def n_positive(self) -> int | None:
        """Number of positive pairs (binary labels only)."""
        return int(self.labels.sum()) if self.label_kind == "binary" else None

    def summary(self) -> str:
        """One line for the CLI, e.g. ``"1,000 pairs, binary labels (312 positive)"``."""
        if self.label_kind == "binary":
            return f"{len(self):,} pairs, binary labels ({self.n_positive:,} positive)"
        lo, hi = float(self.labels.min()), float(self.labels.max())
        return f"{len(self):,} pairs, graded labels (scores {lo:g} to {hi:g})"


_TRUE = {"true", "yes"}
_FALSE = {"false", "no"}


def _parse_label(v: Any) -> float | None:
    """A label as a float, or None if it is not a usable label."""
    if isinstance(v, (bool, np.bool_)):
        return float(v)
    if isinstance(v, (int, float, np.integer, np.floating)):
        f = float(v)
        return f if math.isfinite(f) else None
    if isinstance(v, str):
        s = v.strip().lower()
        if s in _TRUE:
            return 1.0
        if s in _FALSE:
            return 0.0
        try:
            f = float(s)
        except ValueError:
            return None
        return f if math.isfinite(f) else None
    return None


def load_pairs(
    path: str | Path,
    *,
    text1_col: str = "text1",
    text2_col: str = "text2",
    label_col: str = "label",
    label_kind: Literal["auto", "binary", "graded"] = "auto",
    fmt: str | None = None,
) -> PairData:
    """Load labelled pairs from a table with columns ``text1, text2, label``.

    Labels may be 0/1, true/false (yes/no), or graded similarity scores (any finite number).
    ``label_kind="auto"`` calls the labels binary when every one is 0 or 1, graded otherwise;
    the choice is in :attr:`PairData.label_kind` (and :meth:`PairData.summary`). Force it with
    ``"binary"`` (then anything but 0/1 is an error) or ``"graded"``. ``fmt`` overrides the
    format the extension implies.
    """
    table = _read_table(Path(path), fmt)
    _require_columns(
        table, {"text1_col": text1_col, "text2_col": text2_col, "label_col": label_col}
    )
    texts1, texts2 = _texts(table, text1_col), _texts(table, text2_col)
    values = np.empty(len(table.frame), dtype=np.float64)
    for i, raw in enumerate(table.frame[label_col].tolist()):
        v = _parse_label(raw)
        if v is None:
            raise InputError(
                f"{table.path}, {table.where(i)}, column {label_col!r}: label {raw!r} is not "
                "usable; write 0/1 (or true/false) for duplicate / not duplicate, or a number "
                "for a graded similarity score"
            )
        if label_kind == "binary" and v not in (0.0, 1.0):
            raise InputError(
                f"{table.path}, {table.where(i)}, column {label_col!r}: label {raw!r} is not "
                "0/1 but binary labels were asked for; fix the value, or evaluate the labels "
                "as graded scores"
            )
        values[i] = v
    binary = label_kind == "binary" or (
        label_kind == "auto" and bool(np.isin(values, (0.0, 1.0)).all())
    )
    labels = values.astype(np.int64) if binary else values
    return PairData(texts1, texts2, labels, "binary" if binary else "graded", table.path)


# ---------------------------------------------------------------------------------------------
# Groups
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupData:
    """Texts with group labels. ``labels`` are int64 codes ``0..k-1`` numbered by first
    appearance; ``label_values[code]`` is the label as written in the file."""

    texts: list[str]
    labels: np.ndarray
    label_values: list[Any]
    path: Path | None = None

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def n_groups(self) -> int:
        return len(self.label_values)

    def summary(self) -> str:
        sizes = np.bincount(self.labels)
        return (
            f"{len(self):,} texts in {self.n_groups:,} groups "
            f"({int(np.sum(sizes > 1)):,} with more than one text, largest {int(sizes.max()):,})"
        )


def load_groups(
    path: str | Path, *, text_col: str = "text", label_col: str = "label",
    fmt: str | None = None,
) -> GroupData:
    """Load texts with group labels from a table with columns ``text, label``.

    Texts with the same label are duplicates of each other; give a text that has no
    duplicate a label of its own. Labels are compared exactly as written. ``fmt`` overrides
    the format the extension implies.
    """
    table = _read_table(Path(path), fmt)
    _require_columns(table, {"text_col": text_col, "label_col": label_col})
    texts = _texts(table, text_col)
    raw = table.frame[label_col].tolist()
    for i, v in enumerate(raw):
        if _is_missing(v) or (isinstance(v, str) and not v.strip()):
            raise InputError(
                f"{table.path}, {table.where(i)}, column {label_col!r}: the group label is "
                "empty; give every text a label (a text with no duplicate needs a label of "
                "its own)"
            )
    codes, uniques = factorize_labels(raw)
    return GroupData(texts, codes, uniques, table.path)


def factorize_labels(raw: list[Any]) -> tuple[np.ndarray, list[Any]]:
    """Group codes (numbered by first appearance) and the labels as written.

    Labels compare by type and value: in Python ``True == 1 == 1.0``, so a plain factorize
    would merge the JSON labels ``true``, ``1`` and ``1.0`` into one group.
    """
    plain = [v.item() if isinstance(v, np.generic) else v for v in raw]
    keys = [(type(v).__name__, v) for v in plain]
    codes, _ = pd.factorize(pd.Series(keys, dtype=object), sort=False)
    codes = codes.astype(np.int64)
    first = np.unique(codes, return_index=True)[1]
    return codes, [raw[i] for i in first]


# ---------------------------------------------------------------------------------------------
# BEIR retrieval folders
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetrievalData:
    """A retrieval test set, shaped like BEIR's ``GenericDataLoader.load()`` output.

    ``corpus``: document id -> ``{"title": ..., "text": ...}``; ``queries``: query id -> text,
    only the queries judged in the split's qrels (BEIR's ``queries.jsonl`` lists every split's
    queries); ``qrels``: query id -> {document id: graded relevance}.
    """

    corpus: dict[str, dict[str, str]]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    path: Path | None = None
    split: str = "test"

    def corpus_texts(self, *, with_title: bool = True) -> dict[str, str]:
        """Document id -> text; ``title + " " + text`` as BEIR's dense-retrieval code does."""
        if not with_title:
            return {i: d["text"] for i, d in self.corpus.items()}
        return {
            i: (f"{d['title']} {d['text']}".strip() if d["title"] else d["text"])
            for i, d in self.corpus.items()
        }

    def summary(self) -> str:
        n_j = sum(len(v) for v in self.qrels.values())
        return (
            f"{len(self.corpus):,} documents, {len(self.queries):,} queries, "
            f"{n_j:,} judgements ({self.split})"
        )


_BEIR_LAYOUT = (
    "a BEIR folder holds corpus.jsonl (_id, title, text), queries.jsonl (_id, text) and "
    "qrels/<split>.tsv (query-id, corpus-id, score)"
)


def _need_file(path: Path) -> None:
    if not path.is_file():
        raise InputError(f"{path}: file not found; {_BEIR_LAYOUT}")


def _read_id_texts(
    path: Path, fields: tuple[str, ...]
) -> tuple[list[str], dict[str, list[str]]]:
    """Ids and the given text fields (missing ``title`` = ""), rejecting repeated ids."""
    ids: list[str] = []
    cols: dict[str, list[str]] = {f: [] for f in fields}
    first_line: dict[str, int] = {}
    for lineno, obj in _iter_jsonl(path):
        for key in ("_id", "text"):
            if _is_missing(obj.get(key)):
                raise InputError(
                    f'{path}, line {lineno}: no "{key}" field; {_BEIR_LAYOUT}'
                )
        doc_id = str(obj["_id"])
        if doc_id in first_line:
            raise InputError(
                f"{path}, line {lineno}: _id {doc_id!r} repeats line {first_line[doc_id]}; "
                "ids must be unique"
            )
        first_line[doc_id] = lineno
        ids.append(doc_id)
        for f in fields:
            v = obj.get(f)
            cols[f].append("" if _is_missing(v) else str(v))
    if not ids:
        raise InputError(f"{path}: no records; {_BEIR_LAYOUT}")
    return ids, cols


def _read_qrels(path: Path) -> dict[str, dict[str, int]]:
    try:
        return _parse_qrels(path)
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason}); re-save it as UTF-8") from None


def _parse_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        for lineno, row in enumerate(reader, start=1):
            if not row or not "".join(row).strip():
                continue
            if len(row) < 3:
                raise InputError(
                    f"{path}, line {lineno}: expected 3 tab-separated fields "
                    f"(query-id, corpus-id, score), got {len(row)}: {row!r}"
                )
            qid, did, raw = row[0].strip(), row[1].strip(), row[2].strip()
            try:
                score_f = float(raw)
            except ValueError:
                if lineno == 1:  # the header row ("query-id corpus-id score")
                    continue
                raise InputError(
                    f"{path}, line {lineno}: score {raw!r} is not a number; relevance scores "
                    "are integers (0 = not relevant, higher = more relevant)"
                ) from None
            if not score_f.is_integer():
                raise InputError(
                    f"{path}, line {lineno}: score {raw!r} is not an integer; relevance "
                    "scores are integers (0 = not relevant, higher = more relevant)"
                )
            score = int(score_f)
            prev = qrels.setdefault(qid, {}).get(did)
            if prev is not None and prev != score:
                raise InputError(
                    f"{path}, line {lineno}: query {qid!r} and document {did!r} are judged "
                    f"twice with different scores ({prev} and {score}); keep one"
                )
            qrels[qid][did] = score
    if not qrels:
        raise InputError(f"{path}: no judgements; {_BEIR_LAYOUT}")
    return qrels


def load_beir(folder: str | Path, *, split: str = "test") -> RetrievalData:
    """Load a BEIR-layout retrieval folder.

    Queries not judged in ``qrels/<split>.tsv`` are left out. A judged query that is not in
    ``queries.jsonl`` is an error; judged documents missing from the corpus only warn (they
    cannot be retrieved, so recall cannot reach 1).
    """
    root = Path(folder)
    if not root.is_dir():
        raise InputError(f"{root}: folder not found; {_BEIR_LAYOUT}")
    corpus_path, queries_path = root / "corpus.jsonl", root / "queries.jsonl"
    qrels_path = root / "qrels" / f"{split}.tsv"
    _need_file(corpus_path)
    _need_file(queries_path)
    if not qrels_path.is_file():
        have = sorted(p.stem for p in (root / "qrels").glob("*.tsv"))
        hint = f"; splits present: {', '.join(have)}" if have else f"; {_BEIR_LAYOUT}"
        raise InputError(f"{qrels_path}: file not found{hint}")

    corpus_ids, corpus_cols = _read_id_texts(corpus_path, ("title", "text"))
    query_ids_all, query_cols = _read_id_texts(queries_path, ("text",))
    qrels = _read_qrels(qrels_path)

    query_text = dict(zip(query_ids_all, query_cols["text"]))
    missing_q = [q for q in qrels if q not in query_text]
    if missing_q:
        raise InputError(
            f"{qrels_path}: {len(missing_q)} judged queries are not in {queries_path} "
            f"(first: {', '.join(map(repr, missing_q[:5]))}); add them or remove their rows"
        )
    corpus_set = set(corpus_ids)
    missing_d = sorted({d for rels in qrels.values() for d in rels if d not in corpus_set})
    if missing_d:
        warnings.warn(
            f"{qrels_path}: {len(missing_d)} judged documents are not in {corpus_path} "
            f"(first: {', '.join(map(repr, missing_d[:5]))}); they can never be retrieved",
            UserWarning,
            stacklevel=2,
        )
    return RetrievalData(
        corpus={
            i: {"title": t, "text": x}
            for i, t, x in zip(corpus_ids, corpus_cols["title"], corpus_cols["text"])
        },
        # judged queries in queries.jsonl order
        queries={q: query_text[q] for q in query_ids_all if q in qrels},
        qrels=qrels,
        path=root,
        split=split,
    )
