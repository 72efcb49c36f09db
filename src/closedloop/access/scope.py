"""Data scope: the WHERE clauses that limit a select to the rows an actor may see.

Sales sees what it or its team owns; a manager everything of its team; marketing every lead,
touch and hand-off (deals only as aggregates); viewers no person-level rows; admins everything.
Row scope answers "which rows may be listed or opened"; aggregate scope answers "which rows may
count in a number", which is wider for marketing and viewers (they see totals, not people).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, false, or_, select, true
from sqlalchemy.orm import Session

from closedloop.audit.models import AuditLog
from closedloop.deals.models import Deal
from closedloop.errors import NotFound
from closedloop.handoffs.models import Activity, Handoff
from closedloop.i18n import translate
from closedloop.leads.models import Lead
from closedloop.marketing.models import Touchpoint
from closedloop.users.actor import Actor
from closedloop.users.models import User

S = TypeVar("S", bound=Select[Any])
OWNED_SCOPE_ROLES = frozenset({"sales", "manager"})


def _sees_everything(actor: Actor) -> bool:
    return actor.is_system or actor.role == "admin"


def _team_members(actor: Actor) -> Select[tuple[int]]:
    return select(User.id).where(User.team_id == actor.team_id)


def _owned(actor: Actor, owner_col: Any, team_col: Any) -> ColumnElement[bool]:
    """Rows the actor owns, or (with a team) its team owns or a team member owns."""
    own = owner_col == actor.user_id
    if actor.team_id is None:
        return own
    return or_(own, team_col == actor.team_id, owner_col.in_(_team_members(actor)))


def lead_condition(actor: Actor) -> ColumnElement[bool]:
    """The leads an actor may see one by one."""
    if _sees_everything(actor) or actor.role == "marketing":
        return true()
    if actor.role in OWNED_SCOPE_ROLES:
        return _owned(actor, Lead.owner_id, Lead.team_id)
    return false()


def deal_condition(actor: Actor) -> ColumnElement[bool]:
    """The deals an actor may see one by one (marketing and viewers: none, aggregates only)."""
    if _sees_everything(actor):
        return true()
    if actor.role in OWNED_SCOPE_ROLES:
        return _owned(actor, Deal.owner_id, Deal.team_id)
    return false()


def handoff_condition(actor: Actor) -> ColumnElement[bool]:
    """The hand-offs an actor may see."""
    if _sees_everything(actor) or actor.role == "marketing":
        return true()
    if actor.role in OWNED_SCOPE_ROLES:
        return or_(
            _owned(actor, Handoff.owner_id, Handoff.team_id), Handoff.lead_id.in_(visible_lead_ids(actor))
        )
    return false()


def visible_lead_ids(actor: Actor) -> Select[tuple[int]]:
    """A subquery of the ids of the leads the actor may see."""
    return select(Lead.id).where(lead_condition(actor))


def visible_deal_ids(actor: Actor) -> Select[tuple[int]]:
    """A subquery of the ids of the deals the actor may see."""
    return select(Deal.id).where(deal_condition(actor))


def touchpoint_condition(actor: Actor) -> ColumnElement[bool]:
    """Touches of visible leads (marketing and admins: every touch, anonymous ones included)."""
    if _sees_everything(actor) or actor.role == "marketing":
        return true()
    if actor.role in OWNED_SCOPE_ROLES:
        return Touchpoint.lead_id.in_(visible_lead_ids(actor))
    return false()


def activity_condition(actor: Actor) -> ColumnElement[bool]:
    """Activities by the actor, or on a lead or deal it may see."""
    if _sees_everything(actor) or actor.role == "marketing":
        return true()
    if actor.role in OWNED_SCOPE_ROLES:
        return or_(
            Activity.user_id == actor.user_id,
            Activity.lead_id.in_(visible_lead_ids(actor)),
            Activity.deal_id.in_(visible_deal_ids(actor)),
        )
    return false()


def user_condition(actor: Actor) -> ColumnElement[bool]:
    """Admins see every user; a manager itself and its team."""
    if _sees_everything(actor):
        return true()
    if actor.role == "manager":
        return (
            User.id == actor.user_id
            if actor.team_id is None
            else or_(User.id == actor.user_id, User.team_id == actor.team_id)
        )
    return false()


def audit_condition(actor: Actor) -> ColumnElement[bool]:
    """Admins see the whole audit log; a manager the entries made by itself and its team."""
    if _sees_everything(actor):
        return true()
    if actor.role == "manager":
        if actor.team_id is None:
            return AuditLog.actor_user_id == actor.user_id
        return or_(AuditLog.actor_user_id == actor.user_id, AuditLog.actor_user_id.in_(_team_members(actor)))
    return false()


_ROW_CONDITIONS = {
    Lead: lead_condition,
    Deal: deal_condition,
    Handoff: handoff_condition,
    Touchpoint: touchpoint_condition,
    Activity: activity_condition,
    User: user_condition,
    AuditLog: audit_condition,
}


def scoped(stmt: S, model: type, actor: Actor) -> S:
    """`stmt` limited to the rows of `model` the actor may see one by one."""
    return stmt.where(_ROW_CONDITIONS[model](actor))


def get_visible(session: Session, model: type, record_id: int, actor: Actor) -> Any:
    """The record if it exists and the actor may see it; otherwise NotFound (no existence leak)."""
    pk = model.__mapper__.primary_key[0]  # type: ignore[attr-defined]
    row = session.scalar(scoped(select(model).where(pk == record_id), model, actor))
    if row is None:
        raise NotFound(translate("access.error.not_found", resource=model.__tablename__, id=record_id))  # type: ignore[attr-defined]
    return row


def aggregate_lead_condition(actor: Actor) -> ColumnElement[bool]:
    """The leads that may count in the actor's numbers (viewers and marketing: all of them)."""
    if actor.role in OWNED_SCOPE_ROLES and not actor.is_system:
        return lead_condition(actor)
    return true()


def aggregate_deal_condition(actor: Actor) -> ColumnElement[bool]:
    """The deals that may count in the actor's numbers (viewers and marketing: all of them)."""
    if actor.role in OWNED_SCOPE_ROLES and not actor.is_system:
        return deal_condition(actor)
    return true()


@dataclass(frozen=True, slots=True)
class Visibility:
    """The scope as plain data, for engines that do not take SQLAlchemy clauses (the analytics layer).

    `everything`: no filter. Otherwise a row is visible when its owner is in `owner_ids` or its
    team in `team_ids`. `personal_data`: whether person-level rows may be shown (drill-through).
    """

    everything: bool
    owner_ids: frozenset[int]
    team_ids: frozenset[int]
    personal_data: bool

    def allows(self, owner_id: int | None, team_id: int | None) -> bool:
        """True when a row with this owner and team counts for the actor."""
        return self.everything or owner_id in self.owner_ids or team_id in self.team_ids


def visibility(*, session: Session, actor: Actor) -> Visibility:
    """The actor's aggregate scope over leads and deals, resolved to ids."""
    personal = actor.is_system or actor.role != "viewer"
    if not (actor.role in OWNED_SCOPE_ROLES and not actor.is_system):
        return Visibility(True, frozenset(), frozenset(), personal)
    owners = {actor.user_id} if actor.user_id is not None else set()
    teams: set[int] = set()
    if actor.team_id is not None:
        teams.add(actor.team_id)
        owners.update(session.scalars(_team_members(actor)))
    return Visibility(False, frozenset(owners), frozenset(teams), personal)
