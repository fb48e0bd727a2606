"""Atomic writes: the user's existing files are replaced only by complete new ones.

Every output goes to a temporary name in the *same* folder as its destination and is moved
into place with :func:`os.replace`, which is atomic on POSIX and Windows when source and
destination are on the same filesystem (hence "same folder", never ``/tmp``). A crash, a full
disk or an exception half-way leaves the old file untouched and no stray temporary files.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
from pathlib import Path
from typing import Iterable, Iterator

from neardup.errors import InputError

_COMPRESSION_SUFFIXES = frozenset({".gz", ".bz2", ".xz", ".zst", ".zip"})


def _temp_sibling(path: Path, kind: str) -> Path:
    """A hidden, unique name next to ``path`` that keeps its extension.

    The extension is kept so that tools which infer the format or compression from the name
    (pandas ``compression="infer"``) treat the temporary file like the final one.
    """
    suffixes = path.suffixes
    compressed = bool(suffixes) and suffixes[-1] in _COMPRESSION_SUFFIXES
    keep = "".join(suffixes[-2:]) if compressed else path.suffix
    stem = path.name[: len(path.name) - len(keep)] if keep else path.name
    return path.with_name(f".{stem}.{kind}-{secrets.token_hex(4)}{keep}")


def _fsync_file(path: Path) -> None:
    # Flush file contents to disk before the rename; otherwise a power loss right after the
    # rename can leave a zero-length file under the final name on some filesystems.
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def _check_not_dir(path: Path) -> None:
    if path.is_dir():
        raise InputError(
            f"Cannot write {str(path)!r}: it is an existing folder. Give a file name instead."
        )


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it onto ``path`` if the block succeeds.

    The temporary file is not created: the caller writes it (with any library). On success it
    replaces ``path`` in one step, keeping the permission bits of the file it replaces. On any
    exception it is deleted and ``path`` is left as it was. Missing parent folders are created.

    >>> with atomic_path("out.csv") as tmp:          # doctest: +SKIP
    ...     df.to_csv(tmp, index=False)
    """
    final = _absolute(path)
    _check_not_dir(final)
    make_parent(final, folder=False)
    tmp = _temp_sibling(final, "tmp")
    try:
        yield tmp
        if not tmp.exists():
            raise RuntimeError(f"nothing was written to the temporary file for {str(final)!r}")
        _fsync_file(tmp)
        if final.exists():
            # mkstemp-like 0600 files would silently tighten permissions of user files
            shutil.copymode(final, tmp)
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def _staged_files(staging: Path) -> list[Path]:
    return sorted(
        p.relative_to(staging) for p in staging.rglob("*") if p.is_file() or p.is_symlink()
    )


def _check_destination(root: Path, dst: Path) -> None:
    """Refuse a destination inside ``root`` that a folder, or a file standing where one of its
    folders should be, blocks."""
    if dst.is_dir():
        raise InputError(
            f"Cannot write {str(dst)!r}: a folder with that name is in the way. "
            "Move it elsewhere and try again."
        )
    for parent in dst.parents:
        if parent == root:
            return
        if parent.is_file():
            raise InputError(
                f"Cannot write {str(dst)!r}: the file {str(parent)!r} is in the way of its "
                "folder. Move it elsewhere and try again."
            )


def _absolute(path: str | os.PathLike[str]) -> Path:
    # "." has no name to put a temporary sibling next to; its absolute form has
    final = Path(path).absolute()
    if not final.name:
        raise InputError(f"Cannot write to {str(path)!r}: give a file or folder below it.")
    return final


def make_parent(final: Path, *, folder: bool = True) -> None:
    """Create ``final``'s parent folders, or say which path is in the way: a file where a
    folder is needed, or, for a ``folder``, a link to nowhere at ``final`` (which would make
    the last rename fail after all the work; a file simply replaces such a link)."""
    if folder and final.is_symlink() and not final.exists():
        raise InputError(
            f"Cannot write {str(final)!r}: it is a link to {os.readlink(final)!r}, which does "
            "not exist. Remove the link or give another name."
        )
    for parent in [final.parent, *final.parent.parents]:
        if parent.exists():
            if not parent.is_dir():
                raise InputError(
                    f"Cannot write {str(final)!r}: {str(parent)!r} is a file, not a folder. "
                    "Give a path below a folder."
                )
            break
    final.parent.mkdir(parents=True, exist_ok=True)


def check_output_folder(output: Path, manifest: str, kind: str, command: str) -> None:
    """Refuse, before any work, an output that is a file or a non-empty folder that this kind
    of run did not write (no ``manifest`` in it): the run replaces the folder."""
    if output.exists() and not output.is_dir():
        raise InputError(f"Cannot write the {kind} to {str(output)!r}: it is a file. Give a "
                         "folder name.")
    if output.is_dir() and any(output.iterdir()) and not (output / manifest).is_file():
        raise InputError(
            f"{str(output)!r} already exists and is not a {kind} written by `{command}`; "
            "choose a new folder, or empty or delete that one."
        )


def _staging_for(directory: str | os.PathLike[str]) -> tuple[Path, Path]:
    """The absolute output folder and a fresh staging folder beside it (same filesystem)."""
    final = _absolute(directory)
    if final.exists() and not final.is_dir():
        raise InputError(
            f"Cannot write into {str(final)!r}: it is a file, not a folder. "
            "Give a folder name that does not exist yet or is a folder."
        )
    make_parent(final)
    staging = _temp_sibling(final, "staging")
    staging.mkdir()
    return final, staging


@contextlib.contextmanager
def atomic_output_dir(
    directory: str | os.PathLike[str], *, last: Iterable[str] = (), ledger: bool = False,
    keep: Iterable[str | os.PathLike[str]] = (),
) -> Iterator[Path]:
    """Write several files into a staging folder; move them into ``directory`` only on success.

    Yields a fresh staging folder created next to ``directory`` (same filesystem, so moves are
    renames). When the block succeeds, ``directory`` is created if needed and each staged file
    (sub-folders included) replaces its counterpart with :func:`os.replace`, one by one.
    The folder is merged into, never wiped. With ``ledger`` (the CLI's report folders), the
    files written are listed in :data:`OUTPUTS_LEDGER`, and of the files this run does not
    write, those an earlier ledger run listed are removed, so a ``summary.json`` or
    ``deduplicated.tsv`` of another run cannot be taken for this one's; the user's own files
    stay, and so do the files named in ``keep`` (the run's own inputs: "dedup o/clean.csv -o o"
    reads a file the previous run wrote). (Index, model and scorer folders name their files in
    their own manifests.) If the block raises, the staging folder is deleted and ``directory``
    is not touched.

    ``last`` names files (relative to the folder) moved after all others. Put the file that
    readers check first there (an index manifest): a reader that sees the new one then also
    sees every other new file.
    """
    final, staging = _staging_for(directory)
    try:
        yield staging
        final.mkdir(exist_ok=True)
        last_set = {Path(name) for name in last}
        stale: list[Path] = []
        if ledger:
            written = [p for p in _staged_files(staging) if p != Path(OUTPUTS_LEDGER)]
            inputs = {_resolved(Path(k)) for k in keep}
            stale = [p for p in _ledger(final)
                     if p not in set(written) and _resolved(final / p) not in inputs]
            (staging / OUTPUTS_LEDGER).write_text(
                json.dumps({"files": [p.as_posix() for p in written]}, indent=1) + "\n",
                encoding="utf-8",
            )
        staged = _staged_files(staging)
        # the ledger goes last of all: it names files that are then all in place
        book = Path(OUTPUTS_LEDGER)
        ordered = [p for p in staged if p not in last_set and p != book] + [
            p for p in staged if p in last_set] + ([book] if ledger else [])
        # every obstacle is found before the first file moves: a half-updated folder would
        # mix this run's outputs with an earlier run's
        for rel in ordered:
            _check_destination(final, final / rel)
        # every file is on disk before the first rename, so the renames follow one another
        # at once: a failure can no longer strike between them
        for rel in ordered:
            if (staging / rel).is_file():
                _fsync_file(staging / rel)
        for rel in ordered:
            src, dst = staging / rel, final / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.is_file() and dst.exists():
                shutil.copymode(dst, src)
            os.replace(src, dst)
        # after the new files are in place: a failure here leaves an old file, not a gap
        for rel in stale:
            with contextlib.suppress(FileNotFoundError, IsADirectoryError, PermissionError):
                (final / rel).unlink()
    finally:
        shutil.rmtree(staging, ignore_errors=True)


#: Hidden file in an output folder naming the files the last :func:`atomic_output_dir` run
#: wrote there (so that the next run can remove those it does not write again).
OUTPUTS_LEDGER = ".neardup-outputs.json"


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:  # pragma: no cover - a loop of links
        return path.absolute()


def _ledger(folder: Path) -> list[Path]:
    """The files an earlier run listed in ``folder``'s ledger; only plain relative names inside
    the folder (a damaged or edited ledger must not reach outside it)."""
    try:
        names = json.loads((folder / OUTPUTS_LEDGER).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    out = []
    for name in names if isinstance(names, list) else []:
        rel = Path(name) if isinstance(name, str) else None
        if rel is not None and not rel.is_absolute() and ".." not in rel.parts and rel.parts:
            out.append(rel)
    return out


def make_readable(folder: Path) -> None:
    """Folders 0755 and files 0644 under ``folder`` (itself included): safetensors writes
    0600 whatever the umask, and a model folder is meant to be shared."""
    os.chmod(folder, 0o755)
    for root, dirs, files in os.walk(folder):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o755)
        for f in files:
            os.chmod(os.path.join(root, f), 0o644)


@contextlib.contextmanager
def atomic_replace_dir(directory: str | os.PathLike[str]) -> Iterator[Path]:
    """Write a whole folder in a staging folder; on success it *replaces* ``directory``.

    Unlike :func:`atomic_output_dir`, nothing of an earlier ``directory`` survives (a model
    folder must not keep files of the model it replaces). If the block raises, ``directory``
    is left as it was. The old folder is moved aside, the new one renamed into place, then the
    old one deleted.
    """
    final, staging = _staging_for(directory)
    previous = _temp_sibling(final, "previous")
    try:
        yield staging
        make_readable(staging)  # the folders replaced this way are models
        for file in staging.rglob("*"):
            if file.is_file():
                _fsync_file(file)
        if final.exists():
            os.replace(final, previous)
        os.replace(staging, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(previous, ignore_errors=True)
