"""Business-hour arithmetic, with every expected value worked out by hand in the comments."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from closedloop.workspace.calendar import (
    Calendar,
    add_business_hours,
    business_hours_between,
    parse_hours,
)

TPE = ZoneInfo("Asia/Taipei")
SHA = ZoneInfo("Asia/Shanghai")
NYC = ZoneInfo("America/New_York")
NINE_TO_SIX = Calendar(time_zone="Asia/Taipei")  # Mon-Fri 09:00-18:00


def tpe(*args: int) -> datetime:
    return datetime(*args, tzinfo=TPE)


def test_friday_evening_runs_over_the_weekend():
    # Fri 2026-11-20 17:00: one hour left on Friday (17-18), three more on Monday 09-12.
    assert add_business_hours(NINE_TO_SIX, tpe(2026, 11, 20, 17), 4) == tpe(2026, 11, 23, 12)


def test_same_moment_given_in_utc_gives_the_same_deadline():
    # 09:00 UTC is 17:00 in Taipei (UTC+8); Monday 12:00 Taipei is 04:00 UTC.
    due = add_business_hours(NINE_TO_SIX, datetime(2026, 11, 20, 9, tzinfo=UTC), 4)
    assert due == datetime(2026, 11, 23, 4, tzinfo=UTC)


def test_assigned_at_night_starts_next_morning():
    # Tue 22:00 is after hours: the clock starts Wed 09:00, 4 hours later is 13:00.
    assert add_business_hours(NINE_TO_SIX, tpe(2026, 11, 24, 22), 4) == tpe(2026, 11, 25, 13)


def test_assigned_on_saturday_starts_monday():
    assert add_business_hours(NINE_TO_SIX, tpe(2026, 11, 21, 10), 1) == tpe(2026, 11, 23, 10)


def test_deadline_at_closing_time_is_closing_time():
    # 9 hours from Friday 09:00 end exactly at Friday 18:00, not Monday 09:00.
    assert add_business_hours(NINE_TO_SIX, tpe(2026, 11, 20, 9), 9) == tpe(2026, 11, 20, 18)


def test_hours_between_over_a_weekend():
    # Fri 17:00-18:00 = 1 h, Mon 09:00-10:30 = 1.5 h.
    assert business_hours_between(NINE_TO_SIX, tpe(2026, 11, 20, 17), tpe(2026, 11, 23, 10, 30)) == 2.5
    assert business_hours_between(NINE_TO_SIX, tpe(2026, 11, 23, 10), tpe(2026, 11, 20, 17)) == 0


def test_taiwan_national_day_is_skipped():
    # Thu 2025-10-09 16:00: 2 h on Thursday; Fri 10-10 國慶日 is a holiday; the weekend is off;
    # Mon 10-13 09:00 + 2 h = 11:00.
    cal = Calendar(time_zone="Asia/Taipei", holidays=frozenset({date(2025, 10, 10)}))
    assert add_business_hours(cal, tpe(2025, 10, 9, 16), 4) == tpe(2025, 10, 13, 11)
    assert business_hours_between(cal, tpe(2025, 10, 9, 16), tpe(2025, 10, 13, 11)) == 4


def test_taiwan_make_up_saturday_counts_as_a_working_day():
    # Fri 2024-02-16 17:00: 1 h on Friday; Sat 02-17 is a 補班 day, so 09:00 + 3 h = Sat 12:00.
    makeup = Calendar(time_zone="Asia/Taipei", workdays=frozenset({date(2024, 2, 17)}))
    assert add_business_hours(makeup, tpe(2024, 2, 16, 17), 4) == tpe(2024, 2, 17, 12)
    # Without the make-up day the same hand-off is due Monday 02-19 at 12:00.
    assert add_business_hours(NINE_TO_SIX, tpe(2024, 2, 16, 17), 4) == tpe(2024, 2, 19, 12)


def test_china_spring_festival_with_tiaoxiu_and_a_lunch_break():
    # 2025 春节: holidays 01-28..02-04, 调休 working days Sun 01-26 and Sat 02-08.
    # Hours 09-12 and 13-18 (8 h a day), Asia/Shanghai.
    hours = parse_hours({str(d): [["09:00", "12:00"], ["13:00", "18:00"]] for d in range(5)})
    cal = Calendar(
        time_zone="Asia/Shanghai",
        weekly=hours,
        holidays=frozenset(date(2025, 1, 28) + timedelta(days=i) for i in range(8)),
        workdays=frozenset({date(2025, 1, 26), date(2025, 2, 8)}),
        workday_hours=hours[0],
    )
    # Fri 01-24 16:00: 2 h (16-18). Sat off. Sun 01-26 调休: 09-12 (3 h, total 5), 13:00 + 3 h = 16:00.
    due = add_business_hours(cal, datetime(2025, 1, 24, 16, tzinfo=SHA), 8)
    assert due == datetime(2025, 1, 26, 16, tzinfo=SHA)
    assert due == datetime(2025, 1, 26, 8, tzinfo=UTC)
    # Mon 01-27 10:00 -> Sat 02-08 10:00: Mon 2 + 5 = 7 h; 01-28..02-04 off; Wed-Fri 02-05..07
    # 3 x 8 = 24 h; Sat 02-08 (调休) 09-10 = 1 h. Total 32 h.
    start, end = datetime(2025, 1, 27, 10, tzinfo=SHA), datetime(2025, 2, 8, 10, tzinfo=SHA)
    assert business_hours_between(cal, start, end) == 32
    # A lunch hour is not business time: 11:30 + 1 h = 13:30.
    assert add_business_hours(cal, datetime(2025, 2, 5, 11, 30, tzinfo=SHA), 1) == datetime(
        2025, 2, 5, 13, 30, tzinfo=SHA
    )


def test_new_york_calendar_across_the_dst_change():
    # Fri 2026-03-06 16:00 EST (UTC-5): 2 h on Friday. Clocks move forward Sun 03-08.
    # Mon 03-09 09:00 EDT + 2 h = 11:00 EDT = 15:00 UTC.
    cal = Calendar(time_zone="America/New_York")
    due = add_business_hours(cal, datetime(2026, 3, 6, 16, tzinfo=NYC), 4)
    assert due == datetime(2026, 3, 9, 15, tzinfo=UTC)
    # The same instant for a Taipei team (Sat 05:00 in Taipei) is due Mon 13:00 Taipei.
    assert add_business_hours(NINE_TO_SIX, datetime(2026, 3, 6, 16, tzinfo=NYC), 4) == tpe(2026, 3, 9, 13)


def test_working_hours_validation():
    from closedloop.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        parse_hours({"7": [["09:00", "18:00"]]})
    with pytest.raises(ValidationFailed):
        parse_hours({"0": [["18:00", "09:00"]]})
    assert parse_hours({"5": [["22:00", "24:00"]]}) == {5: ((time(22), None),)}


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        add_business_hours(NINE_TO_SIX, datetime(2026, 11, 20, 17), 4)


@settings(max_examples=150, deadline=None)
@given(
    start=st.datetimes(
        min_value=datetime(2024, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)
    ),
    minutes=st.integers(min_value=0, max_value=60 * 200),
)
def test_adding_then_measuring_gives_back_the_hours(start, minutes):
    cal = Calendar(
        time_zone="Asia/Taipei",
        holidays=frozenset({date(2025, 10, 10), date(2026, 1, 1)}),
        workdays=frozenset({date(2024, 2, 17)}),
    )
    due = add_business_hours(cal, start, minutes / 60)
    assert due >= start
    assert business_hours_between(cal, start, due) == pytest.approx(minutes / 60, abs=1e-9)
