"""Embedding stores: chunked encoding into memory or a memory-mapped file, float16 option."""

from __future__ import annotations

import os

import numpy as np
import pytest

from neardup.errors import InputError
from neardup.store import encode_to_store, open_store
from neardup.synth import make_near_duplicates

from fakes import TrigramEncoder

TEXTS = make_near_duplicates(700, seed=21).texts


def test_chunked_memory_store_equals_one_encode_call() -> None:
    enc = TrigramEncoder(dim=48)
    whole = enc.encode(TEXTS, kind="query")
    store = encode_to_store(enc, TEXTS, kind="query", chunk_size=128)
    assert store.kind == "memory" and store.path is None and len(store) == 700
    np.testing.assert_array_equal(store.vectors, whole)
    # one encoder call per chunk, each with the requested kind
    assert enc.calls[1:] == [("query", 128)] * 5 + [("query", 60)]


def test_disk_store_round_trips_through_its_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    enc = TrigramEncoder(dim=48)
    path = tmp_path / "sub" / "emb.npy"
    store = encode_to_store(enc, TEXTS, store="disk", path=path, chunk_size=100)
    assert isinstance(store.vectors, np.memmap) and store.path == path and path.is_file()
    assert not store.vectors.flags.writeable
    again = open_store(path)
    np.testing.assert_array_equal(np.asarray(again.vectors), enc.encode(TEXTS))
    assert again.vectors.dtype == np.float32 and again.dim == 48


def test_float16_store_is_close_and_half_the_size(tmp_path) -> None:  # type: ignore[no-untyped-def]
    enc = TrigramEncoder(dim=48)
    full = encode_to_store(enc, TEXTS)
    half = encode_to_store(enc, TEXTS, store="disk", dtype="float16", path=tmp_path / "h.npy")
    assert half.vectors.dtype == np.float16 and half.nbytes * 2 == full.nbytes
    np.testing.assert_allclose(half.vectors.astype(np.float32), full.vectors, atol=1e-3)
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 700, 500), rng.integers(0, 700, 500)
    cos32 = np.einsum("ij,ij->i", full.vectors[a], full.vectors[b])
    cos16 = np.einsum("ij,ij->i", half.vectors[a].astype(np.float32),
                      half.vectors[b].astype(np.float32))
    assert np.abs(cos32 - cos16).max() < 2e-3


def test_temporary_disk_store_leaves_no_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = encode_to_store(TrigramEncoder(), TEXTS, store="disk", directory=tmp_path)
    assert store.path is None and isinstance(store.vectors, np.memmap)
    assert float(np.abs(store.vectors).sum()) > 0  # still readable
    if os.name == "posix":
        assert list(tmp_path.iterdir()) == []


def test_store_errors(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match="embedding store must be one of"):
        encode_to_store(TrigramEncoder(), TEXTS, store="cloud")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="embedding dtype"):
        encode_to_store(TrigramEncoder(), TEXTS, dtype="int8")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="only used by the disk store"):
        encode_to_store(TrigramEncoder(), TEXTS, path=tmp_path / "x.npy")
    with pytest.raises(InputError, match="no embedding store"):
        open_store(tmp_path / "missing.npy")
    np.save(tmp_path / "ints.npy", np.zeros((3, 2), np.int32))
    with pytest.raises(InputError, match="2-D float32 or float16"):
        open_store(tmp_path / "ints.npy")
    empty = encode_to_store(TrigramEncoder(dim=8), [])
    assert empty.vectors.shape == (0, 8)


def test_an_empty_disk_store_is_written_and_reopens(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "empty.npy"
    store = encode_to_store(TrigramEncoder(dim=48), [], store="disk", path=path,
                            dtype="float16")
    assert store.kind == "disk" and store.path == path and len(store) == 0
    again = open_store(path)
    assert again.vectors.shape == (0, 48) and again.vectors.dtype == np.float16


class _ShortChunks:
    """Encodes the first chunk right and later ones with a single row."""

    name, dim = "short-chunks", 4

    def __init__(self) -> None:
        self.calls = 0

    def encode(self, texts, *, kind="passage", batch_size=64, show_progress=False):  # noqa: ANN001
        self.calls += 1
        rows = len(texts) if self.calls == 1 else 1
        return np.random.default_rng(self.calls).normal(size=(rows, 4)).astype(np.float32)


@pytest.mark.parametrize("store", ["memory", "disk"])
def test_every_chunk_is_checked_not_just_the_first(store: str, tmp_path) -> None:  # noqa: ANN001
    # a (1, dim) block would otherwise be copied to every row of its chunk
    with pytest.raises(InputError, match=r"returned shape \(1, 4\) for 3 texts"):
        encode_to_store(_ShortChunks(), list("abcdefgh"), chunk_size=3, store=store,
                        directory=tmp_path if store == "disk" else None)


def test_empty_disk_store_is_written_at_the_path_given(tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "empty.bin"
    st = encode_to_store(TrigramEncoder(), [], store="disk", path=path)
    assert st.vectors.shape[0] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.bin"]
    assert open_store(path).vectors.shape == st.vectors.shape


def test_a_file_that_is_not_a_store_is_named(tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "x.npy"
    path.write_text("hello\n")
    with pytest.raises(InputError, match="not an embedding store") as err:
        open_store(path)
    assert "pickle" not in str(err.value)
