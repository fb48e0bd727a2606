"""Threshold search for clusterings produced by a black-box function.

A dedup pipeline turns a similarity threshold into cluster labels; its quality is not a
function of pair scores alone (transitivity, graph clustering), so the best threshold is
found by running the pipeline at each candidate and scoring the clusters. For plain scored
pairs the exact search in :func:`neardup.evaluate.metrics.best_f1_threshold` is better.
"""

from __future__ import annotations

from typing import Callable, Iterable, NamedTuple, Sequence

import numpy as np
from numpy.typing import ArrayLike

from neardup.errors import InputError
from neardup.evaluate.metrics import CLUSTER_SCORE_NAMES, ClusterMetrics, cluster_metrics

__all__ = ["SweepPoint", "sweep_cluster_threshold", "best_threshold", "threshold_grid"]


class SweepPoint(NamedTuple):
    """One point of a sweep; unpacks as ``(threshold, metrics)``."""

    threshold: float
    metrics: ClusterMetrics


def sweep_cluster_threshold(
    true_labels: ArrayLike,
    cluster_fn: Callable[[float], ArrayLike],
    thresholds: Iterable[float],
) -> list[SweepPoint]:
    """Run ``cluster_fn(threshold) -> labels`` at each threshold and score it.

    ``cluster_fn`` should reuse whatever does not depend on the threshold (embeddings,
    candidate pairs): it is called once per threshold, in the order given.
    """
    truth = np.asarray(true_labels)
    points: list[SweepPoint] = []
    for t in thresholds:
        pred = np.asarray(cluster_fn(float(t)))
        if pred.shape != truth.shape:
            raise ValueError(
                f"cluster_fn({float(t)!r}) returned {pred.shape[0] if pred.ndim else 0} labels "
                f"for {truth.shape[0]} items; it must label every item, in input order"
            )
        points.append(SweepPoint(float(t), cluster_metrics(truth, pred)))
    return points


def best_threshold(sweep: Sequence[SweepPoint], metric: str = "row_f1") -> SweepPoint:
    """The sweep point with the highest ``metric`` (a :class:`ClusterMetrics` score field).

    Ties go to the earliest point in sweep order, so list thresholds from the most
    conservative (fewest merges) to the loosest to prefer conservative settings on ties.
    NaN scores never win.
    """
    if metric not in CLUSTER_SCORE_NAMES:
        raise InputError(
            f"unknown metric {metric!r} to pick the threshold by; "
            f"choose one of: {', '.join(CLUSTER_SCORE_NAMES)}"
        )
    if not sweep:
        raise ValueError("best_threshold got an empty sweep; give at least one threshold")
    values = np.array([getattr(p.metrics, metric) for p in sweep], dtype=np.float64)
    if np.isnan(values).all():
        raise ValueError(f"every sweep point has {metric} = NaN")
    return sweep[int(np.nanargmax(values))]


def threshold_grid(
    scores: ArrayLike, max_candidates: int = 50, *, descending: bool = True
) -> list[float]:
    """Candidate thresholds for a sweep: the distinct scores, thinned to quantiles if many.

    Thresholds between two consecutive distinct scores are equivalent for ``>=`` rules, so
    the distinct values are the only candidates worth trying; when there are more than
    ``max_candidates`` of them, evenly spaced quantiles (which are still score values) are
    used. Sorted highest first by default (conservative first, see :func:`best_threshold`).
    """
    s = np.asarray(scores, dtype=np.float64).ravel()
    s = s[np.isfinite(s)]
    if s.size == 0:
        raise ValueError("threshold_grid needs at least one finite score")
    if max_candidates < 1:
        raise ValueError(f"max_candidates must be >= 1, got {max_candidates}")
    values = np.unique(s)
    if values.size > max_candidates:
        values = np.unique(np.quantile(s, np.linspace(0, 1, max_candidates), method="lower"))
    out = values[::-1] if descending else values
    return [float(v) for v in out]
