"""Triplet loss with a mean-negative and a closest-negative term, over in-batch negatives.

The Siamese question-duplicate recipe (a BiLSTM trained on Quora pairs) scores every anchor
against every candidate in the batch and adds two hinge terms per anchor ``a`` with positive
``p``, similarity ``s`` = cosine, margin ``m``:

* ``relu(m - s(a, p) + mean_neg(a))`` where ``mean_neg`` is the mean similarity of ``a`` to its
  negatives: a smooth signal from every negative, useful early in training;
* ``relu(m - s(a, p) + closest_neg(a, p))`` where ``closest_neg`` is the *largest* negative
  similarity that is still *below* ``s(a, p)``: the semi-hard negative closest to the
  positive, which sharpens the boundary without chasing mislabelled or impossible negatives.
  When every negative scores at or above ``s(a, p)`` there is no such negative and the term is
  0 (the mean term still pushes those negatives away).

The loss is the mean of the two terms over all (anchor, positive) pairs of the batch, so its
scale does not depend on the batch size.

Two input shapes:

* one column with group labels (``text, label``): every pair of texts sharing a label is an
  (anchor, positive) pair, and the texts with other labels are its negatives;
* two or more columns without labels (``anchor, positive[, negative...]``): anchor ``i``'s
  positive is row ``i`` of the second column, and every other candidate in the batch (other
  rows' positives and all the negative columns) is a negative, as in multiple-negatives
  ranking.

>>> import torch
>>> from neardup.train.losses import MeanClosestNegativeTripletLoss
>>> emb = torch.tensor([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [0.6, 0.8]])
>>> loss = MeanClosestNegativeTripletLoss(model=None, margin=0.25)
>>> round(loss.compute_loss_from_embeddings([emb], torch.tensor([0, 0, 1, 1])).item(), 4)
0.165
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

__all__ = ["MeanClosestNegativeTripletLoss"]


def _cosine_matrix(a: Tensor, b: Tensor) -> Tensor:
    return nn.functional.normalize(a, dim=-1) @ nn.functional.normalize(b, dim=-1).T


class MeanClosestNegativeTripletLoss(nn.Module):
    """Mean-negative plus closest-negative triplet hinge on cosine similarities.

    ``model`` is the SentenceTransformer being trained (``None`` is fine when only
    :meth:`compute_loss_from_embeddings` is used); ``margin`` is in cosine units.
    """

    def __init__(self, model: Any, margin: float = 0.25) -> None:
        super().__init__()
        self.model = model
        self.margin = margin

    def forward(
        self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None
    ) -> Tensor:
        embeddings = [self.model(features)["sentence_embedding"] for features in sentence_features]
        return self.compute_loss_from_embeddings(embeddings, labels)

    def compute_loss_from_embeddings(
        self, embeddings: Sequence[Tensor], labels: Tensor | None
    ) -> Tensor:
        if len(embeddings) == 1:
            if labels is None:
                raise ValueError(
                    "MeanClosestNegativeTripletLoss with one text column needs group labels"
                )
            return self._grouped(embeddings[0], labels.view(-1))
        return self._paired(embeddings[0], torch.cat(list(embeddings[1:]), dim=0))

    def _grouped(self, emb: Tensor, labels: Tensor) -> Tensor:
        if labels.numel() != emb.shape[0]:
            raise ValueError(f"got {labels.numel()} labels for {emb.shape[0]} embeddings")
        sim = _cosine_matrix(emb, emb)
        same = labels[:, None] == labels[None, :]
        eye = torch.eye(len(labels), dtype=torch.bool, device=emb.device)
        anchor, positive = torch.nonzero(same & ~eye, as_tuple=True)
        return self._hinge(sim[anchor], sim[anchor, positive], ~same[anchor])

    def _paired(self, anchors: Tensor, candidates: Tensor) -> Tensor:
        sim = _cosine_matrix(anchors, candidates)
        rows = torch.arange(anchors.shape[0], device=anchors.device)
        negative = torch.ones_like(sim, dtype=torch.bool)
        negative[rows, rows] = False
        return self._hinge(sim, sim[rows, rows], negative)

    def _hinge(self, sim: Tensor, positive_sim: Tensor, negative: Tensor) -> Tensor:
        """``sim``: one row of candidate similarities per (anchor, positive) pair;
        ``negative`` marks which candidates are that anchor's negatives."""
        n_neg = negative.sum(dim=1)
        usable = n_neg > 0
        if not bool(usable.any()):
            # A batch without a single negative teaches nothing; keep the graph connected.
            return sim.sum() * 0.0
        sim, positive_sim, negative, n_neg = (
            sim[usable], positive_sim[usable], negative[usable], n_neg[usable]
        )
        mean_neg = (sim * negative).sum(dim=1) / n_neg
        below = negative & (sim < positive_sim[:, None])
        # -inf marks "no semi-hard negative"; such rows get a zero closest term below.
        closest = sim.masked_fill(~below, float("-inf")).max(dim=1).values
        has_closest = below.any(dim=1)
        mean_term = torch.relu(self.margin - positive_sim + mean_neg)
        closest_term = torch.where(
            has_closest,
            torch.relu(self.margin - positive_sim + closest.clamp(min=-1.0)),
            torch.zeros_like(positive_sim),
        )
        return (mean_term + closest_term).mean()

    def get_config_dict(self) -> dict[str, Any]:
        return {"margin": self.margin}
