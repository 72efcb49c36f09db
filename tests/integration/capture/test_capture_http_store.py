"""The /t/ endpoints through the real app (in process) on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from closedloop.capture import service as capture_service
from closedloop.capture.settings import CaptureSettings
from closedloop.config import Settings
from closedloop.db import unit_of_work
from closedloop.leads.models import Lead
from closedloop.marketing.models import Touchpoint
from closedloop.quarantine.models import QuarantinedRecord
from closedloop.web.app import create_app

ORIGIN = "https://www.acme.test"


@pytest.fixture
def client(store, tmp_path) -> Iterator[tuple[TestClient, str]]:
    with unit_of_work(store.session_factory) as session:
        key = capture_service.create_site(session=session, name="Acme", origins=[ORIGIN]).public_key
    app = create_app(Settings(database_url=store.url, secret_key=secrets.token_urlsafe(40)))
    app.state.capture_settings = CaptureSettings(
        max_body_bytes=4096,
        max_batch=5,
        ip_rate=0.01,
        ip_burst=20,
        key_rate=1000,
        key_burst=1000,
        limits_dir=str(tmp_path),  # the shared buckets of this test's server only
    )
    with TestClient(app) as test_client:
        yield test_client, key


def _count(store, model) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def _post(client: TestClient, key: str, body, origin: str = ORIGIN, ip: str | None = None):
    headers = {"Origin": origin, "Content-Type": "text/plain;charset=UTF-8"}
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(f"/t/events?k={key}", content=data, headers=headers)


def test_events_accepted_for_an_allowed_origin_with_cors_for_it_only(store, client) -> None:
    test_client, key = client
    body = {"vid": "visitor-http1", "events": [{"id": "1"}, {"id": "2", "type": "ad_click"}]}
    first = _post(test_client, key, body)
    assert first.status_code == 200, first.text
    assert first.json() == {"accepted": 2, "duplicates": 0, "quarantined": 0}
    assert first.headers["access-control-allow-origin"] == ORIGIN
    assert (
        "cl_vid=visitor-http1" in first.headers["set-cookie"]
        and "Max-Age=34560000" in first.headers["set-cookie"]
    )
    again = _post(test_client, key, body)
    assert again.json() == {"accepted": 0, "duplicates": 2, "quarantined": 0}
    assert _count(store, Touchpoint) == 2

    refused = _post(
        test_client, key, {"vid": "visitor-http1", "events": [{"id": "3"}]}, origin="https://evil.test"
    )
    assert refused.status_code == 403
    assert "access-control-allow-origin" not in refused.headers
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert _count(store, Touchpoint) == 2
    record = _last_quarantined(store)
    assert record.errors[0]["field"] == "origin" and record.payload["body"]["events"] == [{"id": "3"}]

    preflight = test_client.options(f"/t/events?k={key}", headers={"Origin": ORIGIN})
    assert preflight.headers["access-control-allow-origin"] == ORIGIN
    bad_preflight = test_client.options(f"/t/events?k={key}", headers={"Origin": "https://evil.test"})
    assert "access-control-allow-origin" not in bad_preflight.headers

    unknown = _post(test_client, "pk_nope", {"vid": "visitor-http1", "events": [{"id": "4"}]})
    assert unknown.status_code == 404


def _last_quarantined(store) -> QuarantinedRecord:
    with store.session() as session:
        return session.scalars(select(QuarantinedRecord).order_by(QuarantinedRecord.id.desc()).limit(1)).one()


def test_malformed_batches_name_the_event_and_field_and_land_in_quarantine(store, client) -> None:
    test_client, key = client
    body = {
        "vid": "visitor-http2",
        "events": [{"id": "ok"}, {"id": "bad", "ts": "yesterday"}, {"type": "page_view"}],
    }
    response = _post(test_client, key, body)
    assert response.status_code == 422
    problem = response.json()
    assert {"index": 1, "field": "ts"}.items() <= problem["errors"][0].items()
    assert {"index": 2, "field": "id"}.items() <= problem["errors"][1].items()
    assert "event 1: ts" in problem["detail"] and "event 2: id" in problem["detail"]
    assert (problem["accepted"], problem["quarantined"]) == (1, 2)
    assert _count(store, Touchpoint) == 1
    assert _count(store, QuarantinedRecord) == 2

    not_json = _post(test_client, key, "{not json")
    assert not_json.status_code == 400 and _last_quarantined(store).payload["body"] == "{not json"
    no_events = _post(test_client, key, {"vid": "visitor-http2"})
    assert no_events.status_code == 422 and no_events.json()["errors"][0]["field"] == "events"
    too_many = _post(test_client, key, {"vid": "visitor-http2", "events": [{"id": str(i)} for i in range(6)]})
    assert too_many.status_code == 413 and "at most 5" in too_many.json()["detail"]
    too_big = _post(
        test_client, key, {"vid": "visitor-http2", "events": [{"id": "x", "url": ORIGIN + "/" + "a" * 5000}]}
    )
    assert too_big.status_code == 413 and too_big.headers["access-control-allow-origin"] == ORIGIN
    assert _count(store, QuarantinedRecord) == 6
    assert _count(store, Touchpoint) == 1


def test_rate_limit_per_ip_answers_429_with_retry_after(store, client) -> None:
    test_client, key = client
    statuses = [
        _post(
            test_client, key, {"vid": "visitor-http3", "events": [{"id": f"r{i}-{j}"} for j in range(5)]}
        ).status_code
        for i in range(5)
    ]
    # A burst of 20 events per IP: four batches of five pass, the fifth waits.
    assert statuses == [200, 200, 200, 200, 429]
    limited = _post(test_client, key, {"vid": "visitor-http3", "events": [{"id": "late"}]})
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert _count(store, Touchpoint) == 20


def test_form_post_creates_the_lead_and_redirects_back(store, client) -> None:
    test_client, key = client
    _post(
        test_client,
        key,
        {
            "vid": "visitor-http4",
            "events": [{"id": "v1", "url": ORIGIN + "/?utm_source=google&utm_medium=cpc"}],
        },
    )
    form = {
        "email": "Dana@Example.com",
        "name": "Dana",
        "cl_vid": "visitor-http4",
        "cl_eid": "form-1",
        "cl_redirect": ORIGIN + "/thanks",
    }
    response = test_client.post(
        f"/t/form?k={key}", data=form, headers={"Origin": ORIGIN}, follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"] == ORIGIN + "/thanks"
    again = test_client.post(
        f"/t/form?k={key}", data=form, headers={"Origin": ORIGIN}, follow_redirects=False
    )
    assert again.status_code == 303
    with store.session() as session:
        lead = session.scalars(select(Lead)).one()
        assert (lead.email, lead.first_channel) == ("dana@example.com", "Paid Search")
        assert (
            session.scalar(select(func.count()).select_from(Touchpoint).where(Touchpoint.lead_id == lead.id))
            == 2
        )

    invalid = test_client.post(
        f"/t/form?k={key}",
        json={"email": "not-an-email", "cl_vid": "visitor-http4"},
        headers={"Origin": ORIGIN},
    )
    assert invalid.status_code == 422 and invalid.json()["errors"][0]["field"] == "email"
    assert _last_quarantined(store).kind == "form"
    missing = test_client.post(f"/t/form?k={key}", json={"phone": "0912345678"}, headers={"Origin": ORIGIN})
    assert missing.status_code == 422 and missing.json()["errors"][0] == {
        "index": None,
        "field": "email",
        "reason": "required",
    }

    identify = test_client.post(
        f"/t/identify?k={key}",
        content=json.dumps({"phone": "0912345678", "cl_vid": "visitor-http5"}),
        headers={"Origin": ORIGIN},
    )
    assert identify.status_code == 200 and identify.json() == {"status": "ok"}


def test_snippet_is_served_as_javascript_with_cache_headers(client) -> None:
    test_client, _ = client
    response = test_client.get("/t/closedloop.js")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=3600"
    assert "sendBeacon" in response.text and "cl_first" in response.text
    cached = test_client.get("/t/closedloop.js", headers={"If-None-Match": response.headers["etag"]})
    assert cached.status_code == 304


def test_refused_requests_cannot_flood_the_quarantine(store, client) -> None:
    test_client, key = client
    statuses = [
        _post(
            test_client, key, {"vid": "visitor-http6", "events": [{"id": str(i)}]}, origin="https://evil.test"
        ).status_code
        for i in range(25)
    ]
    # Each refusal spends one of the IP's 20 burst tokens; then 429, and nothing more is stored.
    assert statuses == [403] * 20 + [429] * 5
    assert _count(store, QuarantinedRecord) == 20
