"""Scored pairs of rows: the currency between candidate generation, scoring and clustering."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from neardup.errors import InputError


@dataclass(frozen=True)
class Pairs:
    """Undirected pairs ``(left[k], right[k])`` of row positions with ``score[k]``.

    Invariants (enforced by :meth:`from_arrays`): ``left < right``, no repeated pair, sorted
    by ``(left, right)`` so that output does not depend on the order candidates were found.
    """

    left: np.ndarray  # int64
    right: np.ndarray  # int64
    score: np.ndarray  # float32

    @classmethod
    def empty(cls) -> "Pairs":
        return cls(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32))

    @classmethod
    def from_arrays(cls, a: np.ndarray, b: np.ndarray, score: np.ndarray | None = None) -> "Pairs":
        """Canonicalise: order each pair, drop self-pairs, keep the max score of repeats."""
        a = np.asarray(a, dtype=np.int64).ravel()
        b = np.asarray(b, dtype=np.int64).ravel()
        if a.shape != b.shape:
            raise ValueError(f"pair arrays differ in length: {a.shape[0]} and {b.shape[0]}")
        s = (
            np.zeros(a.shape[0], np.float32)
            if score is None
            else np.asarray(score, dtype=np.float32).ravel()
        )
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        keep = lo != hi
        lo, hi, s = lo[keep], hi[keep], s[keep]
        if lo.size == 0:
            return cls.empty()
        # one int64 key for (lo, hi) and a stable radix argsort: 3x faster than a two-key
        # lexsort on millions of pairs; repeats then keep their highest score
        lo_min, hi_min = int(lo.min()), int(hi.min())
        span = int(hi.max()) - hi_min + 1
        if (int(lo.max()) - lo_min + 1) * span < 2**62:
            order = np.argsort((lo - lo_min) * span + (hi - hi_min), kind="stable")
        else:  # pragma: no cover - positions beyond 2**31 on both sides
            order = np.lexsort((hi, lo))
        lo, hi, s = lo[order], hi[order], s[order]
        first = np.ones(lo.size, dtype=bool)
        first[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])
        starts = np.flatnonzero(first)
        best = np.maximum.reduceat(s, starts) if starts.size < s.size else s
        return cls(lo[starts], hi[starts], best)

    def __len__(self) -> int:
        return int(self.left.shape[0])

    def with_scores(self, score: np.ndarray) -> "Pairs":
        score = np.asarray(score, dtype=np.float32).ravel()
        if score.shape[0] != len(self):
            raise ValueError(f"{score.shape[0]} scores for {len(self)} pairs")
        return Pairs(self.left, self.right, score)

    def select(self, mask: np.ndarray) -> "Pairs":
        return Pairs(self.left[mask], self.right[mask], self.score[mask])

    def union(self, other: "Pairs") -> "Pairs":
        return Pairs.from_arrays(
            np.concatenate([self.left, other.left]),
            np.concatenate([self.right, other.right]),
            np.concatenate([self.score, other.score]),
        )


def distinct_pair_texts(
    texts1: Sequence[str], texts2: Sequence[str]
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The distinct texts of a list of text pairs (first-seen order, ``texts1`` before
    ``texts2``) and each pair's two positions in them (int64), so that each text is encoded
    once however many pairs it is in."""
    position: dict[str, int] = {}
    for t in list(texts1) + list(texts2):
        position.setdefault(t, len(position))
    left = np.fromiter((position[t] for t in texts1), np.int64, len(texts1))
    right = np.fromiter((position[t] for t in texts2), np.int64, len(texts2))
    return list(position), left, right


def check_pair_texts(values: Sequence[Any], what: str) -> list[str]:
    """``values`` as a list of ``str``; anything else is an error naming the pair."""
    out: list[str] = []
    for i, v in enumerate(values):
        if not isinstance(v, str):
            raise InputError(
                f"{what}: pair {i} has {type(v).__name__} {v!r:.60} where a text was expected; "
                "convert the column to strings"
            )
        out.append(v)
    return out
