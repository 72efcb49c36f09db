"""Shared data for the predictive store tests: leads with a planted first-channel signal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import insert

import closedloop.models  # noqa: F401
from closedloop.analytics import engine
from closedloop.leads.models import Lead, LifecycleEvent
from closedloop.marketing.models import Touchpoint
from closedloop.predictive import registry

START = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fresh_duckdb(store):
    """DuckDB attachments and loaded models never outlive a test's store."""
    engine.close(store.url)
    registry._CACHE.clear()
    yield
    engine.close(store.url)


@pytest.fixture
def seed_leads():
    """A function loading the planted-signal leads into a store."""
    return _seed_leads


def _seed_leads(store, n: int = 800, seed: int = 11) -> None:
    """Leads whose first channel plants the signal: Paid Search wins 60%, the rest 8%; 40 stay open."""
    rng = np.random.default_rng(seed)
    channels = rng.choice(["Paid Search", "Display", "Email", "Referral"], n)
    created = [START + timedelta(days=float(d)) for d in np.sort(rng.uniform(0, 420, n))]
    won = rng.random(n) < np.where(channels == "Paid Search", 0.6, 0.08)
    with store.session() as s:
        s.execute(insert(Lead), [
            {"id": i + 1, "email": f"p{i}@example.com", "industry": rng.choice(["retail", "software"]),
             "source_type": "inbound", "lead_type": "new_customer", "first_channel": channels[i],
             "first_touch_at": created[i], "created_at": created[i], "recorded_at": created[i],
             "updated_at": created[i], "stage": "lead" if i >= n - 40 else ("customer" if won[i] else "disqualified")}
            for i in range(n)
        ])  # fmt: skip
        events, touches = [], []
        for i in range(n):
            events.append(
                {"lead_id": i + 1, "to_stage": "lead", "occurred_at": created[i], "source": "import"}
            )
            touches.append({"lead_id": i + 1, "occurred_at": created[i], "type": "form_submit",
                            "channel": channels[i]})  # fmt: skip
            if i < n - 40:
                stage = "customer" if won[i] else "disqualified"
                at = created[i] + timedelta(days=float(rng.uniform(10, 60)))
                events.append({"lead_id": i + 1, "to_stage": stage, "occurred_at": at, "source": "import"})
        s.execute(insert(LifecycleEvent), events)
        s.execute(insert(Touchpoint), touches)
        s.commit()
