"""Threshold sweeps over a black-box clustering function."""

from __future__ import annotations

import numpy as np
import pytest

from neardup.errors import InputError
from neardup.evaluate.thresholds import best_threshold, sweep_cluster_threshold, threshold_grid

TRUE = np.array([0, 0, 1, 1, 2])
BY_THRESHOLD = {
    0.9: np.array([0, 1, 2, 3, 4]),  # too strict: all singletons
    0.8: np.array([0, 0, 1, 1, 2]),  # right
    0.5: np.array([0, 0, 0, 0, 0]),  # too loose: one cluster
}


def test_sweep_and_best() -> None:
    calls: list[float] = []

    def cluster_fn(t: float) -> np.ndarray:
        calls.append(t)
        return BY_THRESHOLD[t]

    sweep = sweep_cluster_threshold(TRUE, cluster_fn, [0.9, 0.8, 0.5])
    assert calls == [0.9, 0.8, 0.5]
    threshold, metrics = sweep[1]  # unpacks as a tuple
    assert threshold == 0.8 and metrics.row_f1 == 1.0
    assert sweep[0].metrics.pair_recall == 0.0
    assert best_threshold(sweep).threshold == 0.8
    # recall is maximised by merging everything; the first of equal points wins
    assert best_threshold(sweep, "pair_recall").threshold == 0.8


def test_best_threshold_errors() -> None:
    sweep = sweep_cluster_threshold(TRUE, BY_THRESHOLD.__getitem__, [0.8])
    with pytest.raises(InputError, match="unknown metric 'f2'.*row_f1"):
        best_threshold(sweep, "f2")
    with pytest.raises(ValueError, match="empty sweep"):
        best_threshold([])
    with pytest.raises(ValueError, match=r"returned 2 labels for 5 items"):
        sweep_cluster_threshold(TRUE, lambda t: np.array([0, 1]), [0.5])


def test_threshold_grid() -> None:
    assert threshold_grid([0.2, 0.9, 0.2, 0.5]) == [0.9, 0.5, 0.2]
    assert threshold_grid([0.2, 0.9, 0.5], descending=False) == [0.2, 0.5, 0.9]
    grid = threshold_grid(np.linspace(0, 1, 1001), max_candidates=11)
    assert len(grid) == 11 and grid[0] == 1.0 and grid[-1] == 0.0
    assert all(v in np.linspace(0, 1, 1001) for v in grid)  # still score values
