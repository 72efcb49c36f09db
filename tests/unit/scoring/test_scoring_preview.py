"""The vectorised scorer agrees with `rules.score` lead by lead, and a hand-worked case."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pandas as pd

from closedloop.scoring import rules
from closedloop.scoring.preview import LEAD_COLUMNS, score_frame

AT = datetime(2026, 3, 1, 12, tzinfo=UTC)
TYPES = ("form_submit", "webinar", "email_click", "page_view", "ad_click")
PAGES = ("/demo", "/pricing", "/blog/x", None, "/Demo-request")


def _world(seed: int, n: int = 300) -> tuple[pd.DataFrame, pd.DataFrame, list, dict]:
    rnd = random.Random(seed)
    leads = []
    for i in range(1, n + 1):
        leads.append({"id": i, "industry": rnd.choice([None, "", "Manufacturing", "retail ", "IT"]),
                      "company_size": rnd.choice([None, "10", "51-200", "1,000+", "abc", "5000"]),
                      "region": rnd.choice([None, "north", "south"]), "country": rnd.choice(["TW", "CN", None]),
                      "title": rnd.choice([None, "Sales Manager", "engineer", "行銷經理", "VP Ops"]),
                      "lead_type": None, "source_type": rnd.choice(["inbound", "event"]),
                      "custom": rnd.choice([{}, {"tier": "gold"}, {"tier": "silver"}, None])})  # fmt: skip
    touches = []
    for _ in range(n * 6):
        touches.append({"lead_id": rnd.randint(1, n), "type": rnd.choice(TYPES),
                        "occurred_at": AT - timedelta(hours=rnd.randint(-48, 24 * 200)),
                        "channel": rnd.choice(["Email", "Paid Search", None]), "utm_campaign": rnd.choice(["Spring", None]),
                        "utm_content": None, "landing_page": rnd.choice(PAGES)})  # fmt: skip
    return pd.DataFrame(leads), pd.DataFrame(touches), leads, touches


def _one_by_one(policy: rules.ScoringRules, leads: list, touches: list) -> dict[int, tuple[int, str]]:
    out = {}
    for lead in leads:
        facts = rules.LeadFacts(**{c: lead[c] for c in LEAD_COLUMNS}, custom=lead["custom"] or {})
        mine = [rules.TouchFact(t["type"], t["occurred_at"], t["channel"], t["utm_campaign"], t["utm_content"],
                                t["landing_page"]) for t in touches if t["lead_id"] == lead["id"]]  # fmt: skip
        result = rules.score(policy, facts, mine, AT)
        out[lead["id"]] = (result.score, result.band)
    return out


def test_vectorised_scores_equal_the_per_lead_scorer_on_random_leads() -> None:
    payloads = [
        rules.DEFAULT_RULES,
        {**rules.DEFAULT_RULES, "half_life_days": None, "floor": None,
         "fit": [{"field": "industry", "op": "in", "value": ["manufacturing", "Retail"], "points": 7},
                 {"field": "custom.tier", "op": "eq", "value": "GOLD", "points": 12},
                 {"field": "company_size", "op": "between", "value": [0, 60], "points": -20}],
         "bands": {"A": 40, "B": 20, "C": 5}},
        {**rules.DEFAULT_RULES, "half_life_days": 7,
         "engagement": [{"label": "demo", "match": {"type": "form_submit", "landing_page_contains": "demo"},
                         "points": 25, "max_count": 2},
                        {"label": "email", "match": {"channel": "email"}, "points": 4, "decay": False},
                        {"label": "ads", "match": {"type": "ad_click", "utm_campaign": "spring"}, "points": -3,
                         "max_count": 4}]},
    ]  # fmt: skip
    for seed, payload in enumerate(payloads):
        frame_leads, frame_touches, leads, touches = _world(seed)
        policy = rules.parse_rules(payload)
        got = score_frame(policy, frame_leads, frame_touches, AT)
        expected = _one_by_one(policy, leads, touches)
        assert {int(i): (int(s), b) for i, s, b in got.itertuples(index=False)} == expected, seed


def test_a_hand_worked_lead() -> None:
    # Title contains "manager": +10. Demo request (15 points, max 1): the newer submit, 30 days old
    # at a 30-day half-life, 15 * 0.5 = 7.5. Form submit (10 points, max 3): both submits,
    policy = rules.parse_rules(rules.DEFAULT_RULES)
    leads = pd.DataFrame([{"id": 7, **dict.fromkeys(LEAD_COLUMNS), "title": "Manager", "custom": {}}])
    touches = pd.DataFrame([
        {"lead_id": 7, "type": "form_submit", "occurred_at": AT - timedelta(days=30), "landing_page": "/demo"},
        {"lead_id": 7, "type": "form_submit", "occurred_at": AT - timedelta(days=90), "landing_page": "/demo"},
        {"lead_id": 7, "type": "page_view", "occurred_at": AT, "landing_page": "/"},
    ]).assign(channel=None, utm_campaign=None, utm_content=None)  # fmt: skip
    got = score_frame(policy, leads, touches, AT)
    # 10 * (0.5 + 0.125) = 6.25. Page view today: 1. Engagement 14.75 rounds to 15; 10 + 15 = 25 >= C's 25.
    assert got["score"].tolist() == [25] and got["band"].tolist() == ["C"]
