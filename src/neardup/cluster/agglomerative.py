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
sparse nearest-neighbour-chain merge whose memory is linear in the number of pairs.

Comparisons allow a slack of ``1e-6`` because scores are float32: a score shown as 0.9 is
stored as 0.89999998 and must still pass ``threshold=0.9``.

Ties: when several cluster pairs have exactly the same similarity, the sparse merge follows
its chain (a cluster's previous chain neighbour wins a tie, then the smaller cluster id);
scipy resolves ties in its own fixed order of the (ascending-row) input. Both are
deterministic for a fixed input; they can differ from each other, or after the input is
permuted, only when exactly tied similarities compete.
"""

from __future__ import annotations

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
    inside = groups[pairs.left] == groups[pairs.right]
    # A component whose every pair is present and at or above the cut merges whole (each
    # average or minimum is then >= cut): true duplicate groups are mostly such cliques, and
    # settling them here spares one scipy call each (~10^5 of them at a million texts).
    sizes = np.bincount(groups)
    n_strong = np.bincount(groups[pairs.left[strong]], minlength=sizes.size)  # all inside
    pairs = pairs.select(inside)
    whole = n_strong == sizes * (sizes - 1) // 2
    _, first_row = np.unique(groups, return_index=True)  # groups are canonical: 0, 1, ...
    labels = np.where(whole[groups], first_row[groups], np.arange(n, dtype=np.int64))
    # the strong edges' components are those of the pairs kept: no second search
    for comp in iter_components(n, pairs, labels=groups, skip=whole):
        m = comp.rows.size
        if m <= dense_limit:
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
    """Exact nearest-neighbour-chain merge, tracking per cluster pair (sum, count, min) of edges.

    Average and complete linkage are reducible (merging two clusters never brings the result
    closer to a third than the nearer of the two was), so merging reciprocal nearest neighbours
    in any order yields the greedy best-pair-first dendrogram (up to exact ties), and a cluster
    whose nearest neighbour is below ``cut`` can never merge again: it is retired. Each step
    scans one cluster's neighbours; the best-pair-first heap this replaced re-pushed all of a
    cluster's neighbours after each of its merges and was 2x slower on the 100,000-text
    synthetic collection (same labels on every component there). Memory is linear in the
    number of pairs.
    """
    m = comp.rows.size
    size = [1] * m
    links: list[dict[int, list[float]]] = [{} for _ in range(m)]
    for a, b, w in zip(comp.left.tolist(), comp.right.tolist(), comp.weight.tolist()):
        links[a][b] = links[b][a] = [w, 1.0, w]
    average = linkage == "average"
    done = [False] * m  # merged into another cluster, or retired

    def nearest(a: int, prefer: int) -> tuple[int, float]:
        """The neighbour most similar to ``a`` (``prefer`` wins ties, then the smaller id)."""
        best, best_s = -1, -1.0
        sa = size[a]
        for x, (total, count, low) in links[a].items():
            if average:
                s = total / (sa * size[x])
            else:  # complete: a missing cross pair counts 0
                s = low if count == sa * size[x] else min(low, 0.0)
            if s > best_s or (s == best_s and (x == prefer or (best != prefer and x < best))):
                best, best_s = x, s
        return best, best_s

    parent = list(range(m))
    pending = list(range(m - 1, -1, -1))  # clusters still to grow; merged ones come back
    while pending:
        start = pending.pop()
        if done[start]:
            continue
        chain = [start]
        while chain:
            a = chain[-1]
            prev = chain[-2] if len(chain) > 1 else -1
            x, s = nearest(a, prev)
            if x < 0 or s < cut:
                done[a] = True  # nothing reaches the cut from here, now or after other merges
                chain.pop()
                continue
            if x != prev:
                chain.append(x)
                continue
            chain.pop()
            chain.pop()
            keep, gone = (a, x) if a < x else (x, a)
            parent[gone] = keep
            done[gone] = True
            size[keep] += size[gone]
            del links[keep][gone]
            for y, stats in links[gone].items():
                if y == keep:
                    continue
                del links[y][gone]
                merged = links[keep].get(y)
                if merged is None:
                    merged = links[keep][y] = [stats[0], stats[1], stats[2]]
                else:
                    merged[0] += stats[0]
                    merged[1] += stats[1]
                    merged[2] = min(merged[2], stats[2])
                links[y][keep] = merged
            links[gone] = {}
            if not chain:
                chain.append(keep)
            else:
                pending.append(keep)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    return np.fromiter((find(x) for x in range(m)), dtype=np.int64, count=m)
