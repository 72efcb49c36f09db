"""Channel rules as policy versions; re-deriving history is one audited action; explicit channels stay."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from closedloop.audit.models import AuditLog
from closedloop.clock import fixed_clock
from closedloop.db import unit_of_work
from closedloop.leads.models import Lead
from closedloop.marketing import channels
from closedloop.marketing.models import Touchpoint
from closedloop.policies.models import PolicyVersion
from closedloop.users.actor import Actor

ADMIN = Actor(user_id=None, role="admin", via="cli")
NOW = datetime(2026, 4, 1, tzinfo=UTC)


def test_rederive_after_a_rule_change(store, run_file, csv_file) -> None:
    run_file("leads", csv_file("leads.csv", [["email", "created_at"], ["a@x.tw", "2025-01-01"]]))
    touches = [["lead_email", "occurred_at", "utm_source", "utm_medium", "channel"],
               ["a@x.tw", "2024-12-01", "computex", "stand", ""],
               ["a@x.tw", "2024-12-02", "google", "cpc", ""],
               ["a@x.tw", "2024-12-03", "computex", "stand", "Referral"]]  # fmt: skip
    run_file("touchpoints", csv_file("tp.csv", touches))
    with store.session() as session:
        assert [t.channel for t in session.scalars(select(Touchpoint).order_by(Touchpoint.occurred_at))] == [
            "Other", "Paid Search", "Referral"]  # fmt: skip
    edited = [{"channel": "Events", "when": [{"medium_in": ["stand"]}]}, *channels.DEFAULT_RULES]
    with unit_of_work(store.session_factory) as session:
        version = channels.propose_rules(session=session, rules=edited, reason="trade-show booths are events",
                                         actor=ADMIN, effective_from=NOW, clock=fixed_clock(NOW))  # fmt: skip
        assert (version.version, version.status) == (2, "proposed")
        version.status, version.approved_at = "approved", NOW  # approval itself belongs to the policies flow
        summary = channels.rederive_channels(session=session, actor=ADMIN, clock=fixed_clock(NOW))
    assert summary["changed"] == 1 and summary["moves"] == {"Other -> Events": 1} and summary["version"] == 2
    with store.session() as session:
        rows = session.scalars(select(Touchpoint).order_by(Touchpoint.occurred_at)).all()
        assert [t.channel for t in rows] == ["Events", "Paid Search", "Referral"]  # the explicit one stays
        assert rows[0].channel_policy_version_id == session.scalar(
            select(PolicyVersion.id).where(PolicyVersion.kind == "channel_rules", PolicyVersion.version == 2))  # fmt: skip
        assert session.scalars(select(Lead.first_channel)).one() == "Events"
        audits = session.scalars(select(AuditLog).where(AuditLog.action == "channel_rules.rederived")).all()
        assert len(audits) == 1 and audits[0].after["changed"] == 1
