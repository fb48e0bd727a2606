"""The automatic link threshold under other settings of its rule, on real and synthetic groups.

    .venv/bin/python benchmarks/threshold_rules.py [--data ../shared/data] [--fractions 0.5,0.3,0.25,0.2]

For each configuration (encoder, scorer, clustering) and each data set, the candidate graph is
built once; the automatic threshold (:func:`neardup.threshold.auto_threshold`, guard band on)
is then computed with the mixture fitted to each top fraction of the candidate scores, and
the graph is clustered at it. Prints threshold, pair F1 and row-F1, and the best pair F1 of a
sweep (tuned on the set itself, for reference only).

Sets: Shopee dev half A (where the fraction was chosen, with synth seed 1), half B and the
full dev, Amazon-Google as one collection, and ``neardup.synth`` 10,000 texts, seeds 1 and 0.
Embeddings are the ones ``quality.py`` caches; a first run encodes 20,000 synthetic texts with
e5-small (a few minutes). Exits 0 with a message when the data folder is absent.
"""

from __future__ import annotations

import argparse
import os
import warnings
from pathlib import Path

import numpy as np
from quality import CachedEncoder, GroupSet, amazon_google, shopee, shopee_halves

from neardup.dedup import Deduplicator
from neardup.evaluate.metrics import cluster_metrics
from neardup.synth import make_near_duplicates
from neardup.threshold import auto_threshold

REPO = Path(__file__).resolve().parents[1]
SWEEP = np.round(np.arange(0.10, 0.951, 0.02), 2)


def sets(data: Path) -> list[GroupSet]:
    half_a, half_b = shopee_halves(data)
    out = [half_a, half_b, shopee(data), amazon_google(data)]
    for seed in (1, 0):
        c = make_near_duplicates(10_000, seed=seed)
        out.append(GroupSet(f"synth 10k seed {seed}", list(c.texts), np.asarray(c.groups)))
    return out


def configurations() -> list[tuple[str, dict]]:
    e5 = CachedEncoder("multilingual-e5-small")
    static = CachedEncoder("multilingual-e5-small@static")
    return [
        ("e5-small, default scorer, average linkage (the default)", {"model": e5}),
        ("static tier, average linkage", {"model": static}),
        ("lexical only (--model none), average linkage", {"model": None}),
        ("e5-small, Leiden", {"model": e5, "cluster": "leiden"}),
        ("e5-small, connected components", {"model": e5, "cluster": "components"}),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path,
                        default=Path(os.environ.get("NEARDUP_DATA", REPO.parent / "shared" / "data")))
    parser.add_argument("--fractions", default="0.5,0.3,0.25,0.2")
    args = parser.parse_args(argv)
    if not (args.data / "shopee-title-groups").is_dir():
        print(f"no data at {args.data}: nothing to measure (see ../shared/data/README.md)")
        return 0
    warnings.filterwarnings("ignore", module="neardup")  # the k warning, on every set
    fractions = [float(x) for x in args.fractions.split(",")]
    groups = sets(args.data)
    for label, kwargs in configurations():
        print(f"\n#### {label}\n")
        print("| set | " + " | ".join(f"top {q:g}" for q in fractions)
              + " | best of a 0.02-step sweep (tuned on the set) |")
        print("|---|" + "---|" * (len(fractions) + 1))
        for gs in groups:
            dd = Deduplicator(**kwargs)
            graph = dd.candidate_graph(gs.texts)
            linkage = "components" if dd.cluster == "components" else "average"
            cells = []
            for q in fractions:
                t = auto_threshold(graph.scored.score, scorer=dd._pair_scorer().name,
                                   density=graph.density,
                                   upper_fraction=q, linkage=linkage).value
                m = cluster_metrics(gs.labels, dd.cluster_graph(graph, t))
                cells.append(f"{t:.3f}: {m.pair_f1:.3f} / {m.row_f1:.3f}")
            best = max((cluster_metrics(gs.labels, dd.cluster_graph(graph, float(t))).pair_f1,
                        float(t)) for t in SWEEP)
            print(f"| {gs.name} ({len(gs.texts)}) | " + " | ".join(cells)
                  + f" | {best[1]:.2f}: {best[0]:.3f} |", flush=True)
    print("\ncells: threshold: pair F1 / row-F1")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
