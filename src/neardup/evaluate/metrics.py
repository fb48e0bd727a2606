"""Evaluation metrics in pure NumPy.

Five families, each documented with its exact definition so numbers can be compared with
published ones:

* **Scored pairs** (a score and a 0/1 label per pair): :func:`average_precision`,
  :func:`best_f1_threshold`, :func:`best_accuracy_threshold`, :func:`pair_metrics`.
* **Graded similarity** (STS): :func:`spearman`, :func:`pearson`.
* **Clusterings** (two label arrays over the same items): :func:`cluster_pair_counts`,
  :func:`pairwise_cluster_metrics`, :func:`adjusted_rand_index`,
  :func:`normalized_mutual_info`, :func:`row_f1`, :func:`cluster_metrics`; and
  :func:`pair_set_metrics` when the links are explicit pairs rather than clusters.
* **Retrieval** (a ranked list per query and graded qrels): :func:`ndcg_at_k`,
  :func:`recall_at_k`, :func:`mrr_at_k`, :func:`precision_at_1`, :func:`map_at_r`,
  :func:`retrieval_metrics`.
* **Embeddings**: :func:`alignment`, :func:`uniformity` (Wang & Isola, 2020).

No scikit-learn or SciPy here on purpose: the core must stay importable and fast, and owning
the definitions lets us document (and test) tie handling and degenerate cases precisely.
The tests cross-check every metric that has a scikit-learn/SciPy counterpart.

Conventions: a ratio whose denominator is 0 is 0.0 (scikit-learn's ``zero_division=0``)
unless a function documents otherwise; metrics that are undefined for the input (AP with no
positive label, a correlation of a constant) return NaN with a ``RuntimeWarning`` rather
than an invented number.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field
from typing import Callable, Hashable, Iterable, Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "ThresholdResult",
    "PairMetrics",
    "ClusterPairCounts",
    "LinkMetrics",
    "ClusterMetrics",
    "RetrievalMetrics",
    "average_precision",
    "best_f1_threshold",
    "best_accuracy_threshold",
    "pair_metrics",
    "spearman",
    "pearson",
    "cluster_pair_counts",
    "pairwise_cluster_metrics",
    "adjusted_rand_index",
    "normalized_mutual_info",
    "row_f1",
    "cluster_metrics",
    "pair_set_metrics",
    "ndcg_at_k",
    "recall_at_k",
    "mrr_at_k",
    "mrr",
    "precision_at_1",
    "map_at_r",
    "retrieval_metrics",
    "alignment",
    "uniformity",
]


def _div(num: float, den: float) -> float:
    """``num / den`` with 0/0 (and x/0) = 0.0, scikit-learn's ``zero_division=0``."""
    return float(num) / float(den) if den else 0.0


# ---------------------------------------------------------------------------------------------
# Scored pairs
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThresholdResult:
    """Metrics of the decision ``score >= threshold`` at a chosen threshold."""

    threshold: float
    f1: float
    precision: float
    recall: float
    accuracy: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class PairMetrics:
    """Classification metrics of scored pairs at one threshold, plus the threshold-free AP.

    ``threshold_source`` says where ``threshold`` came from: ``"given"`` or ``"best_f1"``.
    """

    accuracy: float
    precision: float
    recall: float
    f1: float
    ap: float
    threshold: float
    n_pairs: int
    n_positive: int
    threshold_source: str = "given"

    def as_dict(self) -> dict[str, float]:
        """Numeric fields only (for metric dicts and JSON)."""
        return {
            "accuracy": self.accuracy,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "ap": self.ap,
            "threshold": self.threshold,
            "n_pairs": float(self.n_pairs),
            "n_positive": float(self.n_positive),
        }


def _check_binary(labels: ArrayLike, scores: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Validate 0/1 labels (bools accepted) and finite scores of the same length."""
    y = np.asarray(labels)
    s = np.asarray(scores, dtype=np.float64)
    if y.ndim != 1 or s.ndim != 1:
        raise ValueError(f"labels and scores must be 1-D, got shapes {y.shape} and {s.shape}")
    if y.shape[0] != s.shape[0]:
        raise ValueError(f"{y.shape[0]} labels but {s.shape[0]} scores; give one score per label")
    if y.dtype != bool:
        bad = ~np.isin(y, (0, 1))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"labels must be 0/1 (or bool); label at position {i} is {y[i].item()!r}. "
                "For graded similarity scores use spearman()/pearson()."
            )
    if not np.isfinite(s).all():
        i = int(np.flatnonzero(~np.isfinite(s))[0])
        raise ValueError(f"scores must be finite; score at position {i} is {s[i].item()!r}")
    return y.astype(bool), s


def _cumulative_counts(
    y: np.ndarray, s: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct score values (descending) with the TP/FP counts of ``score >= value``.

    Tied scores form one group: every pair with the same score is predicted the same way, so
    a threshold can only sit *between* distinct values. This is what makes the metrics below
    handle ties the way scikit-learn's ``precision_recall_curve`` does.
    """
    order = np.argsort(-s, kind="mergesort")
    s_sorted, y_sorted = s[order], y[order]
    # last index of each run of equal scores
    last = np.r_[np.flatnonzero(np.diff(s_sorted) != 0), s_sorted.size - 1]
    tps = np.cumsum(y_sorted)[last]
    fps = (last + 1) - tps
    return s_sorted[last], tps.astype(np.int64), fps.astype(np.int64)


def average_precision(labels: ArrayLike, scores: ArrayLike) -> float:
    """Average precision, scikit-learn's definition (no interpolation).

    ``AP = sum_k (R_k - R_{k-1}) * P_k`` over the distinct score values taken as thresholds
    in decreasing order, where ``P_k``/``R_k`` are the precision/recall of ``score >= t_k``
    and ``R_0 = 0``. Tied scores enter together (one step), as in
    ``sklearn.metrics.average_precision_score``.

    Example: labels ``[1, 0, 1, 0]``, scores ``[.9, .8, .7, .1]`` gives
    ``(1 + 2/3) / 2 = 0.8333``.

    Returns NaN (with a ``RuntimeWarning``) when there is no positive label: recall is
    undefined then. scikit-learn returns an arbitrary value in that case.
    """
    y, s = _check_binary(labels, scores)
    n_pos = int(y.sum())
    if n_pos == 0:
        warnings.warn(
            "average_precision: no positive label, AP is undefined (returning NaN)",
            RuntimeWarning,
            stacklevel=2,
        )
        return float("nan")
    _, tps, fps = _cumulative_counts(y, s)
    precision = tps / (tps + fps)
    recall_steps = np.diff(np.r_[0, tps]) / n_pos
    return float(np.sum(recall_steps * precision))


def _prf_acc(tp: int, fp: int, n_pos: int, n: int) -> tuple[float, float, float, float]:
    """Precision, recall, F1 and accuracy from TP/FP counts of one decision rule."""
    fn = n_pos - tp
    tn = (n - n_pos) - fp
    precision = _div(tp, tp + fp)
    recall = _div(tp, n_pos)
    f1 = _div(2 * tp, 2 * tp + fp + fn)
    accuracy = _div(tp + tn, n)
    return precision, recall, f1, accuracy


def _above_max(s: np.ndarray) -> float:
    """Smallest float above every score: ``score >= it`` predicts nothing positive."""
    return float(np.nextafter(s.max(), np.inf)) if s.size else float("inf")


def best_f1_threshold(labels: ArrayLike, scores: ArrayLike) -> ThresholdResult:
    """The threshold whose rule ``score >= threshold`` has the highest F1.

    Every distinct score value is tried (ties enter together, so the reported metrics are
    exactly what ``score >= threshold`` gives on this data). Among equally good thresholds the
    highest one is returned (the most conservative rule). ``F1 = 2TP / (2TP + FP + FN)``.

    When there is no positive label F1 is 0 for every rule; the result is then the rule that
    predicts nothing (threshold just above the highest score, accuracy 1).
    """
    y, s = _check_binary(labels, scores)
    n, n_pos = y.size, int(y.sum())
    if n == 0:
        raise ValueError("best_f1_threshold needs at least one scored pair")
    if n_pos == 0:
        return ThresholdResult(_above_max(s), 0.0, 0.0, 0.0, 1.0)
    values, tps, fps = _cumulative_counts(y, s)
    f1 = 2 * tps / (2 * tps + fps + (n_pos - tps))
    k = int(np.argmax(f1))  # first maximum = highest threshold, values are descending
    p, r, f, a = _prf_acc(int(tps[k]), int(fps[k]), n_pos, n)
    return ThresholdResult(float(values[k]), f, p, r, a)


def best_accuracy_threshold(labels: ArrayLike, scores: ArrayLike) -> ThresholdResult:
    """The threshold whose rule ``score >= threshold`` has the highest accuracy.

    Tries every distinct score value and also the rule that predicts nothing positive
    (reported as the smallest float above the highest score), which wins when positives are
    rare and poorly separated. Ties between thresholds go to the highest one.
    """
    y, s = _check_binary(labels, scores)
    n, n_pos = y.size, int(y.sum())
    if n == 0:
        raise ValueError("best_accuracy_threshold needs at least one scored pair")
    values, tps, fps = _cumulative_counts(y, s)
    # candidate 0 = predict nothing; then each distinct value, highest first
    cand_t = np.r_[_above_max(s), values]
    cand_tp = np.r_[0, tps]
    cand_fp = np.r_[0, fps]
    correct = cand_tp + (n - n_pos - cand_fp)
    k = int(np.argmax(correct))
    p, r, f, a = _prf_acc(int(cand_tp[k]), int(cand_fp[k]), n_pos, n)
    return ThresholdResult(float(cand_t[k]), f, p, r, a)


def pair_metrics(
    labels: ArrayLike, scores: ArrayLike, threshold: float | None = None
) -> PairMetrics:
    """Accuracy, precision, recall, F1 of ``score >= threshold``, plus average precision.

    ``threshold=None`` uses the best-F1 threshold (:func:`best_f1_threshold`) — an optimistic
    number when picked on the evaluation data itself; pass a threshold chosen on separate data
    for an unbiased estimate. ``ap`` is NaN when there is no positive label.
    """
    y, s = _check_binary(labels, scores)
    n, n_pos = y.size, int(y.sum())
    if n == 0:
        raise ValueError("pair_metrics needs at least one scored pair")
    ap = average_precision(y, s)
    if threshold is None:
        best = best_f1_threshold(y, s)
        return PairMetrics(
            best.accuracy, best.precision, best.recall, best.f1, ap, best.threshold,
            n, n_pos, "best_f1",
        )
    pred = s >= threshold
    tp = int(np.sum(pred & y))
    fp = int(np.sum(pred & ~y))
    p, r, f, a = _prf_acc(tp, fp, n_pos, n)
    return PairMetrics(a, p, r, f, ap, float(threshold), n, n_pos, "given")


# ---------------------------------------------------------------------------------------------
# Correlation (graded similarity, STS)
# ---------------------------------------------------------------------------------------------


def _average_ranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks, ties get the mean of the ranks they span (``scipy.stats.rankdata``)."""
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    start = np.r_[True, xs[1:] != xs[:-1]]
    group = np.cumsum(start) - 1
    starts = np.flatnonzero(start)
    ends = np.r_[starts[1:], x.size]  # exclusive
    mean_rank = (starts + ends - 1) / 2.0 + 1.0
    ranks = np.empty(x.size, dtype=np.float64)
    ranks[order] = mean_rank[group]
    return ranks


def _check_xy(x: ArrayLike, y: ArrayLike, name: str) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(x, dtype=np.float64).ravel()
    b = np.asarray(y, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"{name}: inputs differ in length ({a.size} and {b.size})")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError(f"{name}: inputs must be finite (found NaN or inf)")
    return a, b


def _pearson(a: np.ndarray, b: np.ndarray, name: str) -> float:
    if a.size < 2:
        raise ValueError(f"{name} needs at least 2 values, got {a.size}")
    da, db = a - a.mean(), b - b.mean()
    den = math.sqrt(float(da @ da) * float(db @ db))
    if den == 0.0:
        warnings.warn(
            f"{name}: an input is constant, the correlation is undefined (returning NaN)",
            RuntimeWarning,
            stacklevel=3,
        )
        return float("nan")
    # clip: rounding can push |r| a hair above 1
    return float(np.clip(float(da @ db) / den, -1.0, 1.0))


def pearson(x: ArrayLike, y: ArrayLike) -> float:
    """Pearson correlation ``cov(x, y) / (std(x) std(y))``; NaN (with a warning) if constant."""
    a, b = _check_xy(x, y, "pearson")
    return _pearson(a, b, "pearson")


def spearman(x: ArrayLike, y: ArrayLike) -> float:
    """Spearman rank correlation: Pearson of the ranks, ties given their average rank.

    Same as ``scipy.stats.spearmanr(x, y).statistic``; NaN (with a warning) if an input is
    constant.
    """
    a, b = _check_xy(x, y, "spearman")
    return _pearson(_average_ranks(a), _average_ranks(b), "spearman")


# ---------------------------------------------------------------------------------------------
# Clusterings
# ---------------------------------------------------------------------------------------------


def _contingency(
    labels_true: ArrayLike, labels_pred: ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Sparse contingency table of two labelings.

    Returns ``(cell_true, cell_pred, cell_count, true_sizes, pred_sizes, n)``: only the
    non-empty cells, so the cost is O(n log n) even when both clusterings are all singletons
    (a dense table would be n x n).
    """
    t = np.asarray(labels_true)
    p = np.asarray(labels_pred)
    if t.ndim != 1 or p.ndim != 1:
        raise ValueError(f"cluster labels must be 1-D, got shapes {t.shape} and {p.shape}")
    if t.shape[0] != p.shape[0]:
        raise ValueError(
            f"true and predicted labels differ in length ({t.shape[0]} and {p.shape[0]}); "
            "both must label the same items in the same order"
        )
    _, ti = np.unique(t, return_inverse=True)
    _, pi = np.unique(p, return_inverse=True)
    ti, pi = ti.astype(np.int64).ravel(), pi.astype(np.int64).ravel()
    n_pred = int(pi.max()) + 1 if pi.size else 1
    cells, counts = np.unique(ti * n_pred + pi, return_counts=True)
    true_sizes = np.bincount(ti).astype(np.int64)
    pred_sizes = np.bincount(pi).astype(np.int64)
    return cells // n_pred, cells % n_pred, counts.astype(np.int64), true_sizes, pred_sizes, t.size


def _comb2(x: np.ndarray) -> int:
    """``sum C(x, 2)`` as an exact Python int (products of these overflow int64 for big n)."""
    x = x.astype(np.int64)
    return int(np.sum(x * (x - 1) // 2))


@dataclass(frozen=True)
class ClusterPairCounts:
    """Confusion counts over all ``n(n-1)/2`` item pairs: "same cluster" as the prediction.

    ``tp``: same cluster in both; ``fp``: same predicted, different true cluster;
    ``fn``: same true, different predicted cluster; ``tn``: different in both.
    """

    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def n_true_pairs(self) -> int:
        return self.tp + self.fn

    @property
    def n_pred_pairs(self) -> int:
        return self.tp + self.fp


def cluster_pair_counts(labels_true: ArrayLike, labels_pred: ArrayLike) -> ClusterPairCounts:
    """Pair confusion counts from the contingency table (O(n log n), never O(n^2)).

    With ``n_ij`` the contingency cells, ``a_i``/``b_j`` the true/predicted cluster sizes:
    ``tp = sum C(n_ij, 2)``, ``fp = sum C(b_j, 2) - tp``, ``fn = sum C(a_i, 2) - tp``,
    ``tn = C(n, 2) - tp - fp - fn``.
    """
    _, _, cnt, a, b, n = _contingency(labels_true, labels_pred)
    tp = _comb2(cnt)
    pred_pairs, true_pairs = _comb2(b), _comb2(a)
    total = n * (n - 1) // 2
    fp, fn = pred_pairs - tp, true_pairs - tp
    return ClusterPairCounts(tp, fp, fn, total - tp - fp - fn)


@dataclass(frozen=True)
class LinkMetrics:
    """Precision/recall/F1 of predicted links (pairs) against true links."""

    precision: float
    recall: float
    f1: float
    tp: int
    fp: int
    fn: int

    def as_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}


def _link_metrics(tp: int, fp: int, fn: int) -> LinkMetrics:
    if tp + fp + fn == 0:
        # no link predicted and none to find: perfect agreement, not 0/0 = 0
        return LinkMetrics(1.0, 1.0, 1.0, 0, 0, 0)
    return LinkMetrics(
        _div(tp, tp + fp), _div(tp, tp + fn), _div(2 * tp, 2 * tp + fp + fn), tp, fp, fn
    )


def pairwise_cluster_metrics(labels_true: ArrayLike, labels_pred: ArrayLike) -> LinkMetrics:
    """Pair precision, recall and F1 over same-cluster pairs.

    A predicted link is every pair of items in the same predicted cluster; it is correct when
    the two items are also in the same true cluster. ``precision = tp / (tp + fp)``,
    ``recall = tp / (tp + fn)`` with counts from :func:`cluster_pair_counts`. When both
    clusterings are all singletons (no link either way) all three are 1.0; otherwise a 0/0
    ratio is 0.0.
    """
    c = cluster_pair_counts(labels_true, labels_pred)
    return _link_metrics(c.tp, c.fp, c.fn)


def adjusted_rand_index(labels_true: ArrayLike, labels_pred: ArrayLike) -> float:
    """Adjusted Rand index (Hubert & Arabie 1985), as ``sklearn.metrics.adjusted_rand_score``.

    From the pair counts: ``ARI = 2 (tp tn - fn fp) / ((tp + fn)(fn + tn) + (tp + fp)(fp + tn))``;
    1.0 when the clusterings agree on every pair (including the empty and 1-item cases),
    about 0 for random labelings, negative when worse than chance.
    """
    c = cluster_pair_counts(labels_true, labels_pred)
    if c.fn == 0 and c.fp == 0:
        return 1.0
    tp, fp, fn, tn = c.tp, c.fp, c.fn, c.tn  # Python ints: the products exceed int64
    return 2.0 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn))


def _entropy(sizes: np.ndarray, n: int) -> float:
    p = sizes[sizes > 0] / n
    return float(-np.sum(p * np.log(p)))


def normalized_mutual_info(labels_true: ArrayLike, labels_pred: ArrayLike) -> float:
    """Normalised mutual information with arithmetic-mean normalisation.

    ``NMI = MI(T, P) / ((H(T) + H(P)) / 2)`` with natural logs (the base cancels), which is
    scikit-learn's default ``average_method="arithmetic"``. Same special cases as scikit-learn:
    1.0 when both labelings are a single cluster (or empty), 0.0 when MI is 0.
    """
    ct, cp, cnt, a, b, n = _contingency(labels_true, labels_pred)
    if (a.size == b.size == 1) or n == 0:
        return 1.0
    if a.size == 1 or b.size == 1:
        return 0.0
    # MI = sum_ij n_ij/n * log(n * n_ij / (a_i b_j))
    mi = float(np.sum(cnt / n * (np.log(cnt) + math.log(n) - np.log(a[ct] * 1.0 * b[cp]))))
    if mi <= 0.0:  # rounding can give a tiny negative for independent labelings
        return 0.0
    normalizer = (_entropy(a, n) + _entropy(b, n)) / 2.0
    return float(min(mi / normalizer, 1.0))


def row_f1(labels_true: ArrayLike, labels_pred: ArrayLike) -> float:
    """Mean per-item F1 between the item's predicted and true groups (Shopee metric).

    For item ``x`` with true group ``T(x)`` and predicted group ``P(x)`` (both include ``x``):
    ``F1(x) = 2 |T(x) & P(x)| / (|T(x)| + |P(x)|)``; the result is the mean over items.
    ``|T(x) & P(x)|`` is the contingency cell of ``x``, so this is O(n log n).
    """
    ct, cp, cnt, a, b, n = _contingency(labels_true, labels_pred)
    if n == 0:
        raise ValueError("row_f1 needs at least one item")
    # every item in cell (i, j) has the same F1: 2 n_ij / (a_i + b_j)
    per_cell = 2.0 * cnt / (a[ct] + b[cp])
    return float(np.sum(cnt * per_cell) / n)


@dataclass(frozen=True)
class ClusterMetrics:
    """Every clustering metric at once (see the functions of the same names)."""

    row_f1: float
    pair_precision: float
    pair_recall: float
    pair_f1: float
    ari: float
    nmi: float
    n_items: int
    n_true_clusters: int
    n_pred_clusters: int
    pair_counts: ClusterPairCounts = field(repr=False)

    def as_dict(self) -> dict[str, float]:
        """Numeric summary for metric dicts and JSON (pair counts included)."""
        return {
            "row_f1": self.row_f1,
            "pair_precision": self.pair_precision,
            "pair_recall": self.pair_recall,
            "pair_f1": self.pair_f1,
            "ari": self.ari,
            "nmi": self.nmi,
            "n_items": float(self.n_items),
            "n_true_clusters": float(self.n_true_clusters),
            "n_pred_clusters": float(self.n_pred_clusters),
            "pair_tp": float(self.pair_counts.tp),
            "pair_fp": float(self.pair_counts.fp),
            "pair_fn": float(self.pair_counts.fn),
        }


#: ClusterMetrics fields that are scores (higher is better), usable to pick a threshold.
CLUSTER_SCORE_NAMES: tuple[str, ...] = (
    "row_f1", "pair_precision", "pair_recall", "pair_f1", "ari", "nmi",
)


def cluster_metrics(labels_true: ArrayLike, labels_pred: ArrayLike) -> ClusterMetrics:
    """Row-F1, pair precision/recall/F1, ARI and NMI of a predicted clustering."""
    t, p = np.asarray(labels_true), np.asarray(labels_pred)
    counts = cluster_pair_counts(t, p)
    links = _link_metrics(counts.tp, counts.fp, counts.fn)
    return ClusterMetrics(
        row_f1=row_f1(t, p),
        pair_precision=links.precision,
        pair_recall=links.recall,
        pair_f1=links.f1,
        ari=adjusted_rand_index(t, p),
        nmi=normalized_mutual_info(t, p),
        n_items=int(t.shape[0]),
        n_true_clusters=int(np.unique(t).size),
        n_pred_clusters=int(np.unique(p).size),
        pair_counts=counts,
    )


PairLike = tuple[Hashable, Hashable]


def _pair_set(pairs: Iterable[PairLike] | np.ndarray, directed: bool, what: str) -> set:
    # Pairs objects and (k, 2) arrays are the common case; plain iterables of tuples carry
    # arbitrary ids (e.g. Amazon-Google: (amazon_id, google_id)).
    if hasattr(pairs, "left") and hasattr(pairs, "right"):
        rows: Iterable = zip(pairs.left.tolist(), pairs.right.tolist())  # type: ignore[union-attr]
    elif isinstance(pairs, np.ndarray):
        if pairs.ndim != 2 or pairs.shape[1] != 2:
            raise ValueError(f"{what}: expected an array of shape (k, 2), got {pairs.shape}")
        rows = map(tuple, pairs.tolist())
    else:
        rows = pairs
    out: set = set()
    for row in rows:
        a, b = row
        if directed:
            out.add((a, b))
        else:
            if a == b:
                raise ValueError(
                    f"{what}: pair ({a!r}, {b!r}) links an item to itself; undirected pairs "
                    "must join two different items (use directed=True for pairs across two "
                    "tables whose ids may coincide)"
                )
            out.add(frozenset((a, b)))
    return out


def pair_set_metrics(
    true_pairs: Iterable[PairLike] | np.ndarray,
    pred_pairs: Iterable[PairLike] | np.ndarray,
    *,
    directed: bool = False,
) -> LinkMetrics:
    """Precision/recall/F1 of a set of predicted pairs against a set of true pairs.

    Pairs are compared as sets: repeats count once; with ``directed=False`` (default)
    ``(i, j)`` and ``(j, i)`` are the same link. Use ``directed=True`` when the two sides are
    different tables (e.g. an Amazon-Google gold mapping ``(amazon_id, google_id)``).
    Accepts iterables of 2-tuples, ``(k, 2)`` arrays or :class:`neardup.pairs.Pairs`.
    Note this is *not* transitive: a predicted cluster {a, b, c} is only the links given; use
    :func:`pairwise_cluster_metrics` to score clusters.
    """
    t = _pair_set(true_pairs, directed, "true_pairs")
    p = _pair_set(pred_pairs, directed, "pred_pairs")
    tp = len(t & p)
    return _link_metrics(tp, len(p) - tp, len(t) - tp)


# ---------------------------------------------------------------------------------------------
# Retrieval
# ---------------------------------------------------------------------------------------------

Ranked = Mapping[str, Sequence[str]]
Qrels = Mapping[str, Mapping[str, float]]
# (query id, its ranking, its qrels, cutoff k) -> the query's score
_QueryFn = Callable[[str, Sequence[str], Mapping[str, float], "int | None"], float]


def _judged_queries(qrels: Qrels) -> list[str]:
    """Queries with at least one relevant (relevance > 0) document, in qrels order.

    Queries without a relevant document are skipped: every metric here is undefined for them.
    A judged query missing from ``ranked`` counts as an empty ranking (all metrics 0) rather
    than being dropped, which would inflate the mean (pytrec_eval drops it).
    """
    return [q for q, rels in qrels.items() if any(r > 0 for r in rels.values())]


def _gains(query: str, docs: Sequence[str], rels: Mapping[str, float], k: int) -> np.ndarray:
    """Relevance of the top-``k`` documents (0 for unjudged), rejecting repeated ids."""
    top = list(docs[:k])
    if len(set(top)) != len(top):
        seen: set[str] = set()
        dup = ""
        for d in top:
            if d in seen:
                dup = d
                break
            seen.add(d)
        raise ValueError(
            f"ranking for query {query!r} lists document {dup!r} twice; each document may "
            "appear once per query"
        )
    return np.array([max(float(rels.get(d, 0.0)), 0.0) for d in top], dtype=np.float64)


def _per_query(ranked: Ranked, qrels: Qrels, fn: _QueryFn, k: int | None) -> float:
    queries = _judged_queries(qrels)
    if not queries:
        raise ValueError("no query in qrels has a relevant document (relevance > 0)")
    return float(np.mean([fn(q, ranked.get(q, ()), qrels[q], k) for q in queries]))


def _ndcg(q: str, docs: Sequence[str], rels: Mapping[str, float], k: int | None) -> float:
    assert k is not None
    g = _gains(q, docs, rels, k)
    disc = 1.0 / np.log2(np.arange(2, k + 2))
    ideal = np.sort(np.array([max(float(r), 0.0) for r in rels.values()]))[::-1][:k]
    idcg = float(np.sum(ideal * disc[: ideal.size]))
    return float(np.sum(g * disc[: g.size])) / idcg if idcg > 0 else 0.0


def _recall(q: str, docs: Sequence[str], rels: Mapping[str, float], k: int | None) -> float:
    g = _gains(q, docs, rels, k)
    n_rel = sum(1 for r in rels.values() if r > 0)
    return float(np.count_nonzero(g > 0)) / n_rel


def _mrr(q: str, docs: Sequence[str], rels: Mapping[str, float], k: int | None) -> float:
    hits = np.flatnonzero(_gains(q, docs, rels, k) > 0)
    return 1.0 / (hits[0] + 1) if hits.size else 0.0


def _map_r(q: str, docs: Sequence[str], rels: Mapping[str, float], _k: int | None) -> float:
    # the cutoff is R, the query's own number of relevant documents; _k is unused
    r = sum(1 for v in rels.values() if v > 0)
    hit = (_gains(q, docs, rels, r) > 0).astype(np.float64)
    precision_at_i = np.cumsum(hit) / np.arange(1, hit.size + 1)
    return float(np.sum(precision_at_i * hit)) / r


def _check_k(k: int) -> int:
    if int(k) < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    return int(k)


def ndcg_at_k(ranked: Ranked, qrels: Qrels, k: int = 10) -> float:
    """Mean nDCG@k, as BEIR/MTEB report it (pytrec_eval's ``ndcg_cut``).

    ``DCG@k = sum_{i=1..k} rel_i / log2(i + 1)`` with linear gain ``rel_i`` (the graded
    relevance of the document at rank ``i``, 0 if unjudged, negatives clipped to 0);
    ``nDCG@k = DCG@k / IDCG@k`` where IDCG@k is the DCG of the judged documents sorted by
    relevance. Averaged over queries with at least one relevant document.
    """
    return _per_query(ranked, qrels, _ndcg, _check_k(k))


def recall_at_k(ranked: Ranked, qrels: Qrels, k: int = 10) -> float:
    """Mean Recall@k: relevant documents in the top k / all relevant documents of the query.

    The denominator is *all* relevant documents (pytrec_eval/BEIR), not ``min(k, R)``, so
    Recall@1 is below 1 for queries with several relevant documents.
    """
    return _per_query(ranked, qrels, _recall, _check_k(k))


def mrr_at_k(ranked: Ranked, qrels: Qrels, k: int = 10) -> float:
    """Mean reciprocal rank at k: ``1 / rank`` of the first relevant document, 0 if none in
    the top k."""
    return _per_query(ranked, qrels, _mrr, _check_k(k))


mrr = mrr_at_k


def precision_at_1(ranked: Ranked, qrels: Qrels) -> float:
    """Fraction of queries whose top-ranked document is relevant (relevance > 0)."""
    return _per_query(ranked, qrels, _mrr, 1)


def map_at_r(ranked: Ranked, qrels: Qrels) -> float:
    """Mean MAP@R (Musgrave, Belongie & Lim, "A Metric Learning Reality Check", 2020).

    With ``R`` the number of relevant documents of the query and ``rel(i)`` 1 if the document
    at rank ``i`` is relevant: ``MAP@R = (1/R) sum_{i=1..R} P@i * rel(i)``. Unlike MAP it only
    looks at the top R, so a perfect score needs every relevant document ranked first.
    """
    return _per_query(ranked, qrels, _map_r, None)


@dataclass(frozen=True)
class RetrievalMetrics:
    """Mean retrieval metrics over ``n_queries`` judged queries, keyed by cutoff ``k``."""

    ndcg: dict[int, float]
    recall: dict[int, float]
    mrr: dict[int, float]
    precision_at_1: float
    map_at_r: float
    n_queries: int

    def as_dict(self) -> dict[str, float]:
        """Flat names: ``ndcg@10``, ``recall@100``, ``mrr@10``, ``precision@1``, ``map@r``."""
        out: dict[str, float] = {}
        for name, by_k in (("ndcg", self.ndcg), ("recall", self.recall), ("mrr", self.mrr)):
            out.update({f"{name}@{k}": v for k, v in by_k.items()})
        out["precision@1"] = self.precision_at_1
        out["map@r"] = self.map_at_r
        out["n_queries"] = float(self.n_queries)
        return out


def retrieval_metrics(
    ranked: Ranked, qrels: Qrels, ks: Sequence[int] = (1, 5, 10, 100)
) -> RetrievalMetrics:
    """nDCG@k, Recall@k and MRR@k for each ``k``, P@1 and MAP@R; see the single functions."""
    ks = sorted({_check_k(k) for k in ks})
    queries = _judged_queries(qrels)
    if not queries:
        raise ValueError("no query in qrels has a relevant document (relevance > 0)")

    def mean(fn: _QueryFn, k: int | None) -> float:
        return float(np.mean([fn(q, ranked.get(q, ()), qrels[q], k) for q in queries]))

    return RetrievalMetrics(
        ndcg={k: mean(_ndcg, k) for k in ks},
        recall={k: mean(_recall, k) for k in ks},
        mrr={k: mean(_mrr, k) for k in ks},
        precision_at_1=mean(_mrr, 1),
        map_at_r=mean(_map_r, None),
        n_queries=len(queries),
    )


# ---------------------------------------------------------------------------------------------
# Embedding geometry (Wang & Isola 2020)
# ---------------------------------------------------------------------------------------------


def alignment(x: ArrayLike, y: ArrayLike, alpha: float = 2.0) -> float:
    """Alignment of positive pairs: ``mean_i ||x_i - y_i||_2 ^ alpha`` (lower is better).

    Rows ``x_i``, ``y_i`` are the embeddings of the two sides of positive pair ``i`` and are
    expected to be L2-normalised (as every :class:`~neardup.models.base.Encoder` returns).
    ``alpha=2`` is the setting SimCSE reports.
    """
    a = np.asarray(x, dtype=np.float64)
    b = np.asarray(y, dtype=np.float64)
    if a.ndim != 2 or a.shape != b.shape:
        raise ValueError(
            f"alignment needs two (n, d) arrays of equal shape, got {a.shape} and {b.shape}"
        )
    if a.shape[0] == 0:
        raise ValueError("alignment needs at least one pair")
    return float(np.mean(np.linalg.norm(a - b, axis=1) ** alpha))


def uniformity(
    x: ArrayLike,
    t: float = 2.0,
    *,
    max_samples: int | None = 10_000,
    seed: int = 0,
    block_size: int = 256,
) -> float:
    """Uniformity: ``log mean_{i<j} exp(-t ||x_i - x_j||^2)`` over all pairs (lower is better).

    As SimCSE computes it (``torch.pdist(x).pow(2).mul(-t).exp().mean().log()``). The mean
    runs over ``n(n-1)/2`` pairs, computed in row blocks with a running log-sum-exp, so memory
    is ``O(block_size * n)``. When ``n > max_samples`` a uniform random subset of
    ``max_samples`` rows (``seed``) is used and a ``UserWarning`` says so; pass
    ``max_samples=None`` to use every row.
    """
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"uniformity needs an (n, d) array, got shape {a.shape}")
    if a.shape[0] < 2:
        raise ValueError(f"uniformity needs at least 2 vectors, got {a.shape[0]}")
    if max_samples is not None and a.shape[0] > max_samples:
        warnings.warn(
            f"uniformity: using a random sample of {max_samples} of {a.shape[0]} vectors "
            f"(seed={seed}); pass max_samples=None to use all of them",
            UserWarning,
            stacklevel=2,
        )
        idx = np.random.default_rng(seed).choice(a.shape[0], size=max_samples, replace=False)
        a = a[np.sort(idx)]
    n = a.shape[0]
    sq = np.einsum("ij,ij->i", a, a)
    run_max, run_sum = -np.inf, 0.0
    for start in range(0, n - 1, block_size):
        stop = min(start + block_size, n - 1)
        rows = a[start:stop]
        # squared distances of rows [start, stop) to every later row (j > i only)
        d2 = sq[start:stop, None] + sq[None, start + 1 :] - 2.0 * rows @ a[start + 1 :].T
        np.maximum(d2, 0.0, out=d2)
        i = np.arange(start, stop)[:, None]
        j = np.arange(start + 1, n)[None, :]
        v = (-t * d2)[j > i]
        m = float(v.max())
        if m > run_max:
            run_sum = run_sum * math.exp(run_max - m) + float(np.exp(v - m).sum())
            run_max = m
        else:
            run_sum += float(np.exp(v - run_max).sum())
    n_pairs = n * (n - 1) / 2.0
    return run_max + math.log(run_sum) - math.log(n_pairs)
