"""`closedloop backup` / `restore`: SQLite's online backup API, pg_dump/pg_restore for PostgreSQL."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from closedloop.errors import UserError


def backup(url: str, target: Path) -> Path:
    """Write a consistent copy of the store at `url` to `target`, while it keeps serving."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        source = sqlite3.connect(_sqlite_path(url))
        try:
            with sqlite3.connect(target) as copy:
                source.backup(copy)
        finally:
            source.close()
        return target
    if parsed.get_backend_name() == "postgresql":
        _run(["pg_dump", "--format=custom", "--no-owner", f"--file={target}", _libpq_dsn(url)])
        return target
    raise UserError(f"backup does not support {parsed.get_backend_name()} stores")


def restore(url: str, source: Path) -> None:
    """Replace the store's contents with the backup at `source` (same kind of store)."""
    if not source.is_file():
        raise UserError(f"{source}: no such backup file")
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        with open(source, "rb") as handle:
            if handle.read(16) != b"SQLite format 3\x00":
                raise UserError(f"{source} is not a SQLite backup (restore it into a SQLite store)")
        backup_db = sqlite3.connect(source)
        try:
            with sqlite3.connect(_sqlite_path(url)) as live:
                backup_db.backup(live)
        finally:
            backup_db.close()
        return
    if parsed.get_backend_name() == "postgresql":
        dsn = _libpq_dsn(url)
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                f"--dbname={dsn}",
                str(source),
            ]
        )
        return
    raise UserError(f"restore does not support {parsed.get_backend_name()} stores")


def _sqlite_path(url: str) -> str:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise UserError("backup and restore need a file-backed SQLite store")
    return database


def _libpq_dsn(url: str) -> str:
    parsed = make_url(url)
    parts = {
        "host": parsed.host,
        "port": parsed.port,
        "dbname": parsed.database,
        "user": parsed.username,
        "password": parsed.password,
    }
    return " ".join(f"{k}={v}" for k, v in parts.items() if v is not None)


def _run(command: list[str]) -> None:
    if shutil.which(command[0]) is None:
        raise UserError(f"{command[0]} is not installed (Debian package postgresql-client)")
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        last_line = (
            result.stderr.strip().splitlines()[-1] if result.stderr.strip() else str(result.returncode)
        )
        raise UserError(f"{command[0]} failed: {last_line}")
