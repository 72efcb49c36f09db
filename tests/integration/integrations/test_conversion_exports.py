"""Conversions sent back to the ad platforms, on a hand-built history (SQLite and PostgreSQL).

Times are UTC; the reporting time zone is Asia/Taipei (+08:00). Lead A clicked a Google ad
(gclid Cj0KCQ-abc_123, 03-01) and a Meta ad (fbclid, 03-02 01:00), became an SQL on 03-03, clicked
another Google ad (EAIaIQ-new_456, 03-04), became an opportunity on 03-05 with a 120,000.50 TWD deal,
won on 03-10. Lead B (no valid click id: its "gclid" is a formula) became an SQL on 03-06. Lead C's
SQL was voided. Lead D's only Google click is from 2025-11-01, more than 90 days before its 03-08
SQL. Lead E became an SQL at 00:30 on 1 April in Taipei, outside March.

Hashes below were computed with `sha256sum` on the normalised strings, not by the code under test.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import secrets
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from closedloop.audit.models import AuditLog
from closedloop.config import Settings
from closedloop.deals.models import Deal
from closedloop.errors import Forbidden
from closedloop.integrations import conversions
from closedloop.leads.models import Lead, LifecycleEvent
from closedloop.marketing.models import Touchpoint
from closedloop.users import service as users
from closedloop.users.actor import system_actor
from closedloop.web.app import create_app

ACTOR = system_actor("cli")
MARCH = {"date_from": date(2026, 3, 1), "date_to": date(2026, 3, 31)}
NOW = datetime(2026, 3, 13, 0, 0, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def world(store):
    session = store.session()
    ids = {}

    def lead(key: str, events: list[tuple[str, str]], clicks: list[tuple[str, str, str]], **cols) -> int:
        row = Lead(created_at=at("2026-02-01T00:00:00"), recorded_at=at("2026-02-01T00:00:00"), **cols)
        session.add(row)
        session.flush()
        for stage, when in events:
            session.add(
                LifecycleEvent(lead_id=row.id, to_stage=stage, occurred_at=at(when), recorded_at=at(when))
            )
        for column, value, when in clicks:
            session.add(Touchpoint(lead_id=row.id, occurred_at=at(when), type="page_view", channel="Paid Search",
                                   **{column: value}))  # fmt: skip
        session.flush()
        ids[key] = row.id
        return row.id

    a = lead("A", [("mql", "2026-03-02T05:00:00"), ("sql", "2026-03-03T04:00:00"), ("opportunity", "2026-03-05T04:00:00"),
                   ("customer", "2026-03-10T04:00:00")],
             [("gclid", "Cj0KCQ-abc_123", "2026-03-01T02:00:00"), ("fbclid", "IwAR2xyz_fb", "2026-03-02T01:00:00"),
              ("gclid", "EAIaIQ-new_456", "2026-03-04T02:00:00")],
             email=" Buyer@Example.COM ", phone="+886912345678", first_name="Mei", last_name=" Lin",
             country="TW", external_id="crm-1")  # fmt: skip
    session.add(Deal(lead_id=a, name="ACME", stage="won", status="won", amount_minor=12_000_050, currency="TWD",
                     created_at=at("2026-03-05T04:00:00"), closed_at=at("2026-03-10T04:00:00")))  # fmt: skip
    lead("B", [("sql", "2026-03-06T04:00:00")], [("gclid", '=HYPERLINK("http://x")', "2026-03-05T00:00:00")],
         email="b@example.com")  # fmt: skip
    c = lead("C", [("sql", "2026-03-07T04:00:00")], [("gclid", "Cj0CCC-voided_1", "2026-03-06T00:00:00")],
             external_id="crm-3")  # fmt: skip
    voided = session.scalar(select(LifecycleEvent.id).where(LifecycleEvent.lead_id == c))
    session.add(LifecycleEvent(lead_id=c, from_stage="sql", to_stage="lead", occurred_at=at("2026-03-07T06:00:00"),
                               recorded_at=at("2026-03-07T06:00:00"), source="correction", voids_id=voided))  # fmt: skip
    lead("D", [("sql", "2026-03-08T04:00:00")], [("gclid", "Cj0DDD-old_click", "2025-11-01T00:00:00")],
         external_id="crm-4")  # fmt: skip
    lead("E", [("sql", "2026-03-31T16:30:00")], [("gclid", "Cj0EEE-april_1", "2026-03-30T00:00:00")],
         external_id="crm-5")  # fmt: skip
    session.commit()
    yield store, session, ids
    session.close()


def test_google_ads_offline_conversion_file(world) -> None:
    _, session, _ = world
    result = conversions.export(session, actor=ACTOR, platform="google_ads", **MARCH, clock=lambda: NOW)
    lines = result.content.split("\r\n")
    assert lines[0] == "Parameters:TimeZone=Asia/Taipei"
    rows = list(csv.reader(io.StringIO("\r\n".join(lines[1:]))))
    assert rows == [
        [
            "Google Click ID",
            "GBRAID",
            "WBRAID",
            "Conversion Name",
            "Conversion Time",
            "Conversion Value",
            "Conversion Currency",
        ],
        ["Cj0KCQ-abc_123", "", "", "closedloop SQL", "2026-03-03 12:00:00", "", ""],
        ["EAIaIQ-new_456", "", "", "closedloop opportunity", "2026-03-05 12:00:00", "120000.50", "TWD"],
        ["EAIaIQ-new_456", "", "", "closedloop won deal", "2026-03-10 12:00:00", "120000.50", "TWD"],
    ]
    assert result.skipped == {"no_click_id": 1, "click_too_old": 1}  # B's formula, D's November click
    assert result.exported == 3
    assert "HYPERLINK" not in result.content
    only_won = conversions.export(session, actor=ACTOR, platform="google_ads", kinds=("won",), **MARCH)
    assert only_won.content.count("\r\n") == 3  # parameters, header, one row
    session.commit()
    audit = session.scalars(select(AuditLog).where(AuditLog.action == "conversions.exported")).all()
    assert len(audit) == 2 and audit[0].after["exported"] == 3


def test_google_ads_file_carries_gbraid_and_wbraid(world) -> None:
    """iOS clicks: lead F has only a gbraid (app campaign); lead G clicked a gclid, then a wbraid (web),
    then became an SQL: its latest click is the wbraid. Lead H's wbraid is from 2025-11-01, too old.
    Each row fills exactly one of the three click-id columns."""
    _, session, _ = world
    rows = {}
    for key, when, clicks in (
        ("F", "2026-03-20T04:00:00", [("gbraid", "0AAAAAo-gbraid_F1", "2026-03-19T01:00:00")]),
        ("G", "2026-03-21T04:00:00", [("gclid", "Cj0GGG-first_click", "2026-03-18T00:00:00"),
                                      ("wbraid", "1t6-wbraid_G2", "2026-03-20T23:00:00")]),
        ("H", "2026-03-22T04:00:00", [("wbraid", "1t6-wbraid_old", "2025-11-01T00:00:00")]),
    ):  # fmt: skip
        lead = Lead(email=f"{key.lower()}@example.com", created_at=at("2026-02-01T00:00:00"),
                    recorded_at=at("2026-02-01T00:00:00"))  # fmt: skip
        session.add(lead)
        session.flush()
        session.add(
            LifecycleEvent(lead_id=lead.id, to_stage="sql", occurred_at=at(when), recorded_at=at(when))
        )
        for column, value, clicked in clicks:
            session.add(
                Touchpoint(lead_id=lead.id, occurred_at=at(clicked), type="ad_click", **{column: value})
            )
        rows[key] = lead.id
    session.commit()
    result = conversions.export(session, actor=ACTOR, platform="google_ads", kinds=("sql",),
                                date_from=date(2026, 3, 19), date_to=date(2026, 3, 31), clock=lambda: NOW)  # fmt: skip
    lines = result.content.split("\r\n")
    assert list(csv.reader(io.StringIO("\r\n".join(lines[2:])))) == [
        ["", "0AAAAAo-gbraid_F1", "", "closedloop SQL", "2026-03-20 12:00:00", "", ""],
        ["", "", "1t6-wbraid_G2", "closedloop SQL", "2026-03-21 12:00:00", "", ""],
        # E's SQL at 00:30 on 1 April in Taipei is outside the period.
    ]
    assert result.skipped == {"no_click_id": 0, "click_too_old": 1}  # H


def test_meta_conversions_api_dry_run(world) -> None:
    _, session, ids = world
    result = conversions.export(session, actor=ACTOR, platform="meta", pixel_id="1234567890", **MARCH,
                                test_event_code="TEST123", clock=lambda: NOW)  # fmt: skip
    (request,) = result.requests
    assert request["method"] == "POST"
    assert request["url"] == "https://graph.facebook.com/v21.0/1234567890/events?access_token=<ACCESS_TOKEN>"
    assert request["headers"] == {"Content-Type": "application/json"}
    body = request["body"]
    assert body["test_event_code"] == "TEST123"
    # A's SQL (03-03) and opportunity (03-05 04:00) are more than 7 days before 03-13: Meta would refuse them.
    assert result.skipped == {"too_old": 2, "in_future": 0}
    b, d, won = body["data"]
    assert (b["event_name"], b["event_time"], b["event_id"]) == (
        "QualifiedLead",
        1772769600,
        f"closedloop-sql-{ids['B']}",
    )
    assert b["action_source"] == "system_generated"
    assert b["user_data"] == {
        "em": ["e8f39b3e1382367d6d41ab34dc270d4e7533f978c9e9a775dfe2185b2f96b96c"],
        "external_id": [hashlib.sha256(f"closedloop-lead-{ids['B']}".encode()).hexdigest()],
    }
    assert b["custom_data"] == {"event_source": "crm", "lead_event_source": "closedloop", "stage": "sql"}
    assert d["event_time"] == 1772942400 and "fbc" not in d["user_data"]
    assert (won["event_name"], won["event_time"]) == ("Purchase", 1773115200)
    assert won["user_data"] == {
        "em": ["6a6c26195c3682faa816966af789717c3bfa834eee6c599d667d2b3429c27cfd"],
        "ph": ["cf676475cec2ee7b7591f39bdefe7ef3dca63b14c1cdba3b19ce4219cbda2b09"],
        "fn": ["7717a57ec3d7fb939eff71741ceca0a01808b7b6ea01edb40b9b7facf5a061cf"],
        "ln": ["2f48b881ea7073f1c6f083b296a360bd4c9cf51edaacba1cd9c34d8ae3d994ec"],
        "country": ["b6399cc26f4d76baacf93830240ae1a8b0b54060eda1e760d9e3a86d4d3cb618"],
        "external_id": ["e6e2fbbf94b3a5d60fd8c1643eb28a3246969f400a6a91f70660fd4e6252f4ed"],
        "fbc": "fb.1.1772413200000.IwAR2xyz_fb",
    }
    assert won["custom_data"]["value"] == 120000.5 and won["custom_data"]["currency"] == "TWD"
    assert json.loads(result.content)["requests"] == result.requests
    assert "Buyer@Example" not in result.content and "+886912345678" not in result.content


def test_roles_and_the_api(world) -> None:
    store, session, _ = world
    keys = {}
    for role in ("marketing", "sales", "viewer"):
        user = users.create_user(
            session=session, actor=ACTOR, email=f"{role}@corp.example", role=role, password=None
        )
        keys[role] = {
            "Authorization": f"Bearer {users.create_api_key(session=session, actor=ACTOR, user=user)[1]}"
        }
        if role == "sales":
            with pytest.raises(Forbidden):
                conversions.conversions(session, actor=users.actor_for(user, via="api"), **MARCH)
    session.commit()
    app = create_app(Settings(database_url=store.url, secret_key=secrets.token_urlsafe(40)))
    app.state.clock = lambda: NOW
    client = TestClient(app)
    params = {"from": "2026-03-01", "to": "2026-03-31"}
    google = client.get(
        "/api/v1/integrations/conversions/google_ads", params=params, headers=keys["marketing"]
    )
    assert google.status_code == 200, google.text
    assert google.headers["content-type"].startswith("text/csv")
    assert google.text.splitlines()[2] == "Cj0KCQ-abc_123,,,closedloop SQL,2026-03-03 12:00:00,,"
    meta = client.get("/api/v1/integrations/conversions/meta", headers=keys["marketing"],
                      params={**params, "pixel_id": "1234567890", "kind": "won"})  # fmt: skip
    assert meta.status_code == 200
    ((request,),) = [meta.json()["requests"]]
    deal_id = session.scalar(select(Deal.id))
    assert [e["event_id"] for e in request["body"]["data"]] == [f"closedloop-won-{deal_id}"]
    assert meta.json()["skipped"] == {"too_old": 0, "in_future": 0}
    assert (
        client.get(
            "/api/v1/integrations/conversions/meta", params=params, headers=keys["marketing"]
        ).status_code
        == 422
    )
    for role in ("sales", "viewer"):
        assert client.get("/api/v1/integrations/conversions/google_ads", params=params,
                          headers=keys[role]).status_code == 403  # fmt: skip
    assert client.get("/api/v1/integrations/conversions/google_ads", params=params).status_code == 401


def _run(main, args: list[str]) -> int:
    try:
        main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_cli_writes_the_files(world, monkeypatch, tmp_path) -> None:
    from closedloop.cli.main import main
    from closedloop.config import get_settings

    store, _, _ = world
    monkeypatch.setenv("CLOSEDLOOP_DATABASE_URL", store.url)
    monkeypatch.setenv("CLOSEDLOOP_SECRET_KEY", secrets.token_urlsafe(40))
    get_settings.cache_clear()
    try:
        out = tmp_path / "google.csv"
        args = ["integration", "conversions", "google_ads", "--from", "2026-03-01", "--to", "2026-03-31"]
        assert _run(main, [*args, "--kind", "sql", "--out", str(out)]) == 0
        assert out.read_text(encoding="utf-8").splitlines()[2:] == [
            "Cj0KCQ-abc_123,,,closedloop SQL,2026-03-03 12:00:00,,"
        ]
        meta = ["integration", "conversions", "meta", "--from", "2026-03-01", "--to", "2026-03-31"]
        assert _run(main, [*meta, "--out", str(tmp_path / "meta.json")]) == 1  # no pixel id
        assert _run(main, [*meta, "--pixel-id", "1234567890", "--out", str(tmp_path / "meta.json")]) == 0
        dry_run = json.loads((tmp_path / "meta.json").read_text(encoding="utf-8"))
        sent = sum(len(r["body"]["data"]) for r in dry_run["requests"])
        assert (
            sent + sum(dry_run["skipped"].values()) == 5
        )  # A's three, B's and D's SQL (how many are too old: today)
    finally:
        get_settings.cache_clear()
