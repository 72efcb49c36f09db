"""Settings: scoring rules with a preview of band changes, checked lead by lead (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from tests.integration.web.settings_world import XSS, make_world, no_raw_script, signed_in

from closedloop.leads.models import Lead
from closedloop.policies.models import PolicyVersion
from closedloop.scoring import rules
from closedloop.scoring import service as scoring_service


def test_preview_counts_band_moves_like_scoring_each_lead_and_proposes(store) -> None:
    world = make_world(store)
    marketing, csrf = signed_in(world, "marketing")
    proposed = {**rules.DEFAULT_RULES, "bands": {"A": 30, "B": 15, "C": 5}, "mql_threshold": 30}
    page = marketing.post(
        "/settings/scoring/preview", data={"csrf_token": csrf, "payload": json.dumps(proposed)}
    )
    assert page.status_code == 200
    # Independently: every lead scored one by one with the per-lead scorer, under both rule sets.
    now = datetime.now(UTC)
    current_rules, new_rules = rules.parse_rules(rules.DEFAULT_RULES), rules.parse_rules(proposed)
    with store.session() as s:
        leads = list(s.scalars(select(Lead).where(Lead.merged_into_id.is_(None))))
        touches = scoring_service.touches_of(s, [lead.id for lead in leads])
        moves: Counter[tuple[str, str]] = Counter()
        for lead in leads:
            facts = scoring_service.lead_facts(lead)
            seen = [t for t in touches[lead.id] if t.occurred_at <= now]
            moves[
                (
                    rules.score(current_rules, facts, seen, now).band,
                    rules.score(new_rules, facts, seen, now).band,
                )
            ] += 1
    changed = sum(n for (a, b), n in moves.items() if a != b)
    assert changed > 0
    cells = {(a, b): int(n.replace(",", "")) for a, b, n in
             re.findall(r'data-from="(\w)" data-to="(\w)">([\d,]+)<', page.text)}  # fmt: skip
    assert cells == {(a, b): moves.get((a, b), 0) for a in "ABCD" for b in "ABCD"}
    assert sum(cells.values()) == len(leads)
    # Errors come back at the payload field, escaped.
    bad = marketing.post("/settings/scoring/preview", data={"csrf_token": csrf,
                                                            "payload": json.dumps({"bands": {"A": 10, "B": 50}, "x": XSS})})  # fmt: skip
    assert bad.status_code == 422 and 'id="err-payload"' in bad.text and no_raw_script(bad.text)
    assert (
        marketing.post("/settings/scoring/preview", data={"payload": "{}"}).status_code == 403
    )  # no CSRF token
    when = (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    assert marketing.post("/settings/scoring", data={"csrf_token": csrf, "payload": json.dumps(proposed),
                                                     "effective_from": when, "reason": "wider bands"},
                          follow_redirects=False).status_code == 303  # fmt: skip
    with store.session() as s:
        version = s.scalar(
            select(PolicyVersion).where(PolicyVersion.kind == "scoring", PolicyVersion.status == "proposed")
        )
        assert version.payload["bands"] == {"A": 30, "B": 15, "C": 5}
    for role in ("sales", "viewer"):
        client, their = signed_in(world, role)
        assert (
            client.post("/settings/scoring/preview", data={"csrf_token": their, "payload": "{}"}).status_code
            == 403
        )
