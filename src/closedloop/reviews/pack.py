"""The numbers a review freezes beside its agenda: funnel, joint scorecard, campaigns, policies in force."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from closedloop.analytics import api
from closedloop.goals.service import joint_scorecard
from closedloop.policies.models import PolicyVersion
from closedloop.policies.service import policy_in_force

TOP_CAMPAIGNS = 15


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


def sections(url: str, *, session: Session, period: tuple[date, date], as_of: datetime) -> dict[str, Any]:
    """Everything a pack shows besides the agenda, measured at `as_of`."""
    return {
        "policies": policies_used(session, as_of),
        "funnel": api.funnel(url, mode="period", date_from=period[0], date_to=period[1], as_of=as_of),
        "scorecard": joint_scorecard(
            url, session=session, date_from=period[0], date_to=period[1], as_of=as_of
        ),
        "campaigns": campaigns(url, period, as_of),
    }
