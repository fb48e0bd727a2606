"""A cross-encoder re-ranker trained by ``neardup train cross-encoder``.

A trained folder is a sentence-transformers ``CrossEncoder`` (one output, sigmoid) plus
``neardup_reranker.json``: the link threshold calibrated on held-out labelled pairs, whether
that calibration scored pairs symmetrically, the dev metrics, the base model and the training
options. :func:`load_reranker` reads both; the dedup pipeline links at the stored threshold
unless given another.

Only load folders you trust: a model folder is code-adjacent (it names its own architecture).
"""

from __future__ import annotations

import json
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from neardup.errors import InputError, ModelError, require
from neardup.models.quiet import quiet_transformers
from neardup.pairs import check_pair_texts

if TYPE_CHECKING:
    from sentence_transformers import CrossEncoder

__all__ = [
    "MANIFEST",
    "RerankerManifest",
    "CrossEncoderReranker",
    "load_reranker",
    "is_reranker_folder",
]

#: Name of the manifest inside a trained re-ranker folder (its presence marks the folder).
MANIFEST = "neardup_reranker.json"
FORMAT = "neardup-cross-encoder-reranker"
FORMAT_VERSION = 1

_TRAIN_HINT = "train one with `neardup train cross-encoder PAIRS --output FOLDER`"


@dataclass(frozen=True)
class RerankerManifest:
    """What ``neardup_reranker.json`` records about a trained cross-encoder.

    ``threshold`` is the F1-best link threshold on the dev pairs, for scores computed with
    ``symmetric`` scoring; ``dev_metrics`` are the trained model's AP/F1/precision/recall there
    and ``baseline_metrics`` the base bi-encoder's cosine on the same pairs (None when not
    measured).
    """

    threshold: float
    symmetric: bool
    base_model: str
    max_length: int
    dev_metrics: dict[str, float]
    baseline_metrics: dict[str, float] | None = None
    options: dict[str, Any] = field(default_factory=dict)
    n_train_pairs: int = 0
    n_dev_pairs: int = 0
    training_seconds: float = 0.0
    versions: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "format_version": FORMAT_VERSION, **asdict(self)}

    def write(self, folder: Path) -> Path:
        path = Path(folder) / MANIFEST
        path.write_text(json.dumps(self.to_dict(), indent=2, default=float) + "\n", "utf-8")
        return path

    @classmethod
    def read(cls, folder: str | Path) -> "RerankerManifest":
        """Read and check the manifest of ``folder``; errors name the file and the fix."""
        path = Path(folder) / MANIFEST
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ModelError(
                f"{folder}: not a neardup re-ranker folder (no {MANIFEST}); {_TRAIN_HINT}"
            ) from None
        except (OSError, ValueError) as exc:
            raise ModelError(f"{path}: unreadable re-ranker manifest ({exc}); {_TRAIN_HINT}") from None
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            got = raw.get("format") if isinstance(raw, dict) else type(raw).__name__
            raise ModelError(
                f"{path}: not a neardup re-ranker manifest (format {got!r}, expected "
                f"{FORMAT!r}); {_TRAIN_HINT}"
            )
        if raw.get("format_version") != FORMAT_VERSION:
            raise ModelError(
                f"{path}: re-ranker manifest version {raw.get('format_version')!r}; this neardup "
                f"reads version {FORMAT_VERSION}. Retrain the re-ranker with this version"
            )
        threshold = raw.get("threshold")
        if not isinstance(threshold, (int, float)) or not (0.0 <= float(threshold) <= 1.0):
            raise ModelError(
                f"{path}: 'threshold' must be a number in [0, 1], got {threshold!r}; fix the "
                "file or retrain"
            )
        if not isinstance(raw.get("symmetric"), bool):
            raise ModelError(
                f"{path}: 'symmetric' must be true or false, got {raw.get('symmetric')!r}"
            )
        known = {f for f in cls.__dataclass_fields__}
        missing = [f for f in ("base_model", "max_length", "dev_metrics") if f not in raw]
        if missing:
            raise ModelError(f"{path}: missing {', '.join(missing)}; retrain the re-ranker")
        return cls(**{k: v for k, v in raw.items() if k in known})


def is_reranker_folder(path: object) -> bool:
    """Whether ``path`` names an existing folder with a re-ranker manifest."""
    if not isinstance(path, (str, Path)) or not str(path):
        return False
    p = Path(path)
    return p.is_dir() and (p / MANIFEST).is_file()


class CrossEncoderReranker:
    """A sentence-transformers ``CrossEncoder`` with one sigmoid output, as a :class:`Reranker`.

    Args:
        model: the loaded ``CrossEncoder`` (``num_labels=1``).
        name: how reports name it (the folder, for a loaded one).
        threshold: the calibrated link threshold (``None`` if unknown).
        symmetric: score ``(a, b)`` and ``(b, a)`` and average. Duplicates are symmetric but a
            cross-encoder reads its two inputs in different segments, so the two orders give
            slightly different scores; averaging makes ``score(a, b) == score(b, a)`` and
            removes that noise, at twice the cost. The stored threshold was calibrated with
            the setting in the manifest; use the same one.
        manifest: the folder's manifest, when loaded from one.
    """

    def __init__(
        self,
        model: "CrossEncoder",
        *,
        name: str,
        threshold: float | None = None,
        symmetric: bool = True,
        manifest: RerankerManifest | None = None,
    ) -> None:
        self.model = model
        self.name = name
        self.threshold = threshold
        self.symmetric = symmetric
        self.manifest = manifest

    @property
    def default_threshold(self) -> float | None:
        """The link threshold calibrated on dev pairs (F1-best), or None."""
        return self.threshold

    @classmethod
    def from_folder(
        cls,
        folder: str | Path,
        *,
        device: str | None = None,
        symmetric: bool | None = None,
    ) -> "CrossEncoderReranker":
        """Load a folder written by :func:`neardup.train.train_cross_encoder` (no network).

        ``symmetric=None`` uses the setting the threshold was calibrated with.
        """
        folder = Path(folder)
        if not folder.exists():
            raise ModelError(f"re-ranker folder {str(folder)!r} does not exist; {_TRAIN_HINT}")
        if not folder.is_dir():
            raise ModelError(
                f"re-ranker {str(folder)!r} is a file; give the folder that "
                "`neardup train cross-encoder --output` wrote"
            )
        manifest = RerankerManifest.read(folder)
        if symmetric is None:
            symmetric = manifest.symmetric
        elif symmetric != manifest.symmetric:
            warnings.warn(
                f"{folder}: its threshold {manifest.threshold:.4f} was calibrated with "
                f"symmetric={manifest.symmetric}, but scoring uses symmetric={symmetric}; the "
                "threshold may not fit these scores",
                UserWarning,
                stacklevel=2,
            )
        require("sentence_transformers", "models", "Re-ranking with a cross-encoder")
        from sentence_transformers import CrossEncoder

        from neardup.models.st_encoder import resolve_device

        try:
            with quiet_transformers():
                model = CrossEncoder(
                    str(folder),
                    device=resolve_device(device),
                    local_files_only=True,
                    max_length=int(manifest.max_length),
                )
        except Exception as exc:  # noqa: BLE001 - any load failure is the folder's
            raise ModelError(
                f"cannot load the cross-encoder in {str(folder)!r} ({type(exc).__name__}: "
                f"{exc}); retrain it with `neardup train cross-encoder`"
            ) from None
        if model.num_labels != 1:
            raise ModelError(
                f"{folder}: the cross-encoder has {model.num_labels} outputs; a re-ranker needs "
                "one (a duplicate probability). Retrain it with `neardup train cross-encoder`"
            )
        return cls(model, name=str(folder), threshold=float(manifest.threshold),
                   symmetric=bool(symmetric), manifest=manifest)

    def score(
        self,
        texts_a: Sequence[str],
        texts_b: Sequence[str],
        *,
        batch_size: int = 32,
        show_progress: bool = False,
    ) -> np.ndarray:
        """P(duplicate) per pair (float32 in [0, 1]); averaged over both orders if symmetric."""
        a = check_pair_texts(texts_a, "texts_a")
        b = check_pair_texts(texts_b, "texts_b")
        if len(a) != len(b):
            raise InputError(f"{len(a)} first texts but {len(b)} second texts; give pairs")
        if batch_size < 1:
            raise InputError(f"batch_size must be at least 1, got {batch_size}")
        n = len(a)
        if n == 0:
            return np.zeros(0, dtype=np.float32)
        pairs = list(zip(a, b))
        if self.symmetric:
            # one predict call for both orders: its length-sorted batching pads less
            pairs += list(zip(b, a))
        scores = self.model.predict(
            pairs, batch_size=batch_size, show_progress_bar=show_progress, convert_to_numpy=True
        )
        p = np.asarray(scores, dtype=np.float32).reshape(-1)
        if self.symmetric:
            p = (p[:n] + p[n:]) / 2
        if not np.isfinite(p).all():
            i = int(np.flatnonzero(~np.isfinite(p))[0])
            raise ModelError(f"{self.name}: the cross-encoder gave a non-finite score for pair {i}")
        return np.clip(p, 0.0, 1.0).astype(np.float32)

    def __repr__(self) -> str:
        t = "None" if self.threshold is None else f"{self.threshold:.4f}"
        return f"CrossEncoderReranker(name={self.name!r}, threshold={t}, symmetric={self.symmetric})"


def load_reranker(
    path: str | Path, *, device: str | None = None, symmetric: bool | None = None
) -> CrossEncoderReranker:
    """Load a re-ranker folder trained by ``neardup train cross-encoder``.

    Errors (:class:`~neardup.errors.ModelError`) name the folder and what is wrong with it: it
    does not exist, is a file, has no or an invalid ``neardup_reranker.json``, or its model
    cannot be loaded.
    """
    if isinstance(path, str) and not path.strip():
        raise ModelError(f"the re-ranker folder name is empty; {_TRAIN_HINT}")
    return CrossEncoderReranker.from_folder(path, device=device, symmetric=symmetric)

