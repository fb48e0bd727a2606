"""Character n-gram TF-IDF neighbours: lexical candidates that catch model numbers and OCR noise.

Sparse TF-IDF rows are L2-normalised, so a sparse product gives cosine similarity. Rows are
processed in blocks, so memory grows with ``block_size × n`` non-zeros, never ``n × n``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from neardup.pairs import Pairs


def char_tfidf(texts: Sequence[str], *, fit_texts: Sequence[str] | None = None) -> sp.csr_matrix:
    """L2-normalised character n-gram TF-IDF rows (the pair scorer's own representation)."""
    from neardup.scoring import char_ngram_matrix

    return char_ngram_matrix(texts, fit_texts=fit_texts)


def _top_k_rows(sims: sp.csr_matrix, k: int, exclude_offset: int | None) -> tuple[np.ndarray, np.ndarray]:
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    for r in range(sims.shape[0]):
        start, end = sims.indptr[r], sims.indptr[r + 1]
        idx = sims.indices[start:end]
        val = sims.data[start:end]
        if exclude_offset is not None:
            keep = idx != r + exclude_offset
            idx, val = idx[keep], val[keep]
        if idx.size > k:
            # score desc, then index asc: deterministic ties
            order = np.lexsort((idx, -val))[:k]
            idx = idx[order]
        rows.append(np.full(idx.size, r, dtype=np.int64))
        cols.append(idx.astype(np.int64))
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(rows), np.concatenate(cols)


def lexical_cross_knn(
    queries: Sequence[str],
    base: Sequence[str],
    *,
    k: int = 20,
    block_size: int = 1024,
    matrix: sp.csr_matrix | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Row pairs ``(query_row, base_row)``: each query's ``k`` most similar base texts.

    ``matrix``: TF-IDF rows of ``queries + base`` (in that order) already fitted, to reuse.
    """
    if matrix is None:
        matrix = char_tfidf(list(queries) + list(base))
    q, b = matrix[: len(queries)], matrix[len(queries) :]
    bt = b.T.tocsc()
    rows_out, cols_out = [], []
    for start in range(0, q.shape[0], block_size):
        sims = (q[start : start + block_size] @ bt).tocsr()
        r, c = _top_k_rows(sims, k, None)
        rows_out.append(r + start)
        cols_out.append(c)
    if not rows_out:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(rows_out), np.concatenate(cols_out)


def lexical_knn_pairs(
    texts: Sequence[str],
    *,
    k: int = 20,
    block_size: int = 1024,
    matrix: sp.csr_matrix | None = None,
) -> Pairs:
    """Each text's ``k`` nearest texts by character n-gram TF-IDF cosine, as scored pairs.

    Pass ``matrix`` (rows of :func:`char_tfidf` for ``texts``) to reuse one the pair scorer
    already fitted.
    """
    if matrix is None:
        matrix = char_tfidf(texts)
    mt = matrix.T.tocsc()
    left, right, score = [], [], []
    for start in range(0, matrix.shape[0], block_size):
        sims = (matrix[start : start + block_size] @ mt).tocsr()
        r, c = _top_k_rows(sims, k, exclude_offset=start)
        left.append(r + start)
        right.append(c)
        score.append(np.asarray(sims[r, c]).ravel())
    if not left:
        return Pairs.empty()
    return Pairs.from_arrays(np.concatenate(left), np.concatenate(right), np.concatenate(score))
