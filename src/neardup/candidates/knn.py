"""k-nearest-neighbour candidates over embeddings (inner product = cosine for unit vectors).

Methods:

- ``"exact"``: every query against the whole base: ``faiss.knn`` when faiss is installed,
  else numpy matmul over blocks of query rows followed by a per-row top-k (also when
  ``block_size`` is given). Memory is bounded by the block (about ``_BLOCK_ELEMENTS`` scores
  at a time); an ``n x n`` matrix is never built. Both give the same neighbours, ties
  included.
- ``"hnsw"``: faiss ``IndexHNSWFlat`` with ``M=32``, ``efConstruction=80`` and
  ``efSearch=max(64, 2k)``: recall@10 above 0.95 on unit vectors, at a build cost that stays
  reasonable for millions of rows (M=32 is the usual quality/memory balance for 256-1024-d
  text embeddings; efSearch scales with k because the candidate list must hold at least k).
- ``"ivf"``: faiss ``IndexIVFScalarQuantizer`` with float16 lists (half the memory of
  ``IndexIVFFlat`` and 1.5x faster scans at the same recall, see ``benchmarks/components.py``;
  returned scores carry float16 rounding, ~1e-3), ``nlist ~ 4 sqrt(n)`` lists (capped at
  ``n / 39`` so each centroid gets the 39 training points faiss asks for) and ``nprobe = 16``
  lists visited per query (all lists when there are fewer). k-means is trained on a sample of
  :data:`IVF_TRAIN_POINTS_PER_LIST` points per list (faiss's minimum without a warning) for
  :data:`IVF_TRAIN_ITERATIONS` iterations, so training costs ``O(n)``, not ``O(n^1.5)``.
  A query costs ``nlist`` centroid products plus ``16 n / nlist`` vector products, both
  ``~ sqrt(n)``; at a million 384-d rows that is ~4,000 + ~4,000 products per query (~0.8 % of
  an exact search). On clustered data such as text embeddings recall@10 is above 0.95; on the
  synthetic near-duplicate collection (``neardup.synth``, 100,000 texts) the share of true
  duplicate pairs among the 30 neighbours is within 0.01 of nprobe=32 (0.795 against 0.799,
  on projected character n-gram vectors); structureless random vectors are the worst case. Pass ``nprobe`` to trade speed for recall.
- ``"auto"``: ``"exact"`` while ``n_queries * n_base < 5,000**2`` (i.e. below 5,000 rows for
  a self-join, which keeps every collection of ``BENCHMARKS.md``'s quality tables exact): a
  fraction of a second. Above it exact search grows quadratically (``benchmarks/components.py
  --only knn``: 1.05 s for 9,599 rows of 256-d static vectors with k=30 here, against 0.42 s
  for IVF, which finds 99.5 % of the exact neighbour pairs; the speed table's 10,000-text pair
  F1 is 0.443 either way), so ``"ivf"`` is used (or ``"exact"`` with a
  warning when faiss is not installed). IVF rather than HNSW because its build is
  deterministic with every core busy (k-means and list assignment split work by centroid or
  by row), whereas HNSW must be built on one thread to be reproducible: that build took about
  1 ms per row here (20,000 rows of 256-d, shared cores), a quarter of an hour per million.

The base vectors may be a numpy memmap (see :mod:`neardup.store`) and float16: the
approximate indexes read them in blocks of :data:`_FAISS_BLOCK_ROWS` rows, converting each to
float32, so no second full-size copy is made besides the index itself.

Determinism: results are sorted by score descending, then base index ascending, and exact
search resolves ties at the k-th place by the smaller index. Its scores are recomputed in
float64 and rounded back (float32 BLAS scores identical vectors a few ulps apart under
different blockings and thread splits), and rows whose float32 scores came too close to order
are sorted again, so exact neighbours and scores do not depend on the block size, the thread
count or faiss against numpy. The approximate indexes are
built single-threaded (multi-threaded HNSW insertion produces a different graph on every run)
and fed rows in an order derived from the vectors' contents, not their positions, so that
permuting the input only renumbers the result.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from neardup.candidates._progress import progress
from neardup.errors import InputError, require
from neardup.pairs import Pairs

Method = Literal["auto", "exact", "hnsw", "ivf"]

AUTO_EXACT_MAX_ROWS = 5_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH_MIN = 64
# Scores materialised per exact-search block: 2**23 float32 scores (32 MB) plus the int64
# argpartition output (64 MB) keeps peak memory modest while matmuls stay large enough to run
# at BLAS speed.
_BLOCK_ELEMENTS = 1 << 23
_MAX_BLOCK_ROWS = 4096
# Rows per faiss add/search call: bounds the float32 copy of a block of a (float16 or
# memory-mapped) input, and sets the progress bar's granularity.
_FAISS_BLOCK_ROWS = 16384
#: IVF probes per query (see the module docstring).
IVF_NPROBE = 16
#: k-means training sample per IVF list, and iterations (5 instead of 10 halves the training
#: time; recall@31 on 100,000 projected n-gram vectors 0.9895 against 0.9899).
IVF_TRAIN_POINTS_PER_LIST = 39
IVF_TRAIN_ITERATIONS = 5


@dataclass(frozen=True)
class Neighbors:
    """The ``k`` nearest base rows of each query row.

    ``indices`` is ``int64 (n_queries, k)`` with ``-1`` where fewer than ``k`` neighbours
    exist; ``scores`` is ``float32 (n_queries, k)`` inner products, ``-inf`` where the index
    is ``-1``. Each row is sorted by score descending, then index ascending. ``cross`` is True
    when indices point into a different base than the queries (:func:`cross_knn`); a self-join
    (``cross=False``) never lists a row as its own neighbour.
    """

    indices: np.ndarray
    scores: np.ndarray
    cross: bool = False

    @property
    def k(self) -> int:
        return int(self.indices.shape[1])

    def __len__(self) -> int:
        return int(self.indices.shape[0])

    def to_pairs(self, min_score: float | None = None) -> Pairs:
        """Undirected pairs ``(row, neighbour)`` of a self-join, keeping ``score >= min_score``.

        If ``i`` lists ``j`` and ``j`` lists ``i`` the pair appears once (with the larger of
        the two scores, which differ at most by float rounding). Warns when ``k`` may have cut
        pairs above ``min_score``: rows whose ``k``-th neighbour still reaches ``min_score``
        may have more such neighbours than were searched for.
        """
        if self.cross:
            raise InputError(
                "to_pairs() needs a self-join: these neighbours point into a different base "
                "(cross_knn or knn_search with queries=...), so rows and neighbours are not "
                "the same rows"
            )
        n, k = self.indices.shape
        rows = np.repeat(np.arange(n, dtype=np.int64), k)
        cols = self.indices.ravel()
        scores = self.scores.ravel()
        keep = cols >= 0
        if min_score is not None:
            keep &= scores >= np.float32(min_score)
            if k > 0:
                full = (self.indices[:, -1] >= 0) & (self.scores[:, -1] >= np.float32(min_score))
                n_full = int(full.sum())
                if n_full:
                    warnings.warn(
                        f"k={k} may have cut pairs: {n_full} of {n} rows have all {k} "
                        f"neighbours at score >= min_score={min_score}, so they may have more; "
                        f"search with a larger k to get them",
                        stacklevel=2,
                    )
        return Pairs.from_arrays(rows[keep], cols[keep], scores[keep])


def _check_rows(arr: np.ndarray, name: str, offset: int = 0) -> None:
    finite = np.isfinite(arr).all(axis=1)
    if not finite.all():
        bad = np.flatnonzero(~finite)
        raise InputError(
            f"{name} has NaN or infinite values in {bad.size} rows (first: row "
            f"{int(bad[0]) + offset}); re-encode those texts or drop them"
        )


def _as_matrix(x: Any, name: str) -> np.ndarray:
    """float32, C-contiguous, 2-D, finite: what both numpy BLAS and faiss want."""
    arr = np.asarray(x)
    if arr.ndim != 2:
        raise InputError(f"{name} must be a 2-D array (rows, dim), got shape {arr.shape}")
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    _check_rows(arr, name)
    return arr


def _as_blocks(x: Any, name: str) -> np.ndarray:
    """A 2-D array left as it is (float16, memmap): the faiss path converts it block by block.

    Its rows are checked for NaN block by block too.
    """
    arr = x if isinstance(x, np.ndarray) else np.asarray(x)
    if arr.ndim != 2:
        raise InputError(f"{name} must be a 2-D array (rows, dim), got shape {arr.shape}")
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float32)
    for s in range(0, arr.shape[0], _FAISS_BLOCK_ROWS):
        _check_rows(np.asarray(arr[s : s + _FAISS_BLOCK_ROWS], dtype=np.float32), name, s)
    return arr


def _block(x: np.ndarray, start: int, stop: int) -> np.ndarray:
    return np.ascontiguousarray(x[start:stop], dtype=np.float32)


def _gather(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``x[rows]`` as float32; rows are read in ascending order (sequential on a memmap)."""
    if not isinstance(x, np.memmap):
        return np.ascontiguousarray(x[rows], dtype=np.float32)
    ascending = np.sort(rows)
    rank = np.searchsorted(ascending, rows)
    return np.ascontiguousarray(x[ascending][rank], dtype=np.float32)


def _topk_block(sims: np.ndarray, kk: int) -> tuple[np.ndarray, np.ndarray]:
    """Top ``kk`` columns per row of ``sims``, ordered by score desc then column asc.

    ``argpartition`` picks an arbitrary subset of columns tied at the k-th score; those rows
    are redone so that the smallest tied columns win, which makes the result independent of
    the partition algorithm.
    """
    b, nb = sims.shape
    if kk < nb:
        idx = np.argpartition(-sims, kk - 1, axis=1)[:, :kk]
    else:
        idx = np.broadcast_to(np.arange(nb), (b, nb)).copy()
    vals = np.take_along_axis(sims, idx, axis=1)
    if kk < nb:
        kth = vals.min(axis=1)
        tied_all = (sims == kth[:, None]).sum(axis=1)
        tied_sel = (vals == kth[:, None]).sum(axis=1)
        for r in np.flatnonzero(tied_all > tied_sel).tolist():
            above = np.flatnonzero(sims[r] > kth[r])
            tied = np.flatnonzero(sims[r] == kth[r])[: kk - above.size]
            idx[r] = np.concatenate([above, tied])
            vals[r] = sims[r, idx[r]]
    order = np.lexsort((idx, -vals), axis=1)
    return np.take_along_axis(idx, order, axis=1), np.take_along_axis(vals, order, axis=1)


# float32 inner products depend on the summation order, which differs between BLAS kernels,
# faiss and numpy, and how the work is split over threads: two identical base vectors can score
# 1.0 against a query in one place and 0.99999994 in another, so a tie at the k-th place, the
# order within a row and a score at a cut-off would follow the machine's load. So every
# neighbour's score is recomputed in float64, where products of float32 values are exact and
# the sum's error is far below float32's, and rounded back: one value per pair, whatever the
# path. Each search fetches this many neighbours beyond the kept ones, so that a near tie at the
# k-th place is settled among them unless it spans all of them.
_TIE_WINDOW = 8
# Rows rescored at once (each a (rows, window, d) gather).
_SETTLE_ROWS = 256


def _norms(x: np.ndarray) -> np.ndarray:
    out = np.empty(x.shape[0], dtype=np.float64)
    for s in range(0, x.shape[0], _FAISS_BLOCK_ROWS):
        block = np.asarray(x[s : s + _FAISS_BLOCK_ROWS], dtype=np.float32)
        out[s : s + _FAISS_BLOCK_ROWS] = np.sqrt(np.einsum("ij,ij->i", block, block,
                                                           dtype=np.float64))
    return out


def _exact_rows(queries: np.ndarray, base: np.ndarray, own: np.ndarray | None, kk: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """These queries' top ``kk`` over the whole base, scored in float64 (see ``_TIE_WINDOW``);
    ``own``: each query's own base row, excluded (self-join), or None."""
    q64 = np.asarray(queries, dtype=np.float64)
    sims = np.empty((len(q64), base.shape[0]), dtype=np.float32)
    for s in range(0, base.shape[0], _FAISS_BLOCK_ROWS):
        block = np.asarray(base[s : s + _FAISS_BLOCK_ROWS], dtype=np.float64)
        sims[:, s : s + _FAISS_BLOCK_ROWS] = q64 @ block.T
    if own is not None:
        sims[np.arange(len(q64)), own] = -np.inf
    return _topk_block(sims, kk)


def _settle_ties(
    queries: np.ndarray,
    base: np.ndarray,
    idx: np.ndarray,
    vals: np.ndarray,
    kk: int,
    start: int,
    self_join: bool,
    base_norms: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """``(idx, vals)`` (float32 search results: sorted rows, ``kk`` or more wide, ``-1``/``-inf``
    padded) with every score recomputed in float64 and the rows sorted again (score
    descending, then index ascending), in place.

    Where two of a row's first ``kk + 1`` float32 scores are closer than their rounding errors,
    the order may change; the kept ``kk`` may too, and if the float32 scores stay that close to
    the ``kk``-th one to the end of the fetched window, neighbours beyond it may belong: that
    row is searched again over the whole base. Elsewhere the float32 order is the exact order.
    """
    n, width = idx.shape
    ok = idx >= 0
    q_norms = np.linalg.norm(np.asarray(queries, dtype=np.float64), axis=1)
    # a bound on a float32 d-term inner product's error: d ulps of |q| |b|
    unit = queries.shape[1] * float(np.finfo(np.float32).eps)
    err = unit * q_norms[:, None] * np.where(ok, base_norms[np.where(ok, idx, 0)], 0.0)
    head = min(kk + 1, width)
    with np.errstate(invalid="ignore"):
        gaps = vals[:, : head - 1].astype(np.float64) - vals[:, 1:head]
    near = (np.isfinite(gaps) & (gaps <= err[:, : head - 1] + err[:, 1:head])).any(axis=1)
    span = np.zeros(n, dtype=bool)
    if width > kk:
        # anything beyond the window scores at most its last float32 score (plus its own error)
        last = vals[:, -1].astype(np.float64)
        beyond = unit * q_norms * float(base_norms.max(initial=0.0))
        span = near & ok[:, -1] & (last >= vals[:, kk - 1] - err[:, kk - 1] - beyond)
    missing = np.iinfo(np.int64).max
    for s in range(0, n, _SETTLE_ROWS):
        rows = slice(s, min(s + _SETTLE_ROWS, n))
        cols, valid = idx[rows], ok[rows]
        gathered = np.asarray(base[np.where(valid, cols, 0).ravel()], dtype=np.float32)
        # float32 rows, float64 products and sums: einsum casts in its own buffers, cheaper
        # than a float64 copy of the gathered rows
        rescored = np.einsum(
            "rwd,rd->rw", gathered.reshape(cols.shape[0], width, -1),
            np.asarray(queries[rows], dtype=np.float32), dtype=np.float64,
        ).astype(np.float32)
        rescored[~valid] = -np.inf
        order = np.lexsort((np.where(valid, cols, missing), -rescored), axis=1)
        idx[rows] = np.take_along_axis(cols, order, axis=1)
        vals[rows] = np.take_along_axis(rescored, order, axis=1)
    redo = np.flatnonzero(span)
    step = max(1, _BLOCK_ELEMENTS // max(base.shape[0], 1))  # rows of scores at a time
    for s in range(0, redo.size, step):
        rows = redo[s : s + step]
        own = start + rows if self_join else None
        idx[rows, :kk], vals[rows, :kk] = _exact_rows(queries[rows], base, own, kk)
    return idx, vals


def _exact(
    base: np.ndarray,
    queries: np.ndarray,
    k: int,
    self_join: bool,
    block_size: int | None,
    show_progress: bool,
) -> tuple[np.ndarray, np.ndarray]:
    nq, nb = queries.shape[0], base.shape[0]
    indices = np.full((nq, k), -1, dtype=np.int64)
    scores = np.full((nq, k), -np.inf, dtype=np.float32)
    kk = min(k, nb - 1 if self_join else nb)
    if kk <= 0 or nq == 0:
        return indices, scores
    base_norms = _norms(base)
    if block_size is None and _faiss_available():
        return _exact_faiss(base, queries, k, kk, self_join, show_progress, base_norms)
    rows = block_size or max(1, min(_MAX_BLOCK_ROWS, _BLOCK_ELEMENTS // max(nb, 1)))
    starts = range(0, nq, rows)
    for start in progress(starts, total=len(starts), description="kNN", enabled=show_progress):
        stop = min(start + rows, nq)
        sims = queries[start:stop] @ base.T
        if self_join:
            # Exclude self by position, not by score: a duplicate row scores the same as self
            # and is exactly the neighbour dedup is looking for.
            local = np.arange(stop - start)
            sims[local, start + local] = -np.inf
        # neighbours beyond the kept ones, so that a near tie at the k-th place is seen
        idx, vals = _topk_block(sims, min(kk + 1 + _TIE_WINDOW, nb - 1 if self_join else nb))
        idx, vals = _settle_ties(queries[start:stop], base, idx, vals, kk, start, self_join,
                                 base_norms)
        indices[start:stop, :kk] = idx[:, :kk]
        scores[start:stop, :kk] = vals[:, :kk]
    return indices, scores


def _exact_faiss(
    base: np.ndarray,
    queries: np.ndarray,
    k: int,
    kk: int,
    self_join: bool,
    show_progress: bool,
    base_norms: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_exact`'s result computed by ``faiss.knn`` (blocked BLAS and a heap per query,
    multi-threaded: ~3x faster than matmul + argpartition on 10,000 rows here).

    ``_TIE_WINDOW`` + 1 neighbours more than needed are fetched (one more for a self-join,
    whose own row is dropped by position), so that :func:`_settle_ties` sees a near tie at the
    k-th place and the smallest tied indices win exactly as in the numpy path, whatever
    faiss's heap kept.
    """
    import faiss

    nq, nb = queries.shape[0], base.shape[0]
    indices = np.full((nq, k), -1, dtype=np.int64)
    scores = np.full((nq, k), -np.inf, dtype=np.float32)
    k_search = min(kk + 1 + _TIE_WINDOW + (1 if self_join else 0), nb)
    missing = np.iinfo(np.int64).max
    starts = range(0, nq, _FAISS_BLOCK_ROWS)
    for start in progress(starts, total=len(starts), description="kNN", enabled=show_progress):
        stop = min(start + _FAISS_BLOCK_ROWS, nq)
        dist, idx = faiss.knn(queries[start:stop], base, k_search,
                              metric=faiss.METRIC_INNER_PRODUCT)
        idx = idx.astype(np.int64, copy=False)
        vals = np.where(idx >= 0, dist, -np.inf).astype(np.float32)
        if self_join:
            own = idx == np.arange(start, stop)[:, None]
            idx[own] = -1
            vals[own] = -np.inf
        rank = np.lexsort((np.where(idx >= 0, idx, missing), -vals), axis=1)
        idx = np.take_along_axis(idx, rank, axis=1)
        vals = np.take_along_axis(vals, rank, axis=1)
        if self_join and k_search < nb:
            # every row keeps the same window: a row whose own index was not fetched has one
            # neighbour more than the others, and the others' last place must not read -1
            idx, vals = idx[:, :-1], vals[:, :-1]
        idx, vals = _settle_ties(queries[start:stop], base, idx, vals, kk, start, self_join,
                                 base_norms)
        indices[start:stop, :kk] = idx[:, :kk]
        scores[start:stop, :kk] = vals[:, :kk]
    return indices, scores


def _content_order(x: np.ndarray) -> np.ndarray:
    """A row order that depends on the vectors' values only, not on their positions.

    Each row's float bits are combined into a 64-bit hash (random odd multipliers per column,
    wrapping sums, then the murmur3 finaliser); sorting by the hash gives a pseudo-random
    order, which HNSW needs for a well-connected graph (sorted insertion degrades it), and the
    same order whatever the input order. Identical vectors tie and keep their relative order,
    which is harmless: they are interchangeable.
    """
    n, d = x.shape
    rng = np.random.default_rng(0x5EED)
    mult = rng.integers(1, 1 << 62, size=d, dtype=np.uint64) | np.uint64(1)
    h = np.empty(n, dtype=np.uint64)
    step = max(1, _BLOCK_ELEMENTS // max(d, 1))
    for s in range(0, n, step):
        bits = _block(x, s, s + step).view(np.uint32)
        h[s : s + step] = (bits.astype(np.uint64) * mult).sum(axis=1, dtype=np.uint64)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    return np.argsort(h, kind="stable")


@contextmanager
def _single_thread(faiss: Any) -> Iterator[None]:
    previous = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(previous)


def default_nlist(n: int) -> int:
    """IVF list count: ~4 sqrt(n), at most n / 39 so every centroid has 39 training points."""
    return max(1, min(int(round(4 * math.sqrt(n))), n // 39))


def default_nprobe(nlist: int) -> int:
    """IVF lists visited per query: :data:`IVF_NPROBE`, at most nlist."""
    return min(nlist, IVF_NPROBE)


def _fits_float16(x: np.ndarray) -> bool:
    """Every component within float16's finite range (read block by block: x may be a
    memmap)."""
    if x.dtype == np.float16:
        return True
    limit = float(np.finfo(np.float16).max)
    return all(
        float(np.abs(_block(x, s, min(s + _FAISS_BLOCK_ROWS, x.shape[0]))).max(initial=0.0))
        <= limit
        for s in range(0, x.shape[0], _FAISS_BLOCK_ROWS)
    )


def _faiss_search(
    base: np.ndarray,
    queries: np.ndarray,
    k: int,
    self_join: bool,
    method: Literal["hnsw", "ivf"],
    *,
    nprobe: int | None,
    ef_search: int | None,
    show_progress: bool,
) -> tuple[np.ndarray, np.ndarray]:
    faiss: Any = require("faiss", "faiss", "kNN candidates")
    nq, nb = queries.shape[0], base.shape[0]
    d = base.shape[1]
    indices = np.full((nq, k), -1, dtype=np.int64)
    scores = np.full((nq, k), -np.inf, dtype=np.float32)
    if nq == 0 or nb == 0:
        return indices, scores
    # One extra neighbour for a self-join: the query itself usually comes back first.
    k_search = min(k + 1 if self_join else k, nb)
    order = _content_order(base)

    def add_in_content_order(index: Any) -> None:
        for s in range(0, nb, _FAISS_BLOCK_ROWS):
            index.add(_gather(base, order[s : s + _FAISS_BLOCK_ROWS]))

    if method == "hnsw":
        index = faiss.IndexHNSWFlat(d, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        with _single_thread(faiss):
            add_in_content_order(index)
        index.hnsw.efSearch = ef_search or max(HNSW_EF_SEARCH_MIN, 2 * k_search)
    else:
        nlist = default_nlist(nb)
        quantizer = faiss.IndexFlatIP(d)
        # Lists hold float16 copies: half the memory and 1.5x faster scans than float32 at the
        # same recall (100,000 projected n-gram vectors: recall@31 0.990 either way). Scores
        # carry float16 rounding (~1e-3); the dedup pipeline rescores every candidate anyway.
        # Vectors beyond float16's range (65504) would be stored as inf: those get float32
        # lists (unit-normalised embeddings never need them; some raw model outputs can).
        if _fits_float16(base):
            index = faiss.IndexIVFScalarQuantizer(
                quantizer, d, nlist, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
            )
        else:
            index = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
        # k-means training and list assignment are deterministic across threads (each thread
        # owns whole centroids / queries), so only the HNSW build above needs one thread.
        # The training sample is every j-th row in content order: order-independent, and
        # faiss then uses all of it (it subsamples only above max_points_per_centroid).
        n_train = min(nb, IVF_TRAIN_POINTS_PER_LIST * nlist)
        picks = order[np.linspace(0, nb - 1, n_train).round().astype(np.int64)]
        index.cp.niter = IVF_TRAIN_ITERATIONS
        index.cp.max_points_per_centroid = IVF_TRAIN_POINTS_PER_LIST
        index.train(_gather(base, picks))
        add_in_content_order(index)
        index.nprobe = min(nlist, nprobe) if nprobe else default_nprobe(nlist)
    starts = range(0, nq, _FAISS_BLOCK_ROWS)
    for start in progress(starts, total=len(starts), description="kNN", enabled=show_progress):
        stop = min(start + _FAISS_BLOCK_ROWS, nq)
        dist, pos = index.search(_block(queries, start, stop), k_search)
        idx = np.where(pos >= 0, order[np.maximum(pos, 0)], -1).astype(np.int64)
        vals = np.where(idx >= 0, dist, -np.inf).astype(np.float32)
        if self_join:
            own = idx == np.arange(start, stop)[:, None]
            idx[own] = -1
            vals[own] = -np.inf
        # Missing entries (-1, -inf) sort last; the rest by score desc, then index asc.
        rank = np.lexsort((np.where(idx >= 0, idx, np.iinfo(np.int64).max), -vals), axis=1)
        idx = np.take_along_axis(idx, rank, axis=1)[:, :k]
        vals = np.take_along_axis(vals, rank, axis=1)[:, :k]
        indices[start:stop, : idx.shape[1]] = idx
        scores[start:stop, : vals.shape[1]] = vals
    return indices, scores


def _faiss_available() -> bool:
    try:
        import faiss  # noqa: F401
    except ImportError:
        return False
    return True


def check_k(k: object) -> None:
    """``k`` (neighbours per query) is a whole number of at least 1, not a bool."""
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
        raise InputError(f"k must be a positive integer, got {k!r}")


def knn_search(
    embeddings: np.ndarray,
    k: int = 20,
    *,
    method: Method = "auto",
    queries: np.ndarray | None = None,
    block_size: int | None = None,
    nprobe: int | None = None,
    ef_search: int | None = None,
    show_progress: bool = False,
) -> Neighbors:
    """The ``k`` highest inner-product rows of ``embeddings`` for each query.

    Args:
        embeddings: ``(n, dim)`` base vectors; L2-normalise them for cosine scores.
        k: neighbours per query. When ``queries`` is None this is a self-join: every row is
            queried and never returned as its own neighbour, so at most ``n - 1`` exist.
        method: ``"auto"``, ``"exact"``, ``"hnsw"`` or ``"ivf"`` (see the module docstring).
        queries: ``(m, dim)`` query vectors searched against ``embeddings`` instead of a
            self-join; the result's indices point into ``embeddings``.
        block_size: query rows per exact-search block; default keeps a block near 2**23 scores.
        nprobe: IVF lists to visit (default :data:`IVF_NPROBE`).
        ef_search: HNSW search breadth (default ``max(64, 2k)``).
        show_progress: draw a progress bar on stderr.
    """
    check_k(k)
    if method not in ("auto", "exact", "hnsw", "ivf"):
        raise InputError(f'method must be "auto", "exact", "hnsw" or "ivf", got {method!r}')
    if block_size is not None and block_size < 1:
        raise InputError(f"block_size must be positive, got {block_size!r}")
    self_join = queries is None
    n_base = int(np.shape(embeddings)[0]) if np.ndim(embeddings) == 2 else 0
    n_queries = n_base if queries is None else (
        int(np.shape(queries)[0]) if np.ndim(queries) == 2 else 0)
    chosen: str = method
    if method == "auto":
        chosen = "exact"
        if n_queries * n_base >= AUTO_EXACT_MAX_ROWS**2:
            if _faiss_available():
                chosen = "ivf"
            else:
                warnings.warn(
                    f"faiss is not installed, so kNN over {n_base} rows runs exact "
                    "search, which is slow at this size; install it with: "
                    'pip install "neardup[faiss]"',
                    stacklevel=2,
                )
    # approximate search reads the vectors block by block (a float16 memmap stays on disk);
    # exact search multiplies whole blocks against the base, so it wants one float32 matrix
    convert = _as_matrix if chosen == "exact" else _as_blocks
    base = convert(embeddings, "embeddings")
    q = base if queries is None else convert(queries, "queries")
    if q.shape[1] != base.shape[1]:
        raise InputError(
            f"queries have dimension {q.shape[1]} but embeddings have {base.shape[1]}; "
            "encode both with the same model"
        )
    if base.shape[1] == 0:
        raise InputError("embeddings have dimension 0: there is nothing to compare; check "
                         "the encoder's output")
    # no more columns than neighbours can exist: k=10**6 on 30 rows asks for "all of them",
    # not a (30, 10**6) array
    k = min(int(k), max(n_base - 1 if self_join else n_base, 1))
    if chosen == "exact":
        indices, scores = _exact(base, q, k, self_join, block_size, show_progress)
    else:
        indices, scores = _faiss_search(
            base,
            q,
            k,
            self_join,
            "hnsw" if chosen == "hnsw" else "ivf",
            nprobe=nprobe,
            ef_search=ef_search,
            show_progress=show_progress,
        )
    return Neighbors(indices=indices, scores=scores, cross=not self_join)


def cross_knn(
    query_emb: np.ndarray,
    base_emb: np.ndarray,
    k: int = 20,
    *,
    method: Method = "auto",
    block_size: int | None = None,
    nprobe: int | None = None,
    ef_search: int | None = None,
    show_progress: bool = False,
) -> Neighbors:
    """Nearest ``base_emb`` rows for each ``query_emb`` row (e.g. test rows against train rows
    to find leakage). Indices point into ``base_emb``; nothing is excluded as "self"."""
    return knn_search(
        base_emb,
        k,
        method=method,
        queries=query_emb,
        block_size=block_size,
        nprobe=nprobe,
        ef_search=ef_search,
        show_progress=show_progress,
    )
