"""`closedloop notify` and `closedloop worker` end to end on a SQLite store."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from tests.integration.notifications.receivers import HttpReceiver

from closedloop.cli.main import cli
from closedloop.config import get_settings
from closedloop.users.models import User

SECRET_KEY = "k7Qp2vX9mZr4Lb8NwT3yHd6JfC1sGa5E"


@pytest.fixture
def run(sqlite_store, monkeypatch):
    monkeypatch.setenv("CLOSEDLOOP_DATABASE_URL", sqlite_store.url)
    monkeypatch.setenv("CLOSEDLOOP_SECRET_KEY", SECRET_KEY)
    get_settings.cache_clear()
    runner = CliRunner()

    def invoke(*args: str, stdin: str | None = None) -> str:
        result = runner.invoke(cli, list(args), input=stdin, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.stdout

    yield invoke
    get_settings.cache_clear()


def test_notify_commands_and_worker_once(run, sqlite_store):
    receiver = HttpReceiver()
    base = receiver.start()
    try:
        with sqlite_store.session() as s:
            s.add(User(email="amy@example.com", name="Amy", role="sales", language="en"))
            s.commit()
        run(
            "notify",
            "channel",
            "add",
            "ops-hook",
            "--kind",
            "webhook",
            "--url",
            f"{base}/in/tok-77",
            "--secret-stdin",
            "--language",
            "zh-TW",
            stdin="sig-secret-stdin\n",
        )
        run(
            "notify",
            "channel",
            "add",
            "mail",
            "--kind",
            "email",
            "--set",
            "host=smtp.example.com",
            "--set",
            "port=2525",
            "--set",
            "from=bot@example.com",
            "--set",
            "starttls=true",
        )
        channels = json.loads(run("notify", "channel", "list", "--format", "json"))
        assert [(c["name"], c["kind"], c["url"]) for c in channels] == [
            ("ops-hook", "webhook", base),
            ("mail", "email", None),
        ]
        assert channels[1]["config"] == {
            "host": "smtp.example.com",
            "port": 2525,
            "from": "bot@example.com",
            "starttls": True,
        }
        assert "sig-secret-stdin" not in json.dumps(channels) and "tok-77" not in json.dumps(channels)
        run(
            "notify", "subscribe", "--channel", "ops-hook", "--topic", "deal_won", "--user", "amy@example.com"
        )
        run("notify", "allow", base, "--note", "test receiver")
        assert run("notify", "allowed").split() == [base]

        with sqlite_store.engine.begin() as conn:
            user_id = conn.execute(text("SELECT id FROM users")).scalar_one()
            conn.execute(
                text(
                    "INSERT INTO outbox_messages (topic, payload, idempotency_key, status, attempts, created_at,"
                    " available_at) VALUES ('deal.won', :p, 'deal.won:1', 'pending', 0, :t, :t)"
                ),
                {
                    "p": json.dumps(
                        {"deal_name": "Big one", "owner_id": user_id, "amount_minor": 500, "currency": "USD"}
                    ),
                    "t": "2026-11-23 00:00:00.000000",
                },
            )
        summary = json.loads(run("worker", "--once", "--format", "json"))
        assert (summary["messages"], summary["sent"], summary["failed"]) == (1, 1, 0)
        (request,) = receiver.requests
        body = request.json()
        assert body["text"]["title"] == "Deal won: Big one"  # Amy reads English; the user's language wins
        assert body["text"]["body"] == "Amy won Big one for USD 5.00."
        status = json.loads(run("worker", "--status", "--format", "json"))
        assert status["counts"] == {"pending": 0, "delivered": 1, "dead": 0}
        assert "no dead messages" in run("notify", "dead")
    finally:
        receiver.stop()


def test_unknown_topic_is_a_user_error(run):
    run("notify", "channel", "add", "s", "--kind", "slack", "--url", "https://hooks.slack.com/services/x")
    result = CliRunner().invoke(cli, ["notify", "subscribe", "--channel", "s", "--topic", "nope"])
    assert result.exit_code != 0
    assert "unknown topic" in str(result.exception)


def test_disable_unsubscribe_and_disallow(run, sqlite_store):
    from closedloop.notifications.models import (
        AllowedOutboundUrl,
        NotificationChannel,
        NotificationSubscription,
    )

    run("notify", "channel", "add", "s", "--kind", "slack", "--url", "https://hooks.slack.com/services/x")
    run("notify", "subscribe", "--channel", "s", "--topic", "deal_won")
    run("notify", "allow", "http://10.0.0.5:8080")
    (sub,) = json.loads(run("notify", "subscriptions", "--format", "json"))
    assert (sub["channel"], sub["topic"], sub["user_id"], sub["team_id"]) == ("s", "deal_won", None, None)
    assert "disabled" in run("notify", "channel", "disable", "s")
    with sqlite_store.session() as s:
        assert s.query(NotificationChannel).one().is_active is False
    run("notify", "channel", "enable", "s")
    run("notify", "unsubscribe", str(sub["id"]))
    run("notify", "disallow", "http://10.0.0.5:8080")
    with sqlite_store.session() as s:
        assert s.query(NotificationChannel).one().is_active is True
        assert s.query(NotificationSubscription).count() == 0
        assert s.query(AllowedOutboundUrl).count() == 0
