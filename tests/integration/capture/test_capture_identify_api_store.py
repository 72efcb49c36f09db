"""POST /api/v1/identify (Bearer key with the `capture` scope) on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from closedloop.audit.models import AuditLog
from closedloop.capture import service as capture_service
from closedloop.config import Settings
from closedloop.db import unit_of_work
from closedloop.leads.models import Lead
from closedloop.marketing.models import Touchpoint
from closedloop.quarantine.models import QuarantinedRecord
from closedloop.users import service as user_service
from closedloop.users.actor import system_actor
from closedloop.web.app import create_app

ORIGIN = "https://www.acme.test"


@pytest.fixture
def api(store) -> Iterator[dict]:
    with unit_of_work(store.session_factory) as session:
        site = capture_service.create_site(session=session, name="Acme", origins=[ORIGIN])
        keys = {}
        for role, scopes in (
            ("marketing", ["capture"]),
            ("sales", ["read", "write"]),
            ("viewer", ["capture"]),
        ):
            user = user_service.create_user(
                session=session, actor=system_actor(), email=f"{role}@example.com", role=role, password=None
            )
            keys[role] = user_service.create_api_key(
                session=session, actor=system_actor(), user=user, scopes=scopes
            )[1]
        owner = user_service.create_user(
            session=session, actor=system_actor(), email="owner@example.com", role="sales", password=None
        )
        ids = {"site_id": site.id, "site_key": site.public_key, "owner_id": owner.id}
    app = create_app(Settings(database_url=store.url, secret_key=secrets.token_urlsafe(40)))
    with TestClient(app) as client:
        yield {"client": client, "keys": keys, **ids}


def _identify(api: dict, body: dict, role: str = "marketing"):
    headers = {"Authorization": f"Bearer {api['keys'][role]}"}
    return api["client"].post("/api/v1/identify", json=body, headers=headers)


def _events(api: dict, vid: str, events: list[dict]) -> None:
    response = api["client"].post(
        f"/t/events?k={api['site_key']}",
        content=json.dumps({"vid": vid, "events": events}),
        headers={"Origin": ORIGIN, "Content-Type": "text/plain"},
    )
    assert response.status_code == 200, response.text


def test_identify_creates_the_lead_and_stitches_the_visitor_keeping_the_first_touch(store, api) -> None:
    first_at = datetime.now(UTC) - timedelta(days=3)
    _events(
        api,
        "visitor-api-1",
        [
            {"id": "a1", "ts": first_at.isoformat(), "url": ORIGIN + "/?utm_source=google&utm_medium=cpc"},
            {"id": "a2", "url": ORIGIN + "/pricing"},
        ],
    )
    response = _identify(
        api,
        {
            "site_key": api["site_key"],
            "visitor_id": "visitor-api-1",
            "email": " Ann@Example.COM ",
            "fields": {"first_name": "Ann", "company": "Acme Ltd"},
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["created"], body["stitched"], body["spam"]) == (True, 2, False)
    with store.session() as session:
        lead = session.get(Lead, body["lead_id"])
        assert (lead.email, lead.first_name, lead.custom["company"]) == ("ann@example.com", "Ann", "Acme Ltd")
        assert lead.first_channel == "Paid Search" and lead.first_utm_source == "google"
        assert abs(lead.first_touch_at - first_at) < timedelta(milliseconds=1)
        touches = session.scalars(select(Touchpoint).where(Touchpoint.lead_id == lead.id)).all()
        assert len(touches) == 2  # identify records no touch of its own
        audit = session.scalars(
            select(AuditLog).where(AuditLog.action == "lead.created", AuditLog.entity_id == str(lead.id))
        ).one()
        assert audit.actor_user_id is not None and audit.actor_api_key_id is not None


def test_identify_only_fills_empty_fields_of_a_known_lead(store, api) -> None:
    with unit_of_work(store.session_factory) as session:
        lead = Lead(
            email="bob@example.com",
            first_name="Bob",
            stage="sql",
            owner_id=api["owner_id"],
            source_type="outbound",
        )
        session.add(lead)
        session.flush()
        lead_id = lead.id
    response = _identify(
        api,
        {
            "site_id": api["site_id"],
            "visitor_id": "visitor-api-2",
            "email": "bob@example.com",
            "phone": "0912 345 678",
            "fields": {"first_name": "Robert", "title": "CTO", "stage": "customer", "owner_email": "x@y.z"},
            "form": True,
            "event_id": "form-1",
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["created"] is False and sorted(response.json()["filled"]) == [
        "custom.owner_email",
        "custom.stage",
        "phone",
        "title",
    ]
    with store.session() as session:
        lead = session.get(Lead, lead_id)
        assert (lead.first_name, lead.title, lead.phone) == ("Bob", "CTO", "+886912345678")
        assert (lead.stage, lead.owner_id) == ("sql", api["owner_id"])
        touch = session.scalars(select(Touchpoint).where(Touchpoint.lead_id == lead_id)).one()
        assert (touch.type, touch.event_id) == ("form_submit", "form-1")
    # The same call again (a retry) fills nothing more and records no second touch.
    again = _identify(
        api,
        {
            "site_id": api["site_id"],
            "visitor_id": "visitor-api-2",
            "email": "bob@example.com",
            "form": True,
            "event_id": "form-1",
        },
    )
    assert again.status_code == 200 and again.json()["filled"] == []
    with store.session() as session:
        count = session.scalar(
            select(func.count()).select_from(Touchpoint).where(Touchpoint.lead_id == lead_id)
        )
        assert count == 1


def test_identify_needs_a_capture_key_a_lead_role_and_valid_input(store, api) -> None:
    body = {"site_key": api["site_key"], "email": "carol@example.com"}
    assert api["client"].post("/api/v1/identify", json=body).status_code == 401
    no_scope = _identify(api, body, role="sales")
    assert no_scope.status_code == 403 and "capture" in no_scope.json()["detail"]
    assert _identify(api, body, role="viewer").status_code == 403
    unknown_site = _identify(api, {"site_key": "pk_nope", "email": "carol@example.com"})
    assert unknown_site.status_code == 422
    bad = _identify(
        api, {"site_key": api["site_key"], "email": "not-an-email", "visitor_id": "visitor-api-3"}
    )
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    assert bad.json()["errors"][0]["field"] == "email"
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Lead)) == 0
        kept = session.scalars(select(QuarantinedRecord)).one()
        assert kept.kind == "identify" and kept.payload["fields"]["email"] == "not-an-email"
