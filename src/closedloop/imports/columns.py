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
    """UTC timestamps as SQLite stores UTCDateTime ('YYYY-MM-DD HH:MM:SS.ffffff'), in pyarrow.

    Arrow's cast of a microsecond timestamp to text prints exactly that form (six decimals, a
    space before the time), ~10x faster than its strftime; other widths fall back to strftime.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    utc = stamps.dt.tz_convert("UTC").astype("datetime64[us, UTC]").dt.tz_localize(None)
    micros = pa.array(utc)
    text = pc.cast(micros, pa.string())
    lengths = pc.utf8_length(text)
    if len(text) and (pc.min(lengths).as_py() != 26 or pc.max(lengths).as_py() != 26):
        text = pc.strftime(micros, format="%Y-%m-%d %H:%M:%S")  # years before 1000 or after 9999
    return pd.Series(pd.array(text, dtype="str"), index=stamps.index)  # no Python string made per row


def derive_channels_grouped(
    frame: pd.DataFrame, rules: list[dict[str, Any]] | None, known: dict[tuple[Any, ...], str] | None = None
) -> pd.Series:
    """`channels.derive_channels` evaluated once per distinct combination of what the rules read.

    The rules read source, medium, campaign, the referrer's domain and whether each click id is
    present (never its value): a file of a million touches has a few hundred such combinations.
    Each combination's first row goes through `derive_channels`; its channel is spread to the rest.
    `known` keeps each combination's channel (under the same `rules`) from chunk to chunk: a
    chunk's combinations are mostly the previous chunks', and each `derive_channels` call costs
    about 15 ms however few its rows.
    """
    from closedloop.marketing import channels as channel_rules
    from closedloop.marketing.models import CLICK_ID_FIELDS

    n = len(frame)
    if n == 0:
        return channel_rules.derive_channels(frame, rules)
    codes: list[np.ndarray] = []
    sizes: list[int] = []
    labels: list[list[Any]] = []  # what each code stands for, the same from chunk to chunk

    def add(values: np.ndarray, meaning: list[Any]) -> None:
        codes.append(values.astype("int64"))
        sizes.append(max(len(meaning), 1))
        labels.append(meaning)

    for name in ("utm_source", "utm_medium", "utm_campaign"):
        if name in frame.columns:
            found, uniques = pd.factorize(frame[name], use_na_sentinel=False)
            add(found, [(name, v) for v in uniques.tolist()])
    if "referrer" in frame.columns:
        found, uniques = pd.factorize(frame["referrer"], use_na_sentinel=False)
        domains = [channel_rules.referrer_domain(None if v is None or v != v else str(v)) for v in uniques]
        domain_codes, domain_uniques = pd.factorize(np.array(domains, dtype=object))
        add(domain_codes[found], [("referrer", v) for v in domain_uniques.tolist()])
    for name in CLICK_ID_FIELDS:
        if name in frame.columns:
            add(
                (frame[name].fillna("").astype(str).str.strip() != "").to_numpy(dtype=bool),
                [(name, False), (name, True)],
            )
    key = np.zeros(n, dtype="int64")
    if codes and float(np.prod([float(s) for s in sizes])) < 2.0**62:
        for values, size in zip(codes, sizes, strict=True):
            key = key * size + values
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    elif codes:
        _, first, inverse = np.unique(np.column_stack(codes), axis=0, return_index=True, return_inverse=True)
    else:
        first, inverse = np.array([0]), np.zeros(n, dtype="int64")
    known = {} if known is None else known
    first = np.asarray(first)
    combinations = [
        tuple(label[code[row]] for label, code in zip(labels, codes, strict=True)) for row in first
    ]
    new = [i for i, combination in enumerate(combinations) if combination not in known]
    if new:
        derived = channel_rules.derive_channels(frame.iloc[first[new]], rules).tolist()
        known.update(zip([combinations[i] for i in new], derived, strict=True))
    channels = np.array([known[combination] for combination in combinations], dtype=object)
    return pd.Series(channels[np.asarray(inverse).reshape(-1)], index=frame.index, dtype=object)


def joined(parts: list[pd.Series], separator: str) -> pd.Series:
    """The string columns `parts` joined row by row with `separator` (missing if any part is):
    what chaining `a + separator + b + ...` gives, in one Arrow kernel instead of a new array per `+`."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arrays = [pa.array(pd.Series(part, dtype="str"), type=pa.large_string()) for part in parts]
    result = pc.binary_join_element_wise(*arrays, pa.scalar(separator, pa.large_string()))
    return pd.Series(pd.array(result, dtype="str"), index=parts[0].index)


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


def object_column(series: pd.Series, *, blank: Any = None) -> list[Any]:
    """A column as a list for a DB-API driver: "" and NaN as `blank` (None, or "" for `NULLIF`).

    Equal cells share one str object (each distinct value made once, then taken by code): a
    column of a few hundred sources or pages costs a few hundred strings, not one per row, in
    memory and when the list is pickled to the importing process (pickle writes a repeat as a
    reference).
    """
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    values = np.empty(len(uniques) + 1, dtype=object)  # the last slot, code -1, is NaN: blank
    values[:-1] = uniques.to_numpy(dtype=object, na_value=None)
    values[:-1][values[:-1] == ""] = blank
    values[-1] = blank
    return values[codes].tolist()


def id_column(series: pd.Series, *, blank: int | None = None) -> list[Any]:
    """Float ids (NaN for none) as ints, and NaN as `blank` (None, or 0 for `NULLIF`)."""
    values = series.to_numpy(dtype="float64")
    missing = np.isnan(values)
    if blank is not None:
        return np.where(missing, blank, values).astype("int64").tolist()
    out = np.where(missing, 0, values).astype("int64").astype(object)
    out[missing] = None
    return out.tolist()


def sqlite_slots(columns: dict[str, list[Any]], blanks: dict[str, str | int]) -> dict[str, str]:
    """The SQLite insert's placeholder per column, for values that bind no None: a column that
    `blanks` gives a blank ("" for text, 0 for ids: values no stored text or id takes) gets
    `NULLIF(?, blank)` where its list holds one, and is left out (its NULL default) where it
    holds nothing else; any other column gets `?`.

    Python's sqlite3 binds None (and bool) through its adapter lookup: about 1 µs a value, three
    times a short string's cost, and most of a touch row's click-id and campaign cells are blank.

    A column holding one int throughout (the ids and flags an import made: never a file's text)
    gets that int as a literal, nothing to bind: `bound` names the columns left to bind.
    """
    slots = {}
    for name, values in columns.items():
        blank = blanks.get(name)
        count = values.count(blank) if name in blanks else 0  # C: identity first, then exact compares
        if count == len(values) and name in blanks:
            continue
        first = values[0] if values else None
        if type(first) is int and values.count(first) == len(values):
            slots[name] = str(first)
        elif count:
            slots[name] = f"NULLIF(?, {blank!r})"
        else:
            slots[name] = "?"
    if not bound(slots):  # executemany counts rows by their parameters: keep one to bind
        first = next(iter(slots), None)
        if first is not None:
            slots[first] = "?"
    return slots


def bound(slots: dict[str, str]) -> list[str]:
    """The columns of `sqlite_slots` that take a parameter, in order."""
    return [name for name, slot in slots.items() if "?" in slot]
