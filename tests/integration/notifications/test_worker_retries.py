"""Failed deliveries back off exponentially with jitter, skip destinations done, then die visibly."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.integration.notifications.receivers import HttpReceiver

from closedloop.db import unit_of_work
from closedloop.notifications import service
from closedloop.notifications.deadletters import dead_messages, requeue
from closedloop.notifications.models import DeliveryAttempt, NotificationDelivery
from closedloop.outbox import service as outbox
from closedloop.outbox.models import OutboxMessage
from closedloop.outbox.worker import RetryPolicy, Worker, WorkerSettings
from closedloop.users.actor import system_actor

SECRET_KEY = "k7Qp2vX9mZr4Lb8NwT3yHd6JfC1sGa5E"
ADMIN = system_actor("cli")
T0 = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
CLOSEDLOOP = str(Path(sys.executable).with_name("closedloop"))


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def receiver():
    rec = HttpReceiver()
    rec.base = rec.start()
    yield rec
    rec.stop()


def _setup(store, receiver, clock):
    with unit_of_work(store.session_factory) as s:
        service.allow_url(session=s, url_prefix=receiver.base, actor=ADMIN)
        for name in ("good", "flaky"):
            channel = service.add_channel(
                session=s,
                name=name,
                kind="webhook",
                url=f"{receiver.base}/{name}/tok-9f",
                secret="whsec",
                secret_key=SECRET_KEY,
                actor=ADMIN,
            )
            service.subscribe(session=s, channel_id=channel.id, topic="goal_at_risk", actor=ADMIN)
        outbox.enqueue(
            s,
            topic="goal.at_risk",
            idempotency_key="goal.at_risk:7:2026-11",
            payload={"goal_name": "Q4 SQLs", "progress": "41", "target": "120"},
            clock=clock,
        )


def _message(store):
    with store.session() as s:
        return s.query(OutboxMessage).one()


def test_backoff_then_dead_and_visible(store, receiver):
    clock = Clock(T0)
    # "good" always answers 200; "flaky" always 500.
    receiver.responder = lambda r: (500, b"boom") if r.path.startswith("/flaky") else (200, b"{}")
    _setup(store, receiver, clock)
    policy = RetryPolicy(max_attempts=3, base=timedelta(seconds=10), cap=timedelta(seconds=15))
    worker = Worker(
        session_factory=store.session_factory,
        secret_key=SECRET_KEY,
        clock=clock,
        settings=WorkerSettings(retry=policy),
        rng=random.Random(42),
    )
    draws = random.Random(42)

    worker.drain()
    message = _message(store)
    assert (message.status, message.attempts) == ("pending", 1)
    # Attempt 1 failed: wait 10 s * 2^0 = 10 s, half fixed, half jitter -> in [5, 10] s.
    wait1 = (message.available_at - T0).total_seconds()
    assert 5 <= wait1 <= 10
    assert wait1 == pytest.approx(5 + 5 * draws.random(), abs=1e-3)
    assert "flaky" in message.last_error and "HTTP 500" in message.last_error
    assert "tok-9f" not in message.last_error

    # Not due yet: nothing is sent.
    clock.now = message.available_at - timedelta(seconds=1)
    assert worker.drain().messages == 0
    assert len(receiver.on("/flaky/tok-9f")) == 1

    clock.now = message.available_at
    worker.drain()
    message = _message(store)
    assert message.attempts == 2
    # Attempt 2: 10 s * 2 = 20 s, capped at 15 s -> in [7.5, 15] s.
    wait2 = (message.available_at - clock.now).total_seconds()
    assert 7.5 <= wait2 <= 15
    assert wait2 == pytest.approx(7.5 + 7.5 * draws.random(), abs=1e-3)

    clock.now = message.available_at
    stats = worker.drain()
    assert stats.dead == 1
    message = _message(store)
    assert (message.status, message.attempts) == ("dead", 3)

    # The good destination got it once; the flaky one three times, always with the same key.
    assert len(receiver.on("/good/tok-9f")) == 1
    flaky = receiver.on("/flaky/tok-9f")
    assert len(flaky) == 3
    assert len({r.headers["idempotency-key"] for r in flaky}) == 1
    with store.session() as s:
        attempts = s.query(DeliveryAttempt).order_by(DeliveryAttempt.id).all()
        assert [(a.ok, a.status_code) for a in attempts] == [
            (True, 200),
            (False, 500),
            (False, 500),
            (False, 500),
        ]
        assert sorted(d.status for d in s.query(NotificationDelivery)) == ["dead", "delivered"]
        (dead,) = dead_messages(s)
        assert dead["idempotency_key"] == "goal.at_risk:7:2026-11"
        assert [d["channel"] for d in dead["deliveries"]] == ["flaky"]
        assert "HTTP 500" in dead["deliveries"][0]["last_error"]

    # Visible from the command line too.
    env = {**os.environ, "CLOSEDLOOP_DATABASE_URL": store.url, "CLOSEDLOOP_SECRET_KEY": SECRET_KEY}
    out = subprocess.run(
        [CLOSEDLOOP, "worker", "--status", "--format", "json"], env=env, capture_output=True, check=True
    ).stdout
    report = json.loads(out)
    assert report["counts"] == {"pending": 0, "delivered": 0, "dead": 1}
    assert "HTTP 500" in report["dead"][0]["last_error"]

    # Fixed receiver, requeued: only the flaky destination is sent again.
    receiver.responder = lambda r: (200, b"{}")
    with unit_of_work(store.session_factory) as s:
        requeue(session=s, message_id=message.id, clock=clock)
    worker.drain()
    assert _message(store).status == "delivered"
    assert len(receiver.on("/good/tok-9f")) == 1
    assert len(receiver.on("/flaky/tok-9f")) == 4


def test_retry_succeeds_without_resending_done_destinations(store, receiver):
    clock = Clock(T0)
    calls = {"n": 0}

    def flaky_twice(request):
        if request.path.startswith("/flaky"):
            calls["n"] += 1
            return (503, b"busy") if calls["n"] <= 2 else (200, b"{}")
        return 200, b"{}"

    receiver.responder = flaky_twice
    _setup(store, receiver, clock)
    worker = Worker(
        session_factory=store.session_factory, secret_key=SECRET_KEY, clock=clock, rng=random.Random(3)
    )
    for _ in range(3):
        worker.drain()
        clock.now = _message(store).available_at
    message = _message(store)
    assert (message.status, message.attempts, message.last_error) == ("delivered", 2, None)
    assert len(receiver.on("/good/tok-9f")) == 1
    assert len(receiver.on("/flaky/tok-9f")) == 3


def test_retry_after_from_a_rate_limited_receiver_is_honoured(sqlite_store, receiver):
    clock = Clock(T0)

    def rate_limited(request):
        return 429, b"rate_limited"

    receiver.responder = rate_limited
    receiver.headers = {"Retry-After": "120"}
    _setup(sqlite_store, receiver, clock)
    policy = RetryPolicy(max_attempts=5, base=timedelta(seconds=10), cap=timedelta(minutes=10))
    worker = Worker(
        session_factory=sqlite_store.session_factory,
        secret_key=SECRET_KEY,
        clock=clock,
        settings=WorkerSettings(retry=policy),
        rng=random.Random(1),
    )
    worker.drain()
    # Our own backoff would wait 5-10 s; the receiver asked for 120 s.
    assert _message(sqlite_store).available_at == T0 + timedelta(seconds=120)
