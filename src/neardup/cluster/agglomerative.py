"""Agglomerative clustering restricted to the candidate graph.

The similarity of two clusters is computed over *all* their cross pairs, and a pair that is not
in ``pairs`` counts as similarity 0:

- ``"average"``: mean over cross pairs, i.e. (sum of linking edge weights) / (|A| |B|). In a
  chain a-b-c with a-c missing, {a, b} and c are at (w_bc + 0) / 2, so poorly connected
  chains do not merge;
- ``"complete"``: minimum over cross pairs (0 unless every cross pair is linked);
- ``"single"``: maximum over cross pairs (equivalent to connected components of the pairs
  scoring at least ``threshold``).

Clusters merge, best pair first, while the best similarity is ``>= threshold``. Since a missing
pair counts 0 and ``threshold > 0``, clusters never span connected components, so each
component is solved on its own: components of up to ``dense_limit`` rows with scipy's
``linkage`` on the dense ``1 - similarity`` matrix and ``fcluster(t=1 - threshold)`` (equivalent
for these reducible linkages, whose merge heights never decrease), larger ones with an exact
sparse heap-based merge whose memory is linear in the number of pairs.

Comparisons allow a slack of ``1e-6`` because scores are float32: a score shown as 0.9 is
stored as 0.89999998 and must still pass ``threshold=0.9``.

Ties: when several cluster pairs have exactly the same similarity, the sparse merge takes the
pair whose smallest rows come first; scipy resolves ties in its own fixed order of the
(ascending-row) input. Both are deterministic for a fixed input; they can differ from each
other, or after the input is permuted, only when exactly tied similarities compete.
"""

from __future__ import annotations

import heapq
from typing import Literal

import numpy as np

from neardup.cluster._graph import (
    Component,
    canonical_labels,
    check_graph,
    component_labels,
    iter_components,
)
from neardup.errors import InputError
from neardup.pairs import Pairs

Linkage = Literal["average", "single", "complete"]

# Absolute slack on similarity comparisons: float32 scores carry ~6e-8 relative error, and
# averages of them add float64 rounding; nothing meaningful is decided below 1e-6.
TOLERANCE = 1e-6
# Components up to this many rows use a dense (m x m) scipy linkage: 2,000 rows is a 32 MB
# float64 matrix and tens of milliseconds. Dense linkage is quadratic in rows whatever the
# number of edges (3,000 rows already take ~1 s, 20,000 rows ~1 min), while the sparse merge
# scales with edges, so bigger components go sparse.
DENSE_LIMIT = 2000


def agglomerative(
    n: int,
    pairs: Pairs,
    *,
    threshold: float,
    linkage: Linkage = "average",
    dense_limit: int = DENSE_LIMIT,
) -> np.ndarray:
    """Merge clusters while their linkage similarity is ``>= threshold`` (missing pairs = 0).

    Args:
        n: number of rows.
        pairs: candidate edges with similarity scores (thresholding them first is optional:
            pairs below ``threshold`` still count towards averages).
        threshold: similarity in (0, 1] at which clusters stop merging.
        linkage: ``"average"``, ``"single"`` or ``"complete"``.
        dense_limit: largest component solved with scipy's dense linkage; bigger components
            use the sparse merge (same result up to exact ties, see the module docstring).

    Returns canonical ``int64`` labels (clusters numbered by their smallest row).
    """
    n = check_graph(n, pairs)
    if linkage not in ("average", "single", "complete"):
        raise InputError(f'linkage must be "average", "single" or "complete", got {linkage!r}')
    if not threshold > 0:
        raise InputError(
            f"threshold must be > 0, got {threshold!r}: missing pairs count as similarity 0, "
            "so a threshold <= 0 would merge rows that are not linked at all"
        )
    cut = float(threshold) - TOLERANCE
    if linkage == "single":
        # Single linkage at a cut = connected components of the edges at or above it.
        keep = pairs.score.astype(np.float64) >= cut
        return component_labels(n, pairs.left[keep], pairs.right[keep])

    # A cluster pair whose cross pairs all score below the cut never merges (its average,
    # minimum or maximum is below the cut too), so merges only happen inside connected
    # components of the edges at or above the cut: solve those, each with every pair inside
    # it (weaker pairs still count towards averages), and drop the pairs between them. On a
    # kNN candidate graph, which is one giant component, this is what keeps the work per
    # component small; the result is the same.
    strong = pairs.score.astype(np.float64) >= cut
    groups = component_labels(n, pairs.left[strong], pairs.right[strong])
    pairs = pairs.select(groups[pairs.left] == groups[pairs.right])
    labels = np.arange(n, dtype=np.int64)
    for comp in iter_components(n, pairs):
        m = comp.rows.size
        if m == 2:
            local = np.array([0, 0] if comp.weight.max() >= cut else [0, 1])
        elif m <= dense_limit:
            local = _dense(comp, cut, linkage)
        else:
            local = _sparse(comp, cut, linkage)
        # Label by the smallest member row: unique across components, canonicalised below.
        first = np.full(m, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(first, local, comp.rows)
        labels[comp.rows] = first[local]
    return canonical_labels(labels)


def _dense(comp: Component, cut: float, linkage: Linkage) -> np.ndarray:
    from scipy.cluster.hierarchy import fcluster
    from scipy.cluster.hierarchy import linkage as scipy_linkage
    from scipy.spatial.distance import squareform

    m = comp.rows.size
    sim = np.zeros((m, m), dtype=np.float64)
    sim[comp.left, comp.right] = comp.weight
    sim[comp.right, comp.left] = comp.weight
    # Distances must be >= 0 for scipy; a score a hair above 1.0 (float noise) would go negative.
    dist = np.clip(1.0 - sim, 0.0, None)
    np.fill_diagonal(dist, 0.0)
    tree = scipy_linkage(squareform(dist, checks=False), method=linkage)
    return fcluster(tree, t=1.0 - cut, criterion="distance").astype(np.int64) - 1


def _sparse(comp: Component, cut: float, linkage: Linkage) -> np.ndarray:
    """Exact greedy merge over a heap, tracking per cluster pair (sum, count, min) of edges.

    Cluster ids are local indices (ascending rows); a merged cluster keeps the smaller id, so
    heap keys ``(-similarity, id_a, id_b)`` break ties by the clusters' smallest rows. Stale
    heap entries are skipped by comparing per-cluster version counters.
    """
    m = comp.rows.size
    size = [1] * m
    version = [0] * m
    # links[a][b] = [sum, count, min] over edges between clusters a and b
    links: list[dict[int, list[float]]] = [{} for _ in range(m)]
    for a, b, w in zip(comp.left.tolist(), comp.right.tolist(), comp.weight.tolist()):
        # One list shared by both directions, so an in-place update is seen from either side.
        links[a][b] = links[b][a] = [w, 1.0, w]

    def similarity(a: int, b: int, stats: list[float]) -> float:
        total, count, low = stats
        pairs_ab = size[a] * size[b]
        if linkage == "average":
            return total / pairs_ab
        return low if count == pairs_ab else min(low, 0.0)  # complete: a missing pair is 0

    heap: list[tuple[float, int, int, int, int]] = []

    def push_all(a: int) -> None:
        for b, stats in links[a].items():
            s = similarity(a, b, stats)
            if s >= cut:
                lo, hi = (a, b) if a < b else (b, a)
                heapq.heappush(heap, (-s, lo, hi, version[lo], version[hi]))

    for a in range(m):
        for b, stats in links[a].items():
            if a < b:
                s = similarity(a, b, stats)
                if s >= cut:
                    heap.append((-s, a, b, 0, 0))
    heapq.heapify(heap)

    parent = list(range(m))
    while heap:
        _, a, b, va, vb = heapq.heappop(heap)
        if version[a] != va or version[b] != vb or parent[a] != a or parent[b] != b:
            continue  # stale: one of the clusters changed since this entry was pushed
        # Merge b into a (a < b keeps the smaller id).
        parent[b] = a
        size[a] += size[b]
        version[a] += 1
        del links[a][b]
        for x, stats in links[b].items():
            if x == a:
                continue
            del links[x][b]
            merged = links[a].get(x)
            if merged is None:
                merged = links[a][x] = [stats[0], stats[1], stats[2]]
            else:
                merged[0] += stats[0]
                merged[1] += stats[1]
                merged[2] = min(merged[2], stats[2])
            links[x][a] = merged
        links[b] = {}
        push_all(a)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    return np.fromiter((find(x) for x in range(m)), dtype=np.int64, count=m)
