"""Bootstrap confidence intervals: resample people (journeys) with replacement, rerun the model.

A journey row may stand for many people (path tables); each resample draws the same number of
people from the rows' converting and non-converting counts (one multinomial draw), so the paths
themselves never need copying.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from closedloop.attribution.data import Credits, Journeys
from closedloop.errors import ValidationFailed
from closedloop.i18n import translate


def resample_counts(journeys: Journeys, rng: np.random.Generator) -> Journeys:
    """One resample: the journeys with multinomially redrawn converting/non-converting counts."""
    counts = np.concatenate([journeys.conversions, journeys.nulls])
    people = counts.sum()
    if people <= 0:
        return journeys
    drawn = rng.multinomial(round(people), counts / people).astype(np.float64)
    n = journeys.count
    conversions, nulls = drawn[:n], drawn[n:]
    per_conversion = np.divide(
        journeys.values, journeys.conversions, out=np.zeros(n), where=journeys.conversions > 0
    )
    return journeys.reweighted(conversions, per_conversion * conversions, nulls)


def with_intervals(
    journeys: Journeys,
    run: Callable[[Journeys], Credits],
    *,
    resamples: int,
    seed: int = 0,
    confidence: float = 0.95,
    point: Credits | None = None,
) -> Credits:
    """The point credits with percentile intervals (`low`/`high`) from `resamples` resamples.

    The interval is widened to include the point estimate when the resamples are skewed away from it.
    """
    if resamples < 2:
        raise ValidationFailed(translate("attribution.error.bootstrap"), detail={"field": "bootstrap"})
    point = point or run(journeys)
    rng = np.random.default_rng(seed)
    conv = np.empty((resamples, len(point.keys)))
    vals = np.empty((resamples, len(point.keys)))
    for i in range(resamples):
        credits = run(resample_counts(journeys, rng))
        conv[i], vals[i] = _aligned(credits, point.keys)
    tail = (1.0 - confidence) / 2 * 100
    for name, samples, estimate in (("conversions", conv, point.conversions), ("values", vals, point.values)):
        low, high = np.percentile(samples, [tail, 100 - tail], axis=0)
        point.low[name] = np.minimum(low, estimate)
        point.high[name] = np.maximum(high, estimate)
    return point


def _aligned(credits: Credits, keys: list[str]) -> tuple[np.ndarray, np.ndarray]:
    if credits.keys == keys:
        return credits.conversions, credits.values
    where = {k: i for i, k in enumerate(credits.keys)}
    idx = np.array([where.get(k, -1) for k in keys])
    conv = np.where(idx >= 0, credits.conversions[np.maximum(idx, 0)], 0.0)
    vals = np.where(idx >= 0, credits.values[np.maximum(idx, 0)], 0.0)
    return conv, vals
