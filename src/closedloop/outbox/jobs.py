"""The worker's scheduled jobs (SLA breaches and warnings, goals at risk, score decay, predictive scores,
report packs), run between deliveries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from closedloop.clock import Clock


@dataclass
class ScheduledJob:
    """A periodic job the worker runs between deliveries, each run in its own transaction."""

    name: str
    every: timedelta
    run: Callable[[Session, Clock], object]
    last_run: float | None = None  # time.monotonic() of the last run


def _detect_breaches(session: Session, clock: Clock) -> object:
    from closedloop.handoffs import service as handoff_service

    return handoff_service.detect_breaches(session, clock)


def _warn_sla(session: Session, clock: Clock) -> object:
    from closedloop.notifications import alerts

    return alerts.warn_sla(session, clock)


def _goals_at_risk(session: Session, clock: Clock) -> object:
    from closedloop.notifications import alerts

    return alerts.goals_at_risk(session, clock)


def _rescore(session: Session, clock: Clock) -> object:
    from closedloop.scoring import service as scoring_service

    return scoring_service.rescore(session=session, clock=clock, commit_batches=True)


def _predictive(session: Session, clock: Clock) -> object:
    from closedloop.predictive import service as predictive_service

    return predictive_service.run_schedule(session, clock)


def _report_delivery(session: Session, clock: Clock) -> object:
    from closedloop.reports import subscriptions

    return subscriptions.deliver_due(session, clock)


def default_jobs(
    *,
    breaches_every: timedelta,
    rescore_every: timedelta,
    predictive_every: timedelta = timedelta(hours=6),
    reports_every: timedelta = timedelta(minutes=15),
    goals_every: timedelta = timedelta(hours=6),
) -> list[ScheduledJob]:
    """SLA breaches (escalations go out through this outbox) and warnings before them, goals at risk,
    score decay, predictive scoring and drift, and the report packs subscribers receive by email after
    each week or month."""
    return [
        ScheduledJob("sla_breaches", breaches_every, _detect_breaches),
        ScheduledJob("sla_warnings", breaches_every, _warn_sla),
        ScheduledJob("goals_at_risk", goals_every, _goals_at_risk),
        ScheduledJob("rescore", rescore_every, _rescore),
        ScheduledJob("predictive", predictive_every, _predictive),
        ScheduledJob("report_delivery", reports_every, _report_delivery),
    ]
