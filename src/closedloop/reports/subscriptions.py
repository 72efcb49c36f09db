"""Report packs by email: who receives which pack, in which language, how often; and the scheduled send.

The worker's `report_delivery` job renders each due pack once per (report, language) as PDF and writes
one outbox message per subscription and period, keyed `report:<id>:<period end>`: a rerun, a crash or a
second worker never sends a period twice, and a message written is delivered at least once (the
receiver de-duplicates by its Message-ID, derived from the delivery key).

A subscription's period is the coarser of its report's and its schedule's: a monthly report on a weekly
schedule is still one pack per month (the last complete month does not change from week to week), and a
weekly pack on a monthly schedule is the last complete week, once a month. A person reached by several
subscriptions to the same pack (their own and their team's) receives each period's pack once: the
delivery key of a pack to a recipient is the pack's, not the subscription's (`pack_delivery_key`), and
the first subscription to fan out wins (people's own before their teams', so their own language wins).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from closedloop.access import policy
from closedloop.audit import service as audit_service
from closedloop.clock import Clock, system_clock
from closedloop.errors import Forbidden, NotFound, ValidationFailed
from closedloop.i18n import LANGUAGES, translate
from closedloop.notifications.models import (
    REPORT_KINDS,
    REPORT_SCHEDULES,
    NotificationChannel,
    ReportSubscription,
)
from closedloop.outbox import service as outbox_service
from closedloop.users.actor import Actor
from closedloop.users.models import Team, User
from closedloop.workspace.models import WorkspaceSettings

TOPIC = "report_ready"


@dataclass(frozen=True)
class Due:
    """One subscription's pack for one period, not yet written to the outbox."""

    subscription_id: int
    report: str
    language: str
    period: tuple[date, date]

    @property
    def key(self) -> str:
        return f"report:{self.subscription_id}:{self.period[1].isoformat()}"


def due_period(schedule: str, today: date, report: str = "weekly") -> tuple[date, date]:
    """The last complete ISO week before `today` when both the report and its schedule are weekly,
    otherwise the last complete calendar month (a monthly report has one pack per month, however
    often it is scheduled)."""
    from closedloop.reports.build import month_period, week_period

    return week_period(today) if (schedule, report) == ("weekly", "weekly") else month_period(today)


def pack_delivery_key(report: str, period_end: str, recipient: str) -> str:
    """The delivery key of one period's pack to one recipient, whichever subscription reaches them."""
    from closedloop.notifications.service import delivery_key

    return delivery_key(f"report-pack:{report}:{period_end}", 0, recipient.strip().lower())


def as_dict(sub: ReportSubscription) -> dict[str, Any]:
    """A subscription as plain data."""
    return {
        "id": sub.id, "report": sub.report, "schedule": sub.schedule, "language": sub.language,
        "user_id": sub.user_id, "team_id": sub.team_id, "channel_id": sub.channel_id, "is_active": sub.is_active,
        "created_at": sub.created_at.isoformat() if sub.created_at else None,
    }  # fmt: skip


def _email_channel(session: Session, channel_id: int | None) -> NotificationChannel:
    query = select(NotificationChannel).where(NotificationChannel.kind == "email")
    query = (
        query.where(NotificationChannel.id == channel_id)
        if channel_id
        else query.order_by(NotificationChannel.id)
    )
    channel = session.scalars(query.limit(1)).first()
    if channel is None:
        raise ValidationFailed(
            translate("reports.subscription.no_email_channel"), detail={"field": "channel_id"}
        )
    return channel


def _check_audience(session: Session, actor: Actor, user_id: int | None, team_id: int | None) -> None:
    if (user_id is None) == (team_id is None):
        raise ValidationFailed(translate("reports.subscription.user_or_team"), detail={"field": "user_id"})
    if team_id is not None:
        policy.require(actor, "report_subscriptions", "team")
        if session.get(Team, team_id) is None:
            raise NotFound(translate("reports.subscription.no_team", id=team_id))
        return
    if not (actor.is_system or actor.role in policy.LEADERS or user_id == actor.user_id):
        raise Forbidden(translate("access.error.forbidden", resource="report_subscriptions", action="others"))
    if session.get(User, user_id) is None:
        raise NotFound(translate("reviews.error.unknown_user", id=user_id))


def subscribe(
    *, session: Session, actor: Actor, report: str, schedule: str | None = None, language: str,
    user_id: int | None = None, team_id: int | None = None, channel_id: int | None = None,
    clock: Clock = system_clock,
) -> ReportSubscription:  # fmt: skip
    """Subscribe a user (anyone, themselves; leaders, anybody) or a team (leaders) to a pack by email."""
    policy.require(actor, "report_subscriptions", "write")
    schedule = schedule or report
    for field, value, allowed in (("report", report, REPORT_KINDS), ("schedule", schedule, REPORT_SCHEDULES),
                                  ("language", language, LANGUAGES)):  # fmt: skip
        if value not in allowed:
            raise ValidationFailed(translate("reports.subscription.bad_value", field=field, value=value,
                                             allowed=", ".join(allowed)), detail={"field": field})  # fmt: skip
    _check_audience(session, actor, user_id, team_id)
    channel = _email_channel(session, channel_id)
    existing = session.scalars(select(ReportSubscription).where(
        ReportSubscription.report == report, ReportSubscription.schedule == schedule,
        ReportSubscription.language == language, ReportSubscription.channel_id == channel.id,
        ReportSubscription.user_id.is_(None) if user_id is None else ReportSubscription.user_id == user_id,
        ReportSubscription.team_id.is_(None) if team_id is None else ReportSubscription.team_id == team_id,
    )).first()  # fmt: skip
    if existing is not None:
        return existing
    sub = ReportSubscription(report=report, schedule=schedule, language=language, user_id=user_id, team_id=team_id,
                             channel_id=channel.id, created_by_id=actor.user_id, created_at=clock())  # fmt: skip
    session.add(sub)
    session.flush()
    audit_service.record(session, actor=actor, action="report_subscription.added", entity_type="report_subscription",
                         entity_id=sub.id, after=as_dict(sub), clock=clock)  # fmt: skip
    return sub


def visible(session: Session, actor: Actor) -> list[ReportSubscription]:
    """Leaders see every subscription; others their own and their team's."""
    policy.require(actor, "report_subscriptions", "read")
    query = select(ReportSubscription).order_by(ReportSubscription.id)
    if not (actor.is_system or actor.role in policy.LEADERS):
        team_id = session.scalar(select(User.team_id).where(User.id == actor.user_id))
        mine = ReportSubscription.user_id == actor.user_id
        query = query.where(or_(mine, ReportSubscription.team_id == team_id) if team_id else mine)
    return list(session.scalars(query))


def unsubscribe(*, session: Session, actor: Actor, subscription_id: int, clock: Clock = system_clock) -> None:
    """Remove a subscription: one's own, or (leaders) anyone's and any team's."""
    policy.require(actor, "report_subscriptions", "write")
    sub = session.get(ReportSubscription, subscription_id)
    leader = actor.is_system or actor.role in policy.LEADERS
    if sub is None or not (leader or sub.user_id == actor.user_id):
        # Someone else's subscription is not said to exist.
        raise NotFound(translate("reports.subscription.not_found", id=subscription_id))
    before = as_dict(sub)
    session.delete(sub)
    session.flush()
    audit_service.record(session, actor=actor, action="report_subscription.removed",
                         entity_type="report_subscription", entity_id=subscription_id, before=before, clock=clock)  # fmt: skip


def due(session: Session, today: date) -> list[Due]:
    """Active subscriptions whose last complete period has no outbox message yet."""
    from closedloop.outbox.models import OutboxMessage

    # People's own subscriptions first: written first, they fan out first and keep their language.
    subs = list(session.scalars(select(ReportSubscription).where(ReportSubscription.is_active.is_(True))
                                .order_by(ReportSubscription.team_id.is_not(None), ReportSubscription.id)))  # fmt: skip
    wanted = [Due(s.id, s.report, s.language, due_period(s.schedule, today, s.report)) for s in subs]
    keys = [d.key for d in wanted]
    written: set[str] = set()
    for start in range(0, len(keys), 500):
        written |= set(session.scalars(select(OutboxMessage.idempotency_key)
                                       .where(OutboxMessage.idempotency_key.in_(keys[start:start + 500]))))  # fmt: skip
    return [d for d in wanted if d.key not in written]


def deliver_due(session: Session, clock: Clock = system_clock) -> int:
    """Render each due pack as PDF (once per report and language) and write its outbox message; how many."""
    from closedloop.reports import service as report_service

    zone = session.scalar(select(WorkspaceSettings.reporting_time_zone).where(WorkspaceSettings.id == 1))
    now = clock()
    todo = due(session, now.astimezone(ZoneInfo(zone or "Asia/Taipei")).date())
    if not todo:
        return 0
    url = str(session.get_bind().engine.url.render_as_string(hide_password=False))
    rendered: dict[tuple[str, str], tuple[bytes, dict[str, Any]]] = {}
    for item in todo:
        if (item.report, item.language) not in rendered:
            rendered[item.report, item.language] = report_service.render_pack(
                url, session=session, kind=item.report, lang=item.language, output_format="pdf", as_of=now
            )
        pdf, pack = rendered[item.report, item.language]
        period = f"{pack['period'][0]} – {pack['period'][1]}"
        filename = f"closedloop-{item.report}-{pack['period'][1]}-{item.language}.pdf"
        outbox_service.enqueue(session, topic=TOPIC, idempotency_key=item.key, clock=clock, payload={
            "report_subscription_id": item.subscription_id, "report_kind": item.report, "period": period,
            "pack_period_end": pack["period"][1], "language": item.language, "data_as_of": pack["data_as_of"],
            "attachments": [{"filename": filename, "content_type": "application/pdf",
                             "content_base64": base64.b64encode(pdf).decode("ascii")}],
        })  # fmt: skip
    return len(todo)
