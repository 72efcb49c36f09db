"""The agenda's top root-cause findings, on a hand-built quarter of MQLs.

Between 2025-12-22 and 2026-01-30, 40 Email MQLs of which 30 reached SQL (75%) and 40 Ads MQLs of which
4 did (10%); every cohort is mature at 2026-03-16. Of 80 MQLs, 34 converted. Each channel is tested
against the rest: Ads 4/40 = 10% against Email's 30/40 = 75% (a two-proportion z of about -5.8), and
Email the other way round; nothing else varies. So the agenda's findings are exactly those two.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from closedloop.analytics import engine
from closedloop.leads.models import Lead, LifecycleEvent
from closedloop.reports.render import render_html
from closedloop.reviews.agenda import root_cause_findings

AS_OF = datetime.fromisoformat("2026-03-16T12:00:00+08:00")


def test_root_cause_findings_on_the_agenda(store) -> None:
    session = store.session()
    first = datetime.fromisoformat("2025-12-22T04:00:00+00:00")
    for channel, converted in (("Email", 30), ("Ads", 4)):
        for i in range(40):
            mql = first + timedelta(days=i)
            lead = Lead(email=f"{channel.lower()}{i}@example.com", first_channel=channel, created_at=mql,
                        recorded_at=mql)  # fmt: skip
            session.add(lead)
            session.flush()
            stages = [("lead", mql), ("mql", mql)] + (
                [("sql", mql + timedelta(days=3))] if i < converted else []
            )
            for stage, moment in stages:
                session.add(LifecycleEvent(lead_id=lead.id, to_stage=stage, occurred_at=moment, recorded_at=moment,
                                           implied=False, source="import"))  # fmt: skip
    session.commit()
    session.close()
    try:
        found = root_cause_findings(store.url, date_to=date(2026, 3, 15), as_of=AS_OF)
    finally:
        engine.close(store.url)
    got = sorted(
        (tuple(f["group"].values()), f["n"], round(f["rate"], 4), round(f["rest_rate"], 4)) for f in found
    )
    assert got == [(("Ads",), 40, 0.1, 0.75), (("Email",), 40, 0.75, 0.1)]
    assert all(f["q_value"] < 0.05 for f in found)
    agenda = {"figures": {}, "previous_figures": {}, "movements": [], "sla": {"lines": []}, "overdue": [],
              "root_causes": found, "leads_or_follow_up": None}  # fmt: skip
    pack = {"kind": "monthly", "period": ["2026-02-01", "2026-02-28"], "previous": ["2026-01-01", "2026-01-31"],
            "time_zone": "Asia/Taipei", "data_as_of": AS_OF.isoformat(), "policies": [], "agenda": agenda,
            "scorecard": {"goals": [], "teams": {}, "weights": {"own": 0.7, "cross": 0.3, "cap": 1.5}},
            "campaigns": [], "review": None}  # fmt: skip
    html = render_html("pack.html", "zh-TW", pack=pack, charts={"funnel": ""})
    for f in found:
        assert f["sentences"]["zh-TW"] in html
    assert "10.0%" in html and "75.0%" in html
