"""Routing rules as plain functions: who receives an MQL.

Order: the account owner first (when active and under capacity), then the first territory rule
matching the lead (region, country, industry) names a team, else the default team; within the
team, round-robin: the active member under capacity who was handed a lead least recently
(never first, ties by user id). With nobody eligible the hand-off waits in the team's queue.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from closedloop.errors import ValidationFailed
from closedloop.i18n import translate

RULE_KEYS = ("region", "country", "industry", "lead_type", "source_type")
DEFAULT_ROUTING: dict[str, Any] = {"account_owner_first": True, "rules": [], "default_team": None}


@dataclass(frozen=True)
class TerritoryRule:
    match: Mapping[str, frozenset[str]]
    team: str

    def matches(self, facts: Mapping[str, str | None]) -> bool:
        return all((facts.get(key) or "").strip().lower() in wanted for key, wanted in self.match.items())


@dataclass(frozen=True)
class Routing:
    account_owner_first: bool
    rules: tuple[TerritoryRule, ...]
    default_team: str | None


@dataclass(frozen=True)
class Candidate:
    """A possible owner: open hand-offs now, capacity (None: no cap), last hand-off received."""

    user_id: int
    team_id: int | None
    active: bool = True
    open_handoffs: int = 0
    capacity: int | None = None
    last_assigned_at: datetime | None = None

    @property
    def has_room(self) -> bool:
        return self.active and (self.capacity is None or self.open_handoffs < self.capacity)


@dataclass(frozen=True)
class Decision:
    owner_id: int | None
    team: str | None
    team_id: int | None
    why: str  # account_owner | territory | default_team | queue | unrouted


def parse_routing(payload: Mapping[str, Any]) -> Routing:
    """Validate a routing policy payload."""
    rules = []
    for raw in payload.get("rules", []):
        if "team" not in raw or not isinstance(raw.get("match"), Mapping):
            raise ValidationFailed(translate("validator.routing.rule"), detail={"field": "rules"})
        unknown = set(raw["match"]) - set(RULE_KEYS)
        if unknown:
            raise ValidationFailed(
                translate("validator.routing.key", name=sorted(unknown)[0]), detail={"field": "match"}
            )
        match = {
            key: frozenset(str(v).strip().lower() for v in (value if isinstance(value, list) else [value]))
            for key, value in raw["match"].items()
        }
        rules.append(TerritoryRule(match=match, team=str(raw["team"])))
    default = payload.get("default_team")
    return Routing(
        account_owner_first=bool(payload.get("account_owner_first", True)),
        rules=tuple(rules),
        default_team=None if default is None else str(default),
    )


def team_for(routing: Routing, facts: Mapping[str, str | None]) -> tuple[str | None, str]:
    """The team named by the first matching territory rule, else the default team."""
    for rule in routing.rules:
        if rule.matches(facts):
            return rule.team, "territory"
    return routing.default_team, "default_team"


def round_robin(members: Sequence[Candidate]) -> Candidate | None:
    """The eligible member handed a lead least recently (never-assigned first, ties by user id)."""
    eligible = [m for m in members if m.has_room]
    if not eligible:
        return None
    return min(
        eligible,
        key=lambda m: (m.last_assigned_at is not None, m.last_assigned_at or datetime.min, m.user_id),
    )


def route(
    routing: Routing,
    facts: Mapping[str, str | None],
    *,
    account_owner: Candidate | None,
    teams: Mapping[str, tuple[int, Sequence[Candidate]]],
) -> Decision:
    """Decide who receives the lead. `teams` maps a team name to (team id, its members)."""
    if routing.account_owner_first and account_owner is not None and account_owner.has_room:
        return Decision(account_owner.user_id, None, account_owner.team_id, "account_owner")
    team, why = team_for(routing, facts)
    if team is None or team not in teams:
        return Decision(None, team, None, "unrouted")
    team_id, members = teams[team]
    chosen = round_robin(members)
    if chosen is None:
        return Decision(None, team, team_id, "queue")
    return Decision(chosen.user_id, team, team_id, why)
