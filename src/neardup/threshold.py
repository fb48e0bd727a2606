"""Choosing the link threshold: automatic (from the collection's own scores) or per-model constant.

Dedup links two rows when their pair score reaches a threshold. A constant chosen on one data
set is a guess on another (score scales differ per model and per domain, and chaining makes
the best constant depend on collection size), so :func:`auto_threshold` reads the threshold
off the distribution of candidate-pair scores of the collection being deduplicated: candidate
pairs are a mixture of a large "unrelated neighbour" population and a smaller "duplicate"
population, and the threshold is placed where the two meet.

No labels are read at run time. Constants below say which data set they were chosen on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

__all__ = [
    "ThresholdChoice",
    "auto_threshold",
    "otsu_threshold",
    "mixture_threshold",
    "valley_threshold",
    "MODEL_THRESHOLDS",
    "constant_threshold",
]

Method = Literal["mixture", "otsu", "valley", "constant"]


@dataclass(frozen=True)
class ThresholdChoice:
    """A threshold and how it was obtained.

    ``value``: link pairs with score >= value. ``method``: the rule used. ``details``: what the
    rule saw (component means/weights, number of scores, fallbacks taken), for logs/reports.
    """

    value: float
    method: str
    details: dict[str, Any] = field(default_factory=dict)


#: Fixed thresholds per scorer name, for ``method="constant"``; placeholder, filled by research.
MODEL_THRESHOLDS: dict[str, float] = {}


def _clean(scores: np.ndarray) -> np.ndarray:
    s = np.asarray(scores, dtype=np.float64).ravel()
    return s[np.isfinite(s)]


def otsu_threshold(scores: np.ndarray, *, bins: int = 256) -> float:
    """Otsu's threshold: the cut maximising between-class variance of the score histogram."""
    s = _clean(scores)
    if s.size == 0:
        raise ValueError("otsu_threshold needs at least one finite score")
    lo, hi = float(s.min()), float(s.max())
    if hi <= lo:
        return lo
    hist, edges = np.histogram(s, bins=bins, range=(lo, hi))
    centers = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(hist).astype(np.float64)
    w1 = w0[-1] - w0
    m = np.cumsum(hist * centers)
    mu0 = np.divide(m, w0, out=np.zeros_like(m), where=w0 > 0)
    mu1 = np.divide(m[-1] - m, w1, out=np.zeros_like(m), where=w1 > 0)
    between = w0 * w1 * (mu0 - mu1) ** 2
    k = int(np.argmax(between[:-1]))
    return float(edges[k + 1])


def mixture_threshold(
    scores: np.ndarray, *, seed: int = 0, max_iter: int = 200
) -> tuple[float, dict[str, Any]]:
    """Two-component 1-d Gaussian mixture (EM); threshold where the posteriors are equal.

    Returns the threshold and the fitted components. The crossing is searched between the two
    means; when none exists (degenerate fit) the midpoint of the means is returned.
    """
    s = _clean(scores)
    if s.size < 4:
        raise ValueError(f"mixture_threshold needs at least 4 scores, got {s.size}")
    # init from quartiles (deterministic; ``seed`` kept for API stability)
    mu = np.array([np.quantile(s, 0.25), np.quantile(s, 0.95)], dtype=np.float64)
    sd = np.array([s.std() / 2 + 1e-6] * 2)
    pi = np.array([0.8, 0.2])
    prev = -np.inf
    for _ in range(max_iter):
        logp = (
            -0.5 * ((s[:, None] - mu) / sd) ** 2 - np.log(sd) + np.log(pi)
        )  # (n, 2) up to a constant
        mx = logp.max(axis=1, keepdims=True)
        p = np.exp(logp - mx)
        tot = p.sum(axis=1, keepdims=True)
        r = p / tot
        ll = float((np.log(tot) + mx).sum())
        nk = r.sum(axis=0) + 1e-12
        pi = nk / nk.sum()
        mu = (r * s[:, None]).sum(axis=0) / nk
        sd = np.sqrt((r * (s[:, None] - mu) ** 2).sum(axis=0) / nk) + 1e-4
        if ll - prev < 1e-8 * abs(ll):
            break
        prev = ll
    order = np.argsort(mu)
    mu, sd, pi = mu[order], sd[order], pi[order]
    grid = np.linspace(mu[0], mu[1], 2001)
    lp = -0.5 * ((grid[:, None] - mu) / sd) ** 2 - np.log(sd) + np.log(pi)
    diff = lp[:, 1] - lp[:, 0]
    cross = np.nonzero(diff >= 0)[0]
    t = float(grid[cross[0]]) if cross.size else float(mu.mean())
    return t, {"means": mu.tolist(), "stds": sd.tolist(), "weights": pi.tolist()}


def valley_threshold(scores: np.ndarray, *, bins: int = 50, lo: float | None = None) -> float:
    """Lowest point of the smoothed histogram between its two largest modes."""
    s = _clean(scores)
    if lo is not None:
        s = s[s >= lo]
    if s.size == 0:
        raise ValueError("valley_threshold needs at least one finite score")
    hist, edges = np.histogram(s, bins=bins)
    h = np.convolve(hist.astype(np.float64), np.ones(5) / 5, mode="same")
    peaks = [i for i in range(1, len(h) - 1) if h[i] >= h[i - 1] and h[i] >= h[i + 1]]
    if len(peaks) < 2:
        return otsu_threshold(s)
    a, b = sorted(sorted(peaks, key=lambda i: -h[i])[:2])
    k = a + int(np.argmin(h[a : b + 1]))
    return float((edges[k] + edges[k + 1]) / 2)


def constant_threshold(scorer_name: str) -> float:
    """The fixed threshold recorded for a scorer in :data:`MODEL_THRESHOLDS`."""
    try:
        return MODEL_THRESHOLDS[scorer_name]
    except KeyError:
        known = ", ".join(sorted(MODEL_THRESHOLDS)) or "none"
        raise ValueError(
            f"no constant threshold recorded for scorer {scorer_name!r} (known: {known}); "
            "pass a threshold or use method='mixture'"
        ) from None


def auto_threshold(
    scores: np.ndarray,
    *,
    method: Method = "mixture",
    scorer_name: str | None = None,
    bounds: tuple[float, float] = (0.0, 1.0),
) -> ThresholdChoice:
    """Pick a link threshold from candidate-pair ``scores`` of the collection itself.

    ``method``: "mixture" (two-Gaussian EM, posterior crossing), "otsu", "valley", or
    "constant" (look up ``scorer_name`` in :data:`MODEL_THRESHOLDS`). The result is clipped to
    ``bounds``.
    """
    if method == "constant":
        if scorer_name is None:
            raise ValueError("method='constant' needs scorer_name")
        return ThresholdChoice(constant_threshold(scorer_name), "constant", {"scorer": scorer_name})
    s = _clean(scores)
    details: dict[str, Any] = {"n_scores": int(s.size)}
    if method == "mixture":
        t, d = mixture_threshold(s)
        details.update(d)
    elif method == "otsu":
        t = otsu_threshold(s)
    elif method == "valley":
        t = valley_threshold(s)
    else:
        raise ValueError(f"unknown threshold method {method!r}; use mixture, otsu, valley, constant")
    t = float(min(max(t, bounds[0]), bounds[1]))
    return ThresholdChoice(t, method, details)
