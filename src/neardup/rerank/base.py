"""The protocol every re-ranker follows."""

from __future__ import annotations

from typing import Protocol, Sequence, runtime_checkable

import numpy as np

__all__ = ["Reranker"]


@runtime_checkable
class Reranker(Protocol):
    """Scores text pairs jointly: P(duplicate) per pair, in ``[0, 1]``.

    Unlike a bi-encoder, a re-ranker reads both texts of a pair at once, so it is too slow for
    all pairs of a collection but precise on the few candidates a bi-encoder retrieved (the
    NEWS-COPY recipe: retrieve, re-rank, cluster).

    ``name`` identifies the model in reports; ``default_threshold`` is the link threshold the
    re-ranker was calibrated to (``None`` when it has none: then the caller must give one).
    """

    name: str

    @property
    def default_threshold(self) -> float | None: ...

    def score(
        self,
        texts_a: Sequence[str],
        texts_b: Sequence[str],
        *,
        batch_size: int = 32,
        show_progress: bool = False,
    ) -> np.ndarray:
        """One float32 probability per pair ``(texts_a[i], texts_b[i])``."""
        ...
