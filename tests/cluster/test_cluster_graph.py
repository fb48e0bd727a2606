"""Connected components, Leiden/Louvain and agglomerative clustering on toy graphs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from neardup.cluster import (
    agglomerative,
    canonical_labels,
    connected_components,
    leiden,
    louvain,
)
from neardup.errors import InputError
from neardup.pairs import Pairs

Clusterer = Callable[[int, Pairs], np.ndarray]


def partition(labels: np.ndarray) -> set[frozenset[int]]:
    groups: dict[int, set[int]] = {}
    for row, lab in enumerate(labels.tolist()):
        groups.setdefault(lab, set()).add(row)
    return {frozenset(g) for g in groups.values()}


def two_triangles() -> Pairs:
    # triangles {0,1,2} and {3,4,5} with strong edges, joined by one weak edge 2-3
    a = [0, 0, 1, 3, 3, 4, 2]
    b = [1, 2, 2, 4, 5, 5, 3]
    s = [0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.1]
    return Pairs.from_arrays(a, b, s)


def permute(pairs: Pairs, perm: np.ndarray) -> Pairs:
    """Graph with node ``perm[i]`` as new row ``i`` (pairs renumbered accordingly)."""
    inverse = np.argsort(perm)
    return Pairs.from_arrays(inverse[pairs.left], inverse[pairs.right], pairs.score)


def planted(rng: np.random.Generator, n_groups: int = 12, p: float = 0.9) -> tuple[int, Pairs]:
    """Groups of 2-7 rows with strong edges (each present with probability ``p``), plus
    sparse weak edges between groups."""
    sizes = rng.integers(2, 8, n_groups)
    starts = np.r_[0, np.cumsum(sizes)]
    a, b, s = [], [], []
    for g in range(n_groups):
        rows = range(starts[g], starts[g + 1])
        for i in rows:
            for j in rows:
                if i < j and rng.random() < p:
                    a.append(i), b.append(j), s.append(0.8 + 0.2 * rng.random())
    n = int(starts[-1])
    for _ in range(n_groups):
        i, j = rng.integers(0, n, 2)
        a.append(i), b.append(j), s.append(0.2 * rng.random())
    return n, Pairs.from_arrays(a, b, s)


METHODS: dict[str, Clusterer] = {
    "components": connected_components,
    "leiden_cpm": lambda n, p: leiden(n, p, resolution=0.5),
    "leiden_modularity": lambda n, p: leiden(n, p, objective="modularity"),
    "louvain": louvain,
    "average": lambda n, p: agglomerative(n, p, threshold=0.5),
    "average_sparse": lambda n, p: agglomerative(n, p, threshold=0.5, dense_limit=0),
    "complete": lambda n, p: agglomerative(n, p, threshold=0.5, linkage="complete"),
    "single": lambda n, p: agglomerative(n, p, threshold=0.5, linkage="single"),
}


def test_two_triangles_components_merge() -> None:
    assert connected_components(6, two_triangles()).tolist() == [0] * 6


@pytest.mark.parametrize("name", ["leiden_cpm", "average", "average_sparse", "complete", "single"])
def test_two_triangles_split(name: str) -> None:
    assert METHODS[name](6, two_triangles()).tolist() == [0, 0, 0, 1, 1, 1]


def test_chain_average_linkage_counts_missing_pair_as_zero() -> None:
    chain = Pairs.from_arrays([0, 1], [1, 2], [0.9, 0.9])  # a-b-c, a-c missing
    for dense_limit in (2000, 0):
        labels = agglomerative(3, chain, threshold=0.6, dense_limit=dense_limit)
        assert labels.tolist() == [0, 0, 1]  # {a,b} to c averages (0.9 + 0) / 2 = 0.45
    assert agglomerative(3, chain, threshold=0.6, linkage="single").tolist() == [0, 0, 0]
    assert agglomerative(3, chain, threshold=0.45).tolist() == [0, 0, 0]


def test_threshold_equal_to_float32_score_merges() -> None:
    pairs = Pairs.from_arrays([0], [1], [0.9])  # stored as 0.89999998
    assert agglomerative(2, pairs, threshold=0.9).tolist() == [0, 0]
    tri = Pairs.from_arrays([0, 0, 1], [1, 2, 2], [0.9, 0.9, 0.9])
    for dense_limit in (2000, 0):
        assert agglomerative(3, tri, threshold=0.9, dense_limit=dense_limit).tolist() == [0, 0, 0]


@pytest.mark.parametrize("name", sorted(METHODS))
def test_labels_are_canonical_and_singletons_separate(name: str) -> None:
    # rows 0 and 6 isolated; groups {1, 4} and {2, 3, 5}
    pairs = Pairs.from_arrays([4, 2, 3, 2], [1, 3, 5, 5], [0.95, 0.9, 0.9, 0.9])
    labels = METHODS[name](7, pairs)
    assert labels.dtype == np.int64
    assert labels.tolist() == [0, 1, 2, 2, 1, 2, 3]


@pytest.mark.parametrize("name", sorted(METHODS))
def test_empty_graph(name: str) -> None:
    assert METHODS[name](3, Pairs.empty()).tolist() == [0, 1, 2]
    assert METHODS[name](0, Pairs.empty()).shape == (0,)


@pytest.mark.parametrize("name", sorted(METHODS))
def test_order_independent(name: str) -> None:
    rng = np.random.default_rng(11)
    n, pairs = planted(rng)
    expected = partition(METHODS[name](n, pairs))
    for _ in range(3):
        perm = rng.permutation(n)
        labels = METHODS[name](n, permute(pairs, perm))
        mapped = {frozenset(int(perm[i]) for i in g) for g in partition(labels)}
        assert mapped == expected


@pytest.mark.parametrize("name", sorted(METHODS))
def test_repeatable(name: str) -> None:
    n, pairs = planted(np.random.default_rng(12))
    np.testing.assert_array_equal(METHODS[name](n, pairs), METHODS[name](n, pairs))


def test_planted_groups_recovered() -> None:
    rng = np.random.default_rng(13)
    n, pairs = planted(rng, p=1.0)  # complete groups: every method must recover them
    strong = pairs.select(pairs.score >= 0.5)
    truth = partition(connected_components(n, strong))
    assert partition(leiden(n, pairs, resolution=0.5)) == truth
    assert partition(agglomerative(n, pairs, threshold=0.5)) == truth
    assert partition(agglomerative(n, pairs, threshold=0.5, linkage="complete")) == truth


@pytest.mark.parametrize("linkage", ["average", "complete", "single"])
def test_dense_and_sparse_agree(linkage: str) -> None:
    rng = np.random.default_rng(14)
    for _ in range(30):
        n = int(rng.integers(3, 30))
        m = int(rng.integers(1, 3 * n))
        pairs = Pairs.from_arrays(rng.integers(0, n, m), rng.integers(0, n, m), rng.random(m))
        for threshold in (0.3, 0.6):
            kind: Any = linkage
            dense = agglomerative(n, pairs, threshold=threshold, linkage=kind)
            sparse = agglomerative(n, pairs, threshold=threshold, linkage=kind, dense_limit=0)
            np.testing.assert_array_equal(dense, sparse)


def test_components_never_merge_under_leiden_modularity() -> None:
    # two separate edges: modularity on the whole graph could not merge them either, but each
    # component must stay its own cluster regardless of objective
    pairs = Pairs.from_arrays([0, 2], [1, 3], [1.0, 1.0])
    assert leiden(4, pairs, objective="modularity").tolist() == [0, 0, 1, 1]


def test_cpm_resolution_one_splits_everything() -> None:
    assert leiden(6, two_triangles(), resolution=1.0).tolist() == list(range(6))


def test_canonical_labels() -> None:
    assert canonical_labels(np.array([7, 3, 7, 9, 3])).tolist() == [0, 1, 0, 2, 1]


def test_invalid_inputs() -> None:
    pairs = Pairs.from_arrays([0], [5], [0.9])
    with pytest.raises(InputError, match=r"pairs address rows 0..5 but there are only n=3"):
        connected_components(3, pairs)
    with pytest.raises(InputError, match="threshold must be > 0"):
        agglomerative(6, pairs, threshold=0.0)
    with pytest.raises(InputError, match="linkage must be"):
        agglomerative(6, pairs, threshold=0.5, linkage="ward")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="objective must be"):
        leiden(6, pairs, objective="surprise")  # type: ignore[arg-type]
    negative = Pairs.from_arrays([0], [1], [-0.5])
    with pytest.raises(InputError, match=r"pair \(0, 1\) has score -0.5"):
        leiden(2, negative, objective="modularity")
    assert leiden(2, negative, resolution=0.1).tolist() == [0, 1]  # CPM accepts negatives


@pytest.mark.parametrize("clusterer", ["components", "leiden", "agglomerative"])
def test_non_finite_scores_are_refused_not_looped_on(clusterer: str) -> None:
    pairs = Pairs.from_arrays([0, 1, 2, 0, 1], [1, 2, 3, 2, 3], [0.9, 0.9, 0.9, np.nan, np.nan])
    run = {
        "components": lambda: connected_components(4, pairs),
        "leiden": lambda: leiden(4, pairs, resolution=0.5),
        "agglomerative": lambda: agglomerative(4, pairs, threshold=0.5),
    }[clusterer]
    with pytest.raises(InputError, match=r"2 pair score\(s\) are not finite.*rows 0 and 2"):
        run()


@pytest.mark.parametrize("linkage", ["average", "complete"])
def test_a_threshold_near_zero_does_not_link_zero_or_missing_pairs(linkage: str) -> None:
    # the float32 slack must not take a tiny threshold down to 0: a pair scored 0, or a
    # missing pair (counted 0), does not reach 1e-6
    zero = Pairs.from_arrays([0], [1], [0.0])
    assert agglomerative(2, zero, threshold=1e-6, linkage=linkage).tolist() == [0, 1]
    chain = Pairs.from_arrays([0, 1], [1, 2], [0.9, 0.9])  # 0-2 missing
    expected = [0, 0, 1] if linkage == "complete" else [0, 0, 0]
    assert agglomerative(3, chain, threshold=1e-6, linkage=linkage).tolist() == expected


@pytest.mark.parametrize("clusterer", [connected_components, agglomerative, leiden])
def test_pairs_that_are_not_canonical_are_refused(clusterer: Any) -> None:
    score = np.array([0.9, 0.9, 0.9], np.float32)
    repeated = Pairs(np.array([0, 0, 1]), np.array([1, 1, 2]), score)
    self_pair = Pairs(np.array([0, 1, 1]), np.array([1, 1, 2]), score)
    unsorted = Pairs(np.array([1, 0]), np.array([2, 1]), score[:2])
    kwargs = {} if clusterer is connected_components else {"threshold": 0.8} \
        if clusterer is agglomerative else {"resolution": 0.5}
    for pairs in (repeated, self_pair, unsorted):
        with pytest.raises(InputError, match="Pairs.from_arrays"):
            clusterer(3, pairs, **kwargs)
    assert agglomerative(3, Pairs.from_arrays([0, 0, 1], [1, 1, 2], score),
                         threshold=0.8).tolist() == [0, 0, 1]
