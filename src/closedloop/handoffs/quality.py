"""The data-quality gate: a lead cannot become an MQL while required fields are missing or invalid
or it is a likely duplicate; it waits in the "needs data" list with the reasons.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import phonenumbers
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from closedloop.errors import ValidationFailed
from closedloop.handoffs.models import DataQualityHold
from closedloop.i18n import translate
from closedloop.leads.models import Lead

# Field groups: "email|phone" means at least one of them.
DEFAULT_GATE: dict[str, Any] = {"required": ["email|phone|line_user_id|wechat_unionid"], "duplicates": True}
GATE_FIELDS = (
    "email",
    "phone",
    "line_user_id",
    "wechat_unionid",
    "name",
    "title",
    "company",
    "industry",
    "company_size",
    "region",
    "country",
)
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")


@dataclass(frozen=True)
class Gate:
    required: tuple[tuple[str, ...], ...]
    duplicates: bool


@dataclass(frozen=True)
class Problem:
    """One reason a lead waits: code missing | invalid | duplicate, and the field or lead at fault."""

    code: str
    field: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "field": self.field}


def parse_gate(payload: Mapping[str, Any]) -> Gate:
    """Validate a data-quality gate policy payload."""
    groups = []
    for entry in payload.get("required", []):
        names = tuple(str(entry).split("|"))
        unknown = [n for n in names if n not in GATE_FIELDS and not n.startswith("custom.")]
        if unknown:
            raise ValidationFailed(
                translate("validator.gate.field", name=unknown[0]), detail={"field": "required"}
            )
        groups.append(names)
    return Gate(required=tuple(groups), duplicates=bool(payload.get("duplicates", True)))


def _value(lead: Lead, name: str) -> object:
    if name == "company":
        return lead.account_id
    if name.startswith("custom."):
        return (lead.custom or {}).get(name.removeprefix("custom."))
    return getattr(lead, name)


def invalid_fields(lead: Lead) -> list[str]:
    """Fields present but not valid: email shape, phone number, ISO country code."""
    bad = []
    if lead.email and not EMAIL_RE.match(lead.email):
        bad.append("email")
    if lead.phone:
        try:
            number = phonenumbers.parse(lead.phone, lead.country or "TW")
            if not phonenumbers.is_possible_number(number):
                bad.append("phone")
        except phonenumbers.NumberParseException:
            bad.append("phone")
    if lead.country and not COUNTRY_RE.match(lead.country):
        bad.append("country")
    return bad


def check(gate: Gate, lead: Lead, duplicate_ids: Sequence[int]) -> list[Problem]:
    """Every reason the lead may not pass the gate (empty: it passes)."""
    problems = [
        Problem("missing", "|".join(group))
        for group in gate.required
        if all(_value(lead, name) in (None, "") for name in group)
    ]
    problems += [Problem("invalid", name) for name in invalid_fields(lead)]
    if gate.duplicates:
        problems += [Problem("duplicate", f"lead:{other}") for other in duplicate_ids]
    return problems


def likely_duplicates(session: Session, lead: Lead) -> list[int]:
    """Other live leads sharing the phone number, or the same name at the same company."""
    conditions = []
    if lead.phone:
        conditions.append(Lead.phone == lead.phone)
    if lead.name and lead.account_id is not None:
        conditions.append(
            (func.lower(Lead.name) == lead.name.strip().lower()) & (Lead.account_id == lead.account_id)
        )
    if not conditions:
        return []
    return list(
        session.scalars(
            select(Lead.id)
            .where(
                Lead.id != lead.id, Lead.merged_into_id.is_(None), Lead.is_spam.is_(False), or_(*conditions)
            )
            .order_by(Lead.id)
        )
    )


def open_hold(session: Session, lead_id: int) -> DataQualityHold | None:
    """The lead's unreleased hold, if it waits in the needs-data list."""
    return session.scalars(
        select(DataQualityHold).where(
            DataQualityHold.lead_id == lead_id, DataQualityHold.released_at.is_(None)
        )
    ).first()


def hold(
    session: Session,
    *,
    lead: Lead,
    problems: Sequence[Problem],
    trigger: str,
    at: datetime,
    policy_version_id: int | None,
) -> DataQualityHold:
    """Put the lead in (or keep it in) the needs-data list with the current reasons."""
    existing = open_hold(session, lead.id)
    reasons = [p.as_dict() for p in problems]
    if existing is not None:
        existing.reasons = reasons
        existing.checked_at = at
        return existing
    entry = DataQualityHold(
        lead_id=lead.id,
        reasons=reasons,
        trigger=trigger,
        held_at=at,
        checked_at=at,
        policy_version_id=policy_version_id,
    )
    session.add(entry)
    return entry


def needs_data(session: Session, *, limit: int = 500) -> list[DataQualityHold]:
    """The needs-data list: leads waiting at the gate, oldest first."""
    return list(
        session.scalars(
            select(DataQualityHold)
            .where(DataQualityHold.released_at.is_(None))
            .order_by(DataQualityHold.held_at, DataQualityHold.id)
            .limit(limit)
        )
    )
