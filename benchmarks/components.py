"""Five design choices of the non-encode stages, measured against the alternative they replaced.

    .venv/bin/python benchmarks/components.py [--n 100000] [--queries 20000] [--knn-n 10000]
        [--only tfidf,ivf,knn,numbers,chunks]

On ``neardup.synth.make_near_duplicates(n, seed=0)`` (no shared data needed):

1. Character n-gram TF-IDF: scikit-learn's ``TfidfVectorizer(analyzer="char_wb",
   ngram_range=(2, 4), sublinear_tf=True)`` against :func:`neardup.ngrams.char_wb_tfidf`, on
   the normalised texts: seconds, and whether the matrices agree (same columns, largest value
   difference).
2. IVF lists for kNN: ``IndexIVFFlat`` against ``IndexIVFScalarQuantizer`` with float16 lists,
   and 10 against 5 k-means iterations, on the projected n-gram vectors the lexical candidate
   search uses (~4 sqrt(n) lists, 39 training points per list, nprobe 16), and the alternative
   of ~2 sqrt(n) lists with 12 probes (tried and not adopted): training and search seconds for
   ``--queries`` queries, and recall@31 against exact search.
3. kNN's automatic switch from exact search to IVF (``AUTO_EXACT_MAX_ROWS``): on the static
   tier's vectors of the first ``--knn-n`` distinct texts (default 10,000, the size the speed
   table's smallest row runs), the self-join :func:`neardup.candidates.knn.knn_search` with
   k=30 by ``"exact"`` and by ``"ivf"``: seconds (the better of two runs) and the share of the
   exact neighbour pairs IVF finds. Needs the static tier (distilled once into the neardup
   cache).
4. Number tokens from the carried punctuation-kept forms (``NormalizedTexts.kept``, which
   ``dedup``'s collapse step fills) against reading each digit-bearing text again
   (``digit_tokens``, what a ``NormalizedTexts`` without them does): on the ``--knn-n``
   collection's distinct texts, the collapse step's seconds and
   :func:`neardup.scoring.number_disagreement` over 25 random pairs per text, best of 9
   runs each, and whether the two give the same values.
5. Thread chunks and the projection draw, on the ``--knn-n`` collection's candidate pairs (the
   static tier's default pipeline): the exact n-gram cosines and the lexical projection with
   chunks of the fixed cap (what ``run_chunks`` split by before) against chunks even per
   thread (:func:`neardup._threads.even_chunk`), and the projection matrix drawn by
   scikit-learn's ``GaussianRandomProjection`` against ``projection_weights``; best of 7.

Prints a Markdown table per part. Timings are of one run each on whatever the machine is doing.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np


def best_of(fn, runs: int) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    """The fastest of ``runs`` calls of ``fn`` (seconds) and the last call's result."""
    times, out = [], None
    for _ in range(runs):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def tfidf_part(texts: list[str]) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    from neardup.ngrams import char_wb_tfidf
    from neardup.text import normalize

    docs = [normalize(t) for t in texts]
    start = time.perf_counter()
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True,
                          lowercase=False, dtype=np.float32)
    ref = vec.fit_transform(docs).tocsr()
    ref.sort_indices()
    t_ref = time.perf_counter() - start
    start = time.perf_counter()
    got = char_wb_tfidf(docs)
    t_got = time.perf_counter() - start
    assert got is not None
    same = (ref.shape == got.shape and np.array_equal(ref.indptr, got.indptr)
            and np.array_equal(ref.indices, got.indices))
    diff = float(np.abs(ref.data - got.data).max()) if same else float("nan")
    print(f"\n**char_wb 2-4 TF-IDF, {len(docs):,} texts**\n")
    print("| builder | seconds | same columns | largest value difference |")
    print("|---|---|---|---|")
    print(f"| scikit-learn TfidfVectorizer | {t_ref:.2f} | – | – |")
    print(f"| neardup.ngrams.char_wb_tfidf | {t_got:.2f} | {same} | {diff:.1e} |")


def ivf_part(texts: list[str], n_queries: int) -> None:
    import faiss

    from neardup.candidates.knn import IVF_NPROBE, IVF_TRAIN_POINTS_PER_LIST, default_nlist
    from neardup.candidates.lexical import project_tfidf
    from neardup.scoring import char_ngram_matrix

    x = project_tfidf(char_ngram_matrix(texts)).astype(np.float32)
    n, dim = x.shape
    k = 31
    nlist = default_nlist(n)
    rng = np.random.default_rng(0)
    train_default = x[rng.choice(n, min(n, IVF_TRAIN_POINTS_PER_LIST * nlist), replace=False)]
    queries = x[:n_queries]
    _, exact = faiss.knn(queries, x, k, metric=faiss.METRIC_INNER_PRODUCT)
    print(f"\n**IVF on {n:,} projected n-gram vectors ({dim}-d), {len(queries):,} queries**\n")
    print("| lists | nlist | nprobe | k-means iterations | train s | search s | recall@31 |")
    print("|---|---|---|---|---|---|---|")
    half = max(1, min(int(round(2 * np.sqrt(n))), n // 39))  # the alternative list count
    for kind, lists, nprobe, niter in (("flat", nlist, IVF_NPROBE, 10),
                                       ("fp16", nlist, IVF_NPROBE, 10),
                                       ("fp16", nlist, IVF_NPROBE, 5), ("fp16", half, 12, 5)):
        train = x[rng.choice(n, min(n, IVF_TRAIN_POINTS_PER_LIST * lists), replace=False)] \
            if lists != nlist else train_default
        quantizer = faiss.IndexFlatIP(dim)
        if kind == "flat":
            index = faiss.IndexIVFFlat(quantizer, dim, lists, faiss.METRIC_INNER_PRODUCT)
        else:
            index = faiss.IndexIVFScalarQuantizer(
                quantizer, dim, lists, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
            )
        index.cp.niter = niter
        index.cp.max_points_per_centroid = IVF_TRAIN_POINTS_PER_LIST
        start = time.perf_counter()
        index.train(train)
        t_train = time.perf_counter() - start
        index.add(x)
        index.nprobe = nprobe
        start = time.perf_counter()
        _, found = index.search(queries, k)
        t_search = time.perf_counter() - start
        recall = np.mean([len(set(a) & set(b)) / k for a, b in zip(found, exact)])
        label = "float32 (IndexIVFFlat)" if kind == "flat" else "float16 (IVFScalarQuantizer)"
        print(f"| {label} | {lists} | {nprobe} | {niter} | {t_train:.2f} | {t_search:.2f} "
              f"| {recall:.4f} |")


def knn_part(texts: list[str]) -> None:
    from neardup.candidates.knn import knn_search
    from neardup.models import load_encoder

    x = np.asarray(load_encoder("multilingual-e5-small@static").encode(texts), np.float32)
    found: dict[str, set[tuple[int, int]]] = {}
    print(f"\n**Self-join kNN (k=30) on {len(texts):,} static-tier vectors "
          f"({x.shape[1]}-d)**\n")
    print("| method | seconds | share of the exact neighbour pairs |")
    print("|---|---|---|")
    for method in ("exact", "ivf"):
        best, pairs = best_of(lambda: knn_search(x, 30, method=method).to_pairs(), 2)  # type: ignore[misc]
        found[method] = set(zip(pairs.left.tolist(), pairs.right.tolist()))
        share = len(found[method] & found["exact"]) / len(found["exact"])
        print(f"| {method} | {best:.2f} | {share:.4f} |")


def numbers_part(texts: list[str]) -> None:
    from neardup.dedup import _collapse
    from neardup.scoring import number_disagreement
    from neardup.text import NormalizedTexts

    def best(fn):  # type: ignore[no-untyped-def]
        return best_of(fn, 9)

    t_collapse, collapsed = best(lambda: _collapse(texts))
    carried = collapsed.texts  # type: ignore[attr-defined]
    without = NormalizedTexts(list(carried), carried.normalized)
    rng = np.random.default_rng(0)
    left = rng.integers(0, len(carried), 25 * len(carried))
    right = rng.integers(0, len(carried), left.size)
    t_kept, a = best(lambda: number_disagreement(carried, left, right))
    t_again, b = best(lambda: number_disagreement(without, left, right))
    print(f"\n**Number tokens, {len(texts):,} texts ({len(carried):,} distinct), "
          f"{left.size:,} pairs; best of 9**\n")
    print(f"Collapse step (normalise once, keep both forms): {t_collapse:.3f} s\n")
    print("| number disagreement | seconds | same values |")
    print("|---|---|---|")
    print(f"| texts read again (digit_tokens) | {t_again:.3f} | – |")
    print(f"| carried punctuation-kept forms | {t_kept:.3f} | "
          f"{np.array_equal(a, b)} |")  # type: ignore[arg-type]


def chunks_part(texts: list[str]) -> None:
    from sklearn.random_projection import GaussianRandomProjection

    from neardup import _threads
    from neardup.candidates.lexical import project_tfidf, projection_weights
    from neardup.dedup import Deduplicator
    from neardup.models import load_encoder
    from neardup.scoring import char_ngram_matrix, char_ngram_similarity

    graph = Deduplicator(load_encoder("multilingual-e5-small@static")).candidate_graph(texts)
    distinct, pairs = graph.collapsed.texts, graph.scored
    x = char_ngram_matrix(distinct)
    n_shared = int((np.bincount(x.indices, minlength=x.shape[1]) >= 2).sum())
    t_sk, _ = best_of(lambda: GaussianRandomProjection(256, random_state=0).fit(x[:2, :n_shared]), 7)
    t_np, _ = best_of(lambda: projection_weights(n_shared), 7)
    print(f"\n**Thread chunks and the projection draw: {len(texts):,} texts "
          f"({len(distinct):,} distinct), {len(pairs):,} candidate pairs, "
          f"{n_shared:,} shared n-grams; best of 7**\n")
    print(f"Projection matrix draw: scikit-learn GaussianRandomProjection {t_sk:.3f} s, "
          f"numpy float32 (projection_weights) {t_np:.3f} s\n")
    print("| chunks | exact n-gram cosines s | projection s |")
    print("|---|---|---|")
    even = _threads.even_chunk
    try:
        for label, split in (("fixed size (cap)", lambda total, cap, floor=1: cap),
                             ("even per thread", even)):
            _threads.even_chunk = split  # run_chunks reads it at each call
            t_cos, _ = best_of(lambda: char_ngram_similarity(distinct, pairs.left, pairs.right,
                                                             matrix=x), 7)
            t_proj, _ = best_of(lambda: project_tfidf(x), 7)
            print(f"| {label} | {t_cos:.3f} | {t_proj:.3f} |")
    finally:
        _threads.even_chunk = even


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=20_000)
    parser.add_argument("--knn-n", type=int, default=10_000)
    parser.add_argument("--only", default="tfidf,ivf,knn,numbers,chunks",
                        help="comma-separated parts to run: tfidf, ivf, knn, numbers, chunks")
    args = parser.parse_args(argv)
    parts = set(args.only.split(","))
    from neardup.synth import make_near_duplicates

    if parts & {"tfidf", "ivf"}:
        texts = make_near_duplicates(args.n, seed=0).texts
        if "tfidf" in parts:
            tfidf_part(texts)
        if "ivf" in parts:
            ivf_part(texts, min(args.queries, len(texts)))
    if "knn" in parts:
        knn_part(list(dict.fromkeys(make_near_duplicates(args.knn_n, seed=0).texts)))
    if "numbers" in parts:
        numbers_part(list(make_near_duplicates(args.knn_n, seed=0).texts))
    if "chunks" in parts:
        chunks_part(list(make_near_duplicates(args.knn_n, seed=0).texts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
