"""Topics and their texts: an event's facts become a title, a body and labelled fields, per language."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from closedloop.i18n import normalise_language, translate
from closedloop.i18n.catalog import MESSAGES

TOPICS = (
    "mql_assigned",
    "sla_about_to_breach",
    "sla_breached",
    "lead_rejected",
    "deal_won",
    "goal_at_risk",
    "report_ready",
)
ALL_TOPICS = "*"
# Event names other domains write to the outbox -> the notification topic they raise.
_ALIASES = {
    "handoff.assigned": "mql_assigned",
    "mql.assigned": "mql_assigned",
    "handoff.rejected": "lead_rejected",
    "lead.rejected": "lead_rejected",
    "sla.about_to_breach": "sla_about_to_breach",
    "sla.warning": "sla_about_to_breach",
    "sla.breached": "sla_breached",
    "deal.won": "deal_won",
    "goal.at_risk": "goal_at_risk",
    "report.ready": "report_ready",
}
# Placeholders of each topic's title and body, and which of them are shown as labelled fields.
_FIELDS = {
    "mql_assigned": ("lead", "owner", "due_at"),
    "sla_about_to_breach": ("lead", "owner", "sla", "due_at"),
    "sla_breached": ("lead", "owner", "sla", "due_at"),
    "lead_rejected": ("lead", "owner", "reason"),
    "deal_won": ("owner", "amount"),
    "goal_at_risk": ("progress", "target"),
    "report_ready": ("period",),
}
# ISO 4217 minor-unit exponents that are not 2.
_EXPONENTS = {
    "JPY": 0,
    "KRW": 0,
    "VND": 0,
    "CLP": 0,
    "ISK": 0,
    "BHD": 3,
    "KWD": 3,
    "JOD": 3,
    "OMR": 3,
    "TND": 3,
}


@dataclass(frozen=True)
class Notice:
    """A rendered notification, ready for any channel to shape."""

    topic: str
    language: str
    title: str
    body: str
    facts: tuple[tuple[str, str], ...]
    link: str | None = None

    def plain_text(self) -> str:
        """Title, body, fields and link as plain text (LINE, email)."""
        lines = [self.title, "", self.body]
        if self.facts:
            lines += ["", *(f"{label}: {value}" for label, value in self.facts)]
        if self.link:
            lines += ["", self.link]
        return "\n".join(lines)


def canonical_topic(topic: str) -> str | None:
    """The notification topic an outbox event raises, or None for events nobody is notified of."""
    if topic in TOPICS:
        return topic
    return _ALIASES.get(topic)


def format_money(amount_minor: int, currency: str) -> str:
    """`TWD 1,234.00` from minor units."""
    exponent = _EXPONENTS.get(currency.upper(), 2)
    value = Decimal(amount_minor).scaleb(-exponent)
    return f"{currency.upper()} {value:,.{exponent}f}"


def format_time(value: object, time_zone: str) -> str:
    """A timestamp in the reader's zone: `2026-11-23 18:00 (Asia/Taipei)`."""
    if isinstance(value, str):
        try:
            parsed: object = datetime.fromisoformat(value)
        except ValueError:
            return value
        value = parsed
    if not isinstance(value, datetime) or value.tzinfo is None:
        return str(value) if value is not None else ""
    return f"{value.astimezone(ZoneInfo(time_zone)):%Y-%m-%d %H:%M} ({time_zone})"


def _params(facts: Mapping[str, object], lang: str) -> dict[str, str]:
    unknown = translate("notifications.unknown", lang)

    def text(key: str) -> str:
        value = facts.get(key)
        return unknown if value is None or value == "" else str(value)

    lead = facts.get("lead_name") or (
        translate("notifications.lead_number", lang, id=facts["lead_id"]) if facts.get("lead_id") else unknown
    )
    deal = facts.get("deal_name") or (
        translate("notifications.deal_number", lang, id=facts["deal_id"]) if facts.get("deal_id") else unknown
    )
    sla_kind = str(facts.get("sla_kind") or "first_response")
    sla_key = f"notifications.sla.{sla_kind}"
    reason_code = str(facts.get("reason") or "")
    reason = (
        translate(f"reason.{reason_code}", lang) if f"reason.{reason_code}" in MESSAGES else text("reason")
    )
    if facts.get("reason_text"):
        reason = f"{reason} ({facts['reason_text']})"
    amount = (
        format_money(int(str(facts["amount_minor"])), str(facts.get("currency") or "TWD"))
        if facts.get("amount_minor") is not None
        else unknown
    )
    report_kind = f"notifications.report.{facts.get('report_kind')}"
    report = facts.get("report_name") or (
        translate(report_kind, lang) if report_kind in MESSAGES else unknown
    )
    return {
        "lead": str(lead),
        "owner": str(facts.get("owner_name") or translate("notifications.unassigned", lang)),
        "due_at": format_time(facts.get("due_at"), str(facts.get("time_zone") or "UTC")) or unknown,
        "sla": translate(sla_key, lang) if sla_key in MESSAGES else sla_kind,
        "minutes_left": text("minutes_left"),
        "reason": reason,
        "deal": str(deal),
        "amount": amount,
        "goal": text("goal_name"),
        "progress": text("progress"),
        "target": text("target"),
        "run_rate": text("run_rate"),
        "report": str(report),
        "period": text("period"),
    }


def render(topic: str, facts: Mapping[str, object], language: str) -> Notice:
    """The notice for `topic` in `language` from the event's facts (names, times, amounts)."""
    lang = normalise_language(language)
    params = _params(facts, lang)
    facts_shown = tuple(
        (translate(f"notifications.field.{name}", lang), params[name]) for name in _FIELDS[topic]
    )
    link = facts.get("link")
    return Notice(
        topic=topic,
        language=lang,
        title=translate(f"notifications.{topic}.title", lang, **params),
        body=translate(f"notifications.{topic}.body", lang, **params),
        facts=facts_shown,
        link=str(link) if link else None,
    )
