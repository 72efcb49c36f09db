"""The rule-based models of SPEC section 6, as per-touch shares computed over whole arrays."""

from __future__ import annotations

import numpy as np

from closedloop.attribution.data import Credits, Journeys, credits_from_touch_shares
from closedloop.errors import ValidationFailed
from closedloop.i18n import translate


def first_touch(journeys: Journeys) -> Credits:
    """100% to the first touch."""
    return _one_touch("first_touch", journeys, journeys.touches[journeys.offsets[:-1]])


def last_touch(journeys: Journeys) -> Credits:
    """100% to the last touch."""
    return _one_touch("last_touch", journeys, journeys.touches[journeys.offsets[1:] - 1])


def linear(journeys: Journeys) -> Credits:
    """1/n to each touch (repeats count)."""
    journeys = journeys.credited()
    return credits_from_touch_shares("linear", journeys, linear_shares(journeys))


def time_decay(journeys: Journeys, *, half_life_days: float = 7.0) -> Credits:
    """Shares proportional to 2^(-age / half life)."""
    journeys = journeys.credited()
    return credits_from_touch_shares("time_decay", journeys, time_decay_shares(journeys, half_life_days))


def position_based(journeys: Journeys) -> Credits:
    """U-shaped: 40% first, 40% last, 20% over the middle (one touch: 100%, two: 50/50)."""
    journeys = journeys.credited()
    return credits_from_touch_shares("position_based", journeys, position_based_shares(journeys))


def w_shaped(journeys: Journeys) -> Credits:
    """30% first, 30% lead-creation, 30% opportunity-creation touch, 10% over the rest."""
    journeys = journeys.credited()
    return credits_from_touch_shares("w_shaped", journeys, w_shaped_shares(journeys))


def _one_touch(model: str, journeys: Journeys, chosen: np.ndarray) -> Credits:
    """Each journey's whole credit to one of its touches (no per-touch work)."""
    k = len(journeys.keys)
    conv = np.bincount(chosen, weights=journeys.conversions, minlength=k)
    vals = np.bincount(chosen, weights=journeys.values, minlength=k)
    return Credits(model, list(journeys.keys), conv, vals)


def first_touch_shares(journeys: Journeys) -> np.ndarray:
    shares = np.zeros(len(journeys.touches))
    shares[journeys.offsets[:-1]] = 1.0
    return shares


def last_touch_shares(journeys: Journeys) -> np.ndarray:
    shares = np.zeros(len(journeys.touches))
    shares[journeys.offsets[1:] - 1] = 1.0
    return shares


def linear_shares(journeys: Journeys) -> np.ndarray:
    return np.repeat(1.0 / journeys.lengths, journeys.lengths)


def position_based_shares(
    journeys: Journeys, pos: np.ndarray | None = None, n: np.ndarray | None = None
) -> np.ndarray:
    if pos is None or n is None:
        pos, n = _positions(journeys)
    shares = np.where((pos == 0) | (pos == n - 1), 0.4, 0.2 / np.maximum(n - 2, 1))
    shares[n == 2] = 0.5
    shares[n == 1] = 1.0
    return shares


def _positions(journeys: Journeys) -> tuple[np.ndarray, np.ndarray]:
    """Each touch's position in its journey and its journey's length."""
    lengths = journeys.lengths
    return journeys.position_of_touch(), np.repeat(lengths, lengths)


def time_decay_shares(journeys: Journeys, half_life_days: float) -> np.ndarray:
    ages = _require(journeys.ages, "time_decay")
    if not half_life_days > 0:
        raise ValidationFailed(translate("attribution.error.half_life"), detail={"field": "half_life"})
    jid = journeys.journey_of_touch()
    youngest = np.full(journeys.count, np.inf)
    np.minimum.at(youngest, jid, ages)
    # Measured from each journey's youngest touch: the same ratios, and no underflow to 0/0.
    raw = np.exp2(-(ages - youngest[jid]) / half_life_days)
    return raw / np.bincount(jid, weights=raw, minlength=journeys.count)[jid]


def w_shaped_shares(journeys: Journeys) -> np.ndarray:
    """Key touches that coincide add their shares; with no other touch the key shares fill 100%.

    Before an opportunity exists (opportunity_touch = -1) the journey is credited as position_based.
    A missing lead-creation touch (no touch at or before lead creation) counts as the first touch.
    """
    lead = _require(journeys.lead_touch, "w_shaped")
    opp = _require(journeys.opportunity_touch, "w_shaped")
    lengths = journeys.lengths
    pos, n = _positions(journeys)
    shares = position_based_shares(journeys, pos, n)
    has_opp = np.repeat(opp >= 0, lengths)
    pos, n = pos[has_opp], n[has_opp]
    lead_at = np.repeat(np.maximum(lead, 0)[opp >= 0], lengths[opp >= 0])
    opp_at = np.repeat(opp[opp >= 0], lengths[opp >= 0])
    key = 0.3 * ((pos == 0).astype(np.float64) + (pos == lead_at) + (pos == opp_at))
    distinct_keys = 1 + (lead_at != 0) + ((opp_at != 0) & (opp_at != lead_at))
    rest = n - distinct_keys
    w = np.where(key > 0, key, 0.1 / np.maximum(rest, 1))
    shares[has_opp] = np.where(rest == 0, key / 0.9, w)
    return shares


def _require(array: np.ndarray | None, model: str) -> np.ndarray:
    if array is None:
        raise ValidationFailed(
            translate("attribution.error.needs_times", model=model), detail={"field": "model"}
        )
    return array
