"""Every table, imported once so the metadata (and Alembic) sees the whole schema."""

from closedloop.accounts.models import Account
from closedloop.audit.models import AuditLog
from closedloop.db import Base
from closedloop.deals.models import Deal, DealStageEvent, PipelineStage, Quota
from closedloop.goals.models import Goal
from closedloop.handoffs.models import Activity, Handoff
from closedloop.integrations.models import InboundDelivery, InboundSource
from closedloop.leads.models import ErasedIdentity, Lead, LeadScore, LifecycleEvent
from closedloop.marketing.models import Campaign, CampaignSpend, CostEntry, Site, Touchpoint, Visitor
from closedloop.notifications.models import (
    AllowedOutboundUrl,
    DeliveryAttempt,
    NotificationChannel,
    NotificationDelivery,
    NotificationSubscription,
)
from closedloop.outbox.models import OutboxMessage
from closedloop.policies.models import PolicyApproval, PolicyVersion
from closedloop.predictive.models import AccountChurnScore, PredictiveModel
from closedloop.quarantine.models import ImportJob, QuarantinedRecord
from closedloop.revenue.models import CustomerFeedback, RevenueEvent
from closedloop.reviews.models import ActionItem, Review  # noqa: F401
from closedloop.users.models import ApiKey, Team, User, UserSession
from closedloop.workspace.models import (
    BusinessCalendar,
    CalendarDay,
    ExchangeRate,
    Product,
    Region,
    WorkspaceSettings,
)

__all__ = [
    "Account",
    "AccountChurnScore",
    "Activity",
    "AllowedOutboundUrl",
    "ApiKey",
    "AuditLog",
    "Base",
    "BusinessCalendar",
    "CalendarDay",
    "Campaign",
    "CampaignSpend",
    "CostEntry",
    "CustomerFeedback",
    "Deal",
    "DealStageEvent",
    "DeliveryAttempt",
    "ErasedIdentity",
    "ExchangeRate",
    "Goal",
    "Handoff",
    "ImportJob",
    "InboundDelivery",
    "InboundSource",
    "Lead",
    "LeadScore",
    "LifecycleEvent",
    "NotificationChannel",
    "NotificationDelivery",
    "NotificationSubscription",
    "OutboxMessage",
    "PipelineStage",
    "PolicyApproval",
    "PolicyVersion",
    "PredictiveModel",
    "Product",
    "QuarantinedRecord",
    "Quota",
    "Region",
    "RevenueEvent",
    "Site",
    "Team",
    "Touchpoint",
    "User",
    "UserSession",
    "Visitor",
    "WorkspaceSettings",
]
