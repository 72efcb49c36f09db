"""What a pack says: its numbers, gathered once from the analytics API and frozen at `data_as_of`.

A weekly pack for a week that has a review record shows the numbers that review froze when it was
opened (later imports do not change them); otherwise the pack is measured at the `--as-of` moment.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from closedloop.analytics import api
from closedloop.reviews import pack as review_pack
from closedloop.reviews import service as review_service
from closedloop.reviews.agenda import build_agenda, item_dict
from closedloop.reviews.models import Review
from closedloop.users.models import User


def week_period(day: date) -> tuple[date, date]:
    """The last complete ISO week (Monday..Sunday) before `day`."""
    monday = day - timedelta(days=day.weekday())
    return monday - timedelta(days=7), monday - timedelta(days=1)


def month_period(day: date) -> tuple[date, date]:
    """The last complete calendar month before `day`."""
    last = day.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def _review_of(session: Session, period: tuple[date, date]) -> Review | None:
    return session.scalars(
        select(Review)
        .where(Review.period_start <= period[1], Review.period_end >= period[0])
        .order_by(Review.data_as_of.desc(), Review.id.desc())
        .limit(1)
    ).first()


def _names(session: Session, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    users = session.scalars(select(User).where(User.id.in_(ids)))
    return {u.id: (u.name or u.email) for u in users}


def _review_section(session: Session, review: Review) -> dict[str, Any]:
    items = [item_dict(i) for i in review_service.review_items(session, review.id)]
    owners = _names(session, [i["owner_id"] for i in items if i["owner_id"]] + list(review.attendees or []))
    return {
        "title": review.title, "status": review.status, "minutes": review.minutes,
        "attendees": [owners.get(a, str(a)) for a in review.attendees or []],
        "action_items": [{**i, "owner": owners.get(i["owner_id"] or 0)} for i in items],
        "followed_up": (review.agenda or {}).get("followed_up", []),
    }  # fmt: skip


def build_pack(url: str, *, session: Session, kind: str, as_of: datetime) -> dict[str, Any]:
    """The numbers of a weekly review pack or a monthly closed-loop report, as plain data."""
    ws = api.workspace(url)
    zone = ZoneInfo(ws.time_zone)
    today = as_of.astimezone(zone).date()
    period = week_period(today) if kind == "weekly" else month_period(today)
    review = _review_of(session, period) if kind == "weekly" else None
    frozen: dict[str, Any] = dict(review.agenda or {}) if review is not None else {}
    if review is not None and "frozen" in frozen:
        sections = frozen.pop("frozen")
        period, as_of = (review.period_start, review.period_end), review.data_as_of
        agenda = frozen
        previous = (date.fromisoformat(agenda["previous"][0]), date.fromisoformat(agenda["previous"][1]))
    else:
        if kind == "weekly":
            exclude = review.id if review else None
            previous = review_service.previous_period(session, period[0], period[1], exclude_id=exclude)
        else:
            previous = month_period(period[0])
        agenda = build_agenda(url, session=session, period=period, previous=previous, as_of=as_of)
        sections = review_pack.sections(url, session=session, period=period, as_of=as_of)
    return {
        "kind": kind,
        "currency": ws.currency,
        "time_zone": ws.time_zone,
        "data_as_of": as_of.astimezone(zone).isoformat(timespec="seconds"),
        "period": [d.isoformat() for d in period],
        "previous": [d.isoformat() for d in previous],
        "agenda": agenda,
        **sections,
        "review": _review_section(session, review) if review is not None else None,
    }
