"""Encoder backed by a torch ``sentence_transformers.SentenceTransformer``."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from neardup.errors import ModelError, require
from neardup.models.base import TextKind
from neardup.models.quiet import quiet_transformers
from neardup.models.texts import check_kind, check_texts, prompt_name_for

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


def resolve_device(device: str | None) -> str:
    """``device`` as given, or "cuda" when torch sees a GPU, else "cpu"."""
    if device:
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class SentenceTransformerEncoder:
    """Adapts a SentenceTransformer to :class:`neardup.models.base.Encoder`.

    sentence-transformers already sorts each call's texts by length so that batches pad
    little, and restores the input order afterwards.
    """

    def __init__(self, model: SentenceTransformer, name: str) -> None:
        self.model = model
        self.name = name
        dim_fn = getattr(model, "get_embedding_dimension", None) or getattr(
            model, "get_sentence_embedding_dimension"
        )
        dim = dim_fn()
        if dim is None:
            raise ModelError(f"Cannot tell the embedding size of model {name!r}.")
        self.dim = int(dim)
        # sentence-transformers fills unset standard prompts with "": those are not prompts.
        self.prompts: dict[str, str] = {k: v for k, v in (model.prompts or {}).items() if v}

    @classmethod
    def from_folder(
        cls, folder: str | Path, name: str, device: str | None = None
    ) -> SentenceTransformerEncoder:
        """Load a local sentence-transformers folder without touching the network."""
        require("sentence_transformers", "models", f"The model {name!r}")
        from sentence_transformers import SentenceTransformer

        with quiet_transformers(reports=False):  # progress bars are for encoding
            model = SentenceTransformer(
                str(folder),
                device=resolve_device(device),
                local_files_only=True,
                trust_remote_code=uses_neardup_modules(folder),
            )
        return cls(model, name)

    def prompt_name(self, kind: TextKind) -> str | None:
        return prompt_name_for(self.prompts, kind)

    def encode(
        self,
        texts: Sequence[str],
        *,
        kind: TextKind = "passage",
        batch_size: int = 64,
        show_progress: bool = False,
    ) -> np.ndarray:
        check_kind(kind)
        texts = check_texts(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            prompt_name=self.prompt_name(kind),
            batch_size=batch_size,
            show_progress_bar=show_progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def __repr__(self) -> str:
        device = self.model.device
        return f"SentenceTransformerEncoder(name={self.name!r}, dim={self.dim}, device={device})"


def uses_neardup_modules(folder: str | Path) -> bool:
    """Whether ``folder``'s pipeline uses neardup's own module classes (a model trained with
    ``neardup train bi-encoder --architecture bilstm``) and otherwise only
    sentence-transformers' classes.

    sentence-transformers imports a class from outside its package only with
    ``trust_remote_code=True``. For these folders the code is the installed neardup, not code
    shipped in the folder, so it is trusted; a folder that carries Python files or names any
    other package's class is not.
    """
    import json

    path = Path(folder)
    try:
        modules = json.loads((path / "modules.json").read_text(encoding="utf-8"))
        types = [str(m.get("type", "")) for m in modules]
    except (OSError, ValueError, AttributeError, TypeError):
        return False
    own = [t for t in types if t.startswith("neardup.")]
    foreign = [t for t in types if not t.startswith(("neardup.", "sentence_transformers."))]
    return bool(own) and not foreign and not any(path.rglob("*.py"))


def load_st_encoder(
    folder_or_id: str | os.PathLike[str], name: str, device: str | None, **kwargs: Any
) -> SentenceTransformerEncoder:
    """Load a folder or Hub id (network allowed); used for names that are not presets."""
    require("sentence_transformers", "models", f"The model {name!r}")
    from sentence_transformers import SentenceTransformer

    with quiet_transformers(reports=False):  # progress bars are for encoding
        model = SentenceTransformer(str(folder_or_id), device=resolve_device(device), **kwargs)
    return SentenceTransformerEncoder(model, name)
