"""A small workspace with every role, two sales teams and records on each side, served by the real app."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient

from closedloop.audit.models import AuditLog
from closedloop.config import Settings
from closedloop.db import unit_of_work
from closedloop.deals.models import Deal
from closedloop.goals.models import Goal
from closedloop.handoffs.models import Activity, Handoff
from closedloop.leads.models import Lead
from closedloop.marketing.models import Campaign, CampaignSpend, Touchpoint
from closedloop.users import service
from closedloop.users.actor import system_actor
from closedloop.web.app import create_app

ROLES = ("admin", "manager", "sales_n1", "sales_s", "marketing", "viewer")
AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ADMIN_PASSWORD = "admin-password-that-is-long"


@dataclass
class World:
    """Ids of everything seeded, and an API key per principal."""

    client: TestClient
    users: dict[str, int] = field(default_factory=dict)
    teams: dict[str, int] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    leads: dict[str, int] = field(default_factory=dict)
    deals: dict[str, int] = field(default_factory=dict)
    handoffs: dict[str, int] = field(default_factory=dict)
    activities: dict[str, int] = field(default_factory=dict)
    touchpoints: dict[str, int] = field(default_factory=dict)
    audit: dict[str, int] = field(default_factory=dict)
    spare_key_id: int = 0
    campaign_id: int = 0
    goal_id: int = 0
    secret_key: str = ""

    def headers(self, principal: str) -> dict[str, str]:
        """Authorization headers of a principal ("none" sends nothing)."""
        key = self.keys.get(principal)
        return {"Authorization": f"Bearer {key}"} if key else {}


def _seed(session, world: World) -> None:
    actor = system_actor("cli")
    for name in ("north", "south", "mkt"):
        kind = "marketing" if name == "mkt" else "sales"
        world.teams[name] = service.create_team(session=session, actor=actor, name=name, kind=kind).id
    people = {
        "admin": ("admin", None),
        "manager": ("manager", "north"),
        "sales_n1": ("sales", "north"),
        "sales_n2": ("sales", "north"),
        "sales_s": ("sales", "south"),
        "marketing": ("marketing", "mkt"),
        "viewer": ("viewer", None),
        "leaver": ("sales", "south"),
        "spare": ("sales", "south"),
        "gone": ("sales", "north"),
    }
    users = {}
    for key, (role, team) in people.items():
        password = ADMIN_PASSWORD if key == "admin" else None
        users[key] = service.create_user(
            session=session,
            actor=actor,
            email=f"{key}@corp.example",
            role=role,
            password=password,
            team_id=world.teams[team] if team else None,
        )
        world.users[key] = users[key].id
    for principal in ("admin", "manager", "sales_n1", "sales_s", "marketing", "viewer", "gone"):
        world.keys[principal] = service.create_api_key(session=session, actor=actor, user=users[principal])[1]
    world.keys["readonly"] = service.create_api_key(
        session=session, actor=actor, user=users["sales_n1"], scopes=["read"]
    )[1]
    revoked, world.keys["revoked"] = service.create_api_key(session=session, actor=actor, user=users["admin"])
    service.revoke_api_key(session=session, actor=actor, key=revoked)
    world.spare_key_id = service.create_api_key(session=session, actor=actor, user=users["spare"])[0].id
    service.deactivate_user(session=session, actor=actor, user=users["gone"], successor=users["sales_n1"])
    world.keys["inactive"] = world.keys.pop("gone")

    north, south = world.teams["north"], world.teams["south"]
    lead_rows = {
        "n1": Lead(email="n1@lead.example", owner_id=users["sales_n1"].id, team_id=north, stage="sql"),
        "n2": Lead(email="n2@lead.example", owner_id=users["sales_n2"].id, team_id=north),
        "s": Lead(email="s@lead.example", owner_id=users["sales_s"].id, team_id=south),
        "unowned": Lead(email="unowned@lead.example", name='=HYPERLINK("http://x")'),
        "export": Lead(email="export@lead.example", owner_id=users["sales_s"].id, team_id=south),
        "erase": Lead(email="erase@lead.example", owner_id=users["sales_s"].id, team_id=south),
    }
    for role in ROLES:
        for kind in ("ho_acc", "ho_rej"):  # a hand-off per role to accept, and one to reject
            lead_rows[f"{kind}_{role}"] = Lead(
                email=f"{kind}-{role}@lead.example", owner_id=users["sales_n1"].id, team_id=north, stage="mql"
            )
    for role in ROLES:
        lead_rows[f"stage_{role}"] = Lead(
            email=f"stage-{role}@lead.example", owner_id=users["sales_n1"].id, team_id=north
        )
    session.add_all(lead_rows.values())
    session.flush()
    world.leads = {k: v.id for k, v in lead_rows.items()}
    deals = {
        "n1": Deal(
            name="North deal",
            stage="proposal",
            amount_minor=500_000,
            currency="TWD",
            lead_id=world.leads["n1"],
            owner_id=users["sales_n1"].id,
            team_id=north,
        ),
        "s": Deal(
            name="South deal",
            stage="negotiation",
            amount_minor=300_000,
            currency="TWD",
            lead_id=world.leads["s"],
            owner_id=users["sales_s"].id,
            team_id=south,
        ),
    }
    for role in ROLES:  # a deal per role to win, and one to lose
        for kind in ("win", "lose"):
            deals[f"{kind}_{role}"] = Deal(
                name=f"{kind} {role}",
                stage="proposal",
                amount_minor=100,
                currency="TWD",
                owner_id=users["sales_n1"].id,
                team_id=north,
            )
    session.add_all(deals.values())
    session.flush()
    world.deals = {k: v.id for k, v in deals.items()}
    handoffs = {
        "n1": Handoff(
            lead_id=world.leads["n1"], owner_id=users["sales_n1"].id, team_id=north, assigned_at=AT
        ),
        "s": Handoff(lead_id=world.leads["s"], owner_id=users["sales_s"].id, team_id=south, assigned_at=AT),
    }
    activities = {
        "n1_deal": Activity(
            deal_id=world.deals["n1"],
            user_id=users["sales_n1"].id,
            type="call",
            occurred_at=AT,
            notes="north deal notes",
        ),
        "s_lead": Activity(
            lead_id=world.leads["s"],
            user_id=users["sales_s"].id,
            type="email",
            occurred_at=AT,
            notes="south lead notes",
        ),
    }
    campaign = Campaign(name="Spring", normalised_name="spring", currency="TWD")
    for key in [k for k in world.leads if k.startswith("ho_")]:
        handoffs[key] = Handoff(
            lead_id=world.leads[key], owner_id=users["sales_n1"].id, team_id=north, assigned_at=AT
        )
    session.add_all([*handoffs.values(), *activities.values(), campaign])
    session.flush()
    touches = {
        "n1": Touchpoint(lead_id=world.leads["n1"], occurred_at=AT, type="page_view", utm_source="google"),
        "s": Touchpoint(lead_id=world.leads["s"], occurred_at=AT, type="page_view"),
        "anon": Touchpoint(occurred_at=AT, type="page_view", campaign_id=campaign.id),
    }
    goal = Goal(
        name="MQLs",
        metric="stage_count",
        target=100,
        period_start=date(2026, 1, 1),
        period_end=date(2026, 3, 31),
    )
    spend = CampaignSpend(
        campaign_id=campaign.id, spend_date=date(2026, 3, 1), amount_minor=1000, currency="TWD"
    )
    session.add_all([*touches.values(), goal, spend])
    session.flush()
    world.handoffs = {k: v.id for k, v in handoffs.items()}
    world.activities = {k: v.id for k, v in activities.items()}
    world.touchpoints = {k: v.id for k, v in touches.items()}
    world.campaign_id, world.goal_id = campaign.id, goal.id
    for author in ("admin", "sales_n1", "sales_s"):
        entry = AuditLog(
            occurred_at=AT,
            actor_user_id=users[author].id,
            via="web",
            action="lead.updated",
            entity_type="lead",
            entity_id=str(world.leads["unowned"]),
        )
        session.add(entry)
        session.flush()
        world.audit[author] = entry.id


@pytest.fixture
def world(store) -> Iterator[World]:
    """The seeded workspace and a TestClient on the real app over it (SQLite and PostgreSQL)."""
    secret_key = secrets.token_urlsafe(40)
    with unit_of_work(store.session_factory) as session:
        world = World(client=None)  # type: ignore[arg-type]
        _seed(session, world)
    app = create_app(Settings(database_url=store.url, secret_key=secret_key))
    with TestClient(app) as client:
        world.client = client
        world.secret_key = secret_key
        yield world


@dataclass
class Bare:
    """An empty workspace with one admin who can sign in, and a TestClient on the real app."""

    client: TestClient
    url: str
    secret_key: str
    admin_email: str = "root@corp.example"
    admin_password: str = ADMIN_PASSWORD


@pytest.fixture
def bare(store) -> Iterator[Bare]:
    """Only an admin with a password; for sign-in and output tests."""
    secret_key = secrets.token_urlsafe(40)
    with unit_of_work(store.session_factory) as session:
        service.create_user(
            session=session,
            actor=system_actor("cli"),
            email="root@corp.example",
            role="admin",
            password=ADMIN_PASSWORD,
            name="Root",
        )
    app = create_app(Settings(database_url=store.url, secret_key=secret_key))
    with TestClient(app) as client:
        yield Bare(client=client, url=store.url, secret_key=secret_key)


def sign_in(client: TestClient, email: str, password: str, next_: str = "/api/v1/session"):
    """Post the sign-in form the way a browser does (login CSRF cookie + hidden field)."""
    import re

    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token, "next": next_},
        follow_redirects=False,
    )


@pytest.fixture
def login():
    """The sign-in helper (conftest modules are not importable under importlib mode)."""
    return sign_in
