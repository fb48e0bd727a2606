"""The Deduplicator gives the same result whichever embedding store it uses."""

from __future__ import annotations

import numpy as np
import pytest

from neardup.dedup import Deduplicator
from neardup.errors import InputError
from neardup.synth import make_near_duplicates

from fakes import TrigramEncoder


def run(texts: list[str], **store: str):  # type: ignore[no-untyped-def]
    return Deduplicator(TrigramEncoder(dim=96), **store).deduplicate(texts)


def test_memory_and_disk_stores_give_identical_results(tmp_path) -> None:  # type: ignore[no-untyped-def]
    texts = make_near_duplicates(600, seed=31).texts
    memory = run(texts)
    disk = run(texts, embedding_store="disk", embedding_dir=str(tmp_path))
    np.testing.assert_array_equal(memory.labels, disk.labels)
    np.testing.assert_array_equal(memory.is_representative, disk.is_representative)
    np.testing.assert_array_equal(memory.pairs.score, disk.pairs.score)
    assert memory.threshold == disk.threshold and memory.n_duplicate_groups > 20
    assert list(tmp_path.iterdir()) == []  # the temporary store is gone


def test_float16_store_gives_nearly_the_same_groups() -> None:
    texts = make_near_duplicates(600, seed=32).texts
    full = run(texts)
    half = run(texts, embedding_dtype="float16")
    from neardup.evaluate.metrics import pairwise_cluster_metrics

    assert pairwise_cluster_metrics(full.labels, half.labels).f1 > 0.97


def test_unknown_store_is_an_input_error() -> None:
    with pytest.raises(InputError, match="embedding_store must be one of"):
        run(["a b", "a c"], embedding_store="cloud")


def test_missing_embedding_dir_is_refused_before_encoding(tmp_path) -> None:
    from neardup.dedup import Deduplicator
    from neardup.errors import InputError

    dd = Deduplicator(None, embedding_store="disk", embedding_dir=str(tmp_path / "missing"))
    with pytest.raises(InputError, match="not an existing folder"):
        dd.deduplicate(["a b c", "a b c d"])


def test_find_leaks_uses_the_embedding_store(tmp_path, monkeypatch) -> None:
    import neardup.store as store

    used = []
    original = store.encode_to_store
    monkeypatch.setattr(store, "encode_to_store",
                        lambda *a, **kw: used.append(kw["dtype"]) or original(*a, **kw))
    test = ["red apple pie recipe", "blue sky today"]
    train = ["red apple pie recipe!", "green tea leaves"]
    memory = Deduplicator(TrigramEncoder(), threshold=0.8).find_leaks(test, train)
    disk = Deduplicator(TrigramEncoder(), threshold=0.8, embedding_store="disk",
                        embedding_dtype="float16", embedding_dir=str(tmp_path)).find_leaks(
        test, train)
    assert used == ["float16"]
    assert disk.is_leaked.tolist() == memory.is_leaked.tolist() == [True, False]
    assert list(tmp_path.iterdir()) == []
