"""Lifecycle history from imports (`<stage>_at` columns, won deals), written in bulk by the rules.

The same rules as `leads.service.change_stage(history=True)`: history may move a lead forward
along the main line (from any main-line stage, or from recycled/lost); skipped main-line stages
get implied events at the same instant. Stages already reached are not written again, so a
re-import writes nothing. The job's single audit entry covers these events.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from closedloop.errors import UserError
from closedloop.imports.context import ImportContext
from closedloop.leads.lifecycle import (
    MAIN_INDEX,
    Stage,
    check_transition,
    highest_main_stage,
    implied_stages,
)
from closedloop.leads.models import Lead, LifecycleEvent


class HistoryRefused(ValueError):
    """The history asks for a change the lifecycle rules refuse."""


def record_created(ctx: ImportContext, lead: Lead, at: datetime) -> None:
    """The lead's first event: it entered `lead` when first identified."""
    ctx.session.add(
        LifecycleEvent(
            lead_id=lead.id,
            from_stage=None,
            to_stage="lead",
            occurred_at=at,
            recorded_at=ctx.now,
            by_user_id=ctx.actor.user_id,
            source="import",
        )
    )
    ctx.report.count_change("lifecycle_events")


def reached_stages(ctx: ImportContext, lead: Lead) -> set[str]:
    """Stages the lead has non-voided events for (implied ones included)."""
    session = ctx.session
    session.flush()
    voided = select(LifecycleEvent.voids_id).where(
        LifecycleEvent.lead_id == lead.id, LifecycleEvent.voids_id.is_not(None)
    )
    return set(
        session.scalars(
            select(LifecycleEvent.to_stage).where(
                LifecycleEvent.lead_id == lead.id, LifecycleEvent.id.not_in(voided)
            )
        ).all()
    )


def apply_lead_history(
    ctx: ImportContext, lead: Lead, targets: list[tuple[str, datetime]], *, source: str = "import"
) -> int:
    """Write the events for stages in `targets` the lead has not reached; returns how many were written."""
    if not targets:
        return 0
    reached = reached_stages(ctx, lead)
    written = 0
    ordered = sorted(targets, key=lambda t: (t[1], MAIN_INDEX.get(Stage(t[0]), 99)))
    for stage, at in ordered:
        target = Stage(stage)
        if target.value in reached:
            continue
        if target in MAIN_INDEX:
            if (
                highest_main_stage(reached) is not None
                and MAIN_INDEX[target] < MAIN_INDEX[highest_main_stage(reached)]
            ):
                continue  # already past it: the waterfall counts it as reached
            try:
                check_transition(lead.stage, target, source_type=lead.source_type, history=True)
            except UserError as exc:
                raise HistoryRefused(f"{lead.stage} -> {target.value}: {exc}") from exc
            implied = implied_stages(highest_main_stage(reached), target)
            reason = None
        else:
            if lead.stage == target.value:
                continue
            try:
                check_transition(lead.stage, target, source_type=lead.source_type, reason="other")
            except UserError as exc:
                raise HistoryRefused(f"{lead.stage} -> {target.value}: {exc}") from exc
            implied, reason = [], "other"
        events = [
            LifecycleEvent(
                lead_id=lead.id,
                from_stage=lead.stage,
                to_stage=s.value,
                occurred_at=at,
                recorded_at=ctx.now,
                by_user_id=ctx.actor.user_id,
                source=source,
                implied=True,
            )
            for s in implied
        ]
        events.append(
            LifecycleEvent(
                lead_id=lead.id,
                from_stage=lead.stage,
                to_stage=target.value,
                occurred_at=at,
                recorded_at=ctx.now,
                by_user_id=ctx.actor.user_id,
                source=source,
                reason=reason,
                reason_text="imported" if reason else None,
            )
        )
        ctx.session.add_all(events)
        reached.update(e.to_stage for e in events)
        lead.stage = target.value
        written += len(events)
    if written:
        ctx.session.flush()
        ctx.report.count_change("lifecycle_events", written)
    return written
