"""The worker's scheduled jobs: an SLA breach found by the worker reaches the manager's channel."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from tests.integration.notifications.receivers import HttpReceiver

from closedloop.db import unit_of_work
from closedloop.handoffs.models import Handoff
from closedloop.leads.models import Lead
from closedloop.notifications import service
from closedloop.outbox import service as outbox
from closedloop.outbox.models import OutboxMessage
from closedloop.outbox.worker import ScheduledJob, Worker, default_jobs
from closedloop.users.actor import system_actor
from closedloop.users.models import Team, User

SECRET_KEY = "k7Qp2vX9mZr4Lb8NwT3yHd6JfC1sGa5E"
ADMIN = system_actor("cli")
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


def test_breach_detected_by_the_worker_is_delivered_to_the_manager(store):
    receiver = HttpReceiver()
    base = receiver.start()
    try:
        with unit_of_work(store.session_factory) as s:
            team = Team(name="North", kind="sales")
            s.add(team)
            s.flush()
            manager = User(
                email="boss@example.com", name="陳經理", role="manager", team_id=team.id, language="zh-TW"
            )
            rep = User(email="rep@example.com", name="Rep", role="sales", team_id=team.id, language="en")
            lead = Lead(name="王小明", email="ming@example.com")
            s.add_all([manager, rep, lead])
            s.flush()
            s.add(
                Handoff(
                    lead_id=lead.id,
                    owner_id=rep.id,
                    team_id=team.id,
                    assigned_at=NOW - timedelta(hours=5),
                    sla_due_at=NOW - timedelta(minutes=30),
                    status="open",
                )
            )
            service.allow_url(session=s, url_prefix=base, actor=ADMIN)
            for person in (manager, rep):
                channel = service.add_channel(
                    session=s,
                    name=f"hook-{person.id}",
                    kind="webhook",
                    url=f"{base}/{person.email}",
                    secret="whsec-jobs",
                    secret_key=SECRET_KEY,
                    actor=ADMIN,
                )
                service.subscribe(
                    session=s, channel_id=channel.id, topic="sla_breached", user_id=person.id, actor=ADMIN
                )
        worker = Worker(
            session_factory=store.session_factory,
            secret_key=SECRET_KEY,
            clock=lambda: NOW,
            rng=random.Random(0),
        )
        jobs = default_jobs(breaches_every=timedelta(minutes=1), rescore_every=timedelta(hours=1))
        stats = worker.run(once=True, jobs=jobs)
        assert stats.sent == 1
        # The escalation goes to the team's manager only, in the manager's language.
        (request,) = receiver.requests
        assert request.path == "/boss@example.com"
        body = request.json()
        assert body["topic"] == "sla_breached"
        assert body["text"]["title"] == "SLA 已逾時:王小明"
        assert body["text"]["body"] == "王小明(Rep)的首次回應期限已於 2026-11-23 13:30 (Asia/Taipei) 逾時。"
        # Running again finds nothing new: one escalation per breach.
        assert (
            worker.run(
                once=True, jobs=default_jobs(breaches_every=timedelta(0), rescore_every=timedelta(0))
            ).messages
            == 0
        )
    finally:
        receiver.stop()


def test_jobs_run_when_due_and_a_failing_job_does_not_stop_delivery(sqlite_store):
    runs: list[str] = []

    def enqueue(session, clock):
        runs.append("enqueue")
        outbox.enqueue(
            session, topic="report.ready", idempotency_key=f"r{len(runs)}", payload={}, clock=clock
        )

    def broken(session, clock):
        runs.append("broken")
        raise RuntimeError("boom")

    jobs = [
        ScheduledJob("enqueue", timedelta(hours=1), enqueue),
        ScheduledJob("broken", timedelta(0), broken),
    ]
    worker = Worker(session_factory=sqlite_store.session_factory, secret_key=SECRET_KEY, clock=lambda: NOW)
    first = worker.run(once=True, jobs=jobs)
    worker.run(once=True, jobs=jobs)
    # The hourly job ran once, the every-turn job twice; the enqueued message was processed (no subscriber).
    assert runs == ["enqueue", "broken", "broken"]
    assert first.messages == 1
    with sqlite_store.session() as s:
        assert [m.status for m in s.query(OutboxMessage)] == ["delivered"]
