"""Quality of the default pipeline against the anchors, on the shared real data, in one run.

    .venv/bin/python benchmarks/quality.py [--data ../shared/data] [--only groups,pairs,amazon,static]

Reads ``../shared/data`` (or ``--data`` / ``$NEARDUP_DATA``) and exits 0 with a message when it is
absent. Prints one Markdown table per task, ready for BENCHMARKS.md.

Protocol. Anchor rows (char TF-IDF, MinHash, MiniLM, e5 with connected components) get their
threshold tuned on the very set they are scored on, as in ANCHORS.md: generous to them. The
``neardup default`` rows use no labels at all: the threshold comes from the collection's own
score distribution (``threshold="auto"``). ``neardup, threshold from <set>`` rows use a threshold
tuned on another set, to show how a tuned constant transfers.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from neardup.candidates import knn_search, lexical_knn_pairs, minhash_pairs
from neardup.cluster import connected_components
from neardup.dedup import SYMMETRIC_KIND, Deduplicator
from neardup.evaluate.metrics import average_precision, cluster_metrics, spearman
from neardup.models import load_encoder
from neardup.pairs import Pairs
from readers import read_paraphraser

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"
CACHE = Path(os.environ.get("NEARDUP_BENCH_CACHE", REPO / ".neardup-cache" / "bench"))


# --------------------------------------------------------------------------------------------
# Encoders with an on-disk cache, so a rerun does not re-encode (encoding dominates run time)
# --------------------------------------------------------------------------------------------


class CachedEncoder:
    def __init__(self, name: str) -> None:
        self.inner = load_encoder(name)
        self.name = self.inner.name
        self.dim = self.inner.dim
        self.prompts = getattr(self.inner, "prompts", {})
        self.seconds = 0.0
        self.encoded = 0

    def encode(self, texts: Sequence[str], *, kind: str = "passage", batch_size: int = 64,
               show_progress: bool = False) -> np.ndarray:
        key = hashlib.sha1(
            ("\x00".join([self.name, kind, *texts])).encode("utf-8")
        ).hexdigest()[:16]
        path = CACHE / f"{self.name}-{key}.npy"
        if path.exists():
            return np.load(path)
        start = time.perf_counter()
        vectors = self.inner.encode(texts, kind=kind, batch_size=batch_size)
        self.seconds += time.perf_counter() - start
        self.encoded += len(texts)
        CACHE.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
        return vectors


# --------------------------------------------------------------------------------------------
# Data sets
# --------------------------------------------------------------------------------------------


@dataclass
class GroupSet:
    name: str
    texts: list[str]
    labels: np.ndarray
    sources: list[str] | None = None  # for the --link-across row


@dataclass
class PairSet:
    name: str
    texts1: list[str]
    texts2: list[str]
    labels: np.ndarray  # 0/1 or graded
    graded: bool = False  # Spearman instead of AP


def shopee(data: Path) -> GroupSet:
    df = pd.read_csv(data / "shopee-title-groups" / "dev.csv", dtype=str)
    return GroupSet("shopee dev", df["title"].tolist(), pd.factorize(df["label_group"])[0])


def shopee_halves(data: Path, seed: int = 0) -> tuple[GroupSet, GroupSet]:
    """Class-disjoint halves of Shopee dev (tune on one, report on the other)."""
    full = shopee(data)
    groups = np.unique(full.labels)
    rng = np.random.default_rng(seed)
    half = set(rng.permutation(groups)[: len(groups) // 2].tolist())
    a = np.array([g in half for g in full.labels])
    pick = lambda m: ([t for t, k in zip(full.texts, m) if k], full.labels[m])  # noqa: E731
    return GroupSet("shopee half A", *pick(a)), GroupSet("shopee half B", *pick(~a))


def amazon_google(data: Path) -> GroupSet:
    folder = data / "amazon-google-full"
    df = pd.read_csv(folder / "Amazon_Google.csv", sep=";", encoding="latin-1", dtype=str,
                     keep_default_na=False)
    mapping = pd.read_csv(folder / "Amazon_GoogleProducts_perfectMapping.csv", sep=";", dtype=str)
    pos = {k: i for i, k in enumerate(df["id"])}
    a = [pos[x] for x, y in zip(mapping.idAmazon, mapping.idGoogleBase) if x in pos and y in pos]
    b = [pos[y] for x, y in zip(mapping.idAmazon, mapping.idGoogleBase) if x in pos and y in pos]
    labels = connected_components(len(df), Pairs.from_arrays(np.array(a), np.array(b)))
    return GroupSet("amazon-google", df["title"].tolist(), labels, df["dataset"].tolist())


def paraphraser(data: Path) -> PairSet:
    return PairSet("paraphraser-ru train", *read_paraphraser(data))


def stsb(data: Path, lang: str) -> PairSet:
    with open(data / "stsb-multi-mt" / f"stsb-{lang}-test.csv", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return PairSet(f"stsb {lang} test", [r[0] for r in rows], [r[1] for r in rows],
                   np.array([float(r[2]) for r in rows]), graded=True)


def sts_indo(data: Path, lang: str) -> PairSet:
    """STS 2012-16 test, Indonesian (``lang="id"``) or the English originals beside it."""
    df = pd.read_csv(data / "sts-indo" / "test.tsv", sep="\t", dtype=str, keep_default_na=False)
    suffix = "_id" if lang == "id" else ""
    return PairSet(f"sts-indo {lang} test", df[f"text1{suffix}"].tolist(),
                   df[f"text2{suffix}"].tolist(), df["score"].astype(float).to_numpy(),
                   graded=True)


# --------------------------------------------------------------------------------------------
# Scoring helpers
# --------------------------------------------------------------------------------------------


def sweep_components(gs: GroupSet, pairs: Pairs, grid: np.ndarray) -> tuple[float, dict]:
    """Best pair-F1 threshold for connected components over ``pairs`` (tuned on gs itself)."""
    best_t, best = float("nan"), {"pair_f1": -1.0}
    for t in grid:
        labels = connected_components(len(gs.texts), pairs.select(pairs.score >= t))
        m = cluster_metrics(gs.labels, labels)
        if m.pair_f1 > best["pair_f1"]:
            best_t, best = float(t), {"pair_f1": m.pair_f1, "row_f1": m.row_f1}
    return best_t, best


def embedding_pairs(encoder, texts: list[str], k: int = 50) -> Pairs:
    # comparing texts with each other is symmetric: e5's "query: " prompt on both sides, as the
    # pipeline does (see neardup.dedup.SYMMETRIC_KIND)
    emb = encoder.encode(texts, kind=SYMMETRIC_KIND)
    return knn_search(emb, k=min(k, len(texts) - 1), method="exact").to_pairs()


def neardup_groups(
    gs: GroupSet, dd: Deduplicator, sources: list[str] | None = None
) -> tuple[float, str, dict]:
    result = dd.deduplicate(gs.texts, sources=sources)
    m = cluster_metrics(gs.labels, result.labels)
    return result.threshold.value, result.threshold.source, {
        "pair_f1": m.pair_f1, "row_f1": m.row_f1, "rows_at_k": result.n_rows_at_k}


def best_threshold_on(gs: GroupSet, dd: Deduplicator, grid: np.ndarray) -> float:
    graph = dd.candidate_graph(gs.texts)
    scores = [(cluster_metrics(gs.labels, dd.cluster_graph(graph, float(t))).pair_f1, float(t))
              for t in grid]
    return max(scores)[1]


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------


def group_table(sets: list[GroupSet], encoders: dict[str, CachedEncoder], tuned_on: dict) -> None:
    print("\n### Duplicate groups: pair F1 / row-F1\n")
    print("| set | method | threshold (how chosen) | pair F1 | row-F1 |")
    print("|---|---|---|---|---|")
    at_k: list[str] = []
    for gs in sets:
        rows: list[tuple[str, str, dict]] = []
        lex = lexical_knn_pairs(gs.texts, k=50)
        t, m = sweep_components(gs, lex, np.round(np.arange(0.30, 0.96, 0.01), 2))
        rows.append(("char TF-IDF (2-4) + CC", f"{t:.2f} (tuned on this set)", m))
        mh = minhash_pairs(gs.texts, threshold=0.2, ngram=3)
        t, m = sweep_components(gs, mh, np.round(np.arange(0.2, 0.91, 0.02), 2))
        rows.append(("MinHash char-3 + CC", f"{t:.2f} (tuned on this set)", m))
        for label, enc in encoders.items():
            pairs = embedding_pairs(enc, gs.texts)
            t, m = sweep_components(gs, pairs, np.round(np.arange(0.50, 0.99, 0.005), 3))
            rows.append((f"{label} kNN(50) + CC", f"{t:.3f} (tuned on this set)", m))
        dd = Deduplicator(encoders["e5-small"])
        t, source, m = neardup_groups(gs, dd)
        rows.append(("**neardup default**", f"{t:.3f} ({source}, no labels)", m))
        at_k.append(f"{gs.name} {m['rows_at_k']} of {len(gs.texts)}")
        if gs.sources is not None:
            t, source, m = neardup_groups(gs, dd, gs.sources)
            rows.append(("neardup default, `--link-across dataset`", f"{t:.3f} ({source})", m))
        for other, value in tuned_on.items():
            if other != gs.name:
                _, _, m = neardup_groups(gs, Deduplicator(encoders["e5-small"], threshold=value))
                rows.append((f"neardup, threshold tuned on {other}", f"{value:.3f}", m))
        for method, how, m in rows:
            print(f"| {gs.name} ({len(gs.texts)}) | {method} | {how} | {m['pair_f1']:.3f} | "
                  f"{m['row_f1']:.3f} |")
        sys.stdout.flush()
    print("\nTexts with k or more linked candidates (`rows_at_k`, neardup default): "
          + "; ".join(at_k))


def pair_table(sets: list[PairSet], encoders: dict[str, CachedEncoder]) -> None:
    print("\n### Pairs: AP (0/1 labels) or Spearman × 100 (graded)\n")
    print("| set | " + " | ".join(f"{k} cosine" for k in encoders) + " | **neardup default score** |")
    print("|---|" + "---|" * (len(encoders) + 1))
    for ps in sets:
        metric: Callable[[np.ndarray, np.ndarray], float]
        if ps.graded:
            metric = lambda y, s: 100 * spearman(y, s)  # noqa: E731
        else:
            metric = average_precision
        cells = []
        for enc in encoders.values():
            e1 = enc.encode(ps.texts1, kind=SYMMETRIC_KIND)
            e2 = enc.encode(ps.texts2, kind=SYMMETRIC_KIND)
            cells.append(metric(ps.labels, np.sum(e1 * e2, axis=1)))
        default = Deduplicator(encoders["e5-small"]).score_pairs(ps.texts1, ps.texts2)
        cells.append(metric(ps.labels, default))
        print(f"| {ps.name} ({len(ps.texts1)}) | " + " | ".join(f"{c:.3f}" for c in cells) + " |")
        sys.stdout.flush()


def static_table(sets: list[GroupSet]) -> None:
    """The static tier with its default candidates against embedding neighbours alone: what the
    character n-gram candidates add (automatic threshold, no labels)."""
    static = load_encoder("multilingual-e5-small@static")
    print("\n### Static tier: default candidates against embedding kNN alone\n")
    print("| set | candidates | threshold (how chosen) | pair F1 | row-F1 |")
    print("|---|---|---|---|---|")
    for gs in sets:
        for label, cands in (("knn + lexical-knn (default)", None), ("knn only", ("knn",))):
            t, how, m = neardup_groups(gs, Deduplicator(static, candidates=cands))
            print(f"| {gs.name} ({len(gs.texts)}) | {label} | {t:.3f} ({how}) | "
                  f"{m['pair_f1']:.3f} | {m['row_f1']:.3f} |")
        sys.stdout.flush()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path,
                        default=Path(os.environ.get("NEARDUP_DATA", DEFAULT_DATA)))
    parser.add_argument("--only", default="groups,pairs",
                        help="groups, pairs, amazon, static (comma-separated; amazon = that set "
                             "alone; static = the static tier's candidate sources)")
    args = parser.parse_args()
    if not args.data.exists():
        print(f"skipped: shared data not found at {args.data} (set --data or NEARDUP_DATA)")
        return 0
    start = time.perf_counter()
    encoders = {"MiniLM": CachedEncoder("all-MiniLM-L6-v2"),
                "e5-small": CachedEncoder("multilingual-e5-small")}
    only = set(args.only.split(","))
    if "groups" in only:
        a, b = shopee_halves(args.data)
        grid = np.round(np.arange(0.2, 0.9, 0.01), 2)
        tuned = {a.name: best_threshold_on(a, Deduplicator(encoders["e5-small"]), grid)}
        group_table([shopee(args.data), b, amazon_google(args.data)], encoders, tuned)
    if "amazon" in only and "groups" not in only:
        group_table([amazon_google(args.data)], encoders, {})
    if "static" in only:
        static_table([shopee(args.data), *shopee_halves(args.data), amazon_google(args.data)])
    if "pairs" in only:
        pair_table([paraphraser(args.data), stsb(args.data, "ru"), stsb(args.data, "en"),
                    sts_indo(args.data, "id"), sts_indo(args.data, "en")],
                   {"MiniLM": encoders["MiniLM"], "e5-small": encoders["e5-small"]})
    total = time.perf_counter() - start
    enc_s = sum(e.seconds for e in encoders.values())
    print(f"\n{total:.0f} s in all, {enc_s:.0f} s encoding "
          f"({sum(e.encoded for e in encoders.values())} texts; cached in {CACHE})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
