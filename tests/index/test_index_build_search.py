"""Building and searching an in-memory index."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neardup.errors import InputError
from neardup.index import Index, SearchHit
from neardup.index import core


def _build(corpus: dict[str, str], encoder, **kwargs) -> Index:
    return Index.build(list(corpus.values()), list(corpus), encoder, **kwargs)


@pytest.mark.parametrize("index_type", ["flat", "hnsw"])
def test_exact_text_is_the_top_hit(corpus, encoder, index_type):
    index = _build(corpus, encoder, index_type=index_type)
    hits = index.search("chocolate cake recipe", k=3)[0]
    assert len(index) == len(corpus)
    assert index.index_type == index_type
    assert isinstance(hits[0], SearchHit)
    assert hits[0].id == "b1"
    assert hits[0].text == "chocolate cake recipe"
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert hits[1].id == "b2"
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_passages_and_queries_use_their_prompt_kind(corpus, encoder):
    index = _build(corpus, encoder)
    index.search(["rome", "paris"])
    assert encoder.calls == [("passage", len(corpus)), ("query", 2)]


def test_one_result_list_per_query_and_str_query(corpus, encoder):
    index = _build(corpus, encoder)
    assert len(index.search(["rome", "cake", "cars"], k=2)) == 3
    assert [h.id for h in index.search("used cars", k=1)[0]] == ["e1"]
    assert index.search([], k=3) == []


def test_k_larger_than_index_returns_everything_sorted(corpus, encoder):
    index = _build(corpus, encoder)
    hits = index.search("flights", k=1000)[0]
    assert sorted(h.id for h in hits) == sorted(corpus)
    keys = [(-h.score, h.id) for h in hits]
    assert keys == sorted(keys)


def test_ties_are_ordered_by_id(encoder):
    # identical texts get identical scores: order must not depend on insertion order
    index = Index.build(["same text"] * 4, ["d", "b", "c", "a"], encoder)
    assert [h.id for h in index.search("same text", k=4)[0]] == ["a", "b", "c", "d"]
    assert [h.id for h in index.search("same text", k=2)[0]] == ["a", "b"]


@pytest.mark.parametrize("k", [0, -1, 1.5, True])
def test_invalid_k_is_refused(corpus, encoder, k):
    index = _build(corpus, encoder)
    with pytest.raises(InputError, match="k must be a positive integer"):
        index.search("x", k=k)


def test_metadata_comes_back_as_plain_python(corpus, encoder):
    meta = pd.DataFrame(
        {"lang": ["en"] * len(corpus), "year": np.arange(2000, 2000 + len(corpus))}
    )
    index = _build(corpus, encoder, metadata=meta)
    hit = index.search("used cars for sale", k=1)[0][0]
    assert hit.metadata == {"lang": "en", "year": 2007}
    assert type(hit.metadata["year"]) is int


def test_reserved_metadata_column_is_refused(corpus, encoder):
    meta = pd.DataFrame({"text": ["x"] * len(corpus)})
    with pytest.raises(InputError, match="'text' clashes"):
        _build(corpus, encoder, metadata=meta)


def test_metadata_row_count_must_match(corpus, encoder):
    with pytest.raises(InputError, match="metadata has 1 rows for 8 texts"):
        _build(corpus, encoder, metadata=pd.DataFrame({"lang": ["en"]}))


def test_duplicate_ids_in_build_are_refused(encoder):
    with pytest.raises(InputError) as err:
        Index.build(["a", "b", "c", "d"], ["x", "y", "x", "y"], encoder)
    assert "'x', 'y'" in str(err.value)
    assert "unique" in str(err.value)


def test_texts_and_ids_must_pair_up(encoder):
    with pytest.raises(InputError, match="3 texts but 2 ids"):
        Index.build(["a", "b", "c"], ["1", "2"], encoder)


def test_non_string_text_is_refused(encoder):
    with pytest.raises(InputError, match=r"texts\[1\] is a int"):
        Index.build(["a", 5], ["1", "2"], encoder)


def test_auto_picks_flat_when_small_and_hnsw_from_the_threshold(corpus, encoder, monkeypatch):
    assert _build(corpus, encoder).index_type == "flat"
    monkeypatch.setattr(core, "AUTO_HNSW_THRESHOLD", 5)
    index = _build(corpus, encoder)
    assert index.index_type == "hnsw"
    assert index.index_params["M"] == core.HNSW_M


def test_unknown_index_type_is_refused(corpus, encoder):
    with pytest.raises(InputError, match="'auto', 'flat' or 'hnsw'"):
        _build(corpus, encoder, index_type="ivf")


def test_empty_index_can_grow(encoder):
    index = Index.build([], [], encoder)
    assert len(index) == 0
    assert index.search(["anything"], k=3) == [[]]
    index.add(["hello world"], ["h"])
    assert [h.id for h in index.search("hello", k=3)[0]] == ["h"]


def test_a_search_without_ties_or_removals_runs_faiss_once(corpus, encoder, monkeypatch):
    index = Index.build(list(corpus.values()), list(corpus), encoder)
    calls = []
    original = index._raw_search
    monkeypatch.setattr(index, "_raw_search", lambda v, n: calls.append(n) or original(v, n))
    hits = index.search(["chocolate cake recipe"], k=2)[0]
    assert [h.id for h in hits] == ["b1", "b2"]
    assert calls == [3]  # k plus one, to see whether a tie crosses the cut
