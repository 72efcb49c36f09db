"""A small hand-built world for the hand-off tests: teams, sales people, leads, touches, a clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from closedloop.accounts.models import Account
from closedloop.leads.models import Lead, LifecycleEvent
from closedloop.marketing.models import Touchpoint
from closedloop.users.actor import Actor
from closedloop.users.models import Team, User
from closedloop.workspace.models import BusinessCalendar, CalendarDay


@dataclass
class MovableClock:
    """An injected clock the test moves by hand."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, moment: datetime) -> datetime:
        self.now = moment
        return moment


@dataclass
class World:
    session: Session
    counter: int = 0
    users: dict[str, User] = field(default_factory=dict)

    def calendar(
        self, name: str, *, time_zone: str = "Asia/Taipei", days: dict[date, str] | None = None
    ) -> int:
        cal = BusinessCalendar(name=name, time_zone=time_zone, working_hours={})
        self.session.add(cal)
        self.session.flush()
        for day, kind in (days or {}).items():
            self.session.add(CalendarDay(calendar_id=cal.id, day=day, kind=kind))
        self.session.flush()
        return cal.id

    def team(self, name: str, *, calendar_id: int | None = None, manager: str | None = None) -> Team:
        team = Team(name=name, kind="sales", calendar_id=calendar_id)
        self.session.add(team)
        self.session.flush()
        if manager:
            self.user(manager, role="manager", team=team)
        return team

    def user(
        self, email: str, *, role: str = "sales", team: Team | None = None, capacity: int | None = None
    ) -> User:
        user = User(email=email, role=role, team_id=team.id if team else None, capacity=capacity)
        self.session.add(user)
        self.session.flush()
        self.users[email] = user
        return user

    def actor(self, email: str) -> Actor:
        user = self.users[email]
        return Actor(user_id=user.id, role=user.role, team_id=user.team_id)

    def lead(self, **values: Any) -> Lead:
        self.counter += 1
        values.setdefault("email", f"lead{self.counter}@example.com")
        values.setdefault("created_at", datetime(2026, 1, 1, tzinfo=UTC))
        lead = Lead(**values)
        self.session.add(lead)
        self.session.flush()
        # As lead capture does: the creation is the first lifecycle event.
        at = values["created_at"]
        self.session.add(LifecycleEvent(lead_id=lead.id, to_stage="lead", occurred_at=at, recorded_at=at))
        self.session.flush()
        return lead

    def account(self, name: str, *, owner: User | None = None) -> Account:
        account = Account(name=name, normalised_name=name.lower(), owner_id=owner.id if owner else None)
        self.session.add(account)
        self.session.flush()
        return account

    def touch(self, lead: Lead, kind: str, at: datetime, **values: Any) -> Touchpoint:
        touch = Touchpoint(lead_id=lead.id, type=kind, occurred_at=at, recorded_at=at, **values)
        self.session.add(touch)
        self.session.flush()
        return touch
