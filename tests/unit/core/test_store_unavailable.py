"""Which database errors mean "the database is unavailable, retry" (503) and which are bugs (500)."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy import exc as sa

from closedloop.errors import StoreUnavailable, store_unavailable, store_unavailable_problem
from closedloop.i18n import translate


def _error(engine_url: str, statement: str) -> BaseException:
    engine = create_engine(engine_url)
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    except Exception as exc:
        return exc
    finally:
        engine.dispose()
    raise AssertionError("no error")


def test_a_refused_postgresql_connection_is_unavailable() -> None:
    # Port 1 on loopback: nothing listens there, the connection is refused at once.
    exc = _error("postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=5", "SELECT 1")
    assert isinstance(exc, sa.OperationalError)
    assert store_unavailable(exc)


def test_sqlite_bugs_stay_bugs_but_a_locked_file_is_unavailable(tmp_path) -> None:
    missing = _error(f"sqlite:///{tmp_path / 'x.db'}", "SELECT * FROM no_such_table")
    assert isinstance(missing, sa.OperationalError) and not store_unavailable(missing)
    locked = sa.OperationalError("INSERT", {}, sqlite3.OperationalError("database is locked"))
    assert store_unavailable(locked)


@pytest.mark.parametrize(
    "exc",
    [
        sa.IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE constraint failed")),
        ValueError("not a database error"),
    ],
)
def test_other_errors_are_not_unavailability(exc: BaseException) -> None:
    assert not store_unavailable(exc)


def test_own_error_and_pool_timeout_are_unavailable() -> None:
    assert store_unavailable(StoreUnavailable("down"))
    assert store_unavailable(sa.TimeoutError("QueuePool limit reached"))


@pytest.mark.parametrize("lang", ["en", "zh-TW", "zh-CN"])
def test_the_problem_is_translated(lang: str) -> None:
    body = store_unavailable_problem(lang)
    assert body["status"] == 503
    assert body["detail"] == translate("error.store_unavailable", lang) != "error.store_unavailable"
    assert body["title"] == translate("error.store_unavailable.title", lang)
