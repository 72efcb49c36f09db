"""Business calendars: business hours between two instants, and adding business hours to an instant.

Pure functions over a small `Calendar` value (working hours per weekday, time zone, holidays and
make-up working days such as Taiwan's 補班 or mainland China's 调休); `load_calendar` builds one
from the BusinessCalendar / CalendarDay tables. SLA clocks count in business hours with these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from closedloop.errors import ValidationFailed
from closedloop.workspace.models import BusinessCalendar, CalendarDay, WorkspaceSettings

Interval = tuple[time, time | None]  # end None means midnight at the end of the day ("24:00")
DEFAULT_HOURS: tuple[Interval, ...] = ((time(9), time(18)),)
# Guard for calendars without working time: no deadline further than this many days ahead.
MAX_SEARCH_DAYS = 3660


@dataclass(frozen=True)
class Calendar:
    """Working intervals per ISO weekday - 1 (0 = Monday), in `time_zone`, with exceptions.

    `holidays` are days off whatever their weekday; `workdays` are make-up working days
    (補班 / 调休) worked with `workday_hours` even when they fall on a weekend.
    """

    time_zone: str = "Asia/Taipei"
    weekly: Mapping[int, tuple[Interval, ...]] = field(
        default_factory=lambda: dict.fromkeys(range(5), DEFAULT_HOURS)
    )
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    workday_hours: tuple[Interval, ...] = DEFAULT_HOURS

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def intervals_on(self, day: date) -> tuple[Interval, ...]:
        """The working intervals of a local date (empty on days off)."""
        if day in self.holidays:
            return ()
        if day in self.workdays:
            return self.weekly.get(day.weekday()) or self.workday_hours
        return self.weekly.get(day.weekday(), ())


def parse_hours(working_hours: Mapping[str, list[list[str]]]) -> dict[int, tuple[Interval, ...]]:
    """Read {"0": [["09:00", "18:00"]], ...} (ISO weekday - 1) into intervals, validating them."""
    weekly: dict[int, tuple[Interval, ...]] = {}
    for key, spans in working_hours.items():
        try:
            weekday = int(key)
        except ValueError as exc:
            raise ValidationFailed(
                f"working hours: weekday {key!r} is not 0-6", detail={"field": key}
            ) from exc
        if not 0 <= weekday <= 6:
            raise ValidationFailed(f"working hours: weekday {key!r} is not 0-6", detail={"field": key})
        intervals = []
        for span in spans:
            start, end = _parse_time(span[0]), _parse_end(span[1])
            if end is not None and end <= start:
                raise ValidationFailed(f"working hours: {span[0]}-{span[1]} ends before it starts")
            intervals.append((start, end))
        weekly[weekday] = tuple(sorted(intervals))
    return weekly


def _parse_time(text: str) -> time:
    try:
        return time.fromisoformat(text)
    except ValueError as exc:
        raise ValidationFailed(f"working hours: {text!r} is not a time such as 09:00") from exc


def _parse_end(text: str) -> time | None:
    return None if text in ("24:00", "24:00:00") else _parse_time(text)


def _local_span(day: date, interval: Interval, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """An interval of a local day as UTC instants (a wall time skipped by DST moves forward)."""
    start = datetime.combine(day, interval[0], tzinfo=zone)
    end = (
        datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
        if interval[1] is None
        else datetime.combine(day, interval[1], tzinfo=zone)
    )
    return start.astimezone(UTC), end.astimezone(UTC)


def _check_aware(*moments: datetime) -> None:
    for moment in moments:
        if moment.tzinfo is None:
            raise ValueError(f"naive datetime {moment.isoformat()} refused: give a time zone")


def business_seconds_between(calendar: Calendar, start: datetime, end: datetime) -> float:
    """Working seconds in [start, end) under `calendar` (0 when end is not after start)."""
    _check_aware(start, end)
    if end <= start:
        return 0.0
    zone = calendar.zone
    first = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date() + timedelta(days=1)
    total = 0.0
    day = first
    while day <= last:
        for interval in calendar.intervals_on(day):
            lo, hi = _local_span(day, interval, zone)
            overlap = (min(hi, end) - max(lo, start)).total_seconds()
            if overlap > 0:
                total += overlap
        day += timedelta(days=1)
    return total


def business_hours_between(calendar: Calendar, start: datetime, end: datetime) -> float:
    """Working hours in [start, end) under `calendar`."""
    return business_seconds_between(calendar, start, end) / 3600.0


def add_business_hours(calendar: Calendar, start: datetime, hours: float) -> datetime:
    """The instant when `hours` working hours have passed since `start` (returned in UTC).

    Zero hours from outside working time is `start` itself. A deadline that ends exactly at
    the close of a working interval is that closing instant, not the next opening.
    """
    _check_aware(start)
    if hours < 0:
        raise ValueError("business hours to add must not be negative")
    remaining = timedelta(hours=hours)
    moment = start.astimezone(UTC)
    if not remaining:
        return moment
    zone = calendar.zone
    day = moment.astimezone(zone).date() - timedelta(days=1)
    for _ in range(MAX_SEARCH_DAYS):
        for interval in calendar.intervals_on(day):
            lo, hi = _local_span(day, interval, zone)
            if hi <= moment:
                continue
            begin = max(lo, moment)
            available = hi - begin
            if available >= remaining:
                return begin + remaining
            remaining -= available
            moment = hi
        day += timedelta(days=1)
    raise ValidationFailed("the business calendar has no working time in the next ten years")


def default_calendar(time_zone: str = "Asia/Taipei") -> Calendar:
    """Monday to Friday, 09:00-18:00, in `time_zone`."""
    return Calendar(time_zone=time_zone)


def load_calendar(session: Session, calendar_id: int) -> Calendar:
    """The calendar stored under `calendar_id`, with its holidays and make-up days."""
    row = session.get(BusinessCalendar, calendar_id)
    if row is None:
        raise ValidationFailed(f"business calendar {calendar_id} not found")
    weekly = parse_hours(row.working_hours) if row.working_hours else dict.fromkeys(range(5), DEFAULT_HOURS)
    days = session.execute(
        select(CalendarDay.day, CalendarDay.kind).where(CalendarDay.calendar_id == row.id)
    ).all()
    weekday_hours = [weekly[d] for d in range(5) if weekly.get(d)]
    return Calendar(
        time_zone=row.time_zone,
        weekly=weekly,
        holidays=frozenset(d for d, kind in days if kind == "holiday"),
        workdays=frozenset(d for d, kind in days if kind == "workday"),
        # A make-up day is worked like an ordinary weekday (Monday's hours, or the first defined).
        workday_hours=weekday_hours[0] if weekday_hours else DEFAULT_HOURS,
    )


def calendar_for_team(session: Session, team_id: int | None) -> tuple[Calendar, int | None]:
    """The team's calendar and its id; the workspace default (Mon-Fri 09:00-18:00) when it has none."""
    from closedloop.users.models import Team

    team = session.get(Team, team_id) if team_id is not None else None
    if team is not None and team.calendar_id is not None:
        return load_calendar(session, team.calendar_id), team.calendar_id
    settings = session.get(WorkspaceSettings, 1)
    return default_calendar(settings.reporting_time_zone if settings else "Asia/Taipei"), None
