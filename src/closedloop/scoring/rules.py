"""Rule-based lead scoring as plain functions: fit rules, engagement rules with decay, bands.

Every score comes with its explanation: integer items ("+15 demo request", "+10
industry=manufacturing", "-5 decay") that add up exactly to the score. Engagement items carry
the undecayed points; the whole effect of time decay is one "decay" item, the difference between
the rounded decayed engagement total and the undecayed one. A floor (default 0) adds one more
item when the sum would fall below it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from closedloop.errors import ValidationFailed
from closedloop.i18n import translate

FIT_FIELDS = ("industry", "company_size", "region", "country", "title", "lead_type", "source_type")
FIT_OPS = ("eq", "in", "contains", "between")
MATCH_KEYS = ("type", "channel", "utm_campaign", "utm_content", "landing_page_contains")
BANDS = ("A", "B", "C", "D")

# The built-in rule set, used until both sides approve a scoring policy.
DEFAULT_RULES: dict[str, Any] = {
    "fit": [
        {
            "field": "title",
            "op": "contains",
            "value": ["manager", "director", "head", "vp", "經理", "总监", "總監"],
            "points": 10,
        },
        {"field": "company_size", "op": "between", "value": [51, 100000], "points": 10},
    ],
    "engagement": [
        {
            "label": "demo request",
            "match": {"type": "form_submit", "landing_page_contains": "demo"},
            "points": 15,
            "max_count": 1,
        },
        {"label": "form submit", "match": {"type": "form_submit"}, "points": 10, "max_count": 3},
        {"label": "webinar", "match": {"type": "webinar"}, "points": 8, "max_count": 3},
        {"label": "email click", "match": {"type": "email_click"}, "points": 3, "max_count": 5},
        {"label": "page view", "match": {"type": "page_view"}, "points": 1, "max_count": 10},
    ],
    "half_life_days": 30,
    "bands": {"A": 70, "B": 50, "C": 25},
    "mql_threshold": 50,
    "high_intent": [
        {"label": "demo request", "match": {"type": "form_submit", "landing_page_contains": "demo"}}
    ],
    "floor": 0,
}


@dataclass(frozen=True)
class FitRule:
    field: str
    op: str
    value: Any
    points: int
    label: str


@dataclass(frozen=True)
class TouchMatch:
    """Criteria on a touch, compared case-insensitively (kept lower-cased)."""

    criteria: Mapping[str, str]

    def matches(self, touch: TouchFact) -> bool:
        return self.matches_view(touch_view(touch))

    def matches_view(self, view: Mapping[str, str]) -> bool:
        for key, wanted in self.criteria.items():
            if key == "landing_page_contains":
                if wanted not in view["landing_page"]:
                    return False
            elif view[key] != wanted:
                return False
        return True


def touch_view(touch: TouchFact) -> dict[str, str]:
    """A touch's matchable fields, lower-cased once (scoring compares each touch with every rule)."""
    return {
        "type": touch.type.lower(),
        "channel": (touch.channel or "").lower(),
        "utm_campaign": (touch.utm_campaign or "").lower(),
        "utm_content": (touch.utm_content or "").lower(),
        "landing_page": (touch.landing_page or "").lower(),
    }


@dataclass(frozen=True)
class EngagementRule:
    label: str
    match: TouchMatch
    points: int
    max_count: int | None
    decay: bool = True


@dataclass(frozen=True)
class HighIntent:
    label: str
    match: TouchMatch


@dataclass(frozen=True)
class ScoringRules:
    fit: tuple[FitRule, ...]
    engagement: tuple[EngagementRule, ...]
    half_life_days: float | None
    bands: Mapping[str, int]
    mql_threshold: int
    high_intent: tuple[HighIntent, ...]
    floor: int | None = 0


@dataclass(frozen=True)
class LeadFacts:
    """What fit rules look at."""

    industry: str | None = None
    company_size: str | None = None
    region: str | None = None
    country: str | None = None
    title: str | None = None
    lead_type: str | None = None
    source_type: str | None = None
    custom: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class TouchFact:
    """What engagement rules look at."""

    type: str
    occurred_at: datetime
    channel: str | None = None
    utm_campaign: str | None = None
    utm_content: str | None = None
    landing_page: str | None = None


@dataclass(frozen=True)
class Item:
    points: int
    label: str
    kind: str  # fit | engagement | decay | floor
    count: int | None = None

    def text(self) -> str:
        return f"{self.points:+d} {self.label}"

    def as_dict(self) -> dict[str, object]:
        return {"points": self.points, "label": self.label, "kind": self.kind, "count": self.count}


@dataclass(frozen=True)
class ScoreResult:
    score: int
    band: str
    items: tuple[Item, ...]
    high_intent: tuple[str, ...]

    def explanation(self) -> str:
        return ", ".join(item.text() for item in self.items)


def parse_rules(payload: Mapping[str, Any]) -> ScoringRules:
    """Validate a scoring policy payload and read it into rules (ValidationFailed names the fault)."""
    try:
        fit = tuple(_fit_rule(r) for r in payload.get("fit", []))
        engagement = tuple(
            EngagementRule(
                label=str(r.get("label") or _match_label(r["match"])),
                match=_match(r["match"]),
                points=_int(r["points"], "engagement.points"),
                max_count=None
                if r.get("max_count") is None
                else _int(r["max_count"], "engagement.max_count"),
                decay=bool(r.get("decay", True)),
            )
            for r in payload.get("engagement", [])
        )
        half_life = payload.get("half_life_days")
        if half_life is not None and float(half_life) <= 0:
            raise ValidationFailed(
                translate("validator.scoring.half_life"), detail={"field": "half_life_days"}
            )
        bands = {k: _int(v, f"bands.{k}") for k, v in dict(payload.get("bands", {})).items()}
        if set(bands) - {"A", "B", "C"}:
            raise ValidationFailed(translate("validator.scoring.bands"), detail={"field": "bands"})
        ordered = [bands[b] for b in ("A", "B", "C") if b in bands]
        if ordered != sorted(ordered, reverse=True):
            raise ValidationFailed(translate("validator.scoring.band_order"), detail={"field": "bands"})
        high_intent = tuple(
            HighIntent(label=str(h.get("label") or _match_label(h["match"])), match=_match(h["match"]))
            for h in payload.get("high_intent", [])
        )
        floor = payload.get("floor", 0)
        return ScoringRules(
            fit=fit,
            engagement=engagement,
            half_life_days=None if half_life is None else float(half_life),
            bands=bands,
            mql_threshold=_int(payload.get("mql_threshold", 50), "mql_threshold"),
            high_intent=high_intent,
            floor=None if floor is None else _int(floor, "floor"),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValidationFailed(
            translate("validator.scoring.malformed", detail=repr(exc)), detail={"field": "payload"}
        ) from exc


def _fit_rule(raw: Mapping[str, Any]) -> FitRule:
    name, op = str(raw["field"]), str(raw.get("op", "eq"))
    if name not in FIT_FIELDS and not name.startswith("custom."):
        raise ValidationFailed(
            translate("validator.scoring.fit_field", name=name), detail={"field": "fit.field"}
        )
    if op not in FIT_OPS:
        raise ValidationFailed(translate("validator.scoring.operator", op=op), detail={"field": "fit.op"})
    value = raw["value"]
    if op == "between" and (not isinstance(value, list) or len(value) != 2):
        raise ValidationFailed(translate("validator.scoring.between"), detail={"field": "fit.value"})
    label = raw.get("label") or _fit_label(name, op, value)
    return FitRule(field=name, op=op, value=value, points=_int(raw["points"], "fit.points"), label=str(label))


def _fit_label(name: str, op: str, value: Any) -> str:
    if op == "between":
        return f"{name}={value[0]}-{value[1]}"
    if isinstance(value, list):
        return f"{name}={'/'.join(str(v) for v in value)}"
    return f"{name}={value}"


def _match(raw: Mapping[str, Any]) -> TouchMatch:
    unknown = set(raw) - set(MATCH_KEYS)
    if unknown or not raw:
        raise ValidationFailed(
            translate("validator.scoring.match_keys", keys=", ".join(MATCH_KEYS)), detail={"field": "match"}
        )
    return TouchMatch({k: str(v).lower() for k, v in raw.items()})


def _match_label(raw: Mapping[str, Any]) -> str:
    return " ".join(str(v) for v in raw.values())


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise ValidationFailed(translate("validator.scoring.whole", name=name), detail={"field": name})
    return int(value)


def company_size_number(text: str | None) -> int | None:
    """An employee count from '120', '51-200', '1,000+' or '10000+' (the lower bound of a range)."""
    if not text:
        return None
    match = re.search(r"\d[\d,]*", text)
    return int(match.group().replace(",", "")) if match else None


def _fit_value(lead: LeadFacts, name: str) -> object:
    if name.startswith("custom."):
        return lead.custom.get(name.removeprefix("custom."))
    return getattr(lead, name)


def fit_matches(rule: FitRule, lead: LeadFacts) -> bool:
    """Whether a lead meets one fit rule (text compares case-insensitively)."""
    actual = _fit_value(lead, rule.field)
    if actual is None or actual == "":
        return False
    if rule.op == "between":
        number = company_size_number(str(actual)) if rule.field == "company_size" else _as_number(actual)
        return number is not None and float(rule.value[0]) <= number <= float(rule.value[1])
    text = str(actual).strip().lower()
    wanted = rule.value if isinstance(rule.value, list) else [rule.value]
    if rule.op == "contains":
        return any(str(w).lower() in text for w in wanted)
    return text in {str(w).strip().lower() for w in wanted}


def _as_number(value: object) -> float | None:
    try:
        return float(str(value).replace(",", ""))
    except ValueError:
        return None


def decay_factor(age_days: float, half_life_days: float | None) -> float:
    """2^(-age / half-life); 1 without a half-life (touches in the future count fully)."""
    if half_life_days is None:
        return 1.0
    return math.pow(2.0, -max(age_days, 0.0) / half_life_days)


def score(rules: ScoringRules, lead: LeadFacts, touches: Sequence[TouchFact], at: datetime) -> ScoreResult:
    """Score a lead at the moment `at` from its facts and the touches that happened by then."""
    items: list[Item] = [Item(r.points, r.label, "fit") for r in rules.fit if fit_matches(r, lead)]
    seen = [(t, touch_view(t)) for t in touches if t.occurred_at <= at]
    raw_total = 0
    decayed_total = 0.0
    for rule in rules.engagement:
        hits = sorted(
            (t for t, view in seen if rule.match.matches_view(view)),
            key=lambda t: t.occurred_at,
            reverse=True,
        )
        if rule.max_count is not None:
            hits = hits[: rule.max_count]  # the most recent ones: they are worth most under decay
        if not hits:
            continue
        raw = rule.points * len(hits)
        items.append(Item(raw, rule.label, "engagement", count=len(hits)))
        raw_total += raw
        for touch in hits:
            factor = decay_factor((at - touch.occurred_at).total_seconds() / 86400, rules.half_life_days)
            decayed_total += rule.points * (factor if rule.decay else 1.0)
    decay = _round_half_away(decayed_total) - raw_total
    if decay:
        items.append(Item(decay, "decay", "decay"))
    total = sum(item.points for item in items)
    if rules.floor is not None and total < rules.floor:
        items.append(Item(rules.floor - total, f"floor {rules.floor}", "floor"))
        total = rules.floor
    intents = tuple(h.label for h in rules.high_intent if any(h.match.matches_view(v) for _, v in seen))
    return ScoreResult(
        score=total, band=band_for(rules.bands, total), items=tuple(items), high_intent=intents
    )


def _round_half_away(value: float) -> int:
    return math.floor(abs(value) + 0.5) * (1 if value >= 0 else -1)


def band_for(bands: Mapping[str, int], value: int) -> str:
    """A, B or C for the highest minimum reached; D below them all."""
    for band in ("A", "B", "C"):
        if band in bands and value >= bands[band]:
            return band
    return "D"
