"""The columnar journey table every model reads, and the credits every model returns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

NONE_KEY = "(none)"  # a conversion with no touch in the window
OTHER_KEY = "(other)"  # shapley groups a journey's smallest channels under this key


@dataclass(frozen=True)
class Journeys:
    """Journeys as flat arrays (CSR layout): journey j's touches are `touches[offsets[j]:offsets[j+1]]`.

    A journey may stand for many identical people (a path-table row): `conversions` and `nulls`
    count how many of them converted and how many did not, `values` is their total value.
    `ages` (days from each touch to the conversion) and the key-touch positions exist only for
    journeys built from the store; path tables carry neither. Every journey has at least one
    touch: a journey without touches holds the single key `(none)`.
    """

    keys: list[str]
    offsets: np.ndarray  # int64, length n + 1
    touches: np.ndarray  # int64 index into keys, in time order (ties by touch id)
    conversions: np.ndarray  # float64 per journey
    values: np.ndarray  # float64 per journey
    nulls: np.ndarray  # float64 per journey
    ages: np.ndarray | None = None  # float64 per touch, days before the conversion
    lead_touch: np.ndarray | None = None  # int64 per journey: position of the lead-creation touch
    opportunity_touch: np.ndarray | None = None  # int64 per journey: -1 before an opportunity exists

    @property
    def count(self) -> int:
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def journey_of_touch(self) -> np.ndarray:
        """The journey index of each touch."""
        return np.repeat(np.arange(self.count, dtype=np.int64), self.lengths)

    def position_of_touch(self) -> np.ndarray:
        """Each touch's 0-based position inside its journey."""
        return np.arange(len(self.touches), dtype=np.int64) - np.repeat(self.offsets[:-1], self.lengths)

    def credited(self) -> Journeys:
        """Only the journeys with conversions or value (the rule-based models ignore the rest)."""
        keep = (self.conversions != 0) | (self.values != 0)
        if keep.all():
            return self
        lengths = self.lengths[keep]
        mask = np.repeat(keep, self.lengths)
        return Journeys(
            keys=self.keys,
            offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
            touches=self.touches[mask],
            conversions=self.conversions[keep],
            values=self.values[keep],
            nulls=self.nulls[keep],
            ages=None if self.ages is None else self.ages[mask],
            lead_touch=None if self.lead_touch is None else self.lead_touch[keep],
            opportunity_touch=None if self.opportunity_touch is None else self.opportunity_touch[keep],
        )

    def reweighted(self, conversions: np.ndarray, values: np.ndarray, nulls: np.ndarray) -> Journeys:
        """The same paths with other counts (the bootstrap's resamples)."""
        return replace(self, conversions=conversions, values=values, nulls=nulls)


@dataclass
class Credits:
    """One model's credit per key; conversions and values add up to the totals attributed."""

    model: str
    keys: list[str]
    conversions: np.ndarray
    values: np.ndarray
    removal_effects: np.ndarray | None = None
    low: dict[str, np.ndarray] = field(default_factory=dict)  # "conversions"/"values" -> per key
    high: dict[str, np.ndarray] = field(default_factory=dict)

    def as_dict(self) -> dict[str, tuple[float, float]]:
        """{key: (conversions, value)} (handy in tests and reports)."""
        return {
            k: (float(c), float(v)) for k, c, v in zip(self.keys, self.conversions, self.values, strict=True)
        }


def from_paths(
    paths: Sequence[Sequence[str]],
    *,
    conversions: Sequence[float],
    values: Sequence[float] | None = None,
    nulls: Sequence[float] | None = None,
    ages: Sequence[Sequence[float]] | None = None,
    lead_touch: Sequence[int] | None = None,
    opportunity_touch: Sequence[int] | None = None,
) -> Journeys:
    """Journeys from Python lists (tests, small inputs); an empty path becomes `(none)`."""
    paths = [list(p) if len(p) else [NONE_KEY] for p in paths]
    keys = sorted({k for p in paths for k in p})
    index = {k: i for i, k in enumerate(keys)}
    lengths = np.array([len(p) for p in paths], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    touches = np.array([index[k] for p in paths for k in p], dtype=np.int64)
    n = len(paths)
    conv = np.asarray(conversions, dtype=np.float64)
    return Journeys(
        keys=keys,
        offsets=offsets,
        touches=touches,
        conversions=conv,
        values=np.zeros(n) if values is None else np.asarray(values, dtype=np.float64),
        nulls=(1.0 - np.minimum(conv, 1.0)) if nulls is None else np.asarray(nulls, dtype=np.float64),
        ages=None
        if ages is None
        else np.array([a for row in ages for a in (row or [0.0])], dtype=np.float64),
        lead_touch=None if lead_touch is None else np.asarray(lead_touch, dtype=np.int64),
        opportunity_touch=None
        if opportunity_touch is None
        else np.asarray(opportunity_touch, dtype=np.int64),
    )


def credits_from_touch_shares(model: str, journeys: Journeys, shares: np.ndarray) -> Credits:
    """Sum per-touch shares (each journey's shares add to 1) weighted by conversions and value."""
    jid = journeys.journey_of_touch()
    k = len(journeys.keys)
    conv = np.bincount(journeys.touches, weights=shares * journeys.conversions[jid], minlength=k)
    vals = np.bincount(journeys.touches, weights=shares * journeys.values[jid], minlength=k)
    return Credits(model, list(journeys.keys), conv, vals)
