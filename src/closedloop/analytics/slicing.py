"""What a question asks: period, as-of moment, filters, group-by, caller's scope (no SQL here)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from closedloop.analytics.declarations import ALL_DIMENSIONS
from closedloop.clock import Clock, system_clock
from closedloop.errors import ValidationFailed
from closedloop.i18n import translate


@dataclass(frozen=True)
class Scope:
    """The rows a caller may see: records owned by one of `owner_ids` or in one of `team_ids`."""

    owner_ids: frozenset[int] = frozenset()
    team_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Workspace:
    """The workspace settings the analytics layer needs."""

    time_zone: str = "Asia/Taipei"
    currency: str = "TWD"
    window_days: int = 90
    stale_deal_days: int = 30
    fiscal_year_start_month: int = 1


@dataclass(frozen=True)
class Slice:
    """One question's period (inclusive local dates, closed-open UTC bounds), as-of, filters, groups."""

    workspace: Workspace
    date_from: date
    date_to: date
    start: datetime  # naive UTC, inclusive
    end: datetime  # naive UTC, exclusive
    as_of: datetime  # aware UTC
    by: tuple[str, ...] = ()
    where: dict[str, tuple[str, ...]] = field(default_factory=dict)
    window: int = 90
    scope: Scope | None = None

    @property
    def as_of_naive(self) -> datetime:
        return self.as_of.astimezone(UTC).replace(tzinfo=None)

    def iso(self, moment: datetime) -> str:
        """`moment` in ISO 8601 with the reporting time zone's offset."""
        return moment.astimezone(ZoneInfo(self.workspace.time_zone)).isoformat()


def zone(name: str) -> ZoneInfo:
    """The reporting time zone, refusing unknown names."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationFailed(f"unknown time zone {name!r}", detail={"field": "time_zone"}) from exc


def parse_as_of(text: str | None, tz: ZoneInfo, clock: Clock = system_clock) -> datetime:
    """`--as-of`: an ISO 8601 moment (no offset: the reporting time zone); a date means its end."""
    if not text:
        return clock().astimezone(UTC)
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return (
                datetime.combine(day + timedelta(days=1), time(), tz) - timedelta(microseconds=1)
            ).astimezone(UTC)
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValidationFailed(
            translate("analytics.error.bad_as_of", value=text), detail={"field": "as_of"}
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(UTC)


_FISCAL = re.compile(r"^FY(\d{4})(?:-(Q[1-4]|H[12]|M(?:0?[1-9]|1[0-2])))?$", re.IGNORECASE)


def _month_start(year: int, month: int) -> date:
    """The first day of `month` months after January of `year` (month 1 = January of `year`)."""
    return date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def fiscal_period(text: str, start_month: int) -> tuple[date, date] | None:
    """The inclusive local dates of a fiscal period, or None when `text` does not name one.

    `FY2026` is the fiscal year that starts in 2026 on the first day of `start_month` (the
    workspace setting; with 1 it is calendar 2026); `FY2026-Q2`, `FY2026-H1` and `FY2026-M03` are
    its second quarter, first half and third month.
    """
    found = _FISCAL.match(text.strip())
    if not found:
        return None
    year, part = int(found.group(1)), (found.group(2) or "").upper()
    first, months = 1, 12  # months counted from the fiscal year's first month
    if part.startswith("Q"):
        first, months = 3 * (int(part[1]) - 1) + 1, 3
    elif part.startswith("H"):
        first, months = 6 * (int(part[1]) - 1) + 1, 6
    elif part.startswith("M"):
        first, months = int(part[1:]), 1
    offset = start_month - 1 + first
    begin = _month_start(year, offset)
    return begin, _month_start(year, offset + months) - timedelta(days=1)


def parse_date(text: str | date | None, field_name: str) -> date | None:
    """An inclusive local date from the command line or the API."""
    if text is None or isinstance(text, date):
        return text
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValidationFailed(
            translate("analytics.error.bad_date", field=field_name, value=text), detail={"field": field_name}
        ) from exc


def parse_where(items: tuple[str, ...] | list[str] | dict[str, object] | None) -> dict[str, tuple[str, ...]]:
    """`DIM=VALUE` filters; a dimension given twice matches either value."""
    result: dict[str, list[str]] = {}
    if isinstance(items, dict):
        pairs = [(k, v) for k, vs in items.items() for v in (vs if isinstance(vs, list | tuple) else [vs])]
    else:
        pairs = []
        for item in items or ():
            if "=" not in item:
                raise ValidationFailed(
                    translate("analytics.error.bad_where", value=item), detail={"field": "where"}
                )
            key, value = item.split("=", 1)
            pairs.append((key.strip(), value))
    for name, raw in pairs:
        check_dimension(name)
        result.setdefault(name, []).append(str(raw))
    return {k: tuple(v) for k, v in result.items()}


def check_dimension(name: str, allowed: tuple[str, ...] = ALL_DIMENSIONS) -> None:
    """Refuse a dimension that is unknown or that the metric cannot be sliced by."""
    if name not in allowed:
        raise ValidationFailed(
            translate("analytics.error.bad_dimension", dimension=name, allowed=", ".join(allowed)),
            detail={"field": "by", "value": name},
        )


def make_slice(
    workspace: Workspace,
    *,
    date_from: str | date | None = None,
    date_to: str | date | None = None,
    as_of: str | datetime | None = None,
    by: tuple[str, ...] | list[str] = (),
    where: Any = None,
    window: int | None = None,
    scope: Scope | None = None,
    clock: Clock = system_clock,
) -> Slice:
    """Resolve the period (default: the 365 days up to the as-of date) and validate the rest.

    `date_from`/`date_to` are local dates or fiscal periods (`FY2026`, `FY2026-Q2`, `FY2026-H1`,
    `FY2026-M03`, see `fiscal_period`); a fiscal period given alone is the whole period.
    """
    tz = zone(workspace.time_zone)
    moment = as_of.astimezone(UTC) if isinstance(as_of, datetime) else parse_as_of(as_of, tz, clock)
    start_month = workspace.fiscal_year_start_month
    fiscal_from = fiscal_period(date_from, start_month) if isinstance(date_from, str) else None
    fiscal_to = fiscal_period(date_to, start_month) if isinstance(date_to, str) else None
    if fiscal_from and date_to is None:  # a fiscal period alone is that whole period
        fiscal_to = fiscal_from
    if fiscal_to and date_from is None:
        fiscal_from = fiscal_to
    to_day = (fiscal_to[1] if fiscal_to else parse_date(date_to, "to")) or moment.astimezone(tz).date()
    from_day = (fiscal_from[0] if fiscal_from else parse_date(date_from, "from")) or to_day - timedelta(
        days=364
    )
    if from_day > to_day:
        raise ValidationFailed(translate("analytics.error.empty_period"), detail={"field": "from"})
    for dim in by:
        check_dimension(dim)
    if len(set(by)) != len(tuple(by)):
        raise ValidationFailed(translate("analytics.error.repeated_by"), detail={"field": "by"})
    days = workspace.window_days if window is None else int(window)
    if days < 0:
        raise ValidationFailed(translate("analytics.error.bad_window"), detail={"field": "window"})
    start = datetime.combine(from_day, time(), tz).astimezone(UTC).replace(tzinfo=None)
    end = datetime.combine(to_day + timedelta(days=1), time(), tz).astimezone(UTC).replace(tzinfo=None)
    return Slice(workspace, from_day, to_day, start, end, moment, tuple(by), parse_where(where), days, scope)
