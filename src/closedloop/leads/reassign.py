"""Bulk reassign: a manager gives several leads (and their open hand-offs) to one owner, audited per lead."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from closedloop.access import policy
from closedloop.access.scope import scoped
from closedloop.audit import service as audit_service
from closedloop.clock import Clock, system_clock
from closedloop.errors import NotFound, ValidationFailed
from closedloop.handoffs.models import Handoff
from closedloop.i18n import translate
from closedloop.leads.models import Lead
from closedloop.users.actor import Actor
from closedloop.users.models import User

MAX_LEADS = 500


def reassign_leads(
    *,
    session: Session,
    lead_ids: Sequence[int],
    owner: User,
    actor: Actor,
    clock: Clock = system_clock,
) -> int:
    """Give the leads to `owner` (its team too); their open hand-offs follow, the SLA clock keeps running.

    Every lead must be one the actor may see (else NotFound, nothing changes); the caller checks
    that the actor may assign to `owner` (api.helpers.check_assignment). Returns the leads changed.
    """
    policy.require(actor, "leads", "reassign")
    wanted = sorted(set(lead_ids))
    if not wanted:
        raise ValidationFailed(translate("leads.error.reassign_none"), detail={"field": "lead"})
    if len(wanted) > MAX_LEADS:
        raise ValidationFailed(translate("leads.error.reassign_many", n=MAX_LEADS), detail={"field": "lead"})
    leads = list(
        session.scalars(
            scoped(select(Lead).where(Lead.id.in_(wanted), Lead.merged_into_id.is_(None)), Lead, actor)
        )
    )
    if len(leads) != len(wanted):
        missing = sorted(set(wanted) - {lead.id for lead in leads})[0]
        raise NotFound(translate("access.error.not_found", resource="leads", id=missing))
    changing = [lead for lead in leads if (lead.owner_id, lead.team_id) != (owner.id, owner.team_id)]
    if not changing:
        return 0
    ids = [lead.id for lead in changing]
    before = {lead.id: {"owner_id": lead.owner_id, "team_id": lead.team_id} for lead in changing}
    session.execute(
        update(Lead).where(Lead.id.in_(ids)).values(owner_id=owner.id, team_id=owner.team_id),
        execution_options={"synchronize_session": "fetch"},
    )
    moved = session.execute(
        update(Handoff)
        .where(Handoff.lead_id.in_(ids), Handoff.status == "open")
        .values(owner_id=owner.id, team_id=owner.team_id)
        .returning(Handoff.id, Handoff.lead_id)
    ).all()
    handoffs: dict[int, list[int]] = {}
    for handoff_id, lead_id in moved:
        handoffs.setdefault(lead_id, []).append(handoff_id)
    now = clock()
    for lead_id in ids:
        audit_service.record(
            session,
            actor=actor,
            action="lead.reassigned",
            entity_type="lead",
            entity_id=lead_id,
            before=before[lead_id],
            after={
                "owner_id": owner.id,
                "team_id": owner.team_id,
                "handoffs": handoffs.get(lead_id, []),
                "bulk": len(ids),
            },
            clock=lambda: now,
        )
    session.flush()
    return len(ids)
