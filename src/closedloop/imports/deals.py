"""Deal, deal-stage history and revenue imports: stage mapping, money net of tax, won deals move leads."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import select

from closedloop.accounts import service as account_service
from closedloop.deals.models import Deal, DealStageEvent, PipelineStage
from closedloop.handoffs.models import REJECTION_REASONS
from closedloop.imports import history, parsing
from closedloop.imports.context import ImportContext, Row, RowProcessor, account_for, apply_changes
from closedloop.imports.people import lead_reference, seen_in_file
from closedloop.revenue.models import REVENUE_KINDS, RevenueEvent
from closedloop.workspace.models import Product

# Other systems' stage names -> outcome, and keywords -> the default open stages.
WON_NAMES = {"won", "closed won", "closedwon", "closed-won", "成交", "贏單", "赢单", "已成交"}
LOST_NAMES = {"lost", "closed lost", "closedlost", "closed-lost", "失單", "丢单", "輸單", "输单", "dead"}
OPEN_KEYWORDS = (
    (r"negotiat|contract|review|commit|議價|议价|協商|协商", "negotiation"),
    (r"proposal|quote|presentation|proposition|decision|value|提案|方案|報價|报价", "proposal"),
    (r"analysis|qualif|engag|needs|discovery|demo|需求|perception|buy", "needs_analysis"),
    (r"prospect|new|appointment|contact|lead|initial|初步|聯繫|联系", "initial_contact"),
)


def stage_mapper(ctx: ImportContext) -> Any:
    """A function mapping another system's stage name onto the pipeline (recorded for the dry run)."""
    if "pipeline" not in ctx.cache:
        stages = ctx.session.scalars(select(PipelineStage).where(PipelineStage.is_active.is_(True))).all()
        by_name: dict[str, PipelineStage] = {}
        for stage in stages:
            by_name[stage.key.lower()] = stage
            by_name[stage.key.replace("_", " ").lower()] = stage
            for name in (stage.names or {}).values():
                by_name[str(name).lower()] = stage
        ctx.cache["pipeline"] = (by_name, {s.outcome: s for s in stages}, {s.key: s for s in stages})

    def mapped(value: str | None) -> PipelineStage | None:
        if not value:
            return None
        by_name, by_outcome, by_key = ctx.cache["pipeline"]
        key = value.strip().lower()
        stage = by_name.get(key)
        if stage is None and key in WON_NAMES:
            stage = by_outcome.get("won")
        if stage is None and key in LOST_NAMES:
            stage = by_outcome.get("lost")
        if stage is None:
            for pattern, target in OPEN_KEYWORDS:
                if re.search(pattern, key) and target in by_key:
                    stage = by_key[target]
                    break
        if stage is None:
            stage = min(
                (s for s in by_key.values() if s.outcome == "open"), key=lambda s: s.position, default=None
            )
        if stage is not None:
            ctx.report.stage_mapping[value.strip()] = stage.key
        return stage

    return mapped


def _money(ctx: ImportContext, row: Row) -> tuple[int | None, int, str]:
    """(net minor units, tax minor units, currency) of the row's amount, tax removed when included."""
    currency = row.parse("currency", lambda v: parsing.parse_currency(v, ctx.currency)) or ctx.currency
    amount = row.parse("amount", parsing.parse_decimal)
    included = row.parse("tax_included", parsing.parse_bool)
    rate = row.parse("tax_rate", parsing.parse_rate)
    if amount is None:
        return None, 0, currency
    minor = parsing.to_minor(amount, currency)
    if included:
        net, tax = parsing.remove_tax(minor, rate if rate is not None else ctx.tax_rate)
        return net, tax, currency
    return minor, 0, currency


def _product(ctx: ImportContext, name: str | None) -> int | None:
    """A product by name, ignoring case and spaces ("GTXPro" is "GTX Pro"); created when new."""
    if not name:
        return None
    products: dict[str, int] = ctx.cache.setdefault("products", {})
    if not products:
        for product in ctx.session.scalars(select(Product)).all():
            products[re.sub(r"\s+", "", product.name).lower()] = product.id
    key = re.sub(r"\s+", "", name).lower()
    if key not in products:
        product = Product(name=name.strip())
        ctx.session.add(product)
        ctx.session.flush()
        products[key] = product.id
        ctx.report.count_change("products")
    return products[key]


class DealsProcessor(RowProcessor):
    """Deals by external id (else name + company); won deals make customers, open ones opportunities."""

    def handle(self, ctx: ImportContext, row: Row) -> str:
        mapper = ctx.cache.setdefault("mapper", stage_mapper(ctx))
        tz = ctx.tz
        stage = mapper(row.text("stage"))
        row.required("stage", stage)
        created = row.parse("created_at", lambda v: parsing.parse_datetime(v, tz))
        closed = row.parse("closed_at", lambda v: parsing.parse_datetime(v, tz))
        expected = row.parse("expected_close_date", parsing.parse_date)
        net, _tax, currency = _money(ctx, row)
        tax_id = row.parse("company_tax_id", account_service.normalise_tax_id)
        external, name = row.text("external_id"), row.text("name")
        if not external and not name:
            row.error(None, "one of external_id or name is required", "")
        if stage is not None and stage.outcome in ("won", "lost") and closed is None:
            row.required("closed_at", None)
        if net is not None and net < 0:
            row.error("amount", "a deal amount cannot be negative")
        if created and closed and closed < created:
            row.error("closed_at", "closed before it was created")
        row.check()
        lead = lead_reference(ctx, row, required=False)
        account_id = None
        company = row.text("company")
        if company or tax_id or row.text("company_domain"):
            account_id = account_for(ctx, name=company, tax_id=tax_id, domain=row.text("company_domain"))
        elif lead is not None:
            account_id = lead.account_id
        self._note_quirks(ctx, row, created, company)
        status = stage.outcome if stage else "open"
        tags = parsing.parse_tags(row.text("tags"))  # deals have no tag column: kept as a custom field
        reason_text = row.text("lost_reason") if status == "lost" else None
        reason_code = None
        if reason_text:
            folded = reason_text.strip().lower().replace(" ", "_")
            reason_code = folded if folded in REJECTION_REASONS else "other"
        values: dict[str, Any] = {
            "external_id": external,
            "lead_id": lead.id if lead else None,
            "account_id": account_id,
            "name": name or external,
            "stage": stage.key if stage else None,
            "status": status,
            "amount_minor": net,
            "currency": currency,
            "product_id": _product(ctx, row.text("product")),
            "owner_id": ctx.user_id(row.text("owner_email")),
            "expected_close_date": expected,
            "closed_at": closed if status != "open" else None,
            "lost_reason": reason_code,
            "lost_reason_text": reason_text,
            "custom": {**row.custom, **({"tags": tags} if tags else {})} or None,
        }
        seen_in_file(ctx, row, {"external_id": external})
        deal = self._find(ctx, external, values)
        if deal is None:
            at = created or closed or ctx.now
            deal = Deal(**{k: v for k, v in values.items() if v is not None}, created_at=at)
            deal.amount_minor = net or 0
            ctx.session.add(deal)
            if external:
                ctx.cache["deals"][external] = deal
            ctx.cache["pending_events"].append((deal, None, closed if status != "open" else at))
            outcome = "inserted"
            ctx.report.count_change("deals")
        else:
            old_stage = deal.stage
            if values["custom"]:
                values["custom"] = {**(deal.custom or {}), **values["custom"]}
            changed = apply_changes(ctx, deal, values, "deal")
            if deal.stage != old_stage:
                ctx.cache["pending_events"].append((deal, old_stage, closed or ctx.now))
            outcome = "updated" if changed else "unchanged"
        self._customer(ctx, deal)
        if deal.lead_id is not None:
            self._move_lead(ctx, row, deal)
        return outcome

    def _find(self, ctx: ImportContext, external: str | None, values: dict[str, Any]) -> Deal | None:
        if external:
            return ctx.cache["deals"].get(external)
        return ctx.session.scalar(
            select(Deal).where(Deal.name == values["name"], Deal.account_id == values["account_id"]).limit(1)
        )

    def process(self, ctx: ImportContext, frame: Any) -> None:
        """Prefetch the chunk's deals, handle rows without autoflush, then write stage events at once."""
        ctx.cache.setdefault("deals", {})
        ctx.cache["pending_events"] = []
        column = next((c for c, g in ctx.mapping.mapped.items() if g == "external_id"), None)
        if column is not None:
            keys = [k for k in frame[column].astype(str).str.strip().unique().tolist() if k]
            for start in range(0, len(keys), 5_000):
                batch = keys[start : start + 5_000]
                for deal in ctx.session.scalars(select(Deal).where(Deal.external_id.in_(batch))).all():
                    ctx.cache["deals"][deal.external_id] = deal
        with ctx.session.no_autoflush:
            super().process(ctx, frame)
        ctx.session.flush()
        for deal, from_stage, at in ctx.cache["pending_events"]:
            self._stage_event(ctx, deal, from_stage, at)
        ctx.session.flush()

    def _note_quirks(
        self, ctx: ImportContext, row: Row, created: datetime | None, company: str | None
    ) -> None:
        """Count what real exports leave out, to report it rather than guess silently."""
        notes: dict[str, int] = ctx.cache.setdefault("quirks", {})
        if created is None:
            notes["no created_at: the import time is used"] = (
                notes.get("no created_at: the import time is used", 0) + 1
            )
        if not company and not row.text("lead_external_id") and not row.text("lead_email"):
            notes["no company and no lead"] = notes.get("no company and no lead", 0) + 1
        owner = row.text("owner_email")
        if owner and "@" not in owner:
            notes["owner is a name, not an email: left unowned"] = (
                notes.get("owner is a name, not an email: left unowned", 0) + 1
            )

    def finish(self, ctx: ImportContext) -> None:
        self._settle_customers(ctx)
        for text, n in sorted(ctx.cache.get("quirks", {}).items()):
            ctx.report.warnings.append(f"{n} rows: {text}")

    def _stage_event(self, ctx: ImportContext, deal: Deal, from_stage: str | None, at: datetime) -> None:
        ctx.session.add(
            DealStageEvent(
                deal_id=deal.id,
                from_stage=from_stage,
                to_stage=deal.stage,
                occurred_at=at,
                recorded_at=ctx.now,
                by_user_id=ctx.actor.user_id,
                amount_minor=deal.amount_minor,
                expected_close_date=deal.expected_close_date,
                source="import",
            )
        )
        ctx.report.count_change("deal_stage_events")

    def _customer(self, ctx: ImportContext, deal: Deal) -> None:
        """Note the account of a won deal: `finish` decides which of its deals is new business."""
        if deal.status == "won" and deal.account_id is not None and deal.closed_at is not None:
            ctx.cache.setdefault("won_accounts", set()).add(deal.account_id)

    def _settle_customers(self, ctx: ImportContext) -> None:
        """An account's first won deal makes it a customer (new business); later won deals are expansion."""
        from closedloop.accounts.models import Account

        ids = sorted(ctx.cache.get("won_accounts", ()))
        for start in range(0, len(ids), 5_000):
            batch = ids[start : start + 5_000]
            won = ctx.session.scalars(
                select(Deal)
                .where(Deal.account_id.in_(batch), Deal.status == "won", Deal.closed_at.is_not(None))
                .order_by(Deal.account_id, Deal.closed_at, Deal.id)
            ).all()
            first: dict[int, datetime] = {}
            for deal in won:
                assert deal.account_id is not None and deal.closed_at is not None
                is_first = deal.account_id not in first
                first.setdefault(deal.account_id, deal.closed_at)
                if deal.is_expansion == is_first:
                    deal.is_expansion = not is_first
            for account in ctx.session.scalars(select(Account).where(Account.id.in_(list(first)))).all():
                if account.became_customer_at != first[account.id]:
                    account.became_customer_at = first[account.id]

    def _move_lead(self, ctx: ImportContext, row: Row, deal: Deal) -> None:
        from closedloop.leads.models import Lead

        lead = ctx.session.get(Lead, deal.lead_id)
        if lead is None:
            return
        targets = [("opportunity", deal.created_at)]
        if deal.status == "won" and deal.closed_at is not None:
            targets.append(("customer", deal.closed_at))
        try:
            history.apply_lead_history(ctx, lead, targets, source="deal")
        except history.HistoryRefused as exc:
            ctx.report.warnings.append(f"row {row.number}: lead {lead.id} not moved ({exc})")


class DealStagesProcessor(RowProcessor):
    """Pipeline history from another CRM: one event per (deal, stage, time), never twice."""

    def handle(self, ctx: ImportContext, row: Row) -> str:
        mapper = ctx.cache.setdefault("mapper", stage_mapper(ctx))
        stage = row.required("stage", mapper(row.text("stage")))
        at = row.required(
            "occurred_at", row.parse("occurred_at", lambda v: parsing.parse_datetime(v, ctx.tz))
        )
        external = row.required("deal_external_id", row.text("deal_external_id"))
        row.check()
        deal = ctx.session.scalar(select(Deal).where(Deal.external_id == external))
        if deal is None:
            row.error("deal_external_id", "no deal with this external id (import deals first)")
            row.check()
        assert deal is not None and stage is not None and at is not None
        exists = ctx.session.scalar(
            select(DealStageEvent.id).where(
                DealStageEvent.deal_id == deal.id,
                DealStageEvent.to_stage == stage.key,
                DealStageEvent.occurred_at == at,
            )
        )
        if exists is not None:
            return "unchanged"
        previous = ctx.session.scalar(
            select(DealStageEvent.to_stage)
            .where(DealStageEvent.deal_id == deal.id, DealStageEvent.occurred_at < at)
            .order_by(DealStageEvent.occurred_at.desc(), DealStageEvent.id.desc())
            .limit(1)
        )
        ctx.session.add(
            DealStageEvent(
                deal_id=deal.id,
                from_stage=previous,
                to_stage=stage.key,
                occurred_at=at,
                recorded_at=ctx.now,
                by_user_id=ctx.actor.user_id,
                source="import",
            )
        )
        ctx.session.flush()
        ctx.report.count_change("deal_stage_events")
        return "inserted"


class RevenueProcessor(RowProcessor):
    """Invoices, orders, subscriptions; refunds and voids negative or reversing, never deletions."""

    def handle(self, ctx: ImportContext, row: Row) -> str:
        external = row.required("external_id", row.text("external_id"))
        occurred = row.required(
            "occurred_at", row.parse("occurred_at", lambda v: parsing.parse_datetime(v, ctx.tz))
        )
        kind = (row.text("kind") or "invoice").lower()
        if kind not in REVENUE_KINDS:
            row.error("kind", f"not a revenue kind ({', '.join(REVENUE_KINDS)})")
        net, tax, currency = _money(ctx, row)
        row.required("amount", net)
        start = row.parse("period_start", parsing.parse_date)
        end = row.parse("period_end", parsing.parse_date)
        if start and end and end < start:
            row.error("period_end", "period ends before it starts")
        tax_id = row.parse("company_tax_id", account_service.normalise_tax_id)
        row.check()
        if kind in ("refund", "void") and net is not None and net > 0:
            net, tax = -net, -tax  # a refund or void takes money back: stored negative
        reverses = None
        if row.text("reverses"):
            reverses = ctx.session.scalar(
                select(RevenueEvent).where(RevenueEvent.external_id == row.text("reverses"))
            )
            if reverses is None:
                row.error("reverses", "no revenue document with this external id")
                row.check()
        deal = None
        if row.text("deal_external_id"):
            deal = ctx.session.scalar(select(Deal).where(Deal.external_id == row.text("deal_external_id")))
            if deal is None:
                row.error("deal_external_id", "no deal with this external id (import deals first)")
                row.check()
        lead = lead_reference(ctx, row, required=False) if row.text("lead_email") else None
        account_id = self._account(ctx, row, tax_id, deal, lead, reverses)
        values = {
            "account_id": account_id,
            "deal_id": deal.id if deal else (reverses.deal_id if reverses else None),
            "lead_id": lead.id if lead else None,
            "occurred_at": occurred,
            "kind": kind,
            "amount_minor": net,
            "currency": currency,
            "tax_minor": tax,
            "period_start": start,
            "period_end": end,
            "reverses_id": reverses.id if reverses else None,
            "product_id": _product(ctx, row.text("product")),
        }
        event = ctx.session.scalar(select(RevenueEvent).where(RevenueEvent.external_id == external))
        if event is None:
            ctx.session.add(RevenueEvent(external_id=external, recorded_at=ctx.now, **values))
            ctx.session.flush()
            ctx.report.count_change("revenue_events")
            return "inserted"
        return "updated" if apply_changes(ctx, event, values, "revenue_event") else "unchanged"

    def _account(
        self, ctx: ImportContext, row: Row, tax_id: str | None, deal: Any, lead: Any, reverses: Any
    ) -> Any:
        if tax_id or row.text("company_domain") or row.text("company"):
            return account_for(
                ctx, name=row.text("company"), tax_id=tax_id, domain=row.text("company_domain")
            )
        for source in (deal, reverses, lead):
            if source is not None and source.account_id:
                return source.account_id
        return None
