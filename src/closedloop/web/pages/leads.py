"""The leads list (search, filters, sort, pages) and one lead's page with its whole timeline."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Form, Query
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, or_, select

from closedloop.access import policy
from closedloop.access.scope import get_visible, scoped
from closedloop.accounts.models import Account
from closedloop.deals.models import Deal
from closedloop.handoffs.models import Activity, Handoff
from closedloop.i18n.catalog import MESSAGES
from closedloop.leads.lifecycle import Stage
from closedloop.leads.models import Lead, LeadScore, LifecycleEvent
from closedloop.marketing.models import Touchpoint
from closedloop.revenue.models import CustomerFeedback
from closedloop.users.models import User
from closedloop.web.pages.common import Page, PageDep, PageRoute, check_csrf, render
from closedloop.web.pages.tables import Table, csv_response

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PAGE_SIZE = 50
SORTS = {
    # Newest and oldest by id (the order records were added): the primary key index serves it.
    "newest": Lead.id.desc(),
    "oldest": Lead.id.asc(),
    "score": Lead.score.desc().nulls_last(),
    "stage": Lead.stage.asc(),
}
Text = Annotated[str | None, Query(max_length=200)]
TIMELINE_LIMIT = 300
BANDS = ("A", "B", "C", "D")
COUNT_CAP = 10_000


def owners(page: Page) -> list[tuple[int, str]]:
    """People who can own leads, visible to the caller (managers: their team; admins: everyone)."""
    stmt = (
        select(User.id, User.name, User.email).where(User.role.in_(("sales", "manager"))).order_by(User.email)
    )
    if page.actor.role in ("sales", "manager") and page.actor.team_id is not None:
        stmt = stmt.where(User.team_id == page.actor.team_id)
    return [(uid, name or email) for uid, name, email in page.request.state.db.execute(stmt)]


_CHANNELS: dict[str, tuple[float, list[str]]] = {}
CHANNELS_FOR = 60.0  # seconds the channel filter's options are reused


def _channels(url: str, db: Any) -> list[str]:
    """Every lead's first channel, for the filter: a scan of the whole table (60-200 ms at scale m),
    so reused for a minute (a new channel shows in the list within a minute). Not kept per analytics
    snapshot: asking for the snapshot would make this page wait for its copy after a write."""
    now = time.monotonic()
    kept = _CHANNELS.get(url)
    if kept is not None and kept[0] > now:
        return kept[1]
    found = [c for c in db.scalars(select(Lead.first_channel).distinct().order_by(Lead.first_channel)) if c]
    _CHANNELS[url] = (now + CHANNELS_FOR, found)
    return found


@router.get("/leads")
def leads(
    page: PageDep,
    q: Text = None,
    stage: Text = None,
    owner: Annotated[int | None, Query(ge=0, le=2**53)] = None,
    channel: Text = None,
    band: Annotated[str | None, Query(max_length=2)] = None,
    sla: Annotated[str | None, Query(pattern="^(overdue|waiting)$")] = None,
    sort: Annotated[str, Query(max_length=10)] = "newest",
    n: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """Leads the caller may see, searchable and filterable, 50 a page."""
    page.require("leads", "read")
    db = page.request.state.db
    stmt = scoped(select(Lead), Lead, page.actor).where(Lead.merged_into_id.is_(None))
    if q:
        like = f"%{q.strip().lower()}%"
        stmt = stmt.where(
            or_(func.lower(Lead.email).like(like), func.lower(Lead.name).like(like), Lead.phone.like(like),
                Lead.account_id.in_(select(Account.id).where(func.lower(Account.name).like(like))))
        )  # fmt: skip
    if stage in {s.value for s in Stage}:
        stmt = stmt.where(Lead.stage == stage)
    if owner:
        stmt = stmt.where(Lead.owner_id == owner)
    if channel:
        stmt = stmt.where(Lead.first_channel == channel)
    if band:
        stmt = stmt.where(Lead.score_band == band)
    if sla:
        waiting = select(Handoff.lead_id).where(Handoff.status == "open")
        if sla == "overdue":
            waiting = waiting.where(Handoff.sla_due_at < datetime.now(UTC))
        stmt = stmt.where(Lead.id.in_(waiting))
    # Counting stops at COUNT_CAP: "10,000+" is as useful as an exact figure and far cheaper.
    total = (
        db.scalar(
            select(func.count()).select_from(stmt.with_only_columns(Lead.id).limit(COUNT_CAP + 1).subquery())
        )
        or 0
    )
    order = SORTS.get(sort, SORTS["newest"])
    found = list(
        db.scalars(stmt.order_by(order, Lead.id.desc()).limit(PAGE_SIZE).offset((n - 1) * PAGE_SIZE))
    )
    names = dict(owners(page))
    channels = _channels(page.url, db)
    table = Table("leads", page.t("web.nav.leads"),
                  [page.t("web.col.lead"), page.t("web.col.company"), page.t("web.col.stage"), page.t("web.col.score"),
                   page.t("web.col.channel"), page.t("web.col.owner"), page.t("web.col.created")], numeric={3}, data={0, 1, 4, 5})  # fmt: skip
    accounts = _accounts(db, [lead.account_id for lead in found])
    for lead in found:
        label = lead.name or lead.email or f"#{lead.id}"
        table.add(
            [(label, f"/leads/{lead.id}"), accounts.get(lead.account_id, ""), page.stage(lead.stage),
             page.num(lead.score), lead.first_channel or "", names.get(lead.owner_id, ""), page.when(lead.created_at)],
            [lead.id, label, accounts.get(lead.account_id, ""), lead.stage, lead.score, lead.first_channel,
             names.get(lead.owner_id, ""), lead.created_at],
        )  # fmt: skip
    csv = csv_response(page, [Table("leads", table.caption, ["id", *table.header], raw=table.raw)])
    if csv is not None:
        return csv
    state = {
        "q": q,
        "stage": stage,
        "owner": owner,
        "channel": channel,
        "band": band,
        "sla": sla,
        "sort": sort,
    }
    pages = max(1, -(-total // PAGE_SIZE))
    reassigned = page.request.query_params.get("reassigned")
    flash = (
        page.t("web.leads.reassigned", n=page.num(int(reassigned)))
        if reassigned and reassigned.isdigit()
        else None
    )
    return render(page, "leads.html", table=table, total=total, capped=total > COUNT_CAP, n=n, pages=pages, state=state, owners=names,
                  bulk=policy.allowed(page.actor, "leads", "reassign"), ids=[lead.id for lead in found],
                  back=urlencode([(k, v) for k, v in page.request.query_params.multi_items() if k not in ("reassigned", "csv")]),
                  flash=flash,
                  stages=[s.value for s in Stage], channels=channels, bands=BANDS, sorts=list(SORTS),
                  prev=page.link("/leads", {**state, "n": n - 1}) if n > 1 else None,
                  next=page.link("/leads", {**state, "n": n + 1}) if n < pages or (total > COUNT_CAP and len(found) == PAGE_SIZE) else None)  # fmt: skip


def _accounts(db: Any, ids: list[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict(db.execute(select(Account.id, Account.name).where(Account.id.in_(wanted))).all())


@router.get("/leads/{lead_id}")
def lead_page(page: PageDep, lead_id: int) -> Response:
    """One lead: facts, and a timeline of touches, stage changes, scores, hand-offs, activities, deals and
    customer feedback (CSAT) on the lead or its company."""
    page.require("leads", "read")
    db = page.request.state.db
    lead = get_visible(db, Lead, lead_id, page.actor)
    people = dict(db.execute(select(User.id, func.coalesce(User.name, User.email))).all())
    events: list[dict[str, Any]] = []
    touches = scoped(select(Touchpoint).where(Touchpoint.lead_id == lead.id), Touchpoint, page.actor)
    for tp in db.scalars(touches.order_by(Touchpoint.occurred_at.desc()).limit(TIMELINE_LIMIT)):
        detail = " · ".join(x for x in (tp.utm_source, tp.utm_medium, tp.utm_campaign, tp.landing_page) if x)
        events.append({"at": tp.occurred_at, "kind": "touch", "title": page.t("web.timeline.touch", type=tp.type,
                       channel=tp.channel), "detail": detail})  # fmt: skip
    for ev in db.scalars(select(LifecycleEvent).where(LifecycleEvent.lead_id == lead.id)):
        title = page.t("web.timeline.stage", from_=page.stage(ev.from_stage), to=page.stage(ev.to_stage))
        detail = " · ".join(x for x in (reason_name(page, ev.reason), ev.reason_text, page.t("web.timeline.implied") if ev.implied
                                        else None, people.get(ev.by_user_id)) if x)  # fmt: skip
        events.append({"at": ev.occurred_at, "kind": "stage", "title": title, "detail": detail,
                       "voided": ev.voids_id is not None})  # fmt: skip
    for sc in db.scalars(select(LeadScore).where(LeadScore.lead_id == lead.id).order_by(LeadScore.scored_at.desc())
                         .limit(50)):  # fmt: skip
        why = ", ".join(
            f"{int(e.get('points') or 0):+d} {e.get('label', '')}".strip()
            for e in sc.explanation[:5]
            if isinstance(e, dict)
        )
        events.append({"at": sc.scored_at, "kind": "score", "title": page.t("web.timeline.score", score=page.num(sc.score),
                       band=sc.band or "—"), "detail": why})  # fmt: skip
    if policy.allowed(page.actor, "handoffs", "read"):
        for h in db.scalars(scoped(select(Handoff).where(Handoff.lead_id == lead.id), Handoff, page.actor)):
            detail = page.t(f"web.handoff.{h.status}")
            if h.rejection_reason:
                detail += " · " + reason_name(page, h.rejection_reason)
            events.append({"at": h.assigned_at, "kind": "handoff", "title": page.t("web.timeline.handoff",
                           owner=people.get(h.owner_id, "—")), "detail": detail})  # fmt: skip
    if policy.allowed(page.actor, "activities", "read"):
        acts = scoped(select(Activity).where(Activity.lead_id == lead.id), Activity, page.actor)
        for a in db.scalars(acts.order_by(Activity.occurred_at.desc()).limit(TIMELINE_LIMIT)):
            notes = a.notes if a.deal_id is None or policy.sees_deal_notes(page.actor) else None
            events.append({"at": a.occurred_at, "kind": "activity", "title": page.t("web.timeline.activity",
                           type=page.t(f"web.activity.{a.type}"), who=people.get(a.user_id, "—")), "detail": notes or ""})  # fmt: skip
    about = CustomerFeedback.lead_id == lead.id
    if lead.account_id is not None:  # the customer company's feedback is about this lead's account too
        about = or_(about, CustomerFeedback.account_id == lead.account_id)
    feedback = select(CustomerFeedback).where(about).order_by(CustomerFeedback.occurred_at.desc())
    for f in db.scalars(feedback.limit(TIMELINE_LIMIT)):
        score = page.num(f.score, 1 if f.score % 1 else 0)  # 4.5 stays 4.5, 9 stays 9
        events.append({"at": f.occurred_at, "kind": "feedback", "detail": f.comment or "",
                       "title": page.t("web.timeline.feedback", score=score, scale=f.scale_max)})  # fmt: skip
    deals = []
    if policy.allowed(page.actor, "deals", "read"):
        deals = list(db.scalars(scoped(select(Deal).where(Deal.lead_id == lead.id), Deal, page.actor)))
        for d in deals:
            events.append({"at": d.created_at, "kind": "deal", "title": page.t("web.timeline.deal", name=d.name),
                           "detail": f"{d.stage} · {page.minor(d.amount_minor, d.currency)}"})  # fmt: skip
    events.sort(key=lambda e: e["at"], reverse=True)
    account = db.get(Account, lead.account_id) if lead.account_id else None
    from closedloop.web.pages.models_page import lead_prediction

    merged = page.request.query_params.get("merged")
    return render(page, "lead.html", lead=lead, account=account, owner=people.get(lead.owner_id), events=events,
                  deals=deals, prediction=lead_prediction(page, lead.id), candidates=merge_candidates(page, lead),
                  may_merge=policy.allowed(page.actor, "leads", "merge"),
                  merged=merged if merged and merged.isdigit() else None,
                  flash=page.t("web.quality.done.merged") if merged else None)  # fmt: skip


def reason_name(page: Page, code: str | None) -> str | None:
    """A lifecycle or hand-off reason code in the reader's language ("high_intent:demo request"
    names its action); a code the catalogue does not know (an API caller's own trigger) as it is."""
    if not code:
        return None
    kind, _, label = code.partition(":")
    if f"reason.{kind}" not in MESSAGES:
        return code
    return page.t(f"reason.{kind}", label=label) if label else page.t(f"reason.{kind}")


CANDIDATES = 10
SIMILAR = 90.0  # rapidfuzz token-sort ratio, as leads.merge.fuzzy_candidates


def merge_candidates(page: Page, lead: Lead) -> list[dict[str, Any]]:
    """Leads that look like this one and the caller may see: shared phone or name at the company
    (handoffs.quality.likely_duplicates), or a similar name at the same company (as leads.merge)."""
    from rapidfuzz import fuzz

    from closedloop.handoffs.quality import likely_duplicates

    db = page.request.state.db
    why: dict[int, tuple[str, float]] = {}
    for other in likely_duplicates(db, lead):
        why[other] = ("phone" if lead.phone else "name_company", 100.0)
    name = (lead.name or " ".join(p for p in (lead.first_name, lead.last_name) if p) or "").strip().lower()
    if name and lead.account_id is not None:
        same = db.execute(select(Lead.id, Lead.name, Lead.first_name, Lead.last_name).where(
            Lead.account_id == lead.account_id, Lead.id != lead.id, Lead.merged_into_id.is_(None)).limit(500)).all()  # fmt: skip
        for row in same:
            other_name = (
                (row.name or " ".join(p for p in (row.first_name, row.last_name) if p) or "").strip().lower()
            )
            score = fuzz.token_sort_ratio(name, other_name) if other_name else 0.0
            if score >= SIMILAR and row.id not in why:
                why[row.id] = ("name_company", float(score))
    if not why:
        return []
    visible = scoped(select(Lead).where(Lead.id.in_(list(why))), Lead, page.actor)
    found = sorted(db.scalars(visible), key=lambda other: (-why[other.id][1], other.id))[:CANDIDATES]
    return [{"lead": other, "reason": why[other.id][0], "score": why[other.id][1]} for other in found]


@router.post("/leads/reassign")
def reassign(page: PageDep, csrf_token: Annotated[str, Form(max_length=200)] = "",
             lead: Annotated[list[int] | None, Form()] = None,
             owner: Annotated[int, Form(ge=1, le=2**53)] = 0,
             back: Annotated[str, Form(max_length=2000)] = "") -> Response:  # fmt: skip
    """Managers: give the chosen leads to one owner of their team (admins: anyone); audited per lead."""
    from closedloop.api.helpers import check_assignment
    from closedloop.errors import UserError, ValidationFailed
    from closedloop.leads.reassign import reassign_leads

    check_csrf(page, csrf_token)
    page.require("leads", "reassign")
    db = page.request.state.db
    query = [
        (k, v)
        for k, v in parse_qsl(back)
        if k in ("q", "stage", "owner", "channel", "band", "sla", "sort", "n")
    ]
    try:
        person = db.get(User, owner) if owner else None
        if person is None:
            raise ValidationFailed(page.t("web.leads.pick_owner"))
        check_assignment(db, page.actor, person.id, None)
        changed = reassign_leads(session=db, lead_ids=lead or [], owner=person, actor=page.actor)
    except UserError as exc:
        db.rollback()
        from closedloop.web.pages.common import error_page

        return error_page(page.request, exc)
    return RedirectResponse("/leads?" + urlencode([*query, ("reassigned", changed)]), status_code=303)
