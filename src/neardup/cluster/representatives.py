"""Pick the row that stands for each cluster (the one kept when deduplicating)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from neardup.errors import InputError
from neardup.pairs import Pairs

Strategy = Literal["first", "longest", "central"]


def choose_representatives(
    labels: np.ndarray,
    texts: Sequence[str] | None = None,
    *,
    strategy: Strategy = "first",
    pairs: Pairs | None = None,
    order: Sequence[Any] | np.ndarray | None = None,
) -> np.ndarray:
    """Boolean mask with exactly one True per cluster of ``labels``.

    Strategies:

    - ``"first"``: the smallest row position, or the smallest key in ``order`` when given
      (e.g. a timestamp, to keep the oldest row); equal keys fall back to row position.
    - ``"longest"``: the longest text (most content, e.g. the untruncated copy); ties go to
      the ``"first"`` row.
    - ``"central"``: the highest sum of scores of ``pairs`` edges to other members of its own
      cluster (the most typical member); ties, including clusters without internal edges, go
      to the ``"first"`` row. Needs ``pairs``.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or (labels.size and labels.dtype.kind not in "iu"):
        raise InputError(f"labels must be a 1-D integer array, got shape {labels.shape}, "
                         f"dtype {labels.dtype}")
    n = labels.size
    if strategy not in ("first", "longest", "central"):
        raise InputError(f'strategy must be "first", "longest" or "central", got {strategy!r}')
    if n == 0:
        return np.zeros(0, dtype=bool)

    # Rank of each row under the "first" rule; a stable sort breaks equal keys by position.
    if order is None:
        first_rank = np.arange(n, dtype=np.int64)
    else:
        keys = np.asarray(order)
        if keys.shape != (n,):
            raise InputError(f"order has {keys.shape[0] if keys.ndim else 0} values for {n} rows")
        first_rank = np.empty(n, dtype=np.int64)
        try:
            ranked = np.argsort(keys, kind="stable")
        except TypeError:
            kinds = sorted({type(k).__name__ for k in keys.tolist()})
            raise InputError(
                f"order mixes values that cannot be compared ({', '.join(kinds)}); give one "
                "sortable key per row (numbers, or strings, or dates), with no missing ones"
            ) from None
        first_rank[ranked] = np.arange(n, dtype=np.int64)

    if strategy == "first":
        primary = np.zeros(n, dtype=np.float64)
    elif strategy == "longest":
        if texts is None or len(texts) != n:
            got = "no texts" if texts is None else f"{len(texts)} texts"
            raise InputError(f'strategy="longest" needs one text per row: {got} for {n} labels')
        primary = -np.fromiter((len(t) for t in texts), dtype=np.float64, count=n)
    else:
        if pairs is None:
            raise InputError('strategy="central" needs the pairs the clusters were built from')
        if len(pairs) and int(max(pairs.left.max(), pairs.right.max())) >= n:
            raise InputError(
                f"pairs address row {int(max(pairs.left.max(), pairs.right.max()))} "
                f"but labels has only {n} rows"
            )
        inside = labels[pairs.left] == labels[pairs.right]
        w = pairs.score[inside].astype(np.float64)
        centrality = np.bincount(pairs.left[inside], w, n) + np.bincount(pairs.right[inside], w, n)
        primary = -centrality

    # Sort by (label, primary, first_rank) and keep the first row of each label.
    ranked = np.lexsort((first_rank, primary, labels))
    sorted_labels = labels[ranked]
    head = np.r_[True, sorted_labels[1:] != sorted_labels[:-1]]
    mask = np.zeros(n, dtype=bool)
    mask[ranked[head]] = True
    return mask
