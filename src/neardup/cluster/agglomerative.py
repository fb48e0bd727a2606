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
pair counts 0 and ``threshold > 0``, clusters never span connected components of the pairs at
or above the threshold, and components that are cliques of such pairs merge whole. The rest is
solved in rounds over all components at once: average and complete linkage are reducible
(merging two clusters never brings the result closer to a third than the nearer of the two
was), so every pair of reciprocal nearest neighbours can merge in the same round and the result
is the greedy best-pair-first one; a cluster whose nearest neighbour is below the threshold can
never merge again and leaves the graph. Each round is a few vectorised passes over the
remaining edges, and on candidate graphs a quarter of the clusters merge per round. Should
rounds stall (fewer than 1 in ``STALL_RATIO`` clusters merging, as on a chain whose scores rise
along it), a nearest-neighbour chain in Python finishes the reduced graph. Memory is linear in
the number of pairs. ``dense_limit`` sends components up to that many rows to scipy's dense
``linkage`` instead (a cross-check: the same result up to exact ties).

Comparisons allow a slack of ``1e-6`` because scores are float32: a score shown as 0.9 is
stored as 0.89999998 and must still pass ``threshold=0.9``.

Ties: when several cluster pairs have exactly the same similarity, a cluster's nearest
neighbour is the one with the smallest id (a cluster's id is its smallest row, and rows are in
the caller's order, canonical in the pipeline); the chain fallback prefers its previous chain
neighbour, then the smaller id; scipy resolves ties in its own fixed order. All are
deterministic for a fixed input; they can differ from each other, or after the input is
permuted, only when exactly tied similarities compete.
"""

from __future__ import annotations

from dataclasses import dataclass
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


def link_cut(threshold: float) -> float:
    """The lowest score that links at ``threshold``: ``threshold`` less the float32 slack.

    The slack shrinks for thresholds near 0 (at most half of a positive threshold), so that a
    threshold of 1e-6 still does not link pairs scored 0, nor missing pairs (which count 0).
    """
    threshold = float(threshold)
    return threshold - (min(TOLERANCE, threshold / 2) if threshold > 0 else TOLERANCE)
# Components up to this many rows go to scipy's dense linkage when asked (``dense_limit``). The
# batched rounds solve all components together and beat one dense linkage per component (the
# 100,000-text synthetic graph: 1.0 s against 4.9 s for dense below 2,000 rows plus a Python
# chain above), so by default nothing goes dense; dense linkage stays as an independent check
# (quadratic in rows: 3,000 rows take ~1 s).
DENSE_LIMIT = 0
# Rounds stop, and the Python chain takes the reduced graph, when fewer than one cluster in this
# many merges in a round: a round costs a pass over every remaining edge, a chain step one
# cluster's neighbours. Candidate graphs merge about one in four per round (16 rounds at 100k).
STALL_RATIO = 100


def at_or_above(scores: np.ndarray, cut: float) -> np.ndarray:
    """``scores >= cut`` as float64 compares it, without a float64 copy of ``scores``: for
    float32 scores the cut is rounded up to the nearest float32 (the same mask, half the
    memory traffic on the tens of millions of pairs of a million texts)."""
    scores = np.asarray(scores)
    if scores.dtype != np.float32:
        return scores.astype(np.float64) >= cut
    c32 = np.float32(cut)
    if float(c32) < cut:
        c32 = np.nextafter(c32, np.float32(np.inf))
    return scores >= c32


def linked_mask(scores: np.ndarray, threshold: float) -> np.ndarray:
    """Which scores link at ``threshold`` (at or above it, less the float32 slack): the one rule
    every clustering and report uses."""
    return at_or_above(scores, link_cut(threshold))


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
        dense_limit: components of up to this many rows are solved with scipy's dense linkage
            (same result up to exact ties, see the module docstring); 0 (the default) solves
            every component with the sparse merge.

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
    cut = link_cut(threshold)
    if linkage == "single":
        # Single linkage at a cut = connected components of the edges at or above it.
        keep = linked_mask(pairs.score, threshold)
        return component_labels(n, pairs.left[keep], pairs.right[keep])

    # A cluster pair whose cross pairs all score below the cut never merges (its average,
    # minimum or maximum is below the cut too), so merges only happen inside connected
    # components of the edges at or above the cut: solve those, each with every pair inside
    # it (weaker pairs still count towards averages), and drop the pairs between them. On a
    # kNN candidate graph, which is one giant component, this is what keeps the work small;
    # the result is the same.
    strong = linked_mask(pairs.score, threshold)
    groups = component_labels(n, pairs.left[strong], pairs.right[strong])
    inside = groups[pairs.left] == groups[pairs.right]
    # A component whose every pair is present and at or above the cut merges whole (each
    # average or minimum is then >= cut): true duplicate groups are mostly such cliques.
    sizes = np.bincount(groups)
    n_strong = np.bincount(groups[pairs.left[strong]], minlength=sizes.size)  # all inside
    whole = n_strong == sizes * (sizes - 1) // 2
    _, first_row = np.unique(groups, return_index=True)  # groups are canonical: 0, 1, ...
    labels = np.where(whole[groups], first_row[groups], np.arange(n, dtype=np.int64))
    dense = ~whole & (sizes <= dense_limit)
    solve = inside & ~whole[groups[pairs.left]]
    if dense_limit > 0:
        for comp in iter_components(n, pairs.select(solve), labels=groups, skip=~dense):
            local = _dense(comp, cut, linkage)
            # label by the smallest member row: unique across components
            first = np.full(comp.rows.size, np.iinfo(np.int64).max, dtype=np.int64)
            np.minimum.at(first, local, comp.rows)
            labels[comp.rows] = first[local]
        solve &= ~dense[groups[pairs.left]]
    if solve.any():
        rows = _sparse(
            n, pairs.left[solve], pairs.right[solve], pairs.score[solve].astype(np.float64),
            cut, linkage,
        )
        touched = np.zeros(n, dtype=bool)
        touched[pairs.left[solve]] = touched[pairs.right[solve]] = True
        labels[touched] = rows[touched]
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


@dataclass
class _Reduced:
    """Clusters of rows ``0..n-1`` (id = smallest row) and one entry per linked cluster pair:
    ``key = a * n + b`` (``a < b``, ascending) with the sum, count and minimum of the row pairs
    between them."""

    n: int
    parent: np.ndarray  # int64 per row: a row it merged into (itself while a cluster id)
    size: np.ndarray  # float64 rows per cluster id
    key: np.ndarray
    total: np.ndarray
    count: np.ndarray
    low: np.ndarray

    def similarity(self, a: np.ndarray, b: np.ndarray, average: bool) -> np.ndarray:
        cross = self.size[a] * self.size[b]
        if average:
            return self.total / cross
        # complete: a missing cross pair counts 0
        return np.where(self.count == cross, self.low, np.minimum(self.low, 0.0))

    def roots(self) -> np.ndarray:
        parent = self.parent
        while True:
            up = parent[parent]
            if np.array_equal(up, parent):
                return parent
            parent = up


def _sparse(
    n: int, left: np.ndarray, right: np.ndarray, weight: np.ndarray, cut: float, linkage: Linkage
) -> np.ndarray:
    """The cluster id (smallest row) of every row after merging on the given edges."""
    # pairs are canonical (check_graph): left < right, sorted, distinct, so keys ascend
    key = left * n + right
    order = np.argsort(key, kind="stable")  # the identity here, in one cheap pass
    state = _Reduced(
        n=n,
        parent=np.arange(n, dtype=np.int64),
        size=np.ones(n, dtype=np.float64),
        key=key[order],
        total=weight[order],
        count=np.ones(order.size, dtype=np.float64),
        low=weight[order].copy(),
    )
    if not _merge_rounds(state, cut, linkage == "average"):
        _nn_chain(state, cut, linkage == "average")
    return state.roots()


def _merge_rounds(state: _Reduced, cut: float, average: bool) -> bool:
    """Merge every reciprocal-nearest pair at or above ``cut``, round after round, and drop
    clusters that can no longer merge. True when no edge is left; False when a round merged
    fewer than one cluster in ``STALL_RATIO`` (the rest is left in ``state``)."""
    n = state.n
    while state.key.size:
        a = state.key // n
        b = state.key - a * n
        sim = state.similarity(a, b, average)
        best = np.full(n, -np.inf)
        np.maximum.at(best, a, sim)
        np.maximum.at(best, b, sim)
        nearest = np.full(n, n, dtype=np.int64)  # ties go to the smaller id
        at_a, at_b = sim == best[a], sim == best[b]
        np.minimum.at(nearest, a[at_a], b[at_a])
        np.minimum.at(nearest, b[at_b], a[at_b])
        # best < cut: every neighbour is below the cut, and by reducibility any merge of them
        # stays below it too, so the cluster is final (clusters without edges have -inf)
        retired = best < cut
        live = np.flatnonzero((nearest < n) & ~retired)
        partner = nearest[live]
        mutual = (nearest[partner] == live) & (live < partner)
        keep, gone = live[mutual], partner[mutual]
        kept_edges = ~(retired[a] | retired[b])
        if keep.size * STALL_RATIO < live.size or not keep.size:
            # (no merge at all can only mean no live cluster is left: hand over rather than
            # repeat an unchanged round)
            for name in ("key", "total", "count", "low"):
                setattr(state, name, getattr(state, name)[kept_edges])
            return not state.key.size
        state.parent[gone] = keep
        state.size[keep] += state.size[gone]
        moved = np.arange(n, dtype=np.int64)
        moved[gone] = keep
        is_gone = np.zeros(n, dtype=bool)
        is_gone[gone] = True
        changed = kept_edges & (is_gone[a] | is_gone[b])
        same = kept_edges & ~changed
        # edges of merged-away clusters are renamed and summed per new cluster pair; the rest
        # keep their keys (a kept id is the smaller one), so only the renamed part is sorted
        ca, cb = moved[a[changed]], moved[b[changed]]
        inner = ca != cb  # the merged pair's own edge
        ck = (np.minimum(ca, cb) * n + np.maximum(ca, cb))[inner]
        cs = state.total[changed][inner]
        cc = state.count[changed][inner]
        cl = state.low[changed][inner]
        order = np.argsort(ck, kind="stable")
        ck, cs, cc, cl = ck[order], cs[order], cc[order], cl[order]
        if ck.size:
            first = np.ones(ck.size, dtype=bool)
            first[1:] = ck[1:] != ck[:-1]
            starts = np.flatnonzero(first)
            ck = ck[starts]
            cs = np.add.reduceat(cs, starts)
            cc = np.add.reduceat(cc, starts)
            cl = np.minimum.reduceat(cl, starts)
        key, total = state.key[same], state.total[same]
        count, low = state.count[same], state.low[same]
        at = np.searchsorted(key, ck)
        hit = at < key.size
        hit[hit] = key[at[hit]] == ck[hit]
        h = at[hit]
        total[h] += cs[hit]
        count[h] += cc[hit]
        low[h] = np.minimum(low[h], cl[hit])
        new = ~hit
        state.key = np.insert(key, at[new], ck[new])
        state.total = np.insert(total, at[new], cs[new])
        state.count = np.insert(count, at[new], cc[new])
        state.low = np.insert(low, at[new], cl[new])
    return True


def _nn_chain(state: _Reduced, cut: float, average: bool) -> None:
    """Finish ``state`` with a nearest-neighbour chain (one cluster's neighbours per step).

    Merging reciprocal nearest neighbours in any order gives the greedy dendrogram for these
    reducible linkages (up to exact ties), and a cluster whose nearest neighbour is below
    ``cut`` is retired.
    """
    n = state.n
    a_all = state.key // n
    b_all = state.key - a_all * n
    ids = np.unique(np.concatenate([a_all, b_all]))
    m = ids.size
    a_loc, b_loc = np.searchsorted(ids, a_all), np.searchsorted(ids, b_all)
    size = state.size[ids].tolist()
    links: list[dict[int, list[float]]] = [{} for _ in range(m)]
    for a, b, total, count, low in zip(
        a_loc.tolist(), b_loc.tolist(), state.total.tolist(), state.count.tolist(),
        state.low.tolist(),
    ):
        links[a][b] = links[b][a] = [total, count, low]
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

    # ids ascend, so the local keep (the smaller index) is the smaller cluster id too
    state.parent[ids] = ids[np.asarray(parent, dtype=np.int64)]
