"""Business calendars changed by a person: weekly hours, time zone, holidays and make-up days, team calendars.

Services flush; the caller commits. Every change is audited. SLA clocks read these through
`workspace.calendar.load_calendar`.
"""

from __future__ import annotations

import re
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from closedloop.audit import service as audit_service
from closedloop.clock import Clock, system_clock
from closedloop.errors import Conflict, ValidationFailed
from closedloop.i18n import translate
from closedloop.users.actor import Actor
from closedloop.users.models import Team
from closedloop.workspace.calendar import parse_hours
from closedloop.workspace.models import BusinessCalendar, CalendarDay

DAY_KINDS = ("holiday", "workday")
_SPAN = re.compile(r"^\s*(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*$")


def hours_from_text(days: dict[int, str]) -> dict[str, list[list[str]]]:
    """{0: "09:00-12:00, 13:00-18:00", ...} as stored working hours; ValidationFailed names the weekday."""
    out: dict[str, list[list[str]]] = {}
    for weekday, text in sorted(days.items()):
        spans = []
        for part in (p for p in text.split(",") if p.strip()):
            match = _SPAN.match(part)
            if match is None:
                raise ValidationFailed(translate("workspace.error.hours", text=part.strip()),
                                       detail={"field": f"day-{weekday}"})  # fmt: skip
            spans.append([match.group(1).zfill(5), match.group(2).zfill(5)])
        if spans:
            out[str(weekday)] = spans
    try:
        parse_hours(out)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, detail={"field": "hours"}) from exc
    return out


def hours_as_text(working_hours: dict[str, list[list[str]]]) -> dict[int, str]:
    """Stored working hours as one line per weekday ("09:00-12:00, 13:00-18:00")."""
    return {d: ", ".join(f"{a}-{b}" for a, b in working_hours.get(str(d), [])) for d in range(7)}


def _zone(time_zone: str) -> str:
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationFailed(translate("web.error.time_zone"), detail={"field": "time_zone"}) from exc
    return time_zone


def save_calendar(
    *,
    session: Session,
    actor: Actor,
    calendar: BusinessCalendar | None,
    name: str,
    time_zone: str,
    working_hours: dict[str, list[list[str]]],
    clock: Clock = system_clock,
) -> BusinessCalendar:
    """Create a calendar (None) or change one's name, zone and weekly hours; audited."""
    name = name.strip()
    if not name:
        raise ValidationFailed(translate("workspace.error.calendar_name"), detail={"field": "name"})
    parse_hours(working_hours)
    clash = session.scalar(select(BusinessCalendar.id).where(BusinessCalendar.name == name))
    if clash is not None and (calendar is None or clash != calendar.id):
        raise Conflict(translate("workspace.error.calendar_exists", name=name), detail={"field": "name"})
    fields = ("name", "time_zone", "working_hours")
    before = None if calendar is None else audit_service.snapshot(calendar, fields)
    if calendar is None:
        calendar = BusinessCalendar(name=name)
        session.add(calendar)
    calendar.name, calendar.time_zone, calendar.working_hours = name, _zone(time_zone), working_hours
    session.flush()
    audit_service.record(session, actor=actor, action="calendar.saved", entity_type="business_calendar",
                         entity_id=calendar.id, before=before, after=audit_service.snapshot(calendar, fields),
                         clock=clock)  # fmt: skip
    return calendar


def set_day(
    *,
    session: Session,
    actor: Actor,
    calendar: BusinessCalendar,
    day: date,
    kind: str | None,
    name: str | None = None,
    clock: Clock = system_clock,
) -> None:
    """Mark a date as a holiday or a make-up working day (補班/调休), or clear it (kind None); audited."""
    if kind is not None and kind not in DAY_KINDS:
        raise ValidationFailed(translate("workspace.error.day_kind"), detail={"field": "kind"})
    row = session.scalar(
        select(CalendarDay).where(CalendarDay.calendar_id == calendar.id, CalendarDay.day == day)
    )
    before = None if row is None else {"day": day.isoformat(), "kind": row.kind, "name": row.name}
    if kind is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(
            CalendarDay(calendar_id=calendar.id, day=day, kind=kind, name=(name or "").strip() or None)
        )
    else:
        row.kind, row.name = kind, (name or "").strip() or None
    session.flush()
    after = (
        None if kind is None else {"day": day.isoformat(), "kind": kind, "name": (name or "").strip() or None}
    )
    audit_service.record(session, actor=actor, action="calendar.day_set", entity_type="business_calendar",
                         entity_id=calendar.id, before=before, after=after, clock=clock)  # fmt: skip


def set_team_calendar(
    *, session: Session, actor: Actor, team: Team, calendar_id: int | None, clock: Clock = system_clock
) -> None:
    """The calendar a team's SLA hours count in (None: the workspace default); audited."""
    if calendar_id is not None and session.get(BusinessCalendar, calendar_id) is None:
        raise ValidationFailed(translate("workspace.error.no_calendar"), detail={"field": "calendar_id"})
    before = {"calendar_id": team.calendar_id}
    team.calendar_id = calendar_id
    session.flush()
    audit_service.record(session, actor=actor, action="team.calendar_set", entity_type="team", entity_id=team.id,
                         before=before, after={"calendar_id": calendar_id}, clock=clock)  # fmt: skip
