"""Agglomerative clustering solves only the components of edges above the cut: same result."""

from __future__ import annotations

import numpy as np
import pytest

from neardup.cluster import agglomerative, canonical_labels
from neardup.pairs import Pairs


def reference(n: int, pairs: Pairs, threshold: float, linkage: str) -> np.ndarray:
    """scipy linkage on the full n x n similarity matrix (missing pairs = 0), cut at threshold."""
    from scipy.cluster.hierarchy import fcluster
    from scipy.cluster.hierarchy import linkage as scipy_linkage
    from scipy.spatial.distance import squareform

    sim = np.zeros((n, n))
    sim[pairs.left, pairs.right] = pairs.score
    sim[pairs.right, pairs.left] = pairs.score
    dist = 1.0 - sim
    np.fill_diagonal(dist, 0.0)
    tree = scipy_linkage(squareform(dist, checks=False), method=linkage)
    return canonical_labels(fcluster(tree, t=1.0 - threshold + 1e-6, criterion="distance"))


def _planted_graph(
    seed: int, n: int, *, n_groups: int, n_edges: int, strong: float, step: int
) -> Pairs:
    """A connected kNN-like graph of weak edges (below 0.45) with strong clusters planted in it
    (``strong`` and up, ``1 / step`` apart). Scores are distinct: no exact ties, whose order
    scipy and the sparse merge may break differently."""
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, n_groups, n)
    a = rng.integers(0, n, n_edges)
    b = rng.integers(0, n, n_edges)
    score = rng.permutation(n_edges).astype(np.float32) / n_edges * 0.45
    same = groups[a] == groups[b]
    score[same] = strong + rng.permutation(int(same.sum())).astype(np.float32) / step
    return Pairs.from_arrays(a, b, score)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("linkage", ["average", "complete"])
def test_agglomerative_equals_full_dense_linkage(seed: int, linkage: str) -> None:
    n = 120
    pairs = _planted_graph(seed, n, n_groups=35, n_edges=900, strong=0.55, step=1000)
    for dense_limit in (2000, 0):
        got = agglomerative(n, pairs, threshold=0.5, linkage=linkage, dense_limit=dense_limit)
        np.testing.assert_array_equal(got, reference(n, pairs, 0.5, linkage))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("linkage", ["average", "complete"])
def test_cliques_above_the_cut_merge_whole_and_the_rest_still_clusters(seed: int, linkage: str) -> None:
    """Components that are cliques of strong edges are settled without a linkage run; mixed
    with non-clique components and weak edges, the labels stay those of full dense linkage."""
    rng = np.random.default_rng(100 + seed)
    lefts, rights, scores = [], [], []
    start = 0
    for size in (2, 3, 4, 5, 6, 3, 7):  # cliques, every pair strong
        rows = np.arange(start, start + size)
        a, b = np.triu_indices(size, 1)
        lefts.append(rows[a]); rights.append(rows[b])
        scores.append(0.6 + 0.3 * rng.random(a.size))
        start += size
    for size in (4, 6):  # strong chains with a missing pair: not cliques, averages decide
        rows = np.arange(start, start + size)
        lefts.append(rows[:-1]); rights.append(rows[1:])
        scores.append(0.55 + 0.4 * rng.random(size - 1))
        start += size
    n = start + 5  # and a few singletons
    weak_a, weak_b = rng.integers(0, n, 60), rng.integers(0, n, 60)
    lefts.append(weak_a); rights.append(weak_b); scores.append(0.4 * rng.random(60))
    pairs = Pairs.from_arrays(np.concatenate(lefts), np.concatenate(rights),
                              np.concatenate(scores).astype(np.float32))
    got = agglomerative(n, pairs, threshold=0.5, linkage=linkage)
    np.testing.assert_array_equal(got, reference(n, pairs, 0.5, linkage))


@pytest.mark.parametrize("stall_ratio", [1, 3, 10**9])
@pytest.mark.parametrize("linkage", ["average", "complete"])
def test_rounds_that_stall_hand_over_to_the_chain(
    monkeypatch: pytest.MonkeyPatch, stall_ratio: int, linkage: str
) -> None:
    """The vectorised rounds stop when few clusters merge per round (10**9: at once) and the
    nearest-neighbour chain finishes the reduced graph: still the full dense linkage."""
    import importlib

    module = importlib.import_module("neardup.cluster.agglomerative")
    monkeypatch.setattr(module, "STALL_RATIO", stall_ratio)
    for seed in range(4):
        pairs = _planted_graph(seed, 150, n_groups=30, n_edges=1200, strong=0.5, step=2000)
        got = agglomerative(150, pairs, threshold=0.5, linkage=linkage)
        np.testing.assert_array_equal(got, reference(150, pairs, 0.5, linkage))


def test_a_chain_with_rising_scores_merges_one_pair_per_round_and_still_finishes() -> None:
    """The worst case for rounds (each round merges only the chain's top pair) is handed to the
    chain fallback; average linkage still gives scipy's answer."""
    n = 400
    rows = np.arange(n - 1)
    pairs = Pairs.from_arrays(rows, rows + 1, (0.5 + 0.49 * rows / n).astype(np.float32))
    got = agglomerative(n, pairs, threshold=0.45)
    np.testing.assert_array_equal(got, reference(n, pairs, 0.45, "average"))
