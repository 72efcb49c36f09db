"""Each period's pack is sent once per recipient, whatever the schedule and however many subscriptions.

A monthly closed-loop report on a weekly schedule: the worker's job runs on four Mondays of March
2026 and once on Wednesday 1 April. The last complete month is February until 1 April and March from
then on, so exactly two packs go out (February's, then March's), not one a week. The manager is
subscribed to it twice (their own subscription in zh-TW, and their team's in en): they receive each
month's pack once, in their own subscription's language; the team's other member receives it in en.
A real aiosmtpd server receives the mail.
"""

from __future__ import annotations

import email
import random
from datetime import UTC, date, datetime, timedelta
from email import policy as email_policy

from aiosmtpd.controller import Controller
from sqlalchemy import select
from tests.integration.notifications.receivers import SmtpSink, free_port

from closedloop.notifications import service as notify
from closedloop.notifications.models import NotificationDelivery
from closedloop.outbox.models import OutboxMessage
from closedloop.outbox.worker import Worker, default_jobs
from closedloop.reports import subscriptions
from closedloop.users.actor import system_actor
from closedloop.users.models import Team, User

SECRET_KEY = "k7Qp2vX9mZr4Lb8NwT3yHd6JfC1sGa5E"
ADMIN = system_actor("cli")
# 12:00 in Taipei on four Mondays of March, then Wednesday 1 April (04:00 UTC).
RUNS = [
    datetime(2026, m, d, 4, 0, tzinfo=UTC) for m, d in ((3, 2), (3, 9), (3, 16), (3, 23), (3, 30), (4, 1))
]


def _jobs() -> list:
    return default_jobs(breaches_every=timedelta(days=1), rescore_every=timedelta(days=1),
                        predictive_every=timedelta(days=1), reports_every=timedelta(0))  # fmt: skip


def test_due_period_is_the_coarser_of_report_and_schedule() -> None:
    monday = date(2026, 3, 16)
    assert subscriptions.due_period("weekly", monday, "weekly") == (date(2026, 3, 9), date(2026, 3, 15))
    feb = (date(2026, 2, 1), date(2026, 2, 28))
    assert subscriptions.due_period("weekly", monday, "monthly") == feb
    assert subscriptions.due_period("monthly", monday, "monthly") == feb
    assert subscriptions.due_period("monthly", monday, "weekly") == feb
    # The next Monday: a weekly pack is due again, a monthly report is not.
    assert subscriptions.due_period("weekly", date(2026, 3, 23), "monthly") == feb


def test_monthly_report_on_a_weekly_schedule_goes_once_a_month_once_per_person(history) -> None:
    store, session = history["store"], history["session"]
    sink, port = SmtpSink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        notify.allow_url(session=session, url_prefix=f"smtp://127.0.0.1:{port}", actor=ADMIN)
        notify.add_channel(session=session, name="relay", kind="email", secret_key=SECRET_KEY, actor=ADMIN,
                           config={"host": "127.0.0.1", "port": port, "from": "reports@corp.example"})  # fmt: skip
        north = Team(name="North")
        session.add(north)
        session.flush()
        manager = session.get(User, history["manager"])
        manager.team_id = north.id
        session.add(User(email="lin@corp.example", role="sales", team_id=north.id, language="en"))
        session.flush()
        # The team's subscription is created first: the person's own still wins for them.
        team = subscriptions.subscribe(session=session, actor=ADMIN, report="monthly", schedule="weekly",
                                       language="en", team_id=north.id)  # fmt: skip
        mine = subscriptions.subscribe(session=session, actor=ADMIN, report="monthly", schedule="weekly",
                                       language="zh-TW", user_id=manager.id)  # fmt: skip
        session.commit()

        sent_per_run = []
        for moment in RUNS:
            worker = Worker(session_factory=store.session_factory, secret_key=SECRET_KEY,
                            clock=lambda moment=moment: moment, rng=random.Random(0))  # fmt: skip
            stats = worker.run(once=True, jobs=_jobs())
            assert stats.failed == 0
            sent_per_run.append(stats.sent)
    finally:
        controller.stop()

    # Two subscriptions x two months = four messages; three mails a month (manager once, lin once).
    assert sent_per_run == [2, 0, 0, 0, 0, 2]
    with store.session() as s:
        keys = sorted(s.scalars(select(OutboxMessage.idempotency_key)))
        assert keys == sorted(f"report:{sub}:{end}" for sub in (mine.id, team.id)
                              for end in ("2026-02-28", "2026-03-31"))  # fmt: skip
        deliveries = list(s.scalars(select(NotificationDelivery)))
        assert len(deliveries) == 4 and len({d.delivery_key for d in deliveries}) == 4
    received = []
    for rcpts, raw in sink.messages:
        message = email.message_from_bytes(raw, policy=email_policy.default)
        (attachment,) = list(message.iter_attachments())
        received.append((tuple(rcpts), message["Content-Language"], attachment.get_filename()))
    assert sorted(received) == sorted([
        (("manager@example.com",), "zh-TW", "closedloop-monthly-2026-02-28-zh-TW.pdf"),
        (("lin@corp.example",), "en", "closedloop-monthly-2026-02-28-en.pdf"),
        (("manager@example.com",), "zh-TW", "closedloop-monthly-2026-03-31-zh-TW.pdf"),
        (("lin@corp.example",), "en", "closedloop-monthly-2026-03-31-en.pdf"),
    ])  # fmt: skip
