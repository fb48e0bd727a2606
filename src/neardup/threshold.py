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
    "COMPONENTS_THRESHOLDS",
    "GUARD_BAND",
    "GUARD_MIN_DENSITY",
    "UPPER_FRACTION",
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


#: Fixed link thresholds per scorer name for AVERAGE-LINKAGE clustering on the candidate graph
#: (e5 kNN ∪ char-TF-IDF kNN, k=30), for ``method="constant"``. Each value was tuned for pair F1
#: on Shopee dev half A (250 label groups, class-disjoint split, numpy seed 0, 756 titles) with
#: multilingual-e5-small embeddings computed with the ``query:`` prompt. Checked on Shopee half B
#: / full dev: "default" 0.34 gives pair F1 0.848 / 0.845, row-F1 0.895 / 0.874. These do NOT
#: transfer to Amazon-Google (its best plain threshold is 0.68); prefer ``method="mixture"``.
#: Below this many candidate scores the automatic rules fall back to the recorded constant.
MIN_SCORES = 20
#: Candidate-graph density (candidate pairs over all pairs of distinct texts) from which the
#: guard band applies. Chosen with `benchmarks/guard_band.py` on the project's sample (77
#: texts, density 0.62-0.66, where the band is needed: e5 pair F1 0.883 with it, 0.707 without)
#: and on 35-group (109-title) and 70-group subsets of Shopee half A (densities 0.31-0.57, where
#: it is not: the static tier 0.620 / 0.735 with it, 0.902 / 0.888 without; e5 0.913 / 0.918
#: with, 0.907 / 0.918 without). With k=30 neighbours that is collections under ~100 texts.
GUARD_MIN_DENSITY = 0.6
#: What an automatic threshold of 0 or less becomes (within ``bounds``): average linkage and
#: Leiden need one above 0 (a missing pair counts 0), and a rule fitted to scores that are all 0
#: or less would otherwise return 0. Positive thresholds, however small, are kept.
MIN_THRESHOLD = 1e-3
#: Threshold for a scorer with no recorded constant and too few scores (a probability scale).
FALLBACK_THRESHOLD = 0.5
#: Most scores the mixture is fitted to. EM costs ~20 passes over the scores per iteration for
#: up to 200 iterations: minutes for the millions of candidate pairs of a 100k-text collection.
#: Above this many, the fit uses this many evenly spaced order statistics of the scores (the
#: same distribution to within 1/20,000 of a quantile, and independent of the scores' order).
#: On the 126,734 upper-half scores of a 10k-text synthetic collection, 20,000 order statistics
#: moved the threshold by 6e-5 against 100,000 of them and took 1.0 s instead of 3.9 s.
MIXTURE_MAX_SCORES = 20_000

MODEL_THRESHOLDS: dict[str, float] = {
    "default": 0.34,  # DefaultPairScorer with embeddings
    "default-lexical-only": 0.30,  # DefaultPairScorer with embeddings=None
    "char-tfidf": 0.32,  # LexicalScorer
    "embedding-cosine": 0.88,  # EmbeddingScorer, raw e5 cosine (query: prompt)
}

#: The same, for plain connected components (single linkage) — which chains: the best value
#: rises with collection size (default: 0.47 best on 756 titles, 0.52 on 1,499).
COMPONENTS_THRESHOLDS: dict[str, float] = {
    "default": 0.47,
    "default-lexical-only": 0.45,
    "char-tfidf": 0.45,
    "embedding-cosine": 0.91,
}


#: Share of the candidate scores (the highest) the mixture is fitted to. With k neighbours per
#: text and most texts having few duplicates, the scores are mostly unrelated neighbours; the
#: half above the median (the first rule) still held so many near misses that the "duplicate"
#: component settled among them wherever duplicates are sparse. Chosen on Shopee dev half A
#: (e5, average linkage: pair F1 0.883 / 0.890 / 0.890 / 0.864 at 0.5 / 0.3 / 0.25 / 0.2) and
#: neardup.synth 10k seed 1 (0.468 / 0.633 / 0.697 / 0.725); checked on Shopee half B (0.864
#: at 0.5, 0.867 at 0.25), Amazon-Google (0.140, 0.164) and synth seed 0 (0.437, 0.703).
#: The full Shopee dev, which holds half A, loses 0.010 (0.829 to 0.819). BENCHMARKS.md has
#: the other scorers and clusterings.
UPPER_FRACTION = 0.25

#: How far below / above a scorer's recorded constant an automatic threshold may go (see
#: :func:`auto_threshold`). Asymmetric because the failure seen (tiny collections) is a
#: threshold far too low, while collections with near-identical non-duplicates (Amazon-Google)
#: need one much higher (best 0.68 against the constant 0.34).
GUARD_BAND: tuple[float, float] = (0.1, 0.35)


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
        # log densities of the two components up to a constant, one 1-d array each (the same
        # arithmetic as an (n, 2) array, without its broadcasting and axis reductions)
        l0 = -0.5 * ((s - mu[0]) / sd[0]) ** 2 - np.log(sd[0]) + np.log(pi[0])
        l1 = -0.5 * ((s - mu[1]) / sd[1]) ** 2 - np.log(sd[1]) + np.log(pi[1])
        mx = np.maximum(l0, l1)
        p0, p1 = np.exp(l0 - mx), np.exp(l1 - mx)
        tot = p0 + p1
        r0, r1 = p0 / tot, p1 / tot
        ll = float((np.log(tot) + mx).sum())
        nk = np.array([r0.sum(), r1.sum()]) + 1e-12
        pi = nk / nk.sum()
        mu = np.array([(r0 * s).sum(), (r1 * s).sum()]) / nk
        sd = np.sqrt(np.array([(r0 * (s - mu[0]) ** 2).sum(),
                               (r1 * (s - mu[1]) ** 2).sum()]) / nk) + 1e-4
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
    """Lowest point of the smoothed histogram between its highest mode and the mode that the
    deepest valley separates from it (Otsu's threshold when there is no second mode)."""
    s = _clean(scores)
    if lo is not None:
        s = s[s >= lo]
    if s.size == 0:
        raise ValueError("valley_threshold needs at least one finite score")
    from scipy.signal import find_peaks

    hist, edges = np.histogram(s, bins=bins)
    h = np.convolve(hist.astype(np.float64), np.ones(5) / 5, mode="same")
    # The highest mode, and the mode separated from it by the deepest valley: a flat top or a
    # wiggle on one mode's flank is a local maximum too, and taking the two highest maxima put
    # the "valley" inside the larger mode. find_peaks reports a flat top once; zero padding
    # lets a mode in the first or last bin count.
    peaks = find_peaks(np.r_[0.0, h, 0.0])[0] - 1
    if peaks.size < 2:
        return otsu_threshold(s)
    first = int(peaks[np.argmax(h[peaks])])
    depth = [
        min(h[p], h[first]) - h[min(p, first) : max(p, first) + 1].min() for p in peaks.tolist()
    ]
    second = int(peaks[int(np.argmax(depth))])
    if depth[int(np.argmax(depth))] <= 0:
        return otsu_threshold(s)
    a, b = min(first, second), max(first, second)
    k = a + int(np.argmin(h[a : b + 1]))
    return float((edges[k] + edges[k + 1]) / 2)


def constant_threshold(scorer_name: str, *, linkage: str = "average") -> float:
    """The fixed threshold recorded for a scorer (``linkage``: "average" or "components")."""
    table = COMPONENTS_THRESHOLDS if linkage == "components" else MODEL_THRESHOLDS
    try:
        return table[scorer_name]
    except KeyError:
        known = ", ".join(sorted(table)) or "none"
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
    upper_fraction: float = UPPER_FRACTION,
    linkage: str = "average",
    scorer: str | None = None,
    guard: tuple[float, float] | None = GUARD_BAND,
    density: float | None = None,
) -> ThresholdChoice:
    """Pick a link threshold from candidate-pair ``scores`` of the collection itself.

    ``method``:

    - "mixture" (default): two-Gaussian EM fitted to the top ``upper_fraction`` of the scores
      (default :data:`UPPER_FRACTION`, the highest quarter), threshold where the two posteriors
      are equal. With k nearest neighbours per row, most candidate pairs are far-apart
      neighbours whose skewed mass distorts a two-Gaussian fit; keeping only the top leaves
      "near miss vs duplicate". On Shopee dev (DefaultPairScorer, average linkage) it gives
      0.341 / 0.336 / 0.369 on half A / half B / full (tuned: 0.34 / 0.37 / 0.34).
      ``upper_fraction=1`` fits all scores (the classic rule; worse on e5 cosine).
      For ``linkage="components"`` the value is moved by the difference of the scorer's two
      recorded constants (:data:`COMPONENTS_THRESHOLDS` minus :data:`MODEL_THRESHOLDS`): single
      linkage chains, so the boundary between duplicates and near misses is not where it
      should cut (Shopee half A, e5: the plain crossing 0.34 gives pair F1 0.13; moved to 0.47,
      0.81).
    - "otsu", "valley": histogram rules (less reliable here: Otsu gives 0.22 on Shopee).
    - "constant": :data:`MODEL_THRESHOLDS` (or :data:`COMPONENTS_THRESHOLDS` when
      ``linkage="components"``) for ``scorer_name``.

    ``scorer`` is an alias of ``scorer_name``. When the scorer has a recorded constant ``c``
    (:data:`MODEL_THRESHOLDS`, or :data:`COMPONENTS_THRESHOLDS` for ``linkage="components"``), an
    automatic value is kept inside ``[c - guard[0], c + guard[1]]`` (default ``[c - 0.1,
    c + 0.35]``; ``guard=None`` disables it). This guards against degenerate fits: on a tiny
    collection where almost every pair is a candidate (77 rows, 1,936 candidate pairs), the
    unrelated pairs form a very narrow peak near 0 and the posterior crossing lands just above it
    (0.09, row-F1 0.79; 0.25 gives 0.93). ``density`` (candidate pairs over all pairs of
    distinct texts; the pipeline passes it) limits the guard to such graphs, those at least
    :data:`GUARD_MIN_DENSITY` dense: on sparser ones the band only pulled the collection's own
    fit away (the static tier on Shopee: 0.24, the band's floor, against a fitted 0.12-0.14,
    pair F1 0.72-0.80 against 0.79-0.85; lexical-only on synthetic sets: the band's top, 0.67,
    against 0.75, 0.45 against 0.55). ``density=None`` keeps the guard on (leak detection,
    test against train, passes none: the rule was measured on collections deduplicated within
    themselves). The result is clipped to ``bounds``. What no rule fixes: on a collection whose non-duplicate
    neighbours are near-identical (Amazon-Google software titles) the best plain threshold is far
    higher (0.68) than any of these rules say (0.34–0.36).
    """
    if scorer_name is None:
        scorer_name = scorer
    # checked before any fallback, so a misspelt method fails on small collections too
    if method not in ("mixture", "otsu", "valley", "constant"):
        raise ValueError(
            f"unknown threshold method {method!r}; use mixture, otsu, valley or constant"
        )
    if not 0 < upper_fraction <= 1:
        raise ValueError(f"upper_fraction must be in (0, 1], got {upper_fraction}")
    if method == "constant":
        if scorer_name is None:
            raise ValueError("method='constant' needs scorer_name")
        return ThresholdChoice(
            constant_threshold(scorer_name, linkage=linkage),
            "constant",
            {"scorer": scorer_name, "linkage": linkage},
        )
    s = _clean(scores)
    details: dict[str, Any] = {"n_scores": int(s.size)}
    if scorer_name is not None:
        details["scorer"] = scorer_name
    if method != "constant" and s.size < MIN_SCORES:
        # a distribution of a handful of scores says nothing: fall back to the recorded constant
        table = COMPONENTS_THRESHOLDS if linkage == "components" else MODEL_THRESHOLDS
        value = table.get(scorer_name or "", FALLBACK_THRESHOLD)
        details["fallback"] = f"fewer than {MIN_SCORES} candidate scores"
        return ThresholdChoice(float(value), "constant", details)
    if method == "mixture":
        fit = s
        if upper_fraction < 1 and s.size:
            cut = float(np.quantile(s, 1 - upper_fraction))
            upper = s[s > cut]
            fit = upper if upper.size >= 4 else s
            details["fit_above"] = cut
        if fit.size > MIXTURE_MAX_SCORES:
            details["fit_subsampled_from"] = int(fit.size)
            ranks = np.linspace(0, fit.size - 1, MIXTURE_MAX_SCORES).round().astype(np.int64)
            fit = np.sort(fit)[ranks]
        t, d = mixture_threshold(fit)
        details.update(d)
        if linkage == "components" and scorer_name in COMPONENTS_THRESHOLDS \
                and scorer_name in MODEL_THRESHOLDS:
            shift = COMPONENTS_THRESHOLDS[scorer_name] - MODEL_THRESHOLDS[scorer_name]
            details["components_shift"] = shift
            t += shift
    elif method == "otsu":
        t = otsu_threshold(s)
    else:
        t = valley_threshold(s)
    if density is not None:
        details["density"] = float(density)
    dense = density is None or density >= GUARD_MIN_DENSITY
    if guard is not None and scorer_name is not None and dense:
        table = COMPONENTS_THRESHOLDS if linkage == "components" else MODEL_THRESHOLDS
        if scorer_name in table:
            c = table[scorer_name]
            # rounded: 0.34 - 0.1 is 0.24000000000000002, which the summary would print
            lo, hi = round(c - guard[0], 12), round(c + guard[1], 12)
            details["guard"] = (lo, hi)
            if not lo <= t <= hi:
                details["unguarded"] = t
                t = min(max(t, lo), hi)
    t = float(min(max(t, bounds[0]), bounds[1]))
    if t <= 0 < bounds[1]:
        # scores all at or below 0 (no recorded constant to guard them): the clusterings need
        # a threshold above 0, and one just above it links no pair scored 0 or less
        details["unfloored"] = t
        t = min(MIN_THRESHOLD, float(bounds[1]))
    return ThresholdChoice(t, method, details)
