"""Speed, peak memory and quality of neardup and the anchors, side by side in one run.

    nice .venv/bin/python benchmarks/speed.py [--sizes 10000,100000,1000000]
        [--systems neardup-static,neardup-onnx-int8,neardup-torch,semhash,minhash,st-community]
        [--encode-sample 20000] [--repeats 3] [--json speed.json]

Data: :func:`neardup.synth.make_near_duplicates` (seed 0, English and Russian news headlines
and product titles with OCR-like noise, word deletions, abridgement and reorderings; known
groups), so pair F1 is measured at every size.

Each (system, size) runs in a fresh subprocess of this script (``--one SYSTEM N``), so every
peak RSS (``ru_maxrss``) is that run's alone and includes the Python interpreter, the model and
the texts. With ``--repeats N`` each (system, size) runs N times, the systems taking turns in
each round, and the run with the median total time is reported (every total is printed under
the table): on a 2-core machine single runs of the same job vary by 10-20 %. Reported per run: texts/s over the whole run, seconds per stage (encode, candidates,
scoring, clustering; "other" is the rest: collapsing exact copies, threshold, report), peak
RSS, pair F1 against the generator's groups (``neardup.evaluate.metrics``: precision/recall
over same-cluster pairs), the non-encode time as a fraction of encode time, and, for sizes
10x apart, the growth exponent ``log(t_big / t_small) / log(10)`` of the non-encode time
(1.0 is linear; n log n from 100k to 1M is 1.08).

Systems:

- ``neardup-static``: ``Deduplicator`` with the static tier (multilingual-e5-small distilled by
  model2vec: ``load_encoder("multilingual-e5-small@static")``, or a model2vec folder given with
  ``--static-model``), everything else default (threshold "auto", no labels).
- ``neardup-static-tuned``: the same with its link threshold tuned by pair F1 on the 10k set
  (the protocol the anchors below get: the candidate graph is built once and clustered at each
  threshold of a grid), so it can be set beside SemHash at SemHash's best threshold.
- ``neardup-static-knn``: the static tier with the embedding kNN as its only candidate source
  (``candidates=["knn"]``, CLI ``--candidates knn``; exact copies are still merged first), the
  default scorer and threshold "auto". It skips the character n-gram neighbour search, which
  is what catches model numbers and OCR noise that the embedding misses on real product data
  (``benchmarks/quality.py --only static``: Shopee dev 0.751 with both sources, 0.633 with kNN
  only), so it is the faster setting, not the default.
- ``neardup-onnx-int8`` / ``neardup-torch``: the default pipeline with multilingual-e5-small on
  onnxruntime int8 / torch.
- ``semhash``: SemHash 0.5 ``self_deduplicate`` with the same static model; threshold tuned by
  pair F1 on the 10k set (a grid swept with ``rethreshold``): generous to it at 10k, where it
  is scored on the set it was tuned on. Its time is one ``from_records`` + ``self_deduplicate``
  at that threshold.
- ``minhash``: datasketch ``MinHashLSH`` (character 3-gram shingles of the normalised text,
  128 permutations) + connected components; LSH threshold tuned by pair F1 on the 10k set.
- ``st-community``: sentence-transformers ``util.community_detection`` on the e5 (ONNX int8)
  embeddings of the distinct texts; threshold tuned by pair F1 on the 10k set. It compares
  every pair (O(n^2)), so it runs only up to ``--community-max`` texts.

Transformer encoding of a million texts takes hours on two cores. With ``--encode-sample N``
a transformer tier whose embeddings are not cached encodes only N texts (every j-th distinct
text), and its encode time is extrapolated linearly, labelled "extrapolated". Its other stages
then run on stand-in vectors (the static tier's, zero-padded to the transformer's dimension so
kNN costs the same), and its pair F1 is not reported (the stand-in says nothing about e5's
quality). Embeddings and measured encode times are cached in ``.neardup-cache/bench`` (or
``$NEARDUP_BENCH_CACHE``), so reruns are cheap; a cached encode time is labelled "cached".
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("NEARDUP_BENCH_CACHE", REPO / ".neardup-cache" / "bench"))
TUNED = CACHE / "speed-tuned.json"
E5 = "multilingual-e5-small"
SYSTEMS = (
    "neardup-static",
    "neardup-static-tuned",
    "neardup-static-knn",
    "neardup-onnx-int8",
    "neardup-torch",
    "semhash",
    "minhash",
    "st-community",
)
TRANSFORMER_MODELS = {"neardup-onnx-int8": f"{E5}@onnx-int8", "neardup-torch": E5}
SEED = 0
TUNE_SIZE = 10_000
NEARDUP_GRID = tuple(round(0.30 + 0.05 * i, 2) for i in range(13))  # 0.30 ... 0.90
SEMHASH_GRID = (0.8, 0.85, 0.88, 0.9, 0.92, 0.94, 0.96, 0.98)
MINHASH_GRID = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
COMMUNITY_GRID = (0.88, 0.9, 0.92, 0.94, 0.95, 0.96, 0.97, 0.98)


def peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux, bytes on macOS
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def collection(n: int) -> Any:
    from neardup.synth import make_near_duplicates

    return make_near_duplicates(n, seed=SEED)


def pair_f1(groups: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    from neardup.evaluate.metrics import pairwise_cluster_metrics

    m = pairwise_cluster_metrics(groups, labels)
    return {"f1": m.f1, "precision": m.precision, "recall": m.recall}


def load_tuned() -> dict[str, float]:
    return json.loads(TUNED.read_text()) if TUNED.is_file() else {}


def save_tuned(key: str, value: float) -> None:
    tuned = load_tuned()
    tuned[key] = value
    CACHE.mkdir(parents=True, exist_ok=True)
    TUNED.write_text(json.dumps(tuned, indent=1, sort_keys=True))


# --------------------------------------------------------------------------------------------
# Encoders
# --------------------------------------------------------------------------------------------


def static_encoder(folder: str | None) -> Any:
    from neardup.models import load_encoder

    if folder:
        from neardup.models.static import StaticEncoder

        return StaticEncoder(folder, name=f"{E5}@static")
    return load_encoder(f"{E5}@static")


class BenchEncoder:
    """Wraps an encoder: caches vectors and the measured encode time per text list, and in
    sample mode times a sample and hands out stand-in vectors (see the module docstring)."""

    def __init__(self, model: str, sample: int | None, static_folder: str | None) -> None:
        from neardup.models import load_encoder

        self.model = model
        self.inner = load_encoder(model)
        self.name = self.inner.name  # the scorer's cosine range is looked up by this name
        self.dim = self.inner.dim
        self.sample = sample
        self.static_folder = static_folder
        self.encode_seconds = 0.0
        self.label = "measured"
        self.texts_per_s = float("nan")

    def _key(self, texts: Sequence[str], kind: str) -> str:
        h = hashlib.sha1("\x00".join([self.model, kind, *texts]).encode("utf-8"))
        return f"{self.model.replace('@', '-')}-{len(texts)}-{h.hexdigest()[:16]}"

    def encode(self, texts: Sequence[str], *, kind: str = "passage", batch_size: int = 64,
               show_progress: bool = False) -> np.ndarray:
        key = self._key(texts, kind)
        vec_path, meta_path = CACHE / f"{key}.npy", CACHE / f"{key}.json"
        if vec_path.is_file() and meta_path.is_file():
            meta = json.loads(meta_path.read_text())
            self.encode_seconds, self.label = float(meta["seconds"]), f"cached ({meta['date']})"
            self.texts_per_s = len(texts) / self.encode_seconds
            return np.load(vec_path)
        n = len(texts)
        if self.sample is not None and self.sample < n:
            picks = np.linspace(0, n - 1, self.sample).round().astype(np.int64)
            start = time.perf_counter()
            self.inner.encode([texts[i] for i in picks], kind=kind, batch_size=batch_size)
            seconds = time.perf_counter() - start
            self.encode_seconds = seconds * n / self.sample
            self.texts_per_s = self.sample / seconds
            self.label = f"extrapolated from {self.sample:,} texts"
            stand_in = static_encoder(self.static_folder).encode(list(texts))
            out = np.zeros((n, self.dim), dtype=np.float32)
            out[:, : stand_in.shape[1]] = stand_in
            return out
        start = time.perf_counter()
        vectors = np.asarray(self.inner.encode(texts, kind=kind, batch_size=batch_size),
                             dtype=np.float32)
        self.encode_seconds = time.perf_counter() - start
        self.texts_per_s = n / self.encode_seconds
        CACHE.mkdir(parents=True, exist_ok=True)
        np.save(vec_path, vectors)
        meta_path.write_text(json.dumps({
            "seconds": self.encode_seconds, "texts": n,
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        }))
        return vectors


# --------------------------------------------------------------------------------------------
# One system on one size (runs in its own process)
# --------------------------------------------------------------------------------------------


def _stages_from_timings(t: dict[str, float]) -> dict[str, float]:
    cand = sum(v for k, v in t.items() if k.startswith("candidates"))
    return {
        "encode": t.get("encode", 0.0),
        "candidates": cand,
        "scoring": t.get("score", 0.0),
        "clustering": t.get("cluster", 0.0),
    }


def run_neardup(system: str, n: int, args: argparse.Namespace) -> dict[str, Any]:
    from neardup.dedup import Deduplicator

    c = collection(n)
    threshold: float | str = "auto"
    candidates = ["knn"] if system == "neardup-static-knn" else None
    if system.startswith("neardup-static"):
        encoder: Any = static_encoder(args.static_model)
        enc_label = "measured"
        if system == "neardup-static-tuned":
            threshold = _tuned_neardup_threshold(encoder)
    else:
        encoder = BenchEncoder(TRANSFORMER_MODELS[system], args.encode_sample, args.static_model)
    dd = Deduplicator(encoder, threshold=threshold, candidates=candidates,
                      embedding_store=args.store,
                      embedding_dtype=args.dtype,
                      embedding_dir=str(CACHE) if args.store == "disk" else None)
    # the libraries neardup imports lazily are imported before the clock starts, as SemHash's
    # and datasketch's are: the rows compare work, not interpreter start-up (~1.5 s here)
    import faiss  # noqa: F401
    import scipy.sparse.csgraph  # noqa: F401
    import sklearn.feature_extraction.text  # noqa: F401

    start = time.perf_counter()
    result = dd.deduplicate(c.texts)
    total = time.perf_counter() - start
    stages = _stages_from_timings(result.timings)
    out: dict[str, Any] = {"threshold": result.threshold.value,
                           "n_candidates": result.n_candidates}
    if isinstance(encoder, BenchEncoder):
        # the pipeline timed a cache load or a stand-in: use the real (or extrapolated) time
        total += encoder.encode_seconds - stages["encode"]
        stages["encode"] = encoder.encode_seconds
        enc_label = encoder.label
        if encoder.label.startswith("extrapolated"):
            out["f1_note"] = "stand-in embeddings"
    stages["other"] = max(0.0, total - sum(stages.values()))
    out.update(stages=stages, total=total, encode_label=enc_label)
    if "f1_note" not in out:
        out["quality"] = pair_f1(c.groups, result.labels)
    return out


def _tuned_neardup_threshold(encoder: Any) -> float:
    """The static tier's link threshold with the best pair F1 on the 10k set (cached)."""
    from neardup.dedup import Deduplicator

    tuned = load_tuned().get("neardup-static")
    if tuned is None:
        tc = collection(TUNE_SIZE)
        dd = Deduplicator(encoder)
        graph = dd.candidate_graph(tc.texts)
        scores = {t: pair_f1(tc.groups, dd.cluster_graph(graph, t))["f1"] for t in NEARDUP_GRID}
        tuned = max(NEARDUP_GRID, key=lambda t: (scores[t], -t))
        save_tuned("neardup-static", tuned)
    return float(tuned)


def _semhash_labels(n: int, result: Any) -> np.ndarray:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    a = [d.record["id"] for d in result.filtered]
    b = [d.duplicate_of["id"] for d in result.filtered]
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def run_semhash(n: int, args: argparse.Namespace) -> dict[str, Any]:
    from model2vec import StaticModel

    try:
        from semhash import SemHash
    except ImportError as exc:
        raise RuntimeError('SemHash is not installed: pip install -e ".[bench]"') from exc

    from neardup.models.static import cached_static_folder

    # the folder only: loading neardup's encoder too would add its token table to the peak RSS
    folder = args.static_model or cached_static_folder(E5)
    model = StaticModel.from_pretrained(folder)

    class Timed:
        """Times SemHash's calls of the model (its encode stage)."""

        def __init__(self) -> None:
            self.seconds = 0.0

        def encode(self, sentences: Any, **kwargs: Any) -> np.ndarray:
            start = time.perf_counter()
            out = model.encode(sentences, **kwargs)
            self.seconds += time.perf_counter() - start
            return out

    def records(texts: Sequence[str]) -> list[dict[str, Any]]:
        return [{"id": i, "text": t} for i, t in enumerate(texts)]

    tuned = load_tuned().get("semhash")
    if tuned is None:
        # lowest threshold first, then rethreshold upwards (SemHash's own cheap re-selection)
        tc = collection(TUNE_SIZE)
        result = SemHash.from_records(records(tc.texts), columns=["text"], model=Timed()  # type: ignore[arg-type]
                                      ).self_deduplicate(threshold=SEMHASH_GRID[0])
        scores = {}
        for t in SEMHASH_GRID:
            if t != SEMHASH_GRID[0]:
                result.rethreshold(t)
            scores[t] = pair_f1(tc.groups, _semhash_labels(TUNE_SIZE, result))["f1"]
        tuned = max(SEMHASH_GRID, key=lambda t: (scores[t], -t))
        save_tuned("semhash", tuned)
    c = collection(n)
    timed = Timed()
    start = time.perf_counter()
    sh = SemHash.from_records(records(c.texts), columns=["text"], model=timed)  # type: ignore[arg-type]
    built = time.perf_counter()
    result = sh.self_deduplicate(threshold=tuned)
    done = time.perf_counter()
    stages = {
        "encode": timed.seconds,
        "candidates": (built - start - timed.seconds) + (done - built),  # index + ANN query
        "scoring": 0.0,
        "clustering": 0.0,
    }
    return {"stages": {**stages, "other": 0.0}, "total": done - start, "threshold": tuned,
            "quality": pair_f1(c.groups, _semhash_labels(n, result)), "encode_label": "measured",
            "note": f"threshold tuned on the {TUNE_SIZE:,} set"}


def _minhash_labels(n: int, sigs: list[Any], threshold: float) -> tuple[np.ndarray, float]:
    from datasketch import MinHashLSH
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    start = time.perf_counter()
    lsh = MinHashLSH(threshold=threshold, num_perm=128)
    for i, m in enumerate(sigs):
        lsh.insert(i, m)
    a: list[int] = []
    b: list[int] = []
    for i, m in enumerate(sigs):
        for j in lsh.query(m):
            if j != i:
                a.append(i)
                b.append(j)
    seconds = time.perf_counter() - start
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    return connected_components(graph, directed=False)[1], seconds


def _minhash_signatures(texts: Sequence[str]) -> list[Any]:
    from datasketch import MinHash

    from neardup.candidates.minhash import shingle_set
    from neardup.text import normalize

    sets = [[s.encode("utf-8") for s in shingle_set(normalize(t), 3)] for t in texts]
    return list(MinHash.bulk(sets, num_perm=128))


def run_minhash(n: int, args: argparse.Namespace) -> dict[str, Any]:
    tuned = load_tuned().get("minhash")
    if tuned is None:
        tc = collection(TUNE_SIZE)
        sigs = _minhash_signatures(tc.texts)
        scores = {t: pair_f1(tc.groups, _minhash_labels(TUNE_SIZE, sigs, t)[0])["f1"]
                  for t in MINHASH_GRID}
        tuned = max(MINHASH_GRID, key=lambda t: (scores[t], -t))
        save_tuned("minhash", tuned)
    c = collection(n)
    start = time.perf_counter()
    sigs = _minhash_signatures(c.texts)
    hashed = time.perf_counter()
    labels, lsh_seconds = _minhash_labels(n, sigs, tuned)
    done = time.perf_counter()
    stages = {"encode": hashed - start, "candidates": lsh_seconds, "scoring": 0.0,
              "clustering": done - hashed - lsh_seconds, "other": 0.0}
    return {"stages": stages, "total": done - start, "threshold": tuned,
            "quality": pair_f1(c.groups, labels), "encode_label": "MinHash signatures",
            "note": f"threshold tuned on the {TUNE_SIZE:,} set"}


def _community_labels(n: int, emb: np.ndarray, threshold: float) -> np.ndarray:
    import torch
    from sentence_transformers import util

    communities = util.community_detection(torch.from_numpy(emb), threshold=threshold,
                                           min_community_size=2)
    labels = np.arange(n)
    for k, members in enumerate(communities):
        labels[members] = n + k
    return labels


def _unique_embeddings(texts: list[str], encoder: Any) -> tuple[np.ndarray, np.ndarray]:
    from neardup.dedup import SYMMETRIC_KIND, _collapse

    collapsed = _collapse(texts)
    vectors = encoder.encode(collapsed.texts, kind=SYMMETRIC_KIND)
    return vectors, collapsed.row_to_unique


def run_community(n: int, args: argparse.Namespace) -> dict[str, Any]:
    if n > args.community_max:
        pairs = n * (n - 1) / 2
        return {"skipped": f"O(n^2): {pairs:.1e} cosine pairs, above --community-max "
                           f"{args.community_max:,}"}
    encoder = BenchEncoder(TRANSFORMER_MODELS["neardup-onnx-int8"], None, args.static_model)
    tuned = load_tuned().get("st-community")
    if tuned is None:
        tc = collection(TUNE_SIZE)
        vec, r2u = _unique_embeddings(tc.texts, encoder)
        emb = vec[r2u]
        scores = {t: pair_f1(tc.groups, _community_labels(TUNE_SIZE, emb, t))["f1"]
                  for t in COMMUNITY_GRID}
        tuned = max(COMMUNITY_GRID, key=lambda t: (scores[t], -t))
        save_tuned("st-community", tuned)
    c = collection(n)
    vec, r2u = _unique_embeddings(c.texts, encoder)
    emb = np.ascontiguousarray(vec[r2u])
    start = time.perf_counter()
    labels = _community_labels(n, emb, tuned)
    seconds = time.perf_counter() - start
    stages = {"encode": encoder.encode_seconds, "candidates": 0.0, "scoring": 0.0,
              "clustering": seconds, "other": 0.0}
    return {"stages": stages, "total": seconds + encoder.encode_seconds, "threshold": tuned,
            "quality": pair_f1(c.groups, labels), "encode_label": f"e5 onnx-int8, {encoder.label}",
            "note": f"threshold tuned on the {TUNE_SIZE:,} set"}


def run_one(system: str, n: int, args: argparse.Namespace) -> dict[str, Any]:
    if system.startswith("neardup-"):
        out = run_neardup(system, n, args)
    elif system == "semhash":
        out = run_semhash(n, args)
    elif system == "minhash":
        out = run_minhash(n, args)
    else:
        out = run_community(n, args)
    out.update(system=system, n=n, peak_rss_mb=peak_rss_mb())
    return out


# --------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------


def spawn(system: str, n: int, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--one", system, str(n), "--store", args.store,
           "--dtype", args.dtype, "--community-max", str(args.community_max)]
    if args.encode_sample:
        cmd += ["--encode-sample", str(args.encode_sample)]
    if args.static_model:
        cmd += ["--static-model", args.static_model]
    print(f"[{datetime.now():%H:%M:%S}] {system} on {n:,} texts ...", file=sys.stderr, flush=True)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr or "").strip().splitlines()[-3:]
        return {"system": system, "n": n, "skipped": f"failed: {' | '.join(tail)}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median total time (the lower middle one of an even count), with every
    run's total listed under ``totals``; a failed run is reported if any failed."""
    failed = [r for r in runs if "skipped" in r]
    if failed:
        return failed[0]
    ordered = sorted(runs, key=lambda r: r["total"])
    chosen = dict(ordered[(len(ordered) - 1) // 2])
    chosen["totals"] = [r["total"] for r in runs]
    return chosen


def _fmt(x: float | None, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:,.{digits}f}"


def table(results: list[dict[str, Any]]) -> str:
    head = ("| n | system | texts/s | encode s | candidates s | scoring s | clustering s | "
            "other s | non-encode / encode | peak RSS MB | pair F1 (P / R) | threshold |")
    lines = [head, "|" + "---|" * 12]
    for r in results:
        if "skipped" in r:
            lines.append(f"| {r['n']:,} | {r['system']} | skipped ({r['skipped']}) |"
                         + " |" * 9)
            continue
        s = r["stages"]
        non_encode = r["total"] - s["encode"]
        enc = _fmt(s["encode"])
        if r.get("encode_label", "measured") not in ("measured",):
            enc += f" ({r['encode_label']})"
        q = r.get("quality")
        f1 = (f"{q['f1']:.3f} ({q['precision']:.2f} / {q['recall']:.2f})" if q
              else f"n/a ({r.get('f1_note', '')})")
        ratio = f"{non_encode / s['encode']:.1%}" if s["encode"] > 0 else "-"
        lines.append(
            f"| {r['n']:,} | {r['system']} | {_fmt(r['n'] / r['total'], 0)} | {enc} | "
            f"{_fmt(s['candidates'])} | {_fmt(s['scoring'])} | {_fmt(s['clustering'])} | "
            f"{_fmt(s['other'])} | {ratio} | {_fmt(r['peak_rss_mb'], 0)} | {f1} | "
            f"{r.get('threshold', float('nan')):.3f} |"
        )
    return "\n".join(lines)


def growth(results: list[dict[str, Any]]) -> list[str]:
    """Exponent of the non-encode time between sizes 10x apart, per system."""
    out = []
    by_system: dict[str, dict[int, dict[str, Any]]] = {}
    for r in results:
        if "skipped" not in r:
            by_system.setdefault(r["system"], {})[r["n"]] = r
    for system, runs in by_system.items():
        sizes = sorted(runs)
        for small, big in zip(sizes, sizes[1:]):
            t0 = runs[small]["total"] - runs[small]["stages"]["encode"]
            t1 = runs[big]["total"] - runs[big]["stages"]["encode"]
            if t0 > 0 and t1 > 0:
                k = math.log(t1 / t0) / math.log(big / small)
                out.append(f"- {system}: non-encode {t0:,.1f} s at {small:,} -> {t1:,.1f} s at "
                           f"{big:,}: exponent {k:.2f}")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000",
                        help="comma-separated collection sizes (e.g. 10000,100000,1000000)")
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--encode-sample", type=int, default=None,
                        help="encode only this many texts per uncached transformer run and "
                             "extrapolate the encode time")
    parser.add_argument("--static-model", default=None,
                        help="model2vec folder of the static tier (default: "
                             f"{E5}@static from the neardup cache)")
    parser.add_argument("--store", default="memory", choices=("memory", "disk"))
    parser.add_argument("--dtype", default="float32", choices=("float32", "float16"))
    parser.add_argument("--community-max", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=1,
                        help="runs per system and size; the run with the median total time "
                             "is reported (its stages, memory and quality)")
    parser.add_argument("--json", default=None, help="also write the results here")
    parser.add_argument("--one", nargs=2, metavar=("SYSTEM", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.one:
        system, n = args.one[0], int(args.one[1])
        print(json.dumps(run_one(system, n, args)))
        return 0

    sizes = [int(s) for s in args.sizes.split(",") if s]
    systems = [s for s in args.systems.split(",") if s]
    unknown = sorted(set(systems) - set(SYSTEMS))
    if unknown:
        parser.error(f"unknown systems {unknown}; choose from {', '.join(SYSTEMS)}")
    started = time.perf_counter()
    results = []
    for n in sizes:
        # rounds interleave the systems, so a slow spell of the machine hits them alike
        runs: dict[str, list[dict[str, Any]]] = {system: [] for system in systems}
        for _ in range(args.repeats):
            for system in systems:
                runs[system].append(spawn(system, n, args))
        results += [_median_run(runs[system]) for system in systems]
    machine = (f"{platform.machine()}, {os.cpu_count()} CPU cores, Python "
               f"{platform.python_version()}, {platform.system()}")
    print(f"\nbenchmarks/speed.py, {datetime.now(timezone.utc):%Y-%m-%d}, {machine}; "
          f"store={args.store}, dtype={args.dtype}; {time.perf_counter() - started:,.0f} s\n")
    print(table(results))
    if args.repeats > 1:
        print(f"\nEach row: the median of {args.repeats} runs by total time. All totals (s):")
        for r in results:
            if "totals" in r:
                print(f"- {r['n']:,} {r['system']}: " + ", ".join(f"{t:.1f}" for t in r["totals"]))
    lines = growth(results)
    if lines:
        print("\nGrowth of the non-encode time (1.0 = linear, 1.08 = n log n from 100k to 1M):")
        print("\n".join(lines))
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine, "results": results},
                                              indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
