"""Column operations shared by the vectorised import path: timestamps, SQLite stamps, id text."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from closedloop.imports import parsing


def parse_timestamps(series: pd.Series, tz: Any) -> pd.Series:
    """Cells to UTC timestamps, vectorised for ISO forms; others (ROC, 上午/下午) one by one. NaT if bad."""
    text = series.astype(str).str.strip()
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us, UTC]")
    filled = text != ""
    aware = filled & text.str.contains(r"(?:Z|[+-]\d{2}:?\d{2})$", regex=True)
    naive = filled & ~aware
    if aware.any():
        out[aware] = pd.to_datetime(text[aware], format="ISO8601", errors="coerce", utc=True)
    if naive.any():
        local = pd.to_datetime(text[naive], format="ISO8601", errors="coerce")
        local = local.dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
        out[naive] = local.dt.tz_convert("UTC")
    rest = filled & out.isna()
    if rest.any():
        parsed = {}
        for value in text[rest].unique():
            try:
                parsed[value] = parsing.parse_datetime(value, tz)
            except (parsing.ParseError, ValueError):
                parsed[value] = None
        out[rest] = pd.to_datetime(text[rest].map(parsed), utc=True)
    return out


def sqlite_stamps(stamps: pd.Series) -> pd.Series:
    """UTC timestamps as SQLite stores UTCDateTime ('YYYY-MM-DD HH:MM:SS.ffffff'), vectorised."""
    values = stamps.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[us]")
    text = np.char.replace(np.datetime_as_string(values, unit="us"), "T", " ")
    return pd.Series(text.astype(object), index=stamps.index)


def id_text(ids: pd.Series) -> pd.Series:
    """Ids as text for hashing ("-" for none): pandas 3 keeps NaN as NaN through astype(str)."""
    return ids.fillna(-1).astype("int64").astype(str)


def json_value(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
