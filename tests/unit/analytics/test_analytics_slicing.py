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


def test_fiscal_periods_follow_the_workspace_fiscal_year() -> None:
    from closedloop.analytics.slicing import fiscal_period

    # Calendar fiscal year (start month 1): FY2026 is 2026.
    assert fiscal_period("FY2026", 1) == (date(2026, 1, 1), date(2026, 12, 31))
    assert fiscal_period("fy2026-q1", 1) == (date(2026, 1, 1), date(2026, 3, 31))
    # Fiscal year starting in April (年度): FY2026 runs 2026-04-01 .. 2027-03-31.
    assert fiscal_period("FY2026", 4) == (date(2026, 4, 1), date(2027, 3, 31))
    assert fiscal_period("FY2026-Q4", 4) == (date(2027, 1, 1), date(2027, 3, 31))
    assert fiscal_period("FY2026-H2", 7) == (date(2027, 1, 1), date(2027, 6, 30))
    assert fiscal_period("FY2026-M11", 4) == (date(2027, 2, 1), date(2027, 2, 28))
    assert fiscal_period("FY2027-M11", 4) == (date(2028, 2, 1), date(2028, 2, 29))  # leap year
    assert fiscal_period("2026-04-01", 4) is None and fiscal_period("FY2026-Q5", 4) is None


def test_slice_periods_in_the_fiscal_calendar_and_time_zone() -> None:
    april = Workspace(fiscal_year_start_month=4)
    sl = make_slice(april, date_from="FY2026-Q2", as_of="2027-01-01")
    assert (sl.date_from, sl.date_to) == (date(2026, 7, 1), date(2026, 9, 30))
    # Local midnight in Taipei (UTC+8) as closed-open UTC bounds.
    assert sl.start == datetime(2026, 6, 30, 16, 0) and sl.end == datetime(2026, 9, 30, 16, 0)
    sl = make_slice(april, date_from="FY2026-Q1", date_to="FY2026-H2", as_of="2027-01-01")
    assert (sl.date_from, sl.date_to) == (date(2026, 4, 1), date(2027, 3, 31))
    sl = make_slice(april, date_from="2026-05-15", date_to="FY2026-M02", as_of="2027-01-01")
    assert (sl.date_from, sl.date_to) == (date(2026, 5, 15), date(2026, 5, 31))
    with pytest.raises(ValidationFailed):
        make_slice(april, date_from="FY26")
