"""Community detection (Leiden, Louvain) on the candidate graph, one component at a time.

Choosing the objective and resolution:

- ``objective="CPM"`` (Constant Potts Model, the default) keeps a cluster together only when
  its internal density -- total internal edge weight divided by its number of row pairs,
  missing pairs counting 0 -- exceeds ``resolution``, and splits groups whose mutual density
  is below it. Set ``resolution`` to about the link threshold used to build the pairs (e.g.
  0.5 for pairs thresholded at 0.5 similarity): a chain a-b-c of strong links with a-c
  missing has density 2w/3 and is cut when that falls below the threshold, whereas groups in
  which most pairs are linked above the threshold stay whole. ``resolution=1.0`` with
  similarity weights in [0, 1] splits everything, since no density can exceed 1.
- ``objective="modularity"`` needs no threshold (``resolution=1.0`` is standard modularity;
  higher gives smaller clusters), but modularity compares a cluster with a random-graph null
  model rather than with an absolute similarity, so it tends to merge small, tight groups of
  duplicates that touch each other through a few links. Prefer CPM for deduplication.

Both run independently on each connected component: clusters never merge across components,
the (mostly tiny) components are solved fast, and one component's result does not depend on
unrelated rows (for modularity this also means the null model is the component's own).

Determinism: fixed ``seed`` and fixed input give fixed labels. Inside a component, nodes are
handed to the algorithm ordered by weighted degree, then degree, then row position, so that
permuting the input changes the outcome only when nodes tie on those or when the optimum is
not unique.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, Literal

import numpy as np

from neardup.cluster._graph import Component, canonical_labels, check_graph, iter_components
from neardup.errors import InputError
from neardup.pairs import Pairs

Objective = Literal["CPM", "modularity"]


def _structural_order(comp: Component) -> np.ndarray:
    """Local node order by (weighted degree desc, degree desc, row asc)."""
    m = comp.rows.size
    strength = np.bincount(comp.left, comp.weight, m) + np.bincount(comp.right, comp.weight, m)
    degree = np.bincount(comp.left, minlength=m) + np.bincount(comp.right, minlength=m)
    # Round away summation-order noise: edge order changes when rows are renumbered.
    strength = np.round(strength, 9)
    return np.lexsort((np.arange(m), -degree, -strength))


def _run_per_component(
    n: int,
    pairs: Pairs,
    solve: Callable[[Any, list[float]], list[int]],
    *,
    needs_positive_weights: bool,
    what: str,
) -> np.ndarray:
    import igraph as ig

    n = check_graph(n, pairs)
    if needs_positive_weights and len(pairs) and float(pairs.score.min()) < 0:
        bad = int(np.argmin(pairs.score))
        raise InputError(
            f"{what} needs non-negative edge weights, but pair ({int(pairs.left[bad])}, "
            f"{int(pairs.right[bad])}) has score {float(pairs.score[bad])}; drop negative "
            'pairs (threshold them) or use objective="CPM"'
        )
    labels = np.arange(n, dtype=np.int64)  # singletons keep their own row as label
    for comp in iter_components(n, pairs):
        order = _structural_order(comp)
        position = np.empty_like(order)
        position[order] = np.arange(order.size)
        edges = np.stack([position[comp.left], position[comp.right]], axis=1)
        weights = comp.weight.tolist()
        if needs_positive_weights and sum(weights) <= 0:
            continue  # all-zero weights: modularity is undefined, keep rows apart
        graph = ig.Graph(n=comp.rows.size, edges=edges.tolist(), directed=False)
        membership = np.asarray(solve(graph, weights), dtype=np.int64)
        # Label by a member row: unique across components, canonicalised below.
        rows_in_order = comp.rows[order]
        first_row = np.full(int(membership.max()) + 1, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(first_row, membership, rows_in_order)
        labels[rows_in_order] = first_row[membership]
    return canonical_labels(labels)


def leiden(
    n: int,
    pairs: Pairs,
    *,
    resolution: float = 1.0,
    objective: Objective = "CPM",
    n_iterations: int = -1,
    seed: int = 42,
) -> np.ndarray:
    """Leiden communities of the candidate graph (edge weights = pair scores).

    Args:
        n: number of rows.
        pairs: edges to use, already thresholded.
        resolution: CPM density threshold (set it near the link threshold, see the module
            docstring) or the modularity resolution (1.0 = standard modularity).
        objective: ``"CPM"`` or ``"modularity"``.
        n_iterations: Leiden passes; negative runs until the partition stops improving.
        seed: random seed of leidenalg.

    Returns canonical ``int64`` labels (clusters numbered by their smallest row).
    """
    import leidenalg

    if objective not in ("CPM", "modularity"):
        raise InputError(f'objective must be "CPM" or "modularity", got {objective!r}')
    partition_type = (
        leidenalg.CPMVertexPartition
        if objective == "CPM"
        else leidenalg.RBConfigurationVertexPartition  # modularity with a resolution knob
    )

    def solve(graph: Any, weights: list[float]) -> list[int]:
        partition = leidenalg.find_partition(
            graph,
            partition_type,
            weights=weights,
            n_iterations=n_iterations,
            seed=seed,
            resolution_parameter=resolution,
        )
        return list(partition.membership)

    return _run_per_component(
        n, pairs, solve, needs_positive_weights=objective == "modularity", what="modularity"
    )


def louvain(n: int, pairs: Pairs, *, resolution: float = 1.0, seed: int = 42) -> np.ndarray:
    """Louvain (igraph ``community_multilevel``) modularity communities, per component.

    Louvain optimises modularity, so it shares modularity's tendency to merge small groups;
    it is kept for comparison with Leiden, which also guarantees connected communities.
    ``resolution`` is the modularity resolution (higher gives smaller clusters).

    Returns canonical ``int64`` labels (clusters numbered by their smallest row).
    """
    import igraph as ig

    def solve(graph: Any, weights: list[float]) -> list[int]:
        # igraph draws from a process-wide generator (the ``random`` module by default) to
        # shuffle the node order; a private seeded generator makes the result reproducible
        # without touching the caller's random state.
        ig.set_random_number_generator(random.Random(seed))
        try:
            clustering = graph.community_multilevel(weights=weights, resolution=resolution)
        finally:
            ig.set_random_number_generator(random)
        return list(clustering.membership)

    return _run_per_component(n, pairs, solve, needs_positive_weights=True, what="Louvain")
