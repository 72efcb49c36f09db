"""CSV exports neutralise formula injection and carry a BOM for Excel."""

from __future__ import annotations

import csv
import io

from closedloop.safe_csv import BOM, to_csv


def test_formula_cells_are_neutralised_and_numbers_kept() -> None:
    payloads = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", "台北 ok"]
    text = to_csv(["value", "amount"], [[p, -5] for p in payloads])
    assert text.startswith(BOM)
    rows = list(csv.reader(io.StringIO(text[len(BOM) :])))
    assert [r[0] for r in rows[1:]] == ["'" + p for p in payloads[:-1]] + ["台北 ok"]
    assert all(r[1] == "-5" for r in rows[1:])
