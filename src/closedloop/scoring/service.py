"""Applying the scoring policy in force: score history, the lead's score and band, automatic MQL.

A lead becomes an MQL when its score reaches the threshold or a high-intent action (a demo
request) happens, through the data-quality gate. A recycled or lost lead re-enters only on new
engagement: a touch after its last stage change.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from closedloop.audit import service as audit_service
from closedloop.clock import Clock, system_clock
from closedloop.handoffs import service as handoff_service
from closedloop.handoffs.models import DataQualityHold, Handoff
from closedloop.leads import service as lead_service
from closedloop.leads.lifecycle import Stage
from closedloop.leads.models import Lead, LeadScore, LifecycleEvent
from closedloop.marketing.models import Touchpoint
from closedloop.policies.service import payload_in_force
from closedloop.scoring import rules
from closedloop.users.actor import Actor, system_actor


@dataclass(frozen=True)
class ScoreOutcome:
    """What scoring one lead did: the result, the history row (None if unchanged), any MQL step."""

    result: rules.ScoreResult
    history: LeadScore | None
    handoff: Handoff | None = None
    hold: DataQualityHold | None = None


def lead_facts(lead: Lead) -> rules.LeadFacts:
    """The fit facts of a lead."""
    return rules.LeadFacts(
        industry=lead.industry,
        company_size=lead.company_size,
        region=lead.region,
        country=lead.country,
        title=lead.title,
        lead_type=lead.lead_type,
        source_type=lead.source_type,
        custom=lead.custom or {},
    )


def lead_touches(session: Session, lead_id: int) -> list[rules.TouchFact]:
    """The lead's touches, as engagement rules see them."""
    rows = session.execute(
        select(
            Touchpoint.type,
            Touchpoint.occurred_at,
            Touchpoint.channel,
            Touchpoint.utm_campaign,
            Touchpoint.utm_content,
            Touchpoint.landing_page,
        ).where(Touchpoint.lead_id == lead_id)
    ).all()
    return [rules.TouchFact(*row) for row in rows]


def score_lead(
    *, session: Session, lead_id: int, actor: Actor | None = None, clock: Clock = system_clock
) -> ScoreOutcome:
    """Score the lead now under the scoring policy in force, store a history row if it changed, and
    promote the lead to MQL when the threshold or a high-intent action says so."""
    actor = actor or system_actor("worker")
    lead = lead_service.get_lead(session=session, lead_id=lead_id)
    now = clock()
    payload, version_id = payload_in_force(session, "scoring", now, rules.DEFAULT_RULES)
    policy = rules.parse_rules(payload)
    touches = lead_touches(session, lead.id)
    result = rules.score(policy, lead_facts(lead), touches, now)
    history = None
    if result.score != lead.score or result.band != lead.score_band:
        before = {"score": lead.score, "band": lead.score_band}
        history = LeadScore(
            lead_id=lead.id,
            scored_at=now,
            kind="rules",
            score=float(result.score),
            band=result.band,
            explanation=[item.as_dict() for item in result.items],
            policy_version_id=version_id,
        )
        session.add(history)
        lead.score, lead.score_band = result.score, result.band
        session.flush()
        audit_service.record(
            session,
            actor=actor,
            action="lead.scored",
            entity_type="lead",
            entity_id=lead.id,
            before=before,
            after={"score": result.score, "band": result.band, "explanation": result.explanation()},
            clock=clock,
        )
    trigger = _mql_trigger(session, lead, policy, result, [t for t in touches if t.occurred_at <= now])
    if trigger is None:
        return ScoreOutcome(result, history)
    step = handoff_service.promote_to_mql(
        session=session, lead=lead, trigger=trigger, actor=actor, clock=clock, scoring_version_id=version_id
    )
    if isinstance(step, Handoff):
        return ScoreOutcome(result, history, handoff=step)
    return ScoreOutcome(result, history, hold=step)


def _mql_trigger(
    session: Session,
    lead: Lead,
    policy: rules.ScoringRules,
    result: rules.ScoreResult,
    touches: list[rules.TouchFact],
) -> str | None:
    """Why the lead should become an MQL now ("high_intent:demo request", "score"), or None."""
    if lead.stage == Stage.LEAD.value:
        fresh = touches
    elif lead.stage in (Stage.RECYCLED.value, Stage.LOST.value):
        since = session.scalar(
            select(func.max(LifecycleEvent.occurred_at)).where(LifecycleEvent.lead_id == lead.id)
        )
        fresh = [t for t in touches if since is None or t.occurred_at > since]
        if not fresh:
            return None
    else:
        return None
    if lead.is_spam:
        return None
    for intent in policy.high_intent:
        if any(intent.match.matches(t) for t in fresh):
            return f"high_intent:{intent.label}"
    if result.score >= policy.mql_threshold:
        return "score"
    return None


def score_history(session: Session, lead_id: int) -> list[LeadScore]:
    """The lead's score history, oldest first."""
    return list(
        session.scalars(
            select(LeadScore).where(LeadScore.lead_id == lead_id).order_by(LeadScore.scored_at, LeadScore.id)
        )
    )


def rescore(
    *,
    session: Session,
    clock: Clock = system_clock,
    lead_ids: list[int] | None = None,
    actor: Actor | None = None,
) -> int:
    """The scheduled job: score leads that can still become MQLs (decay moves scores with time).

    Returns how many leads changed score or band. Each lead is scored by the same rules as
    `score_lead`; callers run it in batches, one transaction per batch.
    """
    query = select(Lead.id).where(
        Lead.merged_into_id.is_(None),
        Lead.stage.in_((Stage.LEAD.value, Stage.RECYCLED.value, Stage.LOST.value)),
    )
    if lead_ids is not None:
        query = query.where(Lead.id.in_(lead_ids))
    changed = 0
    for lead_id in session.scalars(query.order_by(Lead.id)).all():
        if score_lead(session=session, lead_id=lead_id, actor=actor, clock=clock).history is not None:
            changed += 1
    return changed
