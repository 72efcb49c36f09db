"""Bootstrap intervals contain the point estimate and narrow with more data."""

from __future__ import annotations

import numpy as np
import pytest

from closedloop.attribution.bootstrap import resample_counts, with_intervals
from closedloop.attribution.compare import compare_models
from closedloop.attribution.data import from_paths
from closedloop.attribution.service import model_runner

PATHS = [["A", "B"], ["B"], ["A", "C"], ["C", "B", "A"], ["A"]]


def small(scale: float):
    return from_paths(
        PATHS,
        conversions=np.array([3, 2, 1, 4, 2]) * scale,
        nulls=np.array([5, 6, 4, 3, 8]) * scale,
        values=np.array([30, 20, 10, 40, 20]) * scale,
    )


def test_resample_keeps_the_number_of_people():
    data = small(10)
    again = resample_counts(data, np.random.default_rng(1))
    assert again.conversions.sum() + again.nulls.sum() == data.conversions.sum() + data.nulls.sum()
    # a resampled conversion keeps its path's value per conversion (10)
    assert again.values.sum() == pytest.approx(10 * again.conversions.sum())


@pytest.mark.parametrize("model", ["linear", "markov", "shapley", "first_touch"])
def test_interval_contains_point_and_narrows(model):
    run = model_runner(model)
    few = with_intervals(small(1), run, resamples=100, seed=3)
    many = with_intervals(small(25), run, resamples=100, seed=3)
    for credits in (few, many):
        assert (credits.low["conversions"] <= credits.conversions + 1e-12).all()
        assert (credits.high["conversions"] >= credits.conversions - 1e-12).all()
        assert (credits.low["values"] <= credits.values + 1e-9).all()
        assert (credits.high["values"] >= credits.values - 1e-9).all()
    # relative width: 25x the people gives intervals about 5x narrower
    width_few = (few.high["conversions"] - few.low["conversions"]) / few.conversions.sum()
    width_many = (many.high["conversions"] - many.low["conversions"]) / many.conversions.sum()
    assert (width_many < width_few).all()


def test_comparison_spread_by_hand():
    data = from_paths([["A", "B"]], conversions=[1])
    comparison = compare_models(data, models=("first_touch", "last_touch", "linear"))
    a = comparison.keys.index("A")
    # A gets 1, 0 and 1/2: spread 1, mean 1/2, population std sqrt(1/6)
    assert list(comparison.conversions[a]) == [1, 0, 0.5]
    assert comparison.spread[a] == 1
    assert comparison.cv[a] == pytest.approx(np.sqrt(1 / 6) / 0.5)
