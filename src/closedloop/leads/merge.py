"""Duplicate leads: exact matches on normalised identities, fuzzy candidates, merge and undo.

Same normalised email, LINE user id, WeChat unionid or external id: the same person. A shared
phone only proposes a merge for review (offices share switchboards), like fuzzy name + company
matches. A merge moves every row that points at the losing lead (touches, lifecycle events,
activities, deals, hand-offs...) to the winner, marks the loser merged, and records exactly what
moved in the audit log, so `undo_merge` can put everything back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from closedloop.accounts.models import Account
from closedloop.audit import service as audit_service
from closedloop.audit.models import AuditLog
from closedloop.clock import Clock, system_clock
from closedloop.db import Base
from closedloop.errors import Conflict, NotFound, ValidationFailed
from closedloop.leads.lifecycle import MAIN_INDEX, Stage
from closedloop.leads.models import Lead
from closedloop.users.actor import Actor

IDENTITY_FIELDS = ("email", "external_id", "line_user_id", "wechat_unionid")
FILLABLE = (
    "phone", "first_name", "last_name", "name", "title", "account_id", "industry", "company_size", "region",
    "country", "owner_id", "team_id",
)  # fmt: skip
FIRST_TOUCH = (
    "first_touch_at", "first_channel", "first_utm_source", "first_utm_medium", "first_utm_campaign",
    "first_utm_content", "first_campaign_id", "first_landing_page",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class DuplicateCandidate:
    """Two (or more) leads that look like one person, why, and how sure."""

    lead_ids: tuple[int, ...]
    reason: str  # email | phone | name_company
    score: float
    exact: bool


def exact_duplicates(*, session: Session) -> list[DuplicateCandidate]:
    """Groups sharing a normalised email (same person) or a phone (proposed for review)."""
    out: list[DuplicateCandidate] = []
    live = Lead.merged_into_id.is_(None)
    for reason, key, exact in (
        ("email", func.lower(func.trim(Lead.email)), True),
        ("phone", Lead.phone, False),
    ):
        groups = session.execute(
            select(key, func.count()).where(live, key.is_not(None)).group_by(key).having(func.count() > 1)
        ).all()
        for value, _ in groups:
            ids = session.scalars(select(Lead.id).where(live, key == value).order_by(Lead.id)).all()
            out.append(DuplicateCandidate(tuple(ids), reason, 100.0, exact))
    return out


def fuzzy_candidates(
    *, session: Session, threshold: float = 90.0, limit: int = 1000
) -> list[DuplicateCandidate]:
    """Pairs with similar names at the same company (rapidfuzz token-sort ratio >= threshold)."""
    from rapidfuzz import fuzz, process

    rows = session.execute(
        select(Lead.id, Lead.name, Lead.first_name, Lead.last_name, Lead.account_id, Account.normalised_name)
        .outerjoin(Account, Account.id == Lead.account_id)
        .where(Lead.merged_into_id.is_(None))
    ).all()
    blocks: dict[str, list[tuple[int, str]]] = {}
    for row in rows:
        name = (row.name or " ".join(p for p in (row.first_name, row.last_name) if p) or "").strip().lower()
        company = row.normalised_name or ""
        if name and company:
            blocks.setdefault(company, []).append((row.id, name))
    out: list[DuplicateCandidate] = []
    for members in blocks.values():
        if len(members) < 2:
            continue
        names = [n for _, n in members]
        scores = process.cdist(names, names, scorer=fuzz.token_sort_ratio, score_cutoff=threshold)
        for i in range(len(members)):
            for j in range(i + 1, len(members)):
                if scores[i][j] >= threshold:
                    out.append(
                        DuplicateCandidate(
                            (members[i][0], members[j][0]), "name_company", float(scores[i][j]), False
                        )
                    )
    out.sort(key=lambda c: -c.score)
    return out[:limit]


def _lead_tables() -> list[tuple[Any, Any]]:
    """(table, column) for every column outside `leads` that points at a lead."""
    found = []
    for table in Base.metadata.sorted_tables:
        if table.name == "leads":
            continue
        for column in table.columns:
            if any(fk.column.table.name == "leads" for fk in column.foreign_keys):
                found.append((table, column))
    return found


def merge_leads(
    *, session: Session, winner_id: int, loser_id: int, actor: Actor, clock: Clock = system_clock
) -> AuditLog:
    """Merge `loser` into `winner`: move every linked row, fill the winner's empty fields; audited."""
    if winner_id == loser_id:
        raise ValidationFailed("a lead cannot be merged into itself", detail={"field": "loser_id"})
    winner, loser = session.get(Lead, winner_id), session.get(Lead, loser_id)
    if winner is None or loser is None:
        raise NotFound(f"lead {winner_id if winner is None else loser_id} not found")
    if winner.merged_into_id is not None or loser.merged_into_id is not None:
        raise Conflict("one of these leads is already merged into another")
    conflicts = [f for f in IDENTITY_FIELDS if getattr(winner, f) and getattr(loser, f)
                 and getattr(winner, f) != getattr(loser, f)]  # fmt: skip
    loser_before = audit_service.snapshot(loser)
    winner_before = audit_service.snapshot(winner)
    moved: dict[str, list[int]] = {}
    for table, column in _lead_tables():
        ids = session.scalars(select(table.c.id).where(column == loser.id)).all()
        if ids:
            session.execute(update(table).where(table.c.id.in_(ids)).values({column.name: winner.id}))
            moved[f"{table.name}.{column.name}"] = list(ids)
    taken: dict[str, Any] = {}
    for field in IDENTITY_FIELDS:
        if getattr(loser, field) and not getattr(winner, field):
            taken[field] = getattr(loser, field)
            setattr(loser, field, None)
    session.flush()  # the loser gives up unique identities before the winner takes them
    for field, value in taken.items():
        setattr(winner, field, value)
    for field in FILLABLE:
        if getattr(winner, field) is None and getattr(loser, field) is not None:
            setattr(winner, field, getattr(loser, field))
    winner.tags = sorted(set(winner.tags or []) | set(loser.tags or []))
    winner.custom = {**(loser.custom or {}), **(winner.custom or {})}
    if loser.first_touch_at is not None and (
        winner.first_touch_at is None or loser.first_touch_at < winner.first_touch_at
    ):
        for field in FIRST_TOUCH:
            setattr(winner, field, getattr(loser, field))
    if loser.created_at < winner.created_at:
        winner.created_at = loser.created_at
    if _further(loser.stage, winner.stage):
        winner.stage = loser.stage
    loser.merged_into_id = winner.id
    session.flush()
    entry = audit_service.record(
        session,
        actor=actor,
        action="lead.merged",
        entity_type="lead",
        entity_id=winner.id,
        before={"winner": winner_before, "loser": loser_before},
        after={
            "winner_id": winner.id,
            "loser_id": loser.id,
            "moved": moved,
            "identities_taken": taken,
            "identity_conflicts": conflicts,
        },
        clock=clock,
    )
    session.flush()
    return entry


def _further(stage: str, than: str) -> bool:
    a, b = MAIN_INDEX.get(Stage(stage)), MAIN_INDEX.get(Stage(than))
    return a is not None and (b is None or a > b)


def undo_merge(
    *, session: Session, merge_audit_id: int, actor: Actor, clock: Clock = system_clock
) -> AuditLog:
    """Put a merge back: linked rows return to the loser, both leads get their fields back; audited."""
    entry = session.get(AuditLog, merge_audit_id)
    if entry is None or entry.action != "lead.merged" or not entry.after or not entry.before:
        raise NotFound(f"merge {merge_audit_id} not found")
    undone = session.scalar(
        select(AuditLog.id).where(
            AuditLog.action == "lead.merge_undone", AuditLog.entity_id == str(merge_audit_id)
        )
    )
    if undone is not None:
        raise Conflict(f"merge {merge_audit_id} was already undone")
    winner = session.get(Lead, int(entry.after["winner_id"]))
    loser = session.get(Lead, int(entry.after["loser_id"]))
    if winner is None or loser is None or loser.merged_into_id != winner.id:
        raise Conflict("the leads changed since the merge; undo it by hand")
    tables = {f"{t.name}.{c.name}": (t, c) for t, c in _lead_tables()}
    for key, ids in dict(entry.after.get("moved") or {}).items():
        table, column = tables[key]
        session.execute(update(table).where(table.c.id.in_(list(ids))).values({column.name: loser.id}))
    winner_before: dict[str, Any] = dict(entry.before["winner"])
    loser_before: dict[str, Any] = dict(entry.before["loser"])
    for field in dict(entry.after.get("identities_taken") or {}):
        setattr(winner, field, None)
    session.flush()
    _restore(winner, winner_before)
    _restore(loser, loser_before)
    loser.merged_into_id = None
    session.flush()
    entry = audit_service.record(
        session,
        actor=actor,
        action="lead.merge_undone",
        entity_type="audit_log",
        entity_id=merge_audit_id,
        after={"winner_id": winner.id, "loser_id": loser.id},
        clock=clock,
    )
    session.flush()
    return entry


def _restore(lead: Lead, snapshot: dict[str, Any]) -> None:
    from datetime import datetime

    for field in (*IDENTITY_FIELDS, *FILLABLE, *FIRST_TOUCH, "tags", "custom", "stage", "created_at"):
        if field not in snapshot:
            continue
        value = snapshot[field]
        if field in ("created_at", "first_touch_at") and isinstance(value, str):
            value = datetime.fromisoformat(value)
        setattr(lead, field, value)
