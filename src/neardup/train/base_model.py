"""Finding the model a training run starts from: offline, with one set of messages."""

from __future__ import annotations

import os
from pathlib import Path

from neardup.errors import ModelError

__all__ = ["resolve_base_model"]


def resolve_base_model(name: str | os.PathLike[str], what: str = "base model") -> Path:
    """The local folder of a preset, model folder or already-downloaded Hub id; never downloads.

    Refuses what cannot be fine-tuned (numpy presets such as USE, ONNX exports, folders that
    are not transformers models) with a :class:`ModelError` saying what to give instead.
    """
    from neardup.models.loader import resolve_model_path
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
