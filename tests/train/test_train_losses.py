"""Training losses on hand-made embeddings, checked against values worked out by hand."""

from __future__ import annotations

import doctest
import math

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("pytorch_metric_learning")

from neardup.train.losses import MeanClosestNegativeTripletLoss, MetricLearningLoss  # noqa: E402
from neardup.train.losses import mean_closest_triplet, metric_learning  # noqa: E402

# Unit vectors with easy cosines: s01 = 0.8, s02 = 0, s03 = 0.6, s12 = 0.6, s13 = 0.96, s23 = 0.8
EMB = [[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [0.6, 0.8]]
LABELS = [0, 0, 1, 1]


def _loss(fn, emb, labels=None) -> float:
    tensors = [torch.tensor(e) for e in emb]
    y = None if labels is None else torch.tensor(labels)
    return float(fn.compute_loss_from_embeddings(tensors, y))


@pytest.mark.parametrize("module", [mean_closest_triplet, metric_learning])
def test_docstring_examples_run(module) -> None:
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


def test_mean_closest_grouped_matches_hand_computation() -> None:
    # (a, p) = (0, 1): s_ap 0.8, negatives 0 and 0.6: mean 0.3 -> relu(.25-.8+.3) = 0,
    #   closest below 0.8 is 0.6 -> relu(.25-.8+.6) = 0.05
    # (1, 0): negatives 0.6 and 0.96: mean 0.78 -> 0.23; closest below 0.8 is 0.6 -> 0.05
    # (2, 3) mirrors (0, 1) and (3, 2) mirrors (1, 0): mean (0.05 + 0.28) * 2 / 4
    loss = MeanClosestNegativeTripletLoss(model=None, margin=0.25)
    assert _loss(loss, [EMB], LABELS) == pytest.approx(0.165, abs=1e-6)


def test_mean_closest_without_semi_hard_negative_uses_mean_term_only() -> None:
    # (0, 1): s_ap = 0, the only negative scores 1 (above) -> mean term 1.25, no closest term
    # (1, 0): s_ap = 0, the only negative scores 0 (not below) -> mean term 0.25
    emb = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]], requires_grad=True)
    loss = MeanClosestNegativeTripletLoss(model=None, margin=0.25)
    value = loss.compute_loss_from_embeddings([emb], torch.tensor([0, 0, 1]))
    assert value.item() == pytest.approx(0.75, abs=1e-6)
    value.backward()
    assert torch.isfinite(emb.grad).all()


def test_mean_closest_paired_uses_other_rows_as_negatives() -> None:
    # anchors (1,0), (0,1); positives (.8,.6), (.6,.8): each row s_ap .8, one negative .6
    # -> both terms relu(.25 - .8 + .6) = .05, total .1 per row
    anchors = [[1.0, 0.0], [0.0, 1.0]]
    positives = [[0.8, 0.6], [0.6, 0.8]]
    loss = MeanClosestNegativeTripletLoss(model=None, margin=0.25)
    assert _loss(loss, [anchors, positives]) == pytest.approx(0.1, abs=1e-6)
    # A negative column adds candidates for every row: row 0 now sees .6 (row 1's positive),
    # .6 (its own negative) and .8 (row 1's negative, not below its positive): mean 2/3 ->
    # relu(.25 - .8 + 2/3) = 7/60; closest below .8 is .6 -> .05; row 1 mirrors row 0.
    negatives = [[0.6, 0.8], [0.8, 0.6]]
    assert _loss(loss, [anchors, positives, negatives]) == pytest.approx(
        7 / 60 + 0.05, abs=1e-6
    )


def test_mean_closest_needs_labels_for_one_column() -> None:
    with pytest.raises(ValueError, match="group labels"):
        _loss(MeanClosestNegativeTripletLoss(model=None), [EMB])


def test_triplet_with_all_violating_triplets_matches_hand_computation() -> None:
    # relu(s_an - s_ap + 0.5) over triplets violating the margin:
    # (0,1,3) .3, (1,0,2) .3, (1,0,3) .66, (2,3,1) .3, (3,2,0) .3, (3,2,1) .66 -> mean .42
    loss = MetricLearningLoss.triplet(model=None, margin=0.5, mining="all")
    assert _loss(loss, [EMB], LABELS) == pytest.approx(0.42, abs=1e-5)


def _ms_anchor(pos: list[float], neg: list[float], alpha=2.0, beta=50.0, base=0.5) -> float:
    pos_term = math.log1p(sum(math.exp(-alpha * (s - base)) for s in pos)) / alpha
    neg_term = math.log1p(sum(math.exp(beta * (s - base)) for s in neg)) / beta
    return pos_term + neg_term


def test_multi_similarity_without_miner_matches_formula() -> None:
    expected = (
        _ms_anchor([0.8], [0.0, 0.6])
        + _ms_anchor([0.8], [0.6, 0.96])
        + _ms_anchor([0.8], [0.0, 0.6])
        + _ms_anchor([0.8], [0.6, 0.96])
    ) / 4
    loss = MetricLearningLoss.multi_similarity(model=None, epsilon=None)
    assert _loss(loss, [EMB], LABELS) == pytest.approx(expected, rel=1e-5)


def test_multi_similarity_miner_keeps_only_hard_pairs() -> None:
    # epsilon 0.1: anchors 0 and 2 have no negative above (0.8 - 0.1) and no positive below
    # (max negative + 0.1), so they contribute 0; anchors 1 and 3 keep their positive (0.8)
    # and the 0.96 negative only. The loss averages over all four anchors.
    expected = 2 * _ms_anchor([0.8], [0.96]) / 4
    loss = MetricLearningLoss.multi_similarity(model=None, epsilon=0.1)
    assert _loss(loss, [EMB], LABELS) == pytest.approx(expected, rel=1e-5)


def test_metric_learning_loss_rejects_pairs() -> None:
    loss = MetricLearningLoss.multi_similarity(model=None)
    with pytest.raises(ValueError, match="one text column"):
        _loss(loss, [EMB, EMB], LABELS)


def test_losses_train_through_a_model() -> None:
    """forward() embeds with the model and the gradient reaches its weights."""
    model = torch.nn.Linear(4, 3)

    def embed(features: dict) -> dict:
        return {"sentence_embedding": model(features["x"])}

    torch.manual_seed(0)
    x = torch.randn(6, 4)
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    for loss in (MeanClosestNegativeTripletLoss(embed, margin=0.5),
                 MetricLearningLoss.multi_similarity(embed, epsilon=None)):
        model.zero_grad()
        value = loss([{"x": x}], labels)
        value.backward()
        assert value.item() > 0
        assert model.weight.grad is not None and model.weight.grad.abs().sum() > 0
