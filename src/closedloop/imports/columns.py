"""Column operations shared by the vectorised import path: timestamps, SQLite stamps, id text."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import text

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
    """UTC timestamps as SQLite stores UTCDateTime ('YYYY-MM-DD HH:MM:SS.ffffff'), in pyarrow."""
    import pyarrow as pa
    import pyarrow.compute as pc

    micros = pa.array(stamps.dt.tz_convert("UTC").astype("datetime64[us, UTC]"))
    # Arrow prints a microsecond timestamp's seconds with their six decimals.
    text = pc.strftime(micros, format="%Y-%m-%d %H:%M:%S").to_numpy(zero_copy_only=False)
    return pd.Series(text.astype(object), index=stamps.index)


def hex_ids(prefix: str, hashes: np.ndarray) -> list[str]:
    """`prefix` + each uint64 as 16 lower-case hex digits (as f"{h:016x}"), vectorised."""
    digits = np.frombuffer(hashes.astype(">u8").tobytes().hex().encode("ascii"), dtype="S16")
    return np.char.add(prefix, digits.astype("U16")).tolist()


def id_text(ids: pd.Series) -> pd.Series:
    """Ids as text for hashing ("-" for none): pandas 3 keeps NaN as NaN through astype(str)."""
    return ids.fillna(-1).astype("int64").astype(str)


def json_value(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def lookup(session: Any, table: str, key: str, columns: list[str], keys: list[Any]) -> list[tuple[Any, ...]]:
    """Rows (key, *columns) of `table` whose `key` is among `keys`: one query, one parameter.

    SQLite gets the keys as one JSON array (json_each), PostgreSQL as one array (= ANY): no
    expanding IN list to compile per batch. Names come from the code, never from the file.
    """
    if not keys:
        return []
    selected = ", ".join([key, *columns])
    if session.get_bind().dialect.name == "sqlite":
        raw = session.connection().connection.driver_connection
        sql = f"SELECT {selected} FROM {table} WHERE {key} IN (SELECT value FROM json_each(?))"
        return raw.execute(sql, (json.dumps(keys),)).fetchall()
    sql = f"SELECT {selected} FROM {table} WHERE {key} = ANY(:keys)"
    return [tuple(r) for r in session.execute(text(sql), {"keys": keys}).all()]


def object_column(series: pd.Series, *, blank_is_null: bool = True) -> list[Any]:
    """A column as a list for a DB-API driver: "" and NaN as None (vectorised on the numpy array)."""
    values = series.to_numpy(dtype=object, na_value=None)
    if blank_is_null:
        values[values == ""] = None
    return values.tolist()


def id_column(series: pd.Series) -> list[Any]:
    """Float ids (NaN for none) as ints and None."""
    values = series.to_numpy(dtype="float64")
    missing = np.isnan(values)
    out = np.where(missing, 0, values).astype("int64").astype(object)
    out[missing] = None
    return out.tolist()
