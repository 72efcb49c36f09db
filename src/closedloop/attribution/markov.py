"""Markov-chain attribution of order k, solved exactly (sparse linear algebra, no simulation).

States are the last k channels of a journey (consecutive repeats collapsed first), plus start,
conversion and null. P(conv) is the absorption probability into conversion from start. Removing
channel c sends every transition into a state containing c to null; RE_c = 1 - P_c / P.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from closedloop.attribution.data import Credits, Journeys
from closedloop.errors import ValidationFailed
from closedloop.i18n import translate

MAX_ORDER = 4
_DENSE_CODES = 4_000_000  # below this many possible state codes, index them directly
DIRECT_MAX_STATES = 600  # above this many transient states, solve iteratively (see removal_effects)
RESIDUAL_TOLERANCE = 1e-14
_MAX_ITERATIONS = 20_000
_KEYS_PER_BATCH = 64


@dataclass(frozen=True)
class Chain:
    """The fitted chain: row-normalised transient block, conversion column and key membership."""

    transitions: Any  # scipy.sparse.csr_matrix over transient states (0 = start)
    to_conversion: np.ndarray
    contains: Any  # scipy.sparse.csc_matrix (states x keys): state holds key


def collapse_repeats(journeys: Journeys) -> tuple[np.ndarray, np.ndarray]:
    """(touches, offsets) with consecutive repeats of a key inside a journey collapsed to one."""
    pos = journeys.position_of_touch()
    t = journeys.touches
    keep = np.ones(len(t), dtype=bool)
    keep[1:] = (t[1:] != t[:-1]) | (pos[1:] == 0)
    jid = journeys.journey_of_touch()[keep]
    lengths = np.bincount(jid, minlength=journeys.count)
    return t[keep], np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)


def fit_chain(journeys: Journeys, order: int = 1) -> Chain:
    """Fit the order-k chain on every journey, converting and not."""
    from scipy import sparse

    if not 1 <= order <= MAX_ORDER:
        raise ValidationFailed(translate("attribution.error.order", max=MAX_ORDER), detail={"field": "order"})
    touches, offsets = collapse_repeats(journeys)
    lengths = np.diff(offsets)
    n_keys = len(journeys.keys)
    pos = np.arange(len(touches), dtype=np.int64) - np.repeat(offsets[:-1], lengths)
    state, n_states, members = _states(touches, pos, order, n_keys)
    weight = journeys.conversions + journeys.nulls
    w_touch = np.repeat(weight, lengths)
    size = n_states + 1  # transient states; 0 = start
    firsts, lasts = offsets[:-1], offsets[1:] - 1
    # start -> first state, each state -> the next inside the journey
    frm = np.concatenate([np.zeros(len(firsts), dtype=np.int64), state[:-1][pos[1:] > 0]])
    to = np.concatenate([state[firsts], state[1:][pos[1:] > 0]])
    w = np.concatenate([weight, w_touch[1:][pos[1:] > 0]])
    if size * size <= 4 * _DENSE_CODES:
        flat = np.bincount(frm * size + to, weights=w, minlength=size * size)
        nz = np.flatnonzero(flat)
        counts = sparse.csr_matrix((flat[nz], (nz // size, nz % size)), shape=(size, size))
    else:
        counts = sparse.csr_matrix((w, (frm, to)), shape=(size, size))
    conv = np.bincount(state[lasts], weights=journeys.conversions, minlength=size)
    null = np.bincount(state[lasts], weights=journeys.nulls, minlength=size)
    totals = np.asarray(counts.sum(axis=1)).ravel() + conv + null
    totals[totals == 0] = 1.0
    scale = sparse.diags(1.0 / totals)
    contains = sparse.csc_matrix((np.ones(len(members[0])), members), shape=(size, n_keys), dtype=np.float64)
    return Chain((scale @ counts).tocsr(), conv / totals, contains)


def _states(touches: np.ndarray, pos: np.ndarray, order: int, n_keys: int) -> tuple[np.ndarray, int, tuple]:
    """State id (1-based) of each collapsed touch, the state count, and (state, key) membership pairs."""
    base = n_keys + 1
    digits = [np.where(pos >= j, np.roll(touches, j) + 1, 0) for j in range(order)]
    if base**order <= _DENSE_CODES:
        codes = sum(d * base**j for j, d in enumerate(digits))
        present = np.zeros(base**order, dtype=bool)
        present[codes] = True
        unique_codes = np.flatnonzero(present)
        ids = np.cumsum(present) - 1
        state = ids[codes] + 1
        unique_digits = [(unique_codes // base**j) % base for j in range(order)]
    else:
        matrix = np.stack(digits, axis=1)
        unique_rows, inverse = np.unique(matrix, axis=0, return_inverse=True)
        state = inverse.ravel() + 1
        unique_digits = [unique_rows[:, j] for j in range(order)]
    n_states = len(unique_digits[0])
    rows, cols = [], []
    for d in unique_digits:
        has = d > 0
        rows.append(np.flatnonzero(has) + 1)
        cols.append(d[has] - 1)
    pairs = np.unique(np.stack([np.concatenate(rows), np.concatenate(cols)], axis=1), axis=0)
    return state.astype(np.int64), n_states, (pairs[:, 0], pairs[:, 1])


def conversion_probability(chain: Chain, keep: np.ndarray | None = None) -> float:
    """P(absorbed in conversion | start), optionally on the sub-chain of the `keep` states."""
    from scipy import sparse
    from scipy.sparse.linalg import spsolve

    q = chain.transitions
    b = chain.to_conversion
    if keep is not None:
        idx = np.flatnonzero(keep)
        q = q[idx][:, idx]
        b = b[idx]
    if not b.any():
        return 0.0
    system = (sparse.identity(q.shape[0], format="csc") - q).tocsc()
    return float(np.atleast_1d(spsolve(system, b))[0])


def removal_effects(chain: Chain, n_keys: int) -> tuple[float, np.ndarray]:
    """(P(conv), RE per key).

    Small chains: one sparse LU solve per key on the sub-chain without it. Large (high-order)
    chains, whose LU fills in badly, solve every sub-chain at once: x_c = keep_c * (Q x_c + b)
    iterated to a fixed point (the Neumann series of (I - Q_K)^-1 b, which converges because
    every journey is absorbed), then each system's residual is checked against 1e-14 and a
    sparse LU solves any system that misses it.
    """
    holds = chain.contains
    present = np.flatnonzero(np.diff(holds.indptr) > 0)
    n_states = holds.shape[0]
    effects = np.zeros(n_keys)
    large = n_states > DIRECT_MAX_STATES
    base = float(_batched_probabilities(chain, None)[0]) if large else conversion_probability(chain)
    if base <= 0:
        return base, effects
    if not large:
        for key in present:
            keep = np.ones(n_states, dtype=bool)
            keep[holds[:, key].indices] = False
            effects[key] = 1.0 - conversion_probability(chain, keep) / base
    else:
        for chunk in range(0, len(present), _KEYS_PER_BATCH):
            keys = present[chunk : chunk + _KEYS_PER_BATCH]
            effects[keys] = 1.0 - _batched_probabilities(chain, keys) / base
    return base, np.clip(effects, 0.0, 1.0)


def _batched_probabilities(chain: Chain, keys: np.ndarray | None) -> np.ndarray:
    """P(conv) on the sub-chain without each key (None: the whole chain) in one fixed-point iteration."""
    q, b = chain.transitions, chain.to_conversion
    keep = np.ones((q.shape[0], 1)) if keys is None else 1.0 - chain.contains[:, keys].toarray()
    x = keep * b[:, None]
    for _ in range(_MAX_ITERATIONS):
        following = keep * (q @ x + b[:, None])
        step = np.abs(following - x).max()
        x = following
        if step <= 4 * np.finfo(np.float64).eps * max(1.0, float(x.max())):
            break
    residual = np.abs(keep * (q @ x + b[:, None]) - x).max(axis=0)
    result = x[0].copy()
    for column in np.flatnonzero(residual > RESIDUAL_TOLERANCE):
        result[column] = conversion_probability(chain, keep[:, column] > 0)
    return result


def markov(journeys: Journeys, *, order: int = 1) -> Credits:
    """Credits proportional to each key's removal effect, scaled to total conversions and value."""
    chain = fit_chain(journeys, order)
    _, effects = removal_effects(chain, len(journeys.keys))
    total = effects.sum()
    share = effects / total if total > 0 else np.full(len(journeys.keys), 1.0 / max(len(journeys.keys), 1))
    return Credits(
        "markov",
        list(journeys.keys),
        share * journeys.conversions.sum(),
        share * journeys.values.sum(),
        removal_effects=effects,
    )
