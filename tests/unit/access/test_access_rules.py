"""Pure rules: the role table, the sign-in redirect guard, input types, money conversion."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from closedloop.access import policy
from closedloop.access.scope import Visibility
from closedloop.api.types import Moment, Text, to_major, to_minor
from closedloop.errors import Forbidden, ValidationFailed
from closedloop.users.actor import Actor, system_actor
from closedloop.web.auth_pages import _safe_next
from closedloop.web.security import CONTENT_SECURITY_POLICY

ROLES = ("admin", "manager", "marketing", "sales", "viewer")
# The issue's rules restated by hand: role -> (resource, action) pairs it may do.
MAY = {
    "viewer": {
        ("leads", "summary"),
        ("deals", "summary"),
        ("campaigns", "read"),
        ("spend", "read"),
        ("goals", "read"),
        ("teams", "read"),
    },
    "sales": {("leads", a) for a in ("read", "create", "update", "change_stage", "export", "summary")}
    | {("deals", a) for a in ("read", "write", "summary")}
    | {
        ("touchpoints", "read"),
        ("handoffs", "read"),
        ("handoffs", "respond"),
        ("activities", "read"),
        ("activities", "create"),
        ("campaigns", "read"),
        ("spend", "read"),
        ("goals", "read"),
        ("teams", "read"),
    },
    "marketing": {("leads", a) for a in ("read", "create", "update", "change_stage", "export", "summary")}
    | {
        ("touchpoints", "read"),
        ("touchpoints", "create"),
        ("campaigns", "read"),
        ("campaigns", "write"),
        ("spend", "read"),
        ("spend", "write"),
        ("deals", "summary"),
        ("handoffs", "read"),
        ("activities", "read"),
        ("goals", "read"),
        ("teams", "read"),
    },
}
MAY["manager"] = (MAY["sales"] - {("touchpoints", "create")}) | {
    ("leads", "reassign"),
    ("handoffs", "reassign"),
    ("goals", "write"),
    ("users", "read"),
    ("audit", "read"),
    ("reviews", "write"),
    ("report_subscriptions", "team"),
}
# Everyone reads the weekly reviews and subscribes themselves to report packs.
for _role in ("viewer", "sales", "marketing", "manager"):
    MAY[_role] |= {("reviews", "read"), ("report_subscriptions", "read"), ("report_subscriptions", "write")}
# The data stewards (quality page, merges) and those who send conversions back to ad platforms.
for _role in ("marketing", "manager"):
    MAY[_role] |= {("leads", "merge"), ("quality", "read"), ("conversions", "export")}


@pytest.mark.parametrize("role", ROLES)
def test_role_table_matches_the_issue(role: str) -> None:
    """Every (resource, action) is allowed exactly when the issue's rules say so; admins may do all."""
    actor = Actor(user_id=1, role=role)
    for key in policy.PERMISSIONS:
        expected = role == "admin" or key in MAY[role]
        assert policy.allowed(actor, *key) is expected, (role, key)
        if not expected:
            with pytest.raises(Forbidden):
                policy.require(actor, *key)
    assert policy.allowed(actor, "anything", "else") is False
    assert policy.sees_deal_notes(actor) is (role in ("admin", "manager", "sales"))


def test_system_actor_may_do_everything() -> None:
    assert all(policy.allowed(system_actor(), *key) for key in [*policy.PERMISSIONS, ("x", "y")])


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/leads?x=1", "/leads?x=1"),
        ("//evil.example/x", "/"),
        ("https://evil.example", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_sign_in_only_redirects_within_the_site(target: str | None, expected: str) -> None:
    assert _safe_next(target) == expected


def test_text_type_refuses_nul_surrogates_and_overlong_values() -> None:
    adapter = TypeAdapter(Text(5))
    assert adapter.validate_python("王小明") == "王小明"
    for bad in ("a\x00b", "\ud800", "toolong"):
        with pytest.raises(ValidationError):
            adapter.validate_python(bad)


def test_moments_are_bounded_and_naive_means_utc() -> None:
    adapter = TypeAdapter(Moment)
    assert adapter.validate_python("2026-03-01T08:00:00").utcoffset().total_seconds() == 0
    for bad in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-14:00", "1899-12-31T00:00:00Z"):
        with pytest.raises(ValidationError):
            adapter.validate_python(bad)


def test_money_conversion_by_hand() -> None:
    assert to_minor(Decimal("1234.56"), "TWD") == 123456
    assert to_minor(Decimal("-0.01"), "USD") == -1
    assert to_minor(Decimal("500"), "JPY") == 500
    assert to_major(123456, "TWD") == Decimal("1234.56")
    with pytest.raises(ValidationFailed):
        to_minor(Decimal("1.5"), "JPY")


@given(st.integers(min_value=-(2**31), max_value=2**31 - 1), st.sampled_from(["TWD", "USD", "CNY", "JPY"]))
def test_money_round_trips(minor: int, currency: str) -> None:
    assert to_minor(to_major(minor, currency), currency) == minor


def test_visibility_allows_owner_or_team() -> None:
    scope = Visibility(False, frozenset({7}), frozenset({3}), True)
    assert (
        scope.allows(7, None)
        and scope.allows(None, 3)
        and not scope.allows(8, 4)
        and not scope.allows(None, None)
    )
    assert Visibility(True, frozenset(), frozenset(), False).allows(None, None)


def test_content_security_policy_forbids_inline_script_and_framing() -> None:
    directives = dict(part.strip().split(" ", 1) for part in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["script-src"] == "'self'" and directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY
