"""What a pack says: its numbers, gathered once from the analytics API and frozen at `data_as_of`."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from closedloop.analytics import api
from closedloop.goals.service import joint_scorecard
from closedloop.policies.models import PolicyVersion
from closedloop.policies.service import policy_in_force
from closedloop.reviews import service as review_service
from closedloop.reviews.agenda import build_agenda, item_dict
from closedloop.reviews.models import Review
from closedloop.users.models import User

TOP_CAMPAIGNS = 15


def week_period(day: date) -> tuple[date, date]:
    """The last complete ISO week (Monday..Sunday) before `day`."""
    monday = day - timedelta(days=day.weekday())
    return monday - timedelta(days=7), monday - timedelta(days=1)


def month_period(day: date) -> tuple[date, date]:
    """The last complete calendar month before `day`."""
    last = day.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def policies_used(session: Session, as_of: datetime) -> list[dict[str, Any]]:
    """Each policy kind's version in force at `as_of` (kinds never approved run on their defaults)."""
    kinds = sorted(set(session.scalars(select(PolicyVersion.kind).distinct())) | {"sla"})
    found = []
    for kind in kinds:
        version = policy_in_force(session, kind, as_of)
        found.append({
            "kind": kind, "version": version.version if version else None, "id": version.id if version else None,
            "effective_from": version.effective_from.date().isoformat() if version else None,
        })  # fmt: skip
    return found


def _campaigns(url: str, period: tuple[date, date], as_of: datetime) -> list[dict[str, Any]]:
    results = api.metrics(url, ["stage_count"], from_stage="lead", by=["utm_campaign"],
                          date_from=period[0], date_to=period[1], as_of=as_of)["results"]  # fmt: skip
    rows = [{"campaign": r["group"]["utm_campaign"], "leads": r["value"]} for r in results]
    rows.sort(key=lambda r: (-(r["leads"] or 0), str(r["campaign"])))
    return rows[:TOP_CAMPAIGNS]


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


def build_pack(url: str, *, session: Session, kind: str, as_of: datetime) -> dict[str, Any]:
    """The numbers of a weekly review pack or a monthly closed-loop report, as plain data."""
    ws = api.workspace(url)
    zone = ZoneInfo(ws.time_zone)
    today = as_of.astimezone(zone).date()
    period = week_period(today) if kind == "weekly" else month_period(today)
    review = _review_of(session, period) if kind == "weekly" else None
    if kind == "weekly":
        previous = review_service.previous_period(
            session, period[0], period[1], exclude_id=review.id if review else None
        )
    else:
        previous = month_period(period[0])
    agenda = build_agenda(url, session=session, period=period, previous=previous, as_of=as_of)
    pack: dict[str, Any] = {
        "kind": kind,
        "currency": ws.currency,
        "time_zone": ws.time_zone,
        "data_as_of": as_of.astimezone(zone).isoformat(timespec="seconds"),
        "period": [d.isoformat() for d in period],
        "previous": [d.isoformat() for d in previous],
        "policies": policies_used(session, as_of),
        "agenda": agenda,
        "funnel": api.funnel(url, mode="period", date_from=period[0], date_to=period[1], as_of=as_of),
        "scorecard": joint_scorecard(
            url, session=session, date_from=period[0], date_to=period[1], as_of=as_of
        ),
        "campaigns": _campaigns(url, period, as_of),
        "review": None,
    }
    if review is not None:
        items = [item_dict(i) for i in review_service.review_items(session, review.id)]
        owners = _names(
            session, [i["owner_id"] for i in items if i["owner_id"]] + list(review.attendees or [])
        )
        pack["review"] = {
            "title": review.title, "status": review.status, "minutes": review.minutes,
            "attendees": [owners.get(a, str(a)) for a in review.attendees or []],
            "action_items": [{**i, "owner": owners.get(i["owner_id"] or 0)} for i in items],
            "followed_up": (review.agenda or {}).get("followed_up", []),
        }  # fmt: skip
    return pack
