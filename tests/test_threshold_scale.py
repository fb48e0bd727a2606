"""The mixture threshold fits an even quantile subsample of very many scores."""

from __future__ import annotations

import numpy as np

from neardup.threshold import MIXTURE_MAX_SCORES, auto_threshold, mixture_threshold


def two_populations(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    far = rng.normal(0.3, 0.06, int(n * 0.8))
    dup = rng.normal(0.7, 0.08, n - far.size)
    return np.clip(np.concatenate([far, dup]), 0, 1)


def test_many_scores_are_subsampled_and_give_the_full_fit() -> None:
    scores = two_populations(5 * MIXTURE_MAX_SCORES, seed=0)
    choice = auto_threshold(scores, upper_fraction=1.0, guard=None)
    assert choice.details["fit_subsampled_from"] == scores.size
    full, _ = mixture_threshold(scores)
    assert abs(choice.value - full) < 2e-3
    # the order of the scores does not matter
    shuffled = np.random.default_rng(1).permutation(scores)
    assert auto_threshold(shuffled, upper_fraction=1.0, guard=None).value == choice.value


def test_few_scores_are_all_used() -> None:
    scores = two_populations(20_000, seed=2)
    choice = auto_threshold(scores, upper_fraction=1.0, guard=None)
    assert "fit_subsampled_from" not in choice.details
    assert choice.value == mixture_threshold(scores)[0]
