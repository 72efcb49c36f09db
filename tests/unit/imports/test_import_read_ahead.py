"""The import reader thread: chunks in order, total rows dropped, errors raised in the importing
thread, at most one chunk read ahead, and the thread ends when the import stops early."""

from __future__ import annotations

import threading
import time
from contextlib import closing
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest

from closedloop.imports.readers import ROW_COLUMN, Table
from closedloop.imports.service import _read_ahead


def _table(frames: list[pd.DataFrame], read: list[int], fail_at: int | None = None) -> Table:
    def chunks(size: int) -> Any:
        for i, frame in enumerate(frames):
            if i == fail_at:
                raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "bad byte in chunk")
            read.append(i)
            yield frame

    return Table(Path("x.csv"), "csv", "utf-8", ",", [], 1, ["name", "amount"], {}, chunks)


def _frame(start: int, names: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame({"name": names, "amount": ["1"] * len(names)}, dtype="str")
    frame[ROW_COLUMN] = range(start, start + len(names))
    return frame


def _reader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "import-reader"]


def test_chunks_arrive_in_order_checked_with_totals_dropped() -> None:
    frames = [_frame(2, ["a", "b"]), _frame(4, ["c", "Total"]), _frame(6, ["d"])]
    read: list[int] = []
    seen_threads: list[str] = []

    def validate(ctx: Any, frame: pd.DataFrame) -> list[str]:
        seen_threads.append(threading.current_thread().name)
        return frame["name"].tolist()

    with closing(_read_ahead(SimpleNamespace(), _table(frames, read), 2, validate)) as items:
        got = list(items)
    assert [(skipped, checked) for skipped, _, checked in got] == [(0, ["a", "b"]), (1, ["c"]), (0, ["d"])]
    assert [frame[ROW_COLUMN].tolist() for _, frame, _ in got] == [[2, 3], [4], [6]]
    assert seen_threads == ["import-reader"] * 3
    assert read == [0, 1, 2]


def test_a_reader_error_is_raised_in_the_importing_thread() -> None:
    frames = [_frame(2, ["a"]), _frame(3, ["b"]), _frame(4, ["c"])]
    read: list[int] = []
    taken = []
    items = _read_ahead(SimpleNamespace(), _table(frames, read, fail_at=2), 1, None)
    with pytest.raises(UnicodeDecodeError, match="bad byte in chunk"), closing(items):
        for item in items:
            taken.append(item[1][ROW_COLUMN].tolist())
    assert taken == [[2], [3]]


def test_one_chunk_read_ahead_and_the_thread_stops_when_the_import_does() -> None:
    frames = [_frame(2 + i, [f"n{i}"]) for i in range(10)]
    read: list[int] = []
    with closing(_read_ahead(SimpleNamespace(), _table(frames, read), 1, None)) as items:
        first = next(items)
        time.sleep(0.5)  # ample time for a reader without a bound to run ahead
        assert first[1]["name"].tolist() == ["n0"]
        assert read == [0, 1]  # the chunk being written and the next one, no more
    deadline = time.monotonic() + 5
    while _reader_threads() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _reader_threads() == []
    assert read == [0, 1]
