"""The data-quality gate's rules, without a database."""

from __future__ import annotations

import pytest

from closedloop.errors import ValidationFailed
from closedloop.handoffs.quality import DEFAULT_GATE, Problem, check, parse_gate
from closedloop.handoffs.sla import parse_sla
from closedloop.leads.models import Lead


def lead(**values: object) -> Lead:
    return Lead(**values)


def test_required_groups_invalid_values_and_duplicates():
    gate = parse_gate({"required": ["email|phone", "company", "country"], "duplicates": True})
    problems = check(gate, lead(email="a@b.tw"), [])
    assert problems == [Problem("missing", "company"), Problem("missing", "country")]
    ok = lead(phone="+886 2 2345 6789", account_id=7, country="TW")
    assert check(gate, ok, []) == []
    bad = lead(email="no-at-sign", phone="12", account_id=7, country="Taiwan")
    assert check(gate, bad, [3]) == [
        Problem("invalid", "email"),
        Problem("invalid", "phone"),
        Problem("invalid", "country"),
        Problem("duplicate", "lead:3"),
    ]
    # A local number is read in the lead's country (here mainland China).
    assert check(gate, lead(phone="13812345678", account_id=1, country="CN"), []) == []
    assert check(parse_gate({"required": [], "duplicates": False}), lead(), [9]) == []


def test_default_gate_needs_one_identity():
    gate = parse_gate(DEFAULT_GATE)
    assert check(gate, lead(), []) == [Problem("missing", "email|phone|line_user_id|wechat_unionid")]
    assert check(gate, lead(line_user_id="U123"), []) == []


def test_bad_policies_are_refused():
    with pytest.raises(ValidationFailed):
        parse_gate({"required": ["shoe_size"]})
    with pytest.raises(ValidationFailed):
        parse_sla({"sales": {"response_compliance": 1.5}})
    with pytest.raises(ValidationFailed):
        parse_sla({"sales": {"first_response_hours": "soon"}})
    assert parse_sla({}).first_response_hours == 4
