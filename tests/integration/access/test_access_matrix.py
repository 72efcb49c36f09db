"""The authorisation matrix: every principal against every API route and method, exact status codes."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.routing import APIRoute

# Columns: admin, manager (north), sales_n1 (north), sales_s (south), marketing, viewer.
COLUMNS = ("admin", "manager", "sales_n1", "sales_s", "marketing", "viewer")
# Principals that are refused before any rule applies.
UNAUTHENTICATED = ("none", "revoked", "inactive")
ROUTER_MODULES = (
    "closedloop.users.router",
    "closedloop.leads.router",
    "closedloop.marketing.router",
    "closedloop.deals.router",
    "closedloop.handoffs.router",
    "closedloop.goals.router",
    "closedloop.audit.router",
    "closedloop.reports.router",
    "closedloop.integrations.conversions_router",
)
# Routers whose paths are relative: the prefix of the router that includes them.
PREFIXES = {
    "closedloop.reports.router": "/api/v1",
    "closedloop.integrations.conversions_router": "/api/v1/integrations",
}

W = Any  # the World fixture
Path = Callable[[W, str], str]
Body = Callable[[W, str], Any] | None


def fixed(path: str) -> Path:
    return lambda _w, _r: path


def _stage_path(w: W, role: str) -> str:
    return f"/api/v1/leads/{w.leads[f'stage_{role}']}/stage"


# (method, route template, concrete path, body, expected codes in COLUMNS order)
MATRIX: list[tuple[str, str, Path, Body, tuple[int, ...]]] = [
    ("GET", "/api/v1/session", fixed("/api/v1/session"), None, (200, 200, 200, 200, 200, 200)),
    ("GET", "/api/v1/users", fixed("/api/v1/users"), None, (200, 200, 403, 403, 403, 403)),
    ("POST", "/api/v1/users", fixed("/api/v1/users"),
     lambda w, r: {"email": f"new-{r}@corp.example", "role": "sales"}, (201, 403, 403, 403, 403, 403)),
    ("GET", "/api/v1/users/{user_id}", lambda w, r: f"/api/v1/users/{w.users['sales_n2']}", None,
     (200, 200, 403, 403, 403, 403)),
    ("GET", "/api/v1/users/{user_id}", lambda w, r: f"/api/v1/users/{w.users['sales_s']}", None,
     (200, 404, 403, 403, 403, 403)),
    ("PATCH", "/api/v1/users/{user_id}", lambda w, r: f"/api/v1/users/{w.users['spare']}",
     lambda w, r: {"name": f"by {r}"}, (200, 403, 403, 403, 403, 403)),
    ("POST", "/api/v1/users/{user_id}/deactivate", lambda w, r: f"/api/v1/users/{w.users['leaver']}/deactivate",
     lambda w, r: {"successor_id": w.users["sales_s"]}, (200, 403, 403, 403, 403, 403)),
    ("GET", "/api/v1/teams", fixed("/api/v1/teams"), None, (200, 200, 200, 200, 200, 200)),
    ("POST", "/api/v1/teams", fixed("/api/v1/teams"), lambda w, r: {"name": f"team {r}"},
     (201, 403, 403, 403, 403, 403)),
    ("GET", "/api/v1/api-keys", fixed("/api/v1/api-keys"), None, (200, 403, 403, 403, 403, 403)),
    ("POST", "/api/v1/api-keys", fixed("/api/v1/api-keys"), lambda w, r: {"user_id": w.users["sales_n2"]},
     (201, 403, 403, 403, 403, 403)),
    ("DELETE", "/api/v1/api-keys/{key_id}", lambda w, r: f"/api/v1/api-keys/{w.spare_key_id}", None,
     (200, 403, 403, 403, 403, 403)),
    ("POST", "/api/v1/persons/export", fixed("/api/v1/persons/export"),
     lambda w, r: {"email": "export@lead.example"}, (200, 403, 403, 403, 403, 403)),
    ("POST", "/api/v1/persons/erase", fixed("/api/v1/persons/erase"),
     lambda w, r: {"email": "erase@lead.example"}, (200, 403, 403, 403, 403, 403)),
    ("GET", "/api/v1/audit", fixed("/api/v1/audit"), None, (200, 200, 403, 403, 403, 403)),
    ("GET", "/api/v1/audit/{entry_id}", lambda w, r: f"/api/v1/audit/{w.audit['sales_n1']}", None,
     (200, 200, 403, 403, 403, 403)),
    ("GET", "/api/v1/audit/{entry_id}", lambda w, r: f"/api/v1/audit/{w.audit['sales_s']}", None,
     (200, 404, 403, 403, 403, 403)),
    ("GET", "/api/v1/leads", fixed("/api/v1/leads"), None, (200, 200, 200, 200, 200, 403)),
    ("GET", "/api/v1/leads/summary", fixed("/api/v1/leads/summary"), None, (200, 200, 200, 200, 200, 200)),
    ("GET", "/api/v1/leads/export.csv", fixed("/api/v1/leads/export.csv"), None, (200, 200, 200, 200, 200, 403)),
    ("GET", "/api/v1/leads/{lead_id}", lambda w, r: f"/api/v1/leads/{w.leads['n2']}", None,
     (200, 200, 200, 404, 200, 403)),
    ("POST", "/api/v1/leads", fixed("/api/v1/leads"), lambda w, r: {"email": f"created-{r}@lead.example"},
     (201, 201, 201, 201, 201, 403)),
    ("PATCH", "/api/v1/leads/{lead_id}", lambda w, r: f"/api/v1/leads/{w.leads['n1']}",
     lambda w, r: {"title": f"set by {r}"}, (200, 200, 200, 404, 200, 403)),
    ("PATCH", "/api/v1/leads/{lead_id}", lambda w, r: f"/api/v1/leads/{w.leads['n2']}",
     lambda w, r: {"owner_id": w.users["sales_s"]}, (200, 403, 403, 404, 403, 403)),
    ("POST", "/api/v1/leads/{lead_id}/stage", _stage_path, lambda w, r: {"to_stage": "mql"},
     (200, 200, 200, 404, 200, 403)),
    ("GET", "/api/v1/touchpoints", fixed("/api/v1/touchpoints"), None, (200, 200, 200, 200, 200, 403)),
    ("GET", "/api/v1/touchpoints/{touchpoint_id}", lambda w, r: f"/api/v1/touchpoints/{w.touchpoints['n1']}",
     None, (200, 200, 200, 404, 200, 403)),
    ("POST", "/api/v1/touchpoints", fixed("/api/v1/touchpoints"),
     lambda w, r: {"occurred_at": "2026-03-01T10:00:00+08:00", "type": "offline", "lead_id": w.leads["n1"]},
     (201, 403, 403, 403, 201, 403)),
    ("GET", "/api/v1/campaigns", fixed("/api/v1/campaigns"), None, (200, 200, 200, 200, 200, 200)),
    ("GET", "/api/v1/campaigns/{campaign_id}", lambda w, r: f"/api/v1/campaigns/{w.campaign_id}", None,
     (200, 200, 200, 200, 200, 200)),
    ("POST", "/api/v1/campaigns", fixed("/api/v1/campaigns"), lambda w, r: {"name": f"Campaign {r}"},
     (201, 403, 403, 403, 201, 403)),
    ("PATCH", "/api/v1/campaigns/{campaign_id}", lambda w, r: f"/api/v1/campaigns/{w.campaign_id}",
     lambda w, r: {"channel": "Paid Search"}, (200, 403, 403, 403, 200, 403)),
    ("GET", "/api/v1/spend", fixed("/api/v1/spend"), None, (200, 200, 200, 200, 200, 200)),
    ("POST", "/api/v1/spend", fixed("/api/v1/spend"),
     lambda w, r: {"campaign_id": w.campaign_id, "spend_date": f"2026-04-{COLUMNS.index(r) + 1:02d}",
                   "amount": "12.50", "currency": "TWD"}, (201, 403, 403, 403, 201, 403)),
    ("GET", "/api/v1/deals", fixed("/api/v1/deals"), None, (200, 200, 200, 200, 403, 403)),
    ("GET", "/api/v1/deals/summary", fixed("/api/v1/deals/summary"), None, (200, 200, 200, 200, 200, 200)),
    ("GET", "/api/v1/deals/{deal_id}", lambda w, r: f"/api/v1/deals/{w.deals['n1']}", None,
     (200, 200, 200, 404, 403, 403)),
    ("POST", "/api/v1/deals", fixed("/api/v1/deals"),
     lambda w, r: {"name": f"deal {r}", "currency": "TWD", "amount": "99.00", "lead_id": w.leads["n1"]},
     (201, 201, 201, 404, 403, 403)),
    ("PATCH", "/api/v1/deals/{deal_id}", lambda w, r: f"/api/v1/deals/{w.deals['n1']}",
     lambda w, r: {"amount": "123.45"}, (200, 200, 200, 404, 403, 403)),
    ("POST", "/api/v1/deals/{deal_id}/win", lambda w, r: f"/api/v1/deals/{w.deals['win_' + r]}/win",
     lambda w, r: {"amount": "150.00"}, (200, 200, 200, 404, 403, 403)),
    ("POST", "/api/v1/deals/{deal_id}/lose", lambda w, r: f"/api/v1/deals/{w.deals['lose_' + r]}/lose",
     lambda w, r: {"reason": "price"}, (200, 200, 200, 404, 403, 403)),
    ("POST", "/api/v1/handoffs/{handoff_id}/accept",
     lambda w, r: f"/api/v1/handoffs/{w.handoffs['ho_acc_' + r]}/accept", None, (200, 200, 200, 404, 403, 403)),
    ("POST", "/api/v1/handoffs/{handoff_id}/reject",
     lambda w, r: f"/api/v1/handoffs/{w.handoffs['ho_rej_' + r]}/reject", lambda w, r: {"reason": "no_budget"},
     (200, 200, 200, 404, 403, 403)),
    ("GET", "/api/v1/handoffs", fixed("/api/v1/handoffs"), None, (200, 200, 200, 200, 200, 403)),
    ("GET", "/api/v1/handoffs/{handoff_id}", lambda w, r: f"/api/v1/handoffs/{w.handoffs['n1']}", None,
     (200, 200, 200, 404, 200, 403)),
    ("PATCH", "/api/v1/handoffs/{handoff_id}", lambda w, r: f"/api/v1/handoffs/{w.handoffs['n1']}",
     lambda w, r: {"owner_id": w.users["sales_n2"]}, (200, 200, 403, 403, 403, 403)),
    ("GET", "/api/v1/activities", fixed("/api/v1/activities"), None, (200, 200, 200, 200, 200, 403)),
    ("GET", "/api/v1/activities/{activity_id}", lambda w, r: f"/api/v1/activities/{w.activities['n1_deal']}",
     None, (200, 200, 200, 404, 200, 403)),
    ("POST", "/api/v1/activities", fixed("/api/v1/activities"),
     lambda w, r: {"type": "call", "lead_id": w.leads["n1"], "notes": "called"}, (201, 201, 201, 404, 403, 403)),
    ("GET", "/api/v1/goals", fixed("/api/v1/goals"), None, (200, 200, 200, 200, 200, 200)),
    ("GET", "/api/v1/goals/scorecard", fixed("/api/v1/goals/scorecard?from=2026-01-01&to=2026-03-31"), None,
     (200, 200, 200, 200, 200, 200)),
    ("GET", "/api/v1/goals/{goal_id}", lambda w, r: f"/api/v1/goals/{w.goal_id}", None,
     (200, 200, 200, 200, 200, 200)),
    ("POST", "/api/v1/goals", fixed("/api/v1/goals"),
     lambda w, r: {"name": f"goal {r}", "metric": "stage_count", "target": "10", "period_start": "2026-04-01",
                   "period_end": "2026-06-30"}, (201, 201, 403, 403, 403, 403)),
    ("PATCH", "/api/v1/goals/{goal_id}", lambda w, r: f"/api/v1/goals/{w.goal_id}", lambda w, r: {"target": "120"},
     (200, 200, 403, 403, 403, 403)),
    # Report packs by email: everyone subscribes themselves and removes their own; someone else's
    # subscription is a leader's to remove (to others it does not exist).
    ("GET", "/api/v1/subscriptions", fixed("/api/v1/subscriptions"), None, (200, 200, 200, 200, 200, 200)),
    ("POST", "/api/v1/subscriptions", fixed("/api/v1/subscriptions"),
     lambda w, r: {"report": "monthly", "language": "zh-TW"}, (201, 201, 201, 201, 201, 201)),
    ("DELETE", "/api/v1/subscriptions/{subscription_id}",
     lambda w, r: f"/api/v1/subscriptions/{w.report_subs['own_' + r]}", None, (204, 204, 204, 204, 204, 204)),
    ("DELETE", "/api/v1/subscriptions/{subscription_id}",
     lambda w, r: f"/api/v1/subscriptions/{w.report_subs['other_' + r]}", None, (204, 204, 404, 404, 404, 404)),
    # Conversions for the ad platforms carry click ids and hashed identities.
    ("GET", "/api/v1/integrations/conversions/{platform}",
     fixed("/api/v1/integrations/conversions/google_ads?from=2026-03-01&to=2026-03-31"), None,
     (200, 200, 403, 403, 200, 403)),
    ("GET", "/api/v1/integrations/conversions/{platform}",
     fixed("/api/v1/integrations/conversions/meta?from=2026-03-01&to=2026-03-31&pixel_id=1234567890"), None,
     (200, 200, 403, 403, 200, 403)),
]  # fmt: skip
# No API changes or deletes the audit log: these answer 405 to everyone.
AUDIT_WRITES = [
    ("PUT", "/api/v1/audit"), ("PATCH", "/api/v1/audit"), ("DELETE", "/api/v1/audit"), ("POST", "/api/v1/audit"),
    ("PUT", "/api/v1/audit/{id}"), ("PATCH", "/api/v1/audit/{id}"), ("DELETE", "/api/v1/audit/{id}"),
]  # fmt: skip


@pytest.fixture
def world(world, store):  # extends the conftest's world
    """The conftest's world plus an email relay and report subscriptions to remove: each role's own,
    and one per role owned by sales_n2 (someone else's)."""
    from closedloop.db import unit_of_work
    from closedloop.notifications import service as notify
    from closedloop.notifications.models import ReportSubscription
    from closedloop.users.actor import system_actor

    world.report_subs = {}
    with unit_of_work(store.session_factory) as session:
        relay = notify.add_channel(session=session, name="relay", kind="email", secret_key=world.secret_key,
                                   actor=system_actor("cli"),
                                   config={"host": "mail.corp.example", "from": "reports@corp.example"})  # fmt: skip
        others = [
            (report, language) for report in ("weekly", "monthly") for language in ("en", "zh-TW", "zh-CN")
        ]
        for role, (report, language) in zip(COLUMNS, others, strict=True):
            for kind, owner, row in (
                ("own", role, ("weekly", "en")),
                ("other", "sales_n2", (report, language)),
            ):
                sub = ReportSubscription(report=row[0], schedule=row[0], language=row[1], user_id=world.users[owner],
                                         channel_id=relay.id)  # fmt: skip
                session.add(sub)
                session.flush()
                world.report_subs[f"{kind}_{role}"] = sub.id
    return world


def _call(world: W, principal: str, method: str, path: str, body: Any) -> int:
    kwargs = {"json": body} if body is not None else {}
    return world.client.request(method, path, headers=world.headers(principal), **kwargs).status_code


def test_matrix_covers_every_route() -> None:
    """Every (method, path) my routers expose appears in the matrix."""
    exposed = set()
    for name in ROUTER_MODULES:
        for route in importlib.import_module(name).router.routes:
            if isinstance(route, APIRoute):
                exposed.update((method, PREFIXES.get(name, "") + route.path) for method in route.methods)
    covered = {(method, template) for method, template, *_ in MATRIX}
    assert exposed == covered


def test_every_principal_gets_the_exact_status(world) -> None:
    """Roles, a read-only key, no credentials, a revoked key and a leaver's key, on every route."""
    wrong = []
    for method, _template, path_of, body_of, codes in MATRIX:
        expected = dict(zip(COLUMNS, codes, strict=True))
        # A read-only key acts as its user (sales_n1) for reads and is refused every write.
        expected["readonly"] = expected["sales_n1"] if method == "GET" else 403
        expected.update(dict.fromkeys(UNAUTHENTICATED, 401))
        # Admin goes last, so its changes (a lead moved to another team) do not shift the others' rows.
        for principal in (*UNAUTHENTICATED, "readonly", *COLUMNS[1:], "admin"):
            role = principal if principal in COLUMNS else "sales_n1"
            path = path_of(world, role)
            body = body_of(world, role) if body_of else None
            status = _call(world, principal, method, path, body)
            if status != expected[principal]:
                wrong.append((principal, method, path, expected[principal], status))
    assert wrong == []


def test_audit_log_cannot_be_changed(world) -> None:
    """PUT, PATCH, DELETE and POST on the audit log answer 405 for every principal, and nothing changes."""
    before = world.client.get("/api/v1/audit", headers=world.headers("admin")).json()["total"]
    entry = world.audit["admin"]
    for principal in ("admin", "manager", "none"):
        for method, template in AUDIT_WRITES:
            path = template.replace("{id}", str(entry))
            assert _call(world, principal, method, path, {"action": "x"}) == 405, (principal, method, path)
    assert world.client.get("/api/v1/audit", headers=world.headers("admin")).json()["total"] == before
