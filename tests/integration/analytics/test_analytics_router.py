"""The scorecard over HTTP: shapes, scope per role, and drill-through refused to viewers."""

from __future__ import annotations

import secrets

from fastapi.testclient import TestClient

from closedloop.config import Settings
from closedloop.users import service
from closedloop.users.actor import system_actor
from closedloop.web.app import create_app

PERIOD = {"from": "2026-01-01", "to": "2026-06-30", "as_of": "2026-06-30"}


def test_analytics_api_by_role(store, data) -> None:
    actor = system_actor("cli")
    session = data.session
    north = service.create_team(session=session, actor=actor, name="north", kind="sales").id
    users = {role: service.create_user(session=session, actor=actor, email=f"{role}@corp.example", role=role,
                                       password=None) for role in ("admin", "viewer")}  # fmt: skip
    users["sales"] = service.create_user(session=session, actor=actor, email="sales@corp.example", role="sales",
                                         password=None, team_id=north)  # fmt: skip
    keys = {
        role: service.create_api_key(session=session, actor=actor, user=user)[1]
        for role, user in users.items()
    }
    mine = data.lead("2026-01-05 00:00", [("lead", "2026-01-05 00:00"), ("mql", "2026-01-06 00:00")],
                     owner_id=users["sales"].id, team_id=north, first_channel="Email")  # fmt: skip
    nobodys = data.lead("2026-01-05 00:00", [("lead", "2026-01-05 00:00")], first_channel="Email")
    session.commit()
    app = create_app(Settings(database_url=store.url, secret_key=secrets.token_urlsafe(40)))
    with TestClient(app) as client:

        def get(path: str, role: str, **params):
            return client.get(f"/api/v1/analytics/{path}", params={**PERIOD, **params},
                              headers={"Authorization": f"Bearer {keys[role]}"})  # fmt: skip

        admin = get("funnel", "admin", by="channel", stages="lead,mql")
        assert admin.status_code == 200, admin.text
        assert admin.json()["rows"][0]["counts"] == {"lead": 2, "mql": 1}
        sales = get("funnel", "sales", stages="lead,mql").json()
        assert sales["rows"][0]["counts"] == {"lead": 1, "mql": 1}  # only its own lead counts
        viewer = get("metrics", "viewer", name="stage_count", from_stage="mql")
        assert viewer.status_code == 200 and viewer.json()["results"][0]["value"] == 1
        assert get("drill", "viewer", stage="mql", stages="lead,mql").status_code == 403
        drilled = get("drill", "admin", stage="mql", stages="lead,mql", group="channel=Email").json()
        assert drilled["ids"] == [mine]
        # Drill-through stays within the caller's scope: both leads for the admin, its own for sales.
        everyone = get("drill", "admin", stage="lead", stages="lead,mql", group="channel=Email").json()
        assert (everyone["ids"], everyone["total"]) == ([mine, nobodys], 2)
        own = get("drill", "sales", stage="lead", stages="lead,mql", group="channel=Email")
        assert own.status_code == 200, own.text
        assert (own.json()["ids"], own.json()["total"]) == ([mine], 1)
        own_metric = get("drill", "sales", metric="stage_count", from_stage="lead").json()
        assert own_metric["ids"] == [mine]
        assert get("metrics", "admin", name="happiness").status_code == 422
