"""SLA about to breach and goal at risk: raised by the worker's jobs, routed by per-user and per-team
subscriptions to a real local HTTP receiver, once each however often the jobs run.

Monday 2026-11-23 14:00 in Taipei (06:00 UTC). Hand-offs owned by Rep: one due in 40 minutes (warned),
one due in 2 hours (not yet), one already past (a breach, not a warning). Goals of the North team for
November (30 days, 23 elapsed): 10 real MQLs so far, a run-rate of 10 x 30 / 23 = 13.04 by the end;
"MQLs 100" (target 100) is at risk (13.04 < 90), "MQLs 12" is not (13.04 >= 10.8).
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from tests.integration.notifications.receivers import HttpReceiver

from closedloop.analytics import engine
from closedloop.db import unit_of_work
from closedloop.goals.models import Goal
from closedloop.handoffs.models import Handoff
from closedloop.leads.models import Lead, LifecycleEvent
from closedloop.notifications import alerts, service
from closedloop.outbox.models import OutboxMessage
from closedloop.outbox.worker import Worker, default_jobs
from closedloop.users.actor import system_actor
from closedloop.users.models import Team, User

SECRET_KEY = "k7Qp2vX9mZr4Lb8NwT3yHd6JfC1sGa5E"
ADMIN = system_actor("cli")
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("metric", "forecast", "target", "elapsed", "expected"),
    [
        ("stage_count", 13.04, 100, 0.77, True),
        ("stage_count", 13.04, 12, 0.77, False),
        ("stage_count", 89.9, 100, 0.5, True),
        ("stage_count", 90.0, 100, 0.5, False),
        ("stage_count", 1, 100, 0.2, False),  # too early to tell
        ("rejection_rate", 0.25, 0.2, 0.5, True),  # lower is better: 0.25 > 0.2 / 0.9
        ("rejection_rate", 0.22, 0.2, 0.5, False),
        ("spend", 10, 100, 0.9, False),  # a budget
        ("win_rate", None, 0.3, 0.5, False),
    ],
)
def test_at_risk_by_hand(metric, forecast, target, elapsed, expected) -> None:
    goal = {"metric": metric, "forecast": forecast, "target": target}
    assert alerts.at_risk(goal, elapsed=elapsed) is expected


def test_warnings_and_goals_at_risk_reach_the_subscribed_user_and_team(store) -> None:
    receiver = HttpReceiver()
    base = receiver.start()
    try:
        with unit_of_work(store.session_factory) as s:
            north = Team(name="North", kind="sales")
            s.add(north)
            s.flush()
            rep = User(email="rep@example.com", name="Rep", role="sales", team_id=north.id, language="en")
            other = User(email="other@example.com", name="Other", role="sales", team_id=north.id)
            boss = User(email="boss@example.com", name="Boss", role="manager", team_id=north.id)
            lead = Lead(name="王小明", email="ming@example.com")
            s.add_all([rep, other, boss, lead])
            s.flush()
            for minutes in (40, 120, -10):
                s.add(Handoff(lead_id=lead.id, owner_id=rep.id, team_id=north.id, status="open",
                              assigned_at=NOW - timedelta(hours=3), sla_due_at=NOW + timedelta(minutes=minutes)))  # fmt: skip
            for i in range(10):
                day = datetime(2026, 11, 2 + i, 4, 0, tzinfo=UTC)
                mql = Lead(email=f"mql{i}@example.com", created_at=day, recorded_at=day)
                s.add(mql)
                s.flush()
                s.add(
                    LifecycleEvent(
                        lead_id=mql.id, to_stage="mql", occurred_at=day, recorded_at=day, implied=False
                    )
                )
            for target in (100, 12):
                s.add(Goal(name=f"MQLs {target}", metric="stage_count", filters={"stage": "mql"}, target=target,
                           side="marketing", period_start=date(2026, 11, 1), period_end=date(2026, 11, 30),
                           team_id=north.id, owner_id=boss.id))  # fmt: skip
            service.allow_url(session=s, url_prefix=base, actor=ADMIN)
            hooks = {}
            for name in ("rep", "other", "team"):
                hooks[name] = service.add_channel(session=s, name=f"hook-{name}", kind="webhook", url=f"{base}/{name}",
                                                  secret="whsec-alerts", secret_key=SECRET_KEY, actor=ADMIN)  # fmt: skip
            # Per user: each rep follows SLA warnings on their own hook. Per team: North follows goals.
            for person in ("rep", "other"):
                service.subscribe(session=s, channel_id=hooks[person].id, topic="sla_about_to_breach",
                                  user_id={"rep": rep, "other": other}[person].id, actor=ADMIN)  # fmt: skip
            service.subscribe(session=s, channel_id=hooks["team"].id, topic="goal_at_risk", team_id=north.id,
                              actor=ADMIN)  # fmt: skip

        worker = Worker(session_factory=store.session_factory, secret_key=SECRET_KEY, clock=lambda: NOW,
                        rng=random.Random(0))  # fmt: skip
        jobs = default_jobs(breaches_every=timedelta(0), rescore_every=timedelta(days=1),
                            predictive_every=timedelta(days=1), reports_every=timedelta(days=1),
                            goals_every=timedelta(0))  # fmt: skip
        first = worker.run(once=True, jobs=jobs)
        assert first.failed == 0
        again = worker.run(once=True, jobs=jobs)
        assert again.messages == 0  # each warning and each goal at risk is raised once
    finally:
        receiver.stop()
        engine.close(store.url)

    assert receiver.on("/other") == []  # not their hand-off
    (warning,) = receiver.on("/rep")
    body = warning.json()
    assert body["topic"] == "sla_about_to_breach"
    assert body["text"]["title"] == "SLA about to breach: 王小明"
    assert body["text"]["body"] == (
        "The first response deadline for 王小明 (Rep) is 2026-11-23 14:40 (Asia/Taipei): 40 minutes left."
    )
    (goal,) = receiver.on("/team")
    body = goal.json()
    assert body["topic"] == "goal_at_risk"
    assert body["text"]["title"] == "Goal at risk: MQLs 100"
    assert body["text"]["body"] == "MQLs 100 is at 10 of 100; the run-rate projects 13.04 by the period end."
    with store.session() as s:
        keys = sorted(
            k for k in s.scalars(select(OutboxMessage.idempotency_key)) if not k.startswith("sla.breached")
        )
    assert [k.split(":")[0] for k in keys] == ["goal.at_risk", "sla.about_to_breach"]
