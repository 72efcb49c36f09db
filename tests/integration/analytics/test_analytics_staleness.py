"""Bounded staleness (CLOSEDLOOP_ANALYTICS_MAX_STALENESS): a snapshot within the bound may answer
after a write, and says how old it is; past the bound, or with the bound 0, answers are fresh."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from closedloop.analytics import api, snapshot
from closedloop.config import get_settings

PERIOD = {"date_from": "2026-01-01", "date_to": "2026-06-30", "as_of": "2026-06-30"}
T0 = datetime(2026, 12, 5, 1, 23, tzinfo=UTC)


def leads(store) -> int:
    return api.metrics(store.url, ["stage_count"], from_stage="lead", **PERIOD)["results"][0]["value"]


@pytest.fixture
def bound() -> Iterator[Callable[[float], None]]:
    """Set CLOSEDLOOP_ANALYTICS_MAX_STALENESS for the test (through the process settings)."""
    with pytest.MonkeyPatch.context() as patch:

        def set_bound(seconds: float) -> None:
            patch.setenv("CLOSEDLOOP_ANALYTICS_MAX_STALENESS", str(seconds))
            get_settings.cache_clear()

        yield set_bound
    get_settings.cache_clear()


@pytest.fixture
def clock(monkeypatch) -> list[datetime]:
    """The snapshot's clock, moved by the test (no sleeping): now[0] is "now"."""
    now = [T0]
    monkeypatch.setattr(snapshot, "clock", lambda: now[0])
    return now


def hold(monkeypatch, gate: threading.Event) -> None:
    copy = snapshot._copy

    def held_copy(connection, generation):
        gate.wait(60)
        return copy(connection, generation)

    monkeypatch.setattr(snapshot, "_copy", held_copy)


def test_within_the_bound_the_snapshot_answers_and_says_how_old(
    store, data, bound, clock, monkeypatch
) -> None:
    bound(60)
    data.lead("2026-01-05 00:00", [("lead", "2026-01-05 00:00")])
    data.session.commit()
    snapshot.rebuild(store.url)  # copied at T0, holding one lead
    gate = threading.Event()
    hold(monkeypatch, gate)
    try:
        data.lead("2026-01-06 00:00", [("lead", "2026-01-06 00:00")])
        data.session.commit()
        clock[0] = T0 + timedelta(seconds=30)
        with snapshot.freshness() as fresh:
            first = leads(store)
        if store.kind == "sqlite":  # the bound applies to PostgreSQL only: SQLite answers stay exact
            assert first == 2 and not fresh.stale and fresh.as_of == clock[0]
            return
        assert first == 1  # the write came after the copy and the copy is 30 s old (bound 60 s)
        assert fresh.stale and fresh.as_of == T0
        building = snapshot._states[store.url].building
        assert building is not None and building.is_alive()  # a fresh copy started meanwhile
        with snapshot.freshness() as again:
            assert leads(store) == 1
        assert again.as_of == T0
        assert snapshot._states[store.url].building is building  # never two copies at once

        clock[0] = T0 + timedelta(seconds=61)  # past the bound: read live, whatever the copy does
        with snapshot.freshness() as past:
            assert leads(store) == 2
        assert not past.stale and past.as_of == clock[0]
    finally:
        gate.set()
    snapshot.wait(store.url)
    # The copy started at T0 + 30 s (the first stale query), after the write: it holds both leads.
    clock[0] = T0 + timedelta(seconds=62)
    with snapshot.freshness() as later:
        assert leads(store) == 2
    if later.stale:  # (the shared cluster's WAL moved since the copy)
        assert later.as_of == T0 + timedelta(seconds=30)
    else:
        assert later.as_of == clock[0]


def test_with_the_bound_zero_every_answer_is_fresh(store, data, bound, clock) -> None:
    bound(0)
    for n in range(1, 4):
        data.lead(f"2026-01-0{n} 00:00", [("lead", f"2026-01-0{n} 00:00")])
        data.session.commit()
        clock[0] = T0 + timedelta(seconds=n)
        with snapshot.freshness() as fresh:
            assert leads(store) == n
        assert not fresh.stale and fresh.as_of == clock[0]
        snapshot.wait(store.url)
        with snapshot.freshness() as fresh:
            assert leads(store) == n
        assert not fresh.stale and fresh.as_of == clock[0]


def test_a_snapshot_older_than_the_bound_is_never_read(store, data, bound, clock, monkeypatch) -> None:
    """Even the first query after the write reads live when the snapshot's copy is past the bound."""
    bound(5)
    data.lead("2026-01-05 00:00", [("lead", "2026-01-05 00:00")])
    data.session.commit()
    snapshot.rebuild(store.url)
    gate = threading.Event()
    hold(monkeypatch, gate)
    try:
        data.lead("2026-01-06 00:00", [("lead", "2026-01-06 00:00")])
        data.session.commit()
        clock[0] = T0 + timedelta(seconds=5, microseconds=1)
        with snapshot.freshness() as fresh:
            assert leads(store) == 2
        assert not fresh.stale and fresh.as_of == clock[0]
    finally:
        gate.set()
