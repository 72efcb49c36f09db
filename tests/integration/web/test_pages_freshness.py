"""The pages say how fresh their numbers are when a bounded-staleness snapshot answered them."""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.integration.web.pages_world import DEMO_EMAILS, DEMO_PASSWORD

from closedloop.analytics import engine, snapshot
from closedloop.config import Settings, get_settings
from closedloop.db import unit_of_work
from closedloop.demo.service import load_demo
from closedloop.i18n import translate
from closedloop.leads.models import Lead
from closedloop.web.app import create_app
from closedloop.workspace.models import WorkspaceSettings

T0 = datetime(2026, 12, 5, 1, 23, tzinfo=UTC)
LINE = re.compile(r'<p class="hint data-as-of"[^>]*>([^<]*)</p>')


@pytest.fixture
def app(store) -> Iterator[object]:
    load_demo(engine=store.engine, leads=120, seed=5, anchor=date.today())
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CLOSEDLOOP_ANALYTICS_MAX_STALENESS", "600")
        get_settings.cache_clear()
        yield create_app(Settings(database_url=store.url, secret_key=secrets.token_urlsafe(48)))
    get_settings.cache_clear()
    engine.close(store.url)


def signed_in(app: object, role: str) -> TestClient:
    client = TestClient(app)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    response = client.post("/login", data={"email": DEMO_EMAILS[role], "password": DEMO_PASSWORD,
                                           "csrf_token": token, "next": "/"}, follow_redirects=False)  # fmt: skip
    assert response.status_code == 303
    return client


def test_numbers_from_an_older_snapshot_say_as_of_when(store, app, monkeypatch) -> None:
    now = [T0]
    monkeypatch.setattr(snapshot, "clock", lambda: now[0])
    client = signed_in(app, "manager")
    with store.session_factory() as session:
        zone = session.scalar(select(WorkspaceSettings.reporting_time_zone)) or "Asia/Taipei"
    snapshot.rebuild(store.url)  # copied at T0
    gate = threading.Event()
    copy = snapshot._copy

    def held_copy(connection, generation):  # the next copy waits: the T0 snapshot stays the latest
        gate.wait(60)
        return copy(connection, generation)

    if store.kind == "postgres":  # (SQLite copies in the request itself: nothing to hold there)
        monkeypatch.setattr(snapshot, "_copy", held_copy)
    try:
        with unit_of_work(store.session_factory) as session:  # a write after the copy
            session.add(Lead(email="late@example.com", created_at=T0, recorded_at=T0))
        now[0] = T0 + timedelta(seconds=90)
        body = client.get("/funnel").text
        lines = LINE.findall(body)
        if store.kind == "sqlite":  # the bound applies to PostgreSQL only: SQLite numbers are always fresh
            assert lines == []
            return
        lang = re.search(r'<html lang="([^"]+)"', body).group(1)
        expected = translate(
            "web.data_as_of", lang, time=T0.astimezone(ZoneInfo(zone)).strftime("%H:%M"), zone=zone
        )
        assert lines == [expected]
        if zone == "Asia/Taipei":  # 01:23 UTC is 09:23 in Taipei (UTC+8, no daylight saving)
            assert "09:23 (Asia/Taipei)" in lines[0] or "09:23（Asia/Taipei）" in lines[0]

        now[0] = T0 + timedelta(seconds=601)  # past the bound: live numbers, no line
        assert LINE.findall(client.get("/funnel").text) == []
    finally:
        gate.set()
