"""CAC, ROAS, ROI and cost per lead by channel and campaign under any attribution model, by hand.

Three leads in the first half of 2026 (reporting zone Asia/Taipei, as-of June 30):
  A: Email (Spring) Jan 5, Paid Search (Search) Jan 20; customer Mar 1 with a won deal of 4000
     on a half-margin product (gross margin 2000).
  B: Paid Search (Search) Feb 2; customer Apr 1 with a won deal of 1000 (margin 100%).
  C: Email (Spring) Feb 5; never converts.
Spend: Spring (Email) 300 on Jan 10, Search (Paid Search) 1000 on Feb 1.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from closedloop.analytics import api, attributed
from closedloop.analytics.declarations import METRICS
from closedloop.errors import ValidationFailed
from closedloop.marketing.models import Touchpoint
from closedloop.workspace.models import Product

PERIOD = {"date_from": "2026-01-01", "date_to": "2026-06-30", "as_of": "2026-06-30"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def money(store, data):
    half = data.product("Half margin")
    data.session.get(Product, half).margin_pct = 0.5
    spring, search = data.campaign("Spring", channel="Email"), data.campaign("Search", channel="Paid Search")
    data.spend(spring, "2026-01-10", 300)
    data.spend(search, "2026-02-01", 1000)
    data.spend(search, "2026-07-02", 5000)  # after the period
    leads = {}
    for name, channel, campaign, created, customer in (
        ("A", "Email", spring, "2026-01-05 02:00", "2026-03-01 02:00"),
        ("B", "Paid Search", search, "2026-02-02 02:00", "2026-04-01 02:00"),
        ("C", "Email", spring, "2026-02-05 02:00", None),
    ):
        events = [("lead", created)] + ([("customer", customer)] if customer else [])
        leads[name] = data.lead(created, events, first_channel=channel, first_campaign_id=campaign)
        data.session.add(Touchpoint(lead_id=leads[name], occurred_at=at(created), type="ad_click",
                                    channel=channel, campaign_id=campaign))  # fmt: skip
    data.session.add(Touchpoint(lead_id=leads["A"], occurred_at=at("2026-01-20 02:00"), type="ad_click",
                                channel="Paid Search", campaign_id=search))  # fmt: skip
    data.deal(
        "2026-02-01 02:00", 4000, status="won", closed="2026-03-01 02:00", lead_id=leads["A"], product_id=half
    )
    data.deal("2026-03-01 02:00", 1000, status="won", closed="2026-04-01 02:00", lead_id=leads["B"])
    data.session.commit()
    return store


def by(store, name: str, dim: str = "channel", **kw) -> dict:
    found = api.metrics(store.url, [name], by=[dim], **{**PERIOD, **kw})["results"]
    return {r["group"][dim]: r for r in found}


def values(store, name: str, dim: str = "channel", **kw) -> dict:
    return {k: v["value"] for k, v in by(store, name, dim, **kw).items()}


def test_first_touch_default_is_the_leads_first_touch(money) -> None:
    assert values(money, "cac") == {"Email": 300.0, "Paid Search": 1000.0}
    assert values(money, "cpl") == {"Email": 150.0, "Paid Search": 1000.0}
    assert values(money, "roas") == pytest.approx({"Email": 4000 / 300, "Paid Search": 1.0})
    assert values(money, "roi") == pytest.approx({"Email": (2000 - 300) / 300, "Paid Search": 0.0})


@pytest.mark.parametrize("name", ["cac", "cpl", "cost_per_mql", "cost_per_sql", "roas", "roi"])
@pytest.mark.parametrize("dim", ["channel", "campaign"])
def test_first_touch_through_journeys_agrees_with_the_sql_path(money, name, dim) -> None:
    """The journeys path run with first_touch gives the first-touch SQL path's numbers."""
    sl = api.slice_for(money.url, by=(dim,), **PERIOD)
    compiled = attributed.compile_credited(money.url, METRICS[name], sl, model="first_touch")
    through_journeys = {r["group"][dim]: r for r in api._results(money.url, compiled, sl)}
    sql_path = by(money, name, dim)
    assert through_journeys.keys() == sql_path.keys()
    for key, row in sql_path.items():
        for field in ("value", "numerator", "denominator"):
            assert through_journeys[key][field] == pytest.approx(row[field]), (key, field)


def test_last_touch(money) -> None:
    # Customers: A's last touch before Mar 1 is Paid Search (Jan 20), B's is Paid Search.
    cac = by(money, "cac", model="last_touch")
    assert (cac["Paid Search"]["value"], cac["Paid Search"]["denominator"]) == (500.0, 2)
    assert (cac["Email"]["value"], cac["Email"]["numerator"], cac["Email"]["denominator"]) == (None, 300.0, 0)
    assert values(money, "roas", model="last_touch") == pytest.approx({"Email": 0.0, "Paid Search": 5.0})
    # ROI: Paid Search credited 2000 + 1000 of gross margin against 1000; Email nothing against 300.
    assert values(money, "roi", model="last_touch") == pytest.approx({"Email": -1.0, "Paid Search": 2.0})
    # Lead creation: every lead's last touch is its only touch at creation, as first touch.
    assert values(money, "cpl", model="last_touch") == {"Email": 150.0, "Paid Search": 1000.0}
    assert values(money, "cac", "campaign", model="last_touch") == {"Spring": None, "Search": 500.0}


def test_linear(money) -> None:
    # A's customer credit splits 1/2 Email, 1/2 Paid Search; B's goes to Paid Search.
    cac = by(money, "cac", model="linear")
    assert cac["Email"]["value"] == 600.0 and cac["Email"]["denominator"] == 0.5
    assert cac["Paid Search"]["value"] == pytest.approx(1000 / 1.5, abs=0.005)
    assert cac["Paid Search"]["denominator"] == pytest.approx(1.5)
    assert values(money, "roas", "campaign", model="linear") == pytest.approx(
        {"Spring": 2000 / 300, "Search": 3000 / 1000}
    )
    roi = by(money, "roi", model="linear")
    assert roi["Email"]["value"] == pytest.approx((1000 - 300) / 300)
    assert (roi["Email"]["numerator"], roi["Email"]["denominator"]) == (700.0, 300.0)
    assert roi["Paid Search"]["value"] == pytest.approx(1.0)


def test_filters_as_of_and_totals(money) -> None:
    email = api.metrics(money.url, ["cac", "roas"], model="linear", where=["channel=Email"], **PERIOD)
    cac, roas = email["results"]
    assert (cac["value"], cac["numerator"], cac["denominator"]) == (600.0, 300.0, 0.5)
    assert roas["value"] == pytest.approx(2000 / 300)
    # As of March 15 only A is a customer: Paid Search gets its last-touch credit alone.
    early = by(money, "cac", model="last_touch", as_of="2026-03-15")
    assert early["Paid Search"]["value"] == 1000.0
    # Without a group every model credits the same total: spend 1300 over two customers.
    for model in ("first_touch", "markov", "shapley"):
        total = api.metrics(money.url, ["cac"], model=model, **PERIOD)["results"][0]
        assert (total["numerator"], total["denominator"]) == (1300.0, 2)


def test_data_driven_models_credit_every_customer(money) -> None:
    for model in ("markov", "shapley", "time_decay", "position_based", "w_shaped"):
        cac = by(money, "cac", model=model)
        assert sum(r["denominator"] for r in cac.values()) == pytest.approx(2), model


def test_unknown_model_is_refused(money) -> None:
    with pytest.raises(ValidationFailed, match="nope"):
        api.metrics(money.url, ["roas"], model="nope", by=["channel"], **PERIOD)
    api.metrics(money.url, ["win_rate"], model="nope", **PERIOD)  # a metric without credit ignores it


def test_cli_and_http_take_the_model(money, monkeypatch, capsys) -> None:
    import json
    import secrets

    from fastapi.testclient import TestClient

    from closedloop.cli.main import main
    from closedloop.config import Settings, get_settings
    from closedloop.users import service
    from closedloop.users.actor import system_actor
    from closedloop.web.app import create_app

    monkeypatch.setenv("CLOSEDLOOP_DATABASE_URL", money.url)
    get_settings.cache_clear()
    capsys.readouterr()
    try:
        args = ["metrics", "roas", "--model", "last_touch", "--by", "channel", "--format", "json"]
        main([*args, "--from", "2026-01-01", "--to", "2026-06-30", "--as-of", "2026-06-30"])
    except SystemExit as exc:
        assert not exc.code, capsys.readouterr().err
    finally:
        get_settings.cache_clear()
    doc = json.loads(capsys.readouterr().out)
    assert {r["group"]["channel"]: r["value"] for r in doc["results"]} == {"Email": 0.0, "Paid Search": 5.0}

    with money.session_factory.begin() as session:
        user = service.create_user(session=session, actor=system_actor("cli"), email="viewer@corp.example",
                                   role="viewer", password=None)  # fmt: skip
        key = service.create_api_key(session=session, actor=system_actor("cli"), user=user)[1]
    app = create_app(Settings(database_url=money.url, secret_key=secrets.token_urlsafe(40)))
    params = {
        "from": "2026-01-01",
        "to": "2026-06-30",
        "as_of": "2026-06-30",
        "name": "cac",
        "by": "campaign",
    }
    with TestClient(app) as client:
        assert (
            client.get("/api/v1/analytics/metrics", params={**params, "model": "linear"}).status_code == 401
        )
        headers = {"Authorization": f"Bearer {key}"}
        got = client.get("/api/v1/analytics/metrics", params={**params, "model": "linear"}, headers=headers)
        assert got.status_code == 200, got.text
        cac = {r["group"]["campaign"]: r for r in got.json()["results"]}
        assert cac["Spring"]["value"] == 600.0 and cac["Spring"]["denominator"] == 0.5
        bad = client.get("/api/v1/analytics/metrics", params={**params, "model": "nope"}, headers=headers)
        assert bad.status_code == 422
