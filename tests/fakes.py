"""Deterministic stand-ins for neural encoders, so tests need no model."""

from __future__ import annotations

import zlib
from typing import Sequence

import numpy as np


class TrigramEncoder:
    """Hashed character-trigram counts, L2-normalised: similar strings get similar vectors."""

    def __init__(self, name: str = "fake-trigram", dim: int = 64) -> None:
        self.name = name
        self.dim = dim
        self.prompts = {"query": "query: ", "passage": "passage: "}
        self.calls: list[tuple[str, int]] = []  # (kind, number of texts) per encode call

    def encode(
        self,
        texts: Sequence[str],
        *,
        kind: str = "passage",
        batch_size: int = 64,
        show_progress: bool = False,
    ) -> np.ndarray:
        self.calls.append((kind, len(texts)))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            padded = f"  {text.lower()} "
            for j in range(len(padded) - 2):
                # crc32, not hash(): Python salts str hashes per process
                out[row, zlib.crc32(padded[j : j + 3].encode()) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.divide(out, norms, out=out, where=norms > 0)
