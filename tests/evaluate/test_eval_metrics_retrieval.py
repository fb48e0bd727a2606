"""Retrieval and embedding-geometry metrics on hand-computed toys."""

from __future__ import annotations

import math

import numpy as np
import pytest

from neardup.evaluate.metrics import (
    alignment,
    map_at_r,
    mrr,
    mrr_at_k,
    ndcg_at_k,
    precision_at_1,
    recall_at_k,
    retrieval_metrics,
    uniformity,
)

QRELS = {
    "q1": {"d1": 2, "d2": 1, "d3": 0},
    "q2": {"d5": 1},
    "q3": {"d9": 0},  # nothing relevant: skipped by every metric
}
RANKED = {"q1": ["d3", "d1", "d4", "d2"], "q2": ["d5", "d6"], "q3": ["d9"]}

# q1 nDCG@3: DCG = 2 / log2(3) (d1 at rank 2); IDCG = 2 / log2(2) + 1 / log2(3)
Q1_NDCG3 = (2 / math.log2(3)) / (2 + 1 / math.log2(3))


def test_ndcg_toy() -> None:
    assert ndcg_at_k(RANKED, QRELS, 3) == pytest.approx((Q1_NDCG3 + 1.0) / 2)
    # at k=1 q1's top document is judged 0: nDCG 0
    assert ndcg_at_k(RANKED, QRELS, 1) == pytest.approx(0.5)


def test_ndcg_gain_is_linear_in_relevance() -> None:
    # d2 (rel 1) first, d1 (rel 2) second: DCG = 1 + 2/log2(3); IDCG = 2 + 1/log2(3)
    r = ndcg_at_k({"q": ["d2", "d1"]}, {"q": {"d1": 2, "d2": 1}}, 10)
    assert r == pytest.approx((1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3)))


def test_recall_mrr_p1_toy() -> None:
    assert recall_at_k(RANKED, QRELS, 3) == pytest.approx((1 / 2 + 1) / 2)
    assert recall_at_k(RANKED, QRELS, 4) == 1.0
    assert mrr_at_k(RANKED, QRELS, 10) == pytest.approx((1 / 2 + 1) / 2)
    assert mrr(RANKED, QRELS, 1) == pytest.approx(0.5)
    assert precision_at_1(RANKED, QRELS) == pytest.approx(0.5)


def test_map_at_r_toy() -> None:
    # q1: R = 2, top 2 = [d3, d1] -> (P@2 * 1) / 2 = 1/4; q2: 1
    assert map_at_r(RANKED, QRELS) == pytest.approx((1 / 4 + 1) / 2)
    # R = 3, top 3 = [a, x, b]: (P@1 + P@3) / 3 = (1 + 2/3) / 3; c at rank 4 does not count
    one = {"q": {"a": 1, "b": 1, "c": 1}}
    assert map_at_r({"q": ["a", "x", "b", "c"]}, one) == pytest.approx(5 / 9)


def test_missing_ranking_counts_as_zero() -> None:
    qrels = {"q1": {"d1": 1}, "q2": {"d2": 1}}
    assert ndcg_at_k({"q1": ["d1"]}, qrels, 10) == pytest.approx(0.5)


def test_retrieval_metrics_bundle() -> None:
    m = retrieval_metrics(RANKED, QRELS, ks=(10, 3, 1))
    assert m.n_queries == 2
    d = m.as_dict()
    assert d["ndcg@3"] == pytest.approx((Q1_NDCG3 + 1) / 2)
    assert d["recall@3"] == pytest.approx(0.75)
    assert d["mrr@10"] == pytest.approx(0.75)
    assert d["precision@1"] == pytest.approx(0.5)
    assert d["map@r"] == pytest.approx(0.625)
    assert list(m.ndcg) == [1, 3, 10]


def test_retrieval_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="'d1' twice"):
        ndcg_at_k({"q": ["d1", "d1"]}, {"q": {"d1": 1}}, 10)
    with pytest.raises(ValueError, match="no query"):
        ndcg_at_k({}, {"q": {"d": 0}}, 10)
    with pytest.raises(ValueError, match="k must be"):
        recall_at_k(RANKED, QRELS, 0)


def test_alignment_toy() -> None:
    x = np.array([[1.0, 0.0], [0.0, 1.0]])
    y = np.array([[0.0, 1.0], [0.0, 1.0]])
    # distances sqrt(2) and 0: mean of squares = 1, mean of distances = sqrt(2)/2
    assert alignment(x, y) == pytest.approx(1.0)
    assert alignment(x, y, alpha=1) == pytest.approx(math.sqrt(2) / 2)


def test_uniformity_toy_and_brute_force() -> None:
    # two opposite unit vectors: one pair at squared distance 4 -> log exp(-2 * 4) = -8
    assert uniformity(np.array([[1.0, 0.0], [-1.0, 0.0]])) == pytest.approx(-8.0)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(40, 5))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    i, j = np.triu_indices(40, k=1)
    brute = math.log(np.mean(np.exp(-2 * np.sum((x[i] - x[j]) ** 2, axis=1))))
    assert uniformity(x, block_size=7) == pytest.approx(brute)
    assert uniformity(x, t=1.5) == pytest.approx(
        math.log(np.mean(np.exp(-1.5 * np.sum((x[i] - x[j]) ** 2, axis=1))))
    )


def test_uniformity_warns_when_it_subsamples() -> None:
    x = np.eye(30)
    with pytest.warns(UserWarning, match="sample of 10 of 30"):
        uniformity(x, max_samples=10)
    # every pair of basis vectors is at squared distance 2: exactly -4 either way
    assert uniformity(x, max_samples=None) == pytest.approx(-4.0)
