"""index the hand-offs still awaiting a first response

The worker's SLA jobs (breach detection and warnings, every minute) look for live hand-offs with
no first response and no breach yet, by their deadline. Without this index each run reads the
whole hand-off history; with it, only the few hand-offs still waiting. Built concurrently on
PostgreSQL, so capture and routing keep writing hand-offs while it builds.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05 13:30:00
"""

from collections.abc import Sequence

from closedloop.migrations import online

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    online.create_index(
        "ix_handoffs_awaiting_response",
        "handoffs",
        ["sla_due_at"],
        where="first_response_at IS NULL AND breached_at IS NULL",
    )


def downgrade() -> None:
    online.drop_index("ix_handoffs_awaiting_response", "handoffs")
