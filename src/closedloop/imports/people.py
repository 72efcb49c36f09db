"""Lead, activity and feedback imports: identities, companies, lifecycle history, first touches."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from closedloop.accounts import service as account_service
from closedloop.handoffs import breaches
from closedloop.handoffs.models import ACTIVITY_TYPES, RESPONSE_ACTIVITY_TYPES, Activity
from closedloop.imports import history, parsing
from closedloop.imports.context import (
    ImportContext,
    Row,
    RowInvalid,
    RowProcessor,
    account_for,
    apply_changes,
)
from closedloop.imports.presets import HUBSPOT_SOURCES, LIFECYCLE_VALUES, STAGE_AT_COLUMNS, UTM
from closedloop.leads.identity import email_domain, normalise_email, normalise_phone
from closedloop.leads.lifecycle import Stage
from closedloop.leads.models import Lead
from closedloop.marketing import channels as channel_rules
from closedloop.marketing import service as marketing_service
from closedloop.marketing.models import Touchpoint
from closedloop.revenue.models import CustomerFeedback

LEAD_TYPES = ("new_customer", "existing_customer", "partner")
SOURCE_TYPES = ("inbound", "outbound", "partner_referral")
SOURCE_FIELDS = ("channel", *UTM, "landing_page", "referrer")
CHANNEL_NAMES = {c.casefold(): c for c in channel_rules.CHANNELS}
_EMAIL_IN_TEXT = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")


def _erased(ctx: ImportContext, **identities: str | None) -> bool:
    """True when any identity belonged to an erased person: an import never brings them back."""
    from closedloop.users import privacy

    if not any(identities.values()):
        return False
    return privacy.is_erased(ctx.session, **identities)


def parse_country(value: str | None) -> str | None:
    """An ISO 3166 alpha-2 code (a few common names and 台灣/中国 accepted)."""
    if not value:
        return None
    names = {
        "taiwan": "TW",
        "台灣": "TW",
        "臺灣": "TW",
        "china": "CN",
        "中国": "CN",
        "中國": "CN",
        "hong kong": "HK",
        "香港": "HK",
        "japan": "JP",
        "日本": "JP",
        "singapore": "SG",
        "united states": "US",
        "usa": "US",
        "malaysia": "MY",
        "korea": "KR",
    }
    text = value.strip()
    code = names.get(text.lower(), text.upper())
    if not re.fullmatch(r"[A-Z]{2}", code):
        raise parsing.ParseError(f"not an ISO 3166 country code: {value!r}")
    return code


def parse_stage(value: str | None) -> str | None:
    """A lifecycle stage from our names or another system's."""
    if not value:
        return None
    key = value.strip().lower()
    stage = LIFECYCLE_VALUES.get(key) or (key if key in {s.value for s in Stage} else None)
    if stage is None:
        raise parsing.ParseError(f"not a lifecycle stage: {value!r}")
    return stage


def parse_channel(value: str | None, preset: str) -> str | None:
    """An explicit channel: a channel of the grouping (HubSpot's Original Source values mapped)."""
    if not value:
        return None
    key = value.strip().casefold()
    channel = CHANNEL_NAMES.get(key) or (HUBSPOT_SOURCES.get(key) if preset == "hubspot" else None)
    if channel is None:
        raise parsing.ParseError(f"not a channel of the channel rules ({', '.join(channel_rules.CHANNELS)})")
    return channel


def seen_in_file(ctx: ImportContext, row: Row, identities: dict[str, str | None]) -> None:
    """Refuse a row naming a record an earlier row of the same file already named (which one wins?)."""
    seen: dict[tuple[str, str], int] = ctx.cache.setdefault("seen", {})
    for column, value in identities.items():
        if value and (column, value) in seen and seen[(column, value)] != row.number:
            row.error(column, f"same record as row {seen[(column, value)]} of this file")
    row.check()
    for column, value in identities.items():
        if value:
            seen[(column, value)] = row.number


def find_lead(ctx: ImportContext, row: Row, **identities: str | None) -> Lead | None:
    """The one lead these identities name; RowInvalid when they name two different leads."""
    found: dict[int, Lead] = {}
    for attr, value in identities.items():
        if value:
            lead = ctx.session.scalar(select(Lead).where(getattr(Lead, attr) == value))
            if lead is not None:
                while lead.merged_into_id is not None:
                    lead = ctx.session.get(Lead, lead.merged_into_id)
                found[lead.id] = lead
    if len(found) > 1:
        row.error(None, f"identities belong to different leads {sorted(found)}: merge them first", "")
        row.check()
    return next(iter(found.values()), None)


def lead_reference(ctx: ImportContext, row: Row, *, required: bool) -> Lead | None:
    """The lead named by lead_external_id or lead_email (an email inside text is accepted)."""
    external = row.text("lead_external_id")
    email_text = row.text("lead_email")
    email = None
    if email_text:
        match = _EMAIL_IN_TEXT.search(email_text)
        email = match.group(0).lower() if match else None
        if email is None:
            row.error("lead_email", "not an email address")
    row.check()
    if not external and not email:
        if required:
            row.error(None, "one of lead_external_id or lead_email is required", "")
            row.check()
        return None
    lead = find_lead(ctx, row, external_id=external, email=email)
    if lead is None:
        row.error(
            "lead_external_id" if external else "lead_email",
            "no lead with this identity (import leads first)",
        )
        row.check()
    return lead


class LeadsProcessor(RowProcessor):
    """Leads: create or update by identity, company matching, lifecycle history, first touch."""

    def handle(self, ctx: ImportContext, row: Row) -> str:
        tz = ctx.tz
        email = row.parse("email", normalise_email)
        country = row.parse("country", parse_country)
        phone = row.parse("phone", lambda v: normalise_phone(v, country=country))
        external_id, line_id, wechat = (
            row.text("external_id"),
            row.text("line_user_id"),
            row.text("wechat_unionid"),
        )
        if not any((email, phone, external_id, line_id, wechat)) and not any(
            e.column in (row.reverse.get("email"), row.reverse.get("phone")) for e in row.errors
        ):
            row.error(
                None, "one identity required: external_id, email, phone, line_user_id or wechat_unionid", ""
            )
        created_at = row.parse("created_at", lambda v: parsing.parse_datetime(v, tz))
        stage_at = {c[:-3]: row.parse(c, lambda v: parsing.parse_datetime(v, tz)) for c in STAGE_AT_COLUMNS}
        lifecycle = row.parse("lifecycle_stage", parse_stage)
        lead_type = (row.text("lead_type") or "").lower() or None
        if lead_type and lead_type not in LEAD_TYPES:
            row.error("lead_type", f"not a lead type ({', '.join(LEAD_TYPES)})")
        source_type = (row.text("source_type") or "").lower() or None
        if source_type and source_type not in SOURCE_TYPES:
            row.error("source_type", f"not a source type ({', '.join(SOURCE_TYPES)})")
        size = row.parse("company_size", parsing.parse_company_size)
        tax_id = row.parse("company_tax_id", account_service.normalise_tax_id)
        channel = row.parse("channel", lambda v: parse_channel(v, ctx.mapping.preset))
        for name in (*UTM, "first_name", "last_name", "title", "industry", "region"):
            if len(row.text(name) or "") > 255:
                row.error(name, "longer than 255 characters")
        row.check()
        seen_in_file(
            ctx,
            row,
            {"external_id": external_id, "email": email, "line_user_id": line_id, "wechat_unionid": wechat},
        )
        if _erased(
            ctx,
            email=email,
            phone=phone,
            line_user_id=line_id,
            wechat_unionid=wechat,
            external_id=external_id,
        ):
            ctx.report.skipped_erased += 1
            return "skipped"
        lead = find_lead(
            ctx, row, external_id=external_id, email=email, line_user_id=line_id, wechat_unionid=wechat
        )
        name = (
            row.text("name")
            or " ".join(p for p in (row.text("first_name"), row.text("last_name")) if p)
            or None
        )
        company = row.text("company")
        account_id = None
        if company or tax_id or row.text("company_domain"):
            domain = row.text("company_domain") or email_domain(email)
            account_id = account_for(
                ctx,
                name=company,
                tax_id=tax_id,
                domain=domain,
                industry=row.text("industry"),
                company_size=size[0] if size else None,
                employees=size[1] if size else None,
                country=country,
            )
        values: dict[str, Any] = {
            "external_id": external_id,
            "email": email,
            "phone": phone,
            "line_user_id": line_id,
            "wechat_unionid": wechat,
            "first_name": row.text("first_name"),
            "last_name": row.text("last_name"),
            "name": name,
            "title": row.text("title"),
            "account_id": account_id,
            "industry": row.text("industry"),
            "company_size": size[0] if size else None,
            "region": row.text("region"),
            "country": country,
            "lead_type": lead_type,
            "source_type": source_type,
            "owner_id": ctx.user_id(row.text("owner_email")),
            "tags": parsing.parse_tags(row.text("tags")) or None,
            "custom": row.custom or None,
        }
        if lead is None:
            at = created_at or ctx.now
            lead = Lead(**{k: v for k, v in values.items() if v is not None}, stage="lead", created_at=at)
            lead.recorded_at = ctx.now
            ctx.session.add(lead)
            ctx.session.flush()
            history.record_created(ctx, lead, at)
            outcome = "inserted"
            ctx.report.count_change("leads")
        else:
            if values["custom"]:
                values["custom"] = {**(lead.custom or {}), **values["custom"]}
            for field in ("external_id", "email", "line_user_id", "wechat_unionid"):
                # A known identity is never replaced by an import; a different one is reported.
                if getattr(lead, field) and values[field] and values[field] != getattr(lead, field):
                    ctx.report.warnings.append(
                        f"row {row.number}: lead {lead.id} keeps its {field}; the file's value was not applied"
                    )
                    values[field] = None
            changed = apply_changes(ctx, lead, values, "lead")
            outcome = "updated" if changed else "unchanged"
            if changed:
                ctx.report.count_change("leads")
        base = created_at or lead.created_at
        targets = [(stage, at) for stage, at in stage_at.items() if at is not None]
        if lifecycle:
            latest = max([base, *(at for _, at in targets)])
            if lifecycle not in {s for s, _ in targets}:
                targets.append((lifecycle, latest))
        try:
            events = history.apply_lead_history(ctx, lead, targets)
        except history.HistoryRefused as exc:
            row.error("lifecycle_stage", str(exc))
            row.check()
        touch = self._first_touch(ctx, row, lead, channel, base)
        if (events or touch) and outcome == "unchanged":
            outcome = "updated"
        return outcome

    def _first_touch(
        self, ctx: ImportContext, row: Row, lead: Lead, channel: str | None, at: datetime
    ) -> bool:
        """Record the row's source fields as the lead's first touch at created_at (idempotent)."""
        if not any(row.text(f) for f in SOURCE_FIELDS):
            return False
        fields = {f: row.text(f) for f in (*UTM, "landing_page", "referrer")}
        derived = channel or channel_rules.derive_channel(fields, ctx.cache.setdefault("rules", _rules(ctx)))
        campaign = marketing_service.match_or_create_campaign(
            session=ctx.session, name=fields["utm_campaign"], cache=ctx.cache.setdefault("campaigns", {})
        )
        key = f"import:lead-first-touch:{lead.id}"
        touch = ctx.session.scalar(select(Touchpoint).where(Touchpoint.external_id == key))
        values = {
            **fields,
            "channel": derived,
            "channel_explicit": channel is not None,
            "campaign_id": campaign.id if campaign else None,
            "occurred_at": at,
        }
        if touch is None:
            touch = Touchpoint(external_id=key, lead_id=lead.id, type="other", recorded_at=ctx.now, **values)
            ctx.session.add(touch)
            ctx.session.flush()
            ctx.report.count_change("touchpoints")
            changed = True
        else:
            changed = apply_changes(ctx, touch, values, "touchpoint")
        if changed and (lead.first_touch_at is None or at <= lead.first_touch_at):
            lead.first_touch_at, lead.first_channel = at, derived
            lead.first_utm_source, lead.first_utm_medium = fields["utm_source"], fields["utm_medium"]
            lead.first_utm_campaign, lead.first_utm_content = fields["utm_campaign"], fields["utm_content"]
            lead.first_campaign_id = campaign.id if campaign else None
            lead.first_landing_page = fields["landing_page"]
        return changed


def _rules(ctx: ImportContext) -> list[dict[str, Any]]:
    return channel_rules.rules_of(channel_rules.rules_in_force(ctx.session, at=ctx.now))


class ActivitiesProcessor(RowProcessor):
    """Sales activities on a lead or a deal; recorded_at is server time (SLA clocks use it)."""

    def handle(self, ctx: ImportContext, row: Row) -> str:
        from closedloop.deals.models import Deal

        kind = (row.text("type") or "").lower()
        if kind not in ACTIVITY_TYPES:
            row.error("type", f"not an activity type ({', '.join(ACTIVITY_TYPES)})")
        occurred = row.required(
            "occurred_at", row.parse("occurred_at", lambda v: parsing.parse_datetime(v, ctx.tz))
        )
        row.check()
        deal = None
        if row.text("deal_external_id"):
            deal = ctx.session.scalar(select(Deal).where(Deal.external_id == row.text("deal_external_id")))
            if deal is None:
                row.error("deal_external_id", "no deal with this external id (import deals first)")
                row.check()
        lead = lead_reference(ctx, row, required=deal is None)
        values = {
            "lead_id": lead.id if lead else (deal.lead_id if deal else None),
            "deal_id": deal.id if deal else None,
            "user_id": ctx.user_id(row.text("user_email")),
            "type": kind,
            "occurred_at": occurred,
            "notes": row.text("notes"),
        }
        external = row.text("external_id")
        query = select(Activity)
        if external:
            query = query.where(Activity.external_id == external)
        else:
            query = query.where(
                Activity.lead_id == values["lead_id"],
                Activity.deal_id == values["deal_id"],
                Activity.type == kind,
                Activity.occurred_at == occurred,
            )
        activity = ctx.session.scalar(query.limit(1))
        if activity is None:
            ctx.session.add(Activity(external_id=external, recorded_at=ctx.now, **values))
            if kind in RESPONSE_ACTIVITY_TYPES and values["lead_id"] is not None:
                # An imported call or email answers a waiting hand-off too, at its recorded (import) time:
                # back-dated history cannot pass an SLA (SPEC section 2).
                ctx.session.flush()
                breaches.record_response(
                    ctx.session, lead_id=values["lead_id"], recorded_at=ctx.now, clock=lambda: ctx.now
                )
            ctx.report.count_change("activities")
            return "inserted"
        return "updated" if apply_changes(ctx, activity, values, "activity") else "unchanged"


class FeedbackProcessor(RowProcessor):
    """Satisfaction scores (1-5, or 0-10 with scale), tied to a company or a lead."""

    def handle(self, ctx: ImportContext, row: Row) -> str:
        occurred = row.required(
            "occurred_at", row.parse("occurred_at", lambda v: parsing.parse_datetime(v, ctx.tz))
        )
        score = row.required("score", row.parse("score", parsing.parse_decimal))
        scale = row.parse("scale", parsing.parse_decimal)
        if scale is not None and scale not in (5, 10):
            row.error("scale", "scale is 5 or 10")
        if score is not None:
            top = int(scale) if scale in (5, 10) else (10 if score > 5 or score == 0 else 5)
            low = 0 if top == 10 else 1
            if not (low <= score <= top):
                row.error("score", f"score out of range {low}-{top}")
            scale = Decimal(top)
        row.check()
        lead = lead_reference(ctx, row, required=False) if row.text("lead_email") else None
        account = None
        if row.text("company"):
            account = account_service.find_account(session=ctx.session, name=row.text("company"))
            if account is None:
                row.error("company", "no company with this name")
                row.check()
        if lead is None and account is None:
            row.error(None, "one of company or lead_email is required", "")
            row.check()
        account_id = account.id if account else (lead.account_id if lead else None)
        existing = ctx.session.scalar(
            select(CustomerFeedback).where(
                CustomerFeedback.account_id == account_id,
                CustomerFeedback.lead_id == (lead.id if lead else None),
                CustomerFeedback.occurred_at == occurred,
            )
        )
        values = {"score": score, "scale_max": int(scale or 5), "comment": row.text("comment")}
        if existing is None:
            ctx.session.add(
                CustomerFeedback(
                    account_id=account_id, lead_id=lead.id if lead else None, occurred_at=occurred, **values
                )
            )
            ctx.report.count_change("customer_feedback")
            return "inserted"
        return "updated" if apply_changes(ctx, existing, values, "customer_feedback") else "unchanged"


__all__ = ["ActivitiesProcessor", "FeedbackProcessor", "LeadsProcessor", "RowInvalid"]
