"""Evaluate dedup, similarity and search quality against labelled data.

* :mod:`~neardup.evaluate.metrics` — the metrics themselves, pure NumPy, each documented
  with its definition.
* :mod:`~neardup.evaluate.data` — loaders for labelled pairs, groups and BEIR folders.
* :mod:`~neardup.evaluate.evaluators` — sentence-transformers-style evaluators that take an
  encoder (or a clustering function) and return metrics with a ``primary_metric``.
* :mod:`~neardup.evaluate.thresholds` — threshold sweeps for clustering pipelines.
"""

from __future__ import annotations

from neardup.evaluate.data import (
    GroupData,
    PairData,
    RetrievalData,
    load_beir,
    load_groups,
    load_pairs,
)
from neardup.evaluate.evaluators import (
    ClusterEvaluator,
    EmbeddingEvaluator,
    EvaluationResult,
    PairEvaluator,
    PairScorer,
    RetrievalEvaluator,
    top_k_inner_product,
)
from neardup.evaluate.metrics import (
    ClusterMetrics,
    ClusterPairCounts,
    LinkMetrics,
    PairMetrics,
    RetrievalMetrics,
    ThresholdResult,
    adjusted_rand_index,
    alignment,
    average_precision,
    best_accuracy_threshold,
    best_f1_threshold,
    cluster_metrics,
    cluster_pair_counts,
    map_at_r,
    mrr,
    mrr_at_k,
    ndcg_at_k,
    normalized_mutual_info,
    pair_metrics,
    pair_set_metrics,
    pairwise_cluster_metrics,
    pearson,
    precision_at_1,
    recall_at_k,
    retrieval_metrics,
    row_f1,
    spearman,
    uniformity,
)
from neardup.evaluate.thresholds import (
    SweepPoint,
    best_threshold,
    sweep_cluster_threshold,
    threshold_grid,
)

__all__ = [
    # data
    "PairData", "GroupData", "RetrievalData", "load_pairs", "load_groups", "load_beir",
    # evaluators
    "EvaluationResult", "PairScorer", "PairEvaluator", "RetrievalEvaluator",
    "EmbeddingEvaluator", "ClusterEvaluator", "top_k_inner_product",
    # metrics
    "ThresholdResult", "PairMetrics", "ClusterPairCounts", "LinkMetrics", "ClusterMetrics",
    "RetrievalMetrics", "average_precision", "best_f1_threshold", "best_accuracy_threshold",
    "pair_metrics", "spearman", "pearson", "cluster_pair_counts", "pairwise_cluster_metrics",
    "adjusted_rand_index", "normalized_mutual_info", "row_f1", "cluster_metrics",
    "pair_set_metrics", "ndcg_at_k", "recall_at_k", "mrr_at_k", "mrr", "precision_at_1",
    "map_at_r", "retrieval_metrics", "alignment", "uniformity",
    # thresholds
    "SweepPoint", "sweep_cluster_threshold", "best_threshold", "threshold_grid",
]
