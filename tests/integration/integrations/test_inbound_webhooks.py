"""Signed inbound webhooks over HTTP: every example imports, replays and stale or forged ones are refused."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from closedloop.db import unit_of_work
from closedloop.errors import UserError
from closedloop.integrations import service
from closedloop.integrations.examples import EXAMPLES
from closedloop.integrations.models import InboundDelivery, InboundSource
from closedloop.integrations.router import router
from closedloop.leads.models import Lead
from closedloop.marketing.models import CampaignSpend, Touchpoint
from closedloop.quarantine.models import QuarantinedRecord
from closedloop.revenue.models import CustomerFeedback, RevenueEvent
from closedloop.users.actor import system_actor

SECRET_KEY = "k7Qp2vX9mZr4Lb8NwT3yHd6JfC1sGa5E"
SIGNING = "erp-signing-secret-3f9a1c77"
NOW = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)


def sign(body: bytes, timestamp: int, secret: str = SIGNING) -> str:
    """The sender's side, written independently of closedloop's code."""
    return (
        "v1=" + hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    )


@pytest.fixture
def client(store):
    app = FastAPI()
    app.state.session_factory = store.session_factory
    app.state.secret_key = SECRET_KEY
    app.state.clock = lambda: NOW

    @app.exception_handler(UserError)
    async def user_error(_request: Request, exc: UserError) -> JSONResponse:
        return JSONResponse({"title": exc.title, "detail": exc.message}, status_code=exc.http_status)

    app.include_router(router)
    with unit_of_work(store.session_factory) as s:
        s.add_all([Lead(email="ming@example.com.tw"), Lead(email="lee@example.cn")])
        for kind in EXAMPLES:
            service.add_source(
                session=s,
                name=f"src-{kind}",
                kind=kind,
                secret=SIGNING,
                secret_key=SECRET_KEY,
                actor=system_actor("cli"),
            )
    return TestClient(app)


def post(
    client,
    source: str,
    document: dict,
    *,
    delivery: str,
    timestamp: int | None = None,
    signature: str | None = None,
):
    body = json.dumps(document, ensure_ascii=False).encode()
    ts = int(NOW.timestamp()) if timestamp is None else timestamp
    headers = {
        "X-Closedloop-Delivery": delivery,
        "X-Closedloop-Timestamp": str(ts),
        "X-Closedloop-Signature": signature or sign(body, ts),
        "Content-Type": "application/json",
    }
    return client.post(f"/api/v1/integrations/{source}/events", content=body, headers=headers)


def test_every_documented_example_imports(client, store):
    for kind, document in EXAMPLES.items():
        response = post(client, f"src-{kind}", document, delivery=f"d-{kind}")
        assert response.status_code == 202, response.text
        assert (response.json()["inserted"], response.json()["rejected"]) == (len(document["events"]), 0)
    with store.session() as s:
        invoice = s.query(RevenueEvent).filter_by(external_id="INV-2026-000123").one()
        # 126,000 TWD including 5% tax: 120,000 net and 6,000 tax, in cents.
        assert (invoice.kind, invoice.amount_minor, invoice.tax_minor, invoice.currency) == (
            "invoice",
            12_000_000,
            600_000,
            "TWD",
        )
        assert s.query(RevenueEvent).filter_by(external_id="SO-2026-0456").one().amount_minor == 880_000
        touches = {t.type: t.channel for t in s.query(Touchpoint)}
        assert touches == {"email_click": "Email", "email_unsubscribe": "Email"}
        (spend,) = s.query(CampaignSpend).all()
        assert (spend.amount_minor, spend.clicks, spend.impressions) == (325_050, 412, 18_000)
        (feedback,) = s.query(CustomerFeedback).all()
        assert (float(feedback.score), feedback.scale_max) == (4.0, 5)
        assert s.query(InboundDelivery).count() == 4


def test_replayed_delivery_is_refused(client, store):
    assert post(client, "src-spend", EXAMPLES["spend"], delivery="same-id").status_code == 202
    again = post(client, "src-spend", EXAMPLES["spend"], delivery="same-id")
    assert again.status_code == 409
    with store.session() as s:
        assert s.query(CampaignSpend).count() == 1
        assert s.query(InboundDelivery).count() == 1


@pytest.mark.parametrize(("offset", "status"), [(-301, 401), (301, 401), (-300, 202), (299, 202)])
def test_timestamp_must_be_within_five_minutes(client, offset, status):
    response = post(
        client, "src-spend", EXAMPLES["spend"], delivery=f"t{offset}", timestamp=int(NOW.timestamp()) + offset
    )
    assert response.status_code == status, response.text


def test_forged_or_tampered_deliveries_are_refused(client, store):
    ts = int(NOW.timestamp())
    body = json.dumps(EXAMPLES["spend"]).encode()
    tampered = body.replace(b"3250.50", b"9250.50")
    headers = {
        "X-Closedloop-Delivery": "x1",
        "X-Closedloop-Timestamp": str(ts),
        "X-Closedloop-Signature": sign(body, ts),
    }
    assert (
        client.post("/api/v1/integrations/src-spend/events", content=tampered, headers=headers).status_code
        == 401
    )
    wrong = post(
        client, "src-spend", EXAMPLES["spend"], delivery="x2", signature=sign(body, ts, "another-secret-x")
    )
    assert wrong.status_code == 401
    assert post(client, "nobody", EXAMPLES["spend"], delivery="x3").status_code == 404
    # During a secret rotation the sender may sign with both; one good signature is enough.
    both = f"{sign(body, ts, 'old-secret-xxxxxxxx')},{sign(body, ts)}"
    assert (
        client.post(
            "/api/v1/integrations/src-spend/events",
            content=body,
            headers={**headers, "X-Closedloop-Delivery": "x4", "X-Closedloop-Signature": both},
        ).status_code
        == 202
    )
    with store.session() as s:
        assert [d.delivery_id for d in s.query(InboundDelivery)] == ["x4"]


def test_bad_events_are_quarantined_and_good_ones_written(client, store):
    document = copy.deepcopy(EXAMPLES["revenue"])
    document["events"][1]["currency"] = "NOTACODE"
    response = post(client, "src-revenue", document, delivery="mixed")
    assert response.status_code == 202
    assert (response.json()["inserted"], response.json()["rejected"]) == (1, 1)
    assert response.json()["errors"][0]["column"] == "currency"
    with store.session() as s:
        assert [e.external_id for e in s.query(RevenueEvent)] == ["INV-2026-000123"]
        (record,) = s.query(QuarantinedRecord).all()
        assert "SO-2026-0456" in json.dumps(record.payload)


def test_secret_is_encrypted_at_rest(client, store):
    with store.session() as s:
        for source in s.query(InboundSource):
            assert SIGNING not in source.secret_encrypted
