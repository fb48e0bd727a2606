"""Turn a table into the library's view of it: one text and one id per row.

Inside the library rows are addressed by position ``0..n-1`` (see docs/CONTRACTS.md); the
user's ids only come back at the output edge. Rows whose text is empty are *kept* and
reported in ``empty_rows``, so that every input row appears in the output and positions keep
matching the user's file.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import numbers
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from neardup.errors import InputError
from neardup.io._messages import missing_column_error, quoted_list
from neardup.text import is_blank

_EXAMPLES = 3  # offending values / rows named in a message before "..."
_SCALAR_TEXT = (numbers.Number, _dt.date, _dt.time, _dt.timedelta, np.datetime64, np.timedelta64)


@dataclass(frozen=True, eq=False)
class Collection:
    """The rows of one input table, ready for the pipeline.

    ``texts[i]`` and ``ids[i]`` belong to row ``i`` of ``frame`` (by position). ``empty_rows``
    lists positions whose text is empty or only whitespace: they stay in the collection (and
    in the output) but have nothing to compare.
    """

    ids: list[str] = field(repr=False)
    texts: list[str] = field(repr=False)
    empty_rows: list[int] = field(repr=False)
    frame: pd.DataFrame = field(repr=False)
    source: str = ""
    text_columns: tuple[str, ...] = ()
    id_column: str | None = None

    def __len__(self) -> int:
        return len(self.texts)

    def __repr__(self) -> str:
        return (
            f"Collection(source={self.source!r}, rows={len(self)}, "
            f"text_columns={list(self.text_columns)!r}, id_column={self.id_column!r}, "
            f"empty_rows={len(self.empty_rows)})"
        )


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        result = pd.isna(value)
    except (TypeError, ValueError):
        return False
    # pd.isna of a list or array is an array: such values are not "missing", they are wrong
    return isinstance(result, (bool, np.bool_)) and bool(result)


def _bad_value(source: str, row: int, column: str, value: Any, role: str, fix: str) -> InputError:
    kind = type(value).__name__
    return InputError(
        f"{source!r} row {row}, column {column!r} holds a {kind} ({_short(value)}), "
        f"which cannot be used as {role}. {fix}"
    )


@dataclass(frozen=True)
class _Options:
    """How the user names the columns, for error messages."""

    text: str
    id: str
    no_id: str


def _text_values(series: pd.Series, column: str, source: str, opt: "_Options") -> list[str]:
    """The column as strings: missing -> "", numbers/dates -> str, containers -> error."""
    values = series.tolist()
    if pd.api.types.is_string_dtype(series.dtype) and series.dtype != object:
        return [v if isinstance(v, str) else "" for v in values]
    out: list[str] = []
    for row, value in enumerate(values):
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, (list, tuple, dict, set, frozenset, np.ndarray, bytes, bytearray)):
            raise _bad_value(
                source,
                row,
                column,
                value,
                "text",
                "Text columns must hold strings (numbers are converted). Turn the value into a "
                f"string first (e.g. join the list), or choose other columns with {opt.text}.",
            )
        elif _is_missing(value):
            out.append("")
        elif isinstance(value, _SCALAR_TEXT):
            out.append(str(value))
        else:
            raise _bad_value(
                source,
                row,
                column,
                value,
                "text",
                f"Text columns must hold strings or numbers; choose other columns with {opt.text}.",
            )
    return out


def _id_string(value: Any) -> str | None:
    """The id as a string, None if missing; raises TypeError for unusable types."""
    if isinstance(value, str):
        return value if value.strip() else None
    if _is_missing(value):
        return None
    if isinstance(value, (bool, np.bool_)):
        raise TypeError
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, decimal.Decimal):  # Parquet decimal(p, 0) ids from databases
        if not value.is_finite():
            raise TypeError
        return str(int(value)) if value == value.to_integral_value() else str(value)
    if isinstance(value, numbers.Real):
        # integer ids stored as floats (a numeric column with gaps elsewhere): 7.0 -> "7"
        as_float = float(value)
        return str(int(as_float)) if as_float.is_integer() else repr(as_float)
    raise TypeError


def _ids(frame: pd.DataFrame, column: str, source: str, opt: "_Options") -> list[str]:
    ids: list[str] = []
    missing: list[int] = []
    for row, value in enumerate(frame[column].tolist()):
        try:
            text = _id_string(value)
        except TypeError:
            raise _bad_value(
                source,
                row,
                column,
                value,
                "an id",
                f"Ids must be strings or integers: pick another column with {opt.id}, or "
                f"{opt.no_id} to use row numbers as ids.",
            ) from None
        if text is None:
            missing.append(row)
            text = ""
        ids.append(text)
    if missing:
        shown = ", ".join(str(r) for r in missing[:_EXAMPLES])
        more = f" ({len(missing)} rows in all)" if len(missing) > _EXAMPLES else ""
        raise InputError(
            f"{source!r} column {column!r} has no id in row{'s' if len(missing) > 1 else ''} "
            f"{shown}{more} (rows counted from 0). Every row needs an id: fill them in, or "
            f"{opt.no_id} to use row numbers as ids."
        )
    _check_unique(ids, column, source, opt)
    return ids


def _check_unique(ids: list[str], column: str, source: str, opt: "_Options") -> None:
    series = pd.Series(ids)
    dup_mask = series.duplicated(keep=False).to_numpy()
    if not dup_mask.any():
        return
    rows_by_id: dict[str, list[int]] = {}
    for row in np.flatnonzero(dup_mask).tolist():
        rows_by_id.setdefault(ids[row], []).append(row)
    examples = []
    for value, rows in list(rows_by_id.items())[:_EXAMPLES]:
        listed = ", ".join(str(r) for r in rows[:_EXAMPLES])
        if len(rows) > _EXAMPLES:
            listed += f" and {len(rows) - _EXAMPLES} more"
        examples.append(f"{value!r} in rows {listed}")
    count = len(rows_by_id)
    values = "value occurs" if count == 1 else "values occur"
    raise InputError(
        f"{source!r} column {column!r} is not unique: {count} {values} more than once, "
        f"e.g. {'; '.join(examples)} (rows counted from 0). Ids must be unique: fix the file, "
        f"or {opt.no_id} to use row numbers (0, 1, 2, ...) as ids."
    )


def load_collection(
    df: pd.DataFrame,
    text_columns: str | Sequence[str],
    id_column: str | None,
    *,
    source: str,
    text_option: str = "--text",
    id_option: str = "--id",
    no_id: str = "drop --id",
) -> Collection:
    """Pick the text and id of every row of ``df``.

    Several ``text_columns`` are joined with one space, skipping empty parts, so a missing
    title does not leave a leading space. Numbers in text columns are converted to strings;
    lists or objects are refused. ``id_column=None`` uses row numbers ``"0", "1", ...`` as
    ids. ``source`` (usually the file name) is used in error messages, and so are the options
    that name the text and id columns (``text_option``, ``id_option``) and the advice for ids
    that cannot be used (``no_id``), e.g. ``--against-text`` for a second file.

    Raises :class:`~neardup.errors.InputError` for a missing column (listing those that
    exist), a table without rows, unusable values, and missing or duplicated ids.
    """
    opt = _Options(text_option, id_option, no_id)
    columns = [text_columns] if isinstance(text_columns, str) else list(text_columns)
    available = list(df.columns)
    if not columns:
        raise InputError(
            f"No text column given for {source!r}. Name one or more with {opt.text}; available "
            f"columns: {quoted_list(available)}."
        )
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise InputError(
            f"Text column {quoted_list(repeated)} is given more than once; give each column "
            f"once with {opt.text}."
        )
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise missing_column_error(source, missing, available, opt.text)
    if id_column is not None and id_column not in df.columns:
        raise missing_column_error(
            source, [id_column], available, f"{opt.id} (or {opt.no_id} to use row numbers)"
        )
    if len(df) == 0:
        raise InputError(
            f"{source!r} has no rows (only a header, or no records). There is nothing to "
            "process: check that this is the right file."
        )

    parts = [_text_values(df[c], c, source, opt) for c in columns]
    if len(parts) == 1:
        texts = parts[0]
    else:
        texts = [" ".join(p for p in row if p.strip()) for row in zip(*parts)]
    empty_rows = [i for i, t in enumerate(texts) if is_blank(t)]  # as dedup counts them
    ids = ([str(i) for i in range(len(df))] if id_column is None
           else _ids(df, id_column, source, opt))
    return Collection(
        ids=ids,
        texts=texts,
        empty_rows=empty_rows,
        frame=df,
        source=source,
        text_columns=tuple(columns),
        id_column=id_column,
    )
