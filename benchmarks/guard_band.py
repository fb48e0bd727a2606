"""When the automatic threshold's guard band helps: by the density of the candidate graph.

    .venv/bin/python benchmarks/guard_band.py [--data ../shared/data]

The guard band keeps the mixture's threshold within a band around the scorer's recorded
constant. It was added for tiny collections, where nearly every pair is a candidate and the fit
degenerates; on larger ones it can only move the threshold away from the collection's own fit
(the static tier's Shopee rows sat at the band's floor, 0.24, where ~0.16 is right). This
prints, per configuration and set, the candidate graph's density (candidate pairs over all
pairs of distinct texts) and the threshold and pair F1 / row-F1 with the band and without it.

Sets: the project's sample (``neardup sample``, 77 rows), group-disjoint subsets of Shopee half
A of about 100 and 200 titles, Shopee halves A and B and the full dev, Amazon-Google as one
collection, ``neardup.synth`` 10,000 texts, seeds 1 and 0. A second table counts the rows
merged in two collections without duplicates (one Shopee title per group; synthetic group
bases), where the mixture's assumption of a duplicate population fails. Embeddings come from
``quality.py``'s cache. Exits 0 with a message when the data folder is absent.
"""

from __future__ import annotations

import argparse
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from quality import GroupSet
from threshold_rules import REPO, configurations, sets

from neardup.dedup import Deduplicator
from neardup.evaluate.metrics import cluster_metrics
from neardup.sample import make_sample
from neardup.synth import make_near_duplicates
from neardup.threshold import auto_threshold


def subset(gs: GroupSet, n_groups: int, seed: int) -> GroupSet:
    groups = np.unique(gs.labels)
    keep = set(np.random.default_rng(seed).permutation(groups)[:n_groups].tolist())
    rows = [i for i, g in enumerate(gs.labels.tolist()) if g in keep]
    return GroupSet(f"{gs.name}, {n_groups} groups", [gs.texts[i] for i in rows],
                    gs.labels[rows])


def with_and_without_band(kwargs: dict, texts: list[str]
                          ) -> tuple[float, list[tuple[float, np.ndarray]]]:
    """The candidate graph's density, and (threshold, labels) with the guard band and without."""
    dd = Deduplicator(**kwargs)
    graph = dd.candidate_graph(texts)
    runs = []
    for guard in ({}, {"guard": None}):
        t = auto_threshold(graph.scored.score, scorer=dd._pair_scorer().name, **guard).value
        runs.append((t, dd.cluster_graph(graph, t)))
    return graph.density, runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path,
                        default=Path(os.environ.get("NEARDUP_DATA", REPO.parent / "shared" / "data")))
    args = parser.parse_args(argv)
    if not (args.data / "shopee-title-groups").is_dir():
        print(f"no data at {args.data}: nothing to measure (see ../shared/data/README.md)")
        return 0
    warnings.filterwarnings("ignore", module="neardup")  # the k warning, on every set
    sample = make_sample()
    groups = [GroupSet("sample", sample["title"].tolist(), pd.factorize(sample["group"])[0])]
    real = sets(args.data)
    groups += [subset(real[0], 35, 0), subset(real[0], 70, 0), *real]
    for label, kwargs in configurations()[:3]:
        print(f"\n#### {label}\n")
        print("| set | density | with the band | without |")
        print("|---|---|---|---|")
        for gs in groups:
            density, runs = with_and_without_band(kwargs, gs.texts)
            cells = []
            for t, labels in runs:
                r = cluster_metrics(gs.labels, labels)
                cells.append(f"{t:.3f}: {r.pair_f1:.3f} / {r.row_f1:.3f}")
            print(f"| {gs.name} ({len(gs.texts)}) | {density:.3f} | " + " | ".join(cells) + " |",
                  flush=True)
    print("\ncells: threshold: pair F1 / row-F1")

    # The mixture assumes a duplicate population; what each rule does where there is none:
    # one Shopee title per group (500), and the 1,798 group bases of a 3,000-text synth set
    # (distinct products, many differing in one model number)
    full = real[2]
    _, first = np.unique(full.labels, return_index=True)
    synth = make_near_duplicates(3000, seed=5)
    clean = [("shopee dev, one title per group", [full.texts[i] for i in sorted(first)]),
             ("synth 3,000 seed 5, bases only", [t for t, b in zip(synth.texts, synth.is_base) if b])]
    print("\n#### collections without duplicates: rows merged (fewer is better)\n")
    print("| configuration | set | density | with the band | without |")
    print("|---|---|---|---|---|")
    for label, kwargs in configurations()[:3]:
        for name, texts in clean:
            density, runs = with_and_without_band(kwargs, texts)
            cells = [f"{t:.3f}: {len(texts) - np.unique(labels).size}" for t, labels in runs]
            print(f"| {label.split(',')[0]} | {name} ({len(texts)}) | {density:.3f} | "
                  + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
