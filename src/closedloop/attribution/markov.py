"""Markov-chain attribution of order k, solved exactly (sparse linear algebra, no simulation).

States are the last k channels of a journey (consecutive repeats collapsed first), plus start,
conversion and null. P(conv) is the absorption probability into conversion from start. Removing
channel c sends every transition into a state containing c to null; RE_c = 1 - P_c / P.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from closedloop.attribution.data import Credits, Journeys
from closedloop.errors import ValidationFailed
from closedloop.i18n import translate

MAX_ORDER = 4
_DENSE_CODES = 4_000_000  # below this many possible state codes, index them directly
DIRECT_MAX_STATES = 600  # above this many transient states, solve iteratively (see solve_absorbing)
RESIDUAL_TOLERANCE = 1e-13


@dataclass(frozen=True)
class Chain:
    """The fitted chain: row-normalised transient block, conversion column and key membership."""

    transitions: object  # scipy.sparse.csr_matrix over transient states (0 = start)
    to_conversion: np.ndarray
    contains: object  # scipy.sparse.csc_matrix (states x keys): state holds key


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
    q = chain.transitions
    b = chain.to_conversion
    if keep is not None:
        idx = np.flatnonzero(keep)
        q = q[idx][:, idx]
        b = b[idx]
    if not b.any():
        return 0.0
    return float(solve_absorbing(q, b)[0])


def solve_absorbing(q: object, b: np.ndarray) -> np.ndarray:
    """Solve (I - Q) x = b for a sub-stochastic Q.

    Small systems use a sparse LU (spsolve). High-order chains (de Bruijn-like graphs whose LU
    fills in badly) use GMRES to a 1e-14 relative residual; I - Q is a non-singular M-matrix and
    journeys are short, so it converges in a few dozen iterations. Its residual is checked, and
    the sparse LU is used whenever that check fails.
    """
    from scipy import sparse
    from scipy.sparse.linalg import gmres, splu, spsolve

    n = q.shape[0]  # type: ignore[attr-defined]
    system = (sparse.identity(n, format="csr") - q).tocsr()
    if n > DIRECT_MAX_STATES:
        x, info = gmres(system, b, rtol=1e-14, atol=0.0, restart=min(n, 60), maxiter=200)
        if info == 0 and np.abs(system @ x - b).max() <= RESIDUAL_TOLERANCE:
            return np.asarray(x)
        return np.asarray(splu(system.tocsc()).solve(b))
    return np.atleast_1d(spsolve(system.tocsc(), b))


def removal_effects(chain: Chain, n_keys: int) -> tuple[float, np.ndarray]:
    """(P(conv), RE per key)."""
    base = conversion_probability(chain)
    effects = np.zeros(n_keys)
    if base <= 0:
        return base, effects
    holds = chain.contains
    for key in range(n_keys):
        column = holds[:, key]
        if column.nnz == 0:
            continue
        keep = np.ones(holds.shape[0], dtype=bool)
        keep[column.indices] = False
        effects[key] = 1.0 - conversion_probability(chain, keep) / base
    return base, np.clip(effects, 0.0, 1.0)


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
