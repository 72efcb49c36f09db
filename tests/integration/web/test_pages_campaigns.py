"""The campaigns page credits CAC, ROI and ROAS by the attribution model picked on the page, by hand.

The hand-built half year of the analytics tests (reporting zone Asia/Taipei):
  A: Email (Spring) Jan 5, Paid Search (Search) Jan 20; customer Mar 1, won 4000 on a half-margin
     product (gross margin 2000).
  B: Paid Search (Search) Feb 2; customer Apr 1, won 1000 (margin 100%).
  C: Email (Spring) Feb 5; never converts.
Spend: Spring 300 (Jan 10), Search 1000 (Feb 1).

First touch: Spring has 1 customer (A), Search 1 (B): CAC 300 and 1000; ROAS 4000/300 and 1.
Linear: A's credit splits half Spring, half Search: Spring 0.5 customers (CAC 600), Search 1.5
(CAC 666.67); ROAS Spring 2000/300, Search (2000 + 1000)/1000 = 3; ROI Spring (1000 - 300)/300,
Search (1000 + 1000 - 1000)/1000 = 1.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from tests.integration.analytics.conftest import Data

from closedloop.analytics import engine
from closedloop.config import Settings
from closedloop.db import unit_of_work
from closedloop.marketing.models import Touchpoint
from closedloop.users import service as user_service
from closedloop.users.actor import system_actor
from closedloop.web.app import create_app
from closedloop.workspace.models import Product

PASSWORD = "campaign-pages-pass-1"
PERIOD = "from=2026-01-01&to=2026-06-30"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def client(store):
    session = store.session()
    data = Data(session)
    half = data.product("Half margin")
    session.get(Product, half).margin_pct = 0.5
    spring, search = data.campaign("Spring", channel="Email"), data.campaign("Search", channel="Paid Search")
    data.spend(spring, "2026-01-10", 300)
    data.spend(search, "2026-02-01", 1000)
    leads = {}
    for name, channel, campaign, created, customer in (
        ("A", "Email", spring, "2026-01-05 02:00", "2026-03-01 02:00"),
        ("B", "Paid Search", search, "2026-02-02 02:00", "2026-04-01 02:00"),
        ("C", "Email", spring, "2026-02-05 02:00", None),
    ):
        events = [("lead", created)] + ([("customer", customer)] if customer else [])
        leads[name] = data.lead(created, events, first_channel=channel, first_campaign_id=campaign)
        session.add(Touchpoint(lead_id=leads[name], occurred_at=at(created), type="ad_click",
                               channel=channel, campaign_id=campaign))  # fmt: skip
    session.add(Touchpoint(lead_id=leads["A"], occurred_at=at("2026-01-20 02:00"), type="ad_click",
                           channel="Paid Search", campaign_id=search))  # fmt: skip
    data.deal(
        "2026-02-01 02:00", 4000, status="won", closed="2026-03-01 02:00", lead_id=leads["A"], product_id=half
    )
    data.deal("2026-03-01 02:00", 1000, status="won", closed="2026-04-01 02:00", lead_id=leads["B"])
    session.commit()
    session.close()
    with unit_of_work(store.session_factory) as s:
        user_service.create_user(session=s, actor=system_actor(), email="mkt@example.com", role="marketing",
                                 password=PASSWORD)  # fmt: skip
    app = create_app(Settings(database_url=store.url, secret_key=secrets.token_urlsafe(48)))
    with TestClient(app) as web:
        token = re.search(r'name="csrf_token" value="([^"]+)"', web.get("/login").text).group(1)
        signed = web.post("/login", data={"email": "mkt@example.com", "password": PASSWORD, "csrf_token": token,
                                          "next": "/"}, follow_redirects=False)  # fmt: skip
        assert signed.status_code == 303
        yield web
    engine.close(store.url)


def table(client: TestClient, model: str | None) -> dict[str, dict[str, str]]:
    query = f"/campaigns?{PERIOD}&csv=campaigns" + (f"&model={model}" if model else "")
    response = client.get(query)
    assert response.status_code == 200, response.text[:300]
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    return {row["campaign"]: row for row in rows}


def number(text: str) -> float | None:
    return float(text) if text not in ("", "None") else None


def test_the_picked_model_credits_cac_roi_and_roas(client) -> None:
    first = table(client, None)
    assert number(first["Spring"]["cac"]) == 300.0 and number(first["Search"]["cac"]) == 1000.0
    assert number(first["Spring"]["roas"]) == pytest.approx(4000 / 300)
    assert number(first["Search"]["roas"]) == pytest.approx(1.0)
    assert table(client, "first_touch") == first

    linear = table(client, "linear")
    assert number(linear["Spring"]["cac"]) == pytest.approx(600.0)
    assert number(linear["Search"]["cac"]) == pytest.approx(1000 / 1.5, abs=0.01)
    assert number(linear["Spring"]["roas"]) == pytest.approx(2000 / 300)
    assert number(linear["Search"]["roas"]) == pytest.approx(3.0)
    assert number(linear["Spring"]["roi"]) == pytest.approx((1000 - 300) / 300)
    assert number(linear["Search"]["roi"]) == pytest.approx(1.0)
    # Spend and the stage counts do not depend on the model.
    for name in ("Spring", "Search"):
        for column in ("spend", "lead", "customer"):
            assert linear[name][column] == first[name][column], (name, column)
    assert (first["Spring"]["spend"], first["Spring"]["customer"]) == ("300.0", "1")


def test_the_picker_is_labelled_keeps_the_choice_and_refuses_unknown_models(client) -> None:
    page = client.get(f"/campaigns?{PERIOD}&model=linear").text
    picker = re.search(r"<label>([^<]*)<select name=\"model\"[^>]*>(.*?)</select>", page, re.S)
    assert picker and picker.group(1).strip() == "歸因模型"  # a new user reads zh-TW by default
    assert '<option value="linear" selected>' in picker.group(2)
    assert picker.group(2).count("<option") == 8
    assert client.get(f"/campaigns?{PERIOD}&model=made_up").status_code == 422
