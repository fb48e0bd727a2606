"""Encoder that runs an exported transformer with onnxruntime: no torch at inference time.

An ONNX folder is what :func:`neardup.models.export.export_onnx` writes:

* ``model.onnx`` - the transformer, ``input_ids``, ``attention_mask`` (and
  ``token_type_ids`` when the model takes them) -> ``last_hidden_state``;
* ``model_int8.onnx`` - optional, the same graph with int8 weights (dynamic quantisation);
* ``tokenizer.json`` and friends - the Hugging Face fast tokenizer;
* ``neardup_onnx.json`` - the manifest: source model name, pooling, prompts, maximum
  sequence length and dimension.

Pooling (mean over the attention mask) and L2 normalisation happen here in numpy, exactly
as sentence-transformers' ``Pooling`` and ``Normalize`` modules do, so the vectors match the
torch model's (fp32: cosine > 0.9999). :attr:`OnnxEncoder.name` is the source model's name,
so an index built with the torch model loads with the ONNX one and vice versa; the runtime
is recorded separately in :attr:`OnnxEncoder.backend`.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from neardup.errors import ModelError, require
from neardup.models import cpu
from neardup.models.base import TextKind
from neardup.models.texts import check_encode_args, prompt_name_for

MANIFEST_FILE = "neardup_onnx.json"
MANIFEST_FORMAT = "neardup-onnx"
# Bumped when the folder layout changes incompatibly; readers refuse newer versions.
MANIFEST_VERSION = 1
FP32_FILE = "model.onnx"
INT8_FILE = "model_int8.onnx"
TOKENIZER_FILE = "tokenizer.json"

Backend = Literal["onnx", "onnx-int8"]
BACKENDS: tuple[Backend, ...] = ("onnx", "onnx-int8")
POOLING_MODES = ("mean", "cls")

_ONNX_FEATURE = "The ONNX encoder"


def _require_onnxruntime() -> Any:
    return require("onnxruntime", "onnx", _ONNX_FEATURE)


@dataclass(frozen=True)
class OnnxManifest:
    """What ``neardup_onnx.json`` says about an exported model."""

    name: str
    dim: int
    max_seq_length: int
    prompts: Mapping[str, str] = field(default_factory=dict)
    pooling: str = "mean"
    normalize: bool = True
    lowercase: bool = False
    inputs: tuple[str, ...] = ("input_ids", "attention_mask")
    output: str = "last_hidden_state"
    pad_token_id: int = 0
    files: Mapping[str, str] = field(default_factory=lambda: {"onnx": FP32_FILE})
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": MANIFEST_FORMAT,
            "format_version": MANIFEST_VERSION,
            "name": self.name,
            "dim": self.dim,
            "max_seq_length": self.max_seq_length,
            "prompts": dict(self.prompts),
            "pooling": self.pooling,
            "normalize": self.normalize,
            "lowercase": self.lowercase,
            "inputs": list(self.inputs),
            "output": self.output,
            "pad_token_id": self.pad_token_id,
            "files": dict(self.files),
            **dict(self.extra),
        }

    def write(self, folder: Path) -> Path:
        """Write the manifest into ``folder`` (via a temporary file, so it is never half there)."""
        path = folder / MANIFEST_FILE
        tmp = folder / f".{MANIFEST_FILE}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n", "utf-8")
        os.replace(tmp, path)
        return path

    @classmethod
    def read(cls, folder: str | os.PathLike[str]) -> OnnxManifest:
        folder = Path(folder)
        path = folder / MANIFEST_FILE
        if not path.is_file():
            raise ModelError(
                f"Folder {str(folder)!r} is not a neardup ONNX model: it has no {MANIFEST_FILE}. "
                "Create one with neardup.models.export_onnx()."
            )
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelError(f"Cannot read {str(path)!r}: {exc}. Export the model again.") from exc
        if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
            raise ModelError(
                f"{str(path)!r} is not a neardup ONNX manifest. Export the model again."
            )
        version = data.get("format_version")
        if not isinstance(version, int) or version > MANIFEST_VERSION:
            raise ModelError(
                f"{str(path)!r} has format version {version!r}; this neardup reads up to "
                f"{MANIFEST_VERSION}. Upgrade neardup or export the model again."
            )
        known = {
            "format",
            "format_version",
            "name",
            "dim",
            "max_seq_length",
            "prompts",
            "pooling",
            "normalize",
            "lowercase",
            "inputs",
            "output",
            "pad_token_id",
            "files",
        }
        try:
            manifest = cls(
                name=str(data["name"]),
                dim=int(data["dim"]),
                max_seq_length=int(data["max_seq_length"]),
                prompts={str(k): str(v) for k, v in (data.get("prompts") or {}).items() if v},
                pooling=str(data.get("pooling", "mean")),
                normalize=bool(data.get("normalize", True)),
                lowercase=bool(data.get("lowercase", False)),
                inputs=tuple(str(x) for x in data.get("inputs", ("input_ids", "attention_mask"))),
                output=str(data.get("output", "last_hidden_state")),
                pad_token_id=int(data.get("pad_token_id", 0)),
                files={str(k): str(v) for k, v in (data.get("files") or {}).items()},
                extra={k: v for k, v in data.items() if k not in known},
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ModelError(
                f"{str(path)!r} is malformed ({type(exc).__name__}: {exc}). Export the model again."
            ) from exc
        if manifest.pooling not in POOLING_MODES:
            raise ModelError(
                f"{str(path)!r} asks for pooling {manifest.pooling!r}; supported: "
                f"{', '.join(POOLING_MODES)}."
            )
        return manifest


def int8_weights_unsuited(manifest: OnnxManifest) -> bool:
    """Whether the folder's int8 graph has int8 weights and this CPU saturates on them."""
    described = manifest.extra.get("int8")
    if not isinstance(described, dict) or described.get("reduce_range"):
        return False  # 7-bit weights do not saturate
    return described.get("weight_type") == "QInt8" and cpu.int8_products_saturate()


def is_onnx_folder(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a folder written by ``export_onnx`` (it holds the manifest)."""
    return (Path(path) / MANIFEST_FILE).is_file()


def default_threads() -> int:
    """The CPU cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class OnnxEncoder:
    """:class:`neardup.models.base.Encoder` over an exported folder, run by onnxruntime (CPU).

    ``backend`` picks the graph: "onnx" (float32, ``model.onnx``) or "onnx-int8"
    (``model_int8.onnx``); by default the int8 graph when the folder has one. ``threads`` is
    onnxruntime's intra-op thread count, all cores this process may use by default.
    """

    def __init__(
        self,
        folder: str | os.PathLike[str],
        *,
        backend: Backend | None = None,
        threads: int | None = None,
    ) -> None:
        ort = _require_onnxruntime()
        tokenizers = require("tokenizers", "onnx", _ONNX_FEATURE)
        self.folder = Path(folder)
        self.manifest = manifest = OnnxManifest.read(self.folder)
        if backend is None:
            backend = "onnx-int8" if self._model_file("onnx-int8").is_file() else "onnx"
        if backend not in BACKENDS:
            raise ModelError(f"ONNX backend must be one of {', '.join(BACKENDS)}; got {backend!r}.")
        model_file = self._model_file(backend)
        if not model_file.is_file():
            hint = (
                " Export it with export_onnx(..., int8=True) or neardup.models.export.add_int8()."
                if backend == "onnx-int8"
                else " Export the model again."
            )
            raise ModelError(f"{str(model_file)!r} is missing, so backend {backend!r} "
                             f"cannot load.{hint}")
        if backend == "onnx-int8" and int8_weights_unsuited(manifest):
            warnings.warn(
                f"{str(model_file)!r} has int8 weights, which suit only CPUs with VNNI; this CPU "
                "has none, so onnxruntime's int8 products saturate and the vectors drift "
                "(e5-small: min cosine 0.984 against 0.996 to float32). Quantise it again here: "
                f"neardup.models.export.add_int8({str(self.folder)!r}, replace=True).",
                RuntimeWarning,
                stacklevel=2,
            )
        tokenizer_file = self.folder / TOKENIZER_FILE
        if not tokenizer_file.is_file():
            raise ModelError(f"{str(tokenizer_file)!r} is missing. Export the model again.")

        self.name: str = manifest.name
        self.dim: int = manifest.dim
        self.backend: Backend = backend
        self.prompts: dict[str, str] = dict(manifest.prompts)
        self.max_seq_length = manifest.max_seq_length
        self.threads = int(threads) if threads else default_threads()

        tokenizer_class = tokenizers.Tokenizer  # type: ignore[attr-defined]
        self.tokenizer = tokenizer_class.from_file(str(tokenizer_file))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=self.max_seq_length)

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3  # errors only
        try:
            self.session = ort.InferenceSession(
                str(model_file), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:
            raise ModelError(
                f"onnxruntime cannot load {str(model_file)!r}: {exc}. Export the model again."
            ) from exc
        session_inputs = {i.name for i in self.session.get_inputs()}
        missing = {"input_ids", "attention_mask"} - session_inputs
        unknown = session_inputs - {"input_ids", "attention_mask", "token_type_ids"}
        if missing or unknown:
            raise ModelError(
                f"{str(model_file)!r} has inputs {sorted(session_inputs)}; expected input_ids, "
                "attention_mask and optionally token_type_ids. Export the model again."
            )
        self._input_names = session_inputs
        self._output_name = manifest.output

    def _model_file(self, backend: str) -> Path:
        default = INT8_FILE if backend == "onnx-int8" else FP32_FILE
        return self.folder / self.manifest.files.get(backend, default)

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
        items = check_encode_args(texts, kind, batch_size)
        out = np.zeros((len(items), self.dim), dtype=np.float32)
        if not items:
            return out
        prompt_name = self.prompt_name(kind)
        prompt = self.prompts[prompt_name] if prompt_name else ""
        if prompt:
            items = [prompt + t for t in items]
        if self.manifest.lowercase:
            items = [t.lower() for t in items]
        # Longest first, as sentence-transformers does: batches of similar length pad little,
        # and a batch too large for memory fails at once rather than at the end.
        order = sorted(range(len(items)), key=lambda i: -len(items[i]))
        bar = _progress(len(items)) if show_progress else None
        try:
            for start in range(0, len(order), batch_size):
                rows = order[start : start + batch_size]
                out[rows] = self._encode_batch([items[i] for i in rows])
                if bar is not None:
                    bar.update(len(rows))
        finally:
            if bar is not None:
                bar.close()
        return out

    def tokenize(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Model inputs for ``texts`` (prompts already applied), padded to the longest."""
        encodings = self.tokenizer.encode_batch(list(texts), add_special_tokens=True)
        width = max(len(e.ids) for e in encodings)
        ids = np.full((len(encodings), width), self.manifest.pad_token_id, dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feed["token_type_ids"] = np.zeros_like(ids)
        return feed

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        feed = self.tokenize(texts)
        (hidden,) = self.session.run([self._output_name], feed)
        hidden = np.asarray(hidden, dtype=np.float32)
        if self.manifest.pooling == "cls":
            pooled = hidden[:, 0, :]
        else:
            mask = feed["attention_mask"].astype(np.float32)[:, :, None]
            counts = np.maximum(mask.sum(axis=1), 1e-9)
            pooled = (hidden * mask).sum(axis=1) / counts
        # Always L2-normalise: the Encoder protocol promises unit vectors.
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)

    def __repr__(self) -> str:
        return (
            f"OnnxEncoder(name={self.name!r}, dim={self.dim}, backend={self.backend!r}, "
            f"folder={str(self.folder)!r}, threads={self.threads})"
        )


def _progress(total: int) -> Any:
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm comes with the onnx extra
        return None
    return tqdm(total=total, desc="Encoding", unit="text")


__all__ = [
    "BACKENDS",
    "FP32_FILE",
    "INT8_FILE",
    "MANIFEST_FILE",
    "OnnxEncoder",
    "OnnxManifest",
    "default_threads",
    "is_onnx_folder",
]
