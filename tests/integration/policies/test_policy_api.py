"""The shared definitions over the API: who proposes, two-sided approval, never in the past, audited."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from closedloop.audit.models import AuditLog
from closedloop.config import Settings
from closedloop.db import unit_of_work
from closedloop.i18n import localise
from closedloop.policies.models import PolicyApproval
from closedloop.users import service as user_service
from closedloop.users.actor import system_actor
from closedloop.web.app import create_app

ROLES = ("marketing", "sales", "manager", "viewer")


@pytest.fixture
def api(store):
    keys = {}
    with unit_of_work(store.session_factory) as session:
        for role in ROLES:
            user = user_service.create_user(
                session=session, actor=system_actor(), email=f"{role}@example.com", role=role, password=None
            )
            _, key = user_service.create_api_key(
                session=session, actor=system_actor(), user=user, scopes=["read", "write"]
            )
            keys[role] = key
    app = create_app(Settings(database_url=store.url, secret_key=secrets.token_urlsafe(40)))
    with TestClient(app) as client:

        def call(role: str, method: str, path: str, **kwargs):
            headers = {"Authorization": f"Bearer {keys[role]}", **kwargs.pop("headers", {})}
            return client.request(method, path, headers=headers, **kwargs)

        yield call


def _proposal(days: int = 1) -> dict:
    when = datetime.now(UTC) + timedelta(days=days)
    return {
        "kind": "stage_probabilities",
        "payload": {"proposal": "0.45", "negotiation": "0.8"},
        "effective_from": when.isoformat(),
        "reason": "Q3 win rates by stage",
    }


def test_each_side_approves_once_and_the_version_takes_effect(api, store) -> None:
    assert api("viewer", "GET", "/api/v1/policies").status_code == 200
    assert api("viewer", "POST", "/api/v1/policies", json=_proposal()).status_code == 403
    assert (
        api("marketing", "POST", "/api/v1/policies", json=_proposal()).status_code == 403
    )  # sales' definition
    created = api("sales", "POST", "/api/v1/policies", json=_proposal())
    assert created.status_code == 201, created.text
    version = created.json()
    assert (version["status"], version["version"], version["approvals"]) == ("proposed", 2, [])

    first = api("marketing", "POST", f"/api/v1/policies/{version['id']}/approve").json()
    assert first["status"] == "proposed" and [a["side"] for a in first["approvals"]] == ["marketing"]
    again = api("marketing", "POST", f"/api/v1/policies/{version['id']}/approve")
    assert again.status_code == 409 and again.headers["content-type"].startswith("application/problem+json")
    assert api("viewer", "POST", f"/api/v1/policies/{version['id']}/approve").status_code == 403

    # Not in force before both sides approved: the seeded version 1 still is.
    effective = datetime.fromisoformat(version["effective_from"]) + timedelta(seconds=1)
    in_force = api(
        "viewer",
        "GET",
        "/api/v1/policies/in-force",
        params={"kind": "stage_probabilities", "at": effective.isoformat()},
    )
    assert in_force.json()["version"] == 1

    # The proposer speaks for sales but may not approve their own proposal: a manager does.
    assert api("sales", "POST", f"/api/v1/policies/{version['id']}/approve").status_code == 403
    done = api("manager", "POST", f"/api/v1/policies/{version['id']}/approve").json()
    assert done["status"] == "approved" and sorted(a["side"] for a in done["approvals"]) == [
        "marketing",
        "sales",
    ]
    in_force = api(
        "viewer",
        "GET",
        "/api/v1/policies/in-force",
        params={"kind": "stage_probabilities", "at": effective.isoformat()},
    )
    assert in_force.json()["version"] == 2
    before = datetime.fromisoformat(version["effective_from"]) - timedelta(seconds=1)
    still_old = api(
        "viewer",
        "GET",
        "/api/v1/policies/in-force",
        params={"kind": "stage_probabilities", "at": before.isoformat()},
    )
    assert still_old.json()["version"] == 1  # never applied to the past

    with store.session() as session:
        actions = session.scalars(
            select(AuditLog.action).where(AuditLog.entity_type == "policy_version").order_by(AuditLog.id)
        ).all()
    assert actions == ["policy.proposed", "policy.approved", "policy.approved"]


def test_past_dates_are_refused_and_a_manager_can_reject(api) -> None:
    past = api("manager", "POST", "/api/v1/policies", json=_proposal(days=-1))
    assert past.status_code == 422
    created = api("manager", "POST", "/api/v1/policies", json=_proposal()).json()
    rejected = api("manager", "POST", f"/api/v1/policies/{created['id']}/reject", json={"reason": "not now"})
    assert rejected.json()["status"] == "rejected"
    late = api("sales", "POST", f"/api/v1/policies/{created['id']}/approve")
    assert late.status_code == 409
    assert api("viewer", "GET", "/api/v1/policies/999999").status_code == 404


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (None, "You proposed version 2: a second person has to approve it"),
        ("zh-TW", "版本 2 是您提出的，必須由另一人核准"),
        ("zh-CN,zh;q=0.9", "版本 2 是您提出的，必须由另一人批准"),
    ],
)
def test_the_proposer_cannot_approve_their_own_proposal(api, store, language, expected) -> None:
    created = api("manager", "POST", "/api/v1/policies", json=_proposal()).json()
    headers = {"Accept-Language": language} if language else {}
    own = api("manager", "POST", f"/api/v1/policies/{created['id']}/approve", headers=headers)
    assert own.status_code == 403
    assert own.headers["content-type"].startswith("application/problem+json")
    assert own.json()["detail"] == expected and own.json()["status"] == 403
    # Nothing was written: no approval, still proposed, only the proposal in the audit log.
    with store.session() as session:
        assert (
            session.scalars(
                select(PolicyApproval).where(PolicyApproval.policy_version_id == created["id"])
            ).all()
            == []
        )
        actions = session.scalars(
            select(AuditLog.action).where(AuditLog.entity_type == "policy_version").order_by(AuditLog.id)
        ).all()
    assert actions == ["policy.proposed"]
    assert api("manager", "GET", f"/api/v1/policies/{created['id']}").json()["status"] == "proposed"
    # Another manager-side person (here sales for its side, then marketing) can.
    assert api("sales", "POST", f"/api/v1/policies/{created['id']}/approve").status_code == 200
    done = api("marketing", "POST", f"/api/v1/policies/{created['id']}/approve").json()
    assert done["status"] == "approved"


def test_the_service_refuses_the_proposer_whatever_the_caller(store) -> None:
    from closedloop.errors import Forbidden
    from closedloop.policies import service as policy_service
    from closedloop.users.actor import Actor

    with unit_of_work(store.session_factory) as session:
        boss = user_service.create_user(
            session=session, actor=system_actor(), email="boss@example.com", role="manager", password=None
        )
        actor = Actor(user_id=boss.id, role="manager", via="cli")
        version = policy_service.propose(session=session, kind="sla", payload={"sales": {"first_response_hours": 2}},
                                         effective_from=datetime.now(UTC) + timedelta(days=1), reason="tighter",
                                         actor=actor)  # fmt: skip
        with pytest.raises(Forbidden) as refused:
            policy_service.approve(session=session, version_id=version.id, actor=actor)
        assert localise(refused.value.message, "zh-TW") == f"版本 {version.version} 是您提出的，必須由另一人核准"
        assert version.status == "proposed"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (None, "routing: cannot match on 'shoe'"),
        ("zh-TW", "分派規則：不能依 'shoe' 比對"),
        ("zh-CN", "分配规则：不能按 'shoe' 匹配"),
    ],
)
def test_a_validator_error_reads_in_the_callers_language(api, language, expected) -> None:
    bad = {**_proposal(), "kind": "routing", "payload": {"rules": [{"team": "north", "match": {"shoe": "x"}}]}}
    headers = {"Accept-Language": language} if language else {}
    refused = api("manager", "POST", "/api/v1/policies", json=bad, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["detail"] == expected
