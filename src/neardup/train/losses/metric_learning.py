"""A pytorch-metric-learning loss and miner as a sentence-transformers loss.

Metric learning on groups (``text, label``) needs two things sentence-transformers' own batch
triplet losses do not offer together: a choice of loss (multi-similarity, triplet margin) and
a separate *miner* that picks the informative pairs or triplets of each batch before the loss
sees them. pytorch-metric-learning has both; this wrapper embeds the batch with the model being
trained and hands embeddings, labels and the mined indices to them. Batches must hold several
texts per label, which ``BatchSamplers.GROUP_BY_LABEL`` guarantees.

Two ready-made combinations, both on cosine similarity:

* :meth:`MetricLearningLoss.multi_similarity` — MultiSimilarityLoss with MultiSimilarityMiner
  (Wang et al., 2019): weighs every positive and negative pair by how hard it is relative to
  the others; the miner keeps pairs within ``epsilon`` of the hardest opposite pair.
* :meth:`MetricLearningLoss.triplet` — TripletMarginLoss with a TripletMarginMiner keeping
  semi-hard triplets (negative farther than the positive but within the margin).

>>> import torch
>>> from neardup.train.losses import MetricLearningLoss
>>> emb = torch.tensor([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [0.6, 0.8]])
>>> loss = MetricLearningLoss.triplet(model=None, margin=0.5, mining="all")
>>> round(loss.compute_loss_from_embeddings([emb], torch.tensor([0, 0, 1, 1])).item(), 4)
0.42
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

from torch import Tensor, nn

from neardup.errors import require

__all__ = ["MetricLearningLoss"]

_FEATURE = "Metric-learning losses (--loss multi-similarity / triplet)"


class MetricLearningLoss(nn.Module):
    """Embed one text column, mine pairs/triplets by group label, apply a pml loss.

    ``loss`` and ``miner`` are pytorch-metric-learning objects (``miner=None`` uses every
    pair or triplet of the batch); ``name`` is recorded in the training report.
    """

    def __init__(self, model: Any, loss: nn.Module, miner: nn.Module | None = None,
                 name: str = "metric-learning") -> None:
        super().__init__()
        self.model = model
        self.loss = loss
        self.miner = miner
        self.name = name

    @classmethod
    def multi_similarity(
        cls,
        model: Any,
        *,
        alpha: float = 2.0,
        beta: float = 50.0,
        base: float = 0.5,
        epsilon: float | None = 0.1,
    ) -> MetricLearningLoss:
        """MultiSimilarityLoss(alpha, beta, base) with a MultiSimilarityMiner(epsilon);
        ``epsilon=None`` mines nothing (all pairs)."""
        pml_losses: Any = require("pytorch_metric_learning.losses", "train", _FEATURE)
        pml_miners: Any = require("pytorch_metric_learning.miners", "train", _FEATURE)
        loss = pml_losses.MultiSimilarityLoss(alpha=alpha, beta=beta, base=base)
        miner = None if epsilon is None else pml_miners.MultiSimilarityMiner(epsilon=epsilon)
        return cls(model, loss, miner, name="multi-similarity")

    @classmethod
    def triplet(
        cls,
        model: Any,
        *,
        margin: float = 0.2,
        mining: Literal["semihard", "hard", "easy", "all"] = "semihard",
    ) -> MetricLearningLoss:
        """TripletMarginLoss(margin) on cosine similarity, triplets chosen by a
        TripletMarginMiner of type ``mining`` ("all" keeps every triplet that violates the
        margin)."""
        pml_losses: Any = require("pytorch_metric_learning.losses", "train", _FEATURE)
        pml_miners: Any = require("pytorch_metric_learning.miners", "train", _FEATURE)
        distances: Any = require("pytorch_metric_learning.distances", "train", _FEATURE)
        loss = pml_losses.TripletMarginLoss(margin=margin, distance=distances.CosineSimilarity())
        miner = pml_miners.TripletMarginMiner(
            margin=margin, type_of_triplets=mining, distance=distances.CosineSimilarity()
        )
        return cls(model, loss, miner, name="triplet")

    def forward(
        self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None
    ) -> Tensor:
        embeddings = [self.model(features)["sentence_embedding"] for features in sentence_features]
        return self.compute_loss_from_embeddings(embeddings, labels)

    def compute_loss_from_embeddings(
        self, embeddings: Sequence[Tensor], labels: Tensor | None
    ) -> Tensor:
        if len(embeddings) != 1 or labels is None:
            raise ValueError(
                f"{type(self).__name__} takes one text column with group labels, got "
                f"{len(embeddings)} column(s) and {'no' if labels is None else 'some'} labels"
            )
        emb, y = embeddings[0], labels.view(-1)
        indices = None if self.miner is None else self.miner(emb, y)
        return self.loss(emb, y, indices)

    def get_config_dict(self) -> dict[str, Any]:
        return {
            "loss": type(self.loss).__name__,
            "miner": None if self.miner is None else type(self.miner).__name__,
        }
