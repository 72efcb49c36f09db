"""Reading CSV (any delimiter, every listed encoding) and XLSX files in chunks, title lines and all."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from closedloop.errors import ValidationFailed

if TYPE_CHECKING:
    import pandas as pd

SAMPLE_BYTES = 4 * 1024 * 1024
HEADER_SCAN_ROWS = 40
EXTRA_COLUMNS = 8  # room for rows wider than the header, reported as errors rather than crashing
ROW_COLUMN = "__row"
CJK_CODECS = ("cp950", "big5hkscs", "gb18030")
# Characters frequent in business Chinese, traditional and simplified: a right decoding is full
# of them, a wrong one (GBK bytes read as Big5 or the reverse) almost never produces them.
COMMON_HAN = set(
    "的一是不了人我在有他這这中大來来上個个國国到說说們们為为子和你地出道也時时年得就那要下以生會会自著着"
    "去之過过家學学對对可她裡里後后小麼么心多天而能好都然沒没日於于起還还發发成事只作當当想看文無无開开"
    "手十用主行方又如前所本見见經经頭头面公同三已老從从動动兩两長长知民樣样現现分將将外但身些與与高意進进"
    "把法此實实回二理美點点月明其種种聲声全工己話话兒儿者向情部正名定女問问力機机給给等幾几很業业最間间"
    "新什打便位因重被走電电四第門门相次東东政海口使教西再平真聽听世氣气信北少關关並并內内加化由卻却代軍军"
    "產产入先山五太水萬万市眼體体別别處处總总才場场師师書书比住員员九笑性通目華华報报立馬马命張张活難难"
    "神數数件安表原車车白應应路期叫死常提感金何更反合放做系計计或司利受光王果親亲界及今京務务制解各任至"
    "清物台臺象記记邊边共風风戰战干接它許许八特覺觉望直服毛林題题建南度統统色字請请交愛爱讓让認认算論论"
    "百吃義义科怎元社術术結结六功指思非流每青管夫連连遠远資资隊队跟帶带花快條条院變变聯联言權权往展該该"
    "領领程股份限責责任區区縣县省路街號号樓楼室電话銷销售營营客戶户群組组織织網网站址郵邮件傳传真號碼码"
)


@dataclass
class Table:
    """An opened import file: its layout, and a way to read its data rows in chunks."""

    path: Path
    file_format: str  # csv | xlsx
    encoding: str | None
    delimiter: str | None
    title_lines: list[str]
    header_row: int  # 1-based line (or sheet row) of the header
    columns: list[str]
    duplicate_columns: dict[str, list[str]] = field(default_factory=dict)
    _chunks: Callable[[int], Iterator[pd.DataFrame]] | None = None

    def chunks(self, size: int = 50_000) -> Iterator[pd.DataFrame]:
        """Data rows as DataFrames of strings ("" for blank) with the file row number in `__row`."""
        assert self._chunks is not None
        return self._chunks(size)


def file_sha256(path: Path) -> str:
    """SHA-256 of the file's bytes (the import job's identity)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def detect_encoding(sample: bytes) -> str:
    """BOM first, then strict UTF-8, then the CJK codecs that decode the sample most plausibly."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith(codecs.BOM_UTF16_LE) or sample.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    if _decodes(sample, "utf-8"):
        return "utf-8"
    best, best_score = None, -1.0
    for codec in CJK_CODECS:
        if not _decodes(sample, codec):
            continue
        score = _plausibility(sample.decode(codec, errors="ignore"))
        if score > best_score + 0.05:
            best, best_score = codec, score
    if best is None:
        raise ValidationFailed(
            "the file is not UTF-8, UTF-16, Big5/cp950, big5hkscs or GBK/GB18030 text",
            detail={"field": "encoding"},
        )
    return best


def _decodes(sample: bytes, codec: str) -> bool:
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    try:
        decoder.decode(sample, final=len(sample) < SAMPLE_BYTES)
    except UnicodeDecodeError:
        return False
    return True


def _plausibility(text: str) -> float:
    han = [ch for ch in text if "\u3400" <= ch <= "\u9fff" or "\ue000" <= ch <= "\uf8ff"]
    if not han:
        return 0.5
    return sum(ch in COMMON_HAN for ch in han) / len(han)


def open_table(path: Path, *, known_columns: set[str]) -> Table:
    """Open a CSV or XLSX file and find its header row (title lines before it are kept)."""
    path = Path(path)
    if not path.exists():
        raise ValidationFailed(f"no such file: {path}", detail={"field": "file"})
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(b"PK\x03\x04"):
        return _open_xlsx(path, known_columns)
    return _open_csv(path, known_columns)


def _open_csv(path: Path, known_columns: set[str]) -> Table:
    with path.open("rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    encoding = detect_encoding(sample)
    text = sample.decode(encoding, errors="ignore")
    lines = text.splitlines()[: HEADER_SCAN_ROWS + 10]
    delimiter = sniff_delimiter(lines)
    rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter))
    index = find_header(rows, known_columns)
    header, duplicates = dedupe_columns(rows[index])
    titles = [" ".join(c for c in row if c.strip()) for row in rows[:index]]
    width = len(header)

    def chunks(size: int) -> Iterator[pd.DataFrame]:
        import pandas as pd

        names = [*header, *(f"__extra_{i}" for i in range(EXTRA_COLUMNS))]
        reader = pd.read_csv(
            path,
            encoding=encoding,
            sep=delimiter,
            skiprows=index + 1,
            header=None,
            names=names,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            chunksize=size,
            engine="c",
            quoting=csv.QUOTE_MINIMAL,
        )
        start = index + 2
        for frame in reader:
            frame = frame.fillna("")
            frame[ROW_COLUMN] = range(start, start + len(frame))
            start += len(frame)
            yield _drop_blank(frame, names[:width])

    return Table(path, "csv", encoding, delimiter, titles, index + 1, header, duplicates, chunks)


def sniff_delimiter(lines: list[str]) -> str:
    """The delimiter giving the most lines with the same (largest) field count."""
    best, best_key = ",", (0, 0)
    for delimiter in (",", "\t", ";", "|"):
        counts = [
            len(r) for r in csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter) if len(r) > 1
        ]
        if not counts:
            continue
        mode = max(set(counts), key=lambda n: (counts.count(n), n))
        key = (counts.count(mode), mode)
        if key > best_key:
            best, best_key = delimiter, key
    return best


def _norm(name: str) -> str:
    return re.sub(r"[\s_]+", " ", name.strip().lower())


def find_header(rows: list[list[str]], known_columns: set[str]) -> int:
    """Index of the header row: the first naming known columns, else the first as wide as the data."""
    known = {_norm(c) for c in known_columns}
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        if sum(_norm(c) in known for c in row if c.strip()) >= 2:
            return i
    widths = [sum(1 for c in r if c.strip()) for r in rows[:HEADER_SCAN_ROWS]]
    widest = max(widths, default=0)
    for i, width in enumerate(widths):
        if width >= max(2, widest * 0.8):
            return i
    return 0


def dedupe_columns(header: list[str]) -> tuple[list[str], dict[str, list[str]]]:
    """Header names trimmed (BOM removed); repeats get _2, _3 suffixes and are reported."""
    seen: dict[str, int] = {}
    names: list[str] = []
    duplicates: dict[str, list[str]] = {}
    for i, raw in enumerate(header):
        name = (raw or "").replace("\ufeff", "").strip() or f"column_{i + 1}"
        key = name.lower()
        if key in seen:
            seen[key] += 1
            renamed = f"{name}_{seen[key]}"
            duplicates.setdefault(name, []).append(renamed)
            names.append(renamed)
        else:
            seen[key] = 1
            names.append(name)
    return names, duplicates


def _drop_blank(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    if not columns:
        return frame.iloc[0:0]  # no header cell: every row is blank under it
    # Only rows whose first cell is blank can be blank lines: test the other cells of those alone.
    maybe = frame[columns[0]].astype(str).str.strip().eq("").to_numpy(dtype=bool)
    if not maybe.any():
        return frame
    values = frame.loc[maybe, columns].astype(str)
    blank = maybe.copy()
    blank[maybe] = values.apply(lambda col: col.str.strip().eq("")).all(axis=1).to_numpy(dtype=bool)
    return frame.loc[~blank] if bool(blank.any()) else frame


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _open_xlsx(path: Path, known_columns: set[str]) -> Table:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        head = [
            [_cell(v) for v in row] for row in sheet.iter_rows(max_row=HEADER_SCAN_ROWS, values_only=True)
        ]
    finally:
        workbook.close()
    index = find_header(head, known_columns)
    header, duplicates = dedupe_columns(head[index] if head else [])
    titles = [" ".join(c for c in row if c.strip()) for row in head[:index]]
    width = len(header)

    def chunks(size: int) -> Iterator[pd.DataFrame]:
        import pandas as pd

        names = [*header, *(f"__extra_{i}" for i in range(EXTRA_COLUMNS))]
        book = load_workbook(path, read_only=True, data_only=True)
        try:
            batch: list[list[str]] = []
            numbers: list[int] = []
            rows = book.worksheets[0].iter_rows(min_row=index + 2, values_only=True)
            for number, row in enumerate(rows, start=index + 2):
                cells = [_cell(v) for v in row][: len(names)]
                batch.append(cells + [""] * (len(names) - len(cells)))
                numbers.append(number)
                if len(batch) >= size:
                    yield _xlsx_frame(pd, batch, numbers, names, width)
                    batch, numbers = [], []
            if batch:
                yield _xlsx_frame(pd, batch, numbers, names, width)
        finally:
            book.close()

    return Table(path, "xlsx", None, None, titles, index + 1, header, duplicates, chunks)


def _xlsx_frame(pd: Any, batch: list[list[str]], numbers: list[int], names: list[str], width: int) -> Any:
    frame = pd.DataFrame(batch, columns=names, dtype=str)
    frame[ROW_COLUMN] = numbers
    return _drop_blank(frame, names[:width])
