"""Request and response shapes for leads, touches, campaigns, spend, deals, hand-offs, activities, goals."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, PlainSerializer

from closedloop.api.types import (
    MAX_MINOR,
    Amount,
    Currency,
    Day,
    Id,
    In,
    LongText,
    Moment,
    Name200,
    Name300,
    Out,
    Str32,
    Str64,
    Str100,
    Str200,
    Str255,
    Str300,
    Str2000,
)

# Money leaves as a JSON number in major units, beside its currency (SPEC section 7).
Money = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]
StageName = Literal[
    "lead", "mql", "sal", "sql", "opportunity", "customer", "recycled", "disqualified", "lost"
]
LeadType = Literal["new_customer", "existing_customer", "partner"]
SourceType = Literal["inbound", "outbound", "partner_referral"]
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
Tags = Annotated[list[Str100], Field(max_length=50)]
TouchType = Literal[
    "page_view", "ad_click", "form_submit", "email_send", "email_open", "email_click", "email_unsubscribe",
    "webinar", "event", "chat", "line_message", "wechat_message", "content_download", "offline", "other",
]  # fmt: skip
ActivityType = Literal["call", "email", "meeting", "line_message", "wechat_message", "note"]


class LeadFields(In):
    external_id: Str200 | None = None
    email: Str255 | None = None
    phone: Str32 | None = None
    line_user_id: Str100 | None = None
    wechat_unionid: Str100 | None = None
    first_name: Str200 | None = None
    last_name: Str200 | None = None
    name: Str300 | None = None
    title: Str200 | None = None
    industry: Str100 | None = None
    company_size: Str32 | None = None
    region: Str64 | None = None
    country: Country | None = None
    lead_type: LeadType | None = None
    source_type: SourceType | None = None
    tags: Tags | None = None
    owner_id: Id | None = None
    team_id: Id | None = None


class LeadIn(LeadFields):
    pass


class LeadPatch(LeadFields):
    pass


class StageChangeIn(In):
    to_stage: StageName
    reason: Str64 | None = None
    reason_text: LongText | None = None


class LeadOut(Out):
    id: int
    external_id: str | None
    email: str | None
    phone: str | None
    line_user_id: str | None
    wechat_unionid: str | None
    first_name: str | None
    last_name: str | None
    name: str | None
    title: str | None
    industry: str | None
    company_size: str | None
    region: str | None
    country: str | None
    lead_type: str
    source_type: str
    owner_id: int | None
    team_id: int | None
    stage: str
    score: int | None
    score_band: str | None
    tags: list[str]
    first_touch_at: datetime | None
    first_channel: str | None
    first_utm_source: str | None
    first_utm_medium: str | None
    first_utm_campaign: str | None
    first_utm_content: str | None
    first_landing_page: str | None
    created_at: datetime
    updated_at: datetime


class CountRow(Out):
    key: str
    count: int
    amount: Money | None = None
    currency: str | None = None


class TouchpointIn(In):
    lead_id: Id | None = None
    occurred_at: Moment
    type: TouchType
    channel: Str64 | None = None
    utm_source: Str255 | None = None
    utm_medium: Str255 | None = None
    utm_campaign: Str255 | None = None
    utm_content: Str255 | None = None
    utm_term: Str255 | None = None
    landing_page: Str2000 | None = None
    referrer: Str2000 | None = None
    campaign_id: Id | None = None


class TouchpointOut(Out):
    id: int
    lead_id: int | None
    visitor_id: int | None
    occurred_at: datetime
    type: str
    channel: str
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    utm_content: str | None
    utm_term: str | None
    landing_page: str | None
    referrer: str | None
    campaign_id: int | None


class CampaignIn(In):
    name: Name300
    external_id: Str200 | None = None
    channel: Str64 | None = None
    utm_campaign: Str255 | None = None
    start_date: Day | None = None
    end_date: Day | None = None
    budget: Amount | None = None
    currency: Currency | None = None


class CampaignPatch(In):
    name: Name300 | None = None
    channel: Str64 | None = None
    utm_campaign: Str255 | None = None
    start_date: Day | None = None
    end_date: Day | None = None
    budget: Amount | None = None
    currency: Currency | None = None


class CampaignOut(Out):
    id: int
    external_id: str | None
    name: str
    channel: str | None
    utm_campaign: str | None
    start_date: date | None
    end_date: date | None
    budget: Money | None
    currency: str | None
    created_at: datetime


class SpendIn(In):
    campaign_id: Id
    spend_date: Day
    amount: Amount
    currency: Currency
    channel: Str64 | None = None
    impressions: Annotated[int, Field(ge=0, le=MAX_MINOR)] | None = None
    clicks: Annotated[int, Field(ge=0, le=MAX_MINOR)] | None = None


class SpendOut(Out):
    id: int
    campaign_id: int
    spend_date: date
    channel: str | None
    amount: Money
    currency: str
    impressions: int | None
    clicks: int | None
    source: str


Version = Annotated[int, Field(ge=1, le=MAX_MINOR)]


class DealIn(In):
    name: Name300
    stage: Str64 | None = None
    amount: Amount = Decimal(0)
    currency: Currency
    lead_id: Id | None = None
    owner_id: Id | None = None
    expected_close_date: Day | None = None


class DealPatch(In):
    name: Name300 | None = None
    stage: Str64 | None = None
    amount: Amount | None = None
    currency: Currency | None = None
    owner_id: Id | None = None
    expected_close_date: Day | None = None
    version: Version | None = None


class DealWinIn(In):
    amount: Amount | None = None
    version: Version | None = None


class DealLoseIn(In):
    reason: Name200
    text: LongText | None = None
    version: Version | None = None


class DealOut(Out):
    id: int
    external_id: str | None
    lead_id: int | None
    name: str
    stage: str
    status: str
    amount: Money
    currency: str
    owner_id: int | None
    team_id: int | None
    is_expansion: bool
    expected_close_date: date | None
    created_at: datetime
    closed_at: datetime | None
    version: int


class HandoffPatch(In):
    owner_id: Id


class RejectIn(In):
    reason: Literal[
        "wrong_fit",
        "no_budget",
        "no_authority",
        "bad_contact_data",
        "duplicate",
        "student_or_job_seeker",
        "competitor",
        "spam",
        "no_response",
        "other",
    ]
    text: LongText | None = None
    to_stage: Literal["recycled", "disqualified"] | None = None


class HandoffOut(Out):
    id: int
    lead_id: int
    owner_id: int | None
    team_id: int | None
    assigned_at: datetime
    first_response_at: datetime | None
    accepted_at: datetime | None
    rejected_at: datetime | None
    rejection_reason: str | None
    rejection_text: str | None
    status: str
    sla_due_at: datetime | None
    sla_met: bool | None


class ActivityIn(In):
    type: ActivityType
    lead_id: Id | None = None
    deal_id: Id | None = None
    occurred_at: Moment | None = None
    notes: LongText | None = None


class ActivityOut(Out):
    id: int
    lead_id: int | None
    deal_id: int | None
    user_id: int | None
    type: str
    occurred_at: datetime
    recorded_at: datetime
    notes: str | None


GoalMetric = Str64
Target = Annotated[Decimal, Field(ge=Decimal("-1e13"), le=Decimal("1e13"), max_digits=20, decimal_places=6)]


class GoalIn(In):
    name: Name200
    metric: GoalMetric
    side: Literal["marketing", "sales", "joint"] = "joint"
    target: Target
    unit: Literal["count", "ratio", "money", "days", "hours", "months", "score"] = "count"
    currency: Currency | None = None
    period_start: Day
    period_end: Day
    team_id: Id | None = None
    owner_id: Id | None = None


class GoalPatch(In):
    name: Name200 | None = None
    target: Target | None = None
    period_start: Day | None = None
    period_end: Day | None = None
    team_id: Id | None = None
    owner_id: Id | None = None


class GoalOut(Out):
    id: int
    name: str
    metric: str
    side: str
    target: Money
    unit: str
    currency: str | None
    period_start: date
    period_end: date
    team_id: int | None
    owner_id: int | None
    created_at: datetime
