"""Reverse waterfall planning against a plan worked out by hand.

Basis (first half of 2026, as-of end of 2026 so every cohort is mature): ten leads on Jan 5
(six Email, four Paid Search); five reach MQL ten days later, four of those SQL ten days after,
two of those an opportunity ten days after that. Deals: the two opportunities (one won 1000, one
lost) and a lead-less pair (won 3000, lost), every one closing 30 days after it was created.
Spend: Email 600, Paid Search 800.

Measured: deal size 2000, win rate 2/4, lead->mql 5/10, mql->sql 4/5, sql->opportunity 2/4,
velocities 10 + 10 + 10 days and a 30-day sales cycle (lead time 60 days), CPL Email 100, Paid
Search 200. Target 40,000 over Jul-Sep: 20 won, 40 opportunities, 80 SQLs, 100 MQLs, 200 leads;
Email 60% of the leads (120 x 100 = 12,000), Paid Search 40% (80 x 200 = 16,000).
"""

from __future__ import annotations

import pytest

from closedloop.analytics import plan
from closedloop.errors import ValidationFailed

BASIS = {"basis_from": "2026-01-01", "basis_to": "2026-06-30", "as_of": "2026-12-31"}


@pytest.fixture
def measured(store, data):
    email, search = data.campaign("Spring", channel="Email"), data.campaign("Search", channel="Paid Search")
    data.spend(email, "2026-01-03", 600)
    data.spend(search, "2026-01-03", 800)
    leads = []
    for i in range(10):
        reached = ["lead", "mql", "sql", "opportunity"][: 1 + (i < 5) + (i < 4) + (i < 2)]
        days = ["05", "15", "25"]
        events = [
            (s, f"2026-01-{days[k]} 02:00") if k < 3 else (s, "2026-02-04 02:00")
            for k, s in enumerate(reached)
        ]
        leads.append(data.lead("2026-01-05 02:00", events, first_channel="Email" if i < 6 else "Paid Search"))
    data.deal("2026-02-04 02:00", 1000, status="won", closed="2026-03-06 02:00", lead_id=leads[0])
    data.deal("2026-02-04 02:00", 777, status="lost", closed="2026-03-06 02:00", lead_id=leads[1])
    data.deal("2026-01-01 02:00", 3000, status="won", closed="2026-01-31 02:00")
    data.deal("2026-01-01 02:00", 555, status="lost", closed="2026-01-31 02:00")
    data.session.commit()
    return store


def test_plan_by_hand(measured) -> None:
    got = plan.plan(measured.url, target=40000, date_from="2026-07-01", date_to="2026-09-30", **BASIS)
    assert got["inputs"]["avg_deal_size"]["value"] == 2000.0
    assert got["inputs"]["win_rate"]["value"] == 0.5
    assert [got["inputs"][k]["value"] for k in ("lead->mql", "mql->sql", "sql->opportunity")] == [
        0.5,
        0.8,
        0.5,
    ]
    assert got["lead_time_days"] == pytest.approx(60.0)
    assert got["required"] == pytest.approx(
        {"won": 20, "opportunity": 40, "sql": 80, "mql": 100, "lead": 200}
    )
    july, _august, september = got["per_month"]
    assert (july["month"], july["leads_by"]) == ("2026-07", "2026-05-02")
    assert july["revenue"] == pytest.approx(40000 * 31 / 92)
    assert september["lead"] == pytest.approx(200 * 30 / 92)
    assert sum(m["lead"] for m in got["per_month"]) == pytest.approx(200)
    channels = {c["channel"]: c for c in got["channels"]}
    assert channels["Email"]["leads"] == pytest.approx(120) and channels["Email"]["cpl"] == 100.0
    assert channels["Email"]["budget"] == pytest.approx(12000)
    assert channels["Paid Search"]["budget"] == pytest.approx(16000)
    assert got["budget"] == pytest.approx(28000)
    assert got["currency"] == "TWD"
    # The same quarter named in the fiscal calendar (fiscal year from January: FY2026-Q3).
    fiscal = plan.plan(measured.url, target=40000, date_from="FY2026-Q3", date_to="FY2026-Q3", **BASIS)
    assert fiscal == got


def test_plan_refuses_what_it_cannot_measure(measured) -> None:
    with pytest.raises(ValidationFailed, match="avg_deal_size"):
        plan.plan(measured.url, target=1000, date_from="2026-07-01", date_to="2026-07-31",
                  basis_from="2025-01-01", basis_to="2025-06-30", as_of="2026-12-31")  # fmt: skip
    with pytest.raises(ValidationFailed):
        plan.plan(measured.url, target=0, date_from="2026-07-01", date_to="2026-07-31", **BASIS)


def test_plan_over_cli_and_http(measured, monkeypatch, capsys) -> None:
    import json
    import secrets

    from fastapi.testclient import TestClient

    from closedloop.cli.main import main
    from closedloop.config import Settings, get_settings
    from closedloop.users import service
    from closedloop.users.actor import system_actor
    from closedloop.web.app import create_app

    monkeypatch.setenv("CLOSEDLOOP_DATABASE_URL", measured.url)
    get_settings.cache_clear()
    capsys.readouterr()
    args = ["plan", "--target", "40000", "--from", "2026-07-01", "--to", "2026-09-30", "--basis-from", "2026-01-01",
            "--basis-to", "2026-06-30", "--as-of", "2026-12-31"]  # fmt: skip
    try:
        for fmt in ("json", "table"):
            try:
                main([*args, "--format", fmt])
            except SystemExit as exc:
                assert not exc.code, capsys.readouterr().err
            out = capsys.readouterr().out
            if fmt == "json":
                assert json.loads(out)["budget"] == pytest.approx(28000)
            else:
                assert "28,000.00" in out and "2026-05-02" in out
    finally:
        get_settings.cache_clear()

    with measured.session_factory.begin() as session:
        user = service.create_user(session=session, actor=system_actor("cli"), email="viewer@corp.example",
                                   role="viewer", password=None)  # fmt: skip
        key = service.create_api_key(session=session, actor=system_actor("cli"), user=user)[1]
    app = create_app(Settings(database_url=measured.url, secret_key=secrets.token_urlsafe(40)))
    params = {"target": 40000, "from": "2026-07-01", "to": "2026-09-30", **BASIS}
    with TestClient(app) as client:
        assert client.get("/api/v1/analytics/plan", params=params).status_code == 401
        got = client.get("/api/v1/analytics/plan", params=params, headers={"Authorization": f"Bearer {key}"})
        assert got.status_code == 200, got.text
        assert got.json()["required"]["lead"] == pytest.approx(200)
        bad = client.get("/api/v1/analytics/plan", params={**params, "target": -5},
                         headers={"Authorization": f"Bearer {key}"})  # fmt: skip
        assert bad.status_code == 422
