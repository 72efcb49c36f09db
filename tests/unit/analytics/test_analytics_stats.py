"""Wilson score intervals against published values, and their invariants."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from closedloop.analytics.stats import rate, wilson


def test_wilson_known_values() -> None:
    low, high = wilson(8, 10)
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)
    low, high = wilson(1, 2)
    assert (round(low, 4), round(high, 4)) == (0.0945, 0.9055)
    low, high = wilson(0, 10)
    assert low == 0.0 and round(high, 4) == 0.2775
    low, high = wilson(10, 10)
    assert round(low, 4) == 0.7225 and high == 1.0


def test_empty_rate_is_null() -> None:
    assert wilson(0, 0) == (None, None)
    assert rate(0, 0) == {"value": None, "low": None, "high": None, "numerator": 0, "denominator": 0}
    assert rate(3, 4, interval=False)["low"] is None


@given(st.integers(min_value=1, max_value=10_000), st.data())
def test_interval_holds_the_value_within_0_1(n: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(min_value=0, max_value=n))
    low, high = wilson(k, n)
    assert 0.0 <= low <= k / n <= high <= 1.0
