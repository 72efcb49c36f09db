"""The rule-based models on small journeys, with the expected credits worked out by hand."""

from __future__ import annotations

import pytest

from closedloop.attribution import heuristics
from closedloop.attribution.data import from_paths


def assert_credits(got: dict, expected: dict) -> None:
    assert set(got) == set(expected)
    for key, pair in expected.items():
        assert got[key] == pytest.approx(pair), key


@pytest.fixture
def four():
    # J1 A>B>C converts (100), J2 B converts (50), J3 A>A does not, J4 C>A converts (10)
    return from_paths(
        [["A", "B", "C"], ["B"], ["A", "A"], ["C", "A"]],
        conversions=[1, 1, 0, 1],
        values=[100, 50, 0, 10],
    )


def test_first_touch(four):
    assert heuristics.first_touch(four).as_dict() == {"A": (1, 100), "B": (1, 50), "C": (1, 10)}


def test_last_touch(four):
    assert heuristics.last_touch(four).as_dict() == {"A": (1, 10), "B": (1, 50), "C": (1, 100)}


def test_linear(four):
    got = heuristics.linear(four).as_dict()
    assert got["A"] == pytest.approx((1 / 3 + 1 / 2, 100 / 3 + 5))
    assert got["B"] == pytest.approx((1 / 3 + 1, 100 / 3 + 50))
    assert got["C"] == pytest.approx((1 / 3 + 1 / 2, 100 / 3 + 5))


def test_linear_counts_repeats():
    got = heuristics.linear(from_paths([["A", "A", "B"]], conversions=[1], values=[3])).as_dict()
    assert got["A"] == pytest.approx((2 / 3, 2))
    assert got["B"] == pytest.approx((1 / 3, 1))


def test_position_based(four):
    got = heuristics.position_based(four).as_dict()
    assert got["A"] == pytest.approx((0.4 + 0.5, 40 + 5))
    assert got["B"] == pytest.approx((0.2 + 1, 20 + 50))
    assert got["C"] == pytest.approx((0.4 + 0.5, 40 + 5))


def test_position_based_long_journey():
    got = heuristics.position_based(from_paths([["A", "B", "C", "D", "E"]], conversions=[1])).as_dict()
    assert got["A"][0] == pytest.approx(0.4)
    assert got["E"][0] == pytest.approx(0.4)
    for middle in "BCD":
        assert got[middle][0] == pytest.approx(0.2 / 3)


def test_time_decay_halves_each_half_life():
    # ages 14, 7 and 0 days with a 7-day half life: weights 1/4, 1/2, 1 -> shares 1/7, 2/7, 4/7
    journeys = from_paths([["A", "B", "C"]], conversions=[1], values=[70], ages=[[14, 7, 0]])
    got = heuristics.time_decay(journeys, half_life_days=7).as_dict()
    assert got["A"] == pytest.approx((1 / 7, 10))
    assert got["B"] == pytest.approx((2 / 7, 20))
    assert got["C"] == pytest.approx((4 / 7, 40))
    # a one-day half life on ages 2 and 0: weights 1/4 and 1
    got = heuristics.time_decay(
        from_paths([["A", "B"]], conversions=[1], ages=[[2, 0]]), half_life_days=1
    ).as_dict()
    assert got["A"][0] == pytest.approx(0.2)


def test_time_decay_very_old_touches_do_not_vanish():
    journeys = from_paths([["A", "B"]], conversions=[1], ages=[[20000, 20000]])
    assert heuristics.time_decay(journeys, half_life_days=1).as_dict()["A"][0] == pytest.approx(0.5)


def test_w_shaped_distinct_key_touches():
    journeys = from_paths(
        [["A", "B", "C", "D", "E"]],
        conversions=[1],
        values=[100],
        ages=[[5, 4, 3, 2, 1]],
        lead_touch=[1],
        opportunity_touch=[3],
    )
    got = heuristics.w_shaped(journeys).as_dict()
    assert_credits(got, {"A": (0.3, 30), "B": (0.3, 30), "C": (0.05, 5), "D": (0.3, 30), "E": (0.05, 5)})


def test_w_shaped_coinciding_key_touches_add_their_shares():
    # first = lead-creation touch (A), opportunity touch C; B and D share the 10%
    journeys = from_paths(
        [["A", "B", "C", "D"]], conversions=[1], ages=[[4, 3, 2, 1]], lead_touch=[0], opportunity_touch=[2]
    )
    assert_credits(
        heuristics.w_shaped(journeys).as_dict(),
        {"A": (0.6, 0), "B": (0.05, 0), "C": (0.3, 0), "D": (0.05, 0)},
    )


def test_w_shaped_with_no_other_touch_gives_key_touches_everything():
    # two touches: first = lead-creation (60%), opportunity (30%): no rest, so 2/3 and 1/3
    two = from_paths([["A", "B"]], conversions=[1], ages=[[1, 0]], lead_touch=[0], opportunity_touch=[1])
    assert_credits(heuristics.w_shaped(two).as_dict(), {"A": (2 / 3, 0), "B": (1 / 3, 0)})
    one = from_paths([["A"]], conversions=[1], ages=[[0]], lead_touch=[0], opportunity_touch=[0])
    assert_credits(heuristics.w_shaped(one).as_dict(), {"A": (1, 0)})


def test_w_shaped_before_an_opportunity_equals_position_based():
    journeys = from_paths(
        [["A", "B", "C", "D"], ["A", "B"]],
        conversions=[1, 1],
        ages=[[4, 3, 2, 1], [1, 0]],
        lead_touch=[1, 0],
        opportunity_touch=[-1, -1],
    )
    expected = {"A": (0.4 + 0.5, 0), "B": (0.1 + 0.5, 0), "C": (0.1, 0), "D": (0.4, 0)}
    assert_credits(heuristics.w_shaped(journeys).as_dict(), expected)
