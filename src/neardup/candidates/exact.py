"""Exact duplicates after normalisation.

Two rows are exact duplicates when their normalised texts (see :func:`neardup.text.normalize`:
NFKC, case-folded, punctuation and runs of whitespace folded to one space) are identical.
Rows whose normalised text is empty (blank, or punctuation only) never match anything: an
empty string carries no evidence that two rows say the same thing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from neardup.pairs import Pairs
from neardup.text import normalize, normalize_all

Normalizer = Callable[[str], str]


def exact_groups(texts: Sequence[str], *, normalizer: Normalizer = normalize) -> np.ndarray:
    """Label rows so that rows with identical non-empty normalised text share a label.

    Returns ``int64`` labels of length ``len(texts)`` with canonical numbering: labels appear
    in order of their first row (0, 1, 2, ...). Each row with an empty normalised text gets a
    label of its own.
    """
    return labels_from_keys(normalize_all(texts, normalizer))


def labels_from_keys(keys: Sequence[str]) -> np.ndarray:
    """Canonical group labels for already-normalised keys (empty keys stay singletons)."""
    labels = np.empty(len(keys), dtype=np.int64)
    first_label: dict[str, int] = {}
    next_label = 0
    # Assigning labels in row order makes the numbering canonical without a relabel pass.
    for row, key in enumerate(keys):
        if not key:
            labels[row] = next_label
            next_label += 1
            continue
        label = first_label.get(key)
        if label is None:
            label = first_label[key] = next_label
            next_label += 1
        labels[row] = label
    return labels


def group_pairs(labels: np.ndarray, score: float = 1.0) -> Pairs:
    """Star edges from each group's first row to its other rows, all with ``score``.

    A group of size ``g`` yields ``g - 1`` edges rather than ``g * (g - 1) / 2``: enough to
    connect the group (connected components, Leiden) while staying linear when one boilerplate
    text repeats thousands of times. Linkage methods that need every pair (average/complete)
    should cluster one representative per group instead.
    """
    labels = np.asarray(labels, dtype=np.int64)
    if labels.size == 0:
        return Pairs.empty()
    # return_index gives the first row of each label, whatever the numbering.
    uniq, first_row = np.unique(labels, return_index=True)
    hub = first_row[np.searchsorted(uniq, labels)]
    rows = np.arange(labels.size, dtype=np.int64)
    keep = hub != rows
    return Pairs.from_arrays(hub[keep], rows[keep], np.full(int(keep.sum()), score, np.float32))


def exact_pairs(texts: Sequence[str], *, normalizer: Normalizer = normalize) -> Pairs:
    """Pairs of exact duplicates (score 1.0) as star edges: each group's first row to the others.

    The output is linear, not quadratic, in group size (``g - 1`` pairs for a group of ``g``
    rows), so the pairs connect each group without listing every pair inside it.
    """
    return group_pairs(exact_groups(texts, normalizer=normalizer))
