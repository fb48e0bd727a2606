"""Exact-duplicate groups and their star pairs."""

from __future__ import annotations

import numpy as np
import pytest

from neardup.candidates import exact_groups, exact_pairs
from neardup.errors import InputError


def test_case_punctuation_and_space_variants_share_a_group() -> None:
    texts = ["Hello, World!", "hello world", "  HELLO   world ", "Goodbye", "hello-world"]
    labels = exact_groups(texts)
    assert labels.dtype == np.int64
    assert labels.tolist() == [0, 0, 0, 1, 0]


def test_empty_normalised_rows_never_match() -> None:
    texts = ["", "a", "   ", "!!!", "A", ""]
    labels = exact_groups(texts)
    # rows 0, 2, 3, 5 normalise to "" and each stays alone; 1 and 4 match
    assert labels.tolist() == [0, 1, 2, 3, 1, 4]


def test_labels_are_canonical() -> None:
    labels = exact_groups(["b", "a", "b", "c", "a"])
    assert labels.tolist() == [0, 1, 0, 2, 1]


def test_custom_normalizer() -> None:
    labels = exact_groups(["Abc", "abc"], normalizer=lambda t: t)
    assert labels.tolist() == [0, 1]


def test_exact_pairs_are_star_edges_from_first_row() -> None:
    texts = ["x", "y", "X!", "x", "y", "", ""]
    pairs = exact_pairs(texts)
    assert list(zip(pairs.left.tolist(), pairs.right.tolist())) == [(0, 2), (0, 3), (1, 4)]
    assert pairs.score.dtype == np.float32
    assert np.all(pairs.score == 1.0)


def test_exact_pairs_are_linear_in_group_size() -> None:
    pairs = exact_pairs(["same"] * 500)
    assert len(pairs) == 499
    assert set(pairs.left.tolist()) == {0}


def test_empty_input() -> None:
    assert exact_groups([]).shape == (0,)
    assert len(exact_pairs([])) == 0


def test_non_string_row_is_reported_with_its_position() -> None:
    with pytest.raises(InputError, match=r"row 1: expected a string, got NoneType None"):
        exact_groups(["a", None])  # type: ignore[list-item]
