"""The quality page: leads held at the data-quality gate, duplicates to review (merge, undo), and
quarantined rows to fix and replay. Every action goes through the existing services
(handoffs.service.recheck_holds, leads.merge, quarantine.service), which audit it.
"""

from __future__ import annotations

import threading
import time
from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import String, cast, func, select

from closedloop.access import policy
from closedloop.access.scope import get_visible, scoped, visible_lead_ids
from closedloop.accounts.models import Account
from closedloop.audit.models import AuditLog
from closedloop.errors import Forbidden, UserError, ValidationFailed
from closedloop.handoffs import service as handoff_service
from closedloop.handoffs.models import DataQualityHold
from closedloop.imports.router import KIND_PERMISSION
from closedloop.leads import merge as merge_service
from closedloop.leads.models import Lead
from closedloop.quarantine import service as quarantine_service
from closedloop.quarantine.models import QuarantinedRecord
from closedloop.web.pages.common import Page, PageDep, PageRoute, check_csrf, not_found, render
from closedloop.web.pages.imports_wizard import may_import, may_quality

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Csrf = Annotated[str, Form(max_length=200)]
Id = Annotated[int, Form(ge=1, le=2**53)]
LIST_SIZE = 100
PAIRS_SHOWN = 50
MERGES_SHOWN = 10
FLASHES = ("rechecked", "merged", "undone", "replayed", "discarded")


def _require(page: Page) -> None:
    if not may_quality(page.actor):
        raise Forbidden(page.t("web.error.forbidden"))


def reason_text(page: Page, reason: dict[str, str]) -> str:
    """One reason a lead waits at the gate, in words."""
    code, fld = reason.get("code", ""), reason.get("field", "")
    if code == "duplicate":
        return page.t("web.quality.reason.duplicate", lead=fld.removeprefix("lead:"))
    names = " / ".join(page.t(f"web.quality.field.{f}") if f in FIELDS else f for f in fld.split("|"))
    return (
        page.t(f"web.quality.reason.{code}", field=names)
        if code in ("missing", "invalid")
        else f"{code} {fld}"
    )


FIELDS = ("email", "phone", "line_user_id", "wechat_unionid", "name", "title", "company", "industry",
          "company_size", "region", "country")  # fmt: skip


def _needs_data(page: Page) -> list[dict[str, Any]]:
    db = page.request.state.db
    stmt = scoped(
        select(DataQualityHold, Lead)
        .join(Lead, Lead.id == DataQualityHold.lead_id)
        .where(DataQualityHold.released_at.is_(None)),
        Lead,
        page.actor,
    )
    rows = db.execute(stmt.order_by(DataQualityHold.held_at, DataQualityHold.id).limit(LIST_SIZE)).all()
    return [
        {"hold": h, "lead": lead, "reasons": [reason_text(page, r) for r in h.reasons or []]}
        for h, lead in rows
    ]


_PAIRS: dict[str, tuple[tuple[Any, ...], float, list[tuple[int, int, str, float]]]] = {}
_PAIRS_LOCK = threading.Lock()
PAIRS_FRESH = 600.0  # seconds a computed list serves while no lead or company was added


def _candidate_pairs(page: Page) -> list[tuple[int, int, str, float]]:
    """Fuzzy name-at-company pairs and shared phones (leads.merge), computed again when a lead or
    company is added (their highest ids move) or after ten minutes. Merges and undos need no new
    pass: the page reads the leads themselves fresh and leaves out merged ones."""
    db = page.request.state.db
    fingerprint = (db.scalar(select(func.max(Lead.id))), db.scalar(select(func.max(Account.id))))
    now = time.monotonic()
    with _PAIRS_LOCK:
        kept = _PAIRS.get(page.url)
    if kept is not None and kept[0] == fingerprint and now - kept[1] < PAIRS_FRESH:
        return kept[2]
    pairs = [(c.lead_ids[0], c.lead_ids[1], c.reason, c.score)
             for c in merge_service.fuzzy_candidates(session=db, limit=500)]  # fmt: skip
    for c in merge_service.exact_duplicates(session=db):
        if not c.exact:  # a shared phone: proposed for review (same-email groups are merged on import)
            pairs += [(c.lead_ids[0], other, c.reason, c.score) for other in c.lead_ids[1:]]
    with _PAIRS_LOCK:
        _PAIRS[page.url] = (fingerprint, now, pairs)
    return pairs


def _duplicates(page: Page) -> list[dict[str, Any]]:
    """The first pairs whose two leads are live and visible to the caller, read in batches."""
    db = page.request.state.db
    pairs = _candidate_pairs(page)
    out: list[dict[str, Any]] = []
    batch = PAIRS_SHOWN * 2
    for first in range(0, len(pairs), batch):
        chunk = pairs[first : first + batch]
        ids = {i for a, b, _, _ in chunk for i in (a, b)}
        visible = scoped(
            select(Lead).where(Lead.id.in_(ids), Lead.merged_into_id.is_(None)), Lead, page.actor
        )
        leads = {lead.id: lead for lead in db.scalars(visible)}
        accounts = dict(db.execute(select(Account.id, Account.name).where(
            Account.id.in_({lead.account_id for lead in leads.values() if lead.account_id}))).all())  # fmt: skip
        for a, b, reason, score in chunk:
            if a in leads and b in leads:
                out.append({"a": leads[a], "b": leads[b], "reason": reason, "score": score,
                            "company": accounts.get(leads[a].account_id) or accounts.get(leads[b].account_id) or ""})  # fmt: skip
                if len(out) == PAIRS_SHOWN:
                    return out
    return out


def _merges(page: Page) -> list[dict[str, Any]]:
    """Recent merges (not yet undone) whose surviving lead the caller may see, newest first."""
    db = page.request.state.db
    undone = select(AuditLog.entity_id).where(AuditLog.action == "lead.merge_undone")
    stmt = (
        select(AuditLog)
        .where(AuditLog.action == "lead.merged", cast(AuditLog.id, String).not_in(undone))
        .order_by(AuditLog.id.desc())
        .limit(MERGES_SHOWN * 3)
    )
    entries = list(db.scalars(stmt))
    winners = {int(e.entity_id) for e in entries if e.entity_id and e.entity_id.isdigit()}
    seen = set(
        db.scalars(select(Lead.id).where(Lead.id.in_(winners), Lead.id.in_(visible_lead_ids(page.actor))))
    )
    out = []
    for e in entries:
        after = e.after or {}
        if after.get("winner_id") in seen:
            before = e.before or {}
            loser = before.get("loser") or {}
            out.append({"id": e.id, "at": e.occurred_at, "winner": after.get("winner_id"), "loser": after.get("loser_id"),
                        "loser_label": loser.get("name") or loser.get("email") or f"#{after.get('loser_id')}"})  # fmt: skip
        if len(out) == MERGES_SHOWN:
            break
    return out


def _fixable(page: Page) -> Any:
    """The open records the caller may fix (as `_record` checks one): import rows of kinds whose
    records it may write; other sources (capture, webhooks) when it may create leads."""
    kinds = [k for k, need in KIND_PERMISSION.items() if policy.allowed(page.actor, *need)]
    condition = (QuarantinedRecord.source == "import") & QuarantinedRecord.kind.in_(kinds)
    if policy.allowed(page.actor, "leads", "create"):
        condition = condition | (QuarantinedRecord.source != "import")
    return select(QuarantinedRecord).where(QuarantinedRecord.status == "open", condition)


def _quarantine(page: Page) -> tuple[list[QuarantinedRecord], int]:
    db = page.request.state.db
    stmt = _fixable(page)
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    return list(db.scalars(stmt.order_by(QuarantinedRecord.id).limit(LIST_SIZE))), int(total)


def show(page: Page, *, flash: str | None = None, kind: str = "ok", status: int = 200) -> Response:
    done = page.request.query_params.get("done")
    if flash is None and done in FLASHES:
        flash = page.t(f"web.quality.done.{done}")
    merged = page.request.query_params.get("merge")
    records, quarantined = _quarantine(page)
    return render(page, "quality.html", status, holds=_needs_data(page), pairs=_duplicates(page), merges=_merges(page),
                  records=records, quarantined=quarantined, may_merge=policy.allowed(page.actor, "leads", "merge"),
                  may_import=may_import(page.actor), merged=merged if merged and merged.isdigit() else None,
                  flash=flash, flash_kind=kind)  # fmt: skip


@router.get("/quality")
def quality(page: PageDep) -> Response:
    """Needs data, duplicates to review, quarantine."""
    _require(page)
    return show(page)


def _act(page: Page, csrf: str, done: str, run: Any, extra: str = "") -> Response:
    check_csrf(page, csrf)
    _require(page)
    try:
        run()
    except UserError as exc:
        page.request.state.db.rollback()
        return show(page, flash=exc.message, kind="error", status=exc.http_status)
    return RedirectResponse(f"/quality?done={done}{extra}", status_code=303)


@router.post("/quality/recheck")
def recheck(page: PageDep, csrf_token: Csrf = "") -> Response:
    """Run the gate again for every held lead: the ones that now pass are handed off."""
    page.require("leads", "update")
    db = page.request.state.db
    return _act(
        page, csrf_token, "rechecked", lambda: handoff_service.recheck_holds(session=db, actor=page.actor)
    )


def merge_pair(page: Page, winner: int, loser: int) -> int:
    """Merge `loser` into `winner` (both must be visible to the caller); the merge's audit id."""
    page.require("leads", "merge")
    db = page.request.state.db
    get_visible(db, Lead, winner, page.actor)
    get_visible(db, Lead, loser, page.actor)
    return merge_service.merge_leads(session=db, winner_id=winner, loser_id=loser, actor=page.actor).id


@router.post("/quality/merge")
def merge(page: PageDep, winner: Id, csrf_token: Csrf = "", loser: Annotated[int | None, Form(ge=1, le=2**53)] = None,
          pair: Annotated[str, Form(pattern=r"^(\d{1,16}-\d{1,16})?$")] = "",
          back: Annotated[str, Form(max_length=40)] = "") -> Response:  # fmt: skip
    """Merge two leads the caller reviewed (`pair` "a-b" and the one to keep); the answer offers the undo."""
    check_csrf(page, csrf_token)
    _require_merge(page)
    if loser is None:
        ids = [int(x) for x in pair.split("-")] if pair else []
        if winner not in ids or len(set(ids)) != 2:
            raise ValidationFailed(page.t("web.quality.pick_pair"))
        loser = next(i for i in ids if i != winner)
    try:
        audit_id = merge_pair(page, winner, loser)
    except UserError as exc:
        page.request.state.db.rollback()
        return show(page, flash=exc.message, kind="error", status=exc.http_status)
    if back == "lead":
        return RedirectResponse(f"/leads/{winner}?merged={audit_id}", status_code=303)
    return RedirectResponse(f"/quality?done=merged&merge={audit_id}", status_code=303)


def _require_merge(page: Page) -> None:
    if not policy.allowed(page.actor, "leads", "merge"):
        raise Forbidden(page.t("web.error.forbidden"))


@router.post("/quality/merge/{audit_id}/undo")
def undo(page: PageDep, audit_id: int, csrf_token: Csrf = "") -> Response:
    """Put a merge back (leads.merge.undo_merge)."""
    _require_merge(page)
    db = page.request.state.db

    def run() -> None:
        entry = db.get(AuditLog, audit_id)
        if entry is None or entry.action != "lead.merged" or not entry.after:
            raise not_found(page)
        get_visible(db, Lead, int(entry.after["winner_id"]), page.actor)
        merge_service.undo_merge(session=db, merge_audit_id=audit_id, actor=page.actor)

    return _act(page, csrf_token, "undone", run)


def _record(page: Page, record_id: int) -> QuarantinedRecord:
    """A quarantined record the caller may fix: an import row of a kind it may import, else a lead writer."""
    _require(page)
    record = page.request.state.db.get(QuarantinedRecord, record_id)
    if record is None:
        raise not_found(page)
    need = (
        KIND_PERMISSION.get(record.kind, ("leads", "create"))
        if record.source == "import"
        else ("leads", "create")
    )
    if not policy.allowed(page.actor, *need):
        raise Forbidden(page.t("web.error.forbidden"))
    return record


def _values(record: QuarantinedRecord) -> dict[str, str]:
    payload = dict(record.payload or {})
    values = payload.get("values") if isinstance(payload.get("values"), dict) else payload
    return {
        str(k): "" if v is None else str(v)
        for k, v in dict(values or {}).items()
        if not isinstance(v, dict | list)
    }


def show_record(
    page: Page, record: QuarantinedRecord, *, flash: str | None = None, status: int = 200
) -> Response:
    return render(page, "quality_record.html", status, record=record, values=_values(record),
                  flash=flash, flash_kind="error" if flash else None)  # fmt: skip


@router.get("/quality/quarantine/{record_id}")
def record_page(page: PageDep, record_id: int) -> Response:
    """One rejected row: its cells to edit, why it was rejected, replay or discard."""
    return show_record(page, _record(page, record_id))


@router.post("/quality/quarantine/{record_id}")
def fix_and_replay(page: PageDep, record_id: int, csrf_token: Csrf = "",
                   column: Annotated[list[str] | None, Form(max_length=200)] = None,
                   value: Annotated[list[str] | None, Form(max_length=4000)] = None) -> Response:  # fmt: skip
    """Save the edited cells, then run the row again; still invalid: the page says why."""
    check_csrf(page, csrf_token)
    db = page.request.state.db
    record = _record(page, record_id)
    current = _values(record)
    changes = {
        c: v for c, v in zip(column or [], value or [], strict=False) if c in current and current[c] != v
    }
    try:
        if changes:
            quarantine_service.fix_record(session=db, record_id=record.id, changes=changes, actor=page.actor)
        _, errors = quarantine_service.replay_record(session=db, record_id=record.id, actor=page.actor)
    except UserError as exc:
        db.rollback()
        return show_record(page, _record(page, record_id), flash=exc.message, status=exc.http_status)
    if errors:
        db.commit()  # the fix is kept, with the new reasons
        return show_record(page, record, flash=page.t("web.quality.still_invalid"), status=422)
    return RedirectResponse("/quality?done=replayed", status_code=303)


@router.post("/quality/quarantine/{record_id}/discard")
def discard(page: PageDep, record_id: int, csrf_token: Csrf = "",
            reason: Annotated[str, Form(max_length=500)] = "") -> Response:  # fmt: skip
    """Give up on a row (kept, marked discarded, the reason audited)."""
    check_csrf(page, csrf_token)
    db = page.request.state.db
    record = _record(page, record_id)
    try:
        quarantine_service.discard_record(session=db, record_id=record.id, actor=page.actor,
                                          reason=reason.strip() or "web")  # fmt: skip
    except UserError as exc:
        db.rollback()
        return show_record(page, record, flash=exc.message, status=exc.http_status)
    return RedirectResponse("/quality?done=discarded", status_code=303)
