"""Blockwise and approximate candidate search against brute force on small data."""

from __future__ import annotations

import numpy as np
import pytest

from neardup.candidates import knn_search, lexical_cross_knn, lexical_knn_pairs
from neardup.candidates.lexical import char_tfidf, project_tfidf
from neardup.synth import make_near_duplicates


def brute_force_lexical(texts: list[str], k: int) -> set[tuple[int, int]]:
    """Each row's k best rows by full dense TF-IDF cosine (score desc, index asc), sims > 0."""
    sims = (char_tfidf(texts) @ char_tfidf(texts).T).toarray()
    np.fill_diagonal(sims, 0.0)
    out = set()
    for r in range(len(texts)):
        order = np.lexsort((np.arange(len(texts)), -sims[r]))
        for c in order[:k]:
            if sims[r, c] > 0:
                out.add((min(r, int(c)), max(r, int(c))))
    return out


@pytest.mark.parametrize("block_size", [None, 1, 13, 500])
def test_blockwise_lexical_knn_equals_brute_force(block_size: int | None) -> None:
    texts = make_near_duplicates(240, seed=11).texts + ["zzz qqq", "xyzzy"]  # rows with few ties
    pairs = lexical_knn_pairs(texts, k=7, block_size=block_size, method="exact")
    assert set(zip(pairs.left.tolist(), pairs.right.tolist())) == brute_force_lexical(texts, 7)
    # scores are the exact cosines
    x = char_tfidf(texts)
    expected = np.asarray(x[pairs.left].multiply(x[pairs.right]).sum(axis=1)).ravel()
    np.testing.assert_allclose(pairs.score, expected, rtol=1e-5, atol=1e-6)


def test_blockwise_lexical_cross_knn_equals_brute_force() -> None:
    c = make_near_duplicates(200, seed=12)
    queries, base = c.texts[:50], c.texts[50:]
    rows, cols = lexical_cross_knn(queries, base, k=5, block_size=9, method="exact")
    x = char_tfidf(queries + base)
    sims = (x[:50] @ x[50:].T).toarray()
    expected = set()
    for r in range(50):
        for col in np.lexsort((np.arange(150), -sims[r]))[:5]:
            if sims[r, col] > 0:
                expected.add((r, int(col)))
    assert set(zip(rows.tolist(), cols.tolist())) == expected


def test_projected_lexical_search_finds_the_near_duplicates() -> None:
    c = make_near_duplicates(1500, seed=13)
    exact = lexical_knn_pairs(c.texts, k=10, method="exact")
    projected = lexical_knn_pairs(c.texts, k=10, method="projected")

    def dup_pairs(p):  # type: ignore[no-untyped-def]
        same = c.groups[p.left] == c.groups[p.right]
        return set(zip(p.left[same].tolist(), p.right[same].tolist()))

    found, truth = dup_pairs(projected), dup_pairs(exact)
    assert len(found & truth) >= 0.9 * len(truth)


def test_projection_estimates_cosines_and_is_deterministic() -> None:
    texts = make_near_duplicates(400, seed=14).texts
    x = char_tfidf(texts)
    p1, p2 = project_tfidf(x), project_tfidf(x)
    np.testing.assert_array_equal(p1, p2)
    exact = (x @ x.T).toarray()[np.triu_indices(400, 1)]
    approx = (p1 @ p1.T)[np.triu_indices(400, 1)]
    assert np.abs(approx - exact).mean() < 0.08  # ~ sqrt(1 / 256) per pair
    assert np.corrcoef(approx, exact)[0, 1] > 0.8


@pytest.mark.parametrize("method", ["ivf", "hnsw"])
def test_faiss_search_reads_float16_and_memmaps_block_by_block(method: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("faiss")
    rng = np.random.default_rng(15)
    centres = rng.standard_normal((40, 24))
    x = centres[rng.integers(0, 40, 3000)] + 0.4 * rng.standard_normal((3000, 24))
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float16)
    mm = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=np.float16,
                                   shape=x.shape)
    mm[:] = x
    mm.flush()
    ro = np.load(tmp_path / "x.npy", mmap_mode="r")
    a = knn_search(x.astype(np.float32), 6, method=method)  # type: ignore[arg-type]
    b = knn_search(ro, 6, method=method)  # type: ignore[arg-type]
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.scores, b.scores)


def test_nan_in_a_later_block_is_reported_with_its_row() -> None:
    pytest.importorskip("faiss")
    from neardup.candidates import knn as knn_module
    from neardup.errors import InputError

    x = np.ones((knn_module._FAISS_BLOCK_ROWS + 10, 4), np.float16)
    x[knn_module._FAISS_BLOCK_ROWS + 3, 1] = np.nan
    with pytest.raises(InputError, match=f"first: row {knn_module._FAISS_BLOCK_ROWS + 3}"):
        knn_search(x, 2, method="ivf")


@pytest.mark.parametrize("method", ["exact", "projected"])
@pytest.mark.parametrize("k", [0, -1])
def test_lexical_neighbours_refuse_k_below_one(method: str, k: int) -> None:
    from neardup.candidates import lexical_cross_knn, lexical_knn_pairs
    from neardup.errors import InputError

    texts = ["apple pie", "apple pies", "banana split"]
    with pytest.raises(InputError, match="k must be a positive integer"):
        lexical_knn_pairs(texts, k=k, method=method)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="k must be a positive integer"):
        lexical_cross_knn(["apple pie"], texts, k=k, method=method)  # type: ignore[arg-type]


def test_projection_weights_are_a_fixed_unit_variance_gaussian_scaled_by_dim() -> None:
    from neardup.candidates.lexical import projection_weights

    w = projection_weights(20_000, 64)
    assert w.dtype == np.float32 and w.shape == (20_000, 64)
    np.testing.assert_array_equal(w, projection_weights(20_000, 64))
    # E[(x @ w) . (y @ w)] = x . y needs E[w w^T] = I / dim over the projected coordinates
    assert abs(float(w.mean())) < 1e-3
    assert abs(float((w.astype(np.float64) ** 2).mean()) * 64 - 1.0) < 0.01
