"""The encoder protocol every backend implements."""

from __future__ import annotations

from typing import Literal, Protocol, Sequence, runtime_checkable

import numpy as np

TextKind = Literal["query", "passage"]


@runtime_checkable
class Encoder(Protocol):
    """Turns texts into L2-normalised float32 vectors.

    ``kind`` selects the model's prompt: "passage" for collection items (dedup, index),
    "query" for search queries. Models without prompts ignore it.
    """

    name: str
    dim: int

    def encode(
        self,
        texts: Sequence[str],
        *,
        kind: TextKind = "passage",
        batch_size: int = 64,
        show_progress: bool = False,
    ) -> np.ndarray: ...
