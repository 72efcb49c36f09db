"""The scope as plain ids (for the analytics layer) agrees with the SQL row scope."""

from __future__ import annotations

from sqlalchemy import select

from closedloop.access.scope import aggregate_lead_condition, visibility
from closedloop.db import unit_of_work
from closedloop.leads.models import Lead
from closedloop.users.actor import Actor
from closedloop.users.models import User


def test_visibility_ids_match_the_row_scope(world, store) -> None:
    with unit_of_work(store.session_factory) as session:
        users = {u.email.split("@")[0]: u for u in session.scalars(select(User))}
        leads = session.execute(select(Lead.id, Lead.owner_id, Lead.team_id)).all()
        for name in ("admin", "manager", "sales_n1", "sales_s", "marketing", "viewer"):
            user = users[name]
            actor = Actor(user_id=user.id, role=user.role, team_id=user.team_id, via="api")
            scope = visibility(session=session, actor=actor)
            by_ids = {lead_id for lead_id, owner, team in leads if scope.allows(owner, team)}
            by_sql = set(session.scalars(select(Lead.id).where(aggregate_lead_condition(actor))))
            assert by_ids == by_sql, name
            assert scope.personal_data is (name != "viewer")
        north = visibility(
            session=session,
            actor=Actor(user_id=users["sales_n1"].id, role="sales", team_id=world.teams["north"]),
        )
        assert north.team_ids == {world.teams["north"]}
        assert north.owner_ids == {users[n].id for n in ("manager", "sales_n1", "sales_n2", "gone")}
