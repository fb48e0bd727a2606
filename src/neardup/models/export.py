"""Export a sentence-transformers model to an ONNX folder that :class:`OnnxEncoder` runs.

Only the transformer goes into the graph (``torch.onnx.export``, TorchScript exporter,
dynamic batch and sequence axes); tokenisation, mean pooling and normalisation stay outside
(see :mod:`neardup.models.onnx_encoder`). ``optimum`` is not used: its releases lag behind
transformers and fail to import beside transformers 5.

The int8 graph uses onnxruntime's dynamic quantisation with the settings of
:func:`int8_settings`, chosen to keep vectors close to float32 (multilingual-e5-small on 222
varied short texts: min cosine 0.995, mean 0.9986 against the torch model; see
benchmarks/encoders.py).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neardup.errors import ModelError, require
from neardup.models import cpu
from neardup.models.cache import (
    build_folder_atomically,
    cache_root,
    package_versions,
    source_stamped_name,
)
from neardup.models.onnx_encoder import (
    FP32_FILE,
    INT8_FILE,
    TOKENIZER_FILE,
    OnnxManifest,
    int8_weights_unsuited,
)
from neardup.models.quiet import quiet_transformers

log = logging.getLogger(__name__)

DEFAULT_OPSET = 17
# Part of the cache folder name: bump when the export or quantisation changes.
EXPORT_VERSION = 1

# Dynamic int8 quantisation (weights int8 per output channel, activations quantised per
# batch at run time). Measured on multilingual-e5-small, 222 varied texts x 2 prompts, cosine
# to the torch float32 vectors (benchmarks/encoders.py has the protocol):
#   onnxruntime defaults (MatMul + Gather, per-tensor)      min 0.953  mean 0.988
#   MatMul only, per-channel                                min 0.974  mean 0.996
#   ... and every FFN down-projection kept float32         min 0.996  mean 0.999
#   ... only those of layers 0, 2, 4, 5 kept float32 (e5)  min 0.995  mean 0.999
# The FFN down-projection reads the GELU output, whose few large values stretch the per-batch
# activation range (range / RMS up to 140 in e5's layers 0, 4, 5), so int8 steps wipe out
# the small values; the other MatMuls quantise well. Pre-processing the graph with
# ``quant_pre_process`` changed nothing here and is off. The weights are int8 on CPUs whose
# int8 products do not saturate (VNNI, ARM) and uint8 elsewhere ("auto", see
# neardup.models.cpu: on x86 without VNNI, e5-small's STS-B ru Spearman fell 0.97 points with
# int8 weights, 0.34 with uint8 ones, which run 13 % slower there); reduce_range (7-bit
# weights, full speed) lost 0.53 and is off. The word-embedding Gather stays float32
# (quantising it too shrinks e5's int8 file from 395 to 120 MiB at min cosine 0.993 instead
# of 0.995).
# Fusing attention, embeddings and LayerNorms first (onnxruntime.transformers.optimizer,
# Attention quantised as QAttention) keeps the accuracy but was 8-14 % slower on e5-small
# with 2 threads and short texts (2026-11-23), so the plain graph is quantised.
INT8_SETTINGS: dict[str, Any] = {
    "op_types_to_quantize": ["MatMul"],
    "per_channel": True,
    "reduce_range": False,
    "weight_type": "auto",  # QInt8 or QUInt8, by this CPU (neardup.models.cpu)
    "pre_process": False,
    # Node-name patterns (regular expressions) left in float32: FFN down-projections as
    # BERT-like (BERT, XLM-R, MPNet), DistilBERT and LLaMA-like exporters name them.
    "exclude": [r"layer\.\d+/output/dense/", r"/ffn/lin2/", r"/mlp/(fc2|down_proj)/"],
}

# Per-model refinements, measured layer by layer (quantising one layer's FFN down-projection
# at a time): for e5-small only layers 0, 2, 4 and 5 lose accuracy, so the rest run int8.
INT8_SETTINGS_BY_MODEL: dict[str, dict[str, Any]] = {
    "multilingual-e5-small": {"exclude": [r"layer\.(0|2|4|5)/output/dense/"]},
}


def int8_settings(name: str | None = None) -> dict[str, Any]:
    """The int8 settings used for the model called ``name`` (see INT8_SETTINGS)."""
    return {**INT8_SETTINGS, **INT8_SETTINGS_BY_MODEL.get(name or "", {})}


def _resolved(settings: Mapping[str, Any]) -> dict[str, Any]:
    """``settings`` with an "auto" weight type replaced by this CPU's choice."""
    s = dict(settings)
    if s.get("weight_type", "auto") == "auto":
        s["weight_type"] = cpu.int8_weight_type()
        s["weight_type_chosen_for"] = (
            "x86 without VNNI" if cpu.int8_products_saturate() else "a CPU with VNNI, or not x86"
        )
    return s


@dataclass
class _StModel:
    """What an exported folder needs to know about a sentence-transformers folder."""

    folder: Path  # the whole model folder
    transformer: Path  # the folder the HF transformer and tokenizer live in
    pooling: str = "mean"
    normalize: bool = True
    prompts: dict[str, str] = field(default_factory=dict)
    max_seq_length: int | None = None
    lowercase: bool = False


def export_onnx(
    model: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    int8: bool = False,
    opset: int = DEFAULT_OPSET,
    name: str | None = None,
    int8_options: Mapping[str, Any] | None = None,
) -> Path:
    """Export a sentence-transformers folder (or a preset name) into the ONNX folder ``output``.

    ``output`` receives ``model.onnx`` (float32 transformer: ``input_ids``,
    ``attention_mask`` [, ``token_type_ids``] -> ``last_hidden_state``), with ``int8`` also
    ``model_int8.onnx``, the tokenizer files, and ``neardup_onnx.json`` (model name, pooling,
    prompts, maximum sequence length, dimension). The folder is built beside ``output`` and
    renamed into place when complete; an existing ``output`` is an error.

    ``name`` is recorded as the model's name (what ``encoder.name`` and indexes report); by
    default the preset's name, else ``model`` as given, which is also the name
    ``load_encoder(model)`` gives the torch encoder, so indexes stay compatible.
    ``int8_options`` overrides entries of :func:`int8_settings` (for experiments).
    """
    source, default_name = resolve_source(model)
    output = Path(output).expanduser()
    if output.exists():
        raise ModelError(
            f"{str(output)!r} already exists; delete it or choose another output folder."
        )
    _check_export_dependencies(int8)
    st = read_st_folder(source)
    model_name = name or default_name
    settings = {**int8_settings(model_name), **(int8_options or {})} if int8 else None
    return build_folder_atomically(
        output, lambda stage: _build(stage, st, model_name, int8=settings, opset=opset)
    )


def resolve_source(
    model: str | os.PathLike[str], *, done: str = "exported to ONNX", verb: str = "export"
) -> tuple[Path, str]:
    """The sentence-transformers folder of ``model`` (preset or folder) and its name.

    ``done`` / ``verb`` word the errors for the caller ("distilled" / "distil" for the static
    tier).
    """
    from neardup.models.loader import resolve_model_path
    from neardup.models.presets import find_preset

    if not isinstance(model, os.PathLike):
        preset = find_preset(str(model))
        if preset is not None:
            if not preset.sentence_transformers:
                raise ModelError(
                    f"{preset.name} is not a transformer model (it runs in numpy) and cannot "
                    f"be {done}; give a sentence-transformers preset or folder."
                )
            return resolve_model_path(preset.name), preset.name
    path = Path(model).expanduser()
    if not path.is_dir():
        raise ModelError(
            f"Cannot {verb} {os.fspath(model)!r}: it is neither a preset nor a folder. Give a "
            "preset name (see `neardup models`) or a local sentence-transformers folder."
        )
    from neardup.models.loader import _is_cross_encoder_folder

    if _is_cross_encoder_folder(path):
        # its hidden states, mean-pooled, are vectors nobody trained (load_encoder refuses it)
        raise ModelError(
            f"{os.fspath(model)!r} is a cross-encoder (re-ranker): it scores pairs of texts and "
            f"makes no embeddings, so it cannot be {done}. Give an embedding model (a preset or "
            "a `neardup train bi-encoder` folder)."
        )
    # the name load_encoder gives the same folder (its absolute path), so that an index built
    # with the ONNX graph accepts the torch model and the other way round
    return path, str(path.absolute())


@contextlib.contextmanager
def unreadable_model(folder: Path) -> Iterator[None]:
    """transformers' loading errors (no tokenizer files, an empty config) as a ModelError
    naming the folder, instead of a traceback from deep inside transformers."""
    try:
        yield
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(
            f"Cannot load a tokenizer and transformer from {str(folder)!r}: "
            f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}. Give the folder "
            "SentenceTransformer.save() (or a transformers save_pretrained) wrote."
        ) from None


def read_st_folder(folder: Path, *, purpose: str = "ONNX export") -> _StModel:
    """Read modules.json and the module configs; refuse what ``purpose`` cannot reproduce.

    ``purpose`` names the feature in error messages ("ONNX export", "Static distillation").
    """
    modules_file = folder / "modules.json"
    if not modules_file.is_file():
        if not (folder / "config.json").is_file():
            raise ModelError(
                f"Folder {str(folder)!r} is not a sentence-transformers or transformers model: "
                "it has neither modules.json nor config.json."
            )
        # A bare transformers folder: sentence-transformers adds mean pooling, no Normalize.
        return _StModel(folder=folder, transformer=folder, normalize=False)
    modules = _read_json(modules_file)
    if not isinstance(modules, list):
        raise ModelError(f"{str(modules_file)!r} is not a list of modules.")
    st = _StModel(folder=folder, transformer=folder, normalize=False)
    seen = []
    for module in modules:
        kind = str(module.get("type", "")).rsplit(".", 1)[-1]
        path = folder / str(module.get("path", ""))
        seen.append(kind)
        if kind == "Transformer":
            st.transformer = path
            config = path / "sentence_bert_config.json"
            if config.is_file():
                data = _read_json(config)
                if data.get("max_seq_length"):
                    st.max_seq_length = int(data["max_seq_length"])
                st.lowercase = bool(data.get("do_lower_case", False))
        elif kind == "Pooling":
            st.pooling = _pooling_mode(path / "config.json", purpose)
        elif kind == "Normalize":
            st.normalize = True
        else:
            raise ModelError(
                f"Model {str(folder)!r} has a {kind or 'unknown'} module; {purpose} supports "
                "Transformer -> Pooling (mean or cls) -> Normalize only."
            )
    if seen[:1] != ["Transformer"]:
        raise ModelError(f"Model {str(folder)!r} does not start with a Transformer module.")
    st_config = folder / "config_sentence_transformers.json"
    if st_config.is_file():
        prompts = _read_json(st_config).get("prompts") or {}
        st.prompts = {str(k): str(v) for k, v in prompts.items() if v}
    return st


def _pooling_mode(config_file: Path, purpose: str) -> str:
    data = _read_json(config_file) if config_file.is_file() else {}
    if data.get("include_prompt") is False:
        raise ModelError(
            f"{str(config_file)!r} excludes the prompt from pooling (include_prompt=false); "
            f"{purpose} does not support that."
        )
    mode = data.get("pooling_mode")
    if mode is None:  # the older layout: one boolean per mode
        legacy = {"cls_token": "cls", "mean_tokens": "mean"}
        flags = ("cls_token", "mean_tokens", "max_tokens", "mean_sqrt_len_tokens",
                 "weightedmean_tokens", "lasttoken")
        # Nothing set: sentence-transformers' default, mean.
        mode = [legacy.get(m, m) for m in flags if data.get(f"pooling_mode_{m}")] or "mean"
    if isinstance(mode, list):
        mode = mode[0] if len(mode) == 1 else "+".join(map(str, mode)) or None
    if mode not in ("mean", "cls"):
        raise ModelError(
            f"{str(config_file)!r} asks for pooling {mode!r}; {purpose} supports mean and cls."
        )
    return str(mode)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"Cannot read {str(path)!r}: {exc}") from exc


def _check_export_dependencies(int8: bool) -> None:
    require("torch", "models", "Exporting to ONNX")
    require("transformers", "models", "Exporting to ONNX")
    require("onnx", "onnx", "Exporting to ONNX")
    if int8:
        require("onnxruntime", "onnx", "int8 quantisation")


def _build(
    stage: Path, st: _StModel, name: str, *, int8: Mapping[str, Any] | None, opset: int
) -> None:
    """Export into ``stage``; with ``int8`` settings also quantise."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    with _quiet(), unreadable_model(st.folder):
        tokenizer = AutoTokenizer.from_pretrained(str(st.transformer), local_files_only=True)
        # Eager attention traces to plain MatMul/Softmax, which every runtime and the
        # quantiser understand.
        hf_model = AutoModel.from_pretrained(
            str(st.transformer), local_files_only=True, attn_implementation="eager"
        ).eval()
    if not getattr(tokenizer, "is_fast", False):
        raise ModelError(
            f"The tokenizer of {str(st.folder)!r} has no fast (Rust) version; ONNX export needs "
            "one (tokenizer.json)."
        )
    tokenizer.save_pretrained(str(stage))
    if not (stage / TOKENIZER_FILE).is_file():
        raise ModelError(f"Saving the tokenizer of {str(st.folder)!r} wrote no tokenizer.json.")
    config = hf_model.config
    max_positions = int(getattr(config, "max_position_embeddings", 0) or 0)
    max_seq_length = st.max_seq_length or int(getattr(tokenizer, "model_max_length", 0) or 0)
    if max_positions and (not max_seq_length or max_seq_length > max_positions):
        max_seq_length = max_positions
    if not max_seq_length or max_seq_length > 100_000:
        raise ModelError(f"Cannot tell the maximum sequence length of {str(st.folder)!r}.")

    # Two rows, one padded: tracing with padding keeps the attention-mask path in the graph
    # (transformers drops the mask when a traced batch has none).
    sample = tokenizer(
        ["passage: neardup exports this model to ONNX", "hi"],
        padding=True,
        return_tensors="pt",
    )
    forward_args = _forward_arguments(hf_model)
    inputs = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in forward_args]
    if "token_type_ids" not in sample and "token_type_ids" in inputs:
        sample["token_type_ids"] = torch.zeros_like(sample["input_ids"])
    inputs = [k for k in inputs if k in sample]

    class LastHiddenState(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *args: torch.Tensor) -> torch.Tensor:
            return self.inner(**dict(zip(inputs, args))).last_hidden_state

    dynamic_axes = {k: {0: "batch", 1: "sequence"} for k in [*inputs, "last_hidden_state"]}
    fp32 = stage / FP32_FILE
    with _quiet(), torch.no_grad():
        expected = LastHiddenState(hf_model)(*(sample[k] for k in inputs)).numpy()
        torch.onnx.export(
            LastHiddenState(hf_model),
            tuple(sample[k] for k in inputs),
            str(fp32),
            input_names=inputs,
            output_names=["last_hidden_state"],
            dynamic_axes=dynamic_axes,
            opset_version=opset,
            do_constant_folding=True,
            dynamo=False,
        )
    dim = int(expected.shape[-1])
    _check_graph(fp32, {k: sample[k].numpy() for k in inputs}, expected)

    files = {"onnx": FP32_FILE}
    extra: dict[str, Any] = {
        "source": str(st.folder),
        "model_type": str(getattr(config, "model_type", "")),
        "opset": opset,
        "exported_with": _versions(),
    }
    if int8 is not None:
        int8 = _resolved(int8)
        quantize_int8(fp32, stage / INT8_FILE, int8)
        files["onnx-int8"] = INT8_FILE
        extra["int8"] = _int8_description(int8)
    pad_id = tokenizer.pad_token_id
    OnnxManifest(
        name=name,
        dim=dim,
        max_seq_length=max_seq_length,
        prompts=st.prompts,
        pooling=st.pooling,
        normalize=True,
        lowercase=st.lowercase,
        inputs=tuple(inputs),
        pad_token_id=int(pad_id) if pad_id is not None else 0,
        files=files,
        extra=extra,
    ).write(stage)


def _forward_arguments(model: Any) -> set[str]:
    import inspect

    return set(inspect.signature(model.forward).parameters)


def _check_graph(path: Path, feed: Mapping[str, Any], expected: Any) -> None:
    """Run the exported graph once on the tracing sample; it must reproduce torch."""
    try:
        import onnxruntime as ort
    except ImportError:  # checked at load time instead
        return
    import numpy as np

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (got,) = session.run(["last_hidden_state"], dict(feed))
    mask = np.asarray(feed["attention_mask"], dtype=bool)
    error = float(np.abs(got[mask] - expected[mask]).max())
    if not error < 1e-3:
        raise ModelError(
            f"The exported ONNX graph disagrees with torch (max difference {error:.3g}); "
            "this model cannot be exported with this torch version."
        )


def quantize_int8(
    fp32: str | os.PathLike[str],
    int8: str | os.PathLike[str],
    settings: Mapping[str, Any] | None = None,
) -> Path:
    """Write the int8 version of the float32 graph ``fp32`` to ``int8``.

    ``settings`` override entries of :data:`INT8_SETTINGS`.
    """
    require("onnxruntime", "onnx", "int8 quantisation")
    require("onnx", "onnx", "int8 quantisation")
    from onnxruntime.quantization import QuantType, quantize_dynamic

    s = _resolved({**INT8_SETTINGS, **(settings or {})})
    fp32, int8 = Path(fp32), Path(int8)
    with tempfile.TemporaryDirectory(prefix=".quant.", dir=int8.parent) as tmp:
        source = fp32
        if s["pre_process"]:
            from onnxruntime.quantization.shape_inference import quant_pre_process

            source = Path(tmp) / "pre.onnx"
            with _quiet():
                quant_pre_process(str(fp32), str(source), skip_symbolic_shape=True)
        exclude = _nodes_to_exclude(source, s.get("exclude") or [])
        staged = Path(tmp) / "int8.onnx"
        with _quiet():
            quantize_dynamic(
                str(source),
                str(staged),
                op_types_to_quantize=list(s["op_types_to_quantize"]),
                per_channel=bool(s["per_channel"]),
                reduce_range=bool(s["reduce_range"]),
                weight_type=getattr(QuantType, str(s["weight_type"])),
                nodes_to_exclude=exclude,
                extra_options=dict(s.get("extra_options") or {}),
            )
        os.replace(staged, int8)
    return int8


def _nodes_to_exclude(model_path: Path, patterns: list[str]) -> list[str]:
    """Names of the nodes whose name matches one of the regular expressions ``patterns``."""
    if not patterns:
        return []
    import re

    import onnx

    model = onnx.load(str(model_path), load_external_data=False)
    return [n.name for n in model.graph.node if any(re.search(p, n.name) for p in patterns)]


def _int8_description(settings: Mapping[str, Any]) -> dict[str, Any]:
    return {"method": "onnxruntime.quantization.quantize_dynamic", **settings}


def add_int8(folder: str | os.PathLike[str], *, replace: bool = False) -> Path:
    """Add ``model_int8.onnx`` to an exported folder that lacks it; returns its path.

    With ``replace`` an existing int8 graph is quantised again, for this CPU (see
    :mod:`neardup.models.cpu`: a graph with int8 weights loses accuracy on x86 without VNNI).
    The file is quantised under a temporary name and renamed into place, then the manifest
    is rewritten (also atomically): readers see the old folder or the complete new one.
    """
    folder = Path(folder)
    manifest = OnnxManifest.read(folder)
    target = folder / manifest.files.get("onnx-int8", INT8_FILE)
    if target.is_file() and not replace:
        return target
    # the options the folder was quantised with stay; only the weight type is chosen anew
    recorded = manifest.extra.get("int8") if replace else None
    kept = {k: v for k, v in (recorded or {}).items() if k in INT8_SETTINGS}
    settings = _resolved({**int8_settings(manifest.name), **kept, "weight_type": "auto"})
    quantize_int8(folder / manifest.files.get("onnx", FP32_FILE), target, settings)
    files = {**manifest.files, "onnx-int8": target.name}
    extra = {**manifest.extra, "int8": _int8_description(settings)}
    OnnxManifest(
        **{**manifest.__dict__, "files": files, "extra": extra}  # type: ignore[arg-type]
    ).write(folder)
    return target


def cached_onnx_folder(preset_name: str, *, int8: bool) -> Path:
    """The ONNX export of a preset in the neardup cache, exported on first use."""
    from neardup.models.presets import find_preset

    preset = find_preset(preset_name)
    if preset is None:  # pragma: no cover - callers pass preset names
        raise ModelError(f"Unknown preset {preset_name!r}.")
    source, name = resolve_source(preset.name)
    final = cache_root() / _cache_folder_name(preset.name, source)
    if not final.is_dir():
        _check_export_dependencies(int8)
        st = read_st_folder(source)
        log.info("Exporting %s to ONNX into %s (once)", name, final)
        settings = int8_settings(name) if int8 else None
        build_folder_atomically(
            final, lambda stage: _build(stage, st, name, int8=settings, opset=DEFAULT_OPSET)
        )
    if int8 and not (final / INT8_FILE).is_file():
        log.info("Quantising %s to int8 in %s (once)", name, final)
        add_int8(final)
    elif int8 and int8_weights_unsuited(OnnxManifest.read(final)):
        # The cache was filled on a CPU that multiplies int8 weights exactly (or by an older
        # neardup); this one would saturate, so the cached preset is quantised again for it.
        log.info("Quantising %s to int8 again, with uint8 weights for this CPU", name)
        add_int8(final, replace=True)
    return final


def _cache_folder_name(preset_name: str, source: Path) -> str:
    """One folder per preset and source build: a rebuilt source gets a fresh export."""
    return source_stamped_name(preset_name, "onnx", EXPORT_VERSION, source, (DEFAULT_OPSET,),
                               ("config.json", "model.safetensors", "pytorch_model.bin"))


def _versions() -> dict[str, str]:
    return package_versions(("neardup", "torch", "transformers", "onnx", "onnxruntime"))


def _quiet() -> AbstractContextManager[None]:
    """Silence the tracer's and transformers' warnings during export."""
    return quiet_transformers(python_warnings=True, loggers=("transformers", "torch.onnx", "root"))


__all__ = [
    "DEFAULT_OPSET",
    "INT8_SETTINGS",
    "add_int8",
    "cached_onnx_folder",
    "export_onnx",
    "int8_settings",
    "quantize_int8",
]


# Probe texts for :func:`check_export`: short and long, Latin and Cyrillic, digits, so a broken
# tokenizer or a badly quantised layer shows up as a low cosine.
PROBE_TEXTS = (
    "Apple iPhone 13 128GB midnight, unlocked",
    "Central bank raises interest rates by 0.5 percentage points amid inflation fears",
    "Центробанк повысил ключевую ставку до 16%",
    "Sepatu lari pria ukuran 42 warna hitam",
    "a",
    "The quick brown fox jumps over the lazy dog. " * 12,
)


@dataclass(frozen=True)
class ExportCheck:
    """How closely an exported ONNX folder reproduces the torch model it came from."""

    folder: Path
    graph: str  # "model.onnx" or "model_int8.onnx"
    n_texts: int
    min_cosine: float
    mean_cosine: float


def check_export(
    model: str | os.PathLike[str],
    folder: str | os.PathLike[str],
    *,
    int8: bool = False,
    texts: Sequence[str] = PROBE_TEXTS,
) -> ExportCheck:
    """Encode ``texts`` with the torch model and with the exported graph; report cosines.

    Both sides use the same prompt (the model's ``passage`` prompt, if any), so the numbers
    measure the export, not prompting.
    """
    import numpy as np

    from neardup.models.loader import load_encoder
    from neardup.models.onnx_encoder import OnnxEncoder

    source, _ = resolve_source(model)
    torch_encoder = load_encoder(str(source))
    onnx_encoder = OnnxEncoder(folder, backend="onnx-int8" if int8 else "onnx")
    a = torch_encoder.encode(list(texts), kind="passage")
    b = onnx_encoder.encode(list(texts), kind="passage")
    cos = np.sum(a * b, axis=1)
    return ExportCheck(
        folder=Path(folder),
        graph="model_int8.onnx" if int8 else "model.onnx",
        n_texts=len(texts),
        min_cosine=float(cos.min()),
        mean_cosine=float(cos.mean()),
    )
