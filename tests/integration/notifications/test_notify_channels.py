"""Every channel against a real local HTTP server, payloads and signatures checked independently."""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from tests.integration.notifications.receivers import HttpReceiver

from closedloop.db import unit_of_work
from closedloop.leads.models import Lead
from closedloop.notifications import service
from closedloop.notifications.models import NotificationDelivery
from closedloop.outbox import service as outbox
from closedloop.outbox.models import OutboxMessage
from closedloop.outbox.worker import Worker
from closedloop.users.actor import system_actor
from closedloop.users.models import Team, User

SECRET_KEY = "k7Qp2vX9mZr4Lb8NwT3yHd6JfC1sGa5E"
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
ADMIN = system_actor("cli")


@pytest.fixture
def receiver():
    rec = HttpReceiver()
    rec.base = rec.start()
    yield rec
    rec.stop()


def _people(session):
    team = Team(name="Taipei sales", kind="sales")
    session.add(team)
    session.flush()
    owner = User(email="yating@example.com", name="林雅婷", role="sales", team_id=team.id, language="zh-TW")
    session.add(owner)
    lead = Lead(name="王小明", email="ming@example.com")
    session.add(lead)
    session.flush()
    return team, owner, lead


def _add(session, name, kind, url, **kw):
    return service.add_channel(
        session=session,
        name=name,
        kind=kind,
        url=url,
        secret_key=SECRET_KEY,
        actor=ADMIN,
        clock=lambda: NOW,
        **kw,
    )


def test_every_http_channel_payload_and_signature(store, receiver):
    base = receiver.base
    with unit_of_work(store.session_factory) as s:
        team, owner, lead = _people(s)
        service.allow_url(session=s, url_prefix=base + "/", actor=ADMIN)
        slack = _add(s, "slack", "slack", f"{base}/slack/T000/B000/XXXX")
        teams = _add(s, "teams", "teams", f"{base}/teams/workflows/abc")
        ding = _add(s, "ding", "dingtalk", f"{base}/dingtalk?access_token=tok123", secret="SECding-secret")
        feishu = _add(s, "feishu", "feishu", f"{base}/feishu/hook/abc", secret="feishu-secret")
        wecom = _add(s, "wecom", "wecom", f"{base}/wecom?key=wk-1")
        hook = _add(s, "hook", "webhook", f"{base}/hook", secret="whsec-1")
        line = _add(s, "line", "line", f"{base}/line", secret="line-channel-token", config={"to": "Uabc123"})
        works = _add(
            s, "works", "line_works", f"{base}/works/bots/1/channels/c9/messages", secret="works-token"
        )
        # Slack: per-user (owner reads zh-TW); Teams: workspace in English; DingTalk: the team in zh-CN.
        service.subscribe(session=s, channel_id=slack.id, topic="mql_assigned", user_id=owner.id, actor=ADMIN)
        service.subscribe(session=s, channel_id=teams.id, topic="mql_assigned", language="en", actor=ADMIN)
        service.subscribe(
            session=s, channel_id=ding.id, topic="*", team_id=team.id, language="zh-CN", actor=ADMIN
        )
        for channel in (feishu, wecom, hook, line, works):
            service.subscribe(
                session=s, channel_id=channel.id, topic="mql_assigned", language="en", actor=ADMIN
            )
        # A per-user subscription of someone else must not receive this hand-off.
        other = User(email="other@example.com", name="Other", role="sales", language="en")
        s.add(other)
        s.flush()
        service.subscribe(session=s, channel_id=slack.id, topic="*", user_id=other.id, actor=ADMIN)
        outbox.enqueue(
            s,
            topic="handoff.assigned",
            idempotency_key="handoff.assigned:1",
            payload={
                "lead_id": lead.id,
                "owner_id": owner.id,
                "team_id": team.id,
                "sla_due_at": datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
            },
            clock=lambda: NOW,
        )
    worker = Worker(
        session_factory=store.session_factory, secret_key=SECRET_KEY, clock=lambda: NOW, rng=random.Random(1)
    )
    stats = worker.drain()
    assert (stats.messages, stats.sent, stats.failed) == (1, 8, 0)
    with store.session() as s:
        assert s.query(OutboxMessage).one().status == "delivered"
        keys = {d.delivery_key for d in s.query(NotificationDelivery)}
    assert len(keys) == 8
    assert {r.headers["idempotency-key"] for r in receiver.requests} == keys
    assert all(r.headers["x-closedloop-delivery"] == r.headers["idempotency-key"] for r in receiver.requests)

    due_taipei = "2026-11-23 18:00 (Asia/Taipei)"
    (req,) = receiver.on("/slack/T000/B000/XXXX")
    doc = req.json()
    assert doc["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "新的 MQL 已指派:王小明", "emoji": True},
    }
    assert doc["blocks"][1]["text"]["text"] == f"王小明 已移交給 林雅婷,請於 {due_taipei} 前首次回應。"
    assert {"type": "mrkdwn", "text": "*負責人*\n林雅婷"} in doc["blocks"][2]["fields"]
    assert doc["text"].startswith("新的 MQL 已指派")

    (req,) = receiver.on("/teams/workflows/abc")
    doc = req.json()
    assert doc["type"] == "message"
    (attachment,) = doc["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    assert card["body"][0]["text"] == "New MQL assigned: 王小明"
    assert {"title": "Owner", "value": "林雅婷"} in card["body"][2]["facts"]

    (req,) = receiver.on("/dingtalk")
    ts = req.query["timestamp"]
    expected = base64.b64encode(
        hmac.new(b"SECding-secret", f"{ts}\nSECding-secret".encode(), hashlib.sha256).digest()
    ).decode()
    assert req.query["sign"] == expected  # parse_qs undid the URL encoding
    assert req.query["access_token"] == "tok123"
    assert int(ts) == int(NOW.timestamp() * 1000)
    doc = req.json()
    assert doc["msgtype"] == "markdown"
    assert doc["markdown"]["title"] == "新的 MQL 已分配:王小明"

    (req,) = receiver.on("/feishu/hook/abc")
    doc = req.json()
    expected = base64.b64encode(
        hmac.new(f"{doc['timestamp']}\nfeishu-secret".encode(), b"", hashlib.sha256).digest()
    ).decode()
    assert doc["sign"] == expected
    assert doc["timestamp"] == str(int(NOW.timestamp()))
    assert doc["msg_type"] == "interactive"
    assert doc["card"]["header"]["title"]["content"] == "New MQL assigned: 王小明"

    (req,) = receiver.on("/wecom")
    assert req.query["key"] == "wk-1"
    doc = req.json()
    assert doc["msgtype"] == "markdown"
    assert doc["markdown"]["content"].startswith("**New MQL assigned: 王小明**")

    (req,) = receiver.on("/hook")
    ts = req.headers["x-closedloop-timestamp"]
    mac = hmac.new(b"whsec-1", ts.encode() + b"." + req.body, hashlib.sha256).hexdigest()
    assert req.headers["x-closedloop-signature"] == f"v1={mac}"
    doc = req.json()
    assert doc["id"] == req.headers["idempotency-key"]
    assert (doc["topic"], doc["event_topic"], doc["event_key"]) == (
        "mql_assigned",
        "handoff.assigned",
        "handoff.assigned:1",
    )
    assert doc["payload"]["lead_id"] == lead.id

    (req,) = receiver.on("/line")
    assert req.headers["authorization"] == "Bearer line-channel-token"
    assert uuid.UUID(req.headers["x-line-retry-key"]).version == 5
    doc = req.json()
    assert doc["to"] == "Uabc123"
    assert doc["messages"][0]["type"] == "text"
    assert doc["messages"][0]["text"].startswith("New MQL assigned: 王小明\n")

    (req,) = receiver.on("/works/bots/1/channels/c9/messages")
    assert req.headers["authorization"] == "Bearer works-token"
    assert req.json()["content"]["type"] == "text"


def test_robot_error_code_in_a_200_is_a_failure(store, receiver):
    receiver.responder = lambda r: (200, b'{"errcode":310000,"errmsg":"sign not match"}')
    with unit_of_work(store.session_factory) as s:
        service.allow_url(session=s, url_prefix=receiver.base, actor=ADMIN)
        ding = _add(s, "ding", "dingtalk", f"{receiver.base}/dingtalk?access_token=t", secret="wrong")
        service.subscribe(session=s, channel_id=ding.id, topic="deal_won", actor=ADMIN)
        outbox.enqueue(
            s, topic="deal.won", idempotency_key="deal.won:9", payload={"deal_id": 9}, clock=lambda: NOW
        )
    worker = Worker(
        session_factory=store.session_factory, secret_key=SECRET_KEY, clock=lambda: NOW, rng=random.Random(2)
    )
    stats = worker.drain()
    assert (stats.sent, stats.failed) == (0, 1)
    with store.session() as s:
        message = s.query(OutboxMessage).one()
        assert message.status == "pending"
        assert "310000" in message.last_error
        assert message.available_at > NOW + timedelta(seconds=14)
