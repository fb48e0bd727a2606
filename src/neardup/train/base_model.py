"""Finding the model a training run starts from: offline, with one set of messages."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from neardup.errors import ModelError

__all__ = ["check_max_length", "resolve_base_model"]


def resolve_base_model(name: str | os.PathLike[str], what: str = "base model") -> Path:
    """The local folder of a preset, model folder or already-downloaded Hub id; never downloads.

    Refuses what cannot be fine-tuned (numpy presets such as USE, ONNX exports, folders that
    are not transformers models) with a :class:`ModelError` saying what to give instead.
    """
    from neardup.models.loader import _is_cross_encoder_folder, resolve_model_path
    from neardup.models.onnx_encoder import is_onnx_folder
    from neardup.models.presets import describe_presets, find_preset

    text = os.fspath(name)
    if not text.strip():
        raise ModelError(f"the {what} name is empty; give a preset or a model folder")
    preset = None if isinstance(name, os.PathLike) else find_preset(text)
    if preset is not None:
        if not preset.sentence_transformers:
            raise ModelError(
                f"{preset.name} runs in numpy and cannot be fine-tuned. Choose a preset with a "
                f"sentence-transformers model or a local folder:\n{describe_presets()}"
            )
        return resolve_model_path(text)
    path = Path(text).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ModelError(f"the {what} {text!r} is a file; give the model's folder")
        if is_onnx_folder(path):
            raise ModelError(
                f"the {what} {text!r} is an ONNX export, which cannot be trained; give the "
                "sentence-transformers folder it was exported from"
            )
        if _is_cross_encoder_folder(path):
            # it would load as a mean-pooled bi-encoder nobody trained
            raise ModelError(
                f"the {what} {text!r} is a cross-encoder (re-ranker), not an embedding model; "
                "give a preset or a bi-encoder folder (a re-ranker serves `dedup --rerank`)"
            )
        if not (path / "config.json").is_file() and not (path / "modules.json").is_file():
            raise ModelError(
                f"the {what} folder {text!r} has no config.json, so it is not a transformers or "
                "sentence-transformers model; give the folder SentenceTransformer.save() wrote"
            )
        return path
    cached = _hub_cache_folder(text)
    if cached is not None:
        return cached
    raise ModelError(
        f"the {what} {text!r} cannot be found offline: it is not a preset, not a folder, and not "
        "in the local Hugging Face cache (training never downloads). Give a preset:\n"
        f"{describe_presets()}\nor a local model folder"
    )


def _hub_cache_folder(name: str) -> Path | None:
    try:
        from huggingface_hub import snapshot_download
    except ImportError:  # pragma: no cover - comes with sentence-transformers
        return None
    try:
        folder = Path(snapshot_download(name, local_files_only=True))
    except Exception:  # noqa: BLE001 - any failure means "not cached"
        return None
    return folder if (folder / "config.json").is_file() else None


def check_max_length(max_length: int, hf_model: Any, tokenizer: Any) -> int:
    """``max_length`` capped at what the base model's position embeddings hold: beyond it
    torch fails mid-batch ("size of tensor a (1000) must match ... (512)")."""
    limits = []
    positions = getattr(getattr(hf_model, "config", None), "max_position_embeddings", None)
    if isinstance(positions, int) and positions > 0:
        # XLM-R style models reserve two positions (padding offset)
        offset = 2 if getattr(hf_model.config, "model_type", "") in ("xlm-roberta", "roberta") else 0
        limits.append(positions - offset)
    # the tokenizer's model_max_length is often a soft default (sentence-transformers sets it
    # to max_seq_length): only the position embeddings are a hard limit
    model_max = getattr(tokenizer, "model_max_length", None)
    if not limits and isinstance(model_max, int) and 0 < model_max < 1_000_000:
        limits.append(model_max)
    return min([max_length, *limits])
