"""Capture services on SQLite and PostgreSQL: dedup, stitching, first touch, public-input rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from closedloop.capture import forms
from closedloop.capture import service as capture_service
from closedloop.capture.events import parse_batch
from closedloop.clock import fixed_clock
from closedloop.db import unit_of_work
from closedloop.leads.models import Lead, LifecycleEvent
from closedloop.marketing.models import Campaign, Touchpoint, Visitor
from closedloop.quarantine.models import QuarantinedRecord
from closedloop.users.models import User

NOW = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)
CLOCK = fixed_clock(NOW)
SITE = "https://www.acme.test"


def _site(store) -> int:
    with unit_of_work(store.session_factory) as session:
        return capture_service.create_site(session=session, name="Acme", origins=[SITE + "/"], clock=CLOCK).id


def _send(store, site_id: int, body: dict, now: datetime = NOW) -> list[bool]:
    parsed = parse_batch(body, now=now, max_events=100)
    assert parsed.rejected == []
    with unit_of_work(store.session_factory) as session:
        items = [capture_service.Incoming(site_id, e) for e in parsed.events]
        return capture_service.record_events(session=session, items=items, clock=fixed_clock(now))


def _form(store, site_id: int, fields: dict, *, record_touch: bool = True) -> forms.FormResult:
    parsed = forms.parse_submission(fields, now=NOW, required=["email"])
    assert not isinstance(parsed, list), parsed
    with unit_of_work(store.session_factory) as session:
        return forms.submit_form(
            session=session, site_id=site_id, submission=parsed, record_touch=record_touch, clock=CLOCK
        )


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def test_retried_events_are_counted_once(store) -> None:
    site_id = _site(store)
    body = {
        "vid": "visitor-aaaa",
        "events": [
            {"id": "e-1", "type": "page_view", "url": SITE + "/a"},
            {"id": "e-2", "type": "event", "url": SITE + "/b"},
            {"id": "e-1", "type": "page_view", "url": SITE + "/a"},  # the same event twice in one batch
        ],
    }
    assert _send(store, site_id, body) == [True, True, False]
    # The snippet retries the whole batch (a lost response), eight days later: still counted once.
    assert _send(store, site_id, body, now=NOW + timedelta(days=8)) == [False, False, False]
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Touchpoint)) == 2
        assert session.scalar(select(func.count()).select_from(Visitor)) == 1
    # The same client event id on another site is another event.
    with unit_of_work(store.session_factory) as session:
        other = capture_service.create_site(
            session=session, name="B", origins=["https://b.test"], clock=CLOCK
        )
    assert _send(store, other.id, {"vid": "visitor-bbbb", "events": [{"id": "e-1"}]}) == [True]


def test_form_stitches_anonymous_touches_and_keeps_the_first(store) -> None:
    site_id = _site(store)
    with unit_of_work(store.session_factory) as session:
        session.add(Campaign(name="Spring Launch", normalised_name="spring launch"))
    first_at = NOW - timedelta(days=20)
    _send(
        store,
        site_id,
        {
            "vid": "visitor-0001",
            "events": [
                {
                    "id": "a1",
                    "type": "ad_click",
                    "ts": _ms(first_at),
                    "url": SITE
                    + "/pricing?utm_source=google&utm_medium=cpc&utm_campaign=Spring%20Launch&gclid=XYZ",
                    "ref": "https://www.google.com/",
                },
                {
                    "id": "a2",
                    "ts": _ms(NOW - timedelta(days=2)),
                    "url": SITE + "/blog?utm_source=newsletter&utm_medium=email&utm_campaign=march",
                },
            ],
        },
    )
    result = _form(store, site_id, {"email": "Ann@Example.com", "name": "Ann Lee", "cl_vid": "visitor-0001"})
    assert result.created and result.stitched == 2 and not result.spam
    with store.session() as session:
        lead = session.get(Lead, result.lead_id)
        touches = session.scalars(select(Touchpoint).order_by(Touchpoint.occurred_at)).all()
        assert [t.lead_id for t in touches] == [lead.id] * 3
        assert [t.type for t in touches] == ["ad_click", "page_view", "form_submit"]
        assert [t.channel for t in touches][:2] == ["Paid Search", "Email"]
        assert lead.email == "ann@example.com"
        assert lead.first_touch_at == first_at.replace(microsecond=0)
        assert (lead.first_channel, lead.first_utm_source, lead.first_utm_medium) == (
            "Paid Search",
            "google",
            "cpc",
        )
        assert lead.first_utm_campaign == "Spring Launch"
        spring = session.scalar(select(Campaign.id).where(Campaign.normalised_name == "spring launch"))
        assert lead.first_campaign_id == spring
        assert lead.first_landing_page == SITE + "/pricing"
        events = session.scalars(select(LifecycleEvent).where(LifecycleEvent.lead_id == lead.id)).all()
        assert [(e.to_stage, e.source) for e in events] == [("lead", "capture")]
        visitor = session.scalar(select(Visitor).where(Visitor.visitor_key == "visitor-0001"))
        assert visitor.lead_id == lead.id
    # A touch queued offline earlier than everything arrives after the form: it becomes the first touch.
    earlier = NOW - timedelta(days=30)
    _send(
        store,
        site_id,
        {"vid": "visitor-0001", "events": [{"id": "late", "ts": _ms(earlier), "url": SITE + "/"}]},
    )
    with store.session() as session:
        lead = session.get(Lead, result.lead_id)
        assert lead.first_touch_at == earlier.replace(microsecond=0)
        assert lead.first_channel == "Direct" and lead.first_utm_source is None


def test_known_lead_only_gets_its_empty_fields_filled(store) -> None:
    site_id = _site(store)
    with unit_of_work(store.session_factory) as session:
        owner = User(email="rep@acme.com.tw", name="Rep", role="sales")
        session.add(owner)
        session.flush()
        lead = Lead(
            email="bo@corp.com.tw", name="Bo Chen", stage="sql", owner_id=owner.id, phone=None, title=None
        )
        session.add(lead)
        session.flush()
        lead_id, owner_id = lead.id, owner.id
    result = _form(
        store,
        site_id,
        {
            "email": "BO@Corp.com.tw",
            "name": "Mallory",
            "phone": "02 2345 6789",
            "title": "CTO",
            "owner": "attacker",
            "stage": "customer",
            "cl_vid": "visitor-0002",
        },
    )
    assert result.lead_id == lead_id and not result.created
    assert result.filled == ["custom.owner", "custom.stage", "phone", "title"]
    with store.session() as session:
        lead = session.get(Lead, lead_id)
        assert (lead.email, lead.name, lead.stage, lead.owner_id) == (
            "bo@corp.com.tw",
            "Bo Chen",
            "sql",
            owner_id,
        )
        assert (lead.phone, lead.title) == ("+886223456789", "CTO")
        assert session.scalar(select(func.count()).select_from(LifecycleEvent)) == 0
    # A second submission with other values changes nothing already filled.
    _form(store, site_id, {"email": "bo@corp.com.tw", "phone": "0911111111", "title": "CEO"})
    with store.session() as session:
        lead = session.get(Lead, lead_id)
        assert (lead.phone, lead.title) == ("+886223456789", "CTO")


def test_honeypot_flags_new_leads_as_spam_and_never_touches_known_ones(store) -> None:
    site_id = _site(store)
    with unit_of_work(store.session_factory) as session:
        session.add(Lead(email="known@corp.com.tw", name="Known", stage="mql"))
    spam = _form(
        store, site_id, {"email": "bot@spam-site.com", "cl_hp": "http://buy.test", "cl_vid": "visitor-b0t1"}
    )
    known = _form(store, site_id, {"email": "known@corp.com.tw", "name": "X", "title": "Y", "cl_hp": "1"})
    assert spam.spam and spam.created and known.spam and known.lead_id is None
    with store.session() as session:
        bot = session.scalar(select(Lead).where(Lead.email == "bot@spam-site.com"))
        assert bot.is_spam
        assert session.scalar(select(func.count()).select_from(LifecycleEvent)) == 0
        assert session.scalar(select(func.count()).select_from(Touchpoint)) == 0
        kept = session.scalar(select(Lead).where(Lead.email == "known@corp.com.tw"))
        assert (kept.name, kept.title, kept.is_spam, kept.stage) == ("Known", None, False, "mql")
        record = session.scalars(select(QuarantinedRecord)).one()
        assert (record.source, record.kind, record.errors[0]["field"]) == ("capture", "form", "cl_hp")


def test_form_rebuilds_a_first_touch_the_events_never_delivered(store) -> None:
    site_id = _site(store)
    first_at = NOW - timedelta(days=6)
    fields = {
        "email": "cy@corp.com.tw",
        "cl_vid": "visitor-0003",
        "cl_first_ts": first_at.isoformat(),
        "cl_first_utm_source": "facebook",
        "cl_first_utm_medium": "paid_social",
        "cl_first_landing": SITE + "/lp?utm_source=facebook",
        "cl_last_utm_source": "google",
        "cl_last_utm_medium": "organic",
    }
    result = _form(store, site_id, fields)
    _form(store, site_id, fields)  # submitted twice: the rebuilt first touch is still one touch
    with store.session() as session:
        lead = session.get(Lead, result.lead_id)
        assert (lead.first_touch_at, lead.first_channel) == (first_at, "Paid Social")
        assert lead.first_landing_page == SITE + "/lp"
        channels = session.scalars(select(Touchpoint.channel).order_by(Touchpoint.occurred_at)).all()
        assert channels == ["Paid Social", "Organic Search", "Organic Search"]


def test_identify_stitches_without_a_touch_and_phone_only_leads(store) -> None:
    site_id = _site(store)
    _send(
        store, site_id, {"vid": "visitor-0004", "events": [{"id": "p1", "url": SITE + "/?utm_source=line"}]}
    )
    parsed = forms.parse_submission(
        {"phone": "+886 912-000-111", "cl_vid": "visitor-0004"}, now=NOW, required=()
    )
    with unit_of_work(store.session_factory) as session:
        result = forms.submit_form(
            session=session, site_id=site_id, submission=parsed, record_touch=False, clock=CLOCK
        )
    with store.session() as session:
        lead = session.get(Lead, result.lead_id)
        assert lead.phone == "+886912000111" and lead.email is None
        assert lead.first_channel == "Messaging"
        assert session.scalar(select(func.count()).select_from(Touchpoint)) == 1


def test_rejected_events_are_quarantined_with_index_and_field(store) -> None:
    site_id = _site(store)
    parsed = parse_batch(
        {"vid": "visitor-0005", "events": [{"id": "ok"}, {"id": "x", "ts": "soon"}, "junk"]},
        now=NOW,
        max_events=100,
    )
    with unit_of_work(store.session_factory) as session:
        capture_service.quarantine_rejected(
            session=session, site_id=site_id, rejected=parsed.rejected, received_at=NOW, clock=CLOCK
        )
    with store.session() as session:
        rows = session.scalars(select(QuarantinedRecord).order_by(QuarantinedRecord.id)).all()
        assert [(r.source, r.kind) for r in rows] == [("capture", "event")] * 2
        assert [r.errors[0]["index"] for r in rows] == [1, 2]
        assert rows[0].errors[0]["field"] == "ts" and rows[0].payload["event"]["vid"] == "visitor-0005"
        assert "event 1: ts" in rows[0].reason


def test_quarantined_capture_input_replays_once_fixed(store) -> None:
    from closedloop.capture.replay import replay_capture_record
    from closedloop.quarantine import service as quarantine_service
    from closedloop.users.actor import system_actor

    site_id = _site(store)
    actor = system_actor("cli")
    bad = parse_batch({"vid": "visitor-0006", "events": [{"id": "q1", "ts": "soon"}]}, now=NOW, max_events=10)
    with unit_of_work(store.session_factory) as session:
        capture_service.quarantine_rejected(
            session=session, site_id=site_id, rejected=bad.rejected, received_at=NOW, clock=CLOCK
        )
        capture_service.quarantine(
            session=session,
            kind="event",
            payload={
                "site_id": site_id,
                "origin": "https://new.acme.test",
                "body": {"vid": "visitor-0007", "events": [{"id": "q2"}, {"id": "q3"}]},
            },
            errors=[],
            reason="origin not allowed",
            clock=CLOCK,
        )
        capture_service.quarantine(
            session=session,
            kind="form",
            payload={"site_id": site_id, "fields": {"email": "real@person.com.tw", "cl_hp": "x"}},
            errors=[],
            reason="honeypot",
            clock=CLOCK,
        )
    with unit_of_work(store.session_factory) as session:
        ids = [r.id for r in quarantine_service.list_records(session=session, source="capture")[0]]
        record = session.get(QuarantinedRecord, ids[0])
        assert replay_capture_record(session=session, record=record, clock=CLOCK)[0] == "invalid"
        quarantine_service.fix_record(
            session=session, record_id=ids[0], changes={"ts": NOW.isoformat()}, actor=actor, clock=CLOCK
        )
        outcomes = [
            replay_capture_record(session=session, record=session.get(QuarantinedRecord, i), clock=CLOCK)[0]
            for i in ids
        ]
    assert outcomes == ["inserted", "inserted 2 of 2", "created"]
    with store.session() as session:
        assert sorted(session.scalars(select(Touchpoint.event_id).where(Touchpoint.event_id.like("q%")))) == [
            "q1",
            "q2",
            "q3",
        ]
        lead = session.scalar(select(Lead).where(Lead.email == "real@person.com.tw"))
        assert lead is not None and not lead.is_spam


def test_group_writer_commits_before_answering_and_survives_a_request_that_went_away(store) -> None:
    import asyncio

    from closedloop.capture.writer import GroupWriter, Job

    site_id = _site(store)
    writer = GroupWriter(store.session_factory, clock=CLOCK)

    def events(*ids: str):
        return parse_batch(
            {"vid": "visitor-0008", "events": [{"id": i} for i in ids]}, now=NOW, max_events=10
        ).events

    async def scenario() -> list[list[bool]]:
        gone = asyncio.ensure_future(writer.write(Job(site_id, events("w1", "w2"))))
        await asyncio.sleep(0)
        gone.cancel()  # the client disconnected while its events were being written
        answers = await asyncio.gather(
            writer.write(Job(site_id, events("w3"))), writer.write(Job(site_id, events("w3", "w4")))
        )
        with store.session() as session:  # answered means committed: visible from another session
            assert session.scalar(select(func.count()).select_from(Touchpoint)) == 4
        return list(answers)

    # In a thread of its own: a browser test earlier in the session may hold this thread's loop.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(lambda: asyncio.run(scenario())).result() == [[True], [False, True]]


def test_one_group_links_each_touch_to_its_own_visitor_lead_and_campaign(store) -> None:
    """Several requests' events written as one group (the writer's one statement on PostgreSQL)."""
    from closedloop.capture.writer import Job, write_jobs

    site_id = _site(store)
    with unit_of_work(store.session_factory) as session:
        session.add(Campaign(name="Spring Launch", normalised_name="spring launch"))
    known = _form(store, site_id, {"email": "kim@example.com", "cl_vid": "visitor-known"}).lead_id

    def job(vid: str, *events: tuple[str, str]) -> Job:
        body = {"vid": vid, "events": [{"id": i, "url": SITE + "/?utm_source=x&" + q} for i, q in events]}
        return Job(site_id, parse_batch(body, now=NOW, max_events=10).events)

    group = [
        job("visitor-anon1", ("g1", "utm_campaign=SPRING%20launch"), ("g2", "utm_campaign=unknown")),
        job("visitor-known", ("g3", "utm_campaign=%20"), ("g1", "utm_campaign=spring%20launch")),
        job("visitor-anon2", ("g4", "utm_campaign=Spring%20Launch"), ("g4", "")),
    ]
    with unit_of_work(store.session_factory) as session:
        flags = write_jobs(session, group, CLOCK)
    assert flags == [[True, True], [True, False], [True, False]]
    with store.session() as session:
        spring = session.scalar(select(Campaign.id).where(Campaign.normalised_name == "spring launch"))
        visitors = {key: vid for key, vid in session.execute(select(Visitor.visitor_key, Visitor.id))}
        touches = {
            t.event_id: (t.visitor_id, t.lead_id, t.campaign_id)
            for t in session.scalars(select(Touchpoint).where(Touchpoint.event_id.like("g%")))
        }
    assert touches == {
        "g1": (visitors["visitor-anon1"], None, spring),
        "g2": (visitors["visitor-anon1"], None, None),
        "g3": (visitors["visitor-known"], known, None),
        "g4": (visitors["visitor-anon2"], None, spring),
    }
