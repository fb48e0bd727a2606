"""Scored-pair metrics and correlations: hand-computed toys, then sklearn/scipy cross-checks."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm

from neardup.evaluate.metrics import (
    average_precision,
    best_accuracy_threshold,
    best_f1_threshold,
    pair_metrics,
    pearson,
    spearman,
)


# --- average precision -------------------------------------------------------------------------


def test_ap_toy() -> None:
    # ranks: 1 (pos, P=1), 2 (neg), 3 (pos, P=2/3), 4 (neg)
    assert average_precision([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1]) == pytest.approx((1 + 2 / 3) / 2)


def test_ap_ties_enter_together() -> None:
    # groups: .9 -> tp1 fp0 (P=1, R=1/3); .5 -> tp2 fp1 (P=2/3, R=2/3); .2 -> tp3 fp1 (P=3/4, R=1)
    # AP = 1/3 * (1 + 2/3 + 3/4) = 29/36. Breaking the tie positive-first would give 11/12.
    assert average_precision([1, 1, 0, 1], [0.9, 0.5, 0.5, 0.2]) == pytest.approx(29 / 36)


def test_ap_perfect_and_bool_labels() -> None:
    assert average_precision([True, True, False], [3.0, 2.0, 1.0]) == 1.0


def test_ap_no_positive_is_nan_with_warning() -> None:
    with pytest.warns(RuntimeWarning, match="no positive"):
        assert math.isnan(average_precision([0, 0], [0.1, 0.2]))


def test_ap_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="position 1 is 2"):
        average_precision([1, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="3 labels but 2 scores"):
        average_precision([1, 0, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match="finite"):
        average_precision([1, 0], [np.nan, 0.2])


# --- best thresholds ---------------------------------------------------------------------------


def test_best_f1_toy() -> None:
    # t=.9: F1 2/3; t=.8: 1/2; t=.7: tp2 fp1 fn0 -> 4/5; t=.1: 2/3
    r = best_f1_threshold([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1])
    assert r.threshold == pytest.approx(0.7)
    assert r.f1 == pytest.approx(0.8)
    assert r.precision == pytest.approx(2 / 3)
    assert r.recall == 1.0
    assert r.accuracy == pytest.approx(3 / 4)


def test_best_f1_ties_cannot_be_split() -> None:
    # Both .5 pairs are predicted together: tp2 fp1 -> F1 0.8, not the 1.0 a per-item sweep
    # that puts the positive first would claim.
    r = best_f1_threshold([1, 0, 1], [0.9, 0.5, 0.5])
    assert (r.threshold, r.f1, r.precision, r.recall) == pytest.approx((0.5, 0.8, 2 / 3, 1.0))


def test_best_f1_equal_f1_prefers_highest_threshold() -> None:
    # t=.9: tp1 fn1 -> 2/3; t=.7: tp2 fp2 -> 2/3; t=.1: tp2 fp3 -> 4/7
    r = best_f1_threshold([1, 0, 1, 0, 0], [0.9, 0.7, 0.7, 0.7, 0.1])
    assert r.threshold == pytest.approx(0.9)
    assert (r.precision, r.recall, r.accuracy) == pytest.approx((1.0, 0.5, 0.8))


def test_best_f1_no_positive_predicts_nothing() -> None:
    r = best_f1_threshold([0, 0], [0.3, 0.6])
    assert r.f1 == 0.0 and r.accuracy == 1.0 and r.threshold > 0.6


def test_best_accuracy_can_predict_nothing() -> None:
    # predict nothing: 3/4 correct; t=.3: tp1 fp1 -> also 3/4; ties go to the highest threshold
    r = best_accuracy_threshold([0, 0, 0, 1], [0.9, 0.1, 0.2, 0.3])
    assert r.accuracy == pytest.approx(0.75)
    assert r.threshold > 0.9
    r = best_accuracy_threshold([1, 1, 0, 0], [0.9, 0.8, 0.7, 0.1])
    assert (r.threshold, r.accuracy, r.f1) == pytest.approx((0.8, 1.0, 1.0))


def test_pair_metrics_given_and_best() -> None:
    y, s = [1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1]
    m = pair_metrics(y, s, threshold=0.75)  # predicts the first two: tp1 fp1 fn1
    assert (m.precision, m.recall, m.f1, m.accuracy) == pytest.approx((0.5, 0.5, 0.5, 0.5))
    assert m.ap == pytest.approx(5 / 6) and m.threshold_source == "given"
    best = pair_metrics(y, s)
    assert best.threshold == pytest.approx(0.7) and best.f1 == pytest.approx(0.8)
    assert best.threshold_source == "best_f1" and best.n_pairs == 4 and best.n_positive == 2
    assert set(best.as_dict()) >= {"accuracy", "precision", "recall", "f1", "ap", "threshold"}


def test_pair_metrics_match_sklearn_on_random_data() -> None:
    rng = np.random.default_rng(0)
    for _ in range(40):
        n = int(rng.integers(2, 80))
        y = rng.integers(0, 2, n)
        y[0] = 1
        s = rng.integers(0, 8, n) / 7.0  # coarse scores: many ties
        assert average_precision(y, s) == pytest.approx(skm.average_precision_score(y, s))
        best = best_f1_threshold(y, s)
        pred = (s >= best.threshold).astype(int)
        assert best.f1 == pytest.approx(skm.f1_score(y, pred))
        assert best.precision == pytest.approx(skm.precision_score(y, pred))
        assert best.recall == pytest.approx(skm.recall_score(y, pred))
        assert best.accuracy == pytest.approx(skm.accuracy_score(y, pred))
        # no threshold does better
        brute = max(skm.f1_score(y, (s >= t).astype(int)) for t in np.unique(s))
        assert best.f1 == pytest.approx(brute)
        t = float(rng.choice(s))
        m = pair_metrics(y, s, t)
        assert m.f1 == pytest.approx(skm.f1_score(y, (s >= t).astype(int), zero_division=0))
        acc = best_accuracy_threshold(y, s)
        assert acc.accuracy == pytest.approx(skm.accuracy_score(y, (s >= acc.threshold)))


# --- correlation -------------------------------------------------------------------------------


def test_spearman_ties_toy() -> None:
    # ranks x: [1, 2.5, 2.5, 4], y: [1, 2, 3, 4]; centred dot 4.5, norms^2 4.5 and 5
    assert spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(4.5 / math.sqrt(4.5 * 5))


def test_pearson_toy() -> None:
    # dx = [-1, 0, 1], dy = [-7/3, -1/3, 8/3]: r = 5 / sqrt(2 * 114/9)
    assert pearson([1, 2, 3], [2, 4, 7]) == pytest.approx(5 / math.sqrt(2 * 114 / 9))


def test_correlation_of_constant_is_nan_with_warning() -> None:
    with pytest.warns(RuntimeWarning, match="constant"):
        assert math.isnan(spearman([1, 1, 1], [1, 2, 3]))


def test_correlations_match_scipy_with_ties() -> None:
    rng = np.random.default_rng(1)
    for _ in range(30):
        n = int(rng.integers(3, 60))
        x = rng.integers(0, 5, n).astype(float)
        y = x + rng.integers(0, 4, n)
        if np.unique(x).size < 2 or np.unique(y).size < 2:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic)
            assert pearson(x, y) == pytest.approx(stats.pearsonr(x, y).statistic)
