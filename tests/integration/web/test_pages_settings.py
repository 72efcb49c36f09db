"""The settings hub and the shared definitions page on the real app (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from tests.integration.web.settings_world import ROLES, XSS, make_world, no_raw_script, signed_in

from closedloop.audit.models import AuditLog
from closedloop.policies.models import PolicyApproval, PolicyVersion

# Worked out from SPEC section 1 (who owns what) and the access issue's role table.
AREAS = {
    "admin": {"/settings/policies", "/settings/users", "/settings/sites", "/settings/pipeline", "/settings/sla",
              "/settings/routing", "/settings/scoring", "/settings/channels"},
    "manager": {"/settings/policies", "/settings/users", "/settings/pipeline", "/settings/sla", "/settings/routing",
                "/settings/scoring", "/settings/channels"},
    "marketing": {"/settings/policies", "/settings/sites", "/settings/scoring", "/settings/channels"},
    "sales": {"/settings/policies", "/settings/pipeline", "/settings/sla", "/settings/routing"},
    "viewer": set(),
}  # fmt: skip
ALL_AREAS = set().union(*AREAS.values())


def test_every_settings_page_answers_each_role_as_the_table_says(store) -> None:
    world = make_world(store)
    for role in ROLES:
        client, _ = signed_in(world, role)
        hub = client.get("/settings")
        assert hub.status_code == (403 if role == "viewer" else 200), role
        assert ('href="/settings"' in client.get("/preferences").text) == (role != "viewer"), role
        for path in sorted(ALL_AREAS):
            response = client.get(path)
            assert response.status_code == (200 if path in AREAS[role] else 403), (role, path)
            if role != "viewer":
                assert (f'href="{path}"' in hub.text) == (path in AREAS[role]), (role, path)


def _sla(hours: int) -> str:
    return json.dumps({"accept_hours": 1, "first_response_hours": hours})


def test_a_proposal_needs_a_second_person_and_keeps_its_history(store) -> None:
    world = make_world(store)
    sales, sales_csrf = signed_in(world, "sales")
    when = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    # No CSRF token: refused, nothing written.
    refused = sales.post("/settings/policies", data={"kind": "sla", "payload": _sla(4), "effective_from": when,
                                                      "reason": "x"})  # fmt: skip
    assert refused.status_code == 403
    # Bad JSON and a missing reason: the page again, each error next to its field.
    bad = sales.post("/settings/policies", data={"csrf_token": sales_csrf, "kind": "sla", "payload": "{oops",
                                                  "effective_from": when, "reason": XSS})  # fmt: skip
    assert bad.status_code == 422 and 'id="err-payload"' in bad.text
    assert no_raw_script(bad.text) and "&lt;script&gt;alert(1)&lt;/script&gt;" in bad.text
    no_reason = sales.post("/settings/policies", data={"csrf_token": sales_csrf, "kind": "sla", "payload": _sla(4),
                                                        "effective_from": when, "reason": " "})  # fmt: skip
    assert no_reason.status_code == 422 and 'id="err-reason"' in no_reason.text
    # Marketing may not propose the SLA (sales owns it).
    marketing, mkt_csrf = signed_in(world, "marketing")
    assert marketing.post("/settings/policies", data={"csrf_token": mkt_csrf, "kind": "sla", "payload": _sla(4),
                                                       "effective_from": when, "reason": "r"}).status_code == 403  # fmt: skip
    ok = sales.post("/settings/policies", data={"csrf_token": sales_csrf, "kind": "sla", "payload": _sla(4),
                                                 "effective_from": when, "reason": XSS}, follow_redirects=False)  # fmt: skip
    assert ok.status_code == 303
    with store.session() as s:
        version = s.scalars(
            select(PolicyVersion).where(PolicyVersion.kind == "sla").order_by(PolicyVersion.id.desc())
        ).first()
        vid = version.id
        assert version.status == "proposed" and version.payload == {
            "accept_hours": 1,
            "first_response_hours": 4,
        }
    page = sales.get("/settings/policies")
    assert no_raw_script(page.text) and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert f'/settings/policies/{vid}/approve"' not in page.text  # not offered to the proposer
    # The proposer cannot approve their own proposal, even by posting the form.
    own = sales.post(f"/settings/policies/{vid}/approve", data={"csrf_token": sales_csrf})
    assert own.status_code == 403
    viewer, viewer_csrf = signed_in(world, "viewer")
    assert (
        viewer.post(f"/settings/policies/{vid}/approve", data={"csrf_token": viewer_csrf}).status_code == 403
    )
    # Marketing approves its side: still waiting for sales' side from another person.
    assert marketing.post(f"/settings/policies/{vid}/approve", data={"csrf_token": mkt_csrf},
                          follow_redirects=False).status_code == 303  # fmt: skip
    again = marketing.post(f"/settings/policies/{vid}/approve", data={"csrf_token": mkt_csrf})
    assert again.status_code == 409
    manager, mgr_csrf = signed_in(world, "manager")
    assert manager.post(f"/settings/policies/{vid}/approve", data={"csrf_token": mgr_csrf},
                        follow_redirects=False).status_code == 303  # fmt: skip
    with store.session() as s:
        version = s.get(PolicyVersion, vid)
        assert version.status == "approved"
        sides = sorted(s.scalars(select(PolicyApproval.side).where(PolicyApproval.policy_version_id == vid)))
        assert sides == ["marketing", "sales"]
        actions = list(s.scalars(select(AuditLog.action).where(AuditLog.entity_type == "policy_version",
                                                               AuditLog.entity_id == str(vid)).order_by(AuditLog.id)))  # fmt: skip
        assert actions == ["policy.proposed", "policy.approved", "policy.approved"]
    history = manager.get("/settings/policies?kind=sla").text
    assert f'id="proposal-{vid}"' not in history and "table-policy-history" in history


def test_a_rejection_needs_a_reason(store) -> None:
    world = make_world(store)
    marketing, mkt_csrf = signed_in(world, "marketing")
    when = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    payload = json.dumps({"bands": {"A": 80, "B": 50, "C": 20}, "mql_threshold": 50})
    assert marketing.post("/settings/policies", data={"csrf_token": mkt_csrf, "kind": "scoring", "payload": payload,
                                                       "effective_from": when, "reason": "r"},
                          follow_redirects=False).status_code == 303  # fmt: skip
    with store.session() as s:
        vid = s.scalar(
            select(PolicyVersion.id).where(
                PolicyVersion.kind == "scoring", PolicyVersion.status == "proposed"
            )
        )
    sales, sales_csrf = signed_in(world, "sales")
    assert (
        sales.post(
            f"/settings/policies/{vid}/reject", data={"csrf_token": sales_csrf, "reason": ""}
        ).status_code
        == 422
    )
    assert sales.post(f"/settings/policies/{vid}/reject", data={"csrf_token": sales_csrf, "reason": "too strict"},
                      follow_redirects=False).status_code == 303  # fmt: skip
    with store.session() as s:
        assert s.get(PolicyVersion, vid).status == "rejected"
