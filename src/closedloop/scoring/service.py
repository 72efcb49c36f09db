"""Applying the scoring policy in force: score history, the lead's score and band, automatic MQL.

A lead becomes an MQL when its score reaches the threshold or a high-intent action (a demo
request) happens, through the data-quality gate. A recycled or lost lead re-enters only on new
engagement: a touch after its last stage change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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


def touches_of(session: Session, lead_ids: list[int]) -> dict[int, list[rules.TouchFact]]:
    """The touches of several leads at once, as engagement rules see them."""
    grouped: dict[int, list[rules.TouchFact]] = {lead_id: [] for lead_id in lead_ids}
    for start in range(0, len(lead_ids), 500):
        rows = session.execute(
            select(
                Touchpoint.lead_id,
                Touchpoint.type,
                Touchpoint.occurred_at,
                Touchpoint.channel,
                Touchpoint.utm_campaign,
                Touchpoint.utm_content,
                Touchpoint.landing_page,
            ).where(Touchpoint.lead_id.in_(lead_ids[start : start + 500]))
        ).all()
        for lead_id, kind, occurred_at, channel, campaign, content, landing_page in rows:
            if lead_id is not None:
                grouped[lead_id].append(
                    rules.TouchFact(kind, occurred_at, channel, campaign, content, landing_page)
                )
    return grouped


def lead_touches(session: Session, lead_id: int) -> list[rules.TouchFact]:
    """The lead's touches, as engagement rules see them."""
    return touches_of(session, [lead_id])[lead_id]


def _last_events(session: Session, lead_ids: list[int]) -> dict[int, datetime]:
    """When each lead last changed stage (re-entry needs engagement after it)."""
    found: dict[int, datetime] = {}
    for start in range(0, len(lead_ids), 500):
        rows = session.execute(
            select(LifecycleEvent.lead_id, func.max(LifecycleEvent.occurred_at))
            .where(LifecycleEvent.lead_id.in_(lead_ids[start : start + 500]))
            .group_by(LifecycleEvent.lead_id)
        ).all()
        found.update({lead_id: at for lead_id, at in rows if at is not None})
    return found


def _record(
    session: Session, lead: Lead, result: rules.ScoreResult, now: datetime, version_id: int | None
) -> LeadScore | None:
    """Store a history row and the lead's score and band when either changed."""
    if result.score == lead.score and result.band == lead.score_band:
        return None
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
    return history


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
    before = {"score": lead.score, "band": lead.score_band}
    history = _record(session, lead, result, now, version_id)
    if history is not None:
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
    last_event = _last_events(session, [lead.id]).get(lead.id)
    return _promote(session, lead, policy, result, touches, last_event, history, version_id, actor, clock)


def _promote(
    session: Session,
    lead: Lead,
    policy: rules.ScoringRules,
    result: rules.ScoreResult,
    touches: list[rules.TouchFact],
    last_event: datetime | None,
    history: LeadScore | None,
    version_id: int | None,
    actor: Actor,
    clock: Clock,
) -> ScoreOutcome:
    now = clock()
    trigger = _mql_trigger(lead, policy, result, [t for t in touches if t.occurred_at <= now], last_event)
    if trigger is None:
        return ScoreOutcome(result, history)
    step = handoff_service.promote_to_mql(
        session=session, lead=lead, trigger=trigger, actor=actor, clock=clock, scoring_version_id=version_id
    )
    if isinstance(step, Handoff):
        return ScoreOutcome(result, history, handoff=step)
    return ScoreOutcome(result, history, hold=step)


def _mql_trigger(
    lead: Lead,
    policy: rules.ScoringRules,
    result: rules.ScoreResult,
    touches: list[rules.TouchFact],
    last_event: datetime | None,
) -> str | None:
    """Why the lead should become an MQL now ("high_intent:demo request", "score"), or None."""
    if lead.stage == Stage.LEAD.value:
        fresh = touches
    elif lead.stage in (Stage.RECYCLED.value, Stage.LOST.value):
        fresh = [t for t in touches if last_event is None or t.occurred_at > last_event]
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
    batch_size: int = 1000,
    commit_batches: bool = False,
) -> int:
    """The scheduled job: score leads that can still become MQLs (decay moves scores with time).

    Leads are read in batches (touches and last stage changes in one query per batch); score
    changes are stored as history rows and summed up in one audit entry per batch, as bulk jobs
    do. Leads that reach the threshold go through the gate and are handed off as in
    `score_lead`. With `commit_batches` each batch (its scores, hand-offs, outbox messages and
    audit entry) commits on its own, so a run over many leads never holds SQLite's single writer
    for long; a run cut short is simply finished by the next one. Returns how many leads changed
    score or band.
    """
    actor = actor or system_actor("worker")
    now = clock()
    payload, version_id = payload_in_force(session, "scoring", now, rules.DEFAULT_RULES)
    policy = rules.parse_rules(payload)
    query = select(Lead.id).where(
        Lead.merged_into_id.is_(None),
        Lead.stage.in_((Stage.LEAD.value, Stage.RECYCLED.value, Stage.LOST.value)),
    )
    if lead_ids is not None:
        query = query.where(Lead.id.in_(lead_ids))
    ids = list(session.scalars(query.order_by(Lead.id)))
    changed: list[int] = []
    promoted: list[int] = []
    total = 0
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        leads = session.scalars(select(Lead).where(Lead.id.in_(chunk)).order_by(Lead.id)).all()
        touches = touches_of(session, chunk)
        last_events = _last_events(session, chunk)
        for lead in leads:
            result = rules.score(policy, lead_facts(lead), touches[lead.id], now)
            history = _record(session, lead, result, now, version_id)
            if history is not None:
                changed.append(lead.id)
            outcome = _promote(
                session,
                lead,
                policy,
                result,
                touches[lead.id],
                last_events.get(lead.id),
                history,
                version_id,
                actor,
                clock,
            )
            if outcome.handoff is not None:
                promoted.append(lead.id)
        if changed or promoted:
            audit_service.record(
                session,
                actor=actor,
                action="leads.rescored",
                entity_type="lead",
                after={"policy_version_id": version_id, "changed": len(changed), "handed_off": promoted},
                clock=clock,
            )
        session.flush()
        if commit_batches:
            session.commit()
        total += len(changed)
        changed, promoted = [], []
    return total
