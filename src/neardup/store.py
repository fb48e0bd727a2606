"""Where a collection's embeddings live while it is deduplicated: in memory or on disk.

A million 384-d float32 vectors take 1.5 GB. :func:`encode_to_store` encodes texts in chunks of
``chunk_size`` and writes each chunk into a preallocated array, so the encoder never holds
more than one chunk's output, and the array can be:

- ``"memory"``: an ordinary numpy array;
- ``"disk"``: a ``.npy`` file opened as a numpy memmap (``numpy.lib.format.open_memmap``): the
  operating system keeps in RAM only the pages recently read and can drop them under memory
  pressure. Downstream code (kNN search, pair scoring) reads it block by block or by row.

``dtype="float16"`` halves either; a float16 cosine differs from the float32 one by about
1e-3 (float16 keeps 11 significant bits), which moves few pairs across a threshold, but it
is not bit-identical: keep float32 where results must match exactly.

A store written to a named ``path`` is kept and can be reopened with :func:`open_store`
(float16 or float32, shape and dtype come from the ``.npy`` header). Without a path the file
is temporary: created in ``directory`` (default: the system temporary folder; pick a folder
on disk, not a RAM-backed ``/tmp``) and removed when the array is no longer referenced.
"""

from __future__ import annotations

import os
import tempfile
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from neardup.errors import InputError
from neardup.models.base import Encoder, TextKind

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "EmbeddingStore",
    "StoreKind",
    "encode_to_store",
    "open_store",
]

StoreKind = Literal["memory", "disk"]
StoreDtype = Literal["float32", "float16"]
STORE_KINDS: tuple[str, ...] = ("memory", "disk")
STORE_DTYPES: tuple[str, ...] = ("float32", "float16")

#: Texts per encoder call: large enough for the encoder to batch well, small enough that
#: its output and working memory stay small (16,384 x 384 float32 = 25 MB).
DEFAULT_CHUNK_SIZE = 16_384


@dataclass(frozen=True)
class EmbeddingStore:
    """Encoded vectors and where they live.

    ``vectors`` is ``(n, dim)`` float32 or float16: a numpy array (``kind="memory"``) or a
    read-only ``numpy.memmap`` of a ``.npy`` file (``kind="disk"``; ``path`` is None when the
    file is temporary). ``seconds`` is the time spent encoding.
    """

    vectors: np.ndarray
    kind: str
    path: Path | None
    seconds: float

    def __len__(self) -> int:
        return int(self.vectors.shape[0])

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    @property
    def nbytes(self) -> int:
        return int(self.vectors.nbytes)


def _check(store: str, dtype: str, chunk_size: int) -> None:
    if store not in STORE_KINDS:
        raise InputError(f"embedding store must be one of {', '.join(STORE_KINDS)}, got {store!r}")
    if dtype not in STORE_DTYPES:
        raise InputError(
            f"embedding dtype must be one of {', '.join(STORE_DTYPES)}, got {dtype!r}"
        )
    if chunk_size < 1:
        raise InputError(f"chunk_size must be positive, got {chunk_size}")


def encode_to_store(
    encoder: Encoder,
    texts: Sequence[str],
    *,
    kind: TextKind = "passage",
    batch_size: int = 64,
    store: StoreKind = "memory",
    dtype: StoreDtype = "float32",
    path: str | os.PathLike[str] | None = None,
    directory: str | os.PathLike[str] | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    show_progress: bool = False,
) -> EmbeddingStore:
    """Encode ``texts`` chunk by chunk into a memory or disk store (see the module docstring).

    Args:
        encoder: any :class:`~neardup.models.base.Encoder`.
        texts: the texts, encoded in this order (row ``i`` is ``texts[i]``).
        kind, batch_size, show_progress: passed to ``encoder.encode``.
        store: ``"memory"`` or ``"disk"``.
        dtype: ``"float32"`` or ``"float16"``.
        path: for ``"disk"``: the ``.npy`` file to write and keep (reopen with
            :func:`open_store`); None writes a temporary file.
        directory: folder of the temporary file (ignored when ``path`` is given).
        chunk_size: texts per ``encoder.encode`` call.
    """
    _check(store, dtype, chunk_size)
    if store == "memory" and path is not None:
        raise InputError("a path is only used by the disk store; pass store='disk'")
    n = len(texts)
    if n == 0:
        empty = np.zeros((0, int(encoder.dim)), dtype=dtype)
        if store == "disk" and path is not None:
            # the caller reopens ``path`` later (open_store): write the empty store too
            keep = Path(path)
            keep.parent.mkdir(parents=True, exist_ok=True)
            with open(keep, "wb") as fh:  # np.save on a name would append ".npy" to it
                np.save(fh, empty)
            return open_store(keep)
        return EmbeddingStore(empty, store, None, 0.0)
    start_time = time.perf_counter()
    first = np.asarray(
        encoder.encode(list(texts[:chunk_size]), kind=kind, batch_size=batch_size,
                       show_progress=show_progress)
    )
    _check_block(encoder, first, min(n, chunk_size), None)
    dim = first.shape[1]
    keep_path: Path | None = None
    if store == "memory":
        out: np.ndarray = np.empty((n, dim), dtype=dtype)
    else:
        if path is not None:
            keep_path = Path(path)
            keep_path.parent.mkdir(parents=True, exist_ok=True)
            file = keep_path
        else:
            fd, name = tempfile.mkstemp(suffix=".npy", prefix="neardup-emb-", dir=directory)
            os.close(fd)
            file = Path(name)
        out = np.lib.format.open_memmap(file, mode="w+", dtype=dtype, shape=(n, dim))
        if keep_path is None:
            # the file goes when the last view of the array does; on POSIX the open mapping
            # keeps the data reachable, so unlinking at once also survives a crash
            if os.name == "posix":
                file.unlink()
            else:  # pragma: no cover - Windows cannot unlink a mapped file
                weakref.finalize(out, file.unlink, missing_ok=True)
    out[: first.shape[0]] = first
    del first
    for s in range(chunk_size, n, chunk_size):
        block = np.asarray(encoder.encode(list(texts[s : s + chunk_size]), kind=kind,
                                          batch_size=batch_size, show_progress=show_progress))
        # every chunk, not just the first: a (1, dim) block would broadcast to every row
        _check_block(encoder, block, min(n - s, chunk_size), dim)
        out[s : s + chunk_size] = block
    seconds = time.perf_counter() - start_time
    if isinstance(out, np.memmap):
        out.flush()
        if keep_path is not None:
            # reopen read-only: later stages only read, and a stray write would hit the file
            del out
            return open_store(keep_path, seconds=seconds)
    return EmbeddingStore(out, store, keep_path, seconds)


def _check_block(encoder: Any, block: np.ndarray, rows: int, dim: int | None) -> None:
    if block.ndim != 2 or block.shape[0] != rows or (dim is not None and block.shape[1] != dim):
        want = f"({rows}, {dim})" if dim is not None else f"({rows}, dim)"
        raise InputError(
            f"encoder {getattr(encoder, 'name', encoder)!r} returned shape {block.shape} for "
            f"{rows} texts; expected {want}"
        )


def open_store(path: str | os.PathLike[str], *, seconds: float = 0.0) -> EmbeddingStore:
    """Open a store written by :func:`encode_to_store` with a ``path`` (read-only memmap)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"no embedding store at {p}: write one with encode_to_store(path=...)")
    try:
        vectors = np.load(p, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError):
        # (numpy's own message for a text file suggests unpickling it)
        raise InputError(
            f"{p} is not an embedding store: it is not a .npy array file (write one with "
            "encode_to_store(path=...))"
        ) from None
    if not isinstance(vectors, np.ndarray):
        raise InputError(f"{p} holds several arrays (an .npz archive); an embedding store is "
                         "one .npy array written by encode_to_store")
    if vectors.ndim != 2 or vectors.dtype not in (np.float32, np.float16):
        raise InputError(
            f"{p} holds a {vectors.dtype} array of shape {vectors.shape}; an embedding store "
            "is a 2-D float32 or float16 array"
        )
    return EmbeddingStore(vectors, "disk", p, seconds)
