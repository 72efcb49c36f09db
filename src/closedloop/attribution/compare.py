"""Every model's credit per key side by side, and how far the models disagree."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from closedloop.attribution.data import Journeys
from closedloop.attribution.service import applicable_models, attribute


@dataclass(frozen=True)
class Comparison:
    """conversions[i, m] / values[i, m]: model m's credit to key i; spread and cv per key (conversions)."""

    keys: list[str]
    models: list[str]
    conversions: np.ndarray
    values: np.ndarray
    spread: np.ndarray  # max - min over the models
    cv: np.ndarray  # population standard deviation / mean over the models (nan where the mean is 0)

    def rows(self) -> list[dict[str, object]]:
        """One dict per key (JSON-ready: a cv of 0/0 is None)."""
        out = []
        for i, key in enumerate(self.keys):
            out.append(
                {
                    "key": key,
                    "conversions": {m: float(self.conversions[i, j]) for j, m in enumerate(self.models)},
                    "values": {m: float(self.values[i, j]) for j, m in enumerate(self.models)},
                    "spread": float(self.spread[i]),
                    "cv": None if np.isnan(self.cv[i]) else float(self.cv[i]),
                }
            )
        return out


def compare_models(
    journeys: Journeys, *, models: tuple[str, ...] | None = None, order: int = 1, half_life_days: float = 7.0
) -> Comparison:
    """Run every applicable model (or `models`) and line their credits up by key."""
    chosen = list(models or applicable_models(journeys))
    results = [attribute(journeys, m, order=order, half_life_days=half_life_days) for m in chosen]
    keys = sorted({k for r in results for k in r.keys})
    index = {k: i for i, k in enumerate(keys)}
    conv = np.zeros((len(keys), len(chosen)))
    vals = np.zeros((len(keys), len(chosen)))
    for j, result in enumerate(results):
        rows = [index[k] for k in result.keys]
        conv[rows, j] = result.conversions
        vals[rows, j] = result.values
    mean = conv.mean(axis=1)
    std = conv.std(axis=1)
    cv = np.divide(std, mean, out=np.full(len(keys), np.nan), where=mean > 0)
    return Comparison(keys, chosen, conv, vals, conv.max(axis=1) - conv.min(axis=1), cv)
