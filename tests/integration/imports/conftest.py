"""Helpers for import tests: run an import in its own unit of work; write files the way exports do."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from closedloop.clock import fixed_clock
from closedloop.db import unit_of_work
from closedloop.imports.report import ImportReport
from closedloop.imports.service import run_import
from closedloop.users.actor import Actor

NOW = datetime(2026, 4, 1, 2, 0, tzinfo=UTC)
IMPORTER = Actor(user_id=None, role="admin", via="import")


def write_csv(path: Path, rows: list[list[Any]], *, encoding: str = "utf-8", delimiter: str = ",",
              titles: list[str] | None = None) -> Path:  # fmt: skip
    """Write rows (header first) with optional title lines above, in `encoding`."""
    buffer = io.StringIO()
    for title in titles or []:
        buffer.write(title + "\r\n")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


@pytest.fixture
def run_file(store: Any) -> Callable[..., ImportReport]:
    """run_file(kind, path, **options) -> report, committed in its own unit of work."""

    def run(kind: str, path: Path, **options: Any) -> ImportReport:
        options.setdefault("clock", fixed_clock(NOW))
        with unit_of_work(store.session_factory) as session:
            return run_import(session=session, kind=kind, path=path, actor=IMPORTER, **options)

    return run


@pytest.fixture
def csv_file(tmp_path: Path) -> Callable[..., Path]:
    """csv_file(name, rows, encoding=..., delimiter=..., titles=...) -> path in the test's tmp dir."""

    def write(name: str, rows: list[list[Any]], **options: Any) -> Path:
        return write_csv(tmp_path / name, rows, **options)

    return write
