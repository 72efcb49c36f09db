"""`Idempotency-Key`: a retried create is replayed, not repeated; a reused key with another body is refused."""

from __future__ import annotations

from sqlalchemy import func, select

from closedloop.db import unit_of_work
from closedloop.leads.models import Lead
from closedloop.users import service
from closedloop.users.actor import system_actor


def _key_for(store, email: str) -> str:
    with unit_of_work(store.session_factory) as session:
        user = service.create_user(
            session=session, actor=system_actor(), email=email, role="marketing", password=None
        )
        return service.create_api_key(session=session, actor=system_actor(), user=user)[1]


def test_retries_replay_the_first_answer(bare, store) -> None:
    client = bare.client
    key = _key_for(store, "m@corp.example")
    other = _key_for(store, "m2@corp.example")
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": "create-lead-1"}
    first = client.post("/api/v1/leads", json={"email": "once@lead.example"}, headers=headers)
    again = client.post("/api/v1/leads", json={"email": "once@lead.example"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    with unit_of_work(store.session_factory) as session:
        assert session.scalar(select(func.count(Lead.id))) == 1

    reused = client.post("/api/v1/leads", json={"email": "twice@lead.example"}, headers=headers)
    assert reused.status_code == 422
    # Another caller's identical key is its own: a real second attempt (here a duplicate email).
    theirs = client.post(
        "/api/v1/leads",
        json={"email": "once@lead.example"},
        headers={"Authorization": f"Bearer {other}", "Idempotency-Key": "create-lead-1"},
    )
    assert theirs.status_code == 409
    # A failed call releases its key: fixing the request and retrying with the same key works.
    fixed = client.post(
        "/api/v1/leads",
        json={"email": "fixed@lead.example"},
        headers={"Authorization": f"Bearer {other}", "Idempotency-Key": "create-lead-1"},
    )
    assert fixed.status_code == 201
    bad_key = client.post(
        "/api/v1/leads",
        json={"email": "k@lead.example"},
        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "x" * 201},
    )
    assert bad_key.status_code == 422
    plain = client.post(
        "/api/v1/leads", json={"email": "plain@lead.example"}, headers={"Authorization": f"Bearer {key}"}
    )
    assert plain.status_code == 201 and "idempotent-replayed" not in plain.headers


def test_a_claim_that_never_settled_is_taken_again_after_its_lease(store) -> None:
    """The store went away mid-call: the key is not stuck for 24 hours, only for CLAIM_LEASE."""
    from datetime import UTC, datetime

    from closedloop.api.idempotency import CLAIM_LEASE, claim, settle

    factory, now = store.session_factory, datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    ask = dict(principal="p", key="k-1", method="POST", path="/api/v1/leads", request_hash="h1")
    first = claim(factory, now=now, **ask)
    assert first[0] == "new"
    assert claim(factory, now=now + CLAIM_LEASE / 2, **ask) == ("busy",)
    assert claim(factory, now=now + CLAIM_LEASE * 2, **{**ask, "request_hash": "h2"}) == ("mismatch",)
    again = claim(factory, now=now + CLAIM_LEASE * 2, **ask)
    assert again == ("new", first[1])
    settle(factory, again[1], 201, "application/json", b'{"id": 7}')
    assert claim(factory, now=now + CLAIM_LEASE * 3, **ask) == ("replay", 201, "application/json", '{"id": 7}')
