"""A hand-built history for the review and report tests (times are noon in Taipei, 04:00 UTC)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from closedloop.analytics import engine
from closedloop.deals.models import Deal
from closedloop.handoffs.models import Handoff
from closedloop.leads.models import Lead, LifecycleEvent
from closedloop.users.models import User


def at(day: str, hour: int = 4) -> datetime:
    """A UTC moment on `day` (YYYY-MM-DD); 04:00 UTC is noon in Asia/Taipei."""
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


class History:
    """Inserts rows through the ORM and commits them, so the analytics engine reads them."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.n = 0

    def add(self, row: Any) -> int:
        self.session.add(row)
        self.session.flush()
        return int(row.id)

    def lead(self, events: list[tuple[str, str]], **cols: Any) -> int:
        self.n += 1
        created = at(events[0][1])
        cols.setdefault("email", f"lead{self.n}@example.com")
        lead_id = self.add(Lead(created_at=created, recorded_at=created, **cols))
        for stage, day in events:
            self.add(LifecycleEvent(lead_id=lead_id, to_stage=stage, occurred_at=at(day), recorded_at=at(day),
                                    implied=False, source="import"))  # fmt: skip
        return lead_id

    def deal(self, created: str, amount: int, status: str, closed: str | None = None, **cols: Any) -> int:
        stage = {"won": "won", "lost": "lost"}.get(status, "initial_contact")
        return self.add(Deal(name=f"deal {created} {amount}", created_at=at(created), status=status, stage=stage,
                             closed_at=at(closed) if closed else None, currency="TWD", amount_minor=amount * 100,
                             **cols))  # fmt: skip


@pytest.fixture
def history(store: Any) -> Iterator[dict[str, Any]]:
    """Two ISO weeks of March 2026 (worked out in test_review_agenda.py's docstring)."""
    session = store.session()
    h = History(session)
    ids: dict[str, Any] = {"store": store, "session": session}
    ids["manager"] = h.add(User(email="manager@example.com", role="manager", name="Mei"))
    ids["ae"] = h.add(User(email="ae@example.com", role="sales", name="Wei"))
    ids["L1"] = h.lead(
        [("lead", "2026-03-03"), ("mql", "2026-03-04"), ("sql", "2026-03-05")], first_channel="Email"
    )
    ids["L2"] = h.lead([("lead", "2026-03-03"), ("mql", "2026-03-06")], first_channel="Email")
    ids["L3"] = h.lead([("lead", "2026-03-04")], first_channel="Ads")
    ids["L4"] = h.lead(
        [("lead", "2026-03-05"), ("mql", "2026-03-10"), ("sql", "2026-03-11")], first_channel="Email"
    )
    ids["L5"] = h.lead([("lead", "2026-03-10"), ("sql", "2026-03-12")], first_channel="Ads")  # MQL implied
    ids["L6"] = h.lead([("lead", "2026-03-11")], first_channel="Ads", source_type="outbound",
                       first_utm_campaign="<script>alert(1)</script>")  # fmt: skip
    ids["L7"] = h.lead([("lead", "2026-02-20"), ("sql", "2026-03-13")], first_channel="Ads")  # MQL implied
    h.deal("2026-03-03", 1000, "won", "2026-03-06", lead_id=ids["L1"])
    h.deal("2026-03-03", 500, "lost", "2026-03-07")
    h.deal("2026-03-10", 1000, "won", "2026-03-12", lead_id=ids["L4"])
    h.deal("2026-03-10", 3000, "won", "2026-03-14", lead_id=ids["L6"])
    h.add(Handoff(lead_id=ids["L4"], assigned_at=at("2026-03-10"), first_response_at=at("2026-03-10", 5),
                  accepted_at=at("2026-03-10", 6), status="accepted", sla_met=True))  # fmt: skip
    h.add(Handoff(lead_id=ids["L5"], assigned_at=at("2026-03-11"), first_response_at=at("2026-03-11", 9),
                  rejected_at=at("2026-03-11", 10), rejection_reason="wrong_fit", status="rejected",
                  sla_met=False))  # fmt: skip
    session.commit()
    try:
        yield ids
    finally:
        session.close()
        engine.close(store.url)
