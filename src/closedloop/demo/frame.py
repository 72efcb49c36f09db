"""Column-oriented tables the generator fills and the loader writes, plus small numpy helpers.

Times are int64 UTC seconds and dates int64 days since 1970-01-01; NULL is `NULL` (ints, times,
dates), NaN (floats) or None (strings, objects). Conversion to database values happens once,
per column, at load time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

NULL = np.iinfo(np.int64).min
DAY = 86400
HOUR = 3600

# Column kinds: int, ts, date, float, bool, str, json, obj
Kind = str


@dataclass
class Table:
    """One table's rows as named columns of equal length."""

    name: str
    columns: dict[str, tuple[Kind, Any]] = field(default_factory=dict)

    def add(self, column: str, kind: Kind, values: Any) -> Table:
        self.columns[column] = (kind, values)
        return self

    def __len__(self) -> int:
        if not self.columns:
            return 0
        _, values = next(iter(self.columns.values()))
        return len(values)

    def check(self) -> None:
        lengths = {name: len(values) for name, (_, values) in self.columns.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"{self.name}: columns of different lengths {lengths}")


def ts_strings(values: np.ndarray, *, postgres: bool) -> list[str | None]:
    """'YYYY-MM-DD HH:MM:SS.ffffff' (SQLite, naive UTC) or with '+00' (PostgreSQL timestamptz)."""
    arr = np.asarray(values, dtype=np.int64)
    null = arr == NULL
    text = np.datetime_as_string(np.where(null, 0, arr).astype("datetime64[s]"), unit="us")
    codes = text.view(np.uint32).reshape(len(text), -1)
    codes[:, 10] = ord(" ")
    if postgres:
        text = np.char.add(text, "+00")
    out = text.tolist()
    if null.any():
        for i in np.flatnonzero(null).tolist():
            out[i] = None
    return out


def date_strings(values: np.ndarray) -> list[str | None]:
    arr = np.asarray(values, dtype=np.int64)
    null = arr == NULL
    out = np.datetime_as_string(np.where(null, 0, arr).astype("datetime64[D]")).tolist()
    for i in np.flatnonzero(null).tolist():
        out[i] = None
    return out


def to_db(kind: Kind, values: Any, *, postgres: bool) -> list[Any]:
    """A column as a list of values the DBAPI driver (or COPY) accepts."""
    if kind == "ts":
        return ts_strings(values, postgres=postgres)
    if kind == "date":
        return date_strings(values)
    if kind == "int":
        arr = np.asarray(values, dtype=np.int64)
        out = arr.tolist()
        for i in np.flatnonzero(arr == NULL).tolist():
            out[i] = None
        return out
    if kind == "float":
        arr = np.asarray(values, dtype=np.float64)
        out = arr.tolist()
        for i in np.flatnonzero(np.isnan(arr)).tolist():
            out[i] = None
        return out
    if kind == "bool":
        return [bool(v) for v in np.asarray(values).tolist()]
    if kind == "json":
        cache: dict[str, str] = {}
        out = []
        for v in values:
            key = repr(v)
            if key not in cache:
                cache[key] = json.dumps(v, ensure_ascii=False)
            out.append(cache[key])
        return out
    if isinstance(values, np.ndarray):
        return values.tolist()
    return list(values)


def group_starts(keys: np.ndarray) -> np.ndarray:
    """Index of the first row of each run of equal keys in a sorted array."""
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))


def rank_in_group(keys: np.ndarray) -> np.ndarray:
    """0, 1, 2... within each run of equal keys of a sorted array."""
    n = len(keys)
    starts = group_starts(keys)
    first = np.zeros(n, dtype=np.int64)
    first[starts] = starts
    return np.arange(n) - np.maximum.accumulate(first)


def random_tokens(rng: np.random.Generator, n: int, length: int, alphabet: str) -> np.ndarray:
    """n random strings of `length` characters from `alphabet` (vectorised)."""
    letters = np.frombuffer(alphabet.encode(), dtype=np.uint8)
    codes = letters[rng.integers(0, len(letters), size=(n, length), dtype=np.uint8)]
    return codes.view(f"S{length}").ravel().astype(str) if n else np.zeros(0, dtype=f"U{length}")


def pick(rng: np.random.Generator, n: int, weights: Any) -> np.ndarray:
    """n indices drawn with the given (unnormalised) weights."""
    p = np.asarray(weights, dtype=np.float64)
    return rng.choice(len(p), size=n, p=p / p.sum())


def lognormal_hours(rng: np.random.Generator, median_hours: Any, sigma: float, n: int) -> np.ndarray:
    """Durations in seconds, lognormal around `median_hours`."""
    return (np.asarray(median_hours, dtype=np.float64) * HOUR * rng.lognormal(0.0, sigma, n)).astype(np.int64)
