"""Column presets: each maps another system's export onto the generic columns of SPEC section 7."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from closedloop.errors import ValidationFailed
from closedloop.marketing.models import CLICK_ID_FIELDS

STAGE_AT_COLUMNS = ("mql_at", "sal_at", "sql_at", "opportunity_at", "customer_at")
UTM = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")

GENERIC: dict[str, tuple[str, ...]] = {
    "leads": (
        "external_id", "email", "phone", "line_user_id", "wechat_unionid", "first_name", "last_name", "name",
        "title", "company", "company_domain", "company_tax_id", "industry", "company_size", "region",
        "country", "lead_type", "source_type", "owner_email", "lifecycle_stage", "created_at",
        *STAGE_AT_COLUMNS, "channel", *UTM, "landing_page", "referrer", "tags",
    ),
    "touchpoints": (
        "external_id", "lead_external_id", "lead_email", "visitor_id", "occurred_at", "type", "channel", *UTM,
        "campaign", "campaign_id", "landing_page", "referrer", *CLICK_ID_FIELDS, "event_name",
    ),
    "deals": (
        "external_id", "lead_external_id", "lead_email", "company", "company_domain", "company_tax_id", "name",
        "stage", "amount", "currency", "tax_included", "tax_rate", "created_at", "closed_at",
        "expected_close_date", "owner_email", "lost_reason", "product", "tags",
    ),
    "deal_stages": ("deal_external_id", "stage", "occurred_at"),
    "spend": (
        "date", "period_start", "period_end", "campaign", "campaign_id", "channel", "amount", "currency",
        "impressions", "clicks",
    ),
    "costs": ("period_start", "period_end", "team", "kind", "amount", "currency"),
    "revenue": (
        "external_id", "deal_external_id", "company_tax_id", "company_domain", "company", "lead_email",
        "occurred_at", "amount", "currency", "tax_included", "tax_rate", "kind", "period_start", "period_end",
        "reverses", "product",
    ),
    "activities": (
        "external_id", "lead_email", "lead_external_id", "deal_external_id", "user_email", "type",
        "occurred_at", "notes",
    ),
    "feedback": ("company", "lead_email", "occurred_at", "score", "scale", "comment"),
    "rates": ("date", "currency", "rate_to_reporting"),
}  # fmt: skip
KINDS = tuple(GENERIC)

_HUBSPOT_LEADS = {
    "record id": "external_id", "email": "email", "phone number": "phone", "mobile phone number": "phone",
    "first name": "first_name", "last name": "last_name", "job title": "title", "company name": "company",
    "website url": "company_domain", "industry": "industry", "number of employees": "company_size",
    "country/region": "country", "contact owner": "owner_email", "lifecycle stage": "lifecycle_stage",
    "create date": "created_at", "original source": "channel",
    "original source drill-down 1": "utm_source", "original source drill-down 2": "utm_campaign",
    "became a marketing qualified lead date": "mql_at", "became a sales qualified lead date": "sql_at",
    "became an opportunity date": "opportunity_at", "became a customer date": "customer_at",
    "first page seen": "landing_page", "first referring site": "referrer",
}  # fmt: skip
_HUBSPOT_DEALS = {
    "record id": "external_id", "deal name": "name", "deal stage": "stage", "amount": "amount",
    "currency": "currency", "close date": "closed_at", "create date": "created_at", "deal owner": "owner_email",
    "associated company": "company", "associated contact": "lead_email", "closed lost reason": "lost_reason",
    "product": "product",
}  # fmt: skip
_SALESFORCE_LEADS = {
    "lead id": "external_id", "first name": "first_name", "last name": "last_name", "title": "title",
    "company / account": "company", "company": "company", "email": "email", "phone": "phone",
    "mobile": "phone", "lead source": "utm_source", "lead status": "lifecycle_stage",
    "lead owner": "owner_email", "create date": "created_at", "created date": "created_at",
    "country": "country", "industry": "industry", "no. of employees": "company_size",
}  # fmt: skip
_SALESFORCE_DEALS = {
    "opportunity id": "external_id", "opportunity name": "name", "account name": "company", "stage": "stage",
    "amount": "amount", "amount currency": "currency", "opportunity currency": "currency",
    "close date": "closed_at", "created date": "created_at", "opportunity owner": "owner_email",
    "loss reason": "lost_reason", "product name": "product", "contact email": "lead_email",
}  # fmt: skip
_ODOO = {
    "id": "external_id", "opportunity": "name", "contact name": "name", "email": "email", "phone": "phone",
    "customer": "company", "company name": "company", "salesperson": "owner_email", "stage": "stage",
    "expected revenue": "amount", "created on": "created_at", "expected closing": "expected_close_date",
    "closed date": "closed_at", "lost reason": "lost_reason", "source": "utm_source", "medium": "utm_medium",
    "campaign": "utm_campaign", "tags": "tags", "country": "country", "currency": "currency",
}  # fmt: skip
_ODOO_LEADS = {
    k: v for k, v in _ODOO.items() if v not in ("amount", "expected_close_date", "closed_at", "stage")
}
_ODOO_LEADS["opportunity"] = "custom"
_ODOO_DEALS = {
    k: v for k, v in _ODOO.items() if v not in ("utm_source", "utm_medium", "utm_campaign", "phone")
}
_ODOO_DEALS["contact name"] = "custom"
_ODOO_DEALS["email"] = "lead_email"
_GOOGLE_ADS = {
    "day": "date", "date": "date", "campaign": "campaign", "campaign id": "campaign_id", "cost": "amount",
    "currency code": "currency", "currency": "currency", "impr.": "impressions", "impressions": "impressions",
    "clicks": "clicks", "campaign type": "channel",
}  # fmt: skip
_META_ADS = {
    "day": "date", "reporting starts": "period_start", "reporting ends": "period_end",
    "campaign name": "campaign", "campaign id": "campaign_id", "amount spent": "amount",
    "currency": "currency", "impressions": "impressions", "link clicks": "clicks", "clicks (all)": "clicks",
}  # fmt: skip
_MAVEN_DEALS = {
    "opportunity_id": "external_id", "sales_agent": "owner_email", "product": "product", "account": "company",
    "deal_stage": "stage", "engage_date": "created_at", "close_date": "closed_at", "close_value": "amount",
}  # fmt: skip

# preset -> kind -> {normalised source column: generic column ("custom": kept as a custom field)}
PRESETS: dict[str, dict[str, dict[str, str]]] = {
    "hubspot": {"leads": _HUBSPOT_LEADS, "deals": _HUBSPOT_DEALS},
    "salesforce": {"leads": _SALESFORCE_LEADS, "deals": _SALESFORCE_DEALS},
    "odoo": {"leads": _ODOO_LEADS, "deals": _ODOO_DEALS},
    "google_ads": {"spend": _GOOGLE_ADS},
    "meta_ads": {"spend": _META_ADS},
    "maven": {"deals": _MAVEN_DEALS},
}
PRESET_NAMES = ("auto", "generic", *PRESETS)
# Columns that only one system writes: enough to recognise its export from the header.
SIGNATURES: dict[str, tuple[str, ...]] = {
    "hubspot": (
        "record id",
        "lifecycle stage",
        "deal stage",
        "contact owner",
        "deal owner",
        "original source",
    ),
    "salesforce": ("lead id", "opportunity id", "lead owner", "opportunity owner", "company / account"),
    "odoo": ("salesperson", "expected revenue", "created on", "expected closing", "sales team"),
    "google_ads": ("impr.", "currency code", "campaign type", "campaign status", "avg. cpc"),
    "meta_ads": ("reporting starts", "reporting ends", "campaign name", "link clicks"),
    "maven": ("opportunity_id", "sales_agent", "deal_stage", "engage_date", "close_value"),
}
# Meta puts the currency in the column name: "Amount spent (TWD)".
_AMOUNT_WITH_CURRENCY = re.compile(r"^(amount spent|cost|spend|金額|花費|花费)\s*\((\w{3})\)$")

# Lifecycle values of other systems -> our stages.
LIFECYCLE_VALUES = {
    "subscriber": "lead", "lead": "lead", "other": "lead", "open - not contacted": "lead", "new": "lead",
    "marketing qualified lead": "mql", "marketingqualifiedlead": "mql", "mql": "mql",
    "sales accepted lead": "sal", "sal": "sal", "working - contacted": "sal",
    "sales qualified lead": "sql", "salesqualifiedlead": "sql", "sql": "sql", "qualified": "sql",
    "opportunity": "opportunity", "closed - converted": "opportunity",
    "customer": "customer", "evangelist": "customer",
    "recycled": "recycled", "nurturing": "recycled", "disqualified": "disqualified",
    "unqualified": "disqualified", "closed - not converted": "disqualified", "lost": "lost",
    "潛在客戶": "lead", "潜在客户": "lead", "成交客戶": "customer", "成交客户": "customer", "商機": "opportunity",
    "商机": "opportunity",
}  # fmt: skip
# HubSpot "Original Source" values -> channels of the default grouping.
HUBSPOT_SOURCES = {
    "organic search": "Organic Search", "paid search": "Paid Search", "email marketing": "Email",
    "social media": "Organic Social", "organic social": "Organic Social", "paid social": "Paid Social",
    "referrals": "Referral", "direct traffic": "Direct", "offline sources": "Events",
    "other campaigns": "Other", "ai referrals": "Referral",
}  # fmt: skip


@dataclass
class ColumnMapping:
    """How a file's columns become generic ones: mapped, custom fields, ignored, constants."""

    preset: str
    mapped: dict[str, str]  # file column -> generic column
    custom: list[str]
    constants: dict[str, str] = field(default_factory=dict)
    overrides: dict[str, str] = field(default_factory=dict)  # chosen by hand (override_columns)


def _norm(name: str) -> str:
    return re.sub(r"\s+", " ", name.replace("\ufeff", "").strip().lower())


def known_columns(kind: str) -> set[str]:
    """Every column name any preset recognises for `kind` (to find the header under title lines)."""
    names = set(GENERIC[kind])
    for kinds in PRESETS.values():
        names.update(kinds.get(kind, {}))
    return names


def detect_preset(kind: str, columns: list[str]) -> str:
    """The preset whose signature columns the header holds most, else generic."""
    header = {_norm(c) for c in columns}
    generic_hits = len(header & set(GENERIC[kind]))
    best, best_hits = "generic", 0
    for preset, signature in SIGNATURES.items():
        if kind not in PRESETS[preset]:
            continue
        hits = len(header & set(signature))
        if hits > best_hits:
            best, best_hits = preset, hits
    if best_hits == 0 or (best_hits < 2 and generic_hits >= 3):
        return "generic"
    return best


def map_columns(kind: str, preset: str, columns: list[str]) -> ColumnMapping:
    """The column mapping of `preset` (auto: recognised from the header) for this file's header."""
    if kind not in GENERIC:
        raise ValidationFailed(
            f"unknown import kind {kind!r}: one of {', '.join(KINDS)}", detail={"field": "kind"}
        )
    if preset == "auto":
        preset = detect_preset(kind, columns)
    if preset not in PRESET_NAMES:
        raise ValidationFailed(f"unknown preset {preset!r}", detail={"field": "preset"})
    table = {} if preset == "generic" else PRESETS[preset].get(kind)
    if table is None:
        raise ValidationFailed(f"preset {preset} has no {kind} format", detail={"field": "preset"})
    generic = set(GENERIC[kind])
    mapped: dict[str, str] = {}
    custom: list[str] = []
    constants: dict[str, str] = {}
    for column in columns:
        key = _norm(column)
        target = table.get(key)
        if target is None and key.replace(" ", "_") in generic:
            target = key.replace(" ", "_")
        currency = _AMOUNT_WITH_CURRENCY.match(key)
        if target is None and currency:
            target = "amount"
            constants["currency"] = currency.group(2).upper()
        if target and target != "custom" and target not in mapped.values():
            mapped[column] = target
        else:
            custom.append(column)
    return ColumnMapping(preset, mapped, custom, constants)


CUSTOM = "custom"


def override_columns(kind: str, mapping: ColumnMapping, choices: dict[str, str]) -> ColumnMapping:
    """The mapping with some file columns read as chosen by hand: a generic column of `kind`, or
    "custom" (kept as a custom field). A generic column another file column held is given up by it."""
    if not choices:
        return mapping
    generic = set(GENERIC[kind])
    columns = [*mapping.mapped, *mapping.custom]
    targets = [t for t in choices.values() if t != CUSTOM]
    for column, target in choices.items():
        if column not in columns:
            raise ValidationFailed(f"no column {column!r} in the file", detail={"field": "columns"})
        if target != CUSTOM and target not in generic:
            raise ValidationFailed(f"{target!r} is not a {kind} column", detail={"field": "columns"})
    if len(targets) != len(set(targets)):
        raise ValidationFailed("two columns are read as the same column", detail={"field": "columns"})
    mapped: dict[str, str] = {}
    custom: list[str] = []
    for column in columns:
        target = choices.get(column, mapping.mapped.get(column))
        if column not in choices and target in targets:
            target = None  # another column was chosen for it
        if target and target != CUSTOM:
            mapped[column] = target
        else:
            custom.append(column)
    return ColumnMapping(mapping.preset, mapped, custom, dict(mapping.constants), dict(choices))
