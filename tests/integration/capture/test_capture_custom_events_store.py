"""Custom events through /t/events keep their name and properties, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import secrets

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from closedloop.capture import service as capture_service
from closedloop.config import Settings
from closedloop.db import unit_of_work
from closedloop.marketing.models import Touchpoint
from closedloop.quarantine.models import QuarantinedRecord
from closedloop.web.app import create_app

ORIGIN = "https://www.acme.test"


@pytest.fixture
def post(store):
    with unit_of_work(store.session_factory) as session:
        key = capture_service.create_site(session=session, name="Acme", origins=[ORIGIN]).public_key
    app = create_app(Settings(database_url=store.url, secret_key=secrets.token_urlsafe(40)))
    with TestClient(app) as client:
        yield lambda body: client.post(
            f"/t/events?k={key}",
            content=json.dumps(body),
            headers={"Origin": ORIGIN, "Content-Type": "text/plain"},
        )


def test_custom_event_name_and_properties_are_stored(store, post) -> None:
    body = {
        "vid": "visitor-custom-1",
        "events": [
            {
                "id": "c1",
                "type": "event",
                "name": "pricing_calculator",
                "props": {"seats": 12, "plan": "pro"},
            },
            {"id": "c2", "type": "page_view", "url": ORIGIN + "/"},
            {"id": "c3", "type": "event", "event_name": "video_play", "properties": {"pct": 0.5, "hd": True}},
        ],
    }
    response = post(body)
    assert response.status_code == 200, response.text
    with store.session() as session:
        rows = session.execute(
            select(Touchpoint.event_id, Touchpoint.event_name, Touchpoint.properties)
        ).all()
    assert {r.event_id: (r.event_name, r.properties) for r in rows} == {
        "c1": ("pricing_calculator", {"seats": 12, "plan": "pro"}),
        "c2": (None, None),
        "c3": ("video_play", {"pct": 0.5, "hd": True}),
    }


@pytest.mark.parametrize(
    ("event", "field", "reason"),
    [
        ({"name": "x" * 101}, "name", "longer than 100 characters"),
        ({"name": "bad\nname"}, "name", "must not hold control characters"),
        ({"props": [1, 2]}, "props", "must be a JSON object"),
        ({"props": {"nested": {"a": 1}}}, "props", "nested: must be a string, number, true/false or null"),
        ({"props": {f"k{i}": i for i in range(26)}}, "props", "at most 25 properties"),
        ({"props": {"bad key": 1}}, "props", "property names are 1-64 characters"),
        ({"props": {"v": "x" * 501}}, "props", "v: longer than 500 characters"),
    ],
)
def test_bad_custom_events_are_quarantined_naming_the_field(store, post, event, field, reason) -> None:
    response = post({"vid": "visitor-custom-2", "events": [{"id": "b1", "type": "event", **event}]})
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert (error["index"], error["field"]) == (0, field) and error["reason"].startswith(reason)
    with store.session() as session:
        assert session.scalars(select(Touchpoint)).all() == []
        assert session.scalars(select(QuarantinedRecord.kind)).all() == ["event"]
