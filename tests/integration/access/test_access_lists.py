"""No list holds a row its caller may not see; field-level and aggregate rules hold."""

from __future__ import annotations

ROLES = ("admin", "manager", "sales_n1", "marketing", "sales_s", "viewer")
# Per-role targets seeded in the north team: stage changes, hand-offs to accept or reject, deals to close.
STAGE_LEADS = tuple(f"{kind}_{r}" for kind in ("stage", "ho_acc", "ho_rej") for r in ROLES)
HANDOFF_TARGETS = tuple(f"{kind}_{r}" for kind in ("ho_acc", "ho_rej") for r in ROLES)
DEAL_TARGETS = tuple(f"{kind}_{r}" for kind in ("win", "lose") for r in ROLES)
ALL_LEADS = ("n1", "n2", "s", "unowned", "export", "erase", *STAGE_LEADS)
NORTH_LEADS = ("n1", "n2", *STAGE_LEADS)
SOUTH_LEADS = ("s", "export", "erase")
# Worked out by hand from the seed in conftest.py: principal -> resource -> visible keys (None: 403).
EXPECTED = {
    "admin": {
        "leads": ALL_LEADS,
        "deals": ("n1", "s", *DEAL_TARGETS),
        "handoffs": ("n1", "s", *HANDOFF_TARGETS),
        "activities": ("n1_deal", "s_lead"),
        "touchpoints": ("n1", "s", "anon"),
    },
    "manager": {
        "leads": NORTH_LEADS,
        "deals": ("n1", *DEAL_TARGETS),
        "handoffs": ("n1", *HANDOFF_TARGETS),
        "activities": ("n1_deal",),
        "touchpoints": ("n1",),
    },
    "sales_n1": {
        "leads": NORTH_LEADS,
        "deals": ("n1", *DEAL_TARGETS),
        "handoffs": ("n1", *HANDOFF_TARGETS),
        "activities": ("n1_deal",),
        "touchpoints": ("n1",),
    },
    "sales_s": {
        "leads": SOUTH_LEADS,
        "deals": ("s",),
        "handoffs": ("s",),
        "activities": ("s_lead",),
        "touchpoints": ("s",),
    },
    "marketing": {
        "leads": ALL_LEADS,
        "deals": None,
        "handoffs": ("n1", "s", *HANDOFF_TARGETS),
        "activities": ("n1_deal", "s_lead"),
        "touchpoints": ("n1", "s", "anon"),
    },
    "viewer": {"leads": None, "deals": None, "handoffs": None, "activities": None, "touchpoints": None},
}


def _ids(world, principal: str, resource: str) -> set[int] | int:
    response = world.client.get(f"/api/v1/{resource}?limit=500", headers=world.headers(principal))
    if response.status_code != 200:
        return response.status_code
    body = response.json()
    assert body["total"] == len(body["items"])
    return {item["id"] for item in body["items"]}


def test_lists_hold_exactly_the_visible_rows(world) -> None:
    """Every person-level list equals the hand-worked visible set (403 where the role has none)."""
    for principal, resources in EXPECTED.items():
        for resource, keys in resources.items():
            got = _ids(world, principal, resource)
            want = 403 if keys is None else {getattr(world, resource)[k] for k in keys}
            assert got == want, (principal, resource)


def test_field_scope_and_aggregate_rules(world) -> None:
    """Deal notes only for the sales side; managers see their team; aggregates follow the scope."""
    _deal_notes_are_hidden_from_marketing(world)
    _users_and_audit_lists_are_scoped(world)
    _aggregates_follow_the_same_scope(world)


def _deal_notes_are_hidden_from_marketing(world) -> None:
    for principal, visible in (("marketing", False), ("sales_n1", True), ("manager", True), ("admin", True)):
        items = world.client.get("/api/v1/activities", headers=world.headers(principal)).json()["items"]
        by_id = {item["id"]: item for item in items}
        deal_note = by_id[world.activities["n1_deal"]]["notes"]
        assert deal_note == ("north deal notes" if visible else None), principal
    lead_note = world.client.get(
        f"/api/v1/activities/{world.activities['s_lead']}", headers=world.headers("marketing")
    ).json()["notes"]
    assert lead_note == "south lead notes"


def _users_and_audit_lists_are_scoped(world) -> None:
    """A manager sees its team's users and the audit entries they made; admins see all."""
    users = world.client.get("/api/v1/users?limit=500", headers=world.headers("manager")).json()["items"]
    assert {u["email"] for u in users} == {
        f"{k}@corp.example" for k in ("manager", "sales_n1", "sales_n2", "gone")
    }
    entries = world.client.get("/api/v1/audit?limit=500", headers=world.headers("manager")).json()["items"]
    assert {e["id"] for e in entries} == {world.audit["sales_n1"]}
    everything = world.client.get("/api/v1/audit?limit=500", headers=world.headers("admin")).json()
    assert {world.audit[a] for a in ("admin", "sales_n1", "sales_s")} <= {
        e["id"] for e in everything["items"]
    }


def _aggregates_follow_the_same_scope(world) -> None:
    """Deal totals: sales counts its own team's deals; marketing and viewers count every deal."""

    def total(principal: str) -> tuple[int, float]:
        rows = world.client.get("/api/v1/deals/summary", headers=world.headers(principal)).json()
        return sum(r["count"] for r in rows), sum(r["amount"] for r in rows)

    # 12 per-role deals of 1.00 TWD each in the north team besides the two named ones.
    assert total("sales_n1") == (13, 5012.0)
    assert total("sales_s") == (1, 3000.0)
    assert total("viewer") == (14, 8012.0)
    assert total("marketing") == (14, 8012.0)
    leads = world.client.get("/api/v1/leads/summary", headers=world.headers("sales_s")).json()
    assert leads == [{"key": "lead", "count": 3, "amount": None, "currency": None}]
