"""Journeys built from the store inside DuckDB (SQLite and PostgreSQL), against hand-worked credits."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from closedloop.analytics import engine
from closedloop.attribution.journeys import build_journeys
from closedloop.attribution.service import attribute
from closedloop.deals.models import Deal
from closedloop.errors import ValidationFailed
from closedloop.leads.models import Lead, LifecycleEvent
from closedloop.marketing.models import Campaign, Touchpoint, Visitor
from closedloop.workspace.models import ExchangeRate

BASE = datetime(2026, 1, 10, tzinfo=UTC)


def day(n: float) -> datetime:
    return BASE + timedelta(days=n)


@pytest.fixture
def seeded(store):
    """A converts after four touches (one anonymous); B's MQL is voided; C and a lead-less deal: none."""
    with store.session_factory.begin() as s:
        s.add_all(
            [
                ExchangeRate(currency="USD", rate_date=date(2026, 1, 1), rate_to_reporting=Decimal("30")),
                ExchangeRate(currency="USD", rate_date=date(2026, 2, 1), rate_to_reporting=Decimal("32")),
                ExchangeRate(currency="USD", rate_date=date(2026, 3, 1), rate_to_reporting=Decimal("99")),
            ]
        )
        news = Campaign(name="Newsletter", normalised_name="newsletter")
        a, b, c = Lead(email="a@x.tw"), Lead(email="b@x.tw"), Lead(email="c@x.tw")
        s.add_all([news, a, b, c])
        s.flush()
        visitor = Visitor(visitor_key="v-a", lead_id=a.id)
        s.add(visitor)
        s.flush()
        s.add_all(
            [
                Touchpoint(
                    visitor_id=visitor.id, occurred_at=day(-3), type="page_view", channel="Organic Search"
                ),
                Touchpoint(lead_id=a.id, occurred_at=day(-400), type="ad_click", channel="Display"),
                Touchpoint(
                    lead_id=a.id, occurred_at=day(0), type="email_click", channel="Email", campaign_id=news.id
                ),
                Touchpoint(
                    lead_id=a.id,
                    occurred_at=day(5),
                    type="ad_click",
                    channel="Paid Search",
                    utm_source="google",
                ),
                Touchpoint(lead_id=a.id, occurred_at=day(20), type="page_view", channel="Direct"),
                Touchpoint(lead_id=a.id, occurred_at=day(40), type="page_view", channel="Referral"),
                Touchpoint(lead_id=b.id, occurred_at=day(2), type="ad_click", channel="Paid Search"),
            ]
        )
        for lead, stage, at in [
            (a, "lead", 1),
            (a, "mql", 6),
            (a, "sql", 8),
            (a, "opportunity", 10),
            (a, "customer", 30),
            (b, "lead", 2),
            (c, "lead", 1),
            (c, "opportunity", 12),
            (c, "customer", 15),
        ]:
            s.add(LifecycleEvent(lead_id=lead.id, to_stage=stage, occurred_at=day(at)))
        mql_b = LifecycleEvent(lead_id=b.id, to_stage="mql", occurred_at=day(3))
        s.add(mql_b)
        s.flush()
        s.add(
            LifecycleEvent(
                lead_id=b.id, to_stage="lead", occurred_at=day(4), voids_id=mql_b.id, source="correction"
            )
        )
        s.add_all(
            [
                Deal(
                    lead_id=a.id,
                    name="A",
                    stage="won",
                    status="won",
                    amount_minor=100000,
                    currency="USD",
                    closed_at=day(30),
                ),
                Deal(
                    lead_id=c.id,
                    name="C",
                    stage="won",
                    status="won",
                    amount_minor=50000,
                    currency="TWD",
                    closed_at=day(15),
                ),
                Deal(
                    name="no lead",
                    stage="won",
                    status="won",
                    amount_minor=20000,
                    currency="TWD",
                    closed_at=day(16),
                ),
                Deal(
                    lead_id=b.id,
                    name="B open",
                    stage="proposal",
                    status="open",
                    amount_minor=999,
                    currency="TWD",
                ),
            ]
        )
    yield store
    engine.close(store.url)


def test_won_first_and_last_touch(seeded):
    journeys = build_journeys(seeded.url, conversion="won")
    # deals A (USD 1,000.00 at the 2026-02-01 rate 32), C and the lead-less deal; lead B did not convert
    assert journeys.count == 4
    assert journeys.conversions.sum() == 3
    assert journeys.values.sum() == pytest.approx(32000 + 500 + 200)
    first = attribute(journeys, "first_touch").as_dict()
    assert first["Organic Search"] == pytest.approx((1, 32000))
    assert first["(none)"] == pytest.approx((2, 700))
    assert first["Paid Search"] == pytest.approx((0, 0))  # lead B's touch never converted
    last = attribute(journeys, "last_touch").as_dict()
    assert last["Direct"] == pytest.approx((1, 32000))  # Referral came after the win
    assert "Display" not in last  # 400 days before: outside the 365-day lookback


def test_won_w_shaped_and_time_decay(seeded):
    journeys = build_journeys(seeded.url, conversion="won")
    w = attribute(journeys, "w_shaped").as_dict()
    # first touch Organic (-3), lead-creation touch Email (0 <= day 1),
    # opportunity-creation touch Paid Search (5 <= day 10), the rest Direct
    assert w["Organic Search"][1] == pytest.approx(0.3 * 32000)
    assert w["Email"][1] == pytest.approx(0.3 * 32000)
    assert w["Paid Search"][1] == pytest.approx(0.3 * 32000)
    assert w["Direct"][1] == pytest.approx(0.1 * 32000)
    td = attribute(journeys, "time_decay", half_life_days=7).as_dict()
    raw = {
        "Organic Search": 2 ** (-33 / 7),
        "Email": 2 ** (-30 / 7),
        "Paid Search": 2 ** (-25 / 7),
        "Direct": 2 ** (-10 / 7),
    }
    total = sum(raw.values())
    for key, weight in raw.items():
        assert td[key][0] == pytest.approx(weight / total)


def test_mql_uses_waterfall_and_ignores_voided_events(seeded):
    journeys = build_journeys(seeded.url, conversion="mql")
    # A reaches mql on day 6; C reaches it (implied) with the opportunity on day 12; B's mql was voided
    assert journeys.conversions.sum() == 2
    first = attribute(journeys, "first_touch").as_dict()
    assert first["Organic Search"][0] == 1
    assert first["(none)"][0] == 1
    short = attribute(build_journeys(seeded.url, conversion="mql", lookback_days=5), "first_touch").as_dict()
    assert short["Paid Search"][0] == 1  # only day 5 lies within 5 days of day 6


def test_by_campaign_and_utm_source(seeded):
    linear = attribute(
        build_journeys(seeded.url, conversion="opportunity", by="campaign"), "linear"
    ).as_dict()
    # A's opportunity on day 10: Organic (-3), Email (0, Newsletter), Paid Search (5); C's has no touch
    assert linear["Newsletter"][0] == pytest.approx(1 / 3)
    assert linear["(not set)"][0] == pytest.approx(2 / 3)
    assert linear["(none)"][0] == pytest.approx(1)
    by_source = attribute(build_journeys(seeded.url, conversion="opportunity", by="utm_source"), "last_touch")
    assert by_source.as_dict()["google"][0] == 1


def test_missing_exchange_rate_is_an_error(seeded):
    with seeded.session_factory.begin() as s:
        s.add(
            Deal(name="yen", stage="won", status="won", amount_minor=1000, currency="JPY", closed_at=day(20))
        )
    with pytest.raises(ValidationFailed, match="JPY"):
        build_journeys(seeded.url, conversion="won")


def test_cli_on_the_store(seeded, monkeypatch):
    import json

    from click.testing import CliRunner

    from closedloop.cli.main import cli
    from closedloop.config import get_settings

    monkeypatch.setenv("CLOSEDLOOP_DATABASE_URL", seeded.url)
    get_settings.cache_clear()
    try:
        args = [
            "attribution",
            "--model",
            "w_shaped",
            "--conversion",
            "won",
            "--bootstrap",
            "20",
            "--format",
            "json",
        ]
        result = CliRunner().invoke(cli, args, catch_exceptions=False)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["conversion"] == "won"
    assert doc["currency"] == "TWD"
    assert doc["total_conversions"] == 3
    assert doc["total_value"] == pytest.approx(32700)
    credits = {c["key"]: c for c in doc["credits"]}
    assert credits["Direct"]["value"] == pytest.approx(3200)
    assert all(c["low"] <= c["conversions"] <= c["high"] for c in doc["credits"])


def test_api_attribution(seeded):
    import secrets

    from fastapi.testclient import TestClient

    from closedloop.api.deps import get_actor
    from closedloop.config import Settings
    from closedloop.users.actor import Actor
    from closedloop.web.app import create_app

    app = create_app(Settings(database_url=seeded.url, secret_key=secrets.token_urlsafe(40)))
    with TestClient(app) as client:
        assert client.get("/api/v1/analytics/attribution").status_code == 401
        app.dependency_overrides[get_actor] = lambda: Actor(user_id=1, role="viewer", via="api")
        response = client.get(
            "/api/v1/analytics/attribution", params={"model": "last_touch", "conversion": "won"}
        )
        assert response.status_code == 200, response.text
        doc = response.json()
        assert doc["model"] == "last_touch"
        assert doc["currency"] == "TWD"
        assert {c["key"]: c["value"] for c in doc["credits"]}["Direct"] == pytest.approx(32000)
        compared = client.get(
            "/api/v1/analytics/attribution", params={"compare": "true", "conversion": "won"}
        ).json()
        assert "w_shaped" in compared["models"]
        assert client.get("/api/v1/analytics/attribution", params={"order": 9}).status_code == 422


def test_rule_based_models_need_converting_journeys_only(seeded):
    everything = build_journeys(seeded.url, conversion="won")
    converting = build_journeys(seeded.url, conversion="won", converting_only=True)
    assert converting.count == 3 and everything.count == 4  # lead B never converted
    for model in ("first_touch", "last_touch", "linear", "time_decay", "position_based", "w_shaped"):
        few, all_ = attribute(converting, model).as_dict(), attribute(everything, model).as_dict()
        for key, (conversions, value) in all_.items():  # keys only lead B touched get nothing anyway
            assert few.get(key, (0.0, 0.0)) == pytest.approx((conversions, value)), (model, key)
