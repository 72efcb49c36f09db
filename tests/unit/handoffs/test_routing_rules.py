"""Routing rules: account owner first, territory, round-robin, capacity caps (pure, no database)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from closedloop.errors import ValidationFailed
from closedloop.handoffs.routing import Candidate, parse_routing, round_robin, route

POLICY = parse_routing(
    {
        "account_owner_first": True,
        "rules": [
            {"match": {"region": ["北區", "North"]}, "team": "north"},
            {"match": {"country": "CN", "industry": ["manufacturing"]}, "team": "china-mfg"},
            {"match": {"country": "CN"}, "team": "china"},
        ],
        "default_team": "apac",
    }
)
T = datetime(2026, 3, 2, tzinfo=UTC)


def team(team_id: int, *members: Candidate) -> tuple[int, list[Candidate]]:
    return team_id, list(members)


TEAMS = {
    "north": team(
        1, Candidate(11, 1, last_assigned_at=T), Candidate(12, 1, last_assigned_at=T.replace(hour=1))
    ),
    "china-mfg": team(2, Candidate(21, 2)),
    "china": team(3, Candidate(31, 3)),
    "apac": team(4, Candidate(41, 4)),
}


def facts(**values: str) -> dict[str, str | None]:
    return {"region": None, "country": None, "industry": None, **values}


def test_territory_by_region_and_by_country_with_industry():
    assert route(POLICY, facts(region="北區"), account_owner=None, teams=TEAMS).team == "north"
    # The first matching rule wins: the manufacturing rule sits before the plain China rule.
    decision = route(POLICY, facts(country="CN", industry="Manufacturing"), account_owner=None, teams=TEAMS)
    assert (decision.team, decision.owner_id, decision.why) == ("china-mfg", 21, "territory")
    assert (
        route(POLICY, facts(country="CN", industry="retail"), account_owner=None, teams=TEAMS).owner_id == 31
    )
    default = route(POLICY, facts(country="JP"), account_owner=None, teams=TEAMS)
    assert (default.owner_id, default.why) == (41, "default_team")


def test_account_owner_comes_first_unless_inactive_or_full():
    owner = Candidate(99, 4)
    assert route(POLICY, facts(region="北區"), account_owner=owner, teams=TEAMS).owner_id == 99
    gone = Candidate(99, 4, active=False)
    assert route(POLICY, facts(region="北區"), account_owner=gone, teams=TEAMS).team == "north"
    full = Candidate(99, 4, open_handoffs=5, capacity=5)
    assert route(POLICY, facts(region="北區"), account_owner=full, teams=TEAMS).why == "territory"
    off = parse_routing({"account_owner_first": False, "default_team": "apac"})
    assert route(off, facts(), account_owner=owner, teams=TEAMS).owner_id == 41


def test_round_robin_picks_the_least_recently_assigned():
    # 12 was last handed a lead at 01:00, 11 at 00:00: 11 is next.
    assert route(POLICY, facts(region="North"), account_owner=None, teams=TEAMS).owner_id == 11
    never = Candidate(13, 1)
    assert round_robin([*TEAMS["north"][1], never]).user_id == 13
    # Ties (never assigned) go by user id.
    assert round_robin([Candidate(8, 1), Candidate(5, 1)]).user_id == 5


def test_simulated_round_robin_rotates_through_the_team():
    members = {uid: Candidate(uid, 1) for uid in (1, 2, 3)}
    picks = []
    for minute in range(6):
        chosen = round_robin(list(members.values()))
        picks.append(chosen.user_id)
        members[chosen.user_id] = Candidate(chosen.user_id, 1, last_assigned_at=T.replace(minute=minute))
    assert picks == [1, 2, 3, 1, 2, 3]


def test_capacity_caps_skip_full_members_and_queue_when_all_are_full():
    members = [
        Candidate(1, 1, open_handoffs=3, capacity=3),
        Candidate(2, 1, open_handoffs=1, capacity=3, last_assigned_at=T),
    ]
    assert round_robin(members).user_id == 2
    all_full = {"north": team(1, Candidate(1, 1, open_handoffs=3, capacity=3))}
    decision = route(POLICY, facts(region="北區"), account_owner=None, teams=all_full)
    assert (decision.owner_id, decision.team_id, decision.why) == (None, 1, "queue")


def test_bad_routing_policies_are_refused():
    with pytest.raises(ValidationFailed):
        parse_routing({"rules": [{"match": {"zodiac": "rat"}, "team": "x"}]})
    with pytest.raises(ValidationFailed):
        parse_routing({"rules": [{"match": {"region": "north"}}]})
