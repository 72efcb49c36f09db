"""Personal data: export gives everything about a person; erasure removes identities everywhere, counts stay."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from closedloop.audit import service as audit_service
from closedloop.audit.models import AuditLog
from closedloop.db import unit_of_work
from closedloop.deals.models import Deal
from closedloop.errors import NotFound
from closedloop.handoffs.models import Activity, Handoff
from closedloop.leads.models import ErasedIdentity, Lead, LifecycleEvent
from closedloop.marketing.models import Touchpoint, Visitor
from closedloop.users import privacy
from closedloop.users.actor import Actor, system_actor

AT = datetime(2026, 2, 3, 4, 5, tzinfo=UTC)
SECRET = "s3cret-salt-for-tests-0123456789abcdefXYZ"
NAME = "王小明"
EMAIL = "xiaoming.wang@example.com.tw"
PHONE = "+886912345678"
LINE = "U1234567890abcdef"
NOTES = "王小明 asked for a quote; mobile 0912-345-678"
PERSONAL_VALUES = (NAME, EMAIL, PHONE, LINE, NOTES, "Wang", "Xiaoming")


def _seed(session) -> dict[str, int]:
    lead = Lead(
        email=EMAIL,
        phone=PHONE,
        line_user_id=LINE,
        first_name="Xiaoming",
        last_name="Wang",
        name=NAME,
        title="CTO",
        first_landing_page=f"https://corp.example/demo?email={EMAIL}",
        custom={"note": NAME},
    )
    other = Lead(email="someone.else@example.com", name="陳大文")
    session.add_all([lead, other])
    session.flush()
    visitor = Visitor(visitor_key="v-123", lead_id=lead.id)
    session.add(visitor)
    session.flush()
    deal = Deal(name=f"{NAME} - ERP", stage="proposal", currency="TWD", amount_minor=100, lead_id=lead.id)
    session.add_all(
        [
            deal,
            Touchpoint(
                lead_id=lead.id,
                occurred_at=AT,
                type="ad_click",
                gclid="gclid-1",
                landing_page=f"https://corp.example/?e={EMAIL}",
                referrer="https://mail.example/inbox",
            ),
            Touchpoint(visitor_id=visitor.id, occurred_at=AT, type="page_view"),
            Touchpoint(lead_id=other.id, occurred_at=AT, type="page_view", gclid="keep-me"),
            LifecycleEvent(
                lead_id=lead.id, to_stage="recycled", occurred_at=AT, reason="other", reason_text=NOTES
            ),
            Handoff(lead_id=lead.id, assigned_at=AT, rejection_text=NOTES),
        ]
    )
    session.flush()
    session.add(Activity(deal_id=deal.id, type="call", occurred_at=AT, notes=NOTES))
    session.add(Activity(lead_id=other.id, type="call", occurred_at=AT, notes="陳大文 call"))
    actor = Actor(user_id=None, role="admin", via="import")
    audit_service.record(
        session,
        actor=actor,
        action="lead.created",
        entity_type="lead",
        entity_id=lead.id,
        after=audit_service.snapshot(lead),
    )
    audit_service.record(
        session,
        actor=actor,
        action="note.created",
        entity_type="note",
        entity_id=1,
        after={"text": f"met {NAME} at the fair", "nested": [{"who": EMAIL}]},
    )
    audit_service.record(
        session,
        actor=actor,
        action="lead.created",
        entity_type="lead",
        entity_id=other.id,
        after=audit_service.snapshot(other),
    )
    session.flush()
    return {"lead": lead.id, "other": other.id, "deal": deal.id}


def test_export_gives_everything_held_about_the_person(store) -> None:
    """Lead, touches (anonymous ones of its visitor too), events, hand-offs, deals, activities, audit."""
    with unit_of_work(store.session_factory) as session:
        ids = _seed(session)
        data = privacy.export_person(
            session=session, actor=system_actor(), email=" XiaoMing.Wang@Example.com.tw "
        )
    assert [lead["id"] for lead in data["leads"]] == [ids["lead"]]
    assert data["leads"][0]["phone"] == PHONE and data["leads"][0]["name"] == NAME
    counts = {key: len(value) for key, value in data.items() if isinstance(value, list)}
    assert counts == {
        "leads": 1,
        "visitors": 1,
        "touchpoints": 2,
        "lifecycle_events": 1,
        "lead_scores": 0,
        "handoffs": 1,
        "activities": 1,
        "deals": 1,
        "deal_stage_events": 0,
        "revenue_events": 0,
        "feedback": 0,
        "audit_entries": 1,
    }
    assert data["activities"][0]["notes"] == NOTES
    json.dumps(data, allow_nan=False)
    with unit_of_work(store.session_factory) as session:
        exported = session.scalars(select(AuditLog).where(AuditLog.action == "person.exported")).all()
        assert len(exported) == 1 and exported[0].after == {"leads": [ids["lead"]]}


def test_erasure_removes_identities_everywhere_and_keeps_counts(store) -> None:
    """Identities and free text gone (audit payloads too), rows kept, salted hashes stop re-imports."""
    with unit_of_work(store.session_factory) as session:
        ids = _seed(session)
        result = privacy.erase_person(session=session, actor=system_actor(), email=EMAIL, secret_key=SECRET)
    assert result == {"leads": 1, "identities": 3, "audit_entries": 2}
    with unit_of_work(store.session_factory) as session:
        assert session.scalar(select(func.count(Lead.id))) == 2
        assert session.scalar(select(func.count(Touchpoint.id))) == 3
        assert session.scalar(select(func.count(Activity.id))) == 2
        lead = session.get(Lead, ids["lead"])
        assert (lead.email, lead.phone, lead.line_user_id, lead.name, lead.first_name, lead.title) == (
            None,
        ) * 6
        assert lead.first_landing_page == "https://corp.example/demo" and lead.custom == {}
        assert session.get(Deal, ids["deal"]).name == "(erased)"
        dump = json.dumps(
            [[row.before, row.after] for row in session.scalars(select(AuditLog))]
            + [[a.notes] for a in session.scalars(select(Activity))]
            + [[t.gclid, t.landing_page, t.referrer] for t in session.scalars(select(Touchpoint))]
            + [[e.reason_text] for e in session.scalars(select(LifecycleEvent))]
            + [[h.rejection_text] for h in session.scalars(select(Handoff))],
            ensure_ascii=False,
        )
        for value in PERSONAL_VALUES:
            assert value not in dump, value
        assert "陳大文" in dump and "keep-me" in dump  # the other person is untouched
        assert session.get(Lead, ids["other"]).email == "someone.else@example.com"
        assert session.scalar(select(func.count(ErasedIdentity.id))) == 3
        assert privacy.is_erased(session, email="XIAOMING.WANG@example.com.tw", secret_key=SECRET)
        assert privacy.is_erased(session, phone=PHONE, secret_key=SECRET)
        assert privacy.is_erased(session, line_user_id=LINE, secret_key=SECRET)
        assert not privacy.is_erased(session, email="someone.else@example.com", secret_key=SECRET)
        assert not privacy.is_erased(session, email=EMAIL, secret_key=SECRET + "x")  # salted with the key
        assert not privacy.is_erased(session, secret_key=SECRET)
        erased = session.scalar(select(AuditLog).where(AuditLog.action == "person.erased"))
        assert erased.after["leads"] == [ids["lead"]] and EMAIL not in json.dumps(erased.after)
        with pytest.raises(NotFound):
            privacy.erase_person(session=session, actor=system_actor(), email=EMAIL, secret_key=SECRET)


def test_person_cli_exports_and_erases(store, monkeypatch) -> None:
    """`closedloop person export|erase --email E` on the configured store."""
    from closedloop.config import get_settings
    from closedloop.users.person_cli import person

    with unit_of_work(store.session_factory) as session:
        _seed(session)
    monkeypatch.setenv("CLOSEDLOOP_DATABASE_URL", store.url)
    monkeypatch.setenv("CLOSEDLOOP_SECRET_KEY", SECRET)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        exported = runner.invoke(person, ["export", "--email", EMAIL])
        assert exported.exit_code == 0, exported.output
        assert json.loads(exported.output)["leads"][0]["email"] == EMAIL
        erased = runner.invoke(person, ["erase", "--email", EMAIL, "--yes"])
        assert erased.exit_code == 0, erased.output
        with unit_of_work(store.session_factory) as session:
            assert privacy.is_erased(session, email=EMAIL, secret_key=SECRET)
    finally:
        get_settings.cache_clear()
