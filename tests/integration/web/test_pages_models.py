"""The models page on the real app (SQLite and PostgreSQL): empty state, the active model's evaluation, roles."""

from __future__ import annotations

import json
import re
import secrets
from datetime import UTC, date, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.integration.web.pages_world import DEMO_EMAILS, DEMO_PASSWORD

from closedloop.analytics import engine
from closedloop.config import Settings
from closedloop.demo.service import load_demo
from closedloop.leads.models import Lead
from closedloop.predictive import registry, service
from closedloop.users.actor import system_actor
from closedloop.web.app import create_app


def _signed_in(app: object, role: str) -> TestClient:
    client = TestClient(app)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    response = client.post("/login", data={"email": DEMO_EMAILS[role], "password": DEMO_PASSWORD,
                                           "csrf_token": token, "next": "/"}, follow_redirects=False)  # fmt: skip
    assert response.status_code == 303
    return client


def test_models_page_empty_then_trained_and_closed_to_sales_and_viewers(store) -> None:
    engine.close(store.url)
    registry._CACHE.clear()
    load_demo(engine=store.engine, leads=300, seed=3, anchor=date.today())
    app = create_app(Settings(database_url=store.url, secret_key=secrets.token_urlsafe(48)))
    marketing = _signed_in(app, "marketing")

    empty = marketing.get("/models")
    assert empty.status_code == 200
    assert "closedloop score train" in empty.text and "table-evaluation-won" not in empty.text
    with store.session() as s:
        lead_id = s.scalar(select(Lead.id).where(Lead.stage == "lead").order_by(Lead.id))
    no_model = marketing.get(f"/leads/{lead_id}")
    assert no_model.status_code == 200 and 'id="pred-h"' not in no_model.text

    now = datetime.now(UTC)
    with store.session() as s:
        row = service.train_lead_model(session=s, actor=system_actor(), as_of=now, clock=lambda: now)
        s.commit()
        version, auc, n_train = row.version, row.metrics["auc"], row.n_train
        baseline_auc, calibration = row.metrics["baseline"]["auc"], row.metrics["calibration"]
        warning = row.metrics.get("warning")

    for role in ("marketing", "admin", "manager"):
        page = (marketing if role == "marketing" else _signed_in(app, role)).get("/models")
        assert page.status_code == 200, role
    page = marketing.get("/models")
    html = page.text
    assert version in html
    # Babel's en pattern "#,##0.000" is Python's ",.3f"; the training count as "#,##0".
    assert f">{auc:,.3f}<" in html and f">{baseline_auc:,.3f}<" in html
    assert f"訓練樣本 {n_train:,} 筆" in html  # the demo marketing user reads zh-TW
    if warning:
        assert "訓練樣本（或某一種結果）太少" in html
    assert "table-calibration-won" in html and "table-lift-won" in html and "table-versions-won" in html
    # The chart spec sits in an application/json block that no '<' can close, with one point per decile.
    block = re.search(r'<script type="application/json" id="spec-calibration-won">(.*?)</script>', html, re.S)
    assert block is not None and "<" not in block.group(1)
    spec = json.loads(block.group(1))
    assert [p["observed"] for p in spec["data"]["values"]] == [c["observed"] for c in calibration]
    # Every <script> is either the chart bundle or a JSON block: nothing came through unescaped.
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert all('type="application/json"' in s or 'src="/static/' in s for s in scripts), scripts

    with store.session() as s:
        why = service.explain_lead(session=s, lead_id=lead_id, lang="zh-TW")
    lead_page = marketing.get(f"/leads/{lead_id}")
    assert lead_page.status_code == 200 and 'id="pred-h"' in lead_page.text
    assert f"<strong>{why['probability']:.1%}</strong>" in lead_page.text
    assert all(f["text"] in lead_page.text for f in why["up"] + why["down"] if "<" not in f["text"])

    csv = marketing.get("/models", params={"csv": "evaluation-won"})
    assert csv.status_code == 200 and "auc" in csv.text

    for role in ("sales", "viewer"):
        assert _signed_in(app, role).get("/models").status_code == 403, role
    engine.close(store.url)
