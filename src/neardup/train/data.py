"""Training data for bi-encoders: which shape a file has, its rows checked, and dev splits.

Four shapes, told apart by their columns (or named with ``task=``):

============  =================================  ==========================================
task          columns                            what a row says
============  =================================  ==========================================
``pairs``     ``text1, text2, label``            label 1: duplicates, 0: not duplicates
``scored``    ``text1, text2, score``            graded similarity (STS 0-5): only the order
                                                 of the scores matters (CoSENT)
``positives`` ``query, positive[, negative]``    the positive matches the query (``anchor``
                                                 is accepted for ``query``)
``groups``    ``text, label``                    texts with the same label are duplicates
``texts``     one text column                    nothing: unsupervised (SimCSE)
============  =================================  ==========================================

``columns=`` maps a file with other column names onto these roles, in the order above
(``columns=("s1", "s2", "score")`` for pairs). Every problem is an
:class:`~neardup.errors.InputError` naming the file, row, column and value, raised before
any model is loaded.

Splits keep the dev set honest: :func:`group_disjoint_split` never puts one label on both
sides, and :func:`text_disjoint_split` keeps every text on one side where the data allows it
(pairs sharing a text are kept together), so the dev score measures generalisation to unseen
texts rather than memory. Both are also what a cross-encoder's dev split needs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, Union

import numpy as np
import pandas as pd

from neardup.errors import InputError
from neardup.text import normalize

__all__ = [
    "TASKS",
    "ROLES",
    "Task",
    "TaskSpec",
    "LabelledPairs",
    "ScoredPairs",
    "PositivePairs",
    "GroupedTexts",
    "PlainTexts",
    "TrainingData",
    "Split",
    "detect_task",
    "load_training_data",
    "parse_binary_label",
    "text_disjoint_split",
    "group_disjoint_split",
    "random_split",
    "split_training_data",
]

Task = Literal["pairs", "scored", "positives", "groups", "texts"]
TASKS: tuple[Task, ...] = ("pairs", "scored", "positives", "groups", "texts")

#: The columns each task reads, in the order ``columns=`` assigns them; roles after the
#: first ``OPTIONAL_FROM[task]`` may be left out.
ROLES: dict[Task, tuple[str, ...]] = {
    "pairs": ("text1", "text2", "label"),
    "scored": ("text1", "text2", "score"),
    "positives": ("query", "positive", "negative"),
    "groups": ("text", "label"),
    "texts": ("text",),
}
_REQUIRED: dict[Task, int] = {"pairs": 3, "scored": 3, "positives": 2, "groups": 2, "texts": 1}

# Column names recognised for each role when the task is detected, most usual first.
_NAMES: dict[str, tuple[str, ...]] = {
    "text1": ("text1", "sentence1", "question1", "text_a"),
    "text2": ("text2", "sentence2", "question2", "text_b"),
    "pair_label": ("label", "is_duplicate", "duplicate"),
    "score": ("score", "similarity", "relatedness_score"),
    "query": ("query", "anchor", "question"),
    "positive": ("positive", "pos", "document"),
    "negative": ("negative", "neg", "hard_negative"),
    "text": ("text", "sentence", "title"),
    "group_label": ("label", "group", "label_group", "cluster"),
}

_TRUE = {"1", "1.0", "true", "yes"}
_FALSE = {"0", "0.0", "false", "no"}


# ---------------------------------------------------------------------------------------------
# Detected shape
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskSpec:
    """The task of a file and the column that plays each of its roles."""

    task: Task
    columns: Mapping[str, str]

    def describe(self) -> str:
        return f"{self.task} (" + ", ".join(f"{r}={c!r}" for r, c in self.columns.items()) + ")"


def _first(names: Sequence[str], available: Sequence[str]) -> str | None:
    return next((n for n in names if n in available), None)


def _shapes_help() -> str:
    return (
        "Expected one of: text1,text2,label (pairs with 0/1 labels); text1,text2,score (graded "
        "similarity such as STS 0-5); query,positive[,negative] "
        "(positive pairs); text,label (groups of duplicates); a single text column (plain "
        "texts). Rename the columns, or name the task and its columns with --task and "
        "--columns (e.g. --task pairs --columns s1,s2,score)."
    )


def detect_task(
    available: Sequence[str],
    task: str = "auto",
    columns: Sequence[str] | None = None,
    *,
    source: str = "the file",
) -> TaskSpec:
    """The task and role -> column mapping for a table with columns ``available``.

    ``task="auto"`` recognises the usual column names (see the module docs); ``columns``
    (which needs an explicit ``task``) assigns the roles in order instead.
    """
    cols = [str(c) for c in available]
    if task != "auto" and task not in TASKS:
        raise InputError(f"Unknown task {task!r}; choose one of auto, {', '.join(TASKS)}.")
    if columns is not None:
        if task == "auto":
            raise InputError(
                "--columns assigns columns to the roles of a task, so it needs --task too "
                "(pairs: text1,text2,label; positives: query,positive[,negative]; groups: "
                "text,label; texts: text)."
            )
        return _explicit(task, list(columns), cols, source)  # type: ignore[arg-type]
    found = _auto(cols)
    if task == "auto":
        if found is None:
            raise InputError(
                f"Cannot tell what {source!r} holds from its columns "
                f"({', '.join(map(repr, cols)) or 'none'}). {_shapes_help()}"
            )
        return found
    if found is not None and found.task == task:
        return found
    # The task was named but the columns do not follow its usual names: take them in order
    # when the file has as many columns as the task reads and none of them has a name that
    # means something else (a pairs file's label must not become a negative text).
    roles = ROLES[task]  # type: ignore[index]
    known = {name for names in _NAMES.values() for name in names}
    fits = _REQUIRED[task] <= len(cols) <= len(roles)  # type: ignore[index]
    if fits and not known.intersection(cols):
        return _explicit(task, cols, cols, source)  # type: ignore[arg-type]
    raise InputError(
        f"{source!r} has columns {', '.join(map(repr, cols))}, which do not look like "
        f"{task} ({','.join(roles)}). Pass --columns naming them in that order."
    )


def _auto(cols: Sequence[str]) -> TaskSpec | None:
    query, positive = _first(_NAMES["query"], cols), _first(_NAMES["positive"], cols)
    if query and positive:
        mapping = {"query": query, "positive": positive}
        negative = _first(_NAMES["negative"], cols)
        if negative:
            mapping["negative"] = negative
        return TaskSpec("positives", mapping)
    text1, text2 = _first(_NAMES["text1"], cols), _first(_NAMES["text2"], cols)
    pair_label = _first(_NAMES["pair_label"], cols)
    if text1 and text2 and pair_label:
        return TaskSpec("pairs", {"text1": text1, "text2": text2, "label": pair_label})
    score = _first(_NAMES["score"], cols)
    if text1 and text2 and score:
        return TaskSpec("scored", {"text1": text1, "text2": text2, "score": score})
    text, group = _first(_NAMES["text"], cols), _first(_NAMES["group_label"], cols)
    if text and group:
        return TaskSpec("groups", {"text": text, "label": group})
    if len(cols) == 1:
        return TaskSpec("texts", {"text": cols[0]})
    if text and not (text1 or text2 or group):
        return TaskSpec("texts", {"text": text})
    return None


def _explicit(task: Task, given: list[str], cols: Sequence[str], source: str) -> TaskSpec:
    roles = ROLES[task]
    if not _REQUIRED[task] <= len(given) <= len(roles):
        need = ",".join(roles[: _REQUIRED[task]])
        optional = roles[_REQUIRED[task] :]
        more = f"[,{','.join(optional)}]" if optional else ""
        raise InputError(
            f"--columns for {task} takes {need}{more} in that order; got "
            f"{len(given)} column(s): {', '.join(map(repr, given))}."
        )
    repeated = sorted({c for c in given if given.count(c) > 1})
    if repeated:
        raise InputError(
            f"--columns names {repeated[0]!r} for two roles of {task} "
            f"({','.join(roles[: len(given)])}); give each role its own column."
        )
    missing = [c for c in given if c not in cols]
    if missing:
        raise InputError(
            f"{source!r} has no column {missing[0]!r} (given in --columns). Available "
            f"columns: {', '.join(map(repr, cols))}."
        )
    return TaskSpec(task, dict(zip(roles, given)))


# ---------------------------------------------------------------------------------------------
# Data of each shape
# ---------------------------------------------------------------------------------------------


def _take(values: Sequence[Any], rows: np.ndarray) -> list[Any]:
    return [values[int(i)] for i in rows]


@dataclass(frozen=True)
class LabelledPairs:
    """Text pairs labelled 1 (duplicates) or 0 (not), for (online) contrastive losses."""

    task: ClassVar[Task] = "pairs"
    texts1: list[str]
    texts2: list[str]
    labels: np.ndarray  # int64, 0/1
    source: str = ""

    def __len__(self) -> int:
        return len(self.texts1)

    def subset(self, rows: np.ndarray) -> LabelledPairs:
        return LabelledPairs(_take(self.texts1, rows), _take(self.texts2, rows),
                             self.labels[rows], self.source)

    def summary(self) -> str:
        return f"{len(self):,} labelled pairs ({int(self.labels.sum()):,} duplicates)"

    def all_texts(self) -> list[str]:
        return self.texts1 + self.texts2


@dataclass(frozen=True)
class ScoredPairs:
    """Text pairs with a graded similarity (any scale: only the order matters), for CoSENT."""

    task: ClassVar[Task] = "scored"
    texts1: list[str]
    texts2: list[str]
    scores: np.ndarray  # float64
    source: str = ""

    def __len__(self) -> int:
        return len(self.texts1)

    def subset(self, rows: np.ndarray) -> ScoredPairs:
        return ScoredPairs(_take(self.texts1, rows), _take(self.texts2, rows),
                           self.scores[rows], self.source)

    def summary(self) -> str:
        return (f"{len(self):,} scored pairs (scores {self.scores.min():g} to "
                f"{self.scores.max():g})")

    def all_texts(self) -> list[str]:
        return self.texts1 + self.texts2


@dataclass(frozen=True)
class PositivePairs:
    """(query, positive) pairs with an optional hard negative each, for in-batch-negative
    losses. A query and its positive may be the same kind of text (duplicate questions) or
    not (question and answer)."""

    task: ClassVar[Task] = "positives"
    queries: list[str]
    positives: list[str]
    negatives: list[str] | None = None
    source: str = ""

    def __len__(self) -> int:
        return len(self.queries)

    def subset(self, rows: np.ndarray) -> PositivePairs:
        negatives = None if self.negatives is None else _take(self.negatives, rows)
        return PositivePairs(_take(self.queries, rows), _take(self.positives, rows),
                             negatives, self.source)

    def summary(self) -> str:
        extra = " with a hard negative each" if self.negatives is not None else ""
        return f"{len(self):,} positive pairs{extra}"

    def all_texts(self) -> list[str]:
        return self.queries + self.positives + (self.negatives or [])


@dataclass(frozen=True)
class GroupedTexts:
    """Texts with group labels: texts of one label are duplicates of each other.
    ``labels`` are int64 codes numbered by first appearance; ``label_values[code]`` is the
    label as written in the file."""

    task: ClassVar[Task] = "groups"
    texts: list[str]
    labels: np.ndarray
    label_values: list[Any] = field(default_factory=list)
    source: str = ""

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, rows: np.ndarray) -> GroupedTexts:
        return GroupedTexts(_take(self.texts, rows), self.labels[rows], self.label_values,
                            self.source)

    @property
    def group_sizes(self) -> np.ndarray:
        """Rows per label present in this set (labels absent from it are left out)."""
        _, counts = np.unique(self.labels, return_counts=True)
        return counts

    def summary(self) -> str:
        sizes = self.group_sizes
        return (f"{len(self):,} texts in {sizes.size:,} groups "
                f"({int((sizes > 1).sum()):,} with two or more texts)")

    def all_texts(self) -> list[str]:
        return list(self.texts)


@dataclass(frozen=True)
class PlainTexts:
    """Unlabelled texts, for unsupervised SimCSE."""

    task: ClassVar[Task] = "texts"
    texts: list[str]
    source: str = ""

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, rows: np.ndarray) -> PlainTexts:
        return PlainTexts(_take(self.texts, rows), self.source)

    def summary(self) -> str:
        return f"{len(self):,} texts (no labels)"

    def all_texts(self) -> list[str]:
        return list(self.texts)


TrainingData = Union[LabelledPairs, ScoredPairs, PositivePairs, GroupedTexts, PlainTexts]


# ---------------------------------------------------------------------------------------------
# Loading and checking
# ---------------------------------------------------------------------------------------------


def _where(i: int) -> str:
    return f"row {i + 1} (counting data rows from 1, after the header)"


def _is_missing(v: Any) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))


def _text_column(frame: pd.DataFrame, col: str, source: str) -> list[str]:
    out: list[str] = []
    for i, v in enumerate(frame[col].tolist()):
        text = None if _is_missing(v) else (v if isinstance(v, str) else str(v))
        if text is None or not text.strip():
            raise InputError(
                f"{source}, {_where(i)}, column {col!r}: the text is empty; fill it in or "
                "remove the row."
            )
        out.append(text)
    return out


def parse_binary_label(value: Any) -> int | None:
    """0 or 1 for a duplicate label written as 0/1, 0.0/1.0, true/false or yes/no; else None."""
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (int, np.integer)):
        return int(value) if value in (0, 1) else None
    if isinstance(value, (float, np.floating)):
        return int(value) if value in (0.0, 1.0) else None
    if isinstance(value, str):
        s = value.strip().lower()
        if s in _TRUE:
            return 1
        if s in _FALSE:
            return 0
    return None


def _pair_labels(frame: pd.DataFrame, col: str, source: str) -> np.ndarray:
    out = np.empty(len(frame), dtype=np.int64)
    for i, raw in enumerate(frame[col].tolist()):
        label = None if _is_missing(raw) else parse_binary_label(raw)
        if label is None:
            raise InputError(
                f"{source}, {_where(i)}, column {col!r}: label {raw!r} is not 0 or 1. Pairs "
                "need 1 for duplicates and 0 for non-duplicates; for graded scores (such as "
                "STS 0-5) pass --task scored --columns TEXT1,TEXT2,SCORE (your three columns), "
                "or train on positive pairs only with --task positives --columns TEXT1,TEXT2."
            )
        out[i] = label
    n_pos = int(out.sum())
    if n_pos == 0 or n_pos == out.size:
        only = 1 if n_pos else 0
        hint = (" If every pair is a duplicate, train on them as positive pairs: --task "
                "positives --columns TEXT1,TEXT2 (your two text columns)." if only == 1 else "")
        raise InputError(
            f"{source}: every pair has label {only} in column {col!r}; contrastive training "
            f"needs both duplicates (1) and non-duplicates (0).{hint}"
        )
    return out


def _scores(frame: pd.DataFrame, col: str, source: str) -> np.ndarray:
    out = np.empty(len(frame), dtype=np.float64)
    for i, raw in enumerate(frame[col].tolist()):
        try:
            value = float(raw)
        except (TypeError, ValueError):
            value = math.nan
        if not math.isfinite(value):
            raise InputError(
                f"{source}, {_where(i)}, column {col!r}: score {raw!r} is not a number; "
                "scored pairs need a numeric similarity (e.g. 0-5) in every row."
            )
        out[i] = value
    if np.unique(out).size < 2:
        raise InputError(
            f"{source}: every pair has the score {out[0]:g} in column {col!r}; training "
            "learns from the order of different scores."
        )
    return out


def _group_labels(frame: pd.DataFrame, col: str, source: str) -> tuple[np.ndarray, list[Any]]:
    raw = frame[col].tolist()
    for i, v in enumerate(raw):
        if _is_missing(v) or (isinstance(v, str) and not v.strip()):
            raise InputError(
                f"{source}, {_where(i)}, column {col!r}: the group label is empty; give every "
                "text a label (a text with no duplicate gets a label of its own)."
            )
    from neardup.evaluate.data import factorize_labels

    labels, uniques = factorize_labels(raw)
    sizes = np.bincount(labels)
    if sizes.size == 1:
        raise InputError(
            f"{source}: every text has the same label {uniques[0]!r} in column {col!r}; "
            "metric learning needs at least two groups to tell apart."
        )
    if int((sizes > 1).sum()) == 0:
        raise InputError(
            f"{source}: every group in column {col!r} has a single text, so there are no "
            "duplicates to learn from; give duplicates the same label (at least two groups "
            "with two or more texts are needed)."
        )
    if int((sizes > 1).sum()) < 2:
        raise InputError(
            f"{source}: only one group in column {col!r} has two or more texts; batches for "
            "metric learning need at least two such groups."
        )
    return labels, list(uniques)


def pair_key(a: str, b: str) -> tuple[str, str]:
    """The unordered, normalised identity of a text pair."""
    x, y = normalize(a), normalize(b)
    return (x, y) if x <= y else (y, x)


def distinct_pairs(
    texts1: Sequence[str], texts2: Sequence[str], labels: np.ndarray, where: str
) -> tuple[list[list[int]], np.ndarray]:
    """Rows grouped by unordered (normalised) pair (groups in the pairs' sorted order), and
    each group's 0/1 label.

    The same pair labelled both 0 and 1 is an error naming both rows: one of them is wrong,
    and training on both teaches nothing.
    """
    groups: dict[tuple[str, str], list[int]] = {}
    for i, (a, b) in enumerate(zip(texts1, texts2)):
        groups.setdefault(pair_key(a, b), []).append(i)
    values_all = np.asarray(labels, dtype=np.int64)
    # ordered by the pair itself, not by first appearance: a split drawn over these groups
    # with a seed is then the same however the file is sorted
    rows = [groups[key] for key in sorted(groups)]
    out = np.empty(len(rows), dtype=np.int64)
    for g, members in enumerate(rows):
        values = values_all[members]
        if values.min() != values.max():
            i = members[int(np.argmax(values != values[0]))]
            raise InputError(
                f"{where}: rows {members[0] + 1} and {i + 1} (counting data rows from 1) hold "
                f"the same pair of texts with labels {int(values[0])} and {int(values_all[i])}; "
                "correct or remove one of them"
            )
        out[g] = values[0]
    return rows, out


def _frame_to_data(frame: pd.DataFrame, spec: TaskSpec, source: str) -> TrainingData:
    c = spec.columns
    if spec.task == "pairs":
        texts1 = _text_column(frame, c["text1"], source)
        texts2 = _text_column(frame, c["text2"], source)
        labels = _pair_labels(frame, c["label"], source)
        distinct_pairs(texts1, texts2, labels, source)  # contradictory labels are an error
        return LabelledPairs(texts1, texts2, labels, source)
    if spec.task == "scored":
        return ScoredPairs(_text_column(frame, c["text1"], source),
                           _text_column(frame, c["text2"], source),
                           _scores(frame, c["score"], source), source)
    if spec.task == "positives":
        negatives = _text_column(frame, c["negative"], source) if "negative" in c else None
        return PositivePairs(_text_column(frame, c["query"], source),
                             _text_column(frame, c["positive"], source), negatives, source)
    if spec.task == "groups":
        labels, values = _group_labels(frame, c["label"], source)
        return GroupedTexts(_text_column(frame, c["text"], source), labels, values, source)
    texts = _text_column(frame, c["text"], source)
    if len(set(texts)) < 2:
        raise InputError(f"{source}: SimCSE needs at least two different texts.")
    return PlainTexts(texts, source)


def load_training_data(
    path: str | Path,
    *,
    task: str = "auto",
    columns: Sequence[str] | None = None,
    fmt: str | None = None,
    encoding: str | None = None,
) -> TrainingData:
    """Read a CSV/TSV/JSONL/Parquet file and check it as training data of its task.

    The file is read with :func:`neardup.io.read_table` (its messages cover missing, empty
    and malformed files); the task comes from :func:`detect_task`.
    """
    from neardup.io import read_table

    source = str(path)
    frame = read_table(path, fmt, encoding=encoding)
    if len(frame) == 0:
        raise InputError(f"{source} has a header but no data rows; add training examples.")
    spec = detect_task(list(frame.columns), task, columns, source=source)
    return _frame_to_data(frame, spec, source)


# ---------------------------------------------------------------------------------------------
# Splits
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    """Row positions of the train and dev sides and how they were chosen.

    ``shared_texts`` counts distinct texts found on both sides (0 for a disjoint split);
    ``method`` says which rule made the split, for reports.
    """

    train: np.ndarray
    dev: np.ndarray
    method: str
    shared_texts: int = 0


def _check_fraction(dev_fraction: float) -> None:
    if not 0.0 < dev_fraction < 1.0:
        raise InputError(f"dev fraction must be between 0 and 1 (exclusive), got {dev_fraction}.")


def _shared(rows_texts: Sequence[Sequence[str]], train: np.ndarray, dev: np.ndarray) -> int:
    left = {t for i in train for t in rows_texts[int(i)]}
    return len({t for i in dev for t in rows_texts[int(i)]} & left)


def _components(rows_texts: Sequence[Sequence[str]]) -> list[list[int]]:
    """Rows grouped so that rows sharing any text are in one group (union-find on the texts
    as given: :func:`text_disjoint_split` passes them normalised), listed in an order that
    does not depend on the rows' order (each group by its smallest text), so that a seed
    gives the same split however the file is sorted."""
    parent = list(range(len(rows_texts)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for row, texts in enumerate(rows_texts):
        for text in texts:
            other = owner.setdefault(text, row)
            a, b = find(row), find(other)
            if a != b:
                parent[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = {}
    for row in range(len(rows_texts)):
        groups.setdefault(find(row), []).append(row)
    return sorted(groups.values(), key=lambda rows: min(t for r in rows for t in rows_texts[r]))


def _fill(components: list[list[int]], target: int, rng: np.random.Generator,
          labels: np.ndarray | None = None) -> np.ndarray:
    """Whole components, in random order, until ``target`` rows; a component that would
    overshoot by more than half the target is skipped so one giant component does not
    swallow the dev set. With ``labels``, the first component (in that order) holding a
    label the chosen rows lack is added too, so a small target still gives both labels."""
    chosen: list[int] = []
    order = rng.permutation(len(components))
    for k in order:
        comp = components[int(k)]
        if len(chosen) >= target:
            break
        if len(chosen) + len(comp) > target * 1.5 and len(comp) > 1:
            continue
        chosen.extend(comp)
    if not chosen and len(components) > 1:
        # every component overshoots a small target: the smallest one still keeps texts apart
        chosen = list(min((components[int(k)] for k in order), key=len))
    if labels is not None and chosen:
        for label in np.unique(labels):
            if (labels[chosen] == label).any():
                continue
            for k in order:
                comp = components[int(k)]
                if (labels[comp] == label).any() and len(comp) < len(labels) - len(chosen):
                    chosen.extend(comp)
                    break
    return np.sort(np.asarray(chosen, dtype=np.int64))


def _both_classes(labels: np.ndarray | None, rows: np.ndarray) -> bool:
    return labels is None or np.unique(labels[rows]).size == 2


def text_disjoint_split(
    rows_texts: Sequence[Sequence[str]],
    dev_fraction: float = 0.2,
    seed: int = 0,
    *,
    labels: np.ndarray | None = None,
) -> Split:
    """Split rows (each a tuple of texts: a pair, a triplet) so that no text is on both sides.

    Rows that share a text (directly or through other rows) always go to the same side,
    whole connected groups at a time, until about ``dev_fraction`` of the rows are in dev.
    With ``labels`` (0/1 per row) both sides must hold both classes. When the rows are so
    interlinked that no such split exists, rows are split at random (stratified by label)
    and :attr:`Split.shared_texts` reports how many texts ended up on both sides.
    """
    _check_fraction(dev_fraction)
    n = len(rows_texts)
    target = max(1, int(round(n * dev_fraction)))
    # texts as normalize sees them, once: "Pear 1" and "pear 1" are one text, as they are
    # one pair for pair_key
    rows_texts = [[normalize(t) for t in texts] for texts in rows_texts]
    components = _components(rows_texts)
    everything = np.arange(n, dtype=np.int64)
    for attempt in range(10):
        rng = np.random.default_rng([seed, attempt])
        dev = _fill(components, target, rng, labels)
        train = np.setdiff1d(everything, dev)
        if dev.size and train.size and _both_classes(labels, dev) and _both_classes(labels, train):
            return Split(train, dev, "text-disjoint (no text in both train and dev)")
    # rows that are one pair (repeated, swapped, or differing in case) still stay together
    keys: dict[tuple[str, ...], list[int]] = {}
    for row, texts in enumerate(rows_texts):
        keys.setdefault(_row_key(texts), []).append(row)
    distinct = sorted(keys)
    key_labels = None if labels is None else np.asarray(
        [labels[keys[k][0]] for k in distinct])
    by_key = random_split(len(distinct), dev_fraction, seed, labels=key_labels)
    dev = np.sort(np.asarray([r for i in by_key.dev for r in keys[distinct[int(i)]]],
                             dtype=np.int64))
    train = np.setdiff1d(everything, dev)
    if not (dev.size and _both_classes(labels, dev) and _both_classes(labels, train)):
        raise InputError(
            "too few pairs of one label for a dev split with duplicates and non-duplicates "
            "on both sides (each label needs at least 2 distinct pairs); add pairs, pass a "
            "dev file with --dev, or train without a dev set (--dev-fraction 0)."
        )
    why = ("random over distinct pairs, stratified by label: no split of whole groups of "
           "text-sharing pairs gave both sides " + ("both labels" if labels is not None
                                                    else "rows"))
    return Split(train, dev, why, _shared(rows_texts, train, dev))


def _row_key(texts: Sequence[str]) -> tuple[str, ...]:
    """A row's identity from its normalised texts: a pair is unordered (as :func:`pair_key`),
    a longer row keeps its order (query, positive, negative)."""
    return tuple(sorted(texts)) if len(texts) == 2 else tuple(texts)


def group_disjoint_split(
    labels: np.ndarray,
    dev_fraction: float = 0.2,
    seed: int = 0,
    *,
    texts: Sequence[str] | None = None,
) -> Split:
    """Split rows by whole groups: no label has rows in both train and dev.

    About ``dev_fraction`` of the groups with two or more rows go to dev (at least one, and
    at least two stay in train for batches with positives), and the same share of single-row
    groups, which act as distractors there. With ``texts``, groups are drawn in an order
    set by their texts (each group by its smallest), so the split does not depend on the
    order of the rows, whose first appearance numbers the label codes.
    """
    _check_fraction(dev_fraction)
    labels = np.asarray(labels)
    values, counts = np.unique(labels, return_counts=True)
    if texts is not None:
        smallest: dict[Any, str] = {}
        for label, text in zip(labels.tolist(), texts):
            if label not in smallest or text < smallest[label]:
                smallest[label] = text
        order = sorted(range(values.size), key=lambda i: (smallest[values[i].item()],
                                                          int(counts[i])))
        values, counts = values[order], counts[order]
    multi, single = values[counts > 1], values[counts == 1]
    if multi.size < 3:
        raise InputError(
            f"only {multi.size} groups have two or more texts; a group-disjoint dev split needs "
            "at least 3 (two to train on, one to measure). Add groups, pass a separate dev "
            "file with --dev, or train without a dev set (--dev-fraction 0)."
        )
    rng = np.random.default_rng(seed)
    n_multi = min(multi.size - 2, max(1, int(round(multi.size * dev_fraction))))
    n_single = int(round(single.size * dev_fraction))
    dev_labels = np.concatenate([rng.permutation(multi)[:n_multi],
                                 rng.permutation(single)[:n_single]])
    in_dev = np.isin(labels, dev_labels)
    return Split(np.flatnonzero(~in_dev), np.flatnonzero(in_dev),
                 "group-disjoint (no label in both train and dev)")


def random_split(
    n: int, dev_fraction: float = 0.2, seed: int = 0, *, labels: np.ndarray | None = None
) -> Split:
    """Rows at random (stratified by ``labels`` when given), about ``dev_fraction`` in dev."""
    _check_fraction(dev_fraction)
    rng = np.random.default_rng(seed)
    strata = [np.arange(n)] if labels is None else [np.flatnonzero(labels == v)
                                                    for v in np.unique(labels)]
    dev_parts = []
    for rows in strata:
        k = int(round(rows.size * dev_fraction))
        k = min(max(k, 1), rows.size - 1) if rows.size > 1 else 0
        dev_parts.append(rng.permutation(rows)[:k])
    dev = np.sort(np.concatenate(dev_parts).astype(np.int64))
    return Split(np.setdiff1d(np.arange(n, dtype=np.int64), dev), dev, "random")


def split_training_data(data: TrainingData, dev_fraction: float = 0.2, seed: int = 0) -> Split:
    """The dev split suited to ``data``'s task (plain texts have no dev split: no labels)."""
    if isinstance(data, LabelledPairs):
        rows = list(zip(data.texts1, data.texts2))
        return text_disjoint_split(rows, dev_fraction, seed, labels=data.labels)
    if isinstance(data, ScoredPairs):
        return text_disjoint_split(list(zip(data.texts1, data.texts2)), dev_fraction, seed)
    if isinstance(data, PositivePairs):
        negatives = data.negatives or [None] * len(data)  # type: ignore[list-item]
        rows = [tuple(t for t in row if t is not None)
                for row in zip(data.queries, data.positives, negatives)]
        return text_disjoint_split(rows, dev_fraction, seed)
    if isinstance(data, GroupedTexts):
        return group_disjoint_split(data.labels, dev_fraction, seed, texts=data.texts)
    raise InputError(
        "plain texts carry no labels to measure with, so they have no dev split; pass a "
        "labelled dev file with --dev (pairs, positives or groups) or --dev-fraction 0."
    )
