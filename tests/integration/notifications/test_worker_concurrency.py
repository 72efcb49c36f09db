"""Two workers at once: each message is claimed by one of them and delivered exactly once."""

from __future__ import annotations

import threading
from collections import Counter

from tests.integration.notifications.receivers import HttpReceiver

from closedloop.db import unit_of_work
from closedloop.notifications import service
from closedloop.outbox import service as outbox
from closedloop.outbox.models import OutboxMessage
from closedloop.outbox.worker import RunStats, Worker, WorkerSettings
from closedloop.users.actor import system_actor

SECRET_KEY = "k7Qp2vX9mZr4Lb8NwT3yHd6JfC1sGa5E"
ADMIN = system_actor("cli")
MESSAGES = 16


def test_two_workers_share_the_queue_without_double_sends(store):
    receiver = HttpReceiver(delay=0.02)
    base = receiver.start()
    try:
        with unit_of_work(store.session_factory) as s:
            service.allow_url(session=s, url_prefix=base, actor=ADMIN)
            channel = service.add_channel(
                session=s,
                name="hook",
                kind="webhook",
                url=f"{base}/in",
                secret="x" * 8,
                secret_key=SECRET_KEY,
                actor=ADMIN,
            )
            service.subscribe(session=s, channel_id=channel.id, topic="*", actor=ADMIN)
            for n in range(MESSAGES):
                outbox.enqueue(s, topic="deal.won", idempotency_key=f"deal.won:{n}", payload={"deal_id": n})
        results: dict[str, RunStats] = {}

        def run(name: str) -> None:
            worker = Worker(
                session_factory=store.session_factory,
                secret_key=SECRET_KEY,
                worker_id=name,
                settings=WorkerSettings(batch_size=2),
            )
            results[name] = worker.drain()

        threads = [threading.Thread(target=run, args=(name,)) for name in ("w1", "w2")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sum(r.messages for r in results.values()) == MESSAGES
        assert sum(r.sent for r in results.values()) == MESSAGES
        events = Counter(r.json()["event_key"] for r in receiver.requests)
        assert events == Counter({f"deal.won:{n}": 1 for n in range(MESSAGES)})
        with store.session() as s:
            assert {m.status for m in s.query(OutboxMessage)} == {"delivered"}
            assert {m.claimed_by for m in s.query(OutboxMessage)} == {None}
    finally:
        receiver.stop()
