"""Shapley credits worked out by hand."""

from __future__ import annotations

import pytest

from closedloop.attribution.data import from_paths
from closedloop.attribution.shapley import shapley


def test_two_channels_by_hand():
    # sets: {A}: 1 of 2 converted (v=1/2); {B}: 0 of 1 (v=0); {A,B}: 2 of 2 (v=1)
    # in {A,B}: phi_A = 1/2 (v(A) - 0) + 1/2 (v(AB) - v(B)) = 3/4, phi_B = 1/2 * 0 + 1/2 (1 - 1/2) = 1/4
    journeys = from_paths(
        [["A"], ["A"], ["B"], ["A", "B"], ["B", "A", "B"]],
        conversions=[1, 0, 0, 1, 1],
        values=[10, 0, 0, 20, 40],
    )
    got = shapley(journeys).as_dict()
    assert got["A"] == pytest.approx((1 + 2 * 0.75, 10 + 60 * 0.75))
    assert got["B"] == pytest.approx((2 * 0.25, 60 * 0.25))


def test_negative_values_are_dropped_and_the_rest_renormalised():
    # v(A) = 4/5, v(B) = 0, v(AB) = 1/5: phi_A = 1/2 * 4/5 + 1/2 * 1/5 = 1/2, phi_B = 1/2 (1/5 - 4/5) < 0 -> 0
    journeys = from_paths(
        [["A"], ["A"], ["B"], ["A", "B"], ["A", "B"]],
        conversions=[4, 0, 0, 1, 0],
        nulls=[0, 1, 1, 0, 4],
        values=[0, 0, 0, 9, 0],
    )
    got = shapley(journeys).as_dict()
    assert got["A"] == pytest.approx((4 + 1, 9))
    assert got["B"] == pytest.approx((0, 0))


def test_three_channels_by_hand():
    # v: A=.2, B=.4, C=0, AB=.6, AC=.3, BC=.5, ABC=.9 (10 people per set; only ABC counts for credit)
    rates = {"A": 2, "B": 4, "C": 0, "AB": 6, "AC": 3, "BC": 5, "ABC": 9}
    paths, conv, null = [], [], []
    for members, converted in rates.items():
        paths.append(list(members))
        conv.append(converted)
        null.append(10 - converted)
    got = shapley(from_paths(paths, conversions=conv, nulls=null)).as_dict()
    # phi_A over orders (1/3 alone, 1/6 after B, 1/6 after C, 1/3 after both)
    phi_a = 0.2 / 3 + (0.6 - 0.4) / 6 + (0.3 - 0) / 6 + (0.9 - 0.5) / 3
    phi_b = 0.4 / 3 + (0.6 - 0.2) / 6 + (0.5 - 0) / 6 + (0.9 - 0.3) / 3
    phi_c = 0 / 3 + (0.3 - 0.2) / 6 + (0.5 - 0.4) / 6 + (0.9 - 0.6) / 3
    assert phi_a + phi_b + phi_c == pytest.approx(0.9)
    # credits of the ABC set's 9 conversions, plus the smaller sets' own conversions
    a_from_ab = 6 * (0.2 / 2 + (0.6 - 0.4) / 2) / 0.6
    b_from_ab = 6 * (0.4 / 2 + (0.6 - 0.2) / 2) / 0.6
    a_from_ac = 3 * (0.2 / 2 + (0.3 - 0) / 2) / 0.3
    c_from_ac = 3 * (0 / 2 + (0.3 - 0.2) / 2) / 0.3
    b_from_bc = 5 * (0.4 / 2 + (0.5 - 0) / 2) / 0.5
    c_from_bc = 5 * (0 / 2 + (0.5 - 0.4) / 2) / 0.5
    assert got["A"][0] == pytest.approx(2 + a_from_ab + a_from_ac + 9 * phi_a / 0.9)
    assert got["B"][0] == pytest.approx(4 + b_from_ab + b_from_bc + 9 * phi_b / 0.9)
    assert got["C"][0] == pytest.approx(c_from_ac + c_from_bc + 9 * phi_c / 0.9)


def test_more_than_twelve_channels_groups_the_smallest_as_other():
    channels = [f"c{i:02d}" for i in range(14)]
    # c00..c10 touched twice, c11..c13 once: 11 keep their name, the three smallest become (other)
    path = [c for c in channels[:11] for _ in range(2)] + channels[11:]
    got = shapley(from_paths([path], conversions=[1], values=[12])).as_dict()
    assert "(other)" in got
    assert got["(other)"][0] > 0
    assert all(got[c][0] == 0 for c in channels[11:])
    assert sum(c for c, _ in got.values()) == pytest.approx(1)
    assert sum(v for _, v in got.values()) == pytest.approx(12)
