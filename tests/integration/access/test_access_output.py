"""Safe output: HTML escapes strangers' text, JSON returns it as data, CSV neutralises formulas."""

from __future__ import annotations

import csv
import html
import io
from datetime import UTC, datetime

from closedloop.db import unit_of_work
from closedloop.leads.models import Lead
from closedloop.marketing.models import Touchpoint

XSS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "';alert(String.fromCharCode(88,83,83))//",
    "<svg/onload=alert('xss')>",
    "javascript:alert(1)",
]
FORMULAS = ["=1+2", "+SUM(A1:A2)", "-2+3", "@cmd", "\t=evil", "\r=evil", '=HYPERLINK("http://x","y")']


def _auth(bare, login) -> dict[str, str]:
    login(bare.client, bare.admin_email, bare.admin_password)
    return {"X-CSRF-Token": bare.client.get("/api/v1/session").json()["csrf_token"]}


def test_xss_payloads_are_escaped_in_pages_and_returned_as_data_in_json(bare, login) -> None:
    """Sign-in page (email, next, the user's name) escapes every payload; the API hands them back verbatim."""
    client = bare.client
    for payload in XSS:
        markup = bool(set(payload) & set("<>\"'"))  # text without markup characters is harmless as is
        page = client.get("/login", params={"next": "/" + payload})
        assert "/" + payload in html.unescape(page.text) and (payload not in page.text or not markup)
    for payload in XSS[:2]:  # each sign-in costs an argon2 verification: two payloads cover the field
        failed = login(client, payload, "wrong-password-x")
        assert failed.status_code == 401
        assert payload in html.unescape(failed.text) and payload not in failed.text
    headers = _auth(bare, login)
    user = client.post(
        "/api/v1/users",
        json={"email": "x@corp.example", "role": "marketing", "name": XSS[0], "password": "x-password-long"},
        headers=headers,
    ).json()
    assert user["name"] == XSS[0]
    other = type(client)(client.app)
    assert login(other, "x@corp.example", "x-password-long").status_code == 303
    signed_in = other.get("/login").text
    assert XSS[0] not in signed_in and XSS[0] in html.unescape(signed_in)

    for i, payload in enumerate(XSS):
        lead = client.post(
            "/api/v1/leads",
            json={"email": f"p{i}@lead.example", "name": payload, "title": payload, "tags": [payload]},
            headers=headers,
        )
        assert lead.status_code == 201 and lead.headers["content-type"].startswith("application/json")
        assert lead.json()["name"] == payload and lead.json()["tags"] == [payload]
        touch = client.post(
            "/api/v1/touchpoints",
            json={
                "occurred_at": "2026-03-01T10:00:00Z",
                "type": "ad_click",
                "lead_id": lead.json()["id"],
                "utm_source": payload,
                "utm_medium": payload,
                "utm_campaign": payload,
                "utm_content": payload,
                "utm_term": payload,
                "landing_page": payload,
                "referrer": payload,
            },
            headers=headers,
        )
        assert touch.status_code == 201
        back = client.get(f"/api/v1/touchpoints/{touch.json()['id']}").json()
        assert {back[f] for f in ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")} == {
            payload
        }


def test_csv_export_neutralises_formulas_and_is_audited(bare, login, store) -> None:
    """Every formula-looking cell gets a leading quote; the file starts with a BOM; the export is audited."""
    with unit_of_work(store.session_factory) as session:
        for i, formula in enumerate(FORMULAS):
            session.add(Lead(email=f"f{i}@lead.example", name=formula, title="王小明", industry=formula))
        session.flush()
        session.add(Touchpoint(occurred_at=datetime.now(UTC), type="page_view", utm_source="=cmd"))
    _auth(bare, login)
    response = bare.client.get("/api/v1/leads/export.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert len(rows) == len(FORMULAS)
    assert sorted(r["name"] for r in rows) == sorted("'" + f for f in FORMULAS)
    assert sorted(r["industry"] for r in rows) == sorted("'" + f for f in FORMULAS)
    assert {r["title"] for r in rows} == {"王小明"}
    trail = bare.client.get("/api/v1/audit", params={"action": "leads.exported"}).json()["items"]
    assert len(trail) == 1 and trail[0]["after"]["rows"] == len(FORMULAS)


def test_security_headers_on_pages_api_and_errors(bare) -> None:
    """CSP without inline script, no framing, no sniffing, a referrer policy: on HTML, JSON and 404s."""
    for path, status in (("/login", 200), ("/api/v1/leads", 401), ("/healthz", 200), ("/no-such-page", 404)):
        response = bare.client.get(path)
        assert response.status_code == status
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    page = bare.client.get("/login").text
    assert "<script" not in page and " style=" not in page and "onclick" not in page
