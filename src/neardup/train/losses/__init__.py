"""Training losses that sentence-transformers does not ship, one per file.

* :class:`MeanClosestNegativeTripletLoss` — triplet hinge with a mean-negative and a
  closest-negative term over in-batch negatives (the Siamese question-duplicate recipe).
* :class:`MetricLearningLoss` — a pytorch-metric-learning loss plus miner (multi-similarity,
  triplet margin) for groups of texts.

The standard ones (contrastive, online contrastive, multiple-negatives ranking) come from
``sentence_transformers.sentence_transformer.losses``; :mod:`neardup.train.bi_encoder` picks
among all of them by task.
"""

from neardup.train.losses.mean_closest_triplet import MeanClosestNegativeTripletLoss
from neardup.train.losses.metric_learning import MetricLearningLoss

__all__ = ["MeanClosestNegativeTripletLoss", "MetricLearningLoss"]
