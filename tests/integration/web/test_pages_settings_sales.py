"""Settings: pipeline stages and names, SLA policy and business hours, routing rules (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from tests.integration.web.settings_world import XSS, make_world, no_raw_script, signed_in

from closedloop.audit.models import AuditLog
from closedloop.deals.models import PipelineStage
from closedloop.policies.models import PolicyVersion
from closedloop.users.models import Team
from closedloop.workspace.calendar import business_hours_between, load_calendar
from closedloop.workspace.models import BusinessCalendar, CalendarDay


def _when() -> str:
    return (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")


def _latest(store, kind: str) -> PolicyVersion:
    with store.session() as s:
        return s.scalars(
            select(PolicyVersion).where(PolicyVersion.kind == kind).order_by(PolicyVersion.id.desc())
        ).first()


def test_stage_names_and_probabilities(store) -> None:
    world = make_world(store)
    admin, csrf = signed_in(world, "admin")
    with store.session() as s:
        stage = s.scalars(
            select(PipelineStage).where(PipelineStage.outcome == "open").order_by(PipelineStage.position)
        ).first()
        key = stage.key
        open_keys = list(s.scalars(select(PipelineStage.key).where(PipelineStage.outcome == "open")))
    missing = admin.post(f"/settings/pipeline/{key}/names", data={"csrf_token": csrf, "name-en": "Discovery",
                                                                  "name-zh-TW": "", "name-zh-CN": "探索"})  # fmt: skip
    assert missing.status_code == 422 and f'id="err-{key}-names"' in missing.text
    ok = admin.post(f"/settings/pipeline/{key}/names", data={"csrf_token": csrf, "name-en": XSS, "name-zh-TW": "探索",
                                                             "name-zh-CN": "探索"}, follow_redirects=False)  # fmt: skip
    assert ok.status_code == 303
    with store.session() as s:
        assert s.scalar(select(PipelineStage.names).where(PipelineStage.key == key))["en"] == XSS
        assert (
            s.scalar(select(AuditLog.action).where(AuditLog.action == "pipeline_stage.renamed")) is not None
        )
    page = admin.get("/settings/pipeline").text
    assert no_raw_script(page) and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # Sales proposes probabilities (percent typed, a share stored); names are the admin's.
    sales, sales_csrf = signed_in(world, "sales")
    assert sales.post(f"/settings/pipeline/{key}/names", data={"csrf_token": sales_csrf, "name-en": "x",
                                                               "name-zh-TW": "x", "name-zh-CN": "x"}).status_code == 403  # fmt: skip
    form = {"csrf_token": sales_csrf, "effective_from": _when(), "reason": "calibrated on last year"}
    form |= {f"prob-{k}": "20" for k in open_keys}
    bad = sales.post("/settings/pipeline/probabilities", data={**form, f"prob-{key}": "140"})
    assert bad.status_code == 422 and f'id="err-prob-{key}"' in bad.text
    assert sales.post("/settings/pipeline/probabilities", data={**form, f"prob-{key}": "12.5"},
                      follow_redirects=False).status_code == 303  # fmt: skip
    version = _latest(store, "stage_probabilities")
    assert version.status == "proposed" and version.payload[key] == "0.125"
    assert all(version.payload[k] == "0.2" for k in open_keys if k != key)
    marketing, mkt_csrf = signed_in(world, "marketing")
    assert (
        marketing.post("/settings/pipeline/probabilities", data={**form, "csrf_token": mkt_csrf}).status_code
        == 403
    )


def test_sla_proposal_and_business_hours_with_a_make_up_day(store) -> None:
    world = make_world(store)
    sales, csrf = signed_in(world, "sales")
    form = {"csrf_token": csrf, "effective_from": _when(), "reason": "faster", "first_response_hours": "2",
            "accept_within_hours": "8", "attempts": "3", "attempts_within_days": "5", "response_compliance": "95",
            "mql_volume_per_month": "400", "mql_to_sql_rate": "25"}  # fmt: skip
    bad = sales.post(
        "/settings/sla", data={**form, "response_compliance": "120", "first_response_hours": "0"}
    )
    assert bad.status_code == 422 and 'id="err-first_response_hours"' in bad.text
    assert sales.post("/settings/sla", data=form, follow_redirects=False).status_code == 303
    version = _latest(store, "sla")
    assert version.status == "proposed"
    assert version.payload == {"sales": {"first_response_hours": 2.0, "accept_within_hours": 8.0, "attempts": 3,
                                         "attempts_within_days": 5.0, "response_compliance": 0.95},
                               "marketing": {"mql_volume_per_month": 400, "mql_to_sql_rate": 0.25}}  # fmt: skip
    # Calendars are the admin's.
    assert sales.post("/settings/sla/calendars", data={"csrf_token": csrf, "name": "x"}).status_code == 403
    admin, admin_csrf = signed_in(world, "admin")
    hours = {f"day-{d}": "09:00-12:00, 13:00-18:00" for d in range(5)}
    bad_hours = admin.post("/settings/sla/calendars", data={"csrf_token": admin_csrf, "name": "Taipei",
                                                            "time_zone": "Asia/Taipei", **hours, "day-2": "nine to five"})  # fmt: skip
    assert bad_hours.status_code == 422 and 'id="err-cal-new-day-2"' in bad_hours.text
    assert admin.post("/settings/sla/calendars", data={"csrf_token": admin_csrf, "name": XSS, "time_zone": "Asia/Taipei",
                                                       **hours}, follow_redirects=False).status_code == 303  # fmt: skip
    with store.session() as s:
        cal_id = s.scalar(select(BusinessCalendar.id).where(BusinessCalendar.name == XSS))
        team_id = s.scalar(select(Team.id).order_by(Team.id))
    saturday = date(2030, 1, 5)  # a Saturday, worked as a make-up day
    assert admin.post(f"/settings/sla/calendars/{cal_id}/days", data={"csrf_token": admin_csrf, "day": "2030-01-05",
                                                                     "kind": "workday", "day_name": "補班"},
                      follow_redirects=False).status_code == 303  # fmt: skip
    assert admin.post(f"/settings/sla/calendars/{cal_id}/days", data={"csrf_token": admin_csrf, "day": "nope",
                                                                     "kind": "holiday"}).status_code == 422  # fmt: skip
    assert admin.post(f"/settings/sla/teams/{team_id}", data={"csrf_token": admin_csrf, "calendar_id": str(cal_id)},
                      follow_redirects=False).status_code == 303  # fmt: skip
    with store.session() as s:
        assert s.get(Team, team_id).calendar_id == cal_id
        assert s.scalar(select(CalendarDay.kind).where(CalendarDay.calendar_id == cal_id)) == "workday"
        calendar = load_calendar(s, cal_id)
    tz = calendar.zone
    # Worked by hand: the make-up Saturday has Monday's hours, 09:00-12:00 and 13:00-18:00 = 8 hours.
    start, end = (
        datetime.combine(saturday, time(0), tzinfo=tz),
        datetime.combine(saturday, time(23, 59), tzinfo=tz),
    )
    assert business_hours_between(calendar, start, end) == 8
    page = admin.get("/settings/sla").text
    assert no_raw_script(page) and "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "補班" in page


def test_routing_rules_are_proposed_in_order(store) -> None:
    world = make_world(store)
    manager, csrf = signed_in(world, "manager")
    with store.session() as s:
        names = list(s.scalars(select(Team.name).where(Team.kind == "sales").order_by(Team.name)))
    page = manager.get("/settings/routing").text
    assert 'name="team-0"' in page
    form = {"csrf_token": csrf, "effective_from": _when(), "reason": "north and south",
            "account_owner_first": "1", "default_team": names[0],
            "team-0": names[0], "region-0": "north, 北部", "order-0": "2",
            "team-1": names[-1], "country-1": "TW", "industry-1": "manufacturing", "order-1": "1",
            "team-2": "", "region-2": "ignored"}  # fmt: skip
    no_match = manager.post("/settings/routing", data={**form, "region-0": ""})
    assert no_match.status_code == 422 and 'id="err-team-0"' in no_match.text
    unknown = manager.post("/settings/routing", data={**form, "team-1": XSS})
    assert unknown.status_code == 422 and no_raw_script(unknown.text)
    assert manager.post("/settings/routing", data=form, follow_redirects=False).status_code == 303
    version = _latest(store, "routing")
    assert version.payload == {"account_owner_first": True, "default_team": names[0], "rules": [
        {"match": {"country": ["TW"], "industry": ["manufacturing"]}, "team": names[-1]},
        {"match": {"region": ["north", "北部"]}, "team": names[0]}]}  # fmt: skip
    viewer, viewer_csrf = signed_in(world, "viewer")
    assert viewer.post("/settings/routing", data={**form, "csrf_token": viewer_csrf}).status_code == 403
    marketing, mkt_csrf = signed_in(world, "marketing")
    assert marketing.post("/settings/routing", data={**form, "csrf_token": mkt_csrf}).status_code == 403
