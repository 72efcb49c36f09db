"""Bulk reassign on the leads list and merge candidates on the lead page (SQLite and PostgreSQL):
who may, the team scope, audit per lead, open hand-offs following their lead."""

from __future__ import annotations

import re
import secrets
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.integration.web.pages_world import DEMO_EMAILS, DEMO_PASSWORD, give_open_handoffs

from closedloop.accounts.models import Account
from closedloop.analytics import engine
from closedloop.audit.models import AuditLog
from closedloop.config import Settings
from closedloop.db import unit_of_work
from closedloop.demo.service import load_demo
from closedloop.handoffs.models import Handoff
from closedloop.leads.models import Lead
from closedloop.users.models import User
from closedloop.web.app import create_app


def _signed_in(app: object, role: str) -> TestClient:
    client = TestClient(app)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    response = client.post("/login", data={"email": DEMO_EMAILS[role], "password": DEMO_PASSWORD,
                                           "csrf_token": token, "next": "/"}, follow_redirects=False)  # fmt: skip
    assert response.status_code == 303
    client.csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text).group(1)  # type: ignore[attr-defined]
    return client


@pytest.fixture
def world(store):
    engine.close(store.url)
    load_demo(engine=store.engine, leads=240, seed=5, anchor=date.today())
    give_open_handoffs(store.session_factory, DEMO_EMAILS["sales"], 2)
    return create_app(Settings(database_url=store.url, secret_key=secrets.token_urlsafe(48)))


def _user(store, email: str) -> User:
    with store.session() as s:
        return s.scalar(select(User).where(User.email == email))


def test_bulk_reassign_by_a_manager_within_the_team_audited_with_handoffs(world, store) -> None:
    manager, sales01 = _user(store, DEMO_EMAILS["manager"]), _user(store, DEMO_EMAILS["sales"])
    peer = _user(store, "sales02@demo.closedloop.example")  # same team as the manager
    outsider = _user(store, "sales04@demo.closedloop.example")  # another team
    with store.session() as s:
        mine = list(s.scalars(select(Lead.id).where(Lead.owner_id == sales01.id, Lead.merged_into_id.is_(None))
                              .order_by(Lead.id)))  # fmt: skip
        open_handoffs = set(
            s.scalars(select(Handoff.id).where(Handoff.lead_id.in_(mine), Handoff.status == "open"))
        )
        foreign = s.scalar(select(Lead.id).where(Lead.owner_id == outsider.id).order_by(Lead.id))
    assert len(open_handoffs) == 2 and len(mine) >= 4
    client = _signed_in(world, "manager")
    page = client.get("/leads", params={"owner": sales01.id}).text
    assert all(f'name="lead" value="{i}"' in page for i in mine[:3])
    assert f'<option value="{outsider.id}">' not in page  # only the manager's team to choose from

    response = client.post("/leads/reassign", data={"csrf_token": client.csrf, "lead": mine, "owner": peer.id,
                           "back": f"owner={sales01.id}"}, follow_redirects=False)  # fmt: skip
    assert response.status_code == 303
    assert response.headers["location"] == f"/leads?owner={sales01.id}&reassigned={len(mine)}"
    with store.session() as s:
        assert set(s.scalars(select(Lead.owner_id).where(Lead.id.in_(mine)))) == {peer.id}
        assert set(s.scalars(select(Handoff.owner_id).where(Handoff.id.in_(open_handoffs)))) == {peer.id}
        audits = s.scalars(select(AuditLog).where(AuditLog.action == "lead.reassigned")).all()
        assert sorted(int(a.entity_id) for a in audits) == sorted(mine)
        assert all(a.actor_user_id == manager.id and a.before["owner_id"] == sales01.id for a in audits)
        assert sorted(h for a in audits for h in a.after["handoffs"]) == sorted(open_handoffs)

    # Outside the team: an owner it may not assign to (403), a lead it cannot see (404); nothing moves.
    assert client.post("/leads/reassign", data={"csrf_token": client.csrf, "lead": mine[:1],
                       "owner": outsider.id}).status_code == 403  # fmt: skip
    assert client.post("/leads/reassign", data={"csrf_token": client.csrf, "lead": [mine[0], foreign],
                       "owner": sales01.id}).status_code == 404  # fmt: skip
    with store.session() as s:
        assert s.get(Lead, mine[0]).owner_id == peer.id and s.get(Lead, foreign).owner_id == outsider.id
    # Without the CSRF token: refused.
    assert (
        client.post(
            "/leads/reassign", data={"csrf_token": "x", "lead": mine[:1], "owner": sales01.id}
        ).status_code
        == 403
    )


@pytest.mark.parametrize(
    "role,bulk", [("admin", True), ("manager", True), ("marketing", False), ("sales", False)]
)
def test_who_gets_the_bulk_reassign(world, store, role, bulk) -> None:
    client = _signed_in(world, role)
    page = client.get("/leads")
    assert page.status_code == 200
    assert ('action="/leads/reassign"' in page.text) == bulk
    with store.session() as s:
        lead_id = s.scalar(select(Lead.id).where(Lead.owner_id == _user(store, DEMO_EMAILS["sales"]).id))
    response = client.post("/leads/reassign", data={"csrf_token": client.csrf, "lead": [lead_id],
                           "owner": _user(store, DEMO_EMAILS["sales"]).id}, follow_redirects=False)  # fmt: skip
    assert response.status_code == (303 if bulk else 403)


def test_viewer_gets_no_leads_list(world) -> None:
    viewer = _signed_in(world, "viewer")
    assert viewer.get("/leads").status_code == 403
    assert (
        viewer.post("/leads/reassign", data={"csrf_token": viewer.csrf, "lead": [1], "owner": 1}).status_code
        == 403
    )


def test_lead_page_lists_merge_candidates_and_merges_one(world, store) -> None:
    with unit_of_work(store.session_factory) as s:
        account = Account(name="Merge Candidates Inc", normalised_name="merge candidates")
        s.add(account)
        s.flush()
        a = Lead(email="wang.a@cand.example", name="Wang Xiaoming", account_id=account.id, stage="lead")
        b = Lead(email="wang.b@cand.example", name="Wang Xiaomin", account_id=account.id, stage="lead")
        c = Lead(email="phone.c@cand.example", name="Someone Else", phone="+886223456789", stage="lead")
        d = Lead(email="phone.d@cand.example", name="Another Person", phone="+886223456789", stage="lead")
        unrelated = Lead(email="lee@cand.example", name="Lee Unrelated", account_id=account.id, stage="lead")
        s.add_all([a, b, c, d, unrelated])
        s.flush()
        ids = a.id, b.id, c.id, d.id, unrelated.id
    marketing = _signed_in(world, "marketing")
    page = marketing.get(f"/leads/{ids[0]}").text
    listed = re.findall(r'<li><a translate="no" href="/leads/(\d+)"', page)
    assert listed == [str(ids[1])]
    phone_page = marketing.get(f"/leads/{ids[2]}").text
    assert re.findall(r'<li><a translate="no" href="/leads/(\d+)"', phone_page) == [str(ids[3])]
    response = marketing.post("/quality/merge", data={"csrf_token": marketing.csrf, "winner": ids[0], "loser": ids[1],
                              "back": "lead"}, follow_redirects=False)  # fmt: skip
    assert response.status_code == 303 and response.headers["location"].startswith(f"/leads/{ids[0]}?merged=")
    with store.session() as s:
        assert s.get(Lead, ids[1]).merged_into_id == ids[0]
        assert (
            s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "lead.merged")) == 1
        )
    after = marketing.get(response.headers["location"]).text
    assert "/undo" in after and 'id="merge-candidates"' not in after
    # Sales sees candidates it may open, but no merge button.
    sales_page = _signed_in(world, "sales").get(f"/leads/{ids[0]}")
    assert sales_page.status_code in (200, 404)
    assert 'action="/quality/merge"' not in sales_page.text
