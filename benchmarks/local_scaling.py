"""Local scaling of pair scores (CSLS-style hubness correction), tried as a fix for dense sets.

    .venv/bin/python benchmarks/local_scaling.py [--data ../shared/data]

On Amazon-Google, non-duplicate neighbours are near-identical software titles: whole regions
of the candidate graph score high. Cross-domain similarity local scaling (Conneau et al.,
2018) lowers a pair by how far it falls below its two texts' usual neighbour scores:

    s' = s - lambda * ((r_a + r_b) / 2 - s),   r_x = mean of x's m best candidate scores

(clipped to [0, 1]), so a pair that stands out from its neighbourhood keeps its score and one
in a dense crowd loses. For each setting the default pipeline's candidate graph (e5, default
scorer) is rescored, then clustered with average linkage at the automatic threshold and, for
reference, at the best threshold of a sweep on the set itself (an oracle). lambda = 0 is the
pipeline as it is. Sets: Shopee dev halves A and B and the full dev, Amazon-Google as one
collection. Embeddings come from ``quality.py``'s cache. Exits 0 with a message when the data
folder is absent.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

import quality
from neardup.cluster import agglomerative
from neardup.dedup import Deduplicator, _row_labels
from neardup.evaluate.metrics import cluster_metrics
from neardup.pairs import Pairs
from neardup.threshold import auto_threshold

SETTINGS = ((0.0, 0), (0.5, 5), (1.0, 5), (0.5, 10), (1.0, 10), (2.0, 10))
GRID = np.round(np.arange(0.10, 0.95, 0.01), 2)


def neighbourhood_level(n: int, pairs: Pairs, m: int) -> np.ndarray:
    """Per row: the mean of its ``m`` highest candidate scores (0 for a row without any)."""
    nodes = np.concatenate([pairs.left, pairs.right])
    scores = np.concatenate([pairs.score, pairs.score]).astype(np.float64)
    order = np.lexsort((-scores, nodes))
    nodes, scores = nodes[order], scores[order]
    rank = np.arange(nodes.size) - np.searchsorted(nodes, np.arange(n))[nodes]
    top = rank < m
    total = np.bincount(nodes[top], scores[top], minlength=n)
    return total / np.maximum(np.bincount(nodes[top], minlength=n), 1)


def rescale(n: int, pairs: Pairs, lam: float, m: int) -> Pairs:
    if lam == 0:
        return pairs
    level = neighbourhood_level(n, pairs, m)
    gap = (level[pairs.left] + level[pairs.right]) / 2 - pairs.score
    score = np.clip(pairs.score - lam * gap, 0.0, 1.0).astype(np.float32)
    return Pairs(pairs.left, pairs.right, score)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path,
                        default=Path(os.environ.get("NEARDUP_DATA", quality.DEFAULT_DATA)))
    args = parser.parse_args(argv)
    if not args.data.exists():
        print(f"skipped: shared data not found at {args.data} (set --data or NEARDUP_DATA)")
        return 0
    start = time.perf_counter()
    encoder = quality.CachedEncoder("multilingual-e5-small")
    half_a, half_b = quality.shopee_halves(args.data)
    sets = [half_a, half_b, quality.shopee(args.data), quality.amazon_google(args.data)]
    graphs = [(gs, Deduplicator(encoder).candidate_graph(gs.texts)) for gs in sets]
    print("| lambda, m | " + " | ".join(gs.name for gs in sets) + " |")
    print("|---|" + "---|" * len(sets))
    for lam, m in SETTINGS:
        cells = []
        for gs, graph in graphs:
            n = len(graph.collapsed.texts)
            pairs = rescale(n, graph.scored, lam, m)

            def f1(t: float, gs=gs, graph=graph, n=n, pairs=pairs) -> float:
                labels = _row_labels(graph.collapsed, agglomerative(n, pairs, threshold=t))
                return cluster_metrics(gs.labels, labels).pair_f1

            auto = auto_threshold(pairs.score, scorer="default").value
            best_f1, best_t = max((f1(float(t)), float(t)) for t in GRID)
            cells.append(f"{auto:.3f}: {f1(auto):.3f} (best {best_f1:.3f} at {best_t:.2f})")
        label = "0 (as it is)" if lam == 0 else f"{lam:g}, {m}"
        print(f"| {label} | " + " | ".join(cells) + " |")
        sys.stdout.flush()
    print(f"\n{time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
