"""Unit tests for neardup.threshold on synthetic score distributions."""

from __future__ import annotations

import numpy as np
import pytest

from neardup.threshold import (
    COMPONENTS_THRESHOLDS,
    MODEL_THRESHOLDS,
    ThresholdChoice,
    auto_threshold,
    constant_threshold,
    mixture_threshold,
    otsu_threshold,
    valley_threshold,
)


def _bimodal(seed: int = 0, n_neg: int = 5000, n_pos: int = 400) -> np.ndarray:
    rng = np.random.default_rng(seed)
    neg = rng.normal(0.2, 0.06, n_neg)
    pos = rng.normal(0.7, 0.08, n_pos)
    return np.clip(np.concatenate([neg, pos]), 0, 1)


@pytest.mark.parametrize("method", ["mixture", "otsu", "valley"])
def test_auto_threshold_separates_two_populations(method: str) -> None:
    s = _bimodal()
    choice = auto_threshold(s, method=method)  # type: ignore[arg-type]
    assert isinstance(choice, ThresholdChoice)
    assert choice.method == method
    assert 0.3 < choice.value < 0.6
    assert choice.details["n_scores"] == s.size


def test_mixture_details_and_determinism() -> None:
    s = _bimodal(1)
    t1, d = mixture_threshold(s)
    t2, _ = mixture_threshold(s)
    assert t1 == t2
    assert d["means"][0] < t1 < d["means"][1]
    assert abs(d["means"][0] - 0.2) < 0.03 and abs(d["means"][1] - 0.7) < 0.05
    assert sum(d["weights"]) == pytest.approx(1.0)


def test_mixture_ignores_non_finite_and_order() -> None:
    s = _bimodal(2)
    noisy = np.concatenate([s, [np.nan, np.inf]])
    assert mixture_threshold(noisy)[0] == pytest.approx(mixture_threshold(s[::-1])[0])


def test_threshold_tracks_shift_of_distribution() -> None:
    s = _bimodal(3)
    shifted = np.clip(s + 0.1, 0, 1)
    assert auto_threshold(shifted).value > auto_threshold(s).value + 0.05


def test_bounds_clip() -> None:
    s = _bimodal(4)
    assert auto_threshold(s, bounds=(0.6, 0.9)).value == pytest.approx(0.6)


def test_degenerate_inputs() -> None:
    with pytest.raises(ValueError):
        mixture_threshold(np.array([0.5, 0.6]))
    with pytest.raises(ValueError):
        otsu_threshold(np.array([]))
    assert otsu_threshold(np.full(10, 0.4)) == pytest.approx(0.4)
    # a unimodal sample still yields a finite threshold inside the data range
    u = np.random.default_rng(5).normal(0.5, 0.1, 1000)
    assert u.min() <= valley_threshold(u) <= u.max()
    with pytest.raises(ValueError, match="unknown threshold method"):
        auto_threshold(u, method="bogus")  # type: ignore[arg-type]


def test_constant_threshold_table() -> None:
    assert MODEL_THRESHOLDS, "the per-scorer constants table must not be empty"
    name = next(iter(MODEL_THRESHOLDS))
    c = auto_threshold(np.zeros(3), method="constant", scorer_name=name)
    assert c.value == constant_threshold(name) and c.method == "constant"
    with pytest.raises(ValueError, match="no constant threshold"):
        constant_threshold("no-such-scorer")
    with pytest.raises(ValueError):
        auto_threshold(np.zeros(3), method="constant")


def test_upper_fraction_ignores_far_negative_mass() -> None:
    rng = np.random.default_rng(6)
    far = rng.exponential(0.05, 4000)  # skewed bulk of far neighbours
    near = rng.normal(0.3, 0.05, 4000)
    dup = rng.normal(0.75, 0.07, 800)
    s = np.clip(np.concatenate([far, near, dup]), 0, 1)
    upper = auto_threshold(s, upper_fraction=0.5)
    assert 0.4 < upper.value < 0.65
    assert "fit_above" in upper.details
    everything = auto_threshold(s, upper_fraction=1.0)
    assert "fit_above" not in everything.details
    with pytest.raises(ValueError):
        auto_threshold(s, upper_fraction=0.0)


def test_components_table() -> None:
    assert constant_threshold("default", linkage="components") > constant_threshold("default")


def test_scorer_alias_is_recorded_and_used_for_constant() -> None:
    s = _bimodal(7)
    assert auto_threshold(s, scorer="default").details["scorer"] == "default"
    c = auto_threshold(s, method="constant", scorer="default")
    assert c.value == MODEL_THRESHOLDS["default"]


def test_guard_band_around_known_constant() -> None:
    rng = np.random.default_rng(8)
    # tiny-collection shape: a very narrow peak of unrelated pairs near 0 plus a wide tail
    s = np.clip(np.concatenate([rng.normal(0.03, 0.01, 1500), rng.normal(0.5, 0.3, 200)]), 0, 1)
    raw = auto_threshold(s)
    guarded = auto_threshold(s, scorer="default")
    c = MODEL_THRESHOLDS["default"]
    assert raw.value < c - 0.1
    assert guarded.value == pytest.approx(c - 0.1)
    assert guarded.details["unguarded"] == pytest.approx(raw.value)
    assert auto_threshold(s, scorer="default", guard=None).value == pytest.approx(raw.value)
    assert auto_threshold(s, scorer="unknown-scorer").value == pytest.approx(raw.value)


def test_too_few_scores_fall_back_to_the_recorded_constant() -> None:
    from neardup.threshold import MODEL_THRESHOLDS, auto_threshold

    choice = auto_threshold(np.array([0.9, 0.1, 0.5]), scorer="default")
    assert choice.method == "constant"
    assert choice.value == MODEL_THRESHOLDS["default"]
    assert "fewer than" in choice.details["fallback"]
    assert auto_threshold(np.array([0.9]), scorer="unknown-scorer").value == 0.5


def test_sparse_duplicates_are_found_by_the_top_quarter() -> None:
    # a collection where 3 % of the candidate pairs are duplicates: the half above the median
    # is still mostly near misses, and a mixture fitted to it cuts among them
    rng = np.random.default_rng(0)
    unrelated = np.clip(rng.gamma(2.0, 0.08, 20000), 0, 1)
    dup = np.clip(rng.normal(0.8, 0.06, 600), 0, 1)
    s = np.concatenate([unrelated, dup])

    def f1(t: float) -> float:
        hits = (dup >= t).sum()
        return 2 * hits / (hits + (unrelated >= t).sum() + dup.size)

    default = auto_threshold(s, guard=None)
    assert default.details["fit_above"] == pytest.approx(np.quantile(s, 0.75))
    half = auto_threshold(s, upper_fraction=0.5, guard=None)
    assert default.value > half.value + 0.03
    assert f1(default.value) > f1(half.value) + 0.1


def test_components_threshold_moves_by_the_recorded_constants() -> None:
    rng = np.random.default_rng(6)
    s = np.clip(np.concatenate([rng.normal(0.15, 0.06, 3000), rng.normal(0.6, 0.08, 600)]), 0, 1)
    average = auto_threshold(s, scorer="default", guard=None)
    chained = auto_threshold(s, scorer="default", linkage="components", guard=None)
    shift = COMPONENTS_THRESHOLDS["default"] - MODEL_THRESHOLDS["default"]
    assert chained.value == pytest.approx(average.value + shift)
    assert chained.details["components_shift"] == pytest.approx(shift)
    # a scorer without recorded constants has nothing to move by
    assert auto_threshold(s, scorer="mine", linkage="components").value == pytest.approx(
        auto_threshold(s, scorer="mine").value)


def test_valley_is_between_the_modes_not_inside_the_larger_one() -> None:
    # a flat-topped or wiggly big mode has several local maxima; the valley must still be the
    # gap between the unrelated pairs and the duplicates
    flat = np.r_[np.repeat(np.linspace(0.1, 0.4, 30), 10), np.repeat(np.linspace(0.8, 0.95, 15), 4)]
    assert 0.4 < valley_threshold(flat) < 0.8
    rng = np.random.default_rng(0)
    noisy = np.r_[rng.normal(0.3, 0.05, 2000), rng.normal(0.85, 0.03, 200)]
    assert 0.45 < valley_threshold(noisy) < 0.75


@pytest.mark.parametrize("method", ["mixture", "otsu", "valley"])
def test_automatic_threshold_stays_above_zero(method: str) -> None:
    # scores all 0 or below, for a scorer with no recorded constant (no guard band): the
    # clusterings refuse a threshold <= 0, and nothing scored 0 should link
    from neardup.cluster import agglomerative
    from neardup.pairs import Pairs

    for scores in (np.zeros(30), np.full(30, -0.2)):
        t = auto_threshold(scores, method=method, scorer="my-scorer").value  # type: ignore[arg-type]
        assert t > 0
        pairs = Pairs.from_arrays(np.arange(30), np.arange(1, 31), scores)
        assert np.unique(agglomerative(31, pairs, threshold=t)).size == 31


def test_bad_method_or_fraction_fails_on_small_collections_too() -> None:
    for n in (10, 30):
        with pytest.raises(ValueError, match="unknown threshold method"):
            auto_threshold(np.full(n, 0.5), method="otsu ")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="upper_fraction"):
            auto_threshold(np.full(n, 0.5), upper_fraction=5.0)


def test_small_positive_thresholds_are_kept_and_bounds_hold() -> None:
    rng = np.random.default_rng(0)
    tiny = np.r_[rng.normal(0.0002, 5e-5, 500), rng.normal(0.0008, 5e-5, 100)].clip(0)
    t = auto_threshold(tiny, guard=None).value
    assert 0.0002 < t < 0.0008  # between the two populations, not floored to 0.001
    assert auto_threshold(np.zeros(100), method="otsu", bounds=(0, 0.0005)).value == 0.0005


def test_the_guard_band_applies_to_dense_candidate_graphs_only() -> None:
    from neardup.threshold import GUARD_MIN_DENSITY

    rng = np.random.default_rng(8)
    s = np.clip(np.concatenate([rng.normal(0.03, 0.01, 1500), rng.normal(0.5, 0.3, 200)]), 0, 1)
    c = MODEL_THRESHOLDS["default"]
    raw = auto_threshold(s).value
    # a tiny collection, nearly every pair a candidate: the band holds the degenerate fit
    dense = auto_threshold(s, scorer="default", density=GUARD_MIN_DENSITY)
    assert dense.value == pytest.approx(c - 0.1) and dense.details["density"] == GUARD_MIN_DENSITY
    # a larger collection: the collection's own fit stands
    sparse = auto_threshold(s, scorer="default", density=0.05)
    assert sparse.value == pytest.approx(raw) and "unguarded" not in sparse.details


def test_dedup_passes_the_density_of_its_candidate_graph() -> None:
    from neardup.dedup import Deduplicator
    from neardup.synth import make_near_duplicates

    texts = list(make_near_duplicates(400, seed=2).texts)
    dd = Deduplicator(model=None)
    graph = dd.candidate_graph(texts)
    n = len(graph.collapsed.texts)  # distinct texts after normalisation
    density = dd.deduplicate(texts).threshold.details["density"]
    assert density == pytest.approx(len(graph.scored) / (n * (n - 1) / 2))
    assert dd.graph_threshold(graph).details["density"] == density  # what evaluate reports
