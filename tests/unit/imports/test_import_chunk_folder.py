"""The forked reader's chunk folder: named after the importing process; a new import removes the
folders of killed imports once stale, and never a running or recently written one."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from closedloop.imports import service


@pytest.fixture
def temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def _gone_pid() -> int:
    """The pid of a process that has ended."""
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    return int(ended.stdout)


def _folder(root: Path, pid: int, *, age: float) -> Path:
    folder = root / f"{service.CHUNK_FOLDER_PREFIX}{pid}-abc123"
    folder.mkdir()
    (folder / "3.pickle").write_bytes(b"chunk")
    then = time.time() - age
    os.utime(folder, (then, then))
    return folder


def test_a_killed_imports_stale_folder_goes_and_the_others_stay(temp: Path) -> None:
    stale = service.STALE_FOLDER_SECONDS + 60
    killed = _folder(temp, _gone_pid(), age=stale)
    recent = _folder(temp, _gone_pid(), age=5)  # a pid gone, but chunks written moments ago
    running = _folder(temp, os.getpid(), age=stale)  # a live process, however old its folder
    other = temp / "closedloop-import-notapid"  # not a name this code gives
    other.mkdir()
    mine = service._chunk_folder()
    assert not killed.exists()
    assert recent.exists() and running.exists() and other.exists()
    assert mine.parent == temp and mine.name.startswith(f"{service.CHUNK_FOLDER_PREFIX}{os.getpid()}-")
    assert mine.is_dir() and list(mine.iterdir()) == []
