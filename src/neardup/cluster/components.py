"""Connected components: every chain of links is one cluster."""

from __future__ import annotations

import numpy as np

from neardup.cluster._graph import check_graph, component_labels
from neardup.pairs import Pairs


def connected_components(n: int, pairs: Pairs) -> np.ndarray:
    """Label rows by connected component of the graph whose edges are ``pairs``.

    Every pair is an edge whatever its score (threshold the pairs first). Fast and simple, but
    one spurious link merges two groups, so long chains of loosely similar texts end up in one
    cluster; use :func:`~neardup.cluster.leiden.leiden` or
    :func:`~neardup.cluster.agglomerative.agglomerative` to cut chains.

    Returns canonical ``int64`` labels (clusters numbered by their smallest row).
    """
    n = check_graph(n, pairs)
    return component_labels(n, pairs.left, pairs.right)
