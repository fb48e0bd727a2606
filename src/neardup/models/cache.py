"""Where converted models live, and how a folder is written without ever being half there."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

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
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent))
    try:
        build(tmp)
        # mkdtemp creates the folder private (0700); a finished model is ordinary data.
        os.chmod(tmp, 0o755)
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
