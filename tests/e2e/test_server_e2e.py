"""The real server, started as users start it, answered in a real browser."""

from __future__ import annotations

import json

import httpx
from tests.e2e.conftest import ARTIFACTS, closedloop


def test_health_and_openapi_over_http(live_server) -> None:
    health = httpx.get(f"{live_server.url}/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    spec = httpx.get(f"{live_server.url}/openapi.json").json()
    assert spec["info"]["title"] == "closedloop"


def test_health_in_chromium(live_server, page) -> None:
    response = page.goto(f"{live_server.url}/healthz")
    assert response.status == 200
    assert json.loads(page.inner_text("body"))["status"] == "ok"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "healthz.png"))
    assert page.console_errors == []


def test_serve_refuses_to_start_without_a_secret(server_env) -> None:
    env = {k: v for k, v in server_env.items() if k != "CLOSEDLOOP_SECRET_KEY"}
    result = closedloop("serve", "--port", "1", env=env)
    assert result.returncode == 1
    assert "CLOSEDLOOP_SECRET_KEY" in result.stderr


def test_commands_fail_clearly_on_an_uninitialised_store(server_env, tmp_path) -> None:
    env = dict(server_env, CLOSEDLOOP_DATABASE_URL=f"sqlite:///{tmp_path}/empty.db")
    result = closedloop("no-such-command", env=env)
    assert result.returncode == 2 and "No such command" in result.stderr
