"""Channels, subscriptions and the allow-list (admin operations), and fan-out of outbox messages."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from closedloop.audit import service as audit_service
from closedloop.clock import Clock, system_clock
from closedloop.errors import Conflict, NotFound, ValidationFailed
from closedloop.i18n import DEFAULT_LANGUAGE, LANGUAGES, normalise_language, translate
from closedloop.notifications import facts as facts_module
from closedloop.notifications.channels import REQUIRED
from closedloop.notifications.crypto import SecretBox
from closedloop.notifications.models import (
    CHANNEL_KINDS,
    AllowedOutboundUrl,
    NotificationChannel,
    NotificationDelivery,
    NotificationSubscription,
)
from closedloop.notifications.render import ALL_TOPICS, TOPICS, canonical_topic
from closedloop.notifications.urlsafety import url_hint
from closedloop.outbox.models import OutboxMessage
from closedloop.users.actor import Actor
from closedloop.users.models import User

# Settings that are credentials: given as the channel's secret (encrypted), never as plain config.
SECRET_SETTINGS = frozenset(
    {"password", "secret", "token", "access_token", "channel_access_token", "api_key"}
)


@dataclass(frozen=True)
class Target:
    """One destination of one message: a channel, a recipient on it, and the language to write in."""

    channel_id: int
    recipient: str
    language: str
    key: str | None = None  # the delivery key, when it is not the message's (a report pack's)


def add_channel(
    *,
    session: Session,
    name: str,
    kind: str,
    url: str | None = None,
    secret: str | None = None,
    config: dict[str, Any] | None = None,
    language: str | None = None,
    secret_key: str,
    actor: Actor,
    clock: Clock = system_clock,
) -> NotificationChannel:
    """Register a channel; its URL and secret are stored encrypted, never in the audit log."""
    if kind not in CHANNEL_KINDS:
        raise ValidationFailed(
            translate("notifications.error.unknown_kind", kind=kind, kinds=", ".join(CHANNEL_KINDS))
        )
    config = dict(config or {})
    leaking = sorted(k for k in config if k.lower() in SECRET_SETTINGS)
    if leaking:
        raise ValidationFailed(translate("notifications.error.secret_in_config", keys=", ".join(leaking)))
    given = {"url": url, "secret": secret, **config}
    for setting in REQUIRED[kind]:
        if not given.get(setting):
            raise ValidationFailed(
                translate("notifications.error.missing_setting", kind=kind, setting=setting)
            )
    if url is not None and urlsplit(url).scheme not in ("http", "https"):
        raise ValidationFailed(translate("notifications.error.bad_url", url=url_hint(url)))
    if session.scalar(select(NotificationChannel.id).where(NotificationChannel.name == name)) is not None:
        raise Conflict(translate("notifications.error.channel_exists", name=name))
    box = SecretBox(secret_key)
    channel = NotificationChannel(
        name=name,
        kind=kind,
        url_encrypted=box.encrypt(url),
        url_hint=url_hint(url) if url else None,
        secret_encrypted=box.encrypt(secret),
        config=config,
        language=normalise_language(language) if language else None,
        created_by_id=actor.user_id,
        created_at=clock(),
    )
    session.add(channel)
    session.flush()
    audit_service.record(
        session,
        actor=actor,
        action="notification_channel.added",
        entity_type="notification_channel",
        entity_id=channel.id,
        after={"name": name, "kind": kind, "url": channel.url_hint, "has_secret": secret is not None},
        clock=clock,
    )
    return channel


def get_channel(session: Session, ref: str | int) -> NotificationChannel:
    """A channel by id or by name."""
    channel = (
        session.get(NotificationChannel, int(ref))
        if str(ref).isdigit()
        else session.scalar(select(NotificationChannel).where(NotificationChannel.name == str(ref)))
    )
    if channel is None:
        raise NotFound(translate("notifications.error.no_channel", ref=str(ref)))
    return channel


def subscribe(
    *,
    session: Session,
    channel_id: int,
    topic: str,
    user_id: int | None = None,
    team_id: int | None = None,
    language: str | None = None,
    actor: Actor,
    clock: Clock = system_clock,
) -> NotificationSubscription:
    """Subscribe a user, a team or (neither) the workspace to a topic on a channel; repeats are no-ops."""
    if topic != ALL_TOPICS and topic not in TOPICS:
        raise ValidationFailed(
            translate(
                "notifications.error.unknown_topic", topic=topic, topics=", ".join((*TOPICS, ALL_TOPICS))
            )
        )
    if user_id is not None and team_id is not None:
        raise ValidationFailed(translate("notifications.error.user_and_team"))
    if session.get(NotificationChannel, channel_id) is None:
        raise NotFound(translate("notifications.error.no_channel", ref=str(channel_id)))
    query = select(NotificationSubscription).where(
        NotificationSubscription.channel_id == channel_id,
        NotificationSubscription.topic == topic,
        NotificationSubscription.user_id.is_(None)
        if user_id is None
        else NotificationSubscription.user_id == user_id,
        NotificationSubscription.team_id.is_(None)
        if team_id is None
        else NotificationSubscription.team_id == team_id,
    )
    existing = session.scalar(query)
    if existing is not None:
        return existing
    lang = normalise_language(language) if language else None
    subscription = NotificationSubscription(
        channel_id=channel_id,
        topic=topic,
        user_id=user_id,
        team_id=team_id,
        language=lang,
        created_at=clock(),
    )
    session.add(subscription)
    session.flush()
    audit_service.record(
        session,
        actor=actor,
        action="notification_subscription.added",
        entity_type="notification_subscription",
        entity_id=subscription.id,
        after={"channel_id": channel_id, "topic": topic, "user_id": user_id, "team_id": team_id},
        clock=clock,
    )
    return subscription


def allow_url(
    *, session: Session, url_prefix: str, note: str | None = None, actor: Actor, clock: Clock = system_clock
) -> AllowedOutboundUrl:
    """Allow an outbound URL prefix that resolves to a private or loopback address (admins only)."""
    if urlsplit(url_prefix).scheme not in ("http", "https", "smtp") or not urlsplit(url_prefix).hostname:
        raise ValidationFailed(translate("notifications.error.bad_url", url=url_prefix))
    existing = session.scalar(select(AllowedOutboundUrl).where(AllowedOutboundUrl.url_prefix == url_prefix))
    if existing is not None:
        return existing
    rule = AllowedOutboundUrl(
        url_prefix=url_prefix, note=note, created_by_id=actor.user_id, created_at=clock()
    )
    session.add(rule)
    session.flush()
    audit_service.record(
        session,
        actor=actor,
        action="notification_allowed_url.added",
        entity_type="notification_allowed_url",
        entity_id=rule.id,
        after={"url_prefix": url_prefix, "note": note},
        clock=clock,
    )
    return rule


def set_channel_active(
    *, session: Session, channel: NotificationChannel, active: bool, actor: Actor, clock: Clock = system_clock
) -> NotificationChannel:
    """Turn a channel off (its pending deliveries fail and retry until it is back on) or on again."""
    before = channel.is_active
    channel.is_active = active
    session.flush()
    audit_service.record(
        session,
        actor=actor,
        action="notification_channel.enabled" if active else "notification_channel.disabled",
        entity_type="notification_channel",
        entity_id=channel.id,
        before={"is_active": before},
        after={"is_active": active},
        clock=clock,
    )
    return channel


def unsubscribe(*, session: Session, subscription_id: int, actor: Actor, clock: Clock = system_clock) -> None:
    """Remove a subscription; messages already fanned out to it are still delivered."""
    subscription = session.get(NotificationSubscription, subscription_id)
    if subscription is None:
        raise NotFound(translate("notifications.error.no_subscription", id=subscription_id))
    before = {
        "channel_id": subscription.channel_id,
        "topic": subscription.topic,
        "user_id": subscription.user_id,
        "team_id": subscription.team_id,
    }
    session.delete(subscription)
    session.flush()
    audit_service.record(
        session,
        actor=actor,
        action="notification_subscription.removed",
        entity_type="notification_subscription",
        entity_id=subscription_id,
        before=before,
        clock=clock,
    )


def disallow_url(*, session: Session, url_prefix: str, actor: Actor, clock: Clock = system_clock) -> None:
    """Remove an allow-list entry; sends to private addresses under it are refused again."""
    rule = session.scalar(select(AllowedOutboundUrl).where(AllowedOutboundUrl.url_prefix == url_prefix))
    if rule is None:
        raise NotFound(translate("notifications.error.not_allowed", prefix=url_prefix))
    rule_id = rule.id
    session.delete(rule)
    session.flush()
    audit_service.record(
        session,
        actor=actor,
        action="notification_allowed_url.removed",
        entity_type="notification_allowed_url",
        entity_id=rule_id,
        before={"url_prefix": url_prefix},
        clock=clock,
    )


def subscriptions(session: Session) -> list[dict[str, Any]]:
    """Every subscription with its channel's name."""
    rows = session.execute(
        select(NotificationSubscription, NotificationChannel.name)
        .join(NotificationChannel, NotificationChannel.id == NotificationSubscription.channel_id)
        .order_by(NotificationSubscription.id)
    )
    return [
        {
            "id": sub.id,
            "channel": name,
            "topic": sub.topic,
            "user_id": sub.user_id,
            "team_id": sub.team_id,
            "language": sub.language,
        }
        for sub, name in rows
    ]


def allowed_prefixes(session: Session) -> list[str]:
    """Every allow-listed outbound URL prefix."""
    return list(session.scalars(select(AllowedOutboundUrl.url_prefix).order_by(AllowedOutboundUrl.id)))


def delivery_key(event_key: str, channel_id: int, recipient: str) -> str:
    """The stable idempotency key of one message to one destination."""
    digest = hashlib.sha256(f"{event_key}\x1f{channel_id}\x1f{recipient}".encode()).hexdigest()
    return f"cld_{digest[:40]}"


def _email_recipients(channel: NotificationChannel) -> list[str]:
    value = channel.config.get("to") or []
    items = (
        value.split(",")
        if isinstance(value, str)
        else [str(v) for v in value]
        if isinstance(value, list)
        else []
    )
    return [item.strip() for item in items if item.strip()]


def report_targets(session: Session, message: OutboxMessage, subscription_id: int) -> list[Target]:
    """A scheduled report pack goes to its own subscription only: the user, or each active team member;
    a recipient who already has this period's pack (through another subscription) is left out."""
    from closedloop.notifications.models import ReportSubscription
    from closedloop.reports.subscriptions import pack_delivery_key

    sub = session.get(ReportSubscription, subscription_id)
    if sub is None:  # unsubscribed after the pack was written: nobody left to send it to
        return []
    people = select(User.email).where(User.is_active.is_(True)).order_by(User.id)
    people = (
        people.where(User.id == sub.user_id)
        if sub.user_id is not None
        else people.where(User.team_id == sub.team_id)
    )
    emails = list(session.scalars(people))
    period_end = message.payload.get("pack_period_end")
    if not period_end:  # written before packs were keyed by their period: the subscription's own key
        return [Target(sub.channel_id, email, normalise_language(sub.language)) for email in emails]
    keys = {email: pack_delivery_key(sub.report, str(period_end), email) for email in emails}
    sent = set(
        session.scalars(
            select(NotificationDelivery.delivery_key).where(
                NotificationDelivery.delivery_key.in_(list(keys.values())),
                NotificationDelivery.message_id != message.id,
            )
        )
    )
    return [
        Target(sub.channel_id, email, normalise_language(sub.language), keys[email])
        for email in emails
        if keys[email] not in sent
    ]


def targets(session: Session, message: OutboxMessage) -> list[Target]:
    """Where a message goes: every matching subscription's destination, each once."""
    topic = canonical_topic(message.topic)
    if topic is None:
        return []
    report_subscription = facts_module._id(message.payload.get("report_subscription_id"))
    if report_subscription is not None:
        return report_targets(session, message, report_subscription)
    facts = facts_module.gather(session, message.payload)
    users, teams = facts_module.audience(facts)
    addressed_teams = teams | set(
        session.scalars(select(User.team_id).where(User.id.in_(users), User.team_id.is_not(None)))
    )
    query = (
        select(NotificationSubscription, NotificationChannel)
        .join(NotificationChannel, NotificationChannel.id == NotificationSubscription.channel_id)
        .where(
            NotificationChannel.is_active.is_(True), NotificationSubscription.topic.in_((topic, ALL_TOPICS))
        )
        .order_by(NotificationSubscription.id)
    )
    found: dict[tuple[int, str], Target] = {}
    addressed = bool(users or teams)
    for sub, channel in session.execute(query):
        if sub.user_id is not None and addressed and sub.user_id not in users:
            continue
        if sub.team_id is not None and addressed and sub.team_id not in addressed_teams:
            continue
        fallback = sub.language or channel.language or DEFAULT_LANGUAGE
        if channel.kind != "email":
            user = session.get(User, sub.user_id) if sub.user_id is not None else None
            lang = sub.language or (user.language if user else None) or channel.language or DEFAULT_LANGUAGE
            found.setdefault((channel.id, ""), Target(channel.id, "", normalise_language(lang)))
            continue
        if sub.user_id is not None:
            people = list(
                session.scalars(select(User).where(User.id == sub.user_id, User.is_active.is_(True)))
            )
        elif sub.team_id is not None:
            people = list(
                session.scalars(select(User).where(User.team_id == sub.team_id, User.is_active.is_(True)))
            )
        else:
            people = []
            for address in _email_recipients(channel):
                found.setdefault(
                    (channel.id, address), Target(channel.id, address, normalise_language(fallback))
                )
        for person in people:
            lang = normalise_language(sub.language or person.language or fallback)
            found.setdefault((channel.id, person.email), Target(channel.id, person.email, lang))
    return list(found.values())


def fan_out(
    *, session: Session, message: OutboxMessage, clock: Clock = system_clock
) -> list[NotificationDelivery]:
    """The message's deliveries, created on first call; later calls return the same rows."""
    existing = list(
        session.scalars(
            select(NotificationDelivery)
            .where(NotificationDelivery.message_id == message.id)
            .order_by(NotificationDelivery.id)
        )
    )
    if existing:
        return existing
    now = clock()
    deliveries = [
        NotificationDelivery(
            message_id=message.id,
            channel_id=t.channel_id,
            recipient=t.recipient,
            language=t.language if t.language in LANGUAGES else DEFAULT_LANGUAGE,
            delivery_key=t.key or delivery_key(message.idempotency_key, t.channel_id, t.recipient),
            status="pending",
            created_at=now,
        )
        for t in targets(session, message)
    ]
    session.add_all(deliveries)
    session.flush()
    return deliveries
