"""Write tables atomically in the format their name implies."""

from __future__ import annotations

import bz2
import csv
import gzip
import json
import lzma
import os
from pathlib import Path

import pandas as pd

from neardup.errors import InputError
from neardup.io.atomic import atomic_path
from neardup.io.formats import compression_of, detect_format
from neardup.io.readers import ARROW_SCHEMA, ORIGINAL_COLUMNS, QUOTING, delimiter
from neardup.io.values import plain_value


def _string_or_missing(value: object) -> object:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    return str(value)


def _arrow_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Make object columns of mixed types (ints and strings in one id column) writable.

    Arrow needs one type per column. Rather than failing after the work is done, such a
    column is written as strings; missing values stay missing.
    """
    import pyarrow as pa

    out = df.copy()
    for name in out.columns:
        if out[name].dtype != object:
            continue
        try:
            pa.array(out[name], from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            out[name] = out[name].map(_string_or_missing)
    return out


def _write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Columns read from Parquet are written back with the types they were read with."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = df.attrs.get(ARROW_SCHEMA)
    names = [str(c) for c in df.columns]
    if not isinstance(schema, pa.Schema) or len(set(names)) != len(names):
        df.to_parquet(path, index=False)  # not read from Parquet, or names a schema cannot key
        return
    known = {f.name: f for f in schema}
    arrays, fields = [], []
    errors = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError)
    for name, col in zip(names, df.columns):
        field = known.get(name)
        values = df[col]
        try:
            inferred = pa.Array.from_pandas(values)
        except errors:
            inferred = None
        arr = inferred
        if field is not None and not (inferred is not None and inferred.type.equals(field.type)):
            numeric = inferred is not None and all(
                pa.types.is_integer(t) or pa.types.is_floating(t)
                for t in (inferred.type, field.type))
            try:
                if numeric:
                    # a safe cast refuses 1.5 into int64 (a column the caller changed)
                    arr = inferred.cast(field.type, safe=True)
                else:
                    # maps, decimals, dictionaries, narrow structs: the values as read
                    arr = pa.array(values.astype(object).where(values.notna(), None),
                                   type=field.type, from_pandas=True)
            except errors:
                arr = inferred  # changed by the caller: the type pandas gives it
        if arr is None:
            raise pa.ArrowInvalid(f"column {name!r} cannot be written to Parquet")
        arrays.append(arr)
        same = field is not None and arr.type.equals(field.type)
        fields.append(field if same else pa.field(name, arr.type))
    pq.write_table(pa.Table.from_arrays(arrays, schema=pa.schema(fields)), path)


def _write_jsonl(df: pd.DataFrame, path: Path, compression: str | None, encoding: str) -> None:
    # not DataFrame.to_json: it rounds floats to 10 decimals (1e-12 -> 0.0)
    opener = {"gzip": gzip.open, "bz2": bz2.open, "xz": lzma.open}.get(compression or "", open)
    names = [str(c) for c in df.columns]
    with opener(path, "wt", encoding=encoding, newline="\n") as fh:
        for row in df.itertuples(index=False, name=None):
            record = {k: plain_value(v, iso_dates=True) for k, v in zip(names, row)}
            fh.write(json.dumps(record, ensure_ascii=False, allow_nan=False, default=str))
            fh.write("\n")


def _unquoted(df: pd.DataFrame, sep: str) -> bool:
    """Write without CSV quoting when the table was read so (``read_table`` marks it) and no
    value needs quotes to survive: one holding the separator or a line break would break the
    row."""
    if df.attrs.get(QUOTING) != "none":
        return False
    if len(df.columns) == 1:
        values = df[df.columns[0]]
        if (values.isna() | (values.astype(str) == "")).any():
            return False  # an empty one-field record can only be written quoted ("")
    for col in df.columns:
        values = df[col]
        if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
            text = values.dropna().astype(str)
            if (text.str.contains(sep, regex=False) | text.str.contains(r"[\r\n]")).any():
                return False
    return True


def write_table(
    df: pd.DataFrame,
    path: str | os.PathLike[str],
    format: str | None = None,
    *,
    encoding: str = "utf-8",
    sep: str | None = None,
) -> Path:
    """Write ``df`` to ``path`` (format from the extension unless ``format`` is given).

    The table is written to a temporary file in the same folder and renamed over ``path``
    only once complete, so an existing file is never left half-written. The DataFrame index
    is not written: :func:`~neardup.io.read_table` returns a plain ``RangeIndex``. CSV and TSV
    are UTF-8 without BOM (``sep`` overrides their delimiter); JSON Lines keeps non-ASCII
    characters as they are, writes numbers as Python's ``json`` does (shortest round-trip
    form: ``1e-12`` stays ``1e-12``, ``1`` stays ``1``) and dates as ISO 8601. ``.gz``/``.bz2``/``.xz`` names are compressed. Returns the path written.
    """
    final = Path(path)
    fmt = detect_format(final, format)
    compression = compression_of(final)
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"write_table needs a pandas DataFrame, got {type(df).__name__}")
    try:
        with atomic_path(final) as tmp:
            if fmt in ("csv", "tsv"):
                renamed = df.attrs.get(ORIGINAL_COLUMNS) or {}
                chosen = delimiter(fmt, sep)
                df.to_csv(
                    tmp,
                    sep=chosen,
                    header=[str(renamed.get(str(c), c)) for c in df.columns],
                    index=False,
                    encoding=encoding,
                    compression=compression,
                    quoting=csv.QUOTE_NONE if _unquoted(df, chosen) else csv.QUOTE_MINIMAL,
                )
            elif fmt == "jsonl":
                _write_jsonl(df, tmp, compression, encoding)
            else:
                import pyarrow as pa

                try:
                    _write_parquet(df, tmp)
                except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
                    df_safe = _arrow_safe(df)
                    df_safe.to_parquet(tmp, index=False)
    except PermissionError:
        raise InputError(
            f"Cannot write {str(final)!r}: permission denied. Choose a folder you can write to."
        ) from None
    return final
