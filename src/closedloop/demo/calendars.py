"""Demo business calendars: Taiwan, mainland China and Singapore holidays, and vectorised business time.

`BusinessClock` converts instants (int64 UTC seconds) to cumulative business minutes of one
calendar and back, so SLA deadlines and response times are computed for whole arrays at once.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

# Working intervals (minutes after local midnight) and the JSON form stored on BusinessCalendar.
INTERVALS = {"TW": ((540, 720), (780, 1080)), "CN": ((540, 720), (810, 1080)), "SG": ((540, 1080),)}

# Holidays ("YYYY-MM-DD" or "YYYY-MM-DD..YYYY-MM-DD") and make-up working days, by calendar.
_TW_HOLIDAYS = {
    "元旦": ("2023-01-02", "2024-01-01", "2025-01-01", "2026-01-01", "2027-01-01"),
    "春節": (
        "2023-01-20..2023-01-27",
        "2024-02-08..2024-02-14",
        "2025-01-27..2025-01-31",
        "2026-02-16..2026-02-20",
        "2027-02-05..2027-02-10",
    ),
    "和平紀念日": ("2023-02-27..2023-02-28", "2024-02-28", "2025-02-28", "2026-02-27", "2027-03-01"),
    "兒童節及清明節": (
        "2023-04-03..2023-04-05",
        "2024-04-04..2024-04-05",
        "2025-04-03..2025-04-04",
        "2026-04-03",
        "2026-04-06",
        "2027-04-05..2027-04-06",
    ),
    "勞動節": ("2023-05-01", "2024-05-01", "2025-05-01", "2026-05-01", "2027-04-30"),
    "端午節": ("2023-06-22..2023-06-23", "2024-06-10", "2025-05-30", "2026-06-19", "2027-06-09"),
    "中秋節": ("2023-09-29", "2024-09-17", "2025-10-06", "2026-09-25", "2027-09-15"),
    "教師節": ("2025-09-29", "2026-09-28", "2027-09-28"),
    "國慶日": ("2023-10-09..2023-10-10", "2024-10-10", "2025-10-10", "2026-10-09", "2027-10-11"),
    "臺灣光復節": ("2025-10-24", "2026-10-26", "2027-10-25"),
    "行憲紀念日": ("2025-12-25", "2026-12-25", "2027-12-24"),
}
_TW_WORKDAYS = {
    "補班": ("2023-01-07", "2023-02-04", "2023-02-18", "2023-03-25", "2023-06-17", "2023-09-23", "2024-02-17")
}
_CN_HOLIDAYS = {
    "元旦": ("2023-01-02", "2024-01-01", "2025-01-01", "2026-01-01..2026-01-02", "2027-01-01"),
    "春节": (
        "2023-01-23..2023-01-27",
        "2024-02-12..2024-02-16",
        "2025-01-28..2025-01-31",
        "2025-02-03..2025-02-04",
        "2026-02-16..2026-02-20",
        "2026-02-23",
        "2027-02-08..2027-02-12",
    ),
    "清明节": ("2023-04-05", "2024-04-04..2024-04-05", "2025-04-04", "2026-04-06", "2027-04-05"),
    "劳动节": (
        "2023-05-01..2023-05-03",
        "2024-05-01..2024-05-03",
        "2025-05-01..2025-05-02",
        "2025-05-05",
        "2026-05-01",
        "2026-05-04..2026-05-05",
        "2027-05-03..2027-05-05",
    ),
    "端午节": ("2023-06-22..2023-06-23", "2024-06-10", "2025-06-02", "2026-06-19", "2027-06-09"),
    "中秋节": ("2023-09-29", "2024-09-16..2024-09-17", "2025-10-06", "2026-09-25", "2027-09-15"),
    "国庆节": (
        "2023-10-02..2023-10-06",
        "2024-10-01..2024-10-04",
        "2024-10-07",
        "2025-10-01..2025-10-03",
        "2025-10-07..2025-10-08",
        "2026-10-01..2026-10-02",
        "2026-10-05..2026-10-07",
        "2027-10-01",
        "2027-10-04..2027-10-07",
    ),
}
_CN_WORKDAYS = {
    "调休": (
        "2023-01-28",
        "2023-01-29",
        "2023-04-23",
        "2023-05-06",
        "2023-06-25",
        "2023-10-07",
        "2023-10-08",
        "2024-02-04",
        "2024-02-18",
        "2024-04-07",
        "2024-04-28",
        "2024-05-11",
        "2024-09-14",
        "2024-09-29",
        "2024-10-12",
        "2025-01-26",
        "2025-02-08",
        "2025-04-27",
        "2025-09-28",
        "2025-10-11",
        "2026-01-04",
        "2026-02-14",
        "2026-02-28",
        "2026-05-09",
        "2026-09-20",
        "2026-10-10",
    )
}
_SG_HOLIDAYS = {
    "New Year's Day": ("2023-01-02", "2024-01-01", "2025-01-01", "2026-01-01", "2027-01-01"),
    "Chinese New Year": (
        "2023-01-23..2023-01-24",
        "2024-02-12",
        "2025-01-29..2025-01-30",
        "2026-02-17..2026-02-18",
        "2027-02-08..2027-02-09",
    ),
    "Good Friday": ("2023-04-07", "2024-03-29", "2025-04-18", "2026-04-03", "2027-03-26"),
    "Labour Day": ("2023-05-01", "2024-05-01", "2025-05-01", "2026-05-01", "2027-05-01"),
    "National Day": ("2023-08-09", "2024-08-09", "2025-08-09", "2026-08-10", "2027-08-09"),
    "Christmas Day": ("2023-12-25", "2024-12-25", "2025-12-25", "2026-12-25", "2027-12-25"),
}
HOLIDAYS = {"TW": _TW_HOLIDAYS, "CN": _CN_HOLIDAYS, "SG": _SG_HOLIDAYS}
WORKDAYS: dict[str, dict[str, tuple[str, ...]]] = {"TW": _TW_WORKDAYS, "CN": _CN_WORKDAYS, "SG": {}}
# Fixed-date holidays used for years outside the tables above.
FIXED = {
    "TW": ((1, 1), (2, 28), (4, 4), (5, 1), (10, 10)),
    "CN": ((1, 1), (5, 1), (10, 1)),
    "SG": ((1, 1), (8, 9)),
}
TABLE_YEARS = range(2023, 2028)


def _expand(spec: str) -> list[date]:
    if ".." not in spec:
        return [date.fromisoformat(spec)]
    first, last = (date.fromisoformat(part) for part in spec.split(".."))
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def exception_days(key: str, first: date, last: date) -> list[tuple[date, str, str]]:
    """(day, "holiday" | "workday", name) for calendar `key` between first and last, sorted."""
    rows: dict[date, tuple[str, str]] = {}
    for kind, table in (("holiday", HOLIDAYS[key]), ("workday", WORKDAYS[key])):
        for name, specs in table.items():
            for spec in specs:
                for day in _expand(spec):
                    rows[day] = (kind, name)
    for year in range(first.year, last.year + 1):
        if year in TABLE_YEARS:
            continue
        for month, day_of_month in FIXED[key]:
            rows[date(year, month, day_of_month)] = ("holiday", "holiday")
    return [(day, kind, name) for day, (kind, name) in sorted(rows.items()) if first <= day <= last]


def working_hours_json(key: str) -> dict[str, list[list[str]]]:
    """The BusinessCalendar.working_hours document: ISO weekday - 1 -> [["09:00", "12:00"], ...]."""
    spans = [[f"{s // 60:02d}:{s % 60:02d}", f"{e // 60:02d}:{e % 60:02d}"] for s, e in INTERVALS[key]]
    return {str(weekday): spans for weekday in range(5)}


class BusinessClock:
    """Cumulative business minutes of one calendar over a day range (UTC offset fixed, no DST)."""

    def __init__(self, key: str, first: date, last: date, utc_offset_seconds: int) -> None:
        self.offset = utc_offset_seconds
        self.day0 = (first - date(1970, 1, 1)).days
        days = (last - first).days + 1
        self.intervals = INTERVALS[key]
        per_day = sum(e - s for s, e in self.intervals)
        weekday = (np.arange(days) + self.day0 + 3) % 7  # 1970-01-01 was a Thursday (3)
        working = weekday < 5
        for day, kind, _ in exception_days(key, first, last):
            working[(day - first).days] = kind == "workday"
        self.working = working
        minutes = working.astype(np.int64) * per_day
        self.cum_start = np.concatenate(([0], np.cumsum(minutes)[:-1])).astype(np.float64)
        self.cum_end = self.cum_start + minutes
        self.days = days

    def minutes_at(self, ts: np.ndarray) -> np.ndarray:
        """Business minutes elapsed from the range start to each instant."""
        local = ts + self.offset
        day = np.clip(local // 86400 - self.day0, 0, self.days - 1)
        tod = (local % 86400) / 60.0
        within = np.zeros(len(ts))
        for start, end in self.intervals:
            within += np.clip(tod - start, 0, end - start)
        return self.cum_start[day] + np.where(self.working[day], within, 0.0)

    def instant_at(self, minutes: np.ndarray) -> np.ndarray:
        """The earliest instant (UTC seconds) at which `minutes` business minutes have elapsed."""
        day = np.clip(np.searchsorted(self.cum_end, minutes, side="left"), 0, self.days - 1)
        rem = minutes - self.cum_start[day]
        tod = np.full(len(minutes), float(self.intervals[0][0]))
        used = 0.0
        for start, end in self.intervals:
            length = end - start
            inside = (rem > used) & (rem <= used + length)
            tod = np.where(inside, start + rem - used, tod)
            used += length
        local = (day + self.day0) * 86400 + np.round(tod * 60).astype(np.int64)
        return local - self.offset
