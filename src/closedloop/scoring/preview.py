"""What a proposed scoring rule set would do: every lead scored under it and under the rules in force, at once.

`score_frame` is `rules.score` over whole columns (pandas/numpy, no loop over leads): fit rules
are column tests, engagement rules rank each lead's matching touches newest first, keep
`max_count`, and sum the decayed points per lead. `band_changes` reads the leads and their touches
in two columnar reads (DuckDB on the store) and counts how many leads would move from each band to each other band.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from closedloop.scoring import rules as scoring_rules
from closedloop.scoring.rules import BANDS, ScoringRules

LEAD_COLUMNS = ("industry", "company_size", "region", "country", "title", "lead_type", "source_type")
TOUCH_COLUMNS = ("type", "channel", "utm_campaign", "utm_content", "landing_page")


@dataclass(frozen=True)
class BandChanges:
    """Leads per (band now, band under the proposal), how many change, and how many newly reach the MQL threshold."""

    leads: int
    changed: int
    moves: dict[tuple[str, str], int]
    newly_over_threshold: int
    no_longer_over_threshold: int


def _text(series: pd.Series) -> pd.Series:
    return series.astype("string").str.strip().str.lower()


def _custom(value: Any) -> dict[str, Any]:
    """A lead's custom fields: a dict, or JSON text as the store returns it through DuckDB."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def _fit_mask(rule: scoring_rules.FitRule, leads: pd.DataFrame) -> np.ndarray:
    if rule.field.startswith("custom."):
        name = rule.field.removeprefix("custom.")
        actual = leads["custom"].map(lambda d: _custom(d).get(name))
    else:
        actual = leads[rule.field]
    present = actual.notna() & (actual.astype("string") != "")
    if rule.op == "between":
        text = actual.astype("string")
        if rule.field == "company_size":
            number = pd.to_numeric(
                text.str.extract(r"(\d[\d,]*)", expand=False).str.replace(",", ""), errors="coerce"
            )
        else:
            number = pd.to_numeric(text.str.replace(",", ""), errors="coerce")
        low, high = float(rule.value[0]), float(rule.value[1])
        return (present & number.between(low, high)).fillna(False).to_numpy(dtype=bool)
    text = _text(actual)
    wanted = rule.value if isinstance(rule.value, list) else [rule.value]
    if rule.op == "contains":
        pattern = "|".join(re.escape(str(w).lower()) for w in wanted)
        hit = text.str.contains(pattern, regex=True) if pattern else pd.Series(False, index=text.index)
    else:
        hit = text.isin({str(w).strip().lower() for w in wanted})
    return (present & hit).fillna(False).to_numpy(dtype=bool)


def _touch_mask(match: scoring_rules.TouchMatch, view: dict[str, pd.Series], n: int) -> np.ndarray:
    mask = np.ones(n, dtype=bool)
    for key, wanted in match.criteria.items():
        if key == "landing_page_contains":
            mask &= view["landing_page"].str.contains(wanted, regex=False).to_numpy(dtype=bool)
        else:
            mask &= (view[key] == wanted).to_numpy(dtype=bool)
    return mask


def score_frame(
    rules: ScoringRules, leads: pd.DataFrame, touches: pd.DataFrame, at: datetime
) -> pd.DataFrame:
    """Score and band of every lead in `leads` (column `id` + fit fields) from `touches` (`lead_id`, ...), at `at`."""
    ids = leads["id"].to_numpy()
    fit = np.zeros(len(leads), dtype=np.int64)
    for fit_rule in rules.fit:
        fit += np.where(_fit_mask(fit_rule, leads), fit_rule.points, 0)
    seen = touches[touches["occurred_at"] <= at] if len(touches) else touches
    decayed = pd.Series(0.0, index=pd.Index(ids, name="lead_id"))
    if len(seen) and rules.engagement:
        view = {c: seen[c].fillna("").astype(str).str.lower() for c in TOUCH_COLUMNS}
        age_days = (
            (pd.Timestamp(at) - pd.to_datetime(seen["occurred_at"], utc=True)).dt.total_seconds() / 86400
        ).to_numpy()
        if rules.half_life_days is None:
            factor = np.ones(len(seen))
        else:
            factor = np.power(2.0, -np.maximum(age_days, 0.0) / rules.half_life_days)
        # Newest first within each lead: `max_count` keeps the most recent hits, as rules.score does.
        order = np.lexsort((-age_days, seen["lead_id"].to_numpy()))[::-1]
        lead_ids = seen["lead_id"].to_numpy()[order]
        factor_sorted = factor[order]
        for rule in rules.engagement:
            mask = _touch_mask(rule.match, view, len(seen))[order]
            if not mask.any():
                continue
            hit_leads = lead_ids[mask]
            weight = factor_sorted[mask] if rule.decay else np.ones(mask.sum())
            if rule.max_count is not None:
                rank = pd.Series(hit_leads).groupby(hit_leads).cumcount().to_numpy()
                keep = rank < rule.max_count
                hit_leads, weight = hit_leads[keep], weight[keep]
            sums = pd.Series(weight * rule.points).groupby(hit_leads).sum()
            decayed = decayed.add(sums, fill_value=0.0)
    engagement = decayed.reindex(ids, fill_value=0.0).to_numpy()
    # Round half away from zero, as rules.score does.
    total = fit + (np.sign(engagement) * np.floor(np.abs(engagement) + 0.5)).astype(np.int64)
    if rules.floor is not None:
        total = np.maximum(total, rules.floor)
    band = np.full(len(total), "D", dtype=object)
    for name in reversed(("A", "B", "C")):
        if name in rules.bands:
            band = np.where(total >= rules.bands[name], name, band)
    return pd.DataFrame({"id": ids, "score": total, "band": band})


def load_frames(url: str, at: datetime) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Leads not merged away (their fit fields) and their touches up to `at`: two columnar reads through DuckDB."""
    from closedloop.analytics import engine

    store = engine.STORE
    leads = engine.query(url, f"SELECT id, {', '.join(LEAD_COLUMNS)}, custom FROM {store}.leads "
                              "WHERE merged_into_id IS NULL").to_pandas()  # fmt: skip
    touches = engine.query(
        url,
        f"SELECT t.lead_id, CAST(t.occurred_at AS TIMESTAMP) AS occurred_at, {', '.join('t.' + c for c in TOUCH_COLUMNS)} "
        f"FROM {store}.touchpoints t JOIN {store}.leads l ON l.id = t.lead_id "
        "WHERE l.merged_into_id IS NULL AND CAST(t.occurred_at AS TIMESTAMP) <= ?",
        [at.astimezone(UTC).replace(tzinfo=None)],
    ).to_pandas()
    touches["occurred_at"] = pd.to_datetime(touches["occurred_at"]).dt.tz_localize(UTC)
    return leads, touches


def band_changes(url: str, *, current: dict[str, Any], proposed: dict[str, Any], at: datetime) -> BandChanges:
    """How many leads would change band (and cross the MQL threshold) under `proposed` versus `current`, at `at`."""
    now_rules, new_rules = scoring_rules.parse_rules(current), scoring_rules.parse_rules(proposed)
    leads, touches = load_frames(url, at)
    before = score_frame(now_rules, leads, touches, at)
    after = score_frame(new_rules, leads, touches, at)
    pairs = pd.crosstab(before["band"], after["band"]) if len(leads) else pd.DataFrame()
    moves = {(str(a), str(b)): int(pairs.loc[a, b]) for a in pairs.index for b in pairs.columns
             if int(pairs.loc[a, b])}  # fmt: skip
    over_before = before["score"].to_numpy() >= now_rules.mql_threshold
    over_after = after["score"].to_numpy() >= new_rules.mql_threshold
    return BandChanges(
        leads=len(leads),
        changed=int((before["band"].to_numpy() != after["band"].to_numpy()).sum()),
        moves={(a, b): moves.get((a, b), 0) for a in BANDS for b in BANDS},
        newly_over_threshold=int((over_after & ~over_before).sum()),
        no_longer_over_threshold=int((over_before & ~over_after).sum()),
    )
