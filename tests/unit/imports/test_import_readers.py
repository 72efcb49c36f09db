"""Reading files as exported: encodings, delimiters, title lines, duplicate columns, XLSX."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from closedloop.imports.readers import detect_encoding, open_table

ROWS = [
    ["公司", "聯絡人", "金額"],
    ["台北科技股份有限公司", "王小明", "1,200"],
    ["高雄貿易有限公司", "陳大文", "800"],
]
SIMPLIFIED = [
    ["公司", "联系人", "金额"],
    ["上海科技有限公司", "王小明", "1,200"],
    ["广州贸易有限公司", "陈大文", "800"],
]
KNOWN = {"公司", "聯絡人", "联系人", "金額", "金额"}


def _text(rows: list[list[str]], sep: str = ",") -> str:
    return "\r\n".join(sep.join(r) for r in rows) + "\r\n"


@pytest.mark.parametrize(
    ("encoding", "rows", "expected"),
    [
        ("utf-8", ROWS, "utf-8"),
        ("utf-8-sig", ROWS, "utf-8-sig"),
        ("cp950", ROWS, "cp950"),
        ("big5hkscs", ROWS, "cp950"),  # plain Big5 text: cp950 reads it the same
        ("gbk", SIMPLIFIED, "gb18030"),
        ("gb18030", SIMPLIFIED, "gb18030"),
    ],
)
def test_encodings_are_detected(tmp_path: Path, encoding: str, rows: list[list[str]], expected: str) -> None:
    path = tmp_path / f"file_{encoding}.csv"
    path.write_bytes(_text(rows).encode(encoding))
    assert detect_encoding(path.read_bytes()) == expected
    table = open_table(path, known_columns=KNOWN)
    frame = next(table.chunks(100))
    assert list(frame[table.columns[0]]) == [rows[1][0], rows[2][0]]
    assert list(frame["__row"]) == [2, 3]


def test_hkscs_characters(tmp_path: Path) -> None:
    rows = [["公司", "聯絡人"], ["香港𨋢公司", "陳先生"]]  # 𨋢 (lift) exists only in HKSCS
    path = tmp_path / "hk.csv"
    path.write_bytes(_text(rows).encode("big5hkscs"))
    table = open_table(path, known_columns=KNOWN)
    assert table.encoding == "big5hkscs"
    assert next(table.chunks(10))["公司"].tolist() == ["香港𨋢公司"]


def test_utf16_csv_for_excel_is_tab_separated(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(codecs.BOM_UTF16_LE + _text(ROWS, "\t").encode("utf-16-le"))
    table = open_table(path, known_columns=KNOWN)
    assert (table.encoding, table.delimiter) == ("utf-16", "\t")
    assert next(table.chunks(10))["金額"].tolist() == ["1,200", "800"]


def test_title_lines_semicolons_and_duplicate_columns(tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    path.write_text("Sales report\nGenerated 2025-03-01\n\nemail;name;email;amount\na@x.com;A;b@x.com;1,5\n")
    table = open_table(path, known_columns={"email", "name", "amount"})
    assert table.delimiter == ";"
    assert table.title_lines == ["Sales report", "Generated 2025-03-01", ""]
    assert table.header_row == 4
    assert table.columns == ["email", "name", "email_2", "amount"]
    assert table.duplicate_columns == {"email": ["email_2"]}
    frame = next(table.chunks(10))
    assert frame.iloc[0]["email_2"] == "b@x.com" and int(frame.iloc[0]["__row"]) == 5


def test_xlsx(tmp_path: Path) -> None:
    from datetime import datetime

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Leads export"])
    sheet.append(["email", "created_at", "company_size"])
    sheet.append(["a@x.com", datetime(2025, 3, 5, 9, 30), 120])
    sheet.append([None, None, None])
    sheet.append(["b@x.com", "114/03/06", "51-200"])
    path = tmp_path / "leads.xlsx"
    book.save(path)
    table = open_table(path, known_columns={"email", "created_at", "company_size"})
    assert table.file_format == "xlsx" and table.title_lines == ["Leads export"]
    frame = next(table.chunks(10))
    assert frame["email"].tolist() == ["a@x.com", "b@x.com"]
    assert frame["created_at"].tolist() == ["2025-03-05 09:30:00", "114/03/06"]
    assert frame["company_size"].tolist() == ["120", "51-200"]
    assert frame["__row"].tolist() == [3, 5]
