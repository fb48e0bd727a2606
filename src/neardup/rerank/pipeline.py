"""Re-ranking candidate pairs inside the dedup pipeline.

The first-stage score (lexical + embedding) is cheap and computed for every candidate pair; a
cross-encoder is ~100x slower per pair, so it only sees the candidates that could plausibly be
duplicates: those whose first-stage score reaches a loose floor, plus each text's ``top_k``
best-scoring candidates (so a paraphrase the first stage under-rates still gets a second look).
An optional cap bounds the work; pairs cut by it are counted and warned about, never dropped
silently. Pairs that are not re-ranked are not linked (they leave the candidate graph, which
average linkage reads as similarity 0).
"""

from __future__ import annotations

import numbers
import time
import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from neardup.errors import InputError, ResultWarning
from neardup.pairs import Pairs
from neardup.rerank.base import Reranker

__all__ = ["RerankStats", "select_for_rerank", "rerank_pairs", "DEFAULT_FLOOR", "DEFAULT_TOP_K"]

#: First-stage score from which every candidate is re-ranked. The default scorer's and the
#: char-TF-IDF scorer's link thresholds sit around 0.3 (see ``neardup.threshold``), so 0.2 keeps
#: everything near or above them; raise it for raw embedding cosine (e5 cosines are all > 0.7).
DEFAULT_FLOOR = 0.2
#: Each text's best-scoring candidates re-ranked regardless of the floor.
DEFAULT_TOP_K = 5


@dataclass(frozen=True)
class RerankStats:
    """What the re-ranking stage did.

    ``n_candidates`` pairs came from the first stage; ``n_scored`` of them were re-ranked;
    ``n_below_floor`` were neither above ``floor`` nor among a text's ``top_k`` and
    ``n_over_limit`` were cut by ``max_pairs`` (both not linked).
    """

    model: str
    n_candidates: int
    n_scored: int
    n_below_floor: int
    n_over_limit: int
    floor: float
    top_k: int
    max_pairs: int | None
    symmetric: bool | None
    seconds: float

    def as_dict(self) -> dict[str, object]:
        return {
            "model": self.model,
            "candidate_pairs": self.n_candidates,
            "pairs_scored": self.n_scored,
            "pairs_below_floor": self.n_below_floor,
            "pairs_over_limit": self.n_over_limit,
            "floor": self.floor,
            "top_k": self.top_k,
            "max_pairs": self.max_pairs,
            "symmetric": self.symmetric,
            "seconds": self.seconds,
        }


def check_rerank_options(floor: float, top_k: int, max_pairs: int | None) -> None:
    """Raise an InputError naming the bad pre-filter option."""
    if not np.isfinite(floor):
        raise InputError(f"rerank_floor (--rerank-floor) must be a finite number, got {floor!r}")
    if top_k < 0:
        raise InputError(f"rerank_top_k (--rerank-top-k) must be 0 or more, got {top_k}")
    if max_pairs is not None and (isinstance(max_pairs, bool)
                                  or not isinstance(max_pairs, numbers.Integral)):
        raise InputError(f"rerank_max_pairs (--rerank-max-pairs) must be a whole number (or "
                         f"None), got {max_pairs!r}")
    if max_pairs is not None and max_pairs < 1:
        raise InputError(f"rerank_max_pairs (--rerank-max-pairs) must be at least 1 (or None "
                         f"for no cap), got {max_pairs}")


def select_for_rerank(
    pairs: Pairs, *, floor: float, top_k: int, max_pairs: int | None
) -> tuple[np.ndarray, int, int]:
    """Which pairs to re-rank: ``(mask, n_below_floor, n_over_limit)``.

    A pair is kept when its score is ``>= floor`` or it is among the ``top_k`` highest-scoring
    pairs of either of its texts (ties broken by pair order, so the choice is deterministic).
    With ``max_pairs``, only the highest-scoring kept pairs up to that many remain.
    """
    check_rerank_options(floor, top_k, max_pairs)
    n = len(pairs)
    keep = pairs.score >= floor
    if top_k > 0 and n:
        idx = np.arange(n, dtype=np.int64)
        node = np.concatenate([pairs.left, pairs.right])
        score = np.concatenate([pairs.score, pairs.score]).astype(np.float64)
        pid = np.concatenate([idx, idx])
        order = np.lexsort((pid, -score, node))
        node_sorted = node[order]
        starts = np.r_[0, np.flatnonzero(np.diff(node_sorted)) + 1]
        run_start = np.repeat(starts, np.diff(np.r_[starts, node_sorted.size]))
        rank = np.arange(node_sorted.size) - run_start
        keep[pid[order[rank < top_k]]] = True
    n_below = int(n - keep.sum())
    n_over = 0
    if max_pairs is not None and int(keep.sum()) > max_pairs:
        kept = np.flatnonzero(keep)
        order = np.lexsort((kept, -pairs.score[kept].astype(np.float64)))
        keep = np.zeros(n, dtype=bool)
        keep[kept[order[:max_pairs]]] = True
        n_over = int(kept.size - max_pairs)
    return keep, n_below, n_over


def rerank_pairs(
    texts: Sequence[str],
    pairs: Pairs,
    reranker: Reranker,
    *,
    floor: float = DEFAULT_FLOOR,
    top_k: int = DEFAULT_TOP_K,
    max_pairs: int | None = None,
    batch_size: int = 32,
    show_progress: bool = False,
) -> tuple[Pairs, RerankStats]:
    """Re-score the candidates that pass the pre-filter with ``reranker``.

    Returns only the re-ranked pairs, carrying the re-ranker's scores, and the stage's stats.
    """
    start = time.perf_counter()
    keep, n_below, n_over = select_for_rerank(
        pairs, floor=floor, top_k=top_k, max_pairs=max_pairs
    )
    if n_over:
        warnings.warn(
            f"re-ranking the {max_pairs:,} best of {n_over + max_pairs:,} candidate pairs "
            f"(max_pairs); {n_over:,} pairs were not re-ranked and are not linked. Raise "
            "max_pairs (--rerank-max-pairs) or the floor (--rerank-floor) to change this",
            ResultWarning,
            stacklevel=3,
        )
    chosen = pairs.select(keep)
    scores = np.zeros(0, dtype=np.float32)
    if len(chosen):
        scores = np.asarray(
            reranker.score(
                [texts[i] for i in chosen.left.tolist()],
                [texts[i] for i in chosen.right.tolist()],
                batch_size=batch_size,
                show_progress=show_progress,
            ),
            dtype=np.float32,
        ).reshape(-1)
    name = str(getattr(reranker, "name", type(reranker).__name__))
    if scores.shape[0] != len(chosen):
        raise ValueError(
            f"re-ranker {name!r} returned {scores.shape[0]} scores for {len(chosen)} pairs"
        )
    # the protocol's scores are probabilities: a NaN would neither link nor stay apart, and a
    # negative or above-1 score breaks the clusterings' "a missing pair counts 0"
    bad = ~(np.isfinite(scores) & (scores >= -1e-6) & (scores <= 1 + 1e-6))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        a, b = texts[int(chosen.left[i])], texts[int(chosen.right[i])]
        raise InputError(
            f"re-ranker {name!r} gave {int(bad.sum())} of {scores.size} pairs a score outside "
            f"[0, 1], the first {float(scores[i])} for {a[:60]!r} and {b[:60]!r}; a re-ranker "
            "returns P(duplicate) per pair (apply a sigmoid to raw logits)"
        )
    stats = RerankStats(
        model=name,
        n_candidates=len(pairs),
        n_scored=len(chosen),
        n_below_floor=n_below,
        n_over_limit=n_over,
        floor=float(floor),
        top_k=int(top_k),
        max_pairs=max_pairs,
        symmetric=getattr(reranker, "symmetric", None),
        seconds=time.perf_counter() - start,
    )
    return chosen.with_scores(scores), stats
