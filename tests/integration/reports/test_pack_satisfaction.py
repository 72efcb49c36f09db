"""CSAT and support signals are shared with sales and marketing: the weekly pack (and so the review and
the mailed PDF both teams receive) shows the period's mean satisfaction and its low scores.

Feedback added to the hand-built history (week 11 is 2026-03-09..15 in Taipei):
- 03-10 Acme (owner Mei, the manager) 2 of 5, "回覆太慢"        -> low, in the period
- 03-12 L4's lead, 9 of 10                                     -> 4.5 on the 5-point scale, not low
- 03-13 Beta (no owner) 3 of 5, no comment                     -> low (3 of 5 is the threshold)
- 03-04 Acme 1 of 5 (week 10)                                  -> outside the period
Mean CSAT of week 11 on the 5-point scale: (2 + 4.5 + 3) / 3 = 3.1666... -> "3.2"; 3 responses.
Low scores, lowest first: Acme 2/5, then Beta 3/5.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from tests.integration.reports.conftest import at

from closedloop.accounts.models import Account
from closedloop.i18n import translate
from closedloop.reports import render
from closedloop.reports import service as report_service
from closedloop.revenue.models import CustomerFeedback

NOW = datetime(2026, 3, 16, 4, 0, tzinfo=UTC)


def test_weekly_pack_shows_csat_and_low_scores(history) -> None:
    store, session = history["store"], history["session"]
    acme = Account(name="Acme 股份有限公司", normalised_name="acme", owner_id=history["manager"])
    beta = Account(name="Beta Ltd", normalised_name="beta")
    session.add_all([acme, beta])
    session.flush()
    session.add_all([
        CustomerFeedback(account_id=acme.id, occurred_at=at("2026-03-10"), score=Decimal(2), scale_max=5,
                         comment="回覆太慢"),
        CustomerFeedback(lead_id=history["L4"], occurred_at=at("2026-03-12"), score=Decimal(9), scale_max=10,
                         comment="很好"),
        CustomerFeedback(account_id=beta.id, occurred_at=at("2026-03-13"), score=Decimal(3), scale_max=5),
        CustomerFeedback(account_id=acme.id, occurred_at=at("2026-03-04"), score=Decimal(1), scale_max=5,
                         comment="last week"),
    ])  # fmt: skip
    session.commit()

    html, pack = report_service.render_pack(
        store.url, session=session, kind="weekly", lang="zh-TW", as_of=NOW
    )
    sat = pack["satisfaction"]
    assert round(sat["csat"], 4) == round((2 + 4.5 + 3) / 3, 4) and sat["responses"] == 3
    assert sat["low"] == [
        {"score": "2/5", "comment": "回覆太慢", "company": "Acme 股份有限公司", "owner": "Mei", "date": "2026-03-10"},
        {"score": "3/5", "comment": None, "company": "Beta Ltd", "owner": None, "date": "2026-03-13"},
    ]  # fmt: skip
    text = html.decode("utf-8")
    assert "客戶滿意度與客服訊號" in text
    assert "平均滿意度 3.2 分（滿分 5 分），共 3 則回饋。" in text
    assert "回覆太慢" in text and "last week" not in text and "很好" not in text


def test_pack_charts_are_svg_from_the_pages_specs(history) -> None:
    """The funnel chart in the pack is the pages' Vega-Lite funnel spec rendered to SVG, with the
    counts of week 11 (leads created L5, L6; MQL L4, L5, L7; SQL L4, L5, L7) and the CJK font."""
    from closedloop.web import charts as specs

    store, session = history["store"], history["session"]
    html, pack = report_service.render_pack(
        store.url, session=session, kind="weekly", lang="zh-TW", as_of=NOW
    )
    counts = pack["funnel"]["rows"][0]["counts"]
    assert (counts["lead"], counts["mql"], counts["sql"]) == (2, 3, 3)
    rows = [{"stage": s, "label": translate(f"stage.{s}", "zh-TW"), "count": counts.get(s, 0)}
            for s in pack["funnel"]["stages"]]  # fmt: skip
    spec = specs.funnel(rows, title=translate("reports.h.funnel", "zh-TW"),
                        stage_label=translate("reports.chart.stage", "zh-TW"),
                        count_label=translate("reports.chart.count", "zh-TW"))  # fmt: skip
    expected = render._svg(spec, "zh-TW")
    assert expected.lstrip().startswith("<svg") and expected in html.decode("utf-8")
    assert "潛在客戶" in expected and render.FONTS["zh-TW"] in expected
