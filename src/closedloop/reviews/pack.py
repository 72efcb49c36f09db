"""The numbers a review freezes beside its agenda: funnel, joint scorecard, campaigns, policies in force,
and customer satisfaction (the CSAT and support signals both teams see)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from closedloop.accounts.models import Account
from closedloop.analytics import api
from closedloop.goals.service import joint_scorecard
from closedloop.leads.models import Lead
from closedloop.policies.models import PolicyVersion
from closedloop.policies.service import policy_in_force
from closedloop.revenue.models import CustomerFeedback
from closedloop.users.models import User

TOP_CAMPAIGNS = 15
# A response at or below 3 of 5 (6 of 10) is a low score: listed for the account's owner and marketing.
LOW_SCORE = (3, 5)
TOP_LOW_SCORES = 10


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


def campaigns(url: str, period: tuple[date, date], as_of: datetime) -> list[dict[str, Any]]:
    """Leads created in the period per first-touch utm_campaign, most first."""
    results = api.metrics(url, ["stage_count"], from_stage="lead", by=["utm_campaign"],
                          date_from=period[0], date_to=period[1], as_of=as_of)["results"]  # fmt: skip
    rows = [{"campaign": r["group"]["utm_campaign"], "leads": r["value"]} for r in results]
    rows.sort(key=lambda r: (-(r["leads"] or 0), str(r["campaign"])))
    return rows[:TOP_CAMPAIGNS]


def satisfaction(url: str, *, session: Session, period: tuple[date, date], as_of: datetime) -> dict[str, Any]:
    """The period's mean satisfaction (the `csat` metric, 5-point scale) and its lowest responses,
    with the company, its owner and the comment (no personal contact data)."""
    (csat,) = api.metrics(url, ["csat"], date_from=period[0], date_to=period[1], as_of=as_of)["results"]
    zone = ZoneInfo(api.workspace(url).time_zone)
    start = datetime.combine(period[0], time.min, zone)
    end = min(datetime.combine(period[1] + timedelta(days=1), time.min, zone), as_of)
    account_id = func.coalesce(CustomerFeedback.account_id, Lead.account_id)
    rows = session.execute(
        select(CustomerFeedback.score, CustomerFeedback.scale_max, CustomerFeedback.comment,
               CustomerFeedback.occurred_at, Account.name, User.name, User.email)
        .outerjoin(Lead, Lead.id == CustomerFeedback.lead_id)
        .outerjoin(Account, Account.id == account_id)
        .outerjoin(User, User.id == func.coalesce(Account.owner_id, Lead.owner_id))
        .where(CustomerFeedback.occurred_at >= start, CustomerFeedback.occurred_at < end,
               CustomerFeedback.score * LOW_SCORE[1] <= CustomerFeedback.scale_max * LOW_SCORE[0])
        .order_by((CustomerFeedback.score / CustomerFeedback.scale_max).asc(), CustomerFeedback.occurred_at.desc(),
                  CustomerFeedback.id.desc())
        .limit(TOP_LOW_SCORES)
    ).all()  # fmt: skip
    low = [
        {"score": f"{float(score):g}/{scale}", "comment": comment, "company": company, "owner": name or email,
         "date": occurred.astimezone(zone).date().isoformat()}
        for score, scale, comment, occurred, company, name, email in rows
    ]  # fmt: skip
    return {"csat": csat.get("value"), "responses": csat.get("denominator"), "low": low}


def sections(url: str, *, session: Session, period: tuple[date, date], as_of: datetime) -> dict[str, Any]:
    """Everything a pack shows besides the agenda, measured at `as_of`."""
    return {
        "policies": policies_used(session, as_of),
        "funnel": api.funnel(url, mode="period", date_from=period[0], date_to=period[1], as_of=as_of),
        "scorecard": joint_scorecard(
            url, session=session, date_from=period[0], date_to=period[1], as_of=as_of
        ),
        "campaigns": campaigns(url, period, as_of),
        "satisfaction": satisfaction(url, session=session, period=period, as_of=as_of),
    }
