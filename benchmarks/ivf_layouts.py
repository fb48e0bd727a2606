"""IVF layouts for the kNN candidate search at a large n, against the one neardup uses.

    .venv/bin/python benchmarks/ivf_layouts.py [--n 1000000] [--queries 20000]

On the projected character n-gram vectors of ``neardup.synth.make_near_duplicates(n, seed=0)``
(what the lexical candidate search indexes), with float16 lists throughout: the index neardup
builds (~4 sqrt(n) lists, flat coarse quantizer, 16 probes), the same list count trained by
two-level k-means (faiss.Kmeans on ~sqrt(nlist) coarse cells, then one centroid per 39 points
of each cell), an HNSW graph over two-level centroids with lists of ~64, ~128 and ~256 rows
(16, 24 and 32 probes), and 4-bit PQ fast scan re-ranked in float32. Prints train, add and
search seconds (``--queries`` random rows) and recall@31 against exact search. None of these
is used by neardup: they were measured and dropped (BENCHMARKS.md, fifth session).
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np

K = 31


def two_level_centroids(faiss, sample: np.ndarray, nlist: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    d = sample.shape[1]
    cells = max(1, int(round(math.sqrt(nlist))))
    coarse = faiss.Kmeans(d, cells, niter=5, seed=1234, max_points_per_centroid=256)
    coarse.train(sample)
    _, cell = coarse.index.search(sample, 1)
    cell = cell.ravel()
    order = np.argsort(cell, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(cell, minlength=cells))])
    per_list = max(1, len(sample) // nlist)
    parts = []
    for c in range(cells):
        points = np.ascontiguousarray(sample[order[bounds[c]:bounds[c + 1]]])
        m = len(points) // per_list
        if m <= 1:
            if len(points):
                parts.append(points.mean(axis=0, keepdims=True))
            continue
        km = faiss.Kmeans(d, m, niter=5, seed=1234, max_points_per_centroid=39)
        km.train(points)
        parts.append(km.centroids)
    return np.ascontiguousarray(np.vstack(parts), dtype=np.float32)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=20_000)
    args = parser.parse_args(argv)
    import faiss

    from neardup.candidates.knn import IVF_NPROBE, default_nlist
    from neardup.candidates.lexical import project_tfidf
    from neardup.scoring import char_ngram_matrix
    from neardup.synth import make_near_duplicates

    x = project_tfidf(char_ngram_matrix(make_near_duplicates(args.n, seed=0).texts))
    n, d = x.shape
    rng = np.random.default_rng(0)
    queries = x[rng.choice(n, min(args.queries, n), replace=False)]
    _, exact = faiss.knn(queries, x, K, metric=faiss.METRIC_INNER_PRODUCT)
    nlist = default_nlist(n)
    sample = x[rng.choice(n, min(n, 39 * nlist), replace=False)]
    ip, fp16 = faiss.METRIC_INNER_PRODUCT, faiss.ScalarQuantizer.QT_fp16

    print(f"\n**IVF layouts on {n:,} projected n-gram vectors ({d}-d), {len(queries):,} "
          "queries**\n")
    print("| index | lists | probes | train s | add s | search s | recall@31 |")
    print("|---|---|---|---|---|---|---|")

    def report(label, index, train_s, probes, search_params=None):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        index.add(x)
        add_s = time.perf_counter() - start
        labels = label if isinstance(label, list) else [label] * len(probes)
        for name, probe, params in zip(labels, probes, search_params or [None] * len(probes)):
            if params is None:
                faiss.extract_index_ivf(index).nprobe = probe
            start = time.perf_counter()
            _, found = index.search(queries, K, params=params)
            search_s = time.perf_counter() - start
            recall = np.mean([len(set(a) & set(b)) / K for a, b in zip(found, exact)])
            print(f"| {name} | {faiss.extract_index_ivf(index).nlist:,} | {probe} | "
                  f"{train_s:.1f} | {add_s:.1f} | {search_s:.2f} | {recall:.4f} |", flush=True)

    for two_level in (False, True):
        start = time.perf_counter()
        if two_level:
            centroids = two_level_centroids(faiss, sample, nlist)
            index = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatIP(d), d, len(centroids), fp16, ip)
            index.quantizer.add(centroids)
        else:
            index = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatIP(d), d, nlist, fp16, ip)
            index.cp.niter, index.cp.max_points_per_centroid = 5, 39
        index.train(sample)
        label = "two-level k-means, same list count" if two_level else "neardup's index"
        report(label, index, time.perf_counter() - start, [IVF_NPROBE])

    for rows in (64, 128, 256):
        start = time.perf_counter()
        centroids = two_level_centroids(faiss, x[rng.choice(n, min(n, 39 * (n // rows)),
                                                            replace=False)], n // rows)
        graph = faiss.IndexHNSWFlat(d, 32, ip)
        graph.hnsw.efConstruction = 40
        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)  # a reproducible graph
        graph.add(centroids)
        faiss.omp_set_num_threads(threads)
        graph.hnsw.efSearch = 64  # for list assignment and queries alike
        index = faiss.IndexIVFScalarQuantizer(graph, d, len(centroids), fp16, ip)
        index.is_trained = True
        train_s = time.perf_counter() - start
        report(f"HNSW over the centroids, lists of ~{rows}", index, train_s, [16, 24, 32])

    for sub, factors in ((d // 2, (2, 4)), (d // 4, (4, 8))):
        index = faiss.index_factory(d, f"IVF{nlist},PQ{sub}x4fs,RFlat", ip)
        ivf = faiss.extract_index_ivf(index)
        ivf.cp.niter, ivf.cp.max_points_per_centroid = 5, 39
        start = time.perf_counter()
        index.train(sample)
        params = [faiss.IndexRefineSearchParameters(
            k_factor=f, base_index_params=faiss.SearchParametersIVF(nprobe=IVF_NPROBE))
            for f in factors]
        report([f"PQ{sub}x4 fast scan, {f}x candidates re-ranked in float32" for f in factors], index,
               time.perf_counter() - start, [IVF_NPROBE] * len(factors), params)
    return 0


if __name__ == "__main__":
    sys.exit(main())
