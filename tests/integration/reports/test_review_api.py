"""The review API: managers run the review, every signed-in role reads it, others may not edit."""

from __future__ import annotations

import secrets

from fastapi.testclient import TestClient

from closedloop.config import Settings
from closedloop.users import service as users
from closedloop.users.actor import system_actor
from closedloop.users.models import User
from closedloop.web.app import create_app


def test_managers_edit_everyone_reads(history) -> None:
    store, session = history["store"], history["session"]
    viewer = User(email="viewer@example.com", role="viewer")
    session.add(viewer)
    session.flush()
    keys = {}
    for name, user_id in (("manager", history["manager"]), ("sales", history["ae"]), ("viewer", viewer.id)):
        keys[name] = users.create_api_key(
            session=session, actor=system_actor(), user=session.get(User, user_id)
        )[1]
    session.commit()
    app = create_app(Settings(database_url=store.url, secret_key=secrets.token_urlsafe(40)))

    def auth(name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {keys[name]}"}

    body = {"title": "Week 11", "period_start": "2026-03-09", "period_end": "2026-03-15",
            "attendees": [history["manager"], history["ae"]], "data_as_of": "2026-03-16T12:00:00+08:00"}  # fmt: skip
    with TestClient(app) as client:
        assert client.post("/api/v1/reviews", json=body, headers=auth("sales")).status_code == 403
        assert client.post("/api/v1/reviews", json=body).status_code == 401
        created = client.post("/api/v1/reviews", json=body, headers=auth("manager"))
        assert created.status_code == 201, created.text
        review = created.json()
        assert review["agenda"]["figures"]["stage_count:sql"]["value"] == 3  # L4, L5, L7 in week 11
        item = client.post(f"/api/v1/reviews/{review['id']}/action-items", headers=auth("manager"),
                           json={"title": "Call back Ads leads", "due_date": "2026-03-20", "metric": "stage_count",
                                 "from_stage": "sql", "segment": {"channel": "Ads"}, "owner_id": history["ae"]})  # fmt: skip
        assert item.status_code == 201, item.text
        assert item.json()["baseline_value"] == 2.0  # L5 and L7
        bad = client.post(f"/api/v1/reviews/{review['id']}/action-items", headers=auth("manager"),
                          json={"title": "x", "due_date": "2026-03-20", "metric": "no_such_metric"})  # fmt: skip
        assert bad.status_code == 422
        patched = client.patch(f"/api/v1/reviews/{review['id']}", headers=auth("manager"),
                               json={"minutes": "Agreed: callbacks within 4 hours.", "status": "held"})  # fmt: skip
        assert patched.status_code == 200
        assert client.patch(f"/api/v1/reviews/{review['id']}", headers=auth("viewer"),
                            json={"minutes": "no"}).status_code == 403  # fmt: skip
        read = client.get(f"/api/v1/reviews/{review['id']}", headers=auth("viewer"))
        assert read.status_code == 200
        assert read.json()["minutes"] == "Agreed: callbacks within 4 hours."
        assert [i["title"] for i in read.json()["action_items"]] == ["Call back Ads leads"]
        listed = client.get("/api/v1/reviews", headers=auth("sales")).json()
        assert listed["total"] == 1
        assert client.get("/api/v1/reviews/999999", headers=auth("viewer")).status_code == 404
