"""One representative row per cluster."""

from __future__ import annotations

import numpy as np
import pytest

from neardup.cluster import choose_representatives
from neardup.errors import InputError
from neardup.pairs import Pairs

LABELS = np.array([0, 1, 0, 0, 1, 2])
TEXTS = ["short", "bb", "a longer one", "a longer one", "b", "solo"]


def chosen(mask: np.ndarray) -> list[int]:
    return np.flatnonzero(mask).tolist()


def test_first() -> None:
    mask = choose_representatives(LABELS, TEXTS)
    assert mask.dtype == bool
    assert chosen(mask) == [0, 1, 5]


def test_first_by_order_key_ties_by_position() -> None:
    order = np.array([5, 3, 2, 2, 9, 0])
    assert chosen(choose_representatives(LABELS, TEXTS, order=order)) == [1, 2, 5]


def test_longest_ties_go_to_first() -> None:
    assert chosen(choose_representatives(LABELS, TEXTS, strategy="longest")) == [1, 2, 5]
    order = [9, 0, 9, 1, 0, 0]  # row 3 now comes before row 2
    assert chosen(choose_representatives(LABELS, TEXTS, strategy="longest", order=order)) == [
        1,
        3,
        5,
    ]


def test_central() -> None:
    pairs = Pairs.from_arrays(
        [0, 2, 0, 1, 3],  # row 3 also links to row 5 in another cluster: not counted
        [2, 3, 3, 4, 5],
        [0.6, 0.9, 0.5, 0.8, 1.0],
    )
    # cluster 0: row 0 = 1.1, row 2 = 1.5, row 3 = 1.4 -> row 2; cluster 1 ties -> row 1
    assert chosen(choose_representatives(LABELS, TEXTS, strategy="central", pairs=pairs)) == [
        1,
        2,
        5,
    ]


def test_one_per_cluster_on_random_labels() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 20, 200)
    texts = ["x" * int(k) for k in rng.integers(1, 10, 200)]
    for strategy in ("first", "longest"):
        mask = choose_representatives(labels, texts, strategy=strategy)  # type: ignore[arg-type]
        assert np.bincount(labels[mask]).tolist() == [1] * 20


def test_errors() -> None:
    with pytest.raises(InputError, match="needs the pairs"):
        choose_representatives(LABELS, TEXTS, strategy="central")
    with pytest.raises(InputError, match="needs one text per row: 2 texts for 6 labels"):
        choose_representatives(LABELS, ["a", "b"], strategy="longest")
    with pytest.raises(InputError, match="order has 2 values for 6 rows"):
        choose_representatives(LABELS, TEXTS, order=[1, 2])
    with pytest.raises(InputError, match=r"cannot be compared \(NoneType, str\)"):
        choose_representatives(LABELS, TEXTS, order=["b", None, "a", "c", "d", "e"])
    with pytest.raises(InputError, match="strategy must be"):
        choose_representatives(LABELS, TEXTS, strategy="random")  # type: ignore[arg-type]


def test_empty() -> None:
    assert choose_representatives(np.zeros(0, np.int64), []).shape == (0,)
