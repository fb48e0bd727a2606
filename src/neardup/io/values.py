"""Table cells as plain Python values, for JSON output and for search results."""

from __future__ import annotations

import datetime
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["plain_value"]


def plain_value(value: Any, *, iso_dates: bool = False) -> Any:
    """``value`` as plain Python: numpy scalars unwrapped, arrays and tuples as lists (Parquet
    list columns come back as arrays), dict keys as strings, and missing values (None, NaN,
    ``pd.NA``, ``NaT``) and infinities, which JSON cannot hold, as None. With ``iso_dates``,
    dates and timestamps become ISO 8601 text."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return [plain_value(v, iso_dates=iso_dates) for v in value]
    if isinstance(value, dict):
        return {str(k): plain_value(v, iso_dates=iso_dates) for k, v in value.items()}
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if iso_dates and isinstance(value, (pd.Timestamp, datetime.datetime, datetime.date)):
        return value.isoformat()
    try:
        missing = pd.isna(value)
    except (TypeError, ValueError):
        return value
    return None if isinstance(missing, (bool, np.bool_)) and missing else value
