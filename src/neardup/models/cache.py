"""Where converted models live, and how a folder is written without ever being half there."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from neardup.io.atomic import make_parent, make_readable

CACHE_ENV = "NEARDUP_CACHE"


def cache_root() -> Path:
    """``$NEARDUP_CACHE`` if set, else ``~/.cache/neardup``."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "neardup"


def build_folder_atomically(final: Path, build: Callable[[Path], object]) -> Path:
    """Return ``final``, creating it with ``build(tmp_dir)`` if it does not exist yet.

    ``build`` fills a temporary sibling folder that is renamed into place only when it has
    finished, so a crash or Ctrl-C leaves either nothing or a complete folder. If another
    process finishes first, its folder wins and ours is discarded.
    """
    if final.is_dir():
        return final
    make_parent(final)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent))
    try:
        build(tmp)
        # mkdtemp creates the folder private (0700) and safetensors writes 0600 files; a
        # finished model is ordinary data that other users of a shared cache must read
        make_readable(tmp)
        try:
            os.rename(tmp, final)
        except OSError:
            if not final.is_dir():
                raise
            # A concurrent build got there first; its result is as good as ours.
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final


def package_versions(packages: tuple[str, ...]) -> dict[str, str]:
    """Installed versions of ``packages`` (those not installed are left out), for manifests."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for package in packages:
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            pass
    return found


def source_stamped_name(
    preset_name: str, kind: str, version: int, source: Path, settings: tuple[object, ...],
    files: tuple[str, ...],
) -> str:
    """``{preset}-{kind}-v{version}-{digest}``: one cache folder per preset, build settings and
    source build (the digest covers the source folder's path and its files' sizes and times), so
    a rebuilt source or changed settings get a fresh folder."""
    import hashlib

    stamp = [str(source.resolve()), str(version), *map(str, settings)]
    for file in files:
        path = source / file
        if path.is_file():
            info = path.stat()
            stamp.append(f"{file}:{info.st_size}:{info.st_mtime_ns}")
    digest = hashlib.sha1("\n".join(stamp).encode()).hexdigest()[:10]
    return f"{preset_name}-{kind}-v{version}-{digest}"
