"""Sentence encoders: named offline presets, local folders and Hugging Face ids.

``load_encoder(name)`` returns an object satisfying :class:`neardup.models.base.Encoder`.
Importing this package is cheap: torch and sentence-transformers load on first use.
``export_onnx`` writes an ONNX folder that :class:`OnnxEncoder` runs with onnxruntime
(no torch); ``load_encoder("multilingual-e5-small@onnx-int8")`` does both on first use.
``distill`` writes a static (model2vec) folder that :class:`StaticEncoder` runs in numpy;
``load_encoder("multilingual-e5-small@static")`` does both on first use.
"""

from neardup.models.base import Encoder, TextKind
from neardup.models.export import export_onnx
from neardup.models.loader import load_encoder, resolve_model_path
from neardup.models.onnx_encoder import OnnxEncoder
from neardup.models.presets import DEFAULT_MODEL, PRESETS, Preset
from neardup.models.static import DistillResult, StaticEncoder, distill

__all__ = [
    "DEFAULT_MODEL",
    "PRESETS",
    "DistillResult",
    "Encoder",
    "OnnxEncoder",
    "Preset",
    "StaticEncoder",
    "TextKind",
    "distill",
    "export_onnx",
    "load_encoder",
    "resolve_model_path",
]
