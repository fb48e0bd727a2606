"""A tiny deterministic encoder so index tests need no neural model."""

from __future__ import annotations

import zlib
from typing import Sequence

import numpy as np
import pytest

pytest.importorskip("faiss")


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


@pytest.fixture
def encoder() -> TrigramEncoder:
    return TrigramEncoder()


CORPUS = {
    "a1": "cheap flights to rome",
    "a2": "cheap flights to paris",
    "b1": "chocolate cake recipe",
    "b2": "easy chocolate cake recipe",
    "c1": "python dataframe tutorial",
    "c2": "pandas dataframe tutorial for beginners",
    "d1": "weather forecast for tomorrow",
    "e1": "used cars for sale",
}


@pytest.fixture
def corpus() -> dict[str, str]:
    return dict(CORPUS)


@pytest.fixture
def make_encoder() -> type[TrigramEncoder]:
    """The encoder class, for tests that need another name or dimension."""
    return TrigramEncoder
