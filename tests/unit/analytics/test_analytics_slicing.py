"""Periods in the reporting time zone, as-of parsing, filters."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from closedloop.analytics.slicing import Workspace, make_slice
from closedloop.clock import fixed_clock
from closedloop.errors import ValidationFailed

TAIPEI = Workspace()


def test_inclusive_local_dates_become_closed_open_utc() -> None:
    sl = make_slice(TAIPEI, date_from="2026-03-01", date_to="2026-03-31", as_of="2026-04-01T00:00:00+00:00")
    assert sl.start == datetime(2026, 2, 28, 16, 0) and sl.end == datetime(2026, 3, 31, 16, 0)
    assert sl.iso(sl.as_of) == "2026-04-01T08:00:00+08:00"


def test_default_period_is_365_days_up_to_today() -> None:
    clock = fixed_clock(datetime(2026, 11, 23, 17, 0, tzinfo=UTC))  # already Nov 24 in Taipei
    sl = make_slice(TAIPEI, clock=clock)
    assert (sl.date_from, sl.date_to) == (date(2025, 11, 25), date(2026, 11, 24))
    assert sl.as_of == datetime(2026, 11, 23, 17, 0, tzinfo=UTC)


def test_as_of_date_means_end_of_local_day_and_naive_means_local() -> None:
    sl = make_slice(TAIPEI, as_of="2026-06-30")
    assert sl.as_of == datetime(2026, 6, 30, 15, 59, 59, 999999, tzinfo=UTC)
    sl = make_slice(TAIPEI, as_of="2026-06-30T12:00")
    assert sl.as_of == datetime(2026, 6, 30, 4, 0, tzinfo=UTC)


def test_where_repeats_are_alternatives_and_bad_input_is_refused() -> None:
    sl = make_slice(TAIPEI, where=["channel=Email", "channel=Paid Search", "region=北區"])
    assert sl.where == {"channel": ("Email", "Paid Search"), "region": ("北區",)}
    for bad in ({"where": ["channel"]}, {"where": ["colour=red"]}, {"by": ["channel", "channel"]},
                {"date_from": "2026-02-01", "date_to": "2026-01-01"}, {"as_of": "yesterday"}):  # fmt: skip
        with pytest.raises(ValidationFailed):
            make_slice(TAIPEI, **bad)
