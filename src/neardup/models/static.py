"""The static tier: a transformer distilled into one vector per token (model2vec).

:func:`distill` runs the transformer once over every token of its vocabulary, reduces the
token vectors with PCA and down-weights frequent tokens (SIF weights from the token's rank),
as ``model2vec.distill`` does; :class:`StaticEncoder` then embeds a text as the normalised
mean of its tokens' vectors: no transformer at encode time, hundreds of times faster than
torch, at a measured loss of quality (``benchmarks/encoders.py`` prints it).

A static folder is what ``StaticModel.save_pretrained`` writes (``config.json`` with
``"model_type": "model2vec"``, ``model.safetensors``, ``tokenizer.json``) plus
``neardup_static.json``: the source model, dimension, vocabulary size, settings and the
time distillation took. Any model2vec folder loads (the manifest is optional), so a model
distilled with model2vec itself works too.

Prompts. Distillation embeds each token on its own, without the source model's prompt, and
static models get no prompts: ``kind`` is accepted and ignored, so a text has one vector
whether it is a query or a passage. A prompt would add the same few token vectors to every
text's mean. Measured on multilingual-e5-small@static: prefixing "passage: " moved STS-B dev
Spearman by +0.7 (en 75.9 -> 76.6) and +0.4 (ru 68.0 -> 68.4) and paraphraser-ru AP by
+0.0004 (0.8991 -> 0.8995): too little to make query and passage vectors differ for. The
source prompts are kept in the manifest (``source_prompts``) for the record.

Cost. Distilling is one forward pass per vocabulary token. multilingual-e5-small has
249,999 (XLM-R's SentencePiece vocabulary less ``<s>``, ``</s>`` and ``<mask>``):
38 minutes on two shared, busy CPU cores, 4.1 GB peak memory; a GPU (``device="cuda"``)
takes a fraction of that. ``load_encoder("<preset>@static")`` does it once into the neardup
cache. The whole vocabulary is kept on purpose: dropping tokens from a Unigram vocabulary
turns the characters only they cover into ``<unk>``.

Speed. Encoding is bound by the tokenizer (about 1.2 s of 1.4 s for 20,000 STS-B sentences
with e5's tokenizer); model2vec tokenizes batches in threads above 10,000 texts. We call
``StaticModel.encode`` as SemHash does, with the table in float32.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from neardup.errors import ModelError, require
from neardup.models.base import TextKind
from neardup.models.cache import (
    build_folder_atomically,
    cache_root,
    package_versions,
    source_stamped_name,
)
from neardup.models.texts import check_encode_args

log = logging.getLogger(__name__)

MANIFEST_FILE = "neardup_static.json"
MANIFEST_FORMAT = "neardup-static"
# Readers refuse manifests of a newer version than this.
MANIFEST_VERSION = 1
# Part of the cache folder name: bump when distillation settings or layout change.
DISTILL_VERSION = 1
# model2vec's defaults: 256 PCA dimensions, SIF coefficient 1e-4.
DEFAULT_PCA_DIMS = 256
DEFAULT_SIF_COEFFICIENT = 1e-4

_FEATURE = "The static (model2vec) encoder"
_DISTILL_FEATURE = "Static distillation"


@dataclass(frozen=True)
class DistillResult:
    """What :func:`distill` wrote."""

    folder: Path
    source_model: str  # the model as named by the caller (preset name or folder)
    source_path: Path  # the sentence-transformers folder that was distilled
    dim: int
    vocab_size: int
    pca_dims: int | None  # the PCA size actually applied (None: no PCA)
    sif_coefficient: float | None
    seconds: float  # distillation proper: token forward passes, PCA, weighting
    manifest: Mapping[str, Any] = field(default_factory=dict)


def is_static_folder(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a model2vec folder (its config.json says ``model2vec``)."""
    folder = Path(path)
    if (folder / MANIFEST_FILE).is_file():
        return True
    config = folder / "config.json"
    if not config.is_file():
        return False
    try:
        data = json.loads(config.read_text("utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("model_type") == "model2vec"


def read_manifest(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """``neardup_static.json`` of ``folder``, or ``{}`` for a plain model2vec folder."""
    path = Path(folder) / MANIFEST_FILE
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"Cannot read {str(path)!r}: {exc}. Distil the model again.") from exc
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        raise ModelError(f"{str(path)!r} is not a neardup static manifest. Distil the model again.")
    found = data.get("format_version")
    if not isinstance(found, int) or found > MANIFEST_VERSION:
        raise ModelError(
            f"{str(path)!r} has format version {found!r}; this neardup reads up to "
            f"{MANIFEST_VERSION}. Upgrade neardup or distil the model again."
        )
    return data


# --------------------------------------------------------------------------------------------
# distillation
# --------------------------------------------------------------------------------------------


def distill(
    model: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    pca_dims: int | None = DEFAULT_PCA_DIMS,
    vocabulary: Sequence[str] | None = None,
    sif_coefficient: float | None = DEFAULT_SIF_COEFFICIENT,
    device: str | None = None,
) -> DistillResult:
    """Distil ``model`` (preset name or sentence-transformers folder) into the folder ``output``.

    ``pca_dims``: the static vectors' size; PCA to this many components (capped at the
    model's hidden size, where PCA only decorrelates), ``None`` for the raw token vectors.
    ``vocabulary``: extra whole words to add as tokens, each embedded by one forward pass of
    its pieces (model2vec's ``vocabulary``); the model's own tokens are always all kept, and
    every extra word adds distillation time. ``sif_coefficient``: weight of a token of rank
    r is ``a / (a + p(r))`` with a Zipf estimate ``p``; ``None`` turns weighting off.
    ``device``: torch device for the forward passes (default: CUDA when available).

    The folder is staged beside ``output`` and moved into place when complete; an existing,
    non-empty ``output`` is an error.
    """
    source, name = _resolve_source(model)
    output = Path(output).expanduser()
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise ModelError(
            f"{str(output)!r} already exists and is not an empty folder; delete it or choose "
            "another output folder."
        )
    _check_settings(pca_dims, sif_coefficient)
    _check_distill_dependencies()
    # Imported here: neardup.io pulls in pandas, which loading a model does not need.
    from neardup.io.atomic import atomic_output_dir

    with atomic_output_dir(output, last=[MANIFEST_FILE]) as stage:
        manifest = _distill_into(
            stage,
            source,
            name,
            pca_dims=pca_dims,
            vocabulary=vocabulary,
            sif_coefficient=sif_coefficient,
            device=device,
        )
        from neardup.models.cache import make_readable

        make_readable(stage)  # safetensors writes 0600 whatever the umask
    return _result(output, source, name, manifest)


def cached_static_folder(preset_name: str, *, device: str | None = None) -> Path:
    """The static distillation of a preset in the neardup cache, distilled on first use."""
    from neardup.models.loader import resolve_model_path
    from neardup.models.presets import find_preset

    preset = find_preset(preset_name)
    if preset is None or not preset.sentence_transformers:
        raise ModelError(
            f"Only transformer presets have a static form; {preset_name!r} is not one. Distil "
            "a sentence-transformers folder with `neardup distill FOLDER --output DIR`."
        )
    source = resolve_model_path(preset.name)
    final = cache_root() / _cache_folder_name(preset.name, source)
    if not final.is_dir():
        _check_distill_dependencies()
        log.warning(
            "Distilling %s into a static model in %s (once; minutes on a CPU)", preset.name, final
        )
        build_folder_atomically(
            final,
            lambda stage: _distill_into(
                stage,
                source,
                preset.name,
                pca_dims=DEFAULT_PCA_DIMS,
                vocabulary=None,
                sif_coefficient=DEFAULT_SIF_COEFFICIENT,
                device=device,
            ),
        )
    return final


def _resolve_source(model: str | os.PathLike[str]) -> tuple[Path, str]:
    """The sentence-transformers folder of ``model`` and the name to record for it."""
    from neardup.models.export import resolve_source

    path, name = resolve_source(model, done="distilled", verb="distil")
    if is_static_folder(path):
        raise ModelError(f"{str(path)!r} is already a static model; it cannot be distilled again.")
    return path, name


def _check_settings(pca_dims: int | None, sif_coefficient: float | None) -> None:
    if pca_dims is not None and (isinstance(pca_dims, bool) or int(pca_dims) != pca_dims
                                 or pca_dims < 1):
        raise ModelError(f"pca_dims must be a positive whole number or None, got {pca_dims!r}.")
    if sif_coefficient is not None and not 0 < sif_coefficient < 1:
        raise ModelError(
            f"sif_coefficient must lie strictly between 0 and 1 (model2vec uses 1e-4), or be "
            f"None for no weighting; got {sif_coefficient!r}."
        )


def _check_distill_dependencies() -> None:
    require("model2vec", "static", _DISTILL_FEATURE)
    # model2vec.distill needs these but does not install them (its own "distill" extra).
    require("skeletoken", "static", _DISTILL_FEATURE)
    require("torch", "models", _DISTILL_FEATURE)
    require("transformers", "models", _DISTILL_FEATURE)


def _distill_into(
    stage: Path,
    source: Path,
    name: str,
    *,
    pca_dims: int | None,
    vocabulary: Sequence[str] | None,
    sif_coefficient: float | None,
    device: str | None,
) -> dict[str, Any]:
    """Distil ``source`` into the existing folder ``stage``; return the manifest written."""
    from model2vec.distill import distill_from_model
    from transformers import AutoModel, AutoTokenizer

    from neardup.models.export import read_st_folder, unreadable_model
    from neardup.models.quiet import quiet_transformers

    st = read_st_folder(source, purpose=_DISTILL_FEATURE)
    with quiet_transformers(python_warnings=True, loggers=("transformers", "root")), \
            unreadable_model(source):
        tokenizer = AutoTokenizer.from_pretrained(str(st.transformer), local_files_only=True)
        hf_model = AutoModel.from_pretrained(str(st.transformer), local_files_only=True)
    if not getattr(tokenizer, "is_fast", False):
        raise ModelError(
            f"The tokenizer of {str(source)!r} has no fast (Rust) version (tokenizer.json); "
            "static distillation needs one."
        )
    hidden = int(getattr(hf_model.config, "hidden_size", 0) or 0)
    # Asking for more components than the model has makes model2vec warn and keep the
    # hidden size anyway; cap here so the manifest states the size actually applied.
    applied_pca = None if pca_dims is None else (min(int(pca_dims), hidden) if hidden else pca_dims)
    start = time.perf_counter()
    try:
        static = distill_from_model(
            model=hf_model,
            tokenizer=tokenizer,
            vocabulary=list(vocabulary) if vocabulary else None,
            device=device,
            pca_dims=applied_pca,
            sif_coefficient=sif_coefficient,
            pooling="first" if st.pooling == "cls" else "mean",
        )
    except ValueError as exc:
        raise ModelError(f"model2vec cannot distil {str(source)!r}: {exc}") from exc
    seconds = time.perf_counter() - start
    vocab_size, dim = (int(n) for n in static.embedding.shape)
    if applied_pca is not None and applied_pca >= vocab_size:
        applied_pca = None  # model2vec skips PCA when the vocabulary is smaller than that
    static.save_pretrained(stage, model_name=f"{Path(name).name}-static")
    manifest: dict[str, Any] = {
        "format": MANIFEST_FORMAT,
        "format_version": MANIFEST_VERSION,
        "source_model": name,
        "source_path": str(source.resolve()),
        "dim": dim,
        "vocab_size": vocab_size,
        "added_words": len(vocabulary or ()),
        "pca_dims": applied_pca,
        "sif_coefficient": sif_coefficient,
        "pooling": st.pooling,
        "lowercase": st.lowercase,
        "source_prompts": dict(st.prompts),
        "distill_seconds": round(seconds, 3),
        "device": str(hf_model.device),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "distilled_with": _versions(),
    }
    path = stage / MANIFEST_FILE
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return manifest


def _result(folder: Path, source: Path, name: str, manifest: Mapping[str, Any]) -> DistillResult:
    return DistillResult(
        folder=folder,
        source_model=name,
        source_path=source,
        dim=int(manifest["dim"]),
        vocab_size=int(manifest["vocab_size"]),
        pca_dims=manifest["pca_dims"],
        sif_coefficient=manifest["sif_coefficient"],
        seconds=float(manifest["distill_seconds"]),
        manifest=dict(manifest),
    )


def _cache_folder_name(preset_name: str, source: Path) -> str:
    """One folder per preset and source build: a rebuilt source gets a fresh distillation."""
    return source_stamped_name(
        preset_name, "static", DISTILL_VERSION, source,
        (DEFAULT_PCA_DIMS, DEFAULT_SIF_COEFFICIENT),
        ("config.json", "model.safetensors", "pytorch_model.bin", "tokenizer.json"),
    )


def _versions() -> dict[str, str]:
    return package_versions(("neardup", "model2vec", "skeletoken", "torch", "transformers"))


# --------------------------------------------------------------------------------------------
# encoding
# --------------------------------------------------------------------------------------------


def _silence_word_start_piece(model: Any) -> None:
    """Zero the vector of the bare sentencepiece word-start piece ("\u2581").

    model2vec drops unknown tokens, so a text of characters outside the vocabulary (Cherokee,
    hieroglyphs) is left with nothing but that piece, and every such text got the same unit
    vector: any two of them scored cosine 1 and merged. The piece carries no content (its
    vector's norm is 0.013 here, against a median of 1.7), so zeroing it leaves other texts'
    vectors as they were and gives those texts no embedding evidence instead of false one.
    """
    tokens = list(getattr(model, "tokens", []) or [])
    if "\u2581" not in tokens:
        return  # not a sentencepiece vocabulary
    embedding = np.asarray(model.embedding)
    if not embedding.flags.writeable:
        embedding = embedding.copy()  # a read-only map: copy once
    embedding[tokens.index("\u2581")] = 0.0
    model.embedding = embedding


class StaticEncoder:
    """:class:`neardup.models.base.Encoder` over a model2vec folder (numpy only, no torch).

    ``name`` defaults to the folder as given, which is what ``load_encoder`` needs to load it
    again (an index records it). The token table is held in float32: model2vec stores it
    in float16, and averaging float16 rows in numpy is both slower and less exact. A text
    with no known token (an empty string) gets the zero vector, similar to nothing.
    """

    def __init__(self, folder: str | os.PathLike[str], *, name: str | None = None) -> None:
        require("model2vec", "static", _FEATURE)
        from model2vec import StaticModel

        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise ModelError(
                f"Static model folder {str(self.folder)!r} does not exist. Create it with "
                "`neardup distill MODEL --output FOLDER`."
            )
        if not is_static_folder(self.folder):
            raise ModelError(
                f"{str(self.folder)!r} is not a static (model2vec) model: its config.json does "
                "not say model2vec. Create one with `neardup distill MODEL --output FOLDER`."
            )
        self.manifest: dict[str, Any] = read_manifest(self.folder)
        try:
            self.model = StaticModel.from_pretrained(
                self.folder, quantize_to="float32", normalize=True
            )
        except Exception as exc:
            raise ModelError(
                f"Cannot load static model folder {str(self.folder)!r}: {exc}. Distil it again."
            ) from exc
        # absolute, as load_encoder names folders: an index that records the name must find
        # the folder again from another working directory
        self.name: str = name if name is not None else str(Path(folder).absolute())
        self.dim: int = int(self.model.dim)
        self.prompts: dict[str, str] = {}
        self.lowercase = bool(self.manifest.get("lowercase", False))
        _silence_word_start_piece(self.model)

    def encode(
        self,
        texts: Sequence[str],
        *,
        kind: TextKind = "passage",
        batch_size: int = 64,
        show_progress: bool = False,
    ) -> np.ndarray:
        items = check_encode_args(texts, kind, batch_size)
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self.lowercase:
            items = [t.lower() for t in items]
        vectors = self.model.encode(
            items,
            batch_size=batch_size,
            show_progress_bar=show_progress,
            normalize=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def __repr__(self) -> str:
        return f"StaticEncoder(name={self.name!r}, dim={self.dim}, folder={str(self.folder)!r})"


__all__ = [
    "DEFAULT_PCA_DIMS",
    "DistillResult",
    "MANIFEST_FILE",
    "StaticEncoder",
    "cached_static_folder",
    "distill",
    "is_static_folder",
    "read_manifest",
]
