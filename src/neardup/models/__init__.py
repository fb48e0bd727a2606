"""Sentence encoders: named offline presets, local folders and Hugging Face ids.

``load_encoder(name)`` returns an object satisfying :class:`neardup.models.base.Encoder`.
Importing this package is cheap: torch and sentence-transformers load on first use.
"""

from neardup.models.base import Encoder, TextKind
from neardup.models.loader import load_encoder, resolve_model_path
from neardup.models.presets import DEFAULT_MODEL, PRESETS, Preset

__all__ = [
    "DEFAULT_MODEL",
    "PRESETS",
    "Encoder",
    "Preset",
    "TextKind",
    "load_encoder",
    "resolve_model_path",
]
