"""The Deduplicator pipeline on small hand-made collections (no neural model)."""

from __future__ import annotations

import random
import warnings

import numpy as np
import pandas as pd
import pytest

from neardup.dedup import Deduplicator
from neardup.errors import InputError

from fakes import TrigramEncoder


def HashedTrigramEncoder() -> TrigramEncoder:  # noqa: N802 - reads like the class it builds
    return TrigramEncoder(dim=128)


TEXTS = [
    "Samsung Galaxy A54 5G 8GB 256GB black",         # 0  group A
    "Samsung Galaxy A54 5G 8GB/256GB Black!",        # 1  group A
    "samsung galaxy a54 5g 8gb 256gb blck",          # 2  group A (typo)
    "Central bank raises interest rates again",      # 3  group B
    "Central bank raises interest rates again.",     # 4  group B (exact after normalisation)
    "Chocolate cake recipe with dark cocoa",          # 5
    "Weather forecast: sunny weekend in Jakarta",     # 6
    "",                                               # 7  empty
    "Used cars for sale near the river district",    # 8
]
GROUP_A = {"0", "1", "2"}
GROUP_B = {"3", "4"}


def _groups(result) -> set[frozenset[str]]:
    return {frozenset(g) for g in result.groups()}


@pytest.mark.parametrize("cluster", ["components", "leiden", "agglomerative"])
def test_lexical_pipeline_finds_the_groups(cluster: str) -> None:
    result = Deduplicator(None, threshold=0.5, cluster=cluster).deduplicate(TEXTS)
    assert _groups(result) == {frozenset(GROUP_A), frozenset(GROUP_B)}
    assert result.n_rows == len(TEXTS)
    assert result.n_removed == 3
    assert result.empty_rows == [7]
    # every row has a cluster; exactly one representative per cluster
    assert result.labels.shape == (len(TEXTS),)
    reps_per_cluster = np.bincount(result.labels, weights=result.is_representative)
    assert (reps_per_cluster == 1).all()


def test_embedding_pipeline_with_an_encoder() -> None:
    result = Deduplicator(HashedTrigramEncoder(), threshold=0.6).deduplicate(TEXTS)
    assert frozenset(GROUP_A) in _groups(result)
    assert frozenset(GROUP_B) in _groups(result)
    assert result.model == "fake-trigram"
    assert "encode" in result.timings


def test_auto_threshold_is_reported_and_used() -> None:
    result = Deduplicator(HashedTrigramEncoder()).deduplicate(TEXTS)
    assert result.threshold.source.startswith("auto")
    assert np.isfinite(result.threshold.value)
    linked = result.pairs.score[result.pairs.score < 1.0]
    assert (linked >= result.threshold.value - 1e-6).all()


def test_exact_copies_link_with_score_one_and_first_row_represents() -> None:
    texts = ["Hello, World", "b c d e f", "hello world!!", "HELLO WORLD"]
    result = Deduplicator(None, threshold=0.99).deduplicate(texts, ids=["x", "y", "z", "w"])
    assert _groups(result) == {frozenset({"x", "z", "w"})}
    frame = result.pairs_frame()
    assert set(frame["score"]) == {1.0}
    reps = result.clusters_frame().set_index("id")["is_representative"]
    assert reps["x"] and not reps["z"] and not reps["w"] and reps["y"]


def test_longest_representative() -> None:
    texts = ["cheap flights to rome", "cheap flights to rome today only", "pasta recipe"]
    result = Deduplicator(None, threshold=0.5, representative="longest").deduplicate(texts)
    assert result.is_representative.tolist() == [False, True, True]


def test_groups_do_not_depend_on_input_order() -> None:
    ids = [str(i) for i in range(len(TEXTS))]
    reference = _groups(Deduplicator(None, threshold=0.5).deduplicate(TEXTS, ids))
    rng = random.Random(3)
    for _ in range(4):
        order = list(range(len(TEXTS)))
        rng.shuffle(order)
        shuffled = Deduplicator(None, threshold=0.5).deduplicate(
            [TEXTS[i] for i in order], [ids[i] for i in order]
        )
        assert _groups(shuffled) == reference


def test_output_frames_cover_every_row() -> None:
    result = Deduplicator(None, threshold=0.5).deduplicate(TEXTS)
    clusters = result.clusters_frame()
    assert list(clusters.columns) == ["id", "cluster_id", "is_representative"]
    assert clusters["id"].tolist() == [str(i) for i in range(len(TEXTS))]
    pairs = result.pairs_frame()
    assert list(pairs.columns) == ["id_a", "id_b", "score"]
    assert len(pairs) >= 3


def test_single_text_and_all_empty() -> None:
    one = Deduplicator(None).deduplicate(["only one"])
    assert one.n_rows == 1 and one.n_removed == 0
    empty = Deduplicator(None).deduplicate(["", "  ", None])
    assert empty.n_removed == 0 and empty.empty_rows == [0, 1, 2]


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"cluster": "kmeans"}, "kmeans"),
        ({"threshold": 1.5}, "1.5"),
        ({"threshold": "high"}, "high"),
        ({"representative": "median"}, "median"),
        ({"candidates": ["knn"]}, "needs a model"),
        ({"candidates": ["bm25"]}, "bm25"),
        ({"scorer": "magic"}, "magic"),
    ],
)
def test_bad_configuration_is_named(kwargs: dict, needle: str) -> None:
    with pytest.raises(InputError, match=needle):
        Deduplicator(None, **kwargs).deduplicate(TEXTS)


def test_bad_inputs_are_named() -> None:
    with pytest.raises(InputError, match="empty"):
        Deduplicator(None).deduplicate([])
    with pytest.raises(InputError, match="'a'"):
        Deduplicator(None).deduplicate(["x", "y"], ids=["a", "a"])
    with pytest.raises(InputError, match="row 1"):
        Deduplicator(None).deduplicate(["x", ["not", "text"]])


def test_find_leaks_reports_test_rows_from_train() -> None:
    train = ["Central bank raises interest rates again", "Chocolate cake recipe", "Used cars"]
    test = [
        "central bank raises interest rates again!",  # exact after normalisation
        "Central bank raises the interest rates again",  # near
        "A completely different headline about football",
    ]
    leaks = Deduplicator(HashedTrigramEncoder(), threshold=0.8).find_leaks(
        test, train, test_ids=["t0", "t1", "t2"], train_ids=["r0", "r1", "r2"]
    )
    assert leaks.is_leaked.tolist() == [True, True, False]
    frame = leaks.matches_frame()
    assert frame["test_id"].tolist() == ["t0", "t1"]
    assert frame["train_id"].tolist() == ["r0", "r0"]
    assert frame["score"].iloc[0] == 1.0


def test_score_pairs_matches_dedup_scorer() -> None:
    dd = Deduplicator(None)
    scores = dd.score_pairs(["cheap flights to rome", "pasta"], ["cheap flight to rome", "cars"])
    assert scores[0] > 0.6 > scores[1]


def test_sources_restrict_links_to_different_sources() -> None:
    texts = ["red shoes size 42", "red shoes size 42 new", "red shoe size 42", "blue hat"]
    sources = ["shop-a", "shop-a", "shop-b", "shop-b"]
    plain = Deduplicator(None, threshold=0.5, cluster="components").deduplicate(texts)
    assert _groups(plain) == {frozenset({"0", "1", "2"})}
    across = Deduplicator(None, threshold=0.5, cluster="components").deduplicate(
        texts, sources=sources
    )
    for a, b in zip(across.pairs.left.tolist(), across.pairs.right.tolist()):
        assert sources[a] != sources[b]
    assert any(len(g) >= 2 for g in across.groups())


# (Leiden reads the threshold as a CPM resolution, not as a cut, so it is not among these)
@pytest.mark.parametrize("cluster", ["agglomerative", "components"])
def test_a_pair_a_float_rounding_below_the_threshold_links_alike_everywhere(cluster) -> None:
    dd = Deduplicator(None, cluster=cluster)
    texts = ["red cotton shirt size m", "red cotton shirts size m"]
    score = float(dd.candidate_graph(texts).scored.score[0])
    # 5e-7 above the pair's own score: within the clusterings' float32 slack
    result = Deduplicator(None, cluster=cluster, threshold=score + 5e-7).deduplicate(texts)
    assert result.labels.tolist() == [0, 0]
    assert len(result.pairs) == 1  # the link is listed wherever rows were merged


class _ConstantScorer:
    """Scores every candidate pair the same (or NaN for the pairs listed in ``nan``)."""

    name = "constant"

    def __init__(self, value: float, nan: frozenset[tuple[int, int]] = frozenset()) -> None:
        self.value, self.nan = value, nan

    def score(self, texts, embeddings, left, right) -> np.ndarray:
        out = np.full(len(left), self.value, dtype=np.float32)
        for i, pair in enumerate(zip(left.tolist(), right.tolist())):
            if pair in self.nan:
                out[i] = np.nan
        return out


@pytest.mark.parametrize("value", [0.5, 0.9])
@pytest.mark.parametrize("cluster", ["components", "leiden", "agglomerative"])
def test_pairs_scoring_exactly_the_threshold_link_in_every_clustering(cluster, value) -> None:
    texts = ["red cotton shirt", "red cotton shirts", "red cotton shirt!!"]
    result = Deduplicator(None, scorer=_ConstantScorer(value), candidates=("lexical-knn",),
                          threshold=value, cluster=cluster).deduplicate(texts)
    assert result.labels.tolist() == [0, 0, 0]


@pytest.mark.parametrize("cluster", ["components", "leiden", "agglomerative"])
def test_a_scorer_returning_nan_is_refused_naming_the_rows(cluster) -> None:
    texts = ["red cotton shirt", "red cotton shirts", "blue wool hat", "blue wool hats"]
    scorer = _ConstantScorer(0.9, nan=frozenset({(0, 2), (1, 3), (0, 3), (1, 2)}))
    dd = Deduplicator(None, scorer=scorer, candidates=("lexical-knn",), threshold=0.5,
                      cluster=cluster)
    with pytest.raises(InputError, match=r"not a number, the first nan for rows \d and \d"):
        dd.deduplicate(texts)


def test_groups_larger_than_k_are_warned_about() -> None:
    # 12 spellings of one listing, all linked to each other; k=4 cannot list every link
    texts = [f"samsung galaxy a54 5g 8gb 256gb black {'!' * i}x{i}" for i in range(12)]
    dd = Deduplicator(None, scorer=_ConstantScorer(0.9), candidates=("lexical-knn",),
                      threshold=0.5, k=4)
    with pytest.warns(UserWarning, match="k=4 may have split large groups"):
        result = dd.deduplicate(texts)
    assert result.n_rows_at_k > 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # k covering the collection: nothing to warn about
        whole = Deduplicator(None, scorer=_ConstantScorer(0.9), candidates=("lexical-knn",),
                             threshold=0.5, k=11).deduplicate(texts)
    assert whole.n_rows_at_k == 0 and whole.n_clusters == 1


def test_texts_of_symbols_only_are_texts_not_empty_rows() -> None:
    result = Deduplicator(None, threshold=0.5).deduplicate(
        ["😀😀😀", "😀😀😀", "hello world", "", "***", " \u200b "])
    assert result.empty_rows == [3, 5]  # nothing visible
    assert result.labels[0] == result.labels[1]  # identical emoji rows are copies
    assert len(set(result.labels.tolist())) == 5


def test_sources_are_read_by_position_from_a_series() -> None:
    frame = pd.DataFrame({"text": ["zzz unrelated", "acme widget 3000 blue", "acme widget 3000 blu"],
                          "shop": ["b", "a", "a"]}).sort_values("text")  # index 1, 2, 0
    by_series = Deduplicator(None, threshold=0.3).deduplicate(frame["text"], sources=frame["shop"])
    by_list = Deduplicator(None, threshold=0.3).deduplicate(frame["text"].tolist(),
                                                            sources=frame["shop"].tolist())
    assert by_series.groups() == by_list.groups() == []  # the two widgets share a shop


def test_the_shortcut_takes_sources() -> None:
    from neardup.dedup import deduplicate

    assert deduplicate(["a b c", "a b c"], sources=["x", "x"], model=None).groups() == [["0", "1"]]


def test_pandas_missing_text_is_an_empty_row() -> None:
    texts = pd.Series(["hello world", None, "Hello world"], dtype="string")
    result = Deduplicator(None).deduplicate(texts)
    assert result.empty_rows == [1] and result.groups() == [["0", "2"]]


def test_score_pairs_gives_copies_the_score_dedup_links_them_with() -> None:
    dd = Deduplicator(None)
    scores = dd.score_pairs(["Hello World", "***", "", "red apple"], ["hello world!", "***", "",
                                                                      "green pear"])
    assert scores[0] == 1.0 and scores[1] == 1.0
    assert scores[2] == 0.0 and scores[3] < 1.0  # blank texts are never copies


@pytest.mark.parametrize("kwargs, message", [
    ({"candidates": []}, "candidates is empty"),
    ({"candidates": "minhash"}, r"write \['minhash'\]"),
    ({"threshold": None}, "threshold must be a number"),
    ({"k": "5"}, "k must be a whole number"),
    ({"k": 2.5}, "k must be a whole number"),
    ({"minhash_threshold": "x"}, "minhash_threshold"),
])
def test_bad_options_are_named(kwargs: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        Deduplicator(None, **kwargs).deduplicate(["a b", "a c"])


def test_score_pairs_checks_options_as_deduplicate_does() -> None:
    with pytest.raises(InputError, match="scorer 'embedding' needs a model"):
        Deduplicator(None, scorer="embedding").score_pairs(["a"], ["b"])


def test_cluster_graph_refuses_a_threshold_the_constructor_refuses() -> None:
    dd = Deduplicator(None, cluster="leiden")
    graph = dd.candidate_graph(["apple iphone 12", "apple iphone 12 pro", "samsung galaxy"])
    with pytest.raises(InputError, match="threshold 0.0"):
        dd.cluster_graph(graph, 0.0)
    with pytest.raises(InputError, match="threshold nan"):
        dd.cluster_graph(graph, float("nan"))
