"""Hand-built data for the analytics tests: a small builder over the `store` fixture."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from closedloop.accounts.models import Account
from closedloop.analytics import engine
from closedloop.deals.models import Deal
from closedloop.handoffs.models import Handoff
from closedloop.leads.models import Lead, LifecycleEvent
from closedloop.marketing.models import Campaign, CampaignSpend
from closedloop.revenue.models import CustomerFeedback
from closedloop.users.models import Team, User
from closedloop.workspace.models import ExchangeRate, Product


def at(text: str) -> datetime:
    """A UTC moment from 'YYYY-MM-DD HH:MM' (or an ISO string with its own offset)."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Data:
    """Inserts rows through the ORM; ids come back for assertions."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self._n = 0

    def _add(self, row: Any) -> int:
        self.session.add(row)
        self.session.flush()
        return int(row.id)

    def team(self, name: str) -> int:
        return self._add(Team(name=name))

    def user(self, email: str, team_id: int | None = None) -> int:
        return self._add(User(email=email, role="sales", team_id=team_id))

    def account(self, name: str, **cols: Any) -> int:
        return self._add(Account(name=name, normalised_name=name.lower(), **cols))

    def product(self, name: str) -> int:
        return self._add(Product(name=name))

    def campaign(self, name: str, channel: str | None = None) -> int:
        return self._add(Campaign(name=name, normalised_name=name.lower(), channel=channel))

    def lead(
        self, created: str, events: list[tuple[str, str] | tuple[str, str, bool]] = (), **cols: Any
    ) -> int:
        """A lead with lifecycle events (stage, 'YYYY-MM-DD HH:MM'[, implied])."""
        self._n += 1
        cols.setdefault("email", f"lead{self._n}@example.com")
        lead_id = self._add(Lead(created_at=at(created), recorded_at=at(created), **cols))
        for event in events:
            self.event(lead_id, event[0], event[1], implied=bool(event[2]) if len(event) > 2 else False)
        return lead_id

    def event(
        self, lead_id: int, stage: str, when: str, *, implied: bool = False, voids: int | None = None
    ) -> int:
        return self._add(
            LifecycleEvent(
                lead_id=lead_id,
                to_stage=stage,
                occurred_at=at(when),
                recorded_at=at(when),
                implied=implied,
                voids_id=voids,
                source="import",
            )
        )

    def deal(
        self,
        created: str,
        amount: float,
        *,
        status: str = "open",
        closed: str | None = None,
        currency: str = "TWD",
        stage: str | None = None,
        **cols: Any,
    ) -> int:
        stage = stage or {"won": "won", "lost": "lost"}.get(status, "initial_contact")
        digits = 0 if currency == "JPY" else 2
        return self._add(
            Deal(
                name=f"deal {self._n}",
                created_at=at(created),
                status=status,
                stage=stage,
                closed_at=at(closed) if closed else None,
                currency=currency,
                amount_minor=round(amount * 10**digits),
                **cols,
            )
        )

    def rate(self, currency: str, day: str, value: str) -> None:
        self._add(
            ExchangeRate(
                currency=currency, rate_date=date.fromisoformat(day), rate_to_reporting=Decimal(value)
            )
        )

    def spend(
        self, campaign_id: int, day: str, amount: float, *, channel: str | None = None, currency: str = "TWD"
    ) -> int:
        return self._add(
            CampaignSpend(
                campaign_id=campaign_id,
                spend_date=date.fromisoformat(day),
                channel=channel,
                amount_minor=round(amount * 100),
                currency=currency,
            )
        )

    def handoff(self, lead_id: int, assigned: str, **cols: Any) -> int:
        for key, value in list(cols.items()):
            if key.endswith("_at") and isinstance(value, str):
                cols[key] = at(value)
        return self._add(Handoff(lead_id=lead_id, assigned_at=at(assigned), **cols))

    def feedback(self, when: str, score: float, scale_max: int = 5, **cols: Any) -> int:
        return self._add(
            CustomerFeedback(occurred_at=at(when), score=Decimal(str(score)), scale_max=scale_max, **cols)
        )


@pytest.fixture
def data(store: Any) -> Iterator[Data]:
    """A builder whose rows are committed before the analytics engine reads them."""
    session = store.session()
    builder = Data(session)
    try:
        yield builder
    finally:
        session.close()
        engine.close(store.url)


def commit(data: Data) -> None:
    data.session.commit()


PERIOD = {"date_from": "2026-01-01", "date_to": "2026-06-30", "as_of": "2026-06-30"}


@pytest.fixture
def scenario(data: Data) -> dict[str, int]:
    """The hand-built scorecard scenario; expected numbers are worked out in the tests' comments."""
    north = data.team("North")
    u1 = data.user("ae1@example.com", north)
    ids: dict[str, int] = {"north": north, "u1": u1}
    ids["A"] = data.lead(
        "2026-01-05 00:00",
        [("lead", "2026-01-05 00:00"), ("mql", "2026-01-10 00:00"), ("sql", "2026-01-20 00:00"),
         ("opportunity", "2026-02-01 00:00"), ("customer", "2026-03-01 00:00")],
        first_channel="Email", owner_id=u1, team_id=north, region="North",
    )  # fmt: skip
    # B skips mql and sal: the waterfall counts them, implied.
    ids["B"] = data.lead(
        "2026-01-06 00:00", [("lead", "2026-01-06 00:00"), ("sql", "2026-01-08 00:00")], first_channel="Email"
    )
    ids["C"] = data.lead(
        "2026-02-01 00:00",
        [("lead", "2026-02-01 00:00"), ("mql", "2026-02-02 00:00"), ("sql", "2026-06-10 00:00")],
        first_channel="Ads",
    )
    ids["D"] = data.lead("2026-01-10 00:00", [("lead", "2026-01-10 00:00")], first_channel="Ads")
    ids["E"] = data.lead("2026-05-01 00:00", [("lead", "2026-05-01 00:00")], first_channel="Ads")  # immature
    ids["F"] = data.lead("2026-01-15 00:00", [("lead", "2026-01-15 00:00")], first_channel="Email")
    mql = data.event(ids["F"], "mql", "2026-01-16 00:00")
    data.event(ids["F"], "lead", "2026-01-17 00:00", voids=mql)  # the MQL was a mistake
    ids["G"] = data.lead(
        "2026-03-01 00:00",
        [("lead", "2026-03-01 00:00"), ("mql", "2026-03-02 00:00"), ("sql", "2026-03-05 12:00")],
        first_channel="Events",
    )
    data.session.commit()
    return ids
