"""The path-table format common open-source attribution tools use (SPEC section 6).

CSV with header `path,total_conversions,total_conversion_value,total_null`; `path` is keys
joined by `>` (spaces around names ignored). Repeated paths are summed. Errors name the row
(1-based, the header is row 1) and the column.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from closedloop.attribution.data import NONE_KEY, Journeys
from closedloop.errors import ValidationFailed
from closedloop.i18n import translate

COLUMNS = ("path", "total_conversions", "total_conversion_value", "total_null")
NUMBERS = COLUMNS[1:]


def read_path_table(source: str | Path, *, sep: str = ">", delimiter: str = ",") -> Journeys:
    """Read a path table file into journeys (one per distinct path)."""
    raw = Path(source).read_bytes()
    text = raw.decode("utf-8-sig")
    return parse_path_table(text, sep=sep, delimiter=delimiter)


def parse_path_table(text: str, *, sep: str = ">", delimiter: str = ",") -> Journeys:
    """Parse path-table text; see the module docstring."""
    for name, char in (("sep", sep), ("delimiter", delimiter)):
        if len(char) != 1:
            raise ValidationFailed(
                translate("attribution.error.one_char", option=name), detail={"field": name}
            )
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader, None)
    if header is None:
        raise ValidationFailed(translate("attribution.error.empty_table"), detail={"row": 1})
    names = [h.strip().lower() for h in header]
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise ValidationFailed(
            translate("attribution.error.missing_columns", columns=", ".join(missing), delimiter=delimiter),
            detail={"row": 1, "column": missing[0]},
        )
    where = {c: names.index(c) for c in COLUMNS}
    totals: dict[tuple[str, ...], list[float]] = {}
    for row_number, row in enumerate(reader, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) < len(names):
            raise _row_error(row_number, COLUMNS[-1], "", translate("attribution.error.short_row"))
        path = tuple(_split(row[where["path"]], sep, row_number))
        numbers = [_number(row[where[c]], row_number, c) for c in NUMBERS]
        entry = totals.setdefault(path, [0.0, 0.0, 0.0])
        for i, value in enumerate(numbers):
            entry[i] += value
    return _to_journeys(totals)


def _split(cell: str, sep: str, row_number: int) -> list[str]:
    if not cell.strip():
        return [NONE_KEY]
    parts = [part.strip() for part in cell.split(sep)]
    if any(not part for part in parts):
        raise _row_error(row_number, "path", cell, translate("attribution.error.empty_channel", sep=sep))
    return parts


def _number(cell: str, row_number: int, column: str) -> float:
    text = cell.strip()
    try:
        value = float(text) if text else 0.0
    except ValueError:
        raise _row_error(row_number, column, cell, translate("attribution.error.not_a_number")) from None
    if not np.isfinite(value) or value < 0:
        raise _row_error(row_number, column, cell, translate("attribution.error.negative"))
    return value


def _row_error(row: int, column: str, value: str, reason: str) -> ValidationFailed:
    message = translate("attribution.error.row", row=row, column=column, value=value, reason=reason)
    return ValidationFailed(message, detail={"row": row, "column": column, "value": value, "reason": reason})


def _to_journeys(totals: dict[tuple[str, ...], list[float]]) -> Journeys:
    paths = list(totals)
    keys = sorted({k for p in paths for k in p})
    index = {k: i for i, k in enumerate(keys)}
    lengths = np.fromiter((len(p) for p in paths), dtype=np.int64, count=len(paths))
    figures = np.array(list(totals.values()), dtype=np.float64).reshape(-1, 3)
    return Journeys(
        keys=keys,
        offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        touches=np.fromiter((index[k] for p in paths for k in p), dtype=np.int64, count=int(lengths.sum())),
        conversions=figures[:, 0],
        values=figures[:, 1],
        nulls=figures[:, 2],
    )
