"""Character n-gram TF-IDF neighbours: lexical candidates that catch model numbers and OCR noise.

Sparse TF-IDF rows are L2-normalised, so a sparse product gives cosine similarity.

Two ways to find each text's ``k`` nearest neighbours, chosen from the collection size:

- ``"exact"`` (the default up to :data:`AUTO_EXACT_MAX_ROWS` texts): query rows are multiplied
  against all rows in blocks, so memory grows with ``block_size x n`` scores, never ``n x n``;
  the top ``k`` per row are taken from each block with the same tie rule as embedding kNN
  (score descending, then index ascending; texts sharing no n-gram are never neighbours).
  Character n-grams are shared by almost every pair of texts (common bigrams), so each block
  product is nearly dense and the total work grows as ``n^2``: 107 s at 20,000 synthetic texts
  on the (shared) two cores here against 23 s for the projected search, hours at a million.
  The limit keeps every collection of ``BENCHMARKS.md``'s quality tables (at most 4,589 texts)
  on the exact path.
- ``"projected"`` (beyond): the TF-IDF rows are mapped to :data:`PROJECTION_DIM` dense
  dimensions with a Gaussian random projection (numpy, fixed seed), which preserves
  inner products in expectation (Johnson-Lindenstrauss; the standard deviation of a projected
  cosine is about ``sqrt((1 + cos^2) / PROJECTION_DIM)``, 0.06-0.09 at 256 dimensions), and the
  neighbours are searched with :func:`neardup.candidates.knn.knn_search` (IVF at this size).
  n-grams that occur in a single text are left out of the projection first: they add nothing
  to any pair's product, only noise, and they are most of the vocabulary of noisy text.
  The neighbour *list* is approximate; every candidate is then scored with the exact TF-IDF
  cosine by the pair scorer, so scores are never approximate. On 20,000 synthetic texts
  (:mod:`neardup.synth`) the 30 projected neighbours hold 96.3 % of the true duplicate pairs,
  the 30 exact ones 96.8 %.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import scipy.sparse as sp

from neardup._threads import run_chunks
from neardup.candidates.knn import _topk_block, check_k, knn_search
from neardup.errors import InputError
from neardup.pairs import Pairs

LexicalMethod = Literal["auto", "exact", "projected"]

#: Largest collection searched exactly by ``method="auto"`` (see the module docstring).
AUTO_EXACT_MAX_ROWS = 5_000
#: Dimensions of the random projection used beyond that.
PROJECTION_DIM = 256
#: Seed of the random projection: fixed, so results do not vary between runs.
PROJECTION_SEED = 0
# Rows per projection block (each thread multiplies whole blocks).
_PROJECT_ROWS = 16384
_MIN_PROJECT_ROWS = 1024
# Scores materialised per exact block (float32): 2**23 scores = 32 MB, as for embedding kNN.
_BLOCK_ELEMENTS = 1 << 23


def char_tfidf(texts: Sequence[str], *, fit_texts: Sequence[str] | None = None) -> sp.csr_matrix:
    """L2-normalised character n-gram TF-IDF rows (the pair scorer's own representation)."""
    from neardup.scoring import char_ngram_matrix

    return char_ngram_matrix(texts, fit_texts=fit_texts)


def _block_rows(n_base: int, block_size: int | None) -> int:
    return block_size or max(1, min(4096, _BLOCK_ELEMENTS // max(n_base, 1)))


def _exact_topk(
    q: sp.csr_matrix, base_t: sp.csc_matrix, k: int, block_size: int | None, self_join: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(rows, cols, scores)`` of each query row's ``k`` best base rows with a positive score."""
    n_base = base_t.shape[1]
    rows_out: list[np.ndarray] = []
    cols_out: list[np.ndarray] = []
    vals_out: list[np.ndarray] = []
    step = _block_rows(n_base, block_size)
    for start in range(0, q.shape[0], step):
        sims = (q[start : start + step] @ base_t).toarray()
        # texts with no n-gram in common are not neighbours, however few neighbours a row has
        sims[sims <= 0] = -np.inf
        if self_join:
            local = np.arange(sims.shape[0])
            sims[local, start + local] = -np.inf
        kk = min(k, n_base)
        idx, vals = _topk_block(sims, kk)
        keep = np.isfinite(vals)
        rows_out.append(np.broadcast_to(np.arange(start, start + sims.shape[0])[:, None],
                                        idx.shape)[keep])
        cols_out.append(idx[keep])
        vals_out.append(vals[keep])
    if not rows_out:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
    return (
        np.concatenate(rows_out).astype(np.int64),
        np.concatenate(cols_out).astype(np.int64),
        np.concatenate(vals_out).astype(np.float32),
    )


def projection_weights(n_features: int, dim: int = PROJECTION_DIM) -> np.ndarray:
    """The ``(n_features, dim)`` float32 Gaussian projection, entries ``N(0, 1 / dim)``.

    Drawn from :data:`PROJECTION_SEED` with numpy's ``Generator`` in float32, one row per
    n-gram: the same distribution as scikit-learn's ``GaussianRandomProjection``, drawn in
    about half the time of its float64 ``RandomState`` matrix (``benchmarks/components.py
    --only chunks``).
    """
    rng = np.random.default_rng(PROJECTION_SEED)
    weights = rng.standard_normal((n_features, dim), dtype=np.float32)
    weights *= np.float32(1.0 / np.sqrt(dim))
    return weights


def project_tfidf(matrix: sp.csr_matrix, dim: int = PROJECTION_DIM) -> np.ndarray:
    """Dense ``(n, dim)`` float32 random projection of TF-IDF rows (see the module docstring).

    Inner products of the result estimate the TF-IDF cosines without bias; rows are not
    re-normalised, so they keep that meaning.
    """
    x = sp.csr_matrix(matrix, dtype=np.float32)
    df = np.bincount(x.indices, minlength=x.shape[1])
    shared = np.flatnonzero(df >= 2)
    if shared.size == 0:
        return np.zeros((x.shape[0], dim), dtype=np.float32)
    x = x[:, shared]
    weights = projection_weights(shared.size, dim)
    out = np.empty((x.shape[0], dim), dtype=np.float32)

    def block(s: int, e: int) -> None:
        out[s:e] = x[s:e] @ weights

    run_chunks(block, x.shape[0], _PROJECT_ROWS, _MIN_PROJECT_ROWS)
    return out


def _choose(method: LexicalMethod, n: int) -> str:
    if method not in ("auto", "exact", "projected"):
        raise InputError(f'method must be "auto", "exact" or "projected", got {method!r}')
    if method == "auto":
        return "exact" if n <= AUTO_EXACT_MAX_ROWS else "projected"
    return method


def lexical_cross_knn(
    queries: Sequence[str],
    base: Sequence[str],
    *,
    k: int = 20,
    block_size: int | None = None,
    matrix: sp.csr_matrix | None = None,
    method: LexicalMethod = "auto",
) -> tuple[np.ndarray, np.ndarray]:
    """Row pairs ``(query_row, base_row)``: each query's ``k`` most similar base texts.

    ``matrix``: TF-IDF rows of ``queries + base`` (in that order) already fitted, to reuse.
    ``method``: ``"exact"``, ``"projected"`` or ``"auto"`` (by the number of base texts; see
    the module docstring).
    """
    check_k(k)
    if matrix is None:
        matrix = char_tfidf(list(queries) + list(base))
    nq = len(queries)
    chosen = _choose(method, len(base))
    if chosen == "exact":
        q, b = matrix[:nq], matrix[nq:]
        rows, cols, _ = _exact_topk(q, b.T.tocsc(), k, block_size, self_join=False)
        return rows, cols
    dense = project_tfidf(matrix)
    nb = knn_search(dense[nq:], k=min(k, max(len(base), 1)), queries=dense[:nq])
    rows = np.repeat(np.arange(nq, dtype=np.int64), nb.k)
    cols = nb.indices.ravel()
    ok = cols >= 0
    return rows[ok], cols[ok]


def lexical_knn_pairs(
    texts: Sequence[str],
    *,
    k: int = 20,
    block_size: int | None = None,
    matrix: sp.csr_matrix | None = None,
    method: LexicalMethod = "auto",
) -> Pairs:
    """Each text's ``k`` nearest texts by character n-gram TF-IDF cosine, as scored pairs.

    Pass ``matrix`` (rows of :func:`char_tfidf` for ``texts``) to reuse one the pair scorer
    already fitted. Scores are exact TF-IDF cosines with ``method="exact"`` and projected
    estimates with ``"projected"`` (the dedup pipeline rescores every candidate exactly).
    """
    check_k(k)
    if matrix is None:
        matrix = char_tfidf(texts)
    n = matrix.shape[0]
    if n < 2:
        return Pairs.empty()
    chosen = _choose(method, n)
    if chosen == "exact":
        rows, cols, vals = _exact_topk(matrix, matrix.T.tocsc(), k, block_size, self_join=True)
        return Pairs.from_arrays(rows, cols, vals)
    neighbors = knn_search(project_tfidf(matrix), k=min(k, n - 1))
    return neighbors.to_pairs()
