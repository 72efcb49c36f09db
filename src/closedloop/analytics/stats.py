"""Plain statistics the scorecard shares: Wilson score intervals (pure functions, no database)."""

from __future__ import annotations

import math

Z95 = 1.959963984540054  # two-sided 95% normal quantile


def wilson(numerator: int, denominator: int, z: float = Z95) -> tuple[float | None, float | None]:
    """The Wilson score interval of numerator/denominator, clamped to [0, 1]; (None, None) when empty."""
    if denominator <= 0:
        return None, None
    n = float(denominator)
    p = numerator / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    low, high = max(0.0, centre - half), min(1.0, centre + half)
    # Rounding can leave the bound a hair inside the point estimate at p = 0 or 1.
    return min(low, p), max(high, p)


def rate(numerator: int, denominator: int, *, interval: bool = True) -> dict[str, float | int | None]:
    """A rate as the contract shapes it: value, low, high, numerator, denominator."""
    value = numerator / denominator if denominator else None
    low, high = wilson(numerator, denominator) if interval else (None, None)
    return {
        "value": value,
        "low": low,
        "high": high,
        "numerator": int(numerator),
        "denominator": int(denominator),
    }
