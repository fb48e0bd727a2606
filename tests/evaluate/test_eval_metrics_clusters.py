"""Clustering and pair-set metrics: hand toys, sklearn cross-checks, no O(n^2)."""

from __future__ import annotations

import time

import numpy as np
import pytest
from sklearn import metrics as skm

from neardup.evaluate.metrics import (
    adjusted_rand_index,
    cluster_metrics,
    cluster_pair_counts,
    normalized_mutual_info,
    pair_set_metrics,
    pairwise_cluster_metrics,
    row_f1,
)
from neardup.pairs import Pairs

TRUE = [0, 0, 0, 1, 1]
PRED = [0, 0, 1, 1, 2]


def test_pair_counts_toy() -> None:
    # same-true pairs: {01, 02, 12, 34}; same-pred pairs: {01, 23}; both: {01}
    c = cluster_pair_counts(TRUE, PRED)
    assert (c.tp, c.fp, c.fn, c.tn) == (1, 1, 3, 5)
    assert (c.n_true_pairs, c.n_pred_pairs) == (4, 2)
    m = pairwise_cluster_metrics(TRUE, PRED)
    assert (m.precision, m.recall, m.f1) == pytest.approx((0.5, 0.25, 1 / 3))


def test_row_f1_toy() -> None:
    # item: (true group, predicted group) -> F1
    # 0: {0,1,2} vs {0,1} -> 4/5;  1: same -> 4/5;  2: {0,1,2} vs {2,3} -> 2/5
    # 3: {3,4} vs {2,3} -> 1/2;    4: {3,4} vs {4} -> 2/3
    expected = (0.8 + 0.8 + 0.4 + 0.5 + 2 / 3) / 5
    assert row_f1(TRUE, PRED) == pytest.approx(expected)
    assert row_f1(TRUE, TRUE) == 1.0


def test_ari_toy() -> None:
    # 2 (tp tn - fn fp) / ((tp + fn)(fn + tn) + (tp + fp)(fp + tn)) = 2 (5 - 3) / (32 + 12)
    assert adjusted_rand_index(TRUE, PRED) == pytest.approx(1 / 11)


def test_cluster_metrics_bundle_and_label_values_do_not_matter() -> None:
    m = cluster_metrics(["a", "a", "a", "b", "b"], [7, 7, 3, 3, -1])
    assert m.row_f1 == pytest.approx(row_f1(TRUE, PRED))
    assert (m.pair_precision, m.pair_recall) == pytest.approx((0.5, 0.25))
    assert m.ari == pytest.approx(1 / 11)
    assert (m.n_items, m.n_true_clusters, m.n_pred_clusters) == (5, 2, 3)
    assert m.as_dict()["pair_fn"] == 3.0


def test_degenerate_clusterings() -> None:
    singletons = np.arange(4)
    one = np.zeros(4, int)
    m = cluster_metrics(singletons, singletons)
    assert (m.pair_f1, m.ari, m.nmi, m.row_f1) == (1.0, 1.0, 1.0, 1.0)
    m = cluster_metrics(one, singletons)  # nothing merged: recall 0
    assert (m.pair_precision, m.pair_recall, m.pair_f1) == (0.0, 0.0, 0.0)
    assert m.row_f1 == pytest.approx(2 / 5)  # each item: 2*1 / (4 + 1)
    assert m.nmi == skm.normalized_mutual_info_score(one, singletons)
    with pytest.raises(ValueError, match="differ in length"):
        cluster_metrics([0, 1], [0])


def test_match_sklearn_on_random_labelings() -> None:
    rng = np.random.default_rng(2)
    for _ in range(40):
        n = int(rng.integers(1, 70))
        t = rng.integers(0, int(rng.integers(1, 12)), n)
        p = rng.integers(0, int(rng.integers(1, 12)), n)
        assert adjusted_rand_index(t, p) == pytest.approx(skm.adjusted_rand_score(t, p))
        assert normalized_mutual_info(t, p) == pytest.approx(
            skm.normalized_mutual_info_score(t, p)
        )
        (tn, fp), (fn, tp) = skm.cluster.pair_confusion_matrix(t, p) // 2
        c = cluster_pair_counts(t, p)
        assert (c.tp, c.fp, c.fn, c.tn) == (tp, fp, fn, tn)
        # row-F1 by its definition, item by item
        brute = np.mean(
            [
                2 * np.sum((t == t[i]) & (p == p[i])) / (np.sum(t == t[i]) + np.sum(p == p[i]))
                for i in range(n)
            ]
        )
        assert row_f1(t, p) == pytest.approx(brute)


def test_large_singleton_clusterings_are_not_quadratic() -> None:
    n = 300_000  # a dense n x n table or pair list would not fit
    start = time.perf_counter()
    m = cluster_metrics(np.arange(n), np.arange(n) // 2)
    assert time.perf_counter() - start < 5
    assert m.pair_precision == 0.0 and m.pair_counts.fp == n // 2
    assert m.row_f1 == pytest.approx(2 / 3)


def test_pair_set_metrics() -> None:
    m = pair_set_metrics([(1, 2), (3, 4)], [(2, 1), (1, 3), (1, 3)])  # repeats count once
    assert (m.tp, m.fp, m.fn) == (1, 1, 1)
    assert (m.precision, m.recall, m.f1) == pytest.approx((0.5, 0.5, 0.5))
    # directed pairs across two tables: (amazon_id, google_id)
    d = pair_set_metrics([("a1", "g1"), ("a2", "g2")], [("a1", "g1")], directed=True)
    assert (d.precision, d.recall) == pytest.approx((1.0, 0.5))
    assert pair_set_metrics([("x", "y")], [("y", "x")], directed=True).tp == 0
    # Pairs objects and (k, 2) arrays
    pairs = Pairs.from_arrays(np.array([2, 3]), np.array([1, 4]))
    assert pair_set_metrics(np.array([[1, 2], [4, 3]]), pairs).f1 == 1.0
    assert pair_set_metrics([], []).f1 == 1.0  # nothing to find, nothing predicted
    with pytest.raises(ValueError, match="itself"):
        pair_set_metrics([(1, 1)], [])
