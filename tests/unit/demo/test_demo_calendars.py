"""The demo's vectorised business clock against hand-worked SLA deadlines (nights, weekends, 補班, 调休)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from closedloop.demo.calendars import BusinessClock, exception_days

TAIPEI = ZoneInfo("Asia/Taipei")


def ts(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=TAIPEI).timestamp())


def local(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).astimezone(TAIPEI).strftime("%Y-%m-%d %H:%M")


def clock(key: str) -> BusinessClock:
    return BusinessClock(key, date(2023, 12, 1), date(2026, 12, 31), 8 * 3600)


@pytest.mark.parametrize(
    ("key", "start", "expected"),
    [
        ("TW", "2025-10-08 10:00", "2025-10-08 15:00"),  # 10-12, lunch, 13-15
        ("TW", "2025-11-07 17:00", "2025-11-10 12:00"),  # Friday 17-18, weekend, Monday 9-12
        ("TW", "2025-10-09 17:00", "2025-10-13 12:00"),  # 國慶日 Friday 10/10 off
        ("TW", "2024-02-16 17:00", "2024-02-17 12:00"),  # Saturday 2024-02-17 is a 補班 working day
        ("TW", "2025-11-08 03:00", "2025-11-10 14:00"),  # from a weekend night: Monday 9-12, 13-14
        ("TW", "2025-10-03 17:00", "2025-10-07 12:00"),  # 中秋節 Monday 2025-10-06 off
        ("CN", "2025-09-26 17:00", "2025-09-28 12:00"),  # Sunday 2025-09-28 is a 调休 working day
        ("CN", "2025-09-30 16:00", "2025-10-09 11:00"),  # 16-18, 国庆 1-8 Oct off, Thursday 9-11
        ("SG", "2025-12-24 16:00", "2025-12-26 11:00"),  # one interval 9-18, Christmas off
    ],
)
def test_four_business_hours_later(key: str, start: str, expected: str) -> None:
    c = clock(key)
    due = c.instant_at(c.minutes_at(np.array([ts(start)])) + 240.0)
    assert local(int(due[0])) == expected


def test_business_hours_between_by_hand() -> None:
    c = clock("TW")
    minutes = c.minutes_at(np.array([ts("2025-11-07 17:30"), ts("2025-11-10 09:45")]))
    assert minutes[1] - minutes[0] == pytest.approx(30 + 45)


def test_minutes_round_trip_inside_working_time() -> None:
    c = clock("CN")
    rng = np.random.default_rng(7)
    minutes = np.sort(rng.uniform(0, c.cum_end[-1] - 1, 500)).round()
    back = c.minutes_at(c.instant_at(minutes))
    assert np.allclose(back, minutes)


def test_exception_days_name_holidays_and_make_up_days() -> None:
    days = {
        day: (kind, name) for day, kind, name in exception_days("TW", date(2024, 1, 1), date(2024, 12, 31))
    }
    assert days[date(2024, 2, 17)] == ("workday", "補班")
    assert days[date(2024, 10, 10)] == ("holiday", "國慶日")
    cn = {day: kind for day, kind, _ in exception_days("CN", date(2026, 1, 1), date(2026, 12, 31))}
    assert cn[date(2026, 2, 14)] == "workday" and cn[date(2026, 10, 1)] == "holiday"
