"""Read CSV, TSV, JSON Lines and Parquet tables into pandas, with errors a user can act on.

Reading is faithful: every column is kept, CSV/TSV cells are read as strings (``"007"`` stays
``"007"``; an id column never turns into floats) and only empty cells count as missing, so
texts such as ``"NA"`` or ``"null"`` survive. JSON Lines keeps JSON types exactly (integers
with gaps become the nullable ``Int64``, not floats). Frames always come back with a fresh
``RangeIndex``: a stored Parquet index becomes an ordinary column rather than being lost.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import itertools
import json
import os
import re
import warnings
import zlib
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import pandas as pd

from neardup.errors import InputError
from neardup.io._messages import missing_column_error
from neardup.io.formats import Format, compression_of, detect_format, open_binary

# utf-8-sig reads plain UTF-8 and also drops the byte-order mark Excel writes, which would
# otherwise end up glued to the first column name ("\ufeffid").
DEFAULT_ENCODING = "utf-8-sig"
DEFAULT_BATCH_SIZE = 10_000
_DELIMITERS: dict[str, str] = {"csv": ",", "tsv": "\t"}
_FIELD_COUNT = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_FORMAT_NAMES: dict[str, str] = {
    "csv": "CSV",
    "tsv": "TSV",
    "jsonl": "JSON Lines",
    "parquet": "Parquet",
}


# ----------------------------------------------------------------------------- checks


def _check_file(path: Path) -> None:
    if not path.exists():
        parent = path.parent if str(path.parent) else Path(".")
        where = f" (looked in {str(parent.resolve())!r})" if not path.is_absolute() else ""
        raise InputError(f"File not found: {str(path)!r}{where}. Check the path and its spelling.")
    if path.is_dir():
        raise InputError(f"{str(path)!r} is a folder, not a file. Give the path of a table file.")
    if path.stat().st_size == 0:
        raise InputError(
            f"{str(path)!r} is empty (0 bytes). Expected a table with a header row or records."
        )


def _resolve_encoding(encoding: str | None) -> str:
    if encoding is None:
        return DEFAULT_ENCODING
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise InputError(
            f"Unknown encoding {encoding!r}. Pass a Python codec name to --encoding, such as "
            "utf-8, utf-16, cp1252 (Windows/Excel) or latin-1."
        ) from None
    return encoding


def _display_encoding(encoding: str) -> str:
    return "utf-8" if codecs.lookup(encoding).name in ("utf-8", "utf-8-sig") else encoding


# ------------------------------------------------------------------------ decode errors


def _locate_bad_bytes(path: Path, encoding: str) -> tuple[int, int, bytes, str] | None:
    """(byte offset, 1-based line, offending bytes, reason) of the first undecodable bytes.

    pandas reports positions relative to its internal read buffer, which is useless to a
    user, so on error the file is decoded again incrementally to find the true offset.
    """
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    fed = 0  # bytes fed to the decoder before the current chunk
    newlines = 0  # newlines in those bytes
    with open_binary(path) as fh:
        while True:
            chunk = fh.read(1 << 20)
            final = not chunk
            try:
                decoder.decode(chunk, final=final)
            except UnicodeDecodeError as exc:
                # exc.object is the tail of (buffered bytes + chunk) the codec looked at
                base = fed + len(chunk) - len(exc.object)
                offset = base + exc.start
                in_chunk = max(0, offset - fed)
                line = newlines + chunk[:in_chunk].count(b"\n") + 1
                return offset, line, bytes(exc.object[exc.start : exc.end]), str(exc.reason)
            if final:
                return None
            fed += len(chunk)
            newlines += chunk.count(b"\n")


def _decode_error(path: Path, encoding: str, exc: UnicodeDecodeError) -> InputError:
    shown = _display_encoding(encoding)
    found = _locate_bad_bytes(path, encoding)
    if found is not None:
        offset, line, bad, reason = found
        shown_bytes = " ".join(f"0x{b:02X}" for b in bad[:4])
        noun = "byte" if len(bad) == 1 else "bytes"
        where = f"{noun} {shown_bytes} at offset {offset} (line {line})"
    else:  # pragma: no cover - the codec failed in pandas but not here: report pandas' view
        reason, where = str(exc.reason), f"byte at position {exc.start} of a read buffer"
    others = (
        "--encoding cp1252 (Windows/Excel) or --encoding latin-1"
        if shown == "utf-8"
        else "--encoding utf-8"
    )
    return InputError(
        f"Cannot read {str(path)!r} as {shown}: {where} is not valid {shown} ({reason}). "
        f"The file is probably in another encoding: pass it with --encoding, for example "
        f"{others}."
    )


@contextlib.contextmanager
def _translate_errors(path: Path, fmt: Format, encoding: str) -> Iterator[None]:
    """Turn library exceptions raised while reading into :class:`InputError` messages."""
    name = _FORMAT_NAMES[fmt]
    try:
        yield
    except InputError:
        raise
    except UnicodeDecodeError as exc:
        raise _decode_error(path, encoding, exc) from None
    except pd.errors.EmptyDataError:
        raise InputError(
            f"{str(path)!r} is empty: it has no header row and no data. Expected a {name} "
            "table whose first line names the columns."
        ) from None
    except pd.errors.ParserError as exc:
        detail = str(exc).strip().replace("Error tokenizing data. C error: ", "")
        match = _FIELD_COUNT.search(detail)
        if match:
            expected, line, saw = match.groups()
            # pandas counts records, not physical lines: a quoted multi-line field is one
            detail = (f"record {line} (the header is record 1) has {saw} fields, but the "
                      f"header has {expected}")
        sep_hint = "a comma" if fmt == "csv" else "a tab"
        raise InputError(
            f"Cannot parse {str(path)!r} as {name}: {detail}. Fields that contain {sep_hint}, "
            'a quote or a line break must be enclosed in double quotes ("a, b"). If the file '
            "uses another separator, pass it with --sep (e.g. --sep ';'; sep= in Python), or "
            "pass the right --format."
        ) from None
    except PermissionError:
        raise InputError(
            f"Cannot read {str(path)!r}: permission denied. Check the file's permissions."
        ) from None
    except (EOFError, OSError, zlib.error) as exc:
        if isinstance(exc, (FileNotFoundError, IsADirectoryError)):
            raise
        compression = compression_of(path)
        what = f"{compression}-compressed {name}" if compression else name
        raise InputError(
            f"Cannot read {str(path)!r} as {what}: {exc}. The file may be truncated or not "
            "what its extension says; re-export it or pass the right --format."
        ) from None
    except _arrow_errors() as exc:
        raise InputError(
            f"Cannot read {str(path)!r} as Parquet: {exc}. Is it really a Parquet file? "
            "Re-export it or pass the right --format."
        ) from None


def _arrow_errors() -> tuple[type[Exception], ...]:
    import pyarrow as pa

    return (pa.ArrowException,)


# --------------------------------------------------------------------------- CSV / TSV


def delimiter(fmt: Format, sep: str | None) -> str:
    """The field separator of a CSV/TSV table: ``sep`` if given, else the format's own."""
    chosen = sep if sep is not None else _DELIMITERS[fmt]
    if chosen == "":
        raise InputError("The separator given with --sep is empty. Pass e.g. --sep ';'.")
    if chosen == "\\t":  # a literal backslash-t typed on the command line
        chosen = "\t"
    if len(chosen) != 1:
        # pandas would switch to its regex engine for a longer one, and Python's csv module
        # (used to check rows and to write the output) takes one character only
        raise InputError(
            f"The separator given with --sep is {chosen!r}: it must be one character "
            "(e.g. --sep ';' or --sep '\\t'). Convert the file first for a longer separator."
        )
    return chosen


def _csv_kwargs(
    fmt: Format, encoding: str, sep: str | None, path: Path | None = None
) -> dict[str, Any]:
    kwargs = _base_csv_kwargs(fmt, encoding, sep)
    if fmt == "tsv" and path is not None and _unquoted_tsv(path, kwargs):
        kwargs["quoting"] = csv.QUOTE_NONE
    return kwargs


def _base_csv_kwargs(fmt: Format, encoding: str, sep: str | None) -> dict[str, Any]:
    return {
        "sep": delimiter(fmt, sep),
        # Strings everywhere: ids like "007" or "1e5" must come back exactly as written.
        "dtype": str,
        # Only an empty cell is missing; "NA", "null", "None" are legitimate texts.
        "keep_default_na": False,
        "na_values": [""],
        "encoding": encoding,
        "compression": "infer",  # from the suffix: .gz, .bz2, .xz
        # With one field more per data row than the header (trailing separators), pandas would
        # otherwise make the first column the index, shifting every column one to the left and
        # losing the ids; the extra fields are checked by _check_extra_fields instead.
        "index_col": False,
    }


#: ``frame.attrs`` key set to "none" when a TSV was read without CSV quoting, so that
#: :func:`~neardup.io.write_table` writes its quotes back as they were.
QUOTING = "neardup_quoting"


def _enclosed(field: str) -> bool:
    return len(field) >= 2 and field[0] == '"' and field[-1] == '"'


def _looks_csv_quoted(row: list[str]) -> bool:
    """Whether a row split on tabs alone shows a CSV writer's quoting: a field enclosed in
    quotes with its inner quotes doubled (how minimal quoting writes a value holding a quote),
    or every field enclosed (quote-all writers). A quotation standing alone, like MRPC's
    '"The result is ... years."', is neither: a minimal-quoting writer would not have
    quoted it."""
    if row == ['""']:
        return True  # an empty text of a one-column table, as a CSV writer must write it
    for field in row:
        inner = field[1:-1]
        if _enclosed(field) and '""' in inner and '"' not in inner.replace('""', ""):
            return True
    return len(row) > 1 and all(_enclosed(f) for f in row)


def _unquoted_tsv(path: Path, kwargs: dict[str, Any]) -> bool:
    """Whether a TSV with quote characters is written without CSV quoting, as most NLP data
    is (MRPC, GLUE, PAWS-X): every line splits on the separator into the header's fields (or
    more, all empty) and no field is enclosed in quotes the way a CSV writer encloses them.
    Read with CSV quoting, such a file loses the quotes that open a field, and a field that
    opens a quote it never closes swallows the lines after it (MRPC's train file fails at
    record 101). Files without a quote character read the same either way (False)."""
    with _text(path, kwargs["encoding"]) as text:
        # a plain read finds the first quote fast; the split below is the slow pass
        if not any('"' in chunk for chunk in iter(lambda: text.read(1 << 20), "")):
            return False
    with _csv_rows(path, {**kwargs, "quoting": csv.QUOTE_NONE}) as rows:
        header = next(rows, [])
        n = len(header)
        for row in itertools.chain([header], rows):
            if not row:
                continue  # a blank line reads the same with or without quoting
            if len(row) < n or any(v.strip() for v in row[n:]):
                return False
            if _looks_csv_quoted(row):
                return False
    return True


def _keep_blank_lines(path: Path, kwargs: dict[str, Any]) -> bool:
    """In a one-column table, make a blank line an empty row (True when it does so).

    pandas skips blank lines by default, so in a file of one text per line every row after
    a blank line would get the wrong row number (the default id) and the blank text would be
    lost instead of being reported and kept as a singleton. With several columns a blank
    line is no record (it has none of the fields), so such tables keep pandas' default.
    """
    if len(_raw_header(path, kwargs)) != 1:
        return False
    kwargs["skip_blank_lines"] = False
    return True


def _without_trailing(frame: pd.DataFrame, path: Path, encoding: str) -> pd.DataFrame:
    """``frame`` without the rows the blank lines at the end of the file made: those are only
    the file's ending. Read from the file only when the last row is empty (a quoted ""
    is an empty row too, so the rows alone cannot tell)."""
    if not len(frame) or frame.iloc[-1].notna().any():
        return frame
    trailing = 0
    with _text(path, encoding) as text:
        for line in text:
            trailing = trailing + 1 if not line.rstrip("\r\n") else 0
    return frame.iloc[: max(0, len(frame) - trailing)]


def _csv_header(path: Path, kwargs: dict[str, Any]) -> list[str]:
    return [str(c) for c in pd.read_csv(path, nrows=0, **kwargs).columns]


def _read_csv(
    path: Path, fmt: Format, encoding: str, sep: str | None, columns: Sequence[str] | None
) -> pd.DataFrame:
    kwargs = _csv_kwargs(fmt, encoding, sep, path)
    blank_rows = _keep_blank_lines(path, kwargs)
    if columns is not None:
        header = _csv_header(path, kwargs)
        _check_columns(path, columns, header)
        kwargs["usecols"] = list(columns)
    with _extra_fields_checked(path, kwargs):
        frame = pd.read_csv(path, **kwargs)
    if blank_rows:
        frame = _without_trailing(frame, path, encoding)
    if columns is None:
        _remember_header(path, kwargs, frame)
    if kwargs.get("quoting") == csv.QUOTE_NONE:
        frame.attrs[QUOTING] = "none"
    return frame


#: ``frame.attrs`` key: pandas' name of a CSV column -> the name the file's header gives it,
#: where they differ (an empty name read as "Unnamed: 0", a repeated one as "text.1"), so that
#: :func:`~neardup.io.write_table` writes the header back as it was.
ORIGINAL_COLUMNS = "neardup_original_columns"


@contextlib.contextmanager
def _text(path: Path, encoding: str) -> Iterator[io.TextIOWrapper]:
    """The (maybe compressed) file as text, line endings as written."""
    with open_binary(path) as raw, io.TextIOWrapper(raw, encoding=encoding, newline="") as text:
        yield text


@contextlib.contextmanager
def _csv_rows(path: Path, kwargs: dict[str, Any]) -> Iterator[Any]:
    """The file's records as lists of fields (the csv module: quotes and line breaks as pandas
    reads them), for the checks pandas' reader cannot make."""
    with _text(path, kwargs["encoding"]) as text:
        yield csv.reader(text, delimiter=kwargs["sep"],
                         quoting=kwargs.get("quoting", csv.QUOTE_MINIMAL))


def _raw_header(path: Path, kwargs: dict[str, Any]) -> list[str]:
    with _csv_rows(path, kwargs) as reader:
        return next(reader, [])


def _remember_header(path: Path, kwargs: dict[str, Any], frame: pd.DataFrame) -> None:
    names = [str(c) for c in frame.columns]
    if not any(n.startswith("Unnamed: ") or "." in n for n in names):
        return  # nothing pandas could have renamed
    header = _raw_header(path, kwargs)
    if len(header) == len(names):
        renamed = {n: h for n, h in zip(names, header) if n != h}
        if renamed:
            frame.attrs[ORIGINAL_COLUMNS] = renamed


@contextlib.contextmanager
def _extra_fields_checked(path: Path, kwargs: dict[str, Any]) -> Iterator[None]:
    """Run a pandas CSV read; if some data row had more fields than the header, allow it only
    when every extra field is empty (a trailing separator), else refuse: pandas would drop
    them silently."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pd.errors.ParserWarning)
        yield
    if any(issubclass(w.category, pd.errors.ParserWarning) for w in caught):
        _check_extra_fields(path, kwargs)


def _check_extra_fields(path: Path, kwargs: dict[str, Any]) -> None:
    with _csv_rows(path, kwargs) as reader:
        header = next(reader, [])
        for record, row in enumerate(reader, start=1):
            extra = [v for v in row[len(header):] if v.strip()]
            if extra:
                raise InputError(
                    f"Cannot read {str(path)!r}: data row {record} (line {reader.line_num}) has "
                    f"{len(row)} fields but the header names {len(header)} "
                    f"({', '.join(map(repr, header))}); the extra value {extra[0]!r} has no "
                    "column. Add a name for it to the header, or quote fields that contain the "
                    "separator."
                )


def _iter_csv(
    path: Path,
    kwargs: dict[str, Any],
    columns: Sequence[str] | None,
    batch_size: int,
) -> Iterator[pd.DataFrame]:
    kwargs = dict(kwargs)
    if not _keep_blank_lines(path, kwargs):
        yield from _chunks(path, kwargs, columns, batch_size)
        return
    # A one-column table: the empty rows at its end may be the file's ending, so they are
    # held back until a row with text follows them or the file ends.
    held: list[pd.DataFrame] = []
    yielded = False
    for chunk in _chunks(path, kwargs, columns, batch_size):
        if held and chunk.notna().to_numpy().any():
            yield from held
            yielded, held = True, []
        held.append(chunk)
    if not held:
        return
    whole = _without_trailing(pd.concat(held), path, kwargs["encoding"])
    for start in range(0, len(whole), batch_size):
        yield whole.iloc[start : start + batch_size]
    if not len(whole) and not yielded:
        yield whole  # a header-only table still yields its one empty chunk, as pandas does


def _chunks(
    path: Path, kwargs: dict[str, Any], columns: Sequence[str] | None, batch_size: int
) -> Iterator[pd.DataFrame]:
    kwargs = dict(kwargs)
    if columns is not None:
        kwargs["usecols"] = list(columns)  # checked by iter_batches
    with pd.read_csv(path, chunksize=batch_size, **kwargs) as reader:
        while True:
            with _extra_fields_checked(path, kwargs):
                chunk = next(reader, None)
            if chunk is None:
                return
            yield chunk  # pandas numbers chunk rows globally already


# --------------------------------------------------------------------------- JSON Lines


def _iter_json_records(path: Path, encoding: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(1-based line number, object) for each non-blank line."""
    with open_binary(path) as raw, io.TextIOWrapper(raw, encoding=encoding) as text:
        for line_no, line in enumerate(text, start=1):
            if not line.strip():
                continue  # blank lines (a trailing newline, hand-edited files) carry nothing
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(
                    f"Cannot parse {str(path)!r} as JSON Lines: line {line_no} is not valid "
                    f"JSON ({exc.msg} at column {exc.colno}). Each line must hold one complete "
                    'JSON object, like {"id": 1, "text": "..."}; pretty-printed (multi-line) '
                    "JSON is not JSON Lines."
                ) from None
            if not isinstance(record, dict):
                raise InputError(
                    f"Cannot use {str(path)!r}: line {line_no} holds a JSON "
                    f"{type(record).__name__}, not an object. Each line must be one object "
                    'mapping column names to values, like {"id": 1, "text": "..."}.'
                )
            yield line_no, record


def _column_series(values: list[Any], index: pd.RangeIndex) -> pd.Series:
    series = pd.Series(values, index=index)
    kind = pd.api.types.infer_dtype(values, skipna=True) if series.dtype.kind == "f" else ""
    if kind == "mixed-integer-float":  # 1 and 0.5 in one column: 1 must not come back as 1.0
        return pd.Series(values, index=index, dtype=object)
    # pandas stores integers with gaps as floats (7 -> 7.0): keep them exact instead
    if kind == "integer":
        try:
            return pd.Series(pd.array(values, dtype="Int64"), index=index)
        except (TypeError, OverflowError):
            return pd.Series(values, index=index, dtype=object)
    return series


def _records_frame(records: list[dict[str, Any]], start: int) -> pd.DataFrame:
    order: dict[str, None] = {}
    for record in records:
        for key in record:
            order.setdefault(key, None)
    index = pd.RangeIndex(start, start + len(records))
    data = {key: _column_series([r.get(key) for r in records], index) for key in order}
    return pd.DataFrame(data, index=index)


def _read_jsonl(path: Path, encoding: str, columns: Sequence[str] | None) -> pd.DataFrame:
    records = [record for _, record in _iter_json_records(path, encoding)]
    if not records:
        raise InputError(
            f"{str(path)!r} holds no records (only blank lines). Expected one JSON object per "
            "line."
        )
    frame = _records_frame(records, 0)
    if columns is not None:
        _check_columns(path, columns, list(frame.columns))
        frame = frame[list(columns)]
    return frame


def _iter_jsonl(
    path: Path, encoding: str, columns: Sequence[str] | None, batch_size: int
) -> Iterator[pd.DataFrame]:
    batch: list[dict[str, Any]] = []
    start = 0
    for _, record in _iter_json_records(path, encoding):
        batch.append(record)
        if len(batch) == batch_size:
            yield _select(path, _records_frame(batch, start), columns, first=start == 0)
            start += len(batch)
            batch = []
    if batch:
        yield _select(path, _records_frame(batch, start), columns, first=start == 0)
    elif start == 0:
        raise InputError(
            f"{str(path)!r} holds no records (only blank lines). Expected one JSON object per "
            "line."
        )


def _select(
    path: Path, frame: pd.DataFrame, columns: Sequence[str] | None, *, first: bool
) -> pd.DataFrame:
    if columns is None:
        return frame
    if first:
        # JSON Lines has no header: the first batch's keys stand in for it
        _check_columns(path, columns, list(frame.columns))
    for name in columns:
        if name not in frame.columns:
            frame[name] = None  # a later batch where no record has this key
    return frame[list(columns)]


# ------------------------------------------------------------------------------ Parquet


def _parquet_columns(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    return [str(n) for n in pq.read_schema(path).names]


#: ``frame.attrs`` key: the Arrow schema a Parquet file was read with, so that writing the
#: rows back keeps each column's type (pandas alone turns a map into tuples, which Arrow
#: then cannot write, and a decimal's precision into the smallest that fits).
ARROW_SCHEMA = "neardup_arrow_schema"


def nullable_integers(arrow_type: Any) -> Any:
    """pandas' nullable integer dtype for an Arrow integer type: an int64 column with a
    missing value must not become float64 (9007199254740993 would read as ...992.0)."""
    import pyarrow as pa

    if pa.types.is_integer(arrow_type):
        return pd.api.types.pandas_dtype(str(arrow_type).capitalize().replace("Uint", "UInt"))
    return None


def _arrow_to_pandas(table: Any) -> pd.DataFrame:
    frame = table.to_pandas(types_mapper=nullable_integers)
    frame.attrs[ARROW_SCHEMA] = table.schema
    return frame


def _read_parquet(path: Path, columns: Sequence[str] | None) -> pd.DataFrame:
    import pyarrow.parquet as pq

    if columns is not None:
        _check_columns(path, columns, _parquet_columns(path))
    table = pq.read_table(path, columns=list(columns) if columns is not None else None)
    return _flatten_index(_arrow_to_pandas(table))  # reset_index keeps attrs


def _iter_parquet(
    path: Path, columns: Sequence[str] | None, batch_size: int
) -> Iterator[pd.DataFrame]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    start = 0
    with pq.ParquetFile(path) as pf:
        for batch in pf.iter_batches(
            batch_size=batch_size, columns=list(columns) if columns is not None else None
        ):
            frame = _arrow_to_pandas(pa.Table.from_batches([batch]))
            frame.index = pd.RangeIndex(start, start + len(frame))
            start += len(frame)
            yield frame


def _flatten_index(frame: pd.DataFrame) -> pd.DataFrame:
    """Make a stored (non-default) index an ordinary column so that writing keeps it."""
    idx = frame.index
    if isinstance(idx, pd.RangeIndex) and idx.name is None:
        if idx.start == 0 and idx.step == 1:
            return frame
        return frame.reset_index(drop=True)  # an unnamed range carries no data
    return frame.reset_index()


# ------------------------------------------------------------------------------ public


def _check_columns(path: Path, columns: Sequence[str], available: Sequence[str]) -> None:
    missing = [c for c in columns if c not in available]
    if missing:
        raise missing_column_error(str(path), missing, available, None)


def read_table(
    path: str | os.PathLike[str],
    format: str | None = None,
    *,
    encoding: str | None = None,
    sep: str | None = None,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Read a whole table into a DataFrame with a ``RangeIndex`` (row ``i`` is position ``i``).

    ``format`` overrides the extension (see :func:`detect_format`). ``encoding`` applies to
    text formats (default UTF-8, with or without BOM); ``sep`` overrides the CSV/TSV
    delimiter; both are ignored for Parquet, which stores typed UTF-8 data. ``columns``
    restricts the read to these columns (an error names any that do not exist).

    Raises :class:`~neardup.errors.InputError` for a missing or empty file, an undecodable
    byte (with its offset and line), a malformed row (with its line) or a missing column.
    """
    p = Path(path)
    fmt = detect_format(p, format)
    _check_file(p)
    enc = _resolve_encoding(encoding)
    with _translate_errors(p, fmt, enc):
        if fmt in ("csv", "tsv"):
            frame = _read_csv(p, fmt, enc, sep, columns)
        elif fmt == "jsonl":
            frame = _read_jsonl(p, enc, columns)
        else:
            frame = _read_parquet(p, columns)
    return frame


def iter_batches(
    path: str | os.PathLike[str],
    format: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    *,
    encoding: str | None = None,
    sep: str | None = None,
    columns: Sequence[str] | None = None,
) -> Iterator[pd.DataFrame]:
    """Stream a table as DataFrames of at most ``batch_size`` rows, in file order.

    Each batch's index holds the rows' global positions (the second batch of 1,000 rows
    starts at 1000), so positions mean the same as in :func:`read_table`. The file is
    checked (exists, not empty, known format, columns present) before this returns; format
    errors further in surface while iterating, with the same messages as ``read_table``.
    """
    is_int = isinstance(batch_size, (int, np.integer)) and not isinstance(batch_size, bool)
    if not is_int or batch_size < 1:
        raise InputError(f"batch_size must be a positive integer, got {batch_size!r}.")
    p = Path(path)
    fmt = detect_format(p, format)
    _check_file(p)
    enc = _resolve_encoding(encoding)
    size = int(batch_size)
    with _translate_errors(p, fmt, enc):
        # validated eagerly (columns, header, Parquet footer) so that mistakes show at once
        if fmt in ("csv", "tsv"):
            # once: for a TSV it scans the file for its quoting
            kwargs = _csv_kwargs(fmt, enc, sep, p)
            if columns is not None:
                _check_columns(p, columns, _csv_header(p, kwargs))
            batches = _iter_csv(p, kwargs, columns, size)
        elif fmt == "jsonl":
            batches = _iter_jsonl(p, enc, columns, size)
        else:
            if columns is not None:
                _check_columns(p, columns, _parquet_columns(p))
            else:
                _parquet_columns(p)
            batches = _iter_parquet(p, columns, size)
    return _translated(batches, p, fmt, enc)


def _translated(
    batches: Iterator[pd.DataFrame], path: Path, fmt: Format, encoding: str
) -> Iterator[pd.DataFrame]:
    with _translate_errors(path, fmt, encoding):
        yield from batches
