"""The import reader, on a thread and in a forked child: chunks in order, total rows dropped,
errors raised in the importing thread, at most one chunk read ahead, and the reader ends when
the import stops early."""

from __future__ import annotations

import mmap
import multiprocessing
import threading
import time
from contextlib import closing
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest

from closedloop.imports import service
from closedloop.imports.readers import ROW_COLUMN, Table
from closedloop.imports.service import _read_ahead

MODES = [pytest.param(False, id="thread"), pytest.param(True, id="child")]


def _table(frames: list[pd.DataFrame], log: Path, fail_at: int | None = None) -> Table:
    """A table whose reads are logged to a file (the forked reader's list would stay in the child)."""

    def chunks(size: int) -> Any:
        for i, frame in enumerate(frames):
            if i == fail_at:
                raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "bad byte in chunk")
            with log.open("a") as handle:
                handle.write(f"{i}\n")
            yield frame

    return Table(Path("x.csv"), "csv", "utf-8", ",", [], 1, ["name", "amount"], {}, chunks)


def _read(log: Path) -> list[int]:
    return [int(line) for line in log.read_text().split()] if log.exists() else []


def _frame(start: int, names: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame({"name": names, "amount": ["1"] * len(names)}, dtype="str")
    frame[ROW_COLUMN] = range(start, start + len(names))
    return frame


def _readers() -> list[Any]:
    threads = [t for t in threading.enumerate() if t.name == "import-reader"]
    return threads + [p for p in multiprocessing.active_children() if p.name == "import-reader"]


def _validate(ctx: Any, frame: pd.DataFrame) -> tuple[str, list[str]]:
    where = (
        "thread"
        if threading.current_thread().name == "import-reader"
        else multiprocessing.current_process().name
    )
    return where, frame["name"].tolist()


@pytest.mark.parametrize("in_child", MODES)
def test_chunks_arrive_in_order_checked_with_totals_dropped(tmp_path: Path, in_child: bool) -> None:
    frames = [_frame(2, ["a", "b"]), _frame(4, ["c", "Total"]), _frame(6, ["d"])]
    log = tmp_path / "read.log"
    with closing(
        _read_ahead(SimpleNamespace(), _table(frames, log), 2, _validate, in_child=in_child)
    ) as items:
        got = list(items)
    where = "import-reader" if in_child else "thread"
    assert got == [(0, 2, (where, ["a", "b"])), (1, 1, (where, ["c"])), (0, 1, (where, ["d"]))]
    assert _read(log) == [0, 1, 2]


@pytest.mark.parametrize("in_child", MODES)
def test_a_reader_error_is_raised_in_the_importing_thread(tmp_path: Path, in_child: bool) -> None:
    frames = [_frame(2, ["a"]), _frame(3, ["b"]), _frame(4, ["c"])]
    taken = []
    items = _read_ahead(
        SimpleNamespace(), _table(frames, tmp_path / "read.log", fail_at=2), 1, None, in_child=in_child
    )
    with pytest.raises(UnicodeDecodeError, match="bad byte in chunk"), closing(items):
        for item in items:
            taken.append(item[2][ROW_COLUMN].tolist())
    assert taken == [[2], [3]]


@pytest.mark.parametrize("in_child", MODES)
def test_one_chunk_read_ahead_and_the_reader_stops_when_the_import_does(
    tmp_path: Path, in_child: bool
) -> None:
    frames = [_frame(2 + i, [f"n{i}"]) for i in range(10)]
    log = tmp_path / "read.log"
    with closing(_read_ahead(SimpleNamespace(), _table(frames, log), 1, None, in_child=in_child)) as items:
        first = next(items)
        time.sleep(0.5)  # ample time for a reader without a bound to run ahead
        assert first[2]["name"].tolist() == ["n0"]
        assert _read(log) == [0, 1]  # the chunk being written and the next one, no more
    deadline = time.monotonic() + 5
    while _readers() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _readers() == []
    assert _read(log) == [0, 1]


@pytest.mark.parametrize("buffer_bytes", [pytest.param(None, id="shared-buffer"), pytest.param(1, id="file")])
def test_the_forked_reader_hands_chunks_over_whole_through_the_buffer_or_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, buffer_bytes: int | None
) -> None:
    """A chunk too big for the shared buffer comes through a file; either way it arrives whole."""
    if buffer_bytes is not None:
        monkeypatch.setattr(service, "HANDOFF_BYTES", buffer_bytes)
    frames = [_frame(2, ["a" * 1000, "b"]), _frame(4, ["c"]), _frame(5, ["d", "e"])]
    with closing(
        _read_ahead(SimpleNamespace(), _table(frames, tmp_path / "read.log"), 2, None, in_child=True)
    ) as items:
        got = [item[2] for item in items]
    for frame, expected in zip(got, frames, strict=True):
        pd.testing.assert_frame_equal(frame, expected)


def test_hand_over_uses_the_buffer_when_the_chunk_fits_and_a_file_when_not(tmp_path: Path) -> None:
    item = (0, 3, {"names": ["a", "b", "c"] * 100})
    with mmap.mmap(-1, 64 * 1024) as buffer:
        message = service._hand_over(buffer, tmp_path, 7, item)
        assert isinstance(message, int)
        assert list(tmp_path.iterdir()) == []
        assert service._take(buffer, tmp_path, message) == item
    with mmap.mmap(-1, 16) as small:
        message = service._hand_over(small, tmp_path, 7, item)
        assert message == "7.pickle"
        assert (tmp_path / "7.pickle").exists()
        assert service._take(small, tmp_path, message) == item
        assert list(tmp_path.iterdir()) == []  # taken: the file is gone
