"""Private targets refused without an allow-list entry; secrets encrypted at rest and never logged."""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from tests.integration.notifications.receivers import HttpReceiver

from closedloop.audit.models import AuditLog
from closedloop.db import unit_of_work
from closedloop.errors import ConfigurationError
from closedloop.notifications import service
from closedloop.notifications.crypto import SecretBox
from closedloop.notifications.models import DeliveryAttempt, NotificationChannel
from closedloop.outbox import service as outbox
from closedloop.outbox.models import OutboxMessage
from closedloop.outbox.worker import Worker
from closedloop.users.actor import system_actor

SECRET_KEY = "k7Qp2vX9mZr4Lb8NwT3yHd6JfC1sGa5E"
ADMIN = system_actor("cli")
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
HOOK_TOKEN = "T0AAA/B0BBB/very-secret-path-Zq81"
SIGNING = "whsec-never-in-a-column-9c2e"


@pytest.fixture
def receiver():
    rec = HttpReceiver()
    rec.base = rec.start()
    yield rec
    rec.stop()


def _channel_and_message(store, url: str) -> None:
    with unit_of_work(store.session_factory) as s:
        channel = service.add_channel(
            session=s,
            name="hook",
            kind="webhook",
            url=url,
            secret=SIGNING,
            secret_key=SECRET_KEY,
            actor=ADMIN,
        )
        service.subscribe(session=s, channel_id=channel.id, topic="*", actor=ADMIN)
        outbox.enqueue(
            s, topic="deal.won", idempotency_key="deal.won:5", payload={"deal_id": 5}, clock=lambda: NOW
        )


def test_loopback_receiver_refused_until_allow_listed(store, receiver, caplog):
    url = f"{receiver.base}/{HOOK_TOKEN}"
    _channel_and_message(store, url)
    worker = Worker(
        session_factory=store.session_factory, secret_key=SECRET_KEY, clock=lambda: NOW, rng=random.Random(5)
    )
    with caplog.at_level(logging.DEBUG):
        stats = worker.drain()
    assert (stats.sent, stats.failed) == (0, 1)
    assert receiver.requests == []
    with store.session() as s:
        message = s.query(OutboxMessage).one()
        (attempt,) = s.query(DeliveryAttempt).all()
    assert "UnsafeDestination" in attempt.error and "loopback" in attempt.error
    for where in (message.last_error, attempt.error, caplog.text):
        assert "very-secret-path" not in where and SIGNING not in where

    # A prefix of another port does not match; the exact receiver prefix does.
    with unit_of_work(store.session_factory) as s:
        service.allow_url(session=s, url_prefix=receiver.base + "0", actor=ADMIN)
    with unit_of_work(store.session_factory) as s:
        s.get(OutboxMessage, message.id).available_at = NOW
    assert worker.drain().sent == 0
    with unit_of_work(store.session_factory) as s:
        service.allow_url(session=s, url_prefix=receiver.base, actor=ADMIN)
        s.get(OutboxMessage, message.id).available_at = NOW
    assert worker.drain().sent == 1
    assert len(receiver.requests) == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.8/hook",
        "http://192.168.1.20:8080/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://[::1]:9/hook",
        "http://0.0.0.0:9/hook",
        "http://localhost:9/hook",
    ],
)
def test_private_addresses_refused_without_allow_list(sqlite_store, url):
    _channel_and_message(sqlite_store, url)
    worker = Worker(session_factory=sqlite_store.session_factory, secret_key=SECRET_KEY, clock=lambda: NOW)
    assert worker.drain().failed == 1
    with sqlite_store.session() as s:
        (attempt,) = s.query(DeliveryAttempt).all()
    assert attempt.error.startswith("UnsafeDestination")


def test_secrets_encrypted_at_rest(store):
    url = f"https://hooks.slack.com/services/{HOOK_TOKEN}"
    with unit_of_work(store.session_factory) as s:
        channel = service.add_channel(
            session=s, name="sales", kind="slack", url=url, secret=SIGNING, secret_key=SECRET_KEY, actor=ADMIN
        )
        channel_id = channel.id
    with store.engine.connect() as conn:
        row = conn.execute(
            text("SELECT * FROM notification_channels WHERE id = :id"), {"id": channel_id}
        ).one()
        audit = conn.execute(text("SELECT * FROM audit_log")).all()
    raw = " ".join(str(v) for v in row)
    assert "very-secret-path" not in raw and SIGNING not in raw
    assert "very-secret-path" not in str(audit) and SIGNING not in str(audit)
    assert row._mapping["url_hint"] == "https://hooks.slack.com"
    with store.session() as s:
        stored = s.get(NotificationChannel, channel_id)
        assert s.query(AuditLog).filter(AuditLog.entity_type == "notification_channel").count() == 1
    box = SecretBox(SECRET_KEY)
    assert box.decrypt(stored.url_encrypted) == url
    assert box.decrypt(stored.secret_encrypted) == SIGNING
    # Two encryptions of the same value differ (random IV), and another key cannot read them.
    assert box.encrypt(SIGNING) != stored.secret_encrypted
    with pytest.raises(ConfigurationError):
        SecretBox("another-key-entirely-0123456789abcdef").decrypt(stored.secret_encrypted)


def test_undecryptable_channel_fails_its_delivery_not_the_worker(sqlite_store, receiver):
    with unit_of_work(sqlite_store.session_factory) as s:
        service.allow_url(session=s, url_prefix=receiver.base, actor=ADMIN)
        for name, key in (("old", "an-older-secret-key-0123456789abcdef"), ("new", SECRET_KEY)):
            channel = service.add_channel(
                session=s,
                name=name,
                kind="webhook",
                url=f"{receiver.base}/{name}",
                secret=SIGNING,
                secret_key=key,
                actor=ADMIN,
            )
            service.subscribe(session=s, channel_id=channel.id, topic="*", actor=ADMIN)
        outbox.enqueue(
            s, topic="deal.won", idempotency_key="deal.won:5", payload={"deal_id": "5"}, clock=lambda: NOW
        )
    worker = Worker(session_factory=sqlite_store.session_factory, secret_key=SECRET_KEY, clock=lambda: NOW)
    stats = worker.drain()
    assert (stats.sent, stats.failed) == (1, 1)
    assert [r.path for r in receiver.requests] == ["/new"]
    with sqlite_store.session() as s:
        assert "cannot be decrypted" in s.query(OutboxMessage).one().last_error


def test_credentials_refused_as_plain_settings(sqlite_store):
    from closedloop.errors import ValidationFailed

    with unit_of_work(sqlite_store.session_factory) as s, pytest.raises(ValidationFailed, match="password"):
        service.add_channel(
            session=s,
            name="mail",
            kind="email",
            secret_key=SECRET_KEY,
            actor=ADMIN,
            config={"host": "smtp.example.com", "from": "a@example.com", "password": "hunter22"},
        )
