"""Adding and removing items; tombstones in HNSW."""

from __future__ import annotations

import pandas as pd
import pytest

from neardup.errors import InputError
from neardup.index import Index


def _build(corpus: dict[str, str], encoder, **kwargs) -> Index:
    return Index.build(list(corpus.values()), list(corpus), encoder, **kwargs)


@pytest.mark.parametrize("index_type", ["flat", "hnsw"])
def test_added_item_is_found(corpus, encoder, index_type):
    index = _build(corpus, encoder, index_type=index_type)
    index.add(["fresh mango smoothie"], ["n1"])
    assert len(index) == len(corpus) + 1
    assert "n1" in index
    hit = index.search("mango smoothie", k=1)[0][0]
    assert (hit.id, hit.text) == ("n1", "fresh mango smoothie")


def test_add_existing_id_is_refused_and_changes_nothing(corpus, encoder):
    index = _build(corpus, encoder)
    with pytest.raises(InputError) as err:
        index.add(["other text", "more"], ["a1", "zz"])
    assert "'a1'" in str(err.value) and "already in the index" in str(err.value)
    assert len(index) == len(corpus) and "zz" not in index


def test_add_duplicate_new_ids_is_refused(corpus, encoder):
    index = _build(corpus, encoder)
    with pytest.raises(InputError, match="Duplicate ids among the items given: 'n'"):
        index.add(["x", "y"], ["n", "n"])


def test_added_metadata_columns_merge(corpus, encoder):
    meta = pd.DataFrame({"lang": ["en"] * len(corpus)})
    index = _build(corpus, encoder, metadata=meta)
    index.add(["ciao mondo"], ["it1"], metadata=pd.DataFrame({"source": ["web"]}))
    index.add(["bonjour le monde"], ["fr1"])
    assert index.search("ciao mondo", k=1)[0][0].metadata == {"lang": None, "source": "web"}
    assert index.search("bonjour le monde", k=1)[0][0].metadata == {"lang": None, "source": None}
    assert index.search("used cars for sale", k=1)[0][0].metadata == {"lang": "en", "source": None}


@pytest.mark.parametrize("index_type", ["flat", "hnsw"])
def test_removed_items_are_never_returned(corpus, encoder, index_type):
    index = _build(corpus, encoder, index_type=index_type)
    assert index.remove(["b1", "b2"]) == 2
    assert len(index) == len(corpus) - 2
    assert "b1" not in index
    for hits in index.search(["chocolate cake recipe", "easy chocolate cake"], k=len(corpus)):
        ids = [h.id for h in hits]
        assert "b1" not in ids and "b2" not in ids
        # k live results still come back although tombstones may rank first
        assert len(ids) == len(corpus) - 2


def test_hnsw_search_returns_k_live_results_despite_tombstones(corpus, encoder):
    index = _build(corpus, encoder, index_type="hnsw")
    index.remove(["b1", "b2"])
    assert len(index._tombstones) == 2  # noqa: SLF001 - the mechanism under test
    hits = index.search("chocolate cake recipe", k=3)[0]
    assert len(hits) == 3 and not {"b1", "b2"} & {h.id for h in hits}
    index.compact()
    assert not index._tombstones  # noqa: SLF001
    assert index._faiss.ntotal == len(corpus) - 2  # noqa: SLF001
    assert [h.id for h in index.search("chocolate cake recipe", k=3)[0]] == [h.id for h in hits]


def test_remove_then_add_same_id_replaces(corpus, encoder):
    index = _build(corpus, encoder, index_type="hnsw")
    index.remove("a1")
    index.add(["vintage bicycle repair"], ["a1"])
    hits = index.search("vintage bicycle repair", k=1)[0]
    assert (hits[0].id, hits[0].text) == ("a1", "vintage bicycle repair")
    assert "cheap flights to rome" not in [h.text for h in index.search("rome", k=20)[0]]


def test_remove_unknown_ids(corpus, encoder):
    index = _build(corpus, encoder)
    with pytest.raises(InputError) as err:
        index.remove(["a1", "nope", "gone"])
    assert "'nope', 'gone'" in str(err.value) and "missing_ok" in str(err.value)
    assert len(index) == len(corpus)  # nothing removed when refusing
    assert index.remove(["a1", "nope"], missing_ok=True) == 1
    assert index.remove(["nope"], missing_ok=True) == 0
