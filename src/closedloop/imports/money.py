"""Spend (ad-platform reports, periods spread over days), costs and exchange-rate imports."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from closedloop.errors import ValidationFailed
from closedloop.imports import parsing
from closedloop.imports.context import ImportContext, Row, RowProcessor, apply_changes
from closedloop.marketing import channels as channel_rules
from closedloop.marketing import service as marketing_service
from closedloop.marketing.models import CostEntry
from closedloop.users.models import Team
from closedloop.workspace.models import ExchangeRate

COST_KINDS = ("salary", "tools", "agency", "other")
AD_PRESETS = {"google_ads": "Paid Search", "meta_ads": "Paid Social"}
# Google Ads "Campaign type" -> channel of the default grouping.
CAMPAIGN_TYPES = {
    "search": "Paid Search",
    "shopping": "Paid Search",
    "performance max": "Paid Search",
    "display": "Display",
    "video": "Display",
    "demand gen": "Paid Social",
    "discovery": "Paid Social",
    "app": "Other",
    "smart": "Paid Search",
}
_RANGE_SPLIT = re.compile(r"\s+[-–—~]\s+|\s*[–—~至到]\s*")
_ALL_TIME = re.compile(r"all time|lifetime|所有時間|所有时间|全部時間|全部时间|總計期間", re.IGNORECASE)


def spread(total: int, days: int) -> list[int]:
    """Split `total` minor units over `days` evenly, by the largest-remainder method (sums exactly)."""
    if days <= 0:
        raise ValueError("a period has at least one day")
    base, remainder = divmod(total, days)
    # Every day's exact share is total/days; all remainders are equal, so earlier days take the extra unit.
    return [base + (1 if i < remainder else 0) for i in range(days)]


def _title_date(text: str) -> date | None:
    text = text.strip().strip('"').strip()
    for fmt in ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%b %d %Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    try:
        return parsing.parse_date(text)
    except parsing.ParseError:
        return None


def period_from_titles(lines: list[str]) -> tuple[date, date] | str | None:
    """The date range stated in a report's title lines; "all_time" when it says so; None if absent."""
    for line in lines:
        for candidate in [line, *re.split(r"[,:：]\s*(?=[A-Z0-9])", line)]:
            parts = _RANGE_SPLIT.split(candidate.strip())
            if len(parts) == 2:
                start, end = _title_date(parts[0]), _title_date(parts[1])
                if start and end:
                    return (start, end) if start <= end else None
    if any(_ALL_TIME.search(line) for line in lines):
        return "all_time"
    return None


class SpendProcessor(RowProcessor):
    """Campaign spend per day; period rows spread evenly; totals skipped; one row per campaign-day."""

    def prepare(self, ctx: ImportContext, table: Any) -> None:
        mapped = set(ctx.mapping.mapped.values())
        ctx.cache["spend"] = {}
        if "date" in mapped or {"period_start", "period_end"} <= mapped:
            return
        stated = period_from_titles(table.title_lines)
        if ctx.period is None:
            if stated is None or stated == "all_time":
                raise ValidationFailed(
                    "the report states no dates (e.g. 'All time'): give --period-start and --period-end",
                    detail={"field": "period_start"},
                )
            assert isinstance(stated, tuple)
            ctx.period = stated
        ctx.report.period = (ctx.period[0].isoformat(), ctx.period[1].isoformat())

    def handle(self, ctx: ImportContext, row: Row) -> str:
        campaign = row.text("campaign")
        campaign_id = row.text("campaign_id")
        if not campaign and not campaign_id:
            row.error("campaign", "required", "")
        amount = row.required("amount", row.parse("amount", parsing.parse_decimal))
        currency = row.parse("currency", lambda v: parsing.parse_currency(v, ctx.currency)) or ctx.currency
        day = row.parse("date", parsing.parse_date)
        start = row.parse("period_start", parsing.parse_date)
        end = row.parse("period_end", parsing.parse_date)
        impressions = row.parse("impressions", parsing.parse_decimal)
        clicks = row.parse("clicks", parsing.parse_decimal)
        for name, value in (("impressions", impressions), ("clicks", clicks)):
            if value is not None and (value < 0 or value != value.to_integral_value()):
                row.error(name, "not a whole non-negative number")
        channel = self._channel(ctx, row)
        if day:
            start = end = day
        elif start or end:
            if not (start and end):
                row.error(
                    "period_end" if start else "period_start", "required with the other period bound", ""
                )
            elif end < start:
                row.error("period_end", "period ends before it starts")
        elif ctx.period:
            start, end = ctx.period
        else:
            row.error("date", "required (or period_start and period_end)", "")
        row.check()
        assert amount is not None and start is not None and end is not None
        days = (end - start).days + 1
        parts = spread(parsing.to_minor(amount, currency), days)
        imps = spread(int(impressions), days) if impressions is not None else [None] * days
        clks = spread(int(clicks), days) if clicks is not None else [None] * days
        key = (
            f"id:{campaign_id}"
            if campaign_id
            else f"name:{marketing_service.normalise_campaign_name(campaign or '')}"
        )
        cells: dict[tuple[str, date], dict[str, Any]] = ctx.cache["spend"]
        for i in range(days):
            cell = cells.setdefault(
                (key, start + timedelta(days=i)),
                {
                    "name": campaign,
                    "id": campaign_id,
                    "amount": 0,
                    "currency": currency,
                    "channel": channel,
                    "impressions": None,
                    "clicks": None,
                },
            )
            if cell["currency"] != currency:
                row.error("currency", f"the same campaign and day is also in {cell['currency']}")
                row.check()
            cell["amount"] += parts[i]
            for name, values in (("impressions", imps), ("clicks", clks)):
                if values[i] is not None:
                    cell[name] = (cell[name] or 0) + values[i]
        return "counted"

    def _channel(self, ctx: ImportContext, row: Row) -> str | None:
        value = row.text("channel")
        if value:
            known = {c.casefold(): c for c in channel_rules.CHANNELS}
            channel = known.get(value.casefold()) or CAMPAIGN_TYPES.get(value.casefold())
            if channel is None:
                row.error("channel", "not a channel of the channel rules")
            return channel
        return AD_PRESETS.get(ctx.mapping.preset)

    def finish(self, ctx: ImportContext) -> None:
        source = ctx.mapping.preset if ctx.mapping.preset in AD_PRESETS else "import"
        campaigns = ctx.cache.setdefault("campaigns", {})
        for (_, day), cell in sorted(ctx.cache["spend"].items(), key=lambda kv: (kv[0][0], kv[0][1])):
            campaign = marketing_service.match_or_create_campaign(
                session=ctx.session,
                name=cell["name"],
                external_id=cell["id"],
                channel=cell["channel"],
                cache=campaigns,
            )
            assert campaign is not None
            _, outcome = marketing_service.upsert_spend(
                session=ctx.session,
                campaign=campaign,
                spend_date=day,
                amount_minor=cell["amount"],
                currency=cell["currency"],
                source=source,
                channel=cell["channel"],
                impressions=cell["impressions"],
                clicks=cell["clicks"],
            )
            setattr(ctx.report, outcome, getattr(ctx.report, outcome) + 1)
            if outcome != "unchanged":
                ctx.report.count_change("campaign_spend")


class CostsProcessor(RowProcessor):
    """Costs other than media (salaries, tools, agencies) per period and team, for CAC."""

    def handle(self, ctx: ImportContext, row: Row) -> str:
        start = row.required("period_start", row.parse("period_start", parsing.parse_date))
        end = row.required("period_end", row.parse("period_end", parsing.parse_date))
        kind = (row.text("kind") or "").lower()
        if kind not in COST_KINDS:
            row.error("kind", f"not a cost kind ({', '.join(COST_KINDS)})")
        amount = row.required("amount", row.parse("amount", parsing.parse_decimal))
        currency = row.parse("currency", lambda v: parsing.parse_currency(v, ctx.currency)) or ctx.currency
        if start and end and end < start:
            row.error("period_end", "period ends before it starts")
        team_id = None
        if row.text("team"):
            team_id = ctx.session.scalar(select(Team.id).where(Team.name == row.text("team")))
            if team_id is None:
                row.error("team", "no team with this name")
        row.check()
        assert start and end and amount is not None
        key = f"cost:{start}:{end}:{team_id or ''}:{kind}:{currency}"
        minor = parsing.to_minor(amount, currency)
        pending: dict[str, dict[str, Any]] = ctx.cache.setdefault("costs", {})
        cell = pending.setdefault(
            key,
            {
                "period_start": start,
                "period_end": end,
                "team_id": team_id,
                "kind": kind,
                "currency": currency,
                "amount_minor": 0,
            },
        )
        cell["amount_minor"] += minor
        return "counted"

    def finish(self, ctx: ImportContext) -> None:
        for key, values in ctx.cache.get("costs", {}).items():
            entry = ctx.session.scalar(select(CostEntry).where(CostEntry.external_key == key))
            if entry is None:
                ctx.session.add(CostEntry(external_key=key, **values))
                ctx.report.inserted += 1
                ctx.report.count_change("cost_entries")
            elif apply_changes(ctx, entry, values, "cost_entry"):
                ctx.report.updated += 1
                ctx.report.count_change("cost_entries")
            else:
                ctx.report.unchanged += 1


class RatesProcessor(RowProcessor):
    """Dated exchange rates: 1 unit of the currency in the reporting currency."""

    def handle(self, ctx: ImportContext, row: Row) -> str:
        day = row.required("date", row.parse("date", parsing.parse_date))
        currency = row.required(
            "currency", row.parse("currency", lambda v: parsing.parse_currency(v, "")) or None
        )
        rate = row.required("rate_to_reporting", row.parse("rate_to_reporting", parsing.parse_decimal))
        if rate is not None and rate <= 0:
            row.error("rate_to_reporting", "a rate is positive")
        row.check()
        existing = ctx.session.scalar(
            select(ExchangeRate).where(ExchangeRate.currency == currency, ExchangeRate.rate_date == day)
        )
        if existing is None:
            ctx.session.add(ExchangeRate(currency=currency, rate_date=day, rate_to_reporting=rate))
            ctx.session.flush()
            ctx.report.count_change("exchange_rates")
            return "inserted"
        return (
            "updated"
            if apply_changes(ctx, existing, {"rate_to_reporting": rate}, "exchange_rate")
            else "unchanged"
        )
