"""Training data: shape detection, row checks with messages that locate the problem, splits."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from neardup.errors import InputError
from neardup.train.data import (
    GroupedTexts,
    LabelledPairs,
    PlainTexts,
    PositivePairs,
    detect_task,
    group_disjoint_split,
    load_training_data,
    parse_binary_label,
    random_split,
    split_training_data,
    text_disjoint_split,
)


def _csv(tmp_path: Path, frame: pd.DataFrame, name: str = "data.csv") -> Path:
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


# --------------------------------------------------------------------------------------------
# Detection
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("columns", "task", "roles"),
    [
        (["text1", "text2", "label"], "pairs", {"text1": "text1", "text2": "text2",
                                                "label": "label"}),
        (["question1", "question2", "is_duplicate"], "pairs",
         {"text1": "question1", "text2": "question2", "label": "is_duplicate"}),
        (["query", "positive"], "positives", {"query": "query", "positive": "positive"}),
        (["anchor", "positive", "negative"], "positives",
         {"query": "anchor", "positive": "positive", "negative": "negative"}),
        (["id", "text", "label"], "groups", {"text": "text", "label": "label"}),
        (["title", "label_group"], "groups", {"text": "title", "label": "label_group"}),
        (["sentence"], "texts", {"text": "sentence"}),
        (["id", "text"], "texts", {"text": "text"}),
    ],
)
def test_detect_task_from_column_names(columns, task, roles) -> None:
    spec = detect_task(columns)
    assert spec.task == task
    assert dict(spec.columns) == roles


def test_explicit_columns_assign_roles_in_order() -> None:
    spec = detect_task(["s1", "s2", "score", "x"], "pairs", ["s1", "s2", "score"])
    assert dict(spec.columns) == {"text1": "s1", "text2": "s2", "label": "score"}
    # a named task whose columns have other names: taken in order when they fit exactly
    assert dict(detect_task(["a", "b"], "positives").columns) == {"query": "a", "positive": "b"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"available": ["a", "b", "c", "d"]}, "Cannot tell what"),
        ({"available": ["s1", "s2"], "columns": ["s1", "s2"]}, "needs --task"),
        ({"available": ["s1", "s2"], "task": "pairs", "columns": ["s1", "s2"]},
         "takes text1,text2,label"),
        ({"available": ["s1", "s2", "y"], "task": "pairs", "columns": ["s1", "s2", "z"]},
         "no column 'z'"),
        ({"available": ["a", "b", "c", "d"], "task": "groups"}, "Pass --columns"),
        # a labelled pairs file named as positives: its label must not become a negative text
        ({"available": ["text1", "text2", "label"], "task": "positives"}, "Pass --columns"),
        ({"available": ["text"], "task": "clusters"}, "Unknown task 'clusters'"),
    ],
)
def test_detect_task_errors_say_what_to_do(kwargs, message) -> None:
    with pytest.raises(InputError, match=message):
        detect_task(**kwargs)


@pytest.mark.parametrize(("value", "label"), [
    (1, 1), (0, 0), (1.0, 1), ("1", 1), ("0.0", 0), ("true", 1), ("No", 0), (True, 1),
    (2, None), (0.5, None), ("4.2", None), ("maybe", None),
])
def test_parse_binary_label(value, label) -> None:
    assert parse_binary_label(value) == label


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def test_load_each_shape(tmp_path: Path) -> None:
    pairs = load_training_data(_csv(tmp_path, pd.DataFrame(
        {"text1": ["a b", "c d"], "text2": ["a c", "e f"], "label": ["1", "0"]}), "p.csv"))
    assert isinstance(pairs, LabelledPairs) and pairs.labels.tolist() == [1, 0]
    positives = tmp_path / "q.jsonl"
    positives.write_text("\n".join(json.dumps(r) for r in [
        {"query": "q1", "positive": "p1", "negative": "n1"},
        {"query": "q2", "positive": "p2", "negative": "n2"}]))
    data = load_training_data(positives)
    assert isinstance(data, PositivePairs) and data.negatives == ["n1", "n2"]
    groups_path = tmp_path / "g.parquet"
    pd.DataFrame({"text": list("abcde"), "label": ["x", "x", "y", "y", "z"]}).to_parquet(
        groups_path)
    groups = load_training_data(groups_path)
    assert isinstance(groups, GroupedTexts)
    assert groups.labels.tolist() == [0, 0, 1, 1, 2] and groups.label_values == ["x", "y", "z"]
    texts = load_training_data(_csv(tmp_path, pd.DataFrame({"body": ["one", "two"]}), "t.csv"))
    assert isinstance(texts, PlainTexts) and texts.texts == ["one", "two"]


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"text1": ["a", "b", "c"], "text2": ["a", "b", "c"],
                       "label": ["1", "0", "4.5"]}),
         r"row 3 .*column 'label': label '4\.5' is not 0 or 1"),
        (pd.DataFrame({"text1": ["a", "b"], "text2": ["c", "d"], "label": ["1", "1"]}),
         "every pair has label 1.*--task positives"),
        (pd.DataFrame({"text1": ["a", None], "text2": ["c", "d"], "label": ["1", "0"]}),
         "row 2 .*column 'text1': the text is empty"),
        # the same pair both ways round, labelled both ways: the cross-encoder's check too
        (pd.DataFrame({"text1": ["a b", "x", "C d!"], "text2": ["c d", "y", "a B"],
                       "label": ["1", "0", "0"]}),
         r"rows 1 and 3 .*same pair of texts with labels 1 and 0"),
        (pd.DataFrame({"text": ["a", "b", "c"], "label": ["g", "g", "g"]}),
         "every text has the same label 'g'"),
        (pd.DataFrame({"text": ["a", "b", "c"], "label": ["x", "y", "z"]}),
         "every group in column 'label' has a single text"),
        (pd.DataFrame({"text": ["a", "b", "c"], "label": ["x", "x", "z"]}),
         "only one group in column 'label' has two or more texts"),
        (pd.DataFrame({"text": ["a", "b"], "label": ["x", None]}),
         "row 2 .*the group label is empty"),
        (pd.DataFrame({"alpha": ["a"], "beta": ["b"], "gamma": ["c"]}), "Cannot tell what"),
        (pd.DataFrame({"text": ["same", "same"]}), "at least two different texts"),
    ],
)
def test_bad_rows_are_located(tmp_path: Path, frame: pd.DataFrame, message: str) -> None:
    path = _csv(tmp_path, frame)
    with pytest.raises(InputError, match=message) as info:
        load_training_data(path)
    assert str(path) in str(info.value)


def test_empty_and_header_only_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(InputError, match="empty"):
        load_training_data(empty)
    header = tmp_path / "header.csv"
    header.write_text("text1,text2,label\n")
    with pytest.raises(InputError, match="no data rows"):
        load_training_data(header)


# --------------------------------------------------------------------------------------------
# Splits
# --------------------------------------------------------------------------------------------


def _texts_of(rows, idx) -> set[str]:
    return {t for i in idx for t in rows[i]}


def test_text_disjoint_split_keeps_every_text_on_one_side() -> None:
    # 40 little components of two pairs each sharing a text, plus labels of both kinds
    rows = []
    for k in range(40):
        rows += [(f"a{k}", f"b{k}"), (f"a{k}", f"c{k}")]
    labels = np.array([1, 0] * 40)
    split = text_disjoint_split(rows, 0.25, seed=3, labels=labels)
    assert split.shared_texts == 0 and "disjoint" in split.method
    assert not _texts_of(rows, split.train) & _texts_of(rows, split.dev)
    assert 15 <= split.dev.size <= 25
    assert sorted(split.train.tolist() + split.dev.tolist()) == list(range(80))
    assert set(labels[split.dev]) == {0, 1}
    again = text_disjoint_split(rows, 0.25, seed=3, labels=labels)
    assert again.dev.tolist() == split.dev.tolist()


def test_text_disjoint_split_falls_back_and_says_so() -> None:
    # a star: every pair shares the hub text, so no disjoint split exists
    rows = [("hub", f"t{k}") for k in range(20)]
    split = text_disjoint_split(rows, 0.2, seed=0)
    assert "random" in split.method and split.shared_texts == 1
    assert split.dev.size == 4


def test_group_disjoint_split() -> None:
    labels = np.repeat(np.arange(10), 3)
    labels = np.concatenate([labels, np.arange(100, 110)])  # ten singletons
    split = group_disjoint_split(labels, 0.2, seed=1)
    assert not set(labels[split.train]) & set(labels[split.dev])
    dev_sizes = np.unique(labels[split.dev], return_counts=True)[1]
    assert (dev_sizes > 1).sum() == 2 and (dev_sizes == 1).sum() == 2
    with pytest.raises(InputError, match="only 2 groups have two or more texts"):
        group_disjoint_split(np.array([0, 0, 1, 1, 2]), 0.2)


def test_random_split_is_stratified() -> None:
    labels = np.array([1] * 10 + [0] * 30)
    split = random_split(40, 0.25, seed=0, labels=labels)
    assert labels[split.dev].sum() == 2 and split.dev.size == 10


def test_split_training_data_by_task() -> None:
    groups = GroupedTexts([f"t{i}" for i in range(12)], np.repeat(np.arange(4), 3))
    split = split_training_data(groups, 0.25, 0)
    assert not set(groups.labels[split.train]) & set(groups.labels[split.dev])
    positives = PositivePairs([f"q{i}" for i in range(10)], [f"p{i}" for i in range(10)])
    split = split_training_data(positives, 0.2, 0)
    assert split.dev.size == 2 and split.shared_texts == 0
    with pytest.raises(InputError, match="no dev split"):
        split_training_data(PlainTexts(["a", "b"]), 0.2, 0)


def test_fallback_split_keeps_one_pair_on_one_side() -> None:
    # every pair appears twice (once swapped) in a star around "hub": no text-disjoint split
    rows, labels = [], []
    for k in range(20):
        rows += [("hub", f"t{k}"), (f"T{k}", "Hub")]  # case differs: still the same pair
        labels += [k % 2] * 2
    split = text_disjoint_split(rows, 0.2, seed=0, labels=np.array(labels))
    assert "distinct pairs" in split.method
    keys = lambda idx: {frozenset(t.lower() for t in rows[int(i)]) for i in idx}  # noqa: E731
    assert not keys(split.train) & keys(split.dev)
    assert split.dev.size == 8  # 4 of the 20 distinct pairs, each with both of its rows


def test_text_disjoint_split_joins_texts_that_differ_in_case_only() -> None:
    rows = [(f"Apple number {i}", f"Pear {i}") for i in range(10)]
    rows += [(f"apple number {i}!", f"pear {i}") for i in range(10)]
    labels = np.array([i % 2 for i in range(10)] * 2)
    split = text_disjoint_split(rows, 0.3, seed=0, labels=labels)
    assert "disjoint" in split.method
    dev_numbers = {rows[int(i)][1].split()[1] for i in split.dev}
    train_numbers = {rows[int(i)][1].split()[1] for i in split.train}
    assert not dev_numbers & train_numbers


def test_a_small_dev_fraction_still_splits_whole_components() -> None:
    # each pair twice (swapped): components of two rows, one label each, target one row
    rows, labels = [], []
    for k in range(100):
        rows += [(f"a{k}", f"b{k}"), (f"b{k}", f"a{k}")]
        labels += [k % 2] * 2
    split = text_disjoint_split(rows, 0.005, seed=0, labels=np.array(labels))
    assert "disjoint" in split.method and split.shared_texts == 0
    assert sorted(np.array(labels)[split.dev].tolist()) == [0, 0, 1, 1]


@pytest.mark.parametrize("shape", ["groups", "pairs"])
def test_the_split_does_not_depend_on_row_order(shape: str) -> None:
    if shape == "groups":
        texts = [f"text {g} {i}" for g in range(10) for i in range(2)]
        names = [f"g{g}" for g in range(10) for _ in range(2)]
        order = np.arange(20)[::-1]
        # label codes as the loader numbers them: by first appearance
        data = GroupedTexts(texts, pd.factorize(pd.Series(names))[0].astype(np.int64))
        backwards = GroupedTexts([texts[i] for i in order], pd.factorize(
            pd.Series([names[i] for i in order]))[0].astype(np.int64))
        rows_of = lambda d, split: sorted(d.texts[int(i)] for i in split.dev)  # noqa: E731
    else:
        t1 = [f"a{k}" for k in range(20)]
        t2 = [f"b{k}" for k in range(20)]
        labels = np.array([k % 2 for k in range(20)])
        order = np.arange(20)[::-1]
        data = LabelledPairs(t1, t2, labels)
        backwards = LabelledPairs([t1[i] for i in order], [t2[i] for i in order], labels[order])
        rows_of = lambda d, split: sorted(d.texts1[int(i)] for i in split.dev)  # noqa: E731
    assert rows_of(data, split_training_data(data, 0.2, seed=0)) == rows_of(
        backwards, split_training_data(backwards, 0.2, seed=0))


@pytest.mark.parametrize("columns", [["text1", "text1", "label"], ["text", "text"]])
def test_one_column_for_two_roles_is_refused(tmp_path: Path, columns: list[str]) -> None:
    frame = pd.DataFrame({"text1": ["a", "b"], "text2": ["c", "d"], "label": [0, 1],
                          "text": ["x", "y"]})
    task = "pairs" if len(columns) == 3 else "groups"
    with pytest.raises(InputError, match="for two roles"):
        load_training_data(_csv(tmp_path, frame), task=task, columns=columns)
