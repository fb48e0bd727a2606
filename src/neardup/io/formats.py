"""Which table format a file holds, decided from its name (and, for ``.json``, its first byte)."""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
from pathlib import Path
from typing import IO, Literal, cast, get_args

from neardup.errors import InputError

Format = Literal["csv", "tsv", "jsonl", "parquet"]
FORMATS: tuple[Format, ...] = get_args(Format)

_EXTENSIONS: dict[str, Format] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",  # only if it is JSON Lines: checked by _check_json_lines
    ".parquet": "parquet",
    ".pq": "parquet",
}
# Names accepted by ``--format`` besides the canonical ones.
_ALIASES: dict[str, Format] = {"ndjson": "jsonl", "json": "jsonl", "pq": "parquet", "tab": "tsv"}
# Compression of text formats, by the outer suffix. Parquet compresses internally.
COMPRESSIONS: dict[str, str] = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz"}
_TEXT_FORMATS: frozenset[Format] = frozenset({"csv", "tsv", "jsonl"})


def _accepted() -> str:
    return ", ".join(sorted(_EXTENSIONS)) + " (text formats also as .gz, .bz2, .xz)"


def compression_of(path: str | os.PathLike[str]) -> str | None:
    """The compression implied by the file name (``"gzip"``, ``"bz2"``, ``"xz"``) or None."""
    return COMPRESSIONS.get(Path(path).suffix.lower())


def open_binary(path: str | os.PathLike[str]) -> IO[bytes]:
    """Open ``path`` for reading, transparently decompressing by its suffix."""
    compression = compression_of(path)
    if compression == "gzip":
        return cast(IO[bytes], gzip.open(path, "rb"))
    if compression == "bz2":
        return cast(IO[bytes], bz2.open(path, "rb"))
    if compression == "xz":
        return cast(IO[bytes], lzma.open(path, "rb"))
    return open(path, "rb")


def _check_json_lines(path: Path) -> None:
    """Refuse a ``.json`` file holding one JSON array, which is not JSON Lines."""
    if not path.is_file():
        return  # output file, or a missing file the reader reports with a better message
    try:
        with open_binary(path) as fh:
            head = fh.read(4096)
    except OSError:
        return  # let the reader report it
    first = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if first == b"[":
        raise InputError(
            f"{str(path)!r} holds a JSON array, but neardup reads JSON Lines (one object per "
            'line, like {"id": 1, "text": "..."}). Convert it, for example with '
            f"`jq -c '.[]' {path.name} > {path.stem}.jsonl`, or save it as CSV or Parquet."
        )


def detect_format(path: str | os.PathLike[str], override: str | None = None) -> Format:
    """The format of ``path``: ``override`` if given, else from the extension.

    Recognised: ``.csv``; ``.tsv``/``.tab``; ``.jsonl``/``.ndjson`` and ``.json`` holding JSON
    Lines; ``.parquet``/``.pq``. Text formats may be compressed (``.csv.gz``, ``.jsonl.xz``).
    """
    p = Path(path)
    if override is not None:
        key = override.strip().lower().lstrip(".")
        fmt = _ALIASES.get(key, key)
        if fmt not in FORMATS:
            raise InputError(
                f"Unknown format {override!r}. Use one of: {', '.join(FORMATS)}."
            )
        return cast(Format, fmt)

    suffixes = [s.lower() for s in p.suffixes]
    compressed = bool(suffixes) and suffixes[-1] in COMPRESSIONS
    ext = suffixes[-2] if compressed and len(suffixes) >= 2 else (suffixes[-1] if suffixes else "")
    fmt = _EXTENSIONS.get(ext)
    if fmt is None or (compressed and fmt not in _TEXT_FORMATS):
        what = f"extension {''.join(p.suffixes)!r}" if p.suffixes else "no extension"
        why = (
            " Parquet compresses internally: store it uncompressed as .parquet."
            if fmt == "parquet"
            else ""
        )
        raise InputError(
            f"Cannot tell the format of {str(p)!r} ({what}). Accepted extensions: "
            f"{_accepted()}.{why} Rename the file or pass --format "
            f"{{{','.join(FORMATS)}}}."
        )
    if ext == ".json":
        _check_json_lines(p)
    return fmt
