"""Pure parts of the review and reports: movement scores, periods, figures, the message catalogue."""

from __future__ import annotations

import string
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from closedloop.i18n.messages.reports import MESSAGES
from closedloop.reports.build import month_period, week_period
from closedloop.reports.render import fmt
from closedloop.reviews.agenda import movement_score, movements

finite = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False)


def test_movement_score_by_hand() -> None:
    assert movement_score(4, 2) == 0.5
    assert movement_score(1500, 4000) == 0.625
    assert movement_score(0, 3) == 1.0
    assert movement_score(0, 0) == 0.0
    assert movement_score(None, 3) is None


@given(finite, finite)
def test_movement_score_is_symmetric_and_bounded(a: float, b: float) -> None:
    score = movement_score(a, b)
    assert score == movement_score(b, a)
    assert 0.0 <= score <= 2.0 + 1e-12
    if a * b >= 0:  # same sign: at most "from or to nothing"
        assert score <= 1.0 + 1e-12


def test_movements_rank_largest_first_ties_in_order_and_skip_unchanged() -> None:
    def fig(value):
        return {"metric": "m", "stage": None, "value": value, "unit": "count"}

    before = {"a": fig(10), "b": fig(10), "c": fig(10), "d": fig(None), "e": fig(5)}
    after = {"a": fig(5), "b": fig(20), "c": fig(9), "d": fig(7), "e": fig(5)}
    # a: 5/10 = .5, b: 10/20 = .5, c: 1/10 = .1, d: no before, e: unchanged.
    assert [(m["key"], m["change"]) for m in movements(before, after)] == [("a", -5), ("b", 10), ("c", -1)]
    assert [m["key"] for m in movements(before, after, top=1)] == ["a"]


def test_periods_are_the_last_complete_week_and_month() -> None:
    assert week_period(date(2026, 3, 16)) == (date(2026, 3, 9), date(2026, 3, 15))  # a Monday
    assert week_period(date(2026, 3, 22)) == (date(2026, 3, 9), date(2026, 3, 15))  # the Sunday after
    assert week_period(date(2026, 1, 1)) == (date(2025, 12, 22), date(2025, 12, 28))
    assert month_period(date(2026, 3, 1)) == (date(2026, 2, 1), date(2026, 2, 28))
    assert month_period(date(2024, 3, 31)) == (date(2024, 2, 1), date(2024, 2, 29))


def test_figures_as_people_read_them() -> None:
    assert fmt(None) == "—"
    assert fmt(0.5, "ratio") == "50.0%"
    assert fmt(1234567.4, "money", "TWD") == "1,234,567 TWD"
    assert fmt(3) == "3"
    assert fmt(2.5, "days") == "2.5"


def test_every_message_in_three_languages_with_the_same_placeholders() -> None:
    def names(text: str) -> set[str]:
        return {field for _, field, _, _ in string.Formatter().parse(text) if field}

    for key, entry in MESSAGES.items():
        assert set(entry) == {"en", "zh-TW", "zh-CN"}, key
        assert all(entry.values()), key
        assert names(entry["en"]) == names(entry["zh-TW"]) == names(entry["zh-CN"]), key
