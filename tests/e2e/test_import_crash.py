"""An import killed in the middle (SIGKILL) leaves nothing behind, and running it again imports each row once.

`closedloop import touchpoints FILE` runs as users run it, on both stores. It is killed while it
holds its write transaction, after it has written rows (the store's own lock tells the test when),
then the same command runs to the end, then once more: the store holds no row and no job from the
killed run, every row exactly once after the second, and nothing more after the third.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from tests.e2e.conftest import closedloop

from closedloop.db import unit_of_work
from closedloop.leads.models import Lead
from closedloop.marketing.models import Touchpoint
from closedloop.quarantine.models import ImportJob

LEADS = 500
# Enough rows that the import is still writing well after it took its lock (several seconds).
ROWS = 300_000


def _files(folder: Path) -> tuple[Path, Path]:
    leads, touches = folder / "leads.csv", folder / "touchpoints.csv"
    with leads.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "first_name", "company"])
        writer.writerows([f"crash{i}@example.com", f"Lead {i}", f"Company {i % 50}"] for i in range(LEADS))
    base = datetime(2025, 1, 1, tzinfo=UTC)
    with touches.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["lead_email", "occurred_at", "type", "utm_source", "utm_medium", "utm_campaign"])
        for i in range(ROWS):
            at = (base + timedelta(seconds=i * 13)).strftime("%Y-%m-%d %H:%M:%S")
            writer.writerow([f"crash{i % LEADS}@example.com", at, "page_view", "google", "cpc", f"c{i % 30}"])
    return leads, touches


def _writing(store) -> bool:
    """True once another connection holds the store's write lock (the import's transaction)."""
    if store.kind == "sqlite":
        probe = sqlite3.connect(store.url.removeprefix("sqlite:///"), timeout=0)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.rollback()
            return False
        except sqlite3.OperationalError as exc:
            return "locked" in str(exc)
        finally:
            probe.close()
    with store.engine.connect() as conn:
        held = conn.execute(
            text(
                "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
                " WHERE c.relname = 'touchpoints' AND l.mode = 'RowExclusiveLock' AND l.pid <> pg_backend_pid()"
            )
        ).scalar_one()
    return held > 0


def _processes_reading(path: Path) -> list[int]:
    """Running processes (zombies aside) whose command line names `path`."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and str(path).encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:  # ended meanwhile
            continue
    return found


def _counts(store) -> tuple[int, int, list[str]]:
    with unit_of_work(store.session_factory) as session:
        touches = session.scalar(select(func.count()).select_from(Touchpoint))
        distinct = session.scalar(select(func.count(func.distinct(Touchpoint.external_id))))
        jobs = list(session.scalars(select(ImportJob.status).where(ImportJob.kind == "touchpoints")))
    assert touches == distinct  # never a row twice
    return touches, len(jobs), jobs


@pytest.mark.parametrize("store", ["sqlite", "postgres"], indirect=True)
def test_a_killed_import_leaves_nothing_and_the_rerun_imports_each_row_once(store, tmp_path) -> None:
    leads_file, touches_file = _files(tmp_path)
    env = {**os.environ, "CLOSEDLOOP_DATABASE_URL": store.url}
    made = closedloop("import", "leads", str(leads_file), env=env)
    assert made.returncode == 0, made.stderr
    with unit_of_work(store.session_factory) as session:
        assert session.scalar(select(func.count()).select_from(Lead)) == LEADS

    temp = tmp_path / "temp"  # the imports' temp folder, for the reader's chunk files
    temp.mkdir()
    env["TMPDIR"] = str(temp)
    exe = Path(sys.executable).with_name("closedloop")
    killed = subprocess.Popen([str(exe), "import", "touchpoints", str(touches_file)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.monotonic() + 120
    while not _writing(store):
        assert killed.poll() is None, killed.stderr.read().decode() if killed.stderr else ""
        assert time.monotonic() < deadline, "the import never took its write lock"
        time.sleep(0.05)
    time.sleep(1.0)  # well into writing chunks
    assert killed.poll() is None, "the import finished before it could be killed: make the file bigger"
    killed.send_signal(signal.SIGKILL)
    assert killed.wait(timeout=30) == -signal.SIGKILL

    # Nothing of the killed run: no touch, no job (not even a job left "running").
    assert _counts(store) == (0, 0, [])
    if store.kind == "sqlite":
        with sqlite3.connect(store.url.removeprefix("sqlite:///")) as check:
            assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    # Its forked reader ends too (it finds its parent gone, or its pipe closed).
    while _processes_reading(touches_file):
        assert time.monotonic() < deadline + 30, "the killed import's reader is still running"
        time.sleep(0.05)
    # The killed import's chunk folder is left; the rerun removes it once it has gone stale.
    left = list(temp.glob("closedloop-import-*"))
    assert [f.name.split("-")[2] for f in left] == [str(killed.pid)]
    hour_ago = time.time() - 3600
    os.utime(left[0], (hour_ago, hour_ago))

    again = closedloop("import", "touchpoints", str(touches_file), "--format", "json", env=env)
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert (report["status"], report["inserted"]) == ("done", ROWS)
    assert _counts(store) == (ROWS, 1, ["done"])
    assert list(temp.iterdir()) == []

    once_more = closedloop("import", "touchpoints", str(touches_file), "--format", "json", env=env)
    assert once_more.returncode == 0, once_more.stderr
    assert json.loads(once_more.stdout)["status"] == "unchanged"
    assert _counts(store) == (ROWS, 1, ["done"])
