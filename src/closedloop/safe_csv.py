"""CSV written for Excel and for strangers' data: UTF-8 BOM, formula injection neutralised."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

# A cell starting with one of these would be run as a formula by Excel or LibreOffice.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


def neutralise(value: Any) -> Any:
    """Prefix a text cell that a spreadsheet would read as a formula with a single quote.

    Numbers are left alone (a negative amount stays a number).
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def write_rows(
    out: TextIO, header: Sequence[str], rows: Iterable[Sequence[Any]], *, bom: bool = True
) -> None:
    """Write a header and rows as CSV, every text cell neutralised."""
    if bom:
        out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow(["" if v is None else neutralise(v) for v in row])


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]], *, bom: bool = True) -> str:
    """The CSV text of `rows` (see write_rows)."""
    buffer = io.StringIO()
    write_rows(buffer, header, rows, bom=bom)
    return buffer.getvalue()
