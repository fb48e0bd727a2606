"""Re-ranking candidate pairs with a model that reads both texts at once (a cross-encoder).

- :class:`Reranker` — the protocol: ``score(texts_a, texts_b) -> P(duplicate)``.
- :class:`CrossEncoderReranker` / :func:`load_reranker` — a folder trained by
  ``neardup train cross-encoder`` (:func:`neardup.train.train_cross_encoder`), with the link
  threshold calibrated on held-out pairs.
- :func:`rerank_pairs` — the dedup pipeline's pre-filter + re-ranking stage
  (``Deduplicator(rerank=...)``).

Importing this package does not import torch; loading a model does.
"""

from neardup.rerank.base import Reranker
from neardup.rerank.cross_encoder import (
    MANIFEST,
    CrossEncoderReranker,
    RerankerManifest,
    is_reranker_folder,
    load_reranker,
)
from neardup.rerank.pipeline import (
    DEFAULT_FLOOR,
    DEFAULT_TOP_K,
    RerankStats,
    rerank_pairs,
    select_for_rerank,
)

__all__ = [
    "Reranker",
    "CrossEncoderReranker",
    "RerankerManifest",
    "RerankStats",
    "MANIFEST",
    "DEFAULT_FLOOR",
    "DEFAULT_TOP_K",
    "is_reranker_folder",
    "load_reranker",
    "rerank_pairs",
    "select_for_rerank",
]
