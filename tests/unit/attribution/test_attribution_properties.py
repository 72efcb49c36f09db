"""Invariant: every model's credits add up to the total conversions and the total value."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from closedloop.attribution.data import from_paths
from closedloop.attribution.service import MODELS, attribute


@st.composite
def journeys(draw):
    n = draw(st.integers(1, 12))
    paths, ages, lead, opp, conv, null, value = [], [], [], [], [], [], []
    for _ in range(n):
        path = draw(st.lists(st.sampled_from("ABCDE"), min_size=0, max_size=6))
        paths.append(path)
        length = max(len(path), 1)
        ages.append(sorted(draw(st.lists(st.floats(0, 400), min_size=length, max_size=length)), reverse=True))
        lead.append(draw(st.integers(0, length - 1)))
        opp.append(draw(st.integers(-1, length - 1)))
        conv.append(draw(st.integers(0, 3)))
        null.append(draw(st.integers(0, 3)))
        value.append(draw(st.floats(0, 1e6)) if conv[-1] else 0.0)
    return from_paths(
        paths, conversions=conv, nulls=null, values=value, ages=ages, lead_touch=lead, opportunity_touch=opp
    )


@settings(max_examples=60, deadline=None)
@given(journeys(), st.integers(1, 4), st.floats(0.1, 60))
def test_credits_sum_to_totals(data, order, half_life):
    for model in MODELS:
        credits = attribute(data, model, order=order, half_life_days=half_life)
        assert np.isclose(credits.conversions.sum(), data.conversions.sum(), rtol=1e-9, atol=1e-9), model
        assert np.isclose(credits.values.sum(), data.values.sum(), rtol=1e-9, atol=1e-6), model
        assert (credits.conversions >= -1e-12).all(), model
