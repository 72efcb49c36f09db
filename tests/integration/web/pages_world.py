"""Setup shared by the page tests: demo data plus MQLs freshly handed off to one sales rep."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import closedloop.models  # noqa: F401  (every table, so foreign keys resolve)
from closedloop.db import unit_of_work
from closedloop.handoffs import service as handoff_service
from closedloop.handoffs.models import Handoff
from closedloop.leads.models import Lead
from closedloop.users.actor import system_actor
from closedloop.users.models import User

DEMO_PASSWORD = "closedloop-demo"
DEMO_EMAILS = {
    "admin": "admin@demo.closedloop.example",
    "manager": "manager@demo.closedloop.example",
    "marketing": "marketing@demo.closedloop.example",
    "sales": "sales01@demo.closedloop.example",
    "viewer": "viewer@demo.closedloop.example",
}


def give_open_handoffs(factory: sessionmaker[Session], email: str, count: int) -> list[int]:
    """Promote `count` plain leads to MQLs through the hand-off service and route them to `email`."""
    made: list[int] = []
    with unit_of_work(factory) as session:
        rep = session.scalar(select(User).where(User.email == email))
        assert rep is not None
        candidates = session.scalars(
            select(Lead)
            .where(Lead.stage == "lead", Lead.email.is_not(None), Lead.is_spam.is_(False))
            .order_by(Lead.id)
            .limit(count * 20)
        )
        for lead in candidates:
            result = handoff_service.promote_to_mql(
                session=session, lead=lead, trigger="demo_request", actor=system_actor("cli")
            )
            if isinstance(result, Handoff):
                # A manager's reassignment, done directly as setup.
                result.owner_id = lead.owner_id = rep.id
                result.team_id = lead.team_id = rep.team_id
                made.append(result.id)
            if len(made) == count:
                break
        session.flush()
    assert len(made) == count, "not enough leads passed the data-quality gate"
    return made
