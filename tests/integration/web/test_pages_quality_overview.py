"""The overview's leads-or-follow-up split (SQLite and PostgreSQL): one sentence, one chart with its
table and safe CSV, scoped like every other number on the page."""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from tests.integration.web.pages_world import DEMO_EMAILS, DEMO_PASSWORD

from closedloop.analytics import api, engine, insights
from closedloop.config import Settings
from closedloop.demo.service import load_demo
from closedloop.web.app import create_app


def _signed_in(app: object, role: str) -> TestClient:
    client = TestClient(app)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    response = client.post("/login", data={"email": DEMO_EMAILS[role], "password": DEMO_PASSWORD,
                                           "csrf_token": token, "next": "/"}, follow_redirects=False)  # fmt: skip
    assert response.status_code == 303
    return client


def _csv(client: TestClient, params: dict[str, str]) -> list[dict[str, str]]:
    response = client.get("/", params={**params, "csv": "mix"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_overview_splits_the_mql_to_sql_change_into_lead_mix_and_follow_up(store) -> None:
    engine.close(store.url)
    load_demo(engine=store.engine, leads=400, seed=11, anchor=date.today())
    app = create_app(Settings(database_url=store.url, secret_key=secrets.token_urlsafe(48)))
    today = datetime.now(ZoneInfo(api.workspace(store.url).time_zone)).date()
    start, end = today - timedelta(days=364), today
    params = {"from": start.isoformat(), "to": end.isoformat()}

    admin = _signed_in(app, "admin")
    html = admin.get("/", params=params).text
    sentence = re.search(r'<p id="mix-sentence">(.*?)</p>', html).group(1)
    rows = _csv(admin, params)[1:]
    assert rows, "the demo has MQLs in both years"
    # Worked from the CSV alone: each period's rate is the share-weighted rate of its channels, and
    # the parts add up to the change.
    num = lambda v: float(v) if v else 0.0  # noqa: E731
    before = sum(num(r[1]) * num(r[3]) for r in rows)
    after = sum(num(r[2]) * num(r[4]) for r in rows)
    mix, rate = sum(num(r[5]) for r in rows), sum(num(r[6]) for r in rows)
    assert mix + rate == pytest.approx(after - before, abs=1e-9)
    assert sum(num(r[1]) for r in rows) == pytest.approx(1.0) and sum(
        num(r[2]) for r in rows
    ) == pytest.approx(1.0)
    # The sentence states the same figures (admin reads zh-TW; Babel's "#,##0.0%" is Python's ".1%").
    assert f"從 {before:.1%}" in sentence and f"變為 {after:.1%}" in sentence
    for value in (after - before, mix, rate):
        shown = f"{abs(value) * 100:,.1f}"
        assert ("+" if value > 0 else "−" if value < 0 else "±") + shown in sentence
    # One chart: a Vega-Lite spec in a JSON block, two bars (lead mix, follow-up) per channel shown.
    spec = json.loads(
        re.search(r'<script type="application/json" id="spec-mix">(.*?)</script>', html, re.S).group(1)
    )
    assert {v["group"] for v in spec["data"]["values"]} == {"名單組合", "跟進"}
    assert len(spec["data"]["values"]) == 2 * min(8, len(rows))

    # A manager's split counts only its team's leads, as the analytics layer's scope says.
    manager = _signed_in(app, "manager")
    previous = (start - timedelta(days=365), start - timedelta(days=1))
    from closedloop.access.scope import visibility
    from closedloop.analytics.slicing import Scope
    from closedloop.users.models import User
    from closedloop.users.service import actor_for

    with store.session() as s:
        user = s.query(User).filter(User.email == DEMO_EMAILS["manager"]).one()
        seen = visibility(session=s, actor=actor_for(user, via="web"))
    expected = insights.mix_vs_rate(store.url, dimension="channel", before=(previous[0].isoformat(), previous[1].isoformat()),
                                    after=(start.isoformat(), end.isoformat()), scope=Scope(seen.owner_ids, seen.team_ids))  # fmt: skip
    scoped_rows = _csv(manager, params)[1:]
    assert [r[0] for r in scoped_rows] == [s["segment"] or "" for s in expected["segments"]]
    assert sum(num(r[5]) for r in scoped_rows) == pytest.approx(expected["mix"], abs=1e-9)
    # Viewers see the aggregate (no personal rows in it) and the sentence too.
    assert 'id="mix-h"' in _signed_in(app, "viewer").get("/", params=params).text
