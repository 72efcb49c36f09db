"""Rule-based scoring: explanations add up to the score, decay under an injected clock, bands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from closedloop.errors import ValidationFailed
from closedloop.scoring.rules import (
    DEFAULT_RULES,
    LeadFacts,
    TouchFact,
    band_for,
    company_size_number,
    parse_rules,
    score,
)

NOW = datetime(2026, 3, 31, 12, tzinfo=UTC)

POLICY = {
    "fit": [
        {"field": "industry", "op": "eq", "value": "manufacturing", "points": 10},
        {"field": "company_size", "op": "between", "value": [51, 1000], "points": 8},
        {"field": "title", "op": "contains", "value": ["manager", "經理"], "points": 5},
        {"field": "country", "op": "in", "value": ["TW", "HK"], "points": 3},
        {"field": "lead_type", "op": "eq", "value": "partner", "points": -20},
        {"field": "custom.erp", "op": "eq", "value": "SAP", "points": 4},
    ],
    "engagement": [
        {
            "label": "demo request",
            "match": {"type": "form_submit", "landing_page_contains": "demo"},
            "points": 15,
            "max_count": 1,
        },
        {"label": "page view", "match": {"type": "page_view"}, "points": 2, "max_count": 3},
    ],
    "half_life_days": 10,
    "bands": {"A": 40, "B": 25, "C": 10},
    "mql_threshold": 30,
    "high_intent": [
        {"label": "demo request", "match": {"type": "form_submit", "landing_page_contains": "demo"}}
    ],
}


def test_the_explanation_reads_like_the_spec():
    rules = parse_rules(POLICY)
    lead = LeadFacts(
        industry="Manufacturing",
        company_size="51-200",
        title="Plant Manager",
        country="TW",
        custom={"erp": "sap"},
    )
    # The demo request was 10 days ago: half its points are left, 15 * 0.5 = 7.5, rounded 8.
    touches = [TouchFact("form_submit", NOW - timedelta(days=10), landing_page="https://x.tw/demo")]
    result = score(rules, lead, touches, NOW)
    # Fit 10 + 8 + 5 + 3 + 4 = 30; engagement +15; decay 8 - 15 = -7. Score 38, band B.
    assert [item.text() for item in result.items] == [
        "+10 industry=manufacturing",
        "+8 company_size=51-1000",
        "+5 title=manager/經理",
        "+3 country=TW/HK",
        "+4 custom.erp=SAP",
        "+15 demo request",
        "-7 decay",
    ]
    assert result.score == 38
    assert result.band == "B"
    assert result.high_intent == ("demo request",)


def test_decay_follows_the_injected_clock():
    rules = parse_rules(POLICY)
    views = [TouchFact("page_view", datetime(2026, 3, 1, tzinfo=UTC))]
    # Scored on the day of the view: 2 points, no decay.
    assert score(rules, LeadFacts(), views, datetime(2026, 3, 1, tzinfo=UTC)).score == 2
    # 20 days later (two half-lives): 2 * 0.25 = 0.5, rounds half away from zero to 1.
    later = score(rules, LeadFacts(), views, datetime(2026, 3, 21, tzinfo=UTC))
    assert later.score == 1
    assert [i.text() for i in later.items] == ["+2 page view", "-1 decay"]
    # 40 days later: 2 * 1/16 = 0.125 -> 0.
    assert score(rules, LeadFacts(), views, datetime(2026, 4, 10, tzinfo=UTC)).score == 0


def test_touches_after_the_scoring_moment_do_not_count_and_max_count_keeps_the_latest():
    rules = parse_rules({**POLICY, "half_life_days": None})
    touches = [TouchFact("page_view", NOW - timedelta(days=d)) for d in range(5)]
    touches.append(TouchFact("page_view", NOW + timedelta(days=1)))
    result = score(rules, LeadFacts(), touches, NOW)
    # Three page views count (max_count 3), 2 points each, no half-life so no decay.
    assert result.score == 6
    assert result.items[0].count == 3


def test_floor_keeps_the_sum_exact():
    rules = parse_rules(POLICY)
    result = score(rules, LeadFacts(lead_type="partner"), [], NOW)
    assert [i.text() for i in result.items] == ["-20 lead_type=partner", "+20 floor 0"]
    assert result.score == 0
    assert result.band == "D"


def test_bands_and_company_sizes():
    bands = {"A": 40, "B": 25, "C": 10}
    assert [band_for(bands, v) for v in (40, 39, 25, 10, 9, -3)] == ["A", "B", "B", "C", "D", "D"]
    assert company_size_number("1,000+") == 1000
    assert company_size_number("51-200") == 51
    assert company_size_number("unknown") is None


def test_malformed_policies_are_refused():
    with pytest.raises(ValidationFailed):
        parse_rules({"fit": [{"field": "shoe_size", "value": 42, "points": 1}]})
    with pytest.raises(ValidationFailed):
        parse_rules({"bands": {"A": 10, "B": 20}})
    with pytest.raises(ValidationFailed):
        parse_rules({"engagement": [{"match": {"colour": "red"}, "points": 1}]})
    with pytest.raises(ValidationFailed):
        parse_rules({"half_life_days": 0})
    parse_rules(DEFAULT_RULES)


TOUCH_TYPES = ("page_view", "form_submit", "email_click", "webinar")
touch_strategy = st.builds(
    TouchFact,
    type=st.sampled_from(TOUCH_TYPES),
    occurred_at=st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2026, 6, 1), timezones=st.just(UTC)
    ),
    landing_page=st.sampled_from([None, "/demo", "/pricing"]),
)
fit_strategy = st.lists(
    st.fixed_dictionaries(
        {
            "field": st.sampled_from(["industry", "country", "title"]),
            "op": st.just("contains"),
            "value": st.sampled_from(["a", "e", "tw", "x"]),
            "points": st.integers(-30, 30),
        }
    ),
    max_size=4,
)
engagement_strategy = st.lists(
    st.fixed_dictionaries(
        {
            "match": st.fixed_dictionaries({"type": st.sampled_from(TOUCH_TYPES)}),
            "points": st.integers(-10, 25),
            "max_count": st.one_of(st.none(), st.integers(1, 5)),
        }
    ),
    max_size=4,
)


@settings(max_examples=120, deadline=None)
@given(
    fit=fit_strategy,
    engagement=engagement_strategy,
    half_life=st.one_of(st.none(), st.floats(0.5, 120)),
    floor=st.one_of(st.none(), st.integers(-10, 10)),
    touches=st.lists(touch_strategy, max_size=12),
    industry=st.sampled_from([None, "manufacturing", "retail"]),
    title=st.sampled_from([None, "Sales Manager", "intern"]),
)
def test_explanation_items_always_add_up_to_the_score(
    fit, engagement, half_life, floor, touches, industry, title
):
    rules = parse_rules({"fit": fit, "engagement": engagement, "half_life_days": half_life, "floor": floor})
    result = score(rules, LeadFacts(industry=industry, title=title, country="TW"), touches, NOW)
    assert sum(item.points for item in result.items) == result.score
    assert all(isinstance(item.points, int) for item in result.items)
    if floor is not None:
        assert result.score >= floor
    # The decayed engagement never exceeds the undecayed one for positive rules.
    if all(r["points"] >= 0 for r in engagement):
        assert sum(i.points for i in result.items if i.kind == "decay") <= 0
