"""Markov removal effects: by hand, against an independent dense solve, and invariant to repeats."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from closedloop.attribution.data import from_paths
from closedloop.attribution.markov import markov


def test_order_one_by_hand():
    # start->A 2, start->B 1; A->B 1, A->null 1; B->conv 2.  P(conv) = 2/3 * 1/2 + 1/3 = 2/3.
    # without A: only start->B->conv survives: 1/3, RE_A = 1/2.  without B: 0, RE_B = 1.
    journeys = from_paths([["A", "B"], ["A"], ["B"]], conversions=[1, 0, 1], values=[30, 0, 60])
    got = markov(journeys)
    assert dict(zip(got.keys, got.removal_effects, strict=True)) == pytest.approx({"A": 0.5, "B": 1.0})
    credits = got.as_dict()
    assert credits["A"] == pytest.approx((2 * 0.5 / 1.5, 90 * 0.5 / 1.5))
    assert credits["B"] == pytest.approx((2 * 1.0 / 1.5, 90 * 1.0 / 1.5))


def dense_removal_effects(paths, conversions, nulls, order):
    """An independent implementation: explicit states, a full matrix with absorbing rows, a dense solve."""
    collapsed = [[c for i, c in enumerate(p) if i == 0 or p[i - 1] != c] for p in paths]
    states = ["start"]
    for p in collapsed:
        for i in range(len(p)):
            state = tuple(p[max(0, i - order + 1) : i + 1])
            if state not in states:
                states.append(state)
    states += ["conv", "null"]
    index = {s: i for i, s in enumerate(states)}
    counts = np.zeros((len(states), len(states)))
    for p, conv, null in zip(collapsed, conversions, nulls, strict=True):
        walk = ["start"] + [tuple(p[max(0, i - order + 1) : i + 1]) for i in range(len(p))]
        for a, b in itertools.pairwise(walk):
            counts[index[a], index[b]] += conv + null
        counts[index[walk[-1]], index["conv"]] += conv
        counts[index[walk[-1]], index["null"]] += null
    counts[index["conv"], index["conv"]] = 1
    counts[index["null"], index["null"]] = 1

    def p_conv(matrix):
        p = matrix / matrix.sum(axis=1, keepdims=True)
        n = len(states) - 2
        q, r = p[:n, :n], p[:n, n]
        return np.linalg.solve(np.eye(n) - q, r)[0]

    base = p_conv(counts)
    effects = {}
    for channel in sorted({c for p in paths for c in p}):
        removed = counts.copy()
        for s, i in index.items():
            if isinstance(s, tuple) and channel in s:
                removed[:, index["null"]] += removed[:, i]
                removed[:, i] = 0
        effects[channel] = 1 - p_conv(removed) / base
    return effects


@pytest.mark.parametrize("order", [1, 2])
def test_removal_effects_match_a_dense_solve(order):
    rng = np.random.default_rng(7)
    paths = [list(rng.choice(list("ABCD"), size=rng.integers(1, 6))) for _ in range(60)]
    conversions = rng.integers(0, 3, size=60).astype(float)
    nulls = rng.integers(0, 4, size=60).astype(float)
    nulls[(conversions == 0) & (nulls == 0)] = 1
    expected = dense_removal_effects(paths, conversions, nulls, order)
    got = markov(from_paths(paths, conversions=conversions, nulls=nulls), order=order)
    assert dict(zip(got.keys, got.removal_effects, strict=True)) == pytest.approx(expected, abs=1e-12)
    assert got.conversions.sum() == pytest.approx(conversions.sum())


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_consecutive_repeats_change_nothing(order):
    paths = [["A", "B", "C"], ["B", "A"], ["C"], ["A", "C", "B", "A"], ["B"]]
    conversions, nulls, values = [1, 0, 1, 2, 0], [1, 2, 0, 1, 1], [10, 0, 5, 7, 0]
    repeated = [
        ["A", "A", "B", "B", "B", "C"],
        ["B", "A", "A"],
        ["C", "C"],
        ["A", "C", "C", "B", "A"],
        ["B", "B"],
    ]
    plain = markov(from_paths(paths, conversions=conversions, nulls=nulls, values=values), order=order)
    again = markov(from_paths(repeated, conversions=conversions, nulls=nulls, values=values), order=order)
    np.testing.assert_allclose(again.removal_effects, plain.removal_effects, atol=1e-12)
    np.testing.assert_allclose(again.conversions, plain.conversions, atol=1e-12)
    np.testing.assert_allclose(again.values, plain.values, atol=1e-12)


def test_higher_order_sees_sequence():
    # order 2: only the pair A->B converts; B alone and B->A never do
    journeys = from_paths([["A", "B"], ["B"], ["B", "A"]], conversions=[1, 0, 0], nulls=[0, 1, 1])
    got = markov(journeys, order=2)
    assert dict(zip(got.keys, got.removal_effects, strict=True)) == pytest.approx({"A": 1.0, "B": 1.0})
    assert got.as_dict()["A"][0] == pytest.approx(0.5)


@pytest.mark.parametrize("order", [2, 3])
def test_iterative_solver_matches_the_dense_solve(order, monkeypatch):
    from closedloop.attribution import markov as markov_module

    monkeypatch.setattr(markov_module, "DIRECT_MAX_STATES", 0)
    rng = np.random.default_rng(11)
    paths = [list(rng.choice(list("ABCDEF"), size=rng.integers(1, 7))) for _ in range(200)]
    conversions = rng.integers(0, 3, size=200).astype(float)
    nulls = (rng.integers(0, 4, size=200) + (conversions == 0)).astype(float)
    expected = dense_removal_effects(paths, conversions, nulls, order)
    got = markov(from_paths(paths, conversions=conversions, nulls=nulls), order=order)
    assert dict(zip(got.keys, got.removal_effects, strict=True)) == pytest.approx(expected, abs=1e-11)
