"""`GET /metrics` (who may scrape it, what it counts) and the JSON request log, on both stores."""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from closedloop.capture import service as capture_service
from closedloop.capture.settings import CaptureSettings
from closedloop.config import Settings
from closedloop.db import unit_of_work
from closedloop.errors import ConfigurationError
from closedloop.observability.logs import JsonFormatter
from closedloop.outbox.models import OutboxMessage
from closedloop.users import service as users
from closedloop.users.actor import system_actor
from closedloop.web.app import create_app

ORIGIN = "https://www.acme.test"
SCRAPE_TOKEN = "scrape-" + secrets.token_urlsafe(32)


@pytest.fixture
def world(store, tmp_path) -> Iterator[dict[str, Any]]:
    keys = {}
    with unit_of_work(store.session_factory) as session:
        for role in ("admin", "manager"):
            user = users.create_user(
                session=session,
                actor=system_actor(),
                email=f"{role}@metrics-example.com",
                role=role,
                password=None,
            )
            keys[role] = users.create_api_key(session=session, actor=system_actor(), user=user)[1]
        site_key = capture_service.create_site(session=session, name="Acme", origins=[ORIGIN]).public_key
        now = datetime.now(UTC)
        for i, status in enumerate(("pending", "pending", "dead", "delivered")):
            session.add(
                OutboxMessage(topic="t", payload={}, idempotency_key=f"m{i}", status=status, created_at=now)
            )
    settings = Settings(
        database_url=store.url, secret_key=secrets.token_urlsafe(40), metrics_token=SCRAPE_TOKEN
    )
    app = create_app(settings)
    app.state.capture_settings = CaptureSettings(limits_dir=str(tmp_path), ip_burst=1000, key_burst=1000)
    with TestClient(app) as client:
        yield {"client": client, "keys": keys, "site": site_key}


def scrape(client: TestClient, token: str = SCRAPE_TOKEN) -> dict[str, float]:
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    values = {}
    for line in answer.text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


def test_metrics_need_an_admin_key_or_the_scrape_token(world) -> None:
    client, keys = world["client"], world["keys"]
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Bearer {keys['manager']}"}).status_code == 403
    assert client.get("/metrics", headers={"Authorization": f"Bearer {keys['admin']}"}).status_code == 200
    assert client.get("/metrics", headers={"Authorization": f"Bearer {SCRAPE_TOKEN}"}).status_code == 200


def test_weak_scrape_token_is_refused(store) -> None:
    with pytest.raises(ConfigurationError):
        create_app(
            Settings(database_url=store.url, secret_key=secrets.token_urlsafe(40), metrics_token="changeme")
        )


def test_requests_capture_and_outbox_are_counted(world) -> None:
    client = world["client"]
    route = 'closedloop_http_requests_total{method="GET",route="/healthz",status="200"}'
    missing = 'closedloop_http_requests_total{method="GET",route="/api/v1/leads/{lead_id}",status="401"}'
    accepted = 'closedloop_capture_events_total{outcome="accepted"}'
    duplicate = 'closedloop_capture_events_total{outcome="duplicate"}'
    before = scrape(client)
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    assert client.get("/api/v1/leads/12345").status_code == 401  # labelled by template, not by id
    body = json.dumps({"vid": "visitor-metrics1", "events": [{"id": "a"}, {"id": "b"}, {"id": "c"}]})
    headers = {"Origin": ORIGIN, "Content-Type": "text/plain;charset=UTF-8"}
    for _ in range(2):  # the second time all three are duplicates
        assert client.post(f"/t/events?k={world['site']}", content=body, headers=headers).status_code == 200
    after = scrape(client)
    assert after[route] - before.get(route, 0) == 3
    assert after[missing] - before.get(missing, 0) == 1
    assert after[accepted] - before.get(accepted, 0) == 3
    assert after[duplicate] - before.get(duplicate, 0) == 3
    latency = 'closedloop_http_request_duration_seconds_count{method="GET",route="/healthz"}'
    assert after[latency] - before.get(latency, 0) == 3
    assert after['closedloop_outbox_messages{status="pending"}'] == 2
    assert after['closedloop_outbox_messages{status="dead"}'] == 1
    assert after['closedloop_outbox_messages{status="delivered"}'] == 1
    assert after["closedloop_store_up"] == 1
    assert not any("12345" in name for name in after)


def test_request_log_is_json_with_request_id_and_no_personal_data(world, caplog) -> None:
    client = world["client"]
    with caplog.at_level(logging.INFO, logger="closedloop.request"):
        answer = client.get(
            "/api/v1/leads/777?email=jane.doe@example.com",
            headers={"X-Request-ID": "req-abc12345", "Cookie": "cl_session=secret-cookie"},
        )
        other = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert answer.headers["x-request-id"] == "req-abc12345"
    generated = other.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    lines = [JsonFormatter().format(r) for r in caplog.records if r.name == "closedloop.request"]
    first, second = (json.loads(line) for line in lines[-2:])
    assert {k: first[k] for k in ("msg", "request_id", "method", "route", "status")} == {
        "msg": "request",
        "request_id": "req-abc12345",
        "method": "GET",
        "route": "/api/v1/leads/{lead_id}",
        "status": 401,
    }
    assert first["duration_ms"] >= 0 and first["level"] == "INFO" and first["ts"].endswith("+00:00")
    assert second["request_id"] == generated and second["route"] == "/healthz"
    joined = "\n".join(lines)
    for secret in ("jane.doe", "777", "secret-cookie", "testclient", "127.0.0.1"):
        assert secret not in joined


def test_several_server_processes_are_refused_on_sqlite(sqlite_store, monkeypatch, capsys) -> None:
    from closedloop.cli.main import main
    from closedloop.config import get_settings

    monkeypatch.setenv("CLOSEDLOOP_DATABASE_URL", sqlite_store.url)
    monkeypatch.setenv("CLOSEDLOOP_SECRET_KEY", secrets.token_urlsafe(40))
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as stopped:
            main(["serve", "--workers", "2"])
        assert stopped.value.code == 1
        assert "PostgreSQL" in capsys.readouterr().err
    finally:
        get_settings.cache_clear()
