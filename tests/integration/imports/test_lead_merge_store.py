"""Duplicates: exact and fuzzy candidates; merge keeps every linked row and can be undone."""

from __future__ import annotations

import csv
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from closedloop.audit.models import AuditLog
from closedloop.db import unit_of_work
from closedloop.deals.models import Deal
from closedloop.errors import Conflict
from closedloop.handoffs.models import Activity
from closedloop.leads import merge
from closedloop.leads.models import Lead, LifecycleEvent
from closedloop.marketing.models import Touchpoint
from closedloop.users.actor import Actor

ADMIN = Actor(user_id=None, role="admin", via="web")
T0 = datetime(2025, 3, 1, tzinfo=UTC)


def _seed(store) -> tuple[int, int]:
    rows = [["external_id", "email", "phone", "name", "company", "created_at", "mql_at", "utm_source"],
            ["A", "wang@acme.tw", "02-2345-6789", "Wang Xiaoming", "Acme", "2025-03-02", "", ""],
            ["B", "xm.wang@gmail.com", "02 2345 6789", "Xiaoming Wang", "ACME Co., Ltd.", "2025-03-01",
             "2025-03-03", "google"],
            ["C", "lee@acme.tw", "", "Lee Mei", "Acme", "2025-03-01", "", ""]]  # fmt: skip
    from closedloop.imports.service import run_import

    path = store.tmp / "dups.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    with unit_of_work(store.session_factory) as session:
        assert run_import(session=session, kind="leads", path=path, actor=ADMIN).inserted == 3
        a = session.scalar(select(Lead.id).where(Lead.external_id == "A"))
        b = session.scalar(select(Lead.id).where(Lead.external_id == "B"))
        session.add(Touchpoint(lead_id=b, occurred_at=T0, type="page_view", channel="Direct"))
        session.add(Activity(lead_id=b, type="call", occurred_at=T0))
        session.add(Deal(lead_id=b, name="Chairs", stage="proposal", currency="TWD", amount_minor=100))
    return a, b


@pytest.fixture
def seeded(store, tmp_path):
    store.tmp = tmp_path
    return store


def test_candidates(seeded) -> None:
    _seed(seeded)
    with seeded.session() as session:
        exact = merge.exact_duplicates(session=session)
        assert [(c.reason, c.exact, len(c.lead_ids)) for c in exact] == [("phone", False, 2)]
        fuzzy = merge.fuzzy_candidates(session=session, threshold=90)
        ids = {session.get(Lead, i).external_id for c in fuzzy for i in c.lead_ids}
        # "Wang Xiaoming" and "Xiaoming Wang" at Acme (same account): token order does not matter.
        assert [c.score for c in fuzzy] == [100.0] and ids == {"A", "B"}


def test_merge_and_undo(seeded) -> None:
    a, b = _seed(seeded)

    def linked(session, lead_id: int) -> tuple[int, ...]:
        return tuple(
            session.scalar(select(func.count()).select_from(m).where(m.lead_id == lead_id))
            for m in (Touchpoint, Activity, Deal, LifecycleEvent)
        )

    with seeded.session() as session:
        before_a, before_b = linked(session, a), linked(session, b)
    with unit_of_work(seeded.session_factory) as session:
        entry = merge.merge_leads(session=session, winner_id=a, loser_id=b, actor=ADMIN)
        audit_id = entry.id
    with seeded.session() as session:
        winner, loser = session.get(Lead, a), session.get(Lead, b)
        assert linked(session, a) == tuple(x + y for x, y in zip(before_a, before_b, strict=True))
        assert linked(session, b) == (0, 0, 0, 0)
        assert loser.merged_into_id == a and winner.stage == "mql"
        assert winner.first_channel == "Organic Search" and winner.created_at == datetime(
            2025, 2, 28, 16, 0, tzinfo=UTC
        )
        assert (
            winner.email == "wang@acme.tw"
        )  # the winner keeps its own email; the loser's stays on the loser
        assert session.scalar(select(AuditLog.action).where(AuditLog.id == audit_id)) == "lead.merged"
    with unit_of_work(seeded.session_factory) as session:
        merge.undo_merge(session=session, merge_audit_id=audit_id, actor=ADMIN)
    with seeded.session() as session:
        assert (linked(session, a), linked(session, b)) == (before_a, before_b)
        winner, loser = session.get(Lead, a), session.get(Lead, b)
        assert loser.merged_into_id is None and winner.stage == "lead" and winner.first_channel is None
        assert winner.created_at == datetime(2025, 3, 1, 16, 0, tzinfo=UTC)
    with unit_of_work(seeded.session_factory) as session, pytest.raises(Conflict):
        merge.undo_merge(session=session, merge_audit_id=audit_id, actor=ADMIN)
