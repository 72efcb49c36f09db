"""What a notification says, looked up at send time from the event's ids (names are never copied)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from closedloop.deals.models import Deal
from closedloop.goals.models import Goal
from closedloop.handoffs.models import Handoff
from closedloop.leads.models import Lead
from closedloop.users.models import User
from closedloop.workspace.models import WorkspaceSettings


def _person(user: User | None) -> str | None:
    return None if user is None else (user.name or user.email)


def _lead_name(lead: Lead | None) -> str | None:
    if lead is None:
        return None
    full = " ".join(p for p in (lead.first_name, lead.last_name) if p)
    return lead.name or full or None


def _id(value: Any) -> int | None:
    """An id from a payload (ints, or digits in a string); anything else is no id."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else None


def gather(session: Session, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The payload plus names, amounts and deadlines from the store (payload values win)."""
    facts: dict[str, Any] = dict(payload)
    facts.setdefault(
        "time_zone",
        session.scalar(select(WorkspaceSettings.reporting_time_zone).where(WorkspaceSettings.id == 1))
        or "UTC",
    )
    handoff = session.get(Handoff, hid) if (hid := _id(payload.get("handoff_id"))) else None
    if handoff is not None:
        facts.setdefault("lead_id", handoff.lead_id)
        facts.setdefault("owner_id", handoff.owner_id)
        facts.setdefault("team_id", handoff.team_id)
        facts.setdefault("due_at", handoff.sla_due_at)
        if handoff.rejection_reason:
            facts.setdefault("reason", handoff.rejection_reason)
    facts.setdefault("due_at", payload.get("sla_due_at"))
    facts.setdefault("sla_kind", payload.get("kind"))
    deal = session.get(Deal, did) if (did := _id(payload.get("deal_id"))) else None
    if deal is not None:
        facts.setdefault("deal_name", deal.name)
        facts.setdefault("amount_minor", deal.amount_minor)
        facts.setdefault("currency", deal.currency)
        facts.setdefault("owner_id", deal.owner_id)
        facts.setdefault("team_id", deal.team_id)
    goal = session.get(Goal, gid) if (gid := _id(payload.get("goal_id"))) else None
    if goal is not None:
        facts.setdefault("goal_name", goal.name)
        facts.setdefault("target", goal.target.normalize() if goal.target is not None else None)
        facts.setdefault("owner_id", goal.owner_id)
        facts.setdefault("team_id", goal.team_id)
    if (lead_id := _id(facts.get("lead_id"))) and not facts.get("lead_name"):
        facts["lead_name"] = _lead_name(session.get(Lead, lead_id))
    if (owner_id := _id(facts.get("owner_id"))) and not facts.get("owner_name"):
        facts["owner_name"] = _person(session.get(User, owner_id))
    return facts


def audience(facts: Mapping[str, Any]) -> tuple[set[int], set[int]]:
    """The users and teams an event is addressed to.

    A producer that names its audience (`user_ids`, e.g. the managers an SLA breach escalates
    to) is taken at its word; otherwise the event's owner, manager and user are. The team is
    the event's `team_id`.
    """
    if isinstance(facts.get("user_ids"), list):
        ids = list(facts["user_ids"])
    else:
        ids = [facts.get(k) for k in ("owner_id", "manager_id", "user_id")]
    users = {i for i in map(_id, ids) if i is not None}
    team = _id(facts.get("team_id"))
    return users, ({team} if team is not None else set())
