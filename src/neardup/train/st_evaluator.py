"""neardup's own metrics as a sentence-transformers evaluator, for model selection in training.

:class:`NeardupDevEvaluator` measures a model on a dev set with the metrics ``neardup
evaluate`` reports for the same kind of data, so the number that picks the best checkpoint is
the number the user will later see:

* labelled pairs: average precision of the cosine (primary ``cosine_ap``), plus F1,
  precision, recall and accuracy at their best thresholds (:class:`PairEvaluator`);
* positive pairs: each query searches all dev positives (and negatives); MRR@10 (primary),
  recall@1/5/10, nDCG@10 (:class:`RetrievalEvaluator`);
* groups: every text searches the other dev texts; MAP@R (primary, threshold-free) and the
  row-F1 of average-linkage clustering at its best threshold (the Shopee metric).

Texts are encoded through :class:`SentenceTransformerEncoder`, so the model's prompts
(``query: ``/``passage: `` for e5) are applied exactly as ``neardup`` applies them at use.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neardup.evaluate.evaluators import (
    EvaluationResult,
    PairEvaluator,
    RetrievalEvaluator,
    top_k_inner_product,
)
from neardup.models.base import Encoder
from neardup.models.texts import SYMMETRIC_KIND
from neardup.train.data import GroupedTexts, LabelledPairs, PositivePairs, ScoredPairs

__all__ = ["NeardupDevEvaluator", "PRIMARY_METRICS", "group_metrics"]

#: The metric each task's checkpoints are selected by (all greater-is-better).
PRIMARY_METRICS: dict[str, str] = {
    "pairs": "cosine_ap",
    "scored": "spearman_cosine",
    "positives": "mrr@10",
    "groups": "map@r",
}

DevData = LabelledPairs | ScoredPairs | PositivePairs | GroupedTexts

try:  # sentence-transformers is an optional dependency; the class needs it only when used
    from sentence_transformers.sentence_transformer.evaluation import SentenceEvaluator as _Base
except ImportError:  # pragma: no cover - exercised only without the train extra
    _Base = object  # type: ignore[assignment,misc]


class NeardupDevEvaluator(_Base):  # type: ignore[misc,valid-type]
    """Evaluates a SentenceTransformer on dev data with neardup's metrics.

    Called by ``SentenceTransformerTrainer`` with the model being trained; returns metrics
    prefixed with ``name`` (``dev_cosine_ap``) and names the one to select by in
    :attr:`primary_metric`. :meth:`measure` takes any neardup :class:`Encoder` (the base
    model before training, a saved folder after) and returns unprefixed metrics.
    """

    def __init__(self, data: DevData, *, name: str = "dev", batch_size: int = 64) -> None:
        super().__init__()
        self.data = data
        self.name = name
        self.batch_size = batch_size
        self.primary_metric = f"{name}_{PRIMARY_METRICS[data.task]}"
        self.greater_is_better = True

    def measure(self, encoder: Encoder) -> EvaluationResult:
        data = self.data
        if isinstance(data, LabelledPairs):
            return PairEvaluator(data.texts1, data.texts2, data.labels, label_kind="binary",
                                 batch_size=self.batch_size)(encoder)
        if isinstance(data, ScoredPairs):
            return PairEvaluator(data.texts1, data.texts2, data.scores, label_kind="graded",
                                 batch_size=self.batch_size)(encoder)
        if isinstance(data, PositivePairs):
            return _retrieval(data, encoder, self.batch_size)
        return group_metrics(encoder, data.texts, data.labels, batch_size=self.batch_size)

    def __call__(self, model: Any, output_path: str | None = None, epoch: float = -1,
                 steps: int = -1) -> dict[str, float]:
        from neardup.models.st_encoder import SentenceTransformerEncoder

        result = self.measure(SentenceTransformerEncoder(model, self.name))
        return {f"{self.name}_{key}": float(value) for key, value in result.items()}

    def get_config_dict(self) -> dict[str, Any]:
        return {"task": self.data.task, "rows": len(self.data)}


def _retrieval(data: PositivePairs, encoder: Encoder, batch_size: int) -> EvaluationResult:
    # One id per distinct text, shared by queries and documents: where a query's text is also a
    # document (pairs given both ways, or one row's query another row's positive), retrieving
    # it for itself is skipped, as BEIR does for Quora; otherwise it always came first and
    # pinned MRR@10 at ~0.5 and recall@1 at 0 whatever the model.
    ids: dict[str, str] = {}
    for text in data.positives + (data.negatives or []) + data.queries:
        ids.setdefault(text, f"t{len(ids)}")
    qrels: dict[str, dict[str, float]] = {}
    for query, positive in zip(data.queries, data.positives):
        if positive != query:  # a text is never retrieved for itself
            qrels.setdefault(ids[query], {})[ids[positive]] = 1.0
    docs = dict.fromkeys(data.positives + (data.negatives or []))
    corpus = {ids[text]: text for text in docs}
    queries = {ids[text]: text for text in dict.fromkeys(data.queries)}
    result = RetrievalEvaluator(corpus, queries, qrels, ks=(1, 5, 10),
                                ignore_identical_ids=True, batch_size=batch_size)(encoder)
    keep = ("mrr@10", "recall@1", "recall@5", "recall@10", "ndcg@10", "map@r")
    return EvaluationResult({k: result[k] for k in keep}, PRIMARY_METRICS["positives"])


def group_metrics(
    encoder: Encoder,
    texts: list[str],
    labels: np.ndarray,
    *,
    batch_size: int = 64,
    n_thresholds: int = 20,
) -> EvaluationResult:
    """MAP@R of every text searching the others, and the best row-F1 of clustering.

    MAP@R (Musgrave et al. 2020) uses each text of a group with two or more texts as a query
    whose relevant items are the rest of its group. Row-F1 clusters the texts with neardup's
    average-linkage agglomerative clustering on each text's nearest neighbours, at the
    threshold (from a grid of observed similarities) where it is highest; that threshold is
    reported as ``row_f1_threshold``.
    """
    from neardup.cluster import agglomerative
    from neardup.cluster.agglomerative import TOLERANCE as LINK_TOLERANCE
    from neardup.evaluate.metrics import cluster_metrics, map_at_r
    from neardup.evaluate.thresholds import threshold_grid
    from neardup.pairs import Pairs

    labels = np.asarray(labels)
    n = len(texts)
    emb = np.asarray(encoder.encode(texts, kind=SYMMETRIC_KIND, batch_size=batch_size),
                     np.float32)
    emb /= np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
    sizes = np.bincount(np.unique(labels, return_inverse=True)[1])
    # Deep enough for MAP@R (R = group size - 1) and for clustering to see whole groups.
    depth = min(n, max(11, int(sizes.max()) + 1))
    idx, scores = top_k_inner_product(emb, emb, depth)
    ranked: dict[str, list[str]] = {}
    qrels: dict[str, dict[str, float]] = {}
    for i in range(n):
        ranked[str(i)] = [str(j) for j in idx[i].tolist() if j != i]
        members = np.flatnonzero(labels == labels[i])
        if members.size > 1:
            qrels[str(i)] = {str(j): 1.0 for j in members.tolist() if j != i}
    map_r = map_at_r(ranked, qrels)

    rows = np.repeat(np.arange(n), idx.shape[1])
    cols, sims = idx.ravel(), scores.ravel().astype(np.float64)
    positive = (rows != cols) & (sims > 0)
    pairs = Pairs.from_arrays(rows[positive], cols[positive], sims[positive])
    # No merge at all (every text alone) is the baseline any threshold must beat. Its
    # threshold lies above every score by more than the clusterings' slack, so linking at the
    # reported threshold gives the reported row-F1 (at 1.0, identical vectors would merge)
    best_f1 = cluster_metrics(labels, np.arange(n)).row_f1
    best_t = float(pairs.score.max()) + 2 * LINK_TOLERANCE if pairs.score.size else 1.0
    if pairs.score.size:
        for t in threshold_grid(np.minimum(pairs.score, 1.0), n_thresholds):
            f1 = cluster_metrics(labels, agglomerative(n, pairs, threshold=t)).row_f1
            if f1 > best_f1:
                best_f1, best_t = f1, t
    return EvaluationResult(
        {"map@r": map_r, "row_f1": best_f1, "row_f1_threshold": best_t},
        PRIMARY_METRICS["groups"],
    )
