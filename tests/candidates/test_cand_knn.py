"""Embedding kNN: exact blockwise search, faiss HNSW/IVF, pairs and determinism."""

from __future__ import annotations

import numpy as np
import pytest

from neardup.candidates import Neighbors, cross_knn, knn_search
from neardup.errors import InputError


def unit(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def brute_force(
    base: np.ndarray, queries: np.ndarray, k: int, self_join: bool
) -> tuple[np.ndarray, np.ndarray]:
    sims = queries @ base.T
    if self_join:
        np.fill_diagonal(sims, -np.inf)
    idx = np.empty((queries.shape[0], k), np.int64)
    for r in range(queries.shape[0]):
        # score desc, then index asc
        idx[r] = np.lexsort((np.arange(base.shape[0]), -sims[r]))[:k]
    return idx, np.take_along_axis(sims, idx, axis=1)


def pair_dict(pairs, perm=None):  # type: ignore[no-untyped-def]
    out = {}
    for a, b, s in zip(pairs.left.tolist(), pairs.right.tolist(), pairs.score.tolist()):
        if perm is not None:
            a, b = sorted((int(perm[a]), int(perm[b])))
        out[(a, b)] = s
    return out


@pytest.mark.parametrize("block_size", [None, 7, 1000])
def test_exact_equals_brute_force(block_size: int | None) -> None:
    rng = np.random.default_rng(0)
    x = unit(rng, 300, 16)
    x[5] = x[17]  # exact duplicates: equal scores must be ordered by index
    x[40] = x[17]
    nb = knn_search(x, 10, method="exact", block_size=block_size)
    idx, sims = brute_force(x, x, 10, self_join=True)
    np.testing.assert_array_equal(nb.indices, idx)
    np.testing.assert_allclose(nb.scores, sims, rtol=0, atol=1e-5)
    assert nb.indices.dtype == np.int64 and nb.scores.dtype == np.float32
    assert not (nb.indices == np.arange(300)[:, None]).any()  # no self matches
    assert nb.indices[17, :2].tolist() == [5, 40]


def test_ties_at_kth_place_go_to_smaller_index() -> None:
    x = np.ones((6, 2), np.float32) / np.sqrt(2)  # every pair ties
    nb = knn_search(x, 2, method="exact")
    assert nb.indices.tolist() == [[1, 2], [0, 2], [0, 1], [0, 1], [0, 1], [0, 1]]


@pytest.mark.parametrize("method", ["exact", "hnsw", "ivf"])
def test_k_larger_than_rows_gives_every_neighbour_that_exists(method: str) -> None:
    # "k=10**9" means "all of them": the width is what can exist, not a (3, 10**9) array
    x = unit(np.random.default_rng(1), 3, 4)
    for k in (5, 10**9):
        nb = knn_search(x, k, method=method)  # type: ignore[arg-type]
        assert nb.indices.shape == (3, 2)
        assert (nb.indices >= 0).all() and np.isfinite(nb.scores).all()
    cross = knn_search(x, 10**9, queries=x[:1], method=method)  # type: ignore[arg-type]
    assert cross.indices.shape == (1, 3)


def test_float16_overflow_and_zero_width() -> None:
    # components beyond float16's range must not turn into inf in the IVF lists
    x = (np.random.default_rng(0).normal(size=(200, 8)) * 1e5).astype(np.float32)
    exact, ivf = knn_search(x, 3, method="exact"), knn_search(x, 3, method="ivf", nprobe=10**6)
    assert np.isfinite(ivf.scores).all()
    assert (exact.indices == ivf.indices).mean() > 0.95
    with pytest.raises(InputError, match="dimension 0"):
        knn_search(np.zeros((3, 0), np.float32), 2, method="ivf")


def test_to_pairs_is_symmetric_canonical() -> None:
    x = unit(np.random.default_rng(2), 200, 8)
    nb = knn_search(x, 5, method="exact")
    pairs = nb.to_pairs()
    assert (pairs.left < pairs.right).all()
    keys = pairs.left * 200 + pairs.right
    assert (np.diff(keys) > 0).all()  # sorted and unique
    # every listed neighbour relation appears once, whichever side listed it
    expected = {tuple(sorted((i, int(j)))) for i in range(200) for j in nb.indices[i]}
    assert set(zip(pairs.left.tolist(), pairs.right.tolist())) == expected


def test_to_pairs_min_score_and_warning_when_k_bites() -> None:
    x = np.ones((5, 3), np.float32) / np.sqrt(3)
    nb = knn_search(x, 2, method="exact")
    with pytest.warns(UserWarning, match="k=2 may have cut pairs: 5 of 5 rows"):
        pairs = nb.to_pairs(min_score=0.9)
    assert len(pairs) > 0
    rng = np.random.default_rng(3)
    far = knn_search(unit(rng, 50, 32), 3, method="exact")
    pairs = far.to_pairs(min_score=0.99)  # no row is that close: nothing cut, no warning
    assert len(pairs) == 0


def test_cross_knn_points_into_base() -> None:
    rng = np.random.default_rng(4)
    base = unit(rng, 100, 8)
    queries = np.vstack([base[[3, 50]], unit(rng, 2, 8)])
    nb = cross_knn(queries, base, 4, method="exact")
    assert nb.cross and nb.indices.shape == (4, 4)
    assert nb.indices[0, 0] == 3 and nb.indices[1, 0] == 50  # identical rows are not "self"
    idx, _ = brute_force(base, queries, 4, self_join=False)
    np.testing.assert_array_equal(nb.indices, idx)
    with pytest.raises(InputError, match="needs a self-join"):
        nb.to_pairs()


def test_exact_is_order_independent() -> None:
    rng = np.random.default_rng(5)
    x = unit(rng, 150, 12)
    perm = rng.permutation(150)
    p1 = knn_search(x, 6, method="exact").to_pairs()
    p2 = knn_search(x[perm], 6, method="exact").to_pairs()
    d1, d2 = pair_dict(p1), pair_dict(p2, perm)
    assert d1.keys() == d2.keys()
    np.testing.assert_allclose([d1[k] for k in d1], [d2[k] for k in d1], atol=1e-6)


@pytest.mark.parametrize(
    "args, message",
    [
        ((np.zeros(3),), "must be a 2-D array"),
        ((np.array([[0.0, np.nan]]),), r"NaN or infinite values in 1 rows \(first: row 0\)"),
        ((np.zeros((3, 2)), 0), "k must be a positive integer"),
    ],
)
def test_invalid_inputs(args: tuple, message: str) -> None:
    with pytest.raises(InputError, match=message):
        knn_search(*args)


def test_dimension_mismatch() -> None:
    with pytest.raises(InputError, match="queries have dimension 3 but embeddings have 2"):
        cross_knn(np.zeros((1, 3)), np.zeros((2, 2)), 1)


def test_neighbors_is_frozen() -> None:
    nb = Neighbors(np.zeros((1, 1), np.int64), np.zeros((1, 1), np.float32))
    with pytest.raises(AttributeError):
        nb.indices = np.zeros((1, 1))  # type: ignore[misc]


def recall(approx: np.ndarray, exact: np.ndarray) -> float:
    hits = sum(len(set(a.tolist()) & set(e.tolist())) for a, e in zip(approx, exact))
    return hits / exact.size


def test_hnsw_recall_at_10() -> None:
    pytest.importorskip("faiss")
    x = unit(np.random.default_rng(6), 2000, 32)
    exact = knn_search(x, 10, method="exact")
    hnsw = knn_search(x, 10, method="hnsw")
    assert not (hnsw.indices == np.arange(2000)[:, None]).any()
    assert recall(hnsw.indices, exact.indices) >= 0.95
    # rows come back sorted by score, descending
    assert (np.diff(hnsw.scores, axis=1) <= 0).all()


def test_ivf_recall_on_clustered_data() -> None:
    pytest.importorskip("faiss")
    rng = np.random.default_rng(7)
    centres = rng.standard_normal((100, 32))
    x = centres[rng.integers(0, 100, 2000)] + 0.5 * rng.standard_normal((2000, 32))
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    exact = knn_search(x, 10, method="exact")
    ivf = knn_search(x, 10, method="ivf")
    assert recall(ivf.indices, exact.indices) >= 0.95


@pytest.mark.parametrize("method", ["hnsw", "ivf"])
def test_faiss_methods_are_deterministic_and_order_independent(method: str) -> None:
    pytest.importorskip("faiss")
    rng = np.random.default_rng(8)
    x = unit(rng, 1500, 16)
    perm = rng.permutation(1500)
    a = knn_search(x, 5, method=method)  # type: ignore[arg-type]
    b = knn_search(x, 5, method=method)  # type: ignore[arg-type]
    np.testing.assert_array_equal(a.indices, b.indices)
    c = knn_search(x[perm], 5, method=method)  # type: ignore[arg-type]
    assert pair_dict(a.to_pairs()).keys() == pair_dict(c.to_pairs(), perm).keys()


def test_auto_uses_exact_for_small_inputs() -> None:
    x = unit(np.random.default_rng(9), 50, 4)
    np.testing.assert_array_equal(
        knn_search(x, 3).indices, knn_search(x, 3, method="exact").indices
    )


def test_faiss_exact_path_equals_numpy_path_under_heavy_ties() -> None:
    pytest.importorskip("faiss")
    rng = np.random.default_rng(11)
    # 400 rows drawn from 25 distinct vectors: nearly every k-th place is a tie
    x = unit(rng, 25, 8)[rng.integers(0, 25, size=400)]
    for queries in (None, x[:60]):
        fast = knn_search(x, 9, method="exact", queries=queries)  # faiss.knn
        slow = knn_search(x, 9, method="exact", queries=queries, block_size=64)  # numpy
        np.testing.assert_array_equal(fast.indices, slow.indices)
        np.testing.assert_allclose(fast.scores, slow.scores, rtol=0, atol=1e-6)


def test_exact_ties_do_not_depend_on_block_size_or_threads() -> None:
    # identical vectors score a few ulps apart under different BLAS blockings and thread
    # splits; the k-th place and the order within a row must not follow them
    faiss = pytest.importorskip("faiss")
    before = faiss.omp_get_max_threads()
    try:
        for seed in range(6):
            rng = np.random.default_rng(seed)
            # five sets of heavy ties, and one without ties whose scores must agree to the bit
            x = (unit(rng, 25, 8)[rng.integers(0, 25, size=400)] if seed else
                 unit(rng, 400, 64) * rng.uniform(0.5, 2.0, size=(400, 1)).astype(np.float32))
            ref = knn_search(x, 9, method="exact")
            for threads in (1, 2):
                faiss.omp_set_num_threads(threads)
                for block_size in (None, 7, 64, 400):
                    got = knn_search(x, 9, method="exact", block_size=block_size)
                    np.testing.assert_array_equal(got.indices, ref.indices)
                    np.testing.assert_array_equal(got.scores, ref.scores)
    finally:
        faiss.omp_set_num_threads(before)
