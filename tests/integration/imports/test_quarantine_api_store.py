"""/api/v1/quarantine: list, fix, replay and discard through the API, scoped by role."""

from __future__ import annotations

import io
import secrets

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from closedloop.audit.models import AuditLog
from closedloop.config import Settings
from closedloop.db import unit_of_work
from closedloop.leads.models import Lead
from closedloop.users import service as user_service
from closedloop.users.actor import system_actor
from closedloop.web.app import create_app

from .conftest import write_csv

ROWS = [["external_id", "email", "created_at"], ["Q1", "ok@example.com", "2025-01-01"],
        ["Q2", "broken@", "2025-01-02"], ["Q3", "q3@example.com", "yesterday"]]  # fmt: skip


@pytest.fixture
def call(store):
    keys = {}
    with unit_of_work(store.session_factory) as session:
        for role in ("marketing", "sales", "viewer"):
            user = user_service.create_user(
                session=session, actor=system_actor(), email=f"{role}@example.com", role=role, password=None
            )
            keys[role] = user_service.create_api_key(
                session=session, actor=system_actor(), user=user, scopes=["read", "write"]
            )[1]
    app = create_app(Settings(database_url=store.url, secret_key=secrets.token_urlsafe(40)))
    with TestClient(app) as client:
        yield lambda role, method, path, **kw: client.request(
            method, path, headers={"Authorization": f"Bearer {keys[role]}"}, **kw
        )


def test_rejected_rows_are_fixed_replayed_and_discarded_through_the_api(store, call, tmp_path) -> None:
    content = write_csv(tmp_path / "leads.csv", ROWS).read_bytes()
    uploaded = call(
        "marketing", "POST", "/api/v1/imports", data={"kind": "leads", "skip_invalid": "true"},
        files={"file": ("leads.csv", io.BytesIO(content), "text/csv")},
    )  # fmt: skip
    assert uploaded.status_code == 200 and uploaded.json()["rejected"] == 2
    listed = call("marketing", "GET", "/api/v1/quarantine", params={"kind": "leads"}).json()
    assert listed["total"] == 2 and [r["row"] for r in listed["items"]] == [3, 4]
    first, second = (r["id"] for r in listed["items"])
    # Viewers may import nothing, so they see no rejected rows.
    assert call("viewer", "GET", "/api/v1/quarantine").json()["total"] == 0
    assert call("viewer", "GET", f"/api/v1/quarantine/{first}").status_code == 404
    still = call("marketing", "POST", f"/api/v1/quarantine/{first}/replay")
    assert still.status_code == 422 and still.json()["errors"][0]["column"] == "email"
    fixed = call(
        "marketing", "PATCH", f"/api/v1/quarantine/{first}", json={"changes": {"email": "q2@example.com"}}
    )
    assert fixed.status_code == 200 and fixed.json()["payload"]["values"]["email"] == "q2@example.com"
    replayed = call("marketing", "POST", f"/api/v1/quarantine/{first}/replay")
    assert replayed.status_code == 200 and replayed.json()["outcome"] == "inserted"
    assert replayed.json()["record"]["status"] == "replayed"
    gone = call("marketing", "POST", f"/api/v1/quarantine/{second}/discard", json={"reason": "test data"})
    assert gone.status_code == 200 and gone.json()["status"] == "discarded"
    assert call("marketing", "POST", f"/api/v1/quarantine/{second}/replay").status_code == 409
    assert call("marketing", "GET", "/api/v1/quarantine").json()["total"] == 0
    with store.session() as session:
        assert session.scalar(select(Lead.external_id).where(Lead.email == "q2@example.com")) == "Q2"
        actions = set(
            session.scalars(select(AuditLog.action).where(AuditLog.entity_type == "quarantined_record"))
        )
        assert actions == {"quarantine.fixed", "quarantine.replayed", "quarantine.discarded"}
