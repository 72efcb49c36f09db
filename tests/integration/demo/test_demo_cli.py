"""`closedloop demo` as a user runs it: a fresh SQLite file, the sign-in lines, the local-only rule."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

CLI = [sys.executable, "-m", "closedloop.cli.main"]


def run(args: list[str], db: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CLOSEDLOOP_")}
    environ.update(CLOSEDLOOP_DATABASE_URL=f"sqlite:///{db}", LANG="C.UTF-8", **env)
    return subprocess.run([*CLI, *args], env=environ, capture_output=True, text=True, timeout=300)


def test_demo_loads_an_empty_file_and_says_how_to_sign_in(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    done = run(["demo", "--leads", "200", "--anchor", "2026-05-31"], db)
    assert done.returncode == 0, done.stderr
    assert "admin@demo.closedloop.example" in done.stdout
    assert "sales01@demo.closedloop.example" in done.stdout
    assert "closedloop-demo" in done.stdout
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM leads").fetchone()[0] == 200
        last = conn.execute("SELECT MAX(occurred_at) FROM lifecycle_events").fetchone()[0]
        assert last < "2026-05-30 16:00:00"  # before the anchor's local midnight (UTC+8)
    again = run(["demo", "--leads", "200"], db)
    assert again.returncode == 1
    assert "--replace" in again.stderr


def test_demo_serves_only_on_loopback_without_a_secret_key(tmp_path: Path) -> None:
    done = run(["demo", "--leads", "200", "--serve", "--host", "0.0.0.0"], tmp_path / "x.db")
    assert done.returncode == 1
    assert "127.0.0.1" in done.stderr
    assert not (tmp_path / "x.db").exists() or "leads" not in done.stdout


def test_scale_and_leads_are_exclusive(tmp_path: Path) -> None:
    done = run(["demo", "--scale", "s", "--leads", "500"], tmp_path / "y.db")
    assert done.returncode == 1


def test_demo_serve_prints_the_sign_in_then_serves(tmp_path: Path) -> None:
    import socket
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CLOSEDLOOP_")}
    environ.update(CLOSEDLOOP_DATABASE_URL=f"sqlite:///{tmp_path / 'serve.db'}", LANG="C.UTF-8")
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [*CLI, "demo", "--leads", "100", "--serve", "--port", str(port)], env=environ, stdout=log, stderr=log
    )
    try:
        status = None
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                    status = answer.status
                    break
            except OSError:
                time.sleep(1)
        assert status == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    output = (tmp_path / "serve.log").read_text()
    assert "admin@demo.closedloop.example" in output
    assert f"Serving the demo at http://127.0.0.1:{port}" in output
