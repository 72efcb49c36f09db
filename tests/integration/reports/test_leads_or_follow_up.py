"""Leads or follow-up: the MQL->SQL change (14-day window) split into channel mix and within-channel rate.

At 2026-03-16 the mature blocks are 2026-01-05..02-01 (before) and 02-02..03-01 (after).
before: Email 2 MQLs, 1 SQL; Ads 2 MQLs, 0 SQL   -> 1/4 = 0.25
after:  Email 1 MQL, 1 SQL;  Ads 3 MQLs, 1 SQL   -> 2/4 = 0.5
Email: w 0.5 -> 0.25, r 0.5 -> 1: mix -0.25 x 1.5/2 = -0.1875, rate 0.5 x 0.75/2 = 0.1875
Ads:   w 0.5 -> 0.75, r 0 -> 1/3: mix 0.25 x (1/3)/2 = 1/24,   rate (1/3) x 1.25/2 = 5/24
mix = -0.1875 + 1/24, rate = 0.1875 + 5/24; they add up to 0.25.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from closedloop.leads.models import Lead, LifecycleEvent
from closedloop.reports.render import render_html
from closedloop.reviews.agenda import follow_up_blocks, leads_or_follow_up

AS_OF = datetime.fromisoformat("2026-03-16T12:00:00+08:00")


def test_blocks_end_two_weeks_before_the_review() -> None:
    assert follow_up_blocks(date(2026, 3, 16)) == (
        (date(2026, 1, 5), date(2026, 2, 1)),
        (date(2026, 2, 2), date(2026, 3, 1)),
    )


def test_mix_and_rate_worked_out_by_hand(history) -> None:
    from closedloop.analytics import engine

    store, session = history["store"], history["session"]
    journeys = [
        ("Email", "2026-01-10", "2026-01-15"), ("Email", "2026-01-10", None),
        ("Ads", "2026-01-12", None), ("Ads", "2026-01-12", None),
        ("Email", "2026-02-10", "2026-02-12"),
        ("Ads", "2026-02-11", "2026-02-20"), ("Ads", "2026-02-11", None), ("Ads", "2026-02-11", None),
    ]  # fmt: skip
    for i, (channel, mql, sql) in enumerate(journeys):
        created = datetime.fromisoformat(f"{mql}T01:00:00+00:00")
        lead = Lead(
            email=f"block{i}@example.com", first_channel=channel, created_at=created, recorded_at=created
        )
        session.add(lead)
        session.flush()
        for stage, day, hour in (("lead", mql, 1), ("mql", mql, 4), ("sql", sql, 4)):
            if day:
                moment = datetime.fromisoformat(f"{day}T{hour:02d}:00:00+00:00")
                session.add(LifecycleEvent(lead_id=lead.id, to_stage=stage, occurred_at=moment, recorded_at=moment,
                                           implied=False, source="import"))  # fmt: skip
    session.commit()
    engine.close(store.url)
    found = leads_or_follow_up(store.url, as_of=AS_OF, today=date(2026, 3, 16))
    assert (found["rate_before"], found["rate_after"]) == (0.25, 0.5)
    assert found["leads"] == pytest.approx(-0.1875 + 1 / 24)
    assert found["follow_up"] == pytest.approx(0.1875 + 5 / 24)
    html = render_html("pack.html", "zh-TW", pack=_pack(found), charts={"funnel": ""})
    assert "-14.6 個百分點" in html and "+39.6 個百分點" in html


def _pack(found: dict) -> dict:
    agenda = {"figures": {}, "previous_figures": {}, "movements": [], "sla": {"lines": []}, "overdue": [],
              "root_causes": [], "leads_or_follow_up": found}  # fmt: skip
    return {"kind": "monthly", "period": ["2026-02-01", "2026-02-28"], "previous": ["2026-01-01", "2026-01-31"],
            "time_zone": "Asia/Taipei", "data_as_of": AS_OF.isoformat(), "policies": [], "agenda": agenda,
            "scorecard": {"goals": [], "teams": {}, "weights": {"own": 0.7, "cross": 0.3, "cap": 1.5}},
            "campaigns": [], "review": None}  # fmt: skip
