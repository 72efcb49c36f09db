"""Shapley-value attribution over each converting journey's distinct channels (SPEC section 6).

v(T) is the conversion rate of the journeys whose set of distinct keys is exactly T. Sets are
identified by an additive 64-bit code (a bit per key when there are at most 63 keys, else a
random 64-bit number per key), so a set's code is the sum of its members' codes and every
subset's code is computed with array arithmetic. Shapley values are computed once per distinct
converting set (memoised), by the exact formula.
"""

from __future__ import annotations

from math import factorial

import numpy as np

from closedloop.attribution.data import OTHER_KEY, Credits, Journeys

MAX_PLAYERS = 12
_CHUNK = 1 << 20  # subsets evaluated at once (sets per chunk = this >> set size)


def shapley(journeys: Journeys) -> Credits:
    """Split each converting journey's conversion and value over its distinct keys by Shapley value."""
    keys, pairs_journey, pairs_key = _distinct_sets(journeys)
    n_keys = len(keys)
    if n_keys <= 63:
        key_code = np.left_shift(np.uint64(1), np.arange(n_keys, dtype=np.uint64))
    else:
        key_code = np.random.default_rng(20260101).integers(0, 2**63, n_keys, dtype=np.uint64) * np.uint64(
            2
        ) + np.uint64(1)
    set_code = np.zeros(journeys.count, dtype=np.uint64)
    np.add.at(set_code, pairs_journey, key_code[pairs_key])
    # v(T): conversion rate of every journey whose distinct-key set is exactly T
    codes, inverse = np.unique(set_code, return_inverse=True)
    conv = np.bincount(inverse, weights=journeys.conversions, minlength=len(codes))
    people = np.bincount(inverse, weights=journeys.conversions + journeys.nulls, minlength=len(codes))
    rate = np.divide(conv, people, out=np.zeros(len(codes)), where=people > 0)
    val = np.bincount(inverse, weights=journeys.values, minlength=len(codes))
    # one member list per distinct set (from any journey holding it)
    first_journey = np.full(len(codes), -1, dtype=np.int64)
    first_journey[inverse[::-1]] = np.arange(journeys.count)[::-1]
    order = np.argsort(pairs_journey, kind="stable")
    pj, pk = pairs_journey[order], pairs_key[order]
    starts = np.searchsorted(pj, first_journey)
    ends = np.searchsorted(pj, first_journey, side="right")
    credit_conv = np.zeros(n_keys)
    credit_val = np.zeros(n_keys)
    sizes = ends - starts
    converting = np.flatnonzero(conv > 0)
    for n in np.unique(sizes[converting]) if len(converting) else []:
        group = converting[sizes[converting] == n]
        step = max(1, _CHUNK >> int(n))
        for chunk in range(0, len(group), step):
            sets = group[chunk : chunk + step]
            members = pk[starts[sets][:, None] + np.arange(n)]
            shares = _shares(members, key_code, codes, rate)
            np.add.at(credit_conv, members, shares * conv[sets][:, None])
            np.add.at(credit_val, members, shares * val[sets][:, None])
    # value of sets that never converted (value without conversions): split equally
    for s in np.flatnonzero((conv == 0) & (val != 0)):
        members = pk[starts[s] : ends[s]]
        np.add.at(credit_val, members, val[s] / len(members))
    return Credits("shapley", keys, credit_conv, credit_val)


def _shares(members: np.ndarray, key_code: np.ndarray, codes: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Shapley values for sets of n members (one row each) in the game v, negatives to 0, rows sum to 1.

    Subset m of a row is a bit mask over its members; its code is the sum of the members' codes.
    phi_b = sum over subsets m without b of |m|! (n - |m| - 1)! / n! * (v(m + b) - v(m)).
    """
    rows, n = members.shape
    sub = np.zeros((rows, 1), dtype=np.uint64)
    size = np.zeros(1, dtype=np.int64)
    for j in range(n):
        sub = np.concatenate([sub, sub + key_code[members[:, j]][:, None]], axis=1)
        size = np.concatenate([size, size + 1])
    where = np.minimum(np.searchsorted(codes, sub), len(codes) - 1)
    v = np.where(codes[where] == sub, rate[where], 0.0)
    weight = np.array([factorial(t) * factorial(n - t - 1) / factorial(n) for t in range(n)] + [0.0])
    index = np.arange(1 << n)
    phi = np.empty((rows, n))
    for b in range(n):
        without = index[(index >> b) & 1 == 0]
        phi[:, b] = (v[:, without + (1 << b)] - v[:, without]) @ weight[size[without]]
    phi = np.maximum(phi, 0.0)
    total = phi.sum(axis=1, keepdims=True)
    return np.divide(phi, total, out=np.full_like(phi, 1.0 / n), where=total > 0)


def _distinct_sets(journeys: Journeys) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Keys (with `(other)` if needed) and the distinct (journey, key) pairs.

    A journey with more than 12 distinct keys keeps its 11 most-touched keys (ties: the key
    touched earlier in the journey) and groups the rest as `(other)`.
    """
    n_keys = len(journeys.keys)
    jid = journeys.journey_of_touch()
    pair = jid * n_keys + journeys.touches
    unique_pair, first_pos, touch_count = np.unique(pair, return_index=True, return_counts=True)
    pj, pk = unique_pair // n_keys, unique_pair % n_keys
    distinct = np.bincount(pj, minlength=journeys.count)
    crowded = distinct[pj] > MAX_PLAYERS
    keys = list(journeys.keys)
    if not crowded.any():
        return keys, pj, pk
    other = keys.index(OTHER_KEY) if OTHER_KEY in keys else len(keys)
    if other == len(keys):
        keys.append(OTHER_KEY)
    # rank inside each crowded journey: most touches first, then earliest first touch
    idx = np.flatnonzero(crowded)
    order = np.lexsort((first_pos[idx], -touch_count[idx], pj[idx]))
    ranked = idx[order]
    group_start = np.searchsorted(pj[ranked], pj[ranked], side="left")
    rank = np.arange(len(ranked)) - group_start
    new_key = pk.copy()
    new_key[ranked[rank >= MAX_PLAYERS - 1]] = other
    merged = np.unique(pj * len(keys) + new_key)
    return keys, merged // len(keys), merged % len(keys)
