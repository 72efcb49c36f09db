"""Setup shared by the settings page tests: a small demo store, signed-in clients per role."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date

from fastapi.testclient import TestClient
from tests.integration.web.pages_world import DEMO_EMAILS, DEMO_PASSWORD

from closedloop.config import Settings
from closedloop.demo.service import load_demo
from closedloop.web.app import create_app

ROLES = ("admin", "manager", "marketing", "sales", "viewer")
XSS = "<script>alert(1)</script>"


@dataclass
class World:
    app: object
    store: object


def make_world(store: object, leads: int = 150) -> World:
    load_demo(engine=store.engine, leads=leads, seed=3, anchor=date.today())
    return World(create_app(Settings(database_url=store.url, secret_key=secrets.token_urlsafe(48))), store)


def signed_in(
    world: World, role: str, email: str | None = None, password: str = DEMO_PASSWORD
) -> tuple[TestClient, str]:
    """A client with a live session, and the session's CSRF token."""
    client = TestClient(world.app)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    response = client.post("/login", data={"email": email or DEMO_EMAILS[role], "password": password,
                                           "csrf_token": token, "next": "/"}, follow_redirects=False)  # fmt: skip
    assert response.status_code == 303, response.text[:300]
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/preferences").text).group(1)
    return client, csrf


def no_raw_script(html: str) -> bool:
    """Every <script> tag is the page's own (a static file or a JSON block): nothing came through unescaped."""
    tags = re.findall(r"<script\b[^>]*>", html)
    return all('type="application/json"' in s or 'src="/static/' in s for s in tags)
