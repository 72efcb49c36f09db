"""The worker killed mid-delivery and restarted: every message reaches the idempotent receiver."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from tests.integration.notifications.receivers import HttpReceiver

from closedloop.db import unit_of_work
from closedloop.notifications import service
from closedloop.outbox import service as outbox
from closedloop.outbox.models import OutboxMessage
from closedloop.users.actor import system_actor

SECRET_KEY = "k7Qp2vX9mZr4Lb8NwT3yHd6JfC1sGa5E"
ADMIN = system_actor("cli")
MESSAGES = 6
CLOSEDLOOP = str(Path(sys.executable).with_name("closedloop"))


def _worker(url: str, *args: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CLOSEDLOOP_DATABASE_URL": url,
        "CLOSEDLOOP_SECRET_KEY": SECRET_KEY,
        "CLOSEDLOOP_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [
            CLOSEDLOOP,
            "worker",
            "--no-jobs",
            "--lease-seconds",
            "2",
            "--poll-interval",
            "0.1",
            "--batch-size",
            "3",
            *args,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _wait(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


@pytest.mark.slow
def test_killed_worker_loses_nothing_and_resends_only_unfinished(store):
    receiver = HttpReceiver(delay=0.25)
    base = receiver.start()
    try:
        with unit_of_work(store.session_factory) as s:
            service.allow_url(session=s, url_prefix=base, actor=ADMIN)
            for name in ("a", "b"):
                channel = service.add_channel(
                    session=s,
                    name=name,
                    kind="webhook",
                    url=f"{base}/{name}",
                    secret=f"secret-{name}",
                    secret_key=SECRET_KEY,
                    actor=ADMIN,
                )
                service.subscribe(session=s, channel_id=channel.id, topic="deal_won", actor=ADMIN)
            for n in range(MESSAGES):
                outbox.enqueue(
                    s,
                    topic="deal.won",
                    idempotency_key=f"deal.won:{n}",
                    payload={"deal_id": 1000 + n, "amount_minor": 100 * n, "currency": "TWD"},
                )

        first = _worker(store.url, "--max-seconds", "60")
        # Kill it while a request is open at the receiver, after a few deliveries went through.
        _wait(lambda: len(receiver.requests) >= 3 and receiver.in_flight == 1)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        assert first.returncode == -signal.SIGKILL
        with store.session() as s:
            statuses = Counter(m.status for m in s.query(OutboxMessage))
        assert statuses["pending"] > 0, "the kill came too late to test anything"
        seen_before_restart = len(receiver.requests)

        # The killed worker's claims expire after the 2 s lease; a restarted worker drains the rest.
        time.sleep(2.2)
        second = _worker(store.url, "--once", "--format", "json")
        out, err = second.communicate(timeout=60)
        assert second.returncode == 0, err.decode()
        assert json.loads(out)["failed"] == 0

        with store.session() as s:
            assert {m.status for m in s.query(OutboxMessage)} == {"delivered"}
        # Every (message, destination) arrived; the idempotent receiver counts each key once.
        events = Counter((r.path, r.json()["event_key"]) for r in receiver.requests)
        expected = {(f"/{name}", f"deal.won:{n}") for name in ("a", "b") for n in range(MESSAGES)}
        assert set(events) == expected
        assert len(receiver.unique) == 2 * MESSAGES
        keys = Counter(r.headers["idempotency-key"] for r in receiver.requests)
        assert len(keys) == 2 * MESSAGES
        # Only the request open at the kill may arrive twice, with the same idempotency key;
        # destinations already done are not sent again.
        duplicates = {k: c for k, c in keys.items() if c > 1}
        assert sum(duplicates.values()) - len(duplicates) <= 1
        assert len(receiver.requests) == 2 * MESSAGES + sum(duplicates.values()) - len(duplicates)
        assert seen_before_restart < len(receiver.requests)
    finally:
        receiver.stop()


def test_sigterm_finishes_the_message_in_hand_and_releases_the_rest(sqlite_store):
    receiver = HttpReceiver(delay=0.2)
    base = receiver.start()
    try:
        with unit_of_work(sqlite_store.session_factory) as s:
            service.allow_url(session=s, url_prefix=base, actor=ADMIN)
            channel = service.add_channel(
                session=s,
                name="a",
                kind="webhook",
                url=f"{base}/a",
                secret="secret-a",
                secret_key=SECRET_KEY,
                actor=ADMIN,
            )
            service.subscribe(session=s, channel_id=channel.id, topic="*", actor=ADMIN)
            for n in range(MESSAGES):
                outbox.enqueue(s, topic="deal.won", idempotency_key=f"deal.won:{n}", payload={"deal_id": n})
        worker = _worker(sqlite_store.url, "--max-seconds", "60", "--format", "json")
        _wait(lambda: len(receiver.requests) >= 2 and receiver.in_flight == 1)
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=30)
        assert worker.returncode == 0, err.decode()
        summary = json.loads(out)
        with sqlite_store.session() as s:
            messages = s.query(OutboxMessage).all()
        delivered = [m for m in messages if m.status == "delivered"]
        # The request in flight at SIGTERM was answered and recorded; nothing stays claimed.
        assert len(delivered) == summary["sent"] == len(receiver.requests)
        assert len(delivered) < MESSAGES
        assert all(m.claimed_by is None and m.claimed_until is None for m in messages)
    finally:
        receiver.stop()
