"""Pure helpers of the pages: JSON data blocks cannot close their element; CSV cells stay data."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from closedloop import safe_csv
from closedloop.web import charts
from closedloop.web.pages.common import json_block, period


@given(st.text())
def test_json_block_never_contains_markup_and_round_trips(text: str) -> None:
    block = str(json_block({"key": text}))
    assert "<" not in block and ">" not in block and "&" not in block
    assert json.loads(block) == {"key": text}


def test_period_defaults_to_the_365_days_up_to_today_and_orders_its_ends() -> None:
    from datetime import date

    today = date(2026, 3, 1)
    assert period(None, None, today) == (date(2025, 3, 2), today)
    assert period("2026-02-10", "2026-01-01", today) == (date(2026, 1, 1), date(2026, 2, 10))
    assert period("garbage", None, today) == (date(2025, 3, 2), today)


def test_chart_specs_carry_only_the_rows_given() -> None:
    spec = charts.funnel(
        [{"label": "Lead", "count": 10}, {"label": "MQL", "count": 4}],
        title="F",
        stage_label="s",
        count_label="n",
    )
    assert spec["data"]["values"] == [
        {"label": "Lead", "count": 10, "rate": ""},
        {"label": "MQL", "count": 4, "rate": ""},
    ]
    assert spec["mark"]["type"] == "bar" and spec["width"] == "container"


def test_chart_renders_to_static_svg_for_reports() -> None:
    spec = charts.bars(
        [{"key": "a", "value": 3}, {"key": "b", "value": 5}], title="T", key_label="k", value_label="v"
    )
    svg = charts.to_svg(spec)
    assert svg.startswith("<svg") and svg.count('aria-roledescription="bar"') == 2


def test_csv_neutralises_formulas() -> None:
    body = safe_csv.to_csv(["campaign"], [["=cmd|' /C calc'!A0"], ["+1"], ["plain"]])
    assert body.splitlines()[1:] == ["'=cmd|' /C calc'!A0", "'+1", "plain"]
