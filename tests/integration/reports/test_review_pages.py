"""The review pages on the real app (SQLite and PostgreSQL): every role reads, leaders write, CSRF, audit.

Numbers are the hand-built history of conftest.py: week 11 (2026-03-09..15) has three SQLs (L4, L5,
L7), two of them first touched by Ads (L5, L7), so an Ads SQL-count action item starts at 2.
"""

from __future__ import annotations

import re
import secrets

from fastapi.testclient import TestClient
from sqlalchemy import select

from closedloop.audit.models import AuditLog
from closedloop.config import Settings
from closedloop.reviews.models import ActionItem, Review
from closedloop.users import service as users
from closedloop.users.actor import system_actor
from closedloop.users.models import User
from closedloop.web.app import create_app

PASSWORD = "review-pages-pass-2026"
ROLES = ("admin", "manager", "marketing", "sales", "viewer")


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _signed_in(app: object, email: str) -> TestClient:
    client = TestClient(app)
    token = _csrf(client.get("/login").text)
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token, "next": "/"},
                           follow_redirects=False)  # fmt: skip
    assert response.status_code == 303, response.text
    return client


def _world(history) -> tuple[object, dict[str, TestClient]]:
    store, session = history["store"], history["session"]
    for role in ROLES:
        users.create_user(session=session, actor=system_actor(), email=f"{role}@pages.example", role=role,
                          password=PASSWORD, name=f"{role.title()} Person")  # fmt: skip
    session.commit()
    app = create_app(Settings(database_url=store.url, secret_key=secrets.token_urlsafe(40)))
    return app, {role: _signed_in(app, f"{role}@pages.example") for role in ROLES}


def test_leaders_open_a_review_and_add_an_action_item_everyone_reads_it(history) -> None:
    _app, clients = _world(history)
    manager = clients["manager"]
    listing = manager.get("/reviews")
    assert listing.status_code == 200 and 'id="new-review"' in listing.text
    # The empty state says what to do next: the leader opens one here, the others wait for a manager.
    assert "用上方表單建立第一場會議" in listing.text
    assert "經理建立每週檢討會議後" in clients["sales"].get("/reviews").text
    assert 'href="/reviews"' in listing.text and 'href="/glossary"' in listing.text  # in the menu
    created = manager.post("/reviews", data={
        "csrf_token": _csrf(listing.text), "title": "Week 11 <script>alert(1)</script>", "period_start": "2026-03-09",
        "period_end": "2026-03-15", "attendees": [str(history["manager"]), str(history["ae"])]},
        follow_redirects=False)  # fmt: skip
    assert created.status_code == 303, created.text
    review_id = int(re.search(r"/reviews/(\d+)", created.headers["location"]).group(1))
    page = manager.get(f"/reviews/{review_id}")
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;" in page.text
    assert "Mei, Wei" in page.text  # attendees by name
    assert 'id="table-sla"' in page.text and 'id="table-movements"' in page.text

    added = manager.post(f"/reviews/{review_id}/action-items", data={
        "csrf_token": _csrf(page.text), "title": "Call back Ads leads", "owner_id": str(history["ae"]),
        "due_date": "2026-03-20", "metric": "stage_count", "from_stage": "sql", "dimension": "channel",
        "value": "Ads"}, follow_redirects=False)  # fmt: skip
    assert added.status_code == 303, added.text
    with history["store"].session() as s:
        item = s.scalars(select(ActionItem).where(ActionItem.review_id == review_id)).one()
        assert (
            item.baseline_value == 2.0
            and item.segment == {"channel": "Ads"}
            and item.owner_id == history["ae"]
        )
        item_id = item.id
    row = re.search(
        rf'<tr data-item="{item_id}">(.*?)</tr>', manager.get(f"/reviews/{review_id}").text, re.S
    ).group(1)
    assert "Call back Ads leads" in row and "Wei" in row and "2026-03-20" in row
    assert re.search(r'<td class="num">2</td>', row)  # the baseline: L5 and L7

    moved = manager.post(f"/reviews/{review_id}/action-items/{item_id}",
                         data={"csrf_token": _csrf(page.text), "status": "in_progress"}, follow_redirects=False)  # fmt: skip
    assert moved.status_code == 303
    saved = manager.post(f"/reviews/{review_id}", data={
        "csrf_token": _csrf(page.text), "title": "Week 11", "status": "held",
        "minutes": "Agreed: callbacks within 4 hours.", "attendees": [str(history["manager"])]},
        follow_redirects=False)  # fmt: skip
    assert saved.status_code == 303

    for role in ("marketing", "sales", "viewer", "admin"):
        client = clients[role]
        read = client.get(f"/reviews/{review_id}")
        assert read.status_code == 200, role
        assert "Agreed: callbacks within 4 hours." in read.text
        may_edit = role == "admin"
        assert ('id="add-item"' in read.text) is may_edit, role
        assert ('id="new-review"' in client.get("/reviews").text) is may_edit, role
        if not may_edit:
            token = _csrf(read.text)
            assert client.post(f"/reviews/{review_id}", data={"csrf_token": token, "minutes": "no"},
                               follow_redirects=False).status_code == 403  # fmt: skip
            assert client.post("/reviews", data={"csrf_token": token, "title": "x", "period_start": "2026-03-16",
                                                 "period_end": "2026-03-22"}).status_code == 403  # fmt: skip
            assert client.post(f"/reviews/{review_id}/action-items/{item_id}",
                               data={"csrf_token": token, "status": "done"}).status_code == 403  # fmt: skip
    with history["store"].session() as s:
        review = s.get(Review, review_id)
        assert (review.title, review.status, review.attendees) == ("Week 11", "held", [history["manager"]])
        assert s.get(ActionItem, item_id).status == "in_progress"
        actions = set(
            s.scalars(select(AuditLog.action).where(AuditLog.entity_id.in_([str(review_id), str(item_id)])))
        )
    assert {
        "review.created",
        "review.updated",
        "review.action_item.created",
        "review.action_item.updated",
    } <= actions


def test_forms_need_csrf_and_show_bad_input_as_a_page(history) -> None:
    app, clients = _world(history)
    manager = clients["manager"]
    token = _csrf(manager.get("/reviews").text)
    body = {"title": "w", "period_start": "2026-03-15", "period_end": "2026-03-09"}
    assert manager.post("/reviews", data={**body, "csrf_token": "forged"}).status_code == 403
    backwards = manager.post("/reviews", data={**body, "csrf_token": token})
    assert backwards.status_code == 422 and "text/html" in backwards.headers["content-type"]
    bad_day = manager.post("/reviews", data={**body, "period_start": "15/03/2026", "csrf_token": token})
    assert bad_day.status_code == 422
    with history["store"].session() as s:
        assert s.scalar(select(Review.id)) is None
    anonymous = TestClient(app).get("/reviews", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    assert manager.get("/reviews/999999").status_code == 404


def test_glossary_page_and_printable_sla_agreement_in_the_readers_language(history) -> None:
    _app, clients = _world(history)
    viewer = clients["viewer"]
    token = _csrf(viewer.get("/glossary").text)
    viewer.post("/preferences", data={"csrf_token": token, "language": "zh-TW", "next": "/glossary"})
    page = viewer.get("/glossary")
    assert page.status_code == 200
    assert "名詞定義與合作方式" in page.text  # reports.title.glossary in zh-TW
    assert "win_rate" in page.text and 'id="sla-sales"' in page.text
    assert 'href="/glossary/sla-agreement"' in page.text
    printable = viewer.get("/glossary/sla-agreement")
    assert printable.status_code == 200 and "行銷與業務服務水準協議" in printable.text
    assert "script-src" not in printable.headers["content-security-policy"]
    assert "default-src 'none'" in printable.headers["content-security-policy"]


def test_report_subscriptions_from_the_page_and_the_api(history) -> None:
    from closedloop.notifications import service as notify
    from closedloop.notifications.models import ReportSubscription

    notify.add_channel(session=history["session"], name="relay", kind="email", actor=system_actor(),
                       secret_key=secrets.token_urlsafe(32), config={"host": "mail.corp.example", "from": "r@corp.example"})  # fmt: skip
    history["session"].commit()
    app, clients = _world(history)
    sales = clients["sales"]
    page = sales.get("/reviews")
    assert 'id="subscribe"' in page.text and 'name="team_id"' not in page.text  # teams are a leader's call
    done = sales.post("/reports/subscriptions", data={"csrf_token": _csrf(page.text), "report": "monthly",
                                                      "language": "zh-CN"}, follow_redirects=False)  # fmt: skip
    assert done.status_code == 303
    with history["store"].session() as s:
        sub = s.scalars(select(ReportSubscription)).one()
        sales_id = s.scalar(select(User.id).where(User.email == "sales@pages.example"))
        assert (sub.report, sub.schedule, sub.language, sub.user_id, sub.team_id) == (
            "monthly",
            "monthly",
            "zh-CN",
            sales_id,
            None,
        )
    assert f'data-subscription="{sub.id}"' in sales.get("/reviews").text
    assert f'data-subscription="{sub.id}"' not in clients["viewer"].get("/reviews").text  # not the viewer's
    forged = sales.post(f"/reports/subscriptions/{sub.id}/delete", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    viewer_token = _csrf(clients["viewer"].get("/reviews").text)
    assert clients["viewer"].post(f"/reports/subscriptions/{sub.id}/delete",
                                  data={"csrf_token": viewer_token}).status_code == 404  # fmt: skip

    keys = {}
    with history["store"].session() as s:
        for role in ("sales", "manager"):
            user = s.scalar(select(User).where(User.email == f"{role}@pages.example"))
            keys[role] = {
                "Authorization": f"Bearer {users.create_api_key(session=s, actor=system_actor(), user=user)[1]}"
            }
        s.commit()
    api = TestClient(app)
    listed = api.get("/api/v1/subscriptions", headers=keys["sales"]).json()["items"]
    assert [i["id"] for i in listed] == [sub.id]
    other = api.post("/api/v1/subscriptions", headers=keys["sales"],
                     json={"report": "weekly", "language": "en", "user_id": history["manager"]})  # fmt: skip
    assert other.status_code == 403
    made = api.post(
        "/api/v1/subscriptions", headers=keys["manager"], json={"report": "weekly", "language": "en"}
    )
    assert made.status_code == 201 and made.json()["schedule"] == "weekly"
    assert api.post("/api/v1/subscriptions", json={"report": "weekly", "language": "en"}).status_code == 401
    assert api.delete(f"/api/v1/subscriptions/{made.json()['id']}", headers=keys["sales"]).status_code == 404
    assert (
        api.delete(f"/api/v1/subscriptions/{made.json()['id']}", headers=keys["manager"]).status_code == 204
    )
    gone = sales.post(f"/reports/subscriptions/{sub.id}/delete", data={"csrf_token": _csrf(page.text)},
                      follow_redirects=False)  # fmt: skip
    assert gone.status_code == 303
    with history["store"].session() as s:
        assert s.scalar(select(ReportSubscription.id)) is None
