"""Two-proportion tests, Benjamini-Hochberg, root cause on planted data, shift-share sums."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from closedloop.analytics.decompose import (
    Segment,
    benjamini_hochberg,
    root_causes,
    shift_share,
    two_proportion_p,
)


def test_two_proportion_z_test_known_value() -> None:
    # 40/100 against 60/100: pooled 0.5, se = sqrt(0.25 * 0.02) = 0.0707, z = -2.828, p = 0.00468.
    z, p = two_proportion_p(40, 100, 60, 100)
    assert z == pytest.approx(-2.8284, abs=1e-4) and p == pytest.approx(0.004678, abs=1e-6)


def test_benjamini_hochberg_by_hand() -> None:
    # Sorted 0.005, 0.01, 0.03, 0.04 (m = 4): 0.02, 0.02, 0.04, 0.04 after the running minimum.
    assert benjamini_hochberg([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.02, 0.04, 0.04, 0.02])


def _segments(rates: dict[tuple[str, str], float], seed: int) -> tuple[list[Segment], int, int]:
    """Per-lead draws aggregated to every region, industry and region x industry segment."""
    rng = np.random.default_rng(seed)
    regions, industries = ["N", "C", "S", "E"], ["Retail", "Tech", "Health", "Finance", "Food"]
    lead_region = rng.integers(0, 4, 8000)
    lead_industry = rng.integers(0, 5, 8000)
    p = np.array(
        [rates.get((regions[r], industries[i]), 0.3) for r, i in zip(lead_region, lead_industry, strict=True)]
    )
    converted = rng.random(8000) < p
    cols = {"region": np.array(regions)[lead_region], "industry": np.array(industries)[lead_industry]}
    segments = []
    for dims in [("region",), ("industry",), *combinations(("region", "industry"), 2)]:
        keys = list(zip(*(cols[d] for d in dims), strict=True))
        for key in sorted(set(keys)):
            mask = np.array([k == key for k in keys])
            segments.append(
                Segment(dict(zip(dims, key, strict=True)), int(mask.sum()), int(converted[mask].sum()))
            )
    return segments, 8000, int(converted.sum())


def test_root_cause_finds_a_planted_segment_first() -> None:
    segments, n, x = _segments({("S", "Health"): 0.08}, seed=3)
    found = root_causes(segments, n, x)
    assert found and found[0].group == {"region": "S", "industry": "Health"}
    assert found[0].rate < 0.15 and found[0].impact < 0


def test_root_cause_finds_nothing_without_a_planted_segment() -> None:
    segments, n, x = _segments({}, seed=5)
    assert root_causes(segments, n, x) == []


def test_minimum_sample_is_respected() -> None:
    assert root_causes([Segment({"region": "N"}, 10, 0)], 1000, 500, min_n=30) == []


counts = st.dictionaries(
    st.sampled_from(["Email", "Ads", "Events", "Referral", "Direct"]),
    st.integers(min_value=1, max_value=500).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n))),
    min_size=1,
)


@settings(deadline=None)  # a loaded 2-core machine can pause any example
@given(counts, counts)
def test_shift_share_parts_add_up_to_the_change(before, after) -> None:
    result = shift_share(before, after)
    assert result.mix + result.rate == pytest.approx(result.change, abs=1e-12)
    assert sum(s["mix"] + s["rate"] for s in result.segments) == pytest.approx(result.change, abs=1e-12)


def test_shift_share_by_hand() -> None:
    # Email 50% of leads at 20% -> 25% at 20%; Events 50% at 60% -> 75% at 60%: all mix, +10 points.
    result = shift_share({"Email": (100, 20), "Events": (100, 60)}, {"Email": (50, 10), "Events": (150, 90)})
    assert (result.before, result.after) == (0.4, 0.5)
    assert result.mix == pytest.approx(0.1) and result.rate == pytest.approx(0.0)


def test_root_causes_of_equal_impact_come_in_one_order_whatever_order_they_arrive_in() -> None:
    # Two mirror segments of 100 leads: 10 and 10 conversions against 50 of 200 elsewhere each.
    north, south = Segment({"region": "North"}, 100, 10), Segment({"region": "South"}, 100, 10)
    east = Segment({"region": "East"}, 200, 80)
    one = root_causes([north, south, east], 400, 100)
    other = root_causes([east, south, north], 400, 100)
    assert [f.group for f in one] == [f.group for f in other]
    assert abs(one[0].impact) >= abs(one[-1].impact)
