"""Pure statistics behind "why did it change": two-proportion tests with Benjamini-Hochberg
correction (root cause) and the symmetric shift-share split of a rate change (mix versus rate).
Inputs are per-segment counts (a few hundred rows at most), never per-lead rows."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Segment:
    """One segment's counts: `n` leads in the cohort, `x` of them converted."""

    group: dict[str, str]
    n: int
    x: int


@dataclass(frozen=True)
class Finding:
    """A segment whose rate differs significantly from the rest of the cohort."""

    group: dict[str, str]
    n: int
    rate: float
    rest_n: int
    rest_rate: float
    z: float
    p_value: float
    q_value: float
    impact: float  # conversions gained (+) or cost (-) against the rest's rate


def two_proportion_p(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float]:
    """(z, two-sided p-value) of the pooled two-proportion z-test."""
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 0.0, 1.0
    z = (x1 / n1 - x2 / n2) / se
    return z, math.erfc(abs(z) / math.sqrt(2))


def benjamini_hochberg(p_values: list[float]) -> list[float]:
    """BH-adjusted q-values, in the order given."""
    m = len(p_values)
    order = sorted(range(m), key=p_values.__getitem__)
    q = [0.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, p_values[i] * m / rank)
        q[i] = running
    return q


def root_causes(
    segments: list[Segment], total_n: int, total_x: int, *, alpha: float = 0.05, min_n: int = 30
) -> list[Finding]:
    """Segments whose rate differs from the rest (BH at `alpha`), ranked by conversions cost or gained."""
    tested = [s for s in segments if s.n >= min_n and total_n - s.n >= min_n]
    stats = [two_proportion_p(s.x, s.n, total_x - s.x, total_n - s.n) for s in tested]
    q_values = benjamini_hochberg([p for _, p in stats]) if stats else []
    found = []
    for s, (z, p), q in zip(tested, stats, q_values, strict=True):
        if q <= alpha:
            rest_n, rest_x = total_n - s.n, total_x - s.x
            rest_rate = rest_x / rest_n
            found.append(Finding(s.group, s.n, s.x / s.n, rest_n, rest_rate, z, p, q, s.x - s.n * rest_rate))
    # Equal impacts in a fixed order (fewer dimensions first, then by value): the engine's row order is not.
    return sorted(found, key=lambda f: (-abs(f.impact), len(f.group), repr(sorted(f.group.items()))))


@dataclass(frozen=True)
class ShiftShare:
    """A rate change split into mix (segment shares) and rate (within-segment conversion) parts."""

    before: float
    after: float
    mix: float
    rate: float
    segments: list[dict[str, Any]]

    @property
    def change(self) -> float:
        return self.after - self.before


def shift_share(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> ShiftShare:
    """Symmetric shift-share of the overall rate between two periods; `{segment: (n, x)}` each.

    mix_i = (w1 - w0)(r0 + r1)/2 and rate_i = (r1 - r0)(w0 + w1)/2, so their sum over segments is
    exactly rate_after - rate_before. A segment present in one period only takes that period's
    rate for both (all of its contribution is mix).
    """
    n0 = sum(n for n, _ in before.values())
    n1 = sum(n for n, _ in after.values())
    rows: list[dict[str, Any]] = []
    total_mix = total_rate = 0.0
    for key in sorted(set(before) | set(after)):
        b_n, b_x = before.get(key, (0, 0))
        a_n, a_x = after.get(key, (0, 0))
        w0 = b_n / n0 if n0 else 0.0
        w1 = a_n / n1 if n1 else 0.0
        r0 = b_x / b_n if b_n else None
        r1 = a_x / a_n if a_n else None
        r0v = r0 if r0 is not None else (r1 or 0.0)
        r1v = r1 if r1 is not None else r0v
        mix = (w1 - w0) * (r0v + r1v) / 2
        rate = (r1v - r0v) * (w0 + w1) / 2
        total_mix += mix
        total_rate += rate
        rows.append({"segment": key, "share_before": w0, "share_after": w1, "rate_before": r0, "rate_after": r1,
                     "mix": mix, "rate": rate})  # fmt: skip
    rows.sort(key=lambda r: -(abs(r["mix"]) + abs(r["rate"])))
    before_rate = sum(x for _, x in before.values()) / n0 if n0 else 0.0
    after_rate = sum(x for _, x in after.values()) / n1 if n1 else 0.0
    return ShiftShare(before_rate, after_rate, total_mix, total_rate, rows)
