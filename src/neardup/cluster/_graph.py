"""Shared helpers: input checks, canonical labels, per-component iteration."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from neardup.errors import InputError
from neardup.pairs import Pairs


def check_graph(n: int, pairs: Pairs) -> int:
    """Validate ``n`` and that every pair addresses a row in ``0..n-1``; return ``n``."""
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise InputError(f"n must be a non-negative integer, got {n!r}")
    n = int(n)
    if len(pairs):
        lo = int(min(pairs.left.min(), pairs.right.min()))
        hi = int(max(pairs.left.max(), pairs.right.max()))
        if lo < 0 or hi >= n:
            raise InputError(
                f"pairs address rows {lo}..{hi} but there are only n={n} rows (0..{n - 1}); "
                "pass the number of rows the pairs were built from"
            )
        left, right = pairs.left, pairs.right
        after, before = left[1:], left[:-1]  # views: comparisons only, no int64 temporaries
        ordered = (left < right).all() and bool(
            ((after > before) | ((after == before) & (right[1:] > right[:-1]))).all()
        )
        if not ordered:
            # the clusterings count pairs (a clique test, averages over cross pairs): a repeated
            # pair or a self-pair would count twice or as a cross pair
            raise InputError(
                "pairs are not canonical (each pair once, left < right, sorted): build them "
                "with Pairs.from_arrays(left, right, score), which orders each pair, drops "
                "self-pairs and keeps the highest score of repeats"
            )
        bad = ~np.isfinite(pairs.score)
        if bad.any():
            # NaN compares false both ways, so a clustering would neither link nor retire it
            # (average linkage looped forever); name the pair instead
            i = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"{int(bad.sum())} pair score(s) are not finite, the first "
                f"{float(pairs.score[i])} for rows {int(pairs.left[i])} and "
                f"{int(pairs.right[i])}; the scorer or the embeddings produced NaN or infinity: "
                "check the model's vectors for NaN"
            )
    return n


def canonical_labels(labels: np.ndarray) -> np.ndarray:
    """Renumber so that clusters appear in order of their smallest row: 0, 1, 2, ..."""
    labels = np.asarray(labels)
    if labels.size == 0:
        return np.zeros(0, dtype=np.int64)
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(first.size, dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(first.size, dtype=np.int64)
    return rank[inverse.ravel()]


def component_labels(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Canonical connected-component labels of the undirected graph ``(left, right)``."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if n == 0:
        return np.zeros(0, dtype=np.int64)
    # Unit data: csgraph would treat an explicit 0.0 score as "no edge".
    adj = coo_matrix((np.ones(left.size, dtype=np.int8), (left, right)), shape=(n, n)).tocsr()
    _, labels = connected_components(adj, directed=False)
    return canonical_labels(labels)


@dataclass(frozen=True)
class Component:
    """One connected component: its rows (ascending) and its edges in local indices."""

    rows: np.ndarray  # int64, ascending global row positions
    left: np.ndarray  # int64 local indices into rows
    right: np.ndarray  # int64 local indices into rows
    weight: np.ndarray  # float64 edge scores


def iter_components(
    n: int,
    pairs: Pairs,
    min_size: int = 2,
    *,
    labels: np.ndarray | None = None,
    skip: np.ndarray | None = None,
) -> Iterator[Component]:
    """Yield each connected component with at least ``min_size`` rows, by smallest row.

    ``labels``: the canonical component labels of ``pairs`` when the caller has them already
    (every pair must join two rows of the same label). ``skip``: one bool per component;
    those marked are not yielded.
    """
    if labels is None:
        labels = component_labels(n, pairs.left, pairs.right)
    if n == 0:
        return
    n_comp = int(labels.max()) + 1
    sizes = np.bincount(labels, minlength=n_comp)
    row_order = np.argsort(labels, kind="stable")  # rows grouped by component, ascending
    row_start = np.r_[0, np.cumsum(sizes)]
    local = np.empty(n, dtype=np.int64)
    local[row_order] = np.arange(n, dtype=np.int64) - row_start[labels[row_order]]
    edge_comp = labels[pairs.left]
    edge_order = np.argsort(edge_comp, kind="stable")
    edge_start = np.r_[0, np.cumsum(np.bincount(edge_comp, minlength=n_comp))]
    weight = pairs.score.astype(np.float64)
    wanted = sizes >= min_size
    if skip is not None:
        wanted &= ~np.asarray(skip, dtype=bool)
    for c in np.flatnonzero(wanted).tolist():
        e = edge_order[edge_start[c] : edge_start[c + 1]]
        yield Component(
            rows=row_order[row_start[c] : row_start[c + 1]],
            left=local[pairs.left[e]],
            right=local[pairs.right[e]],
            weight=weight[e],
        )
