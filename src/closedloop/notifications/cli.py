"""`closedloop notify`: channels, subscriptions, the outbound allow-list and dead messages."""

from __future__ import annotations

import sys

import click

from closedloop.cli.common import FORMAT_OPTION, echo_json, open_store, settings
from closedloop.db import unit_of_work
from closedloop.i18n import translate
from closedloop.users.actor import Actor, system_actor


def _actor() -> Actor:
    """Commands run by whoever operates the installation: an admin acting through the CLI."""
    return system_actor("cli")


@click.group("notify")
def notify() -> None:
    """Notification channels, subscriptions and deliveries."""


@notify.group("channel")
def channel() -> None:
    """Notification channels (Slack, Teams, LINE, WeCom, DingTalk, Feishu, email, webhooks)."""


@channel.command("add")
@click.argument("name")
@click.option("--kind", required=True, help="slack|teams|line|line_works|wecom|dingtalk|feishu|email|webhook")
@click.option("--url", default=None, help="Webhook or API URL (stored encrypted).")
@click.option("--secret", default=None, help="Signing secret, token or SMTP password (stored encrypted).")
@click.option("--secret-stdin", is_flag=True, help="Read the secret from standard input instead.")
@click.option(
    "--set", "settings_", multiple=True, metavar="KEY=VALUE", help="Channel setting (host, port, to...)."
)
@click.option("--language", default=None, help="Default language: en, zh-TW or zh-CN.")
def channel_add(
    name: str,
    kind: str,
    url: str | None,
    secret: str | None,
    secret_stdin: bool,
    settings_: tuple[str, ...],
    language: str | None,
) -> None:
    """Add a channel."""
    from closedloop.notifications import service

    if secret_stdin:
        secret = sys.stdin.readline().rstrip("\n") or None
    config: dict[str, object] = {}
    for item in settings_:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--set")
        config[key] = {"true": True, "false": False}.get(
            value.lower(), int(value) if value.isdigit() else value
        )
    with unit_of_work(open_store()) as session:
        row = service.add_channel(
            session=session,
            name=name,
            kind=kind,
            url=url,
            secret=secret,
            config=config,
            language=language,
            secret_key=settings().require_secret(),
            actor=_actor(),
        )
        click.echo(translate("notifications.cli.channel_added", id=row.id, kind=row.kind, name=row.name))


@channel.command("list")
@FORMAT_OPTION
def channel_list(output_format: str) -> None:
    """List channels (URLs shown as scheme://host only, secrets never)."""
    from sqlalchemy import select

    from closedloop.notifications.models import NotificationChannel

    with open_store()() as session:
        rows = [
            {
                "id": c.id,
                "name": c.name,
                "kind": c.kind,
                "url": c.url_hint,
                "has_secret": c.secret_encrypted is not None,
                "language": c.language,
                "active": c.is_active,
                "config": c.config,
            }
            for c in session.scalars(select(NotificationChannel).order_by(NotificationChannel.id))
        ]
    if output_format == "json":
        echo_json(rows)
        return
    for r in rows:
        click.echo(
            f"{r['id']}\t{r['name']}\t{r['kind']}\t{r['url'] or ''}\t{'active' if r['active'] else 'off'}"
        )


@channel.command("disable")
@click.argument("ref")
def channel_disable(ref: str) -> None:
    """Turn a channel off (deliveries to it fail and retry until it is enabled)."""
    from closedloop.notifications import service

    with unit_of_work(open_store()) as session:
        service.set_channel_active(
            session=session, channel=service.get_channel(session, ref), active=False, actor=_actor()
        )
    click.echo(translate("notifications.cli.channel_disabled", ref=ref))


@channel.command("enable")
@click.argument("ref")
def channel_enable(ref: str) -> None:
    """Turn a channel back on."""
    from closedloop.notifications import service

    with unit_of_work(open_store()) as session:
        service.set_channel_active(
            session=session, channel=service.get_channel(session, ref), active=True, actor=_actor()
        )
    click.echo(translate("notifications.cli.channel_enabled", ref=ref))


@notify.command("subscriptions")
@FORMAT_OPTION
def subscriptions(output_format: str) -> None:
    """List subscriptions."""
    from closedloop.notifications import service

    with open_store()() as session:
        rows = service.subscriptions(session)
    if output_format == "json":
        echo_json(rows)
        return
    for r in rows:
        scope = (
            f"user {r['user_id']}"
            if r["user_id"]
            else f"team {r['team_id']}"
            if r["team_id"]
            else "workspace"
        )
        click.echo(f"{r['id']}\t{r['topic']}\t{r['channel']}\t{scope}")


@notify.command("unsubscribe")
@click.argument("subscription_id", type=int)
def unsubscribe(subscription_id: int) -> None:
    """Remove a subscription."""
    from closedloop.notifications import service

    with unit_of_work(open_store()) as session:
        service.unsubscribe(session=session, subscription_id=subscription_id, actor=_actor())
    click.echo(translate("notifications.cli.unsubscribed", id=subscription_id))


@notify.command("disallow")
@click.argument("url_prefix")
def disallow(url_prefix: str) -> None:
    """Remove an allow-listed outbound URL prefix."""
    from closedloop.notifications import service

    with unit_of_work(open_store()) as session:
        service.disallow_url(session=session, url_prefix=url_prefix, actor=_actor())
    click.echo(translate("notifications.cli.disallowed", prefix=url_prefix))


@notify.command("subscribe")
@click.option("--channel", "channel_ref", required=True, help="Channel id or name.")
@click.option("--topic", required=True, help="A topic (mql_assigned, deal_won...) or * for all.")
@click.option("--user", "user_ref", default=None, help="User id or email (per-user subscription).")
@click.option("--team", "team_ref", default=None, help="Team id or name (per-team subscription).")
@click.option("--language", default=None)
def subscribe(
    channel_ref: str, topic: str, user_ref: str | None, team_ref: str | None, language: str | None
) -> None:
    """Subscribe a user, a team or the whole workspace to a topic on a channel."""
    from sqlalchemy import select

    from closedloop.errors import NotFound
    from closedloop.notifications import service
    from closedloop.users.models import Team, User

    with unit_of_work(open_store()) as session:
        target = service.get_channel(session, channel_ref)
        user_id = team_id = None
        if user_ref is not None:
            column = User.id if user_ref.isdigit() else User.email
            user_id = session.scalar(
                select(User.id).where(column == (int(user_ref) if user_ref.isdigit() else user_ref.lower()))
            )
            if user_id is None:
                raise NotFound(translate("notifications.error.no_user", ref=user_ref))
        if team_ref is not None:
            column = Team.id if team_ref.isdigit() else Team.name
            team_id = session.scalar(
                select(Team.id).where(column == (int(team_ref) if team_ref.isdigit() else team_ref))
            )
            if team_id is None:
                raise NotFound(translate("notifications.error.no_team", ref=team_ref))
        sub = service.subscribe(
            session=session,
            channel_id=target.id,
            topic=topic,
            user_id=user_id,
            team_id=team_id,
            language=language,
            actor=_actor(),
        )
        click.echo(translate("notifications.cli.subscribed", id=sub.id, topic=topic, channel=target.name))


@notify.command("allow")
@click.argument("url_prefix")
@click.option("--note", default=None)
def allow(url_prefix: str, note: str | None) -> None:
    """Allow-list an outbound URL prefix that resolves to a private or loopback address."""
    from closedloop.notifications import service

    with unit_of_work(open_store()) as session:
        service.allow_url(session=session, url_prefix=url_prefix, note=note, actor=_actor())
    click.echo(translate("notifications.cli.allowed", prefix=url_prefix))


@notify.command("allowed")
@FORMAT_OPTION
def allowed(output_format: str) -> None:
    """List the allow-listed outbound URL prefixes."""
    from closedloop.notifications import service

    with open_store()() as session:
        prefixes = service.allowed_prefixes(session)
    if output_format == "json":
        echo_json(prefixes)
    else:
        for prefix in prefixes:
            click.echo(prefix)


@notify.command("dead")
@FORMAT_OPTION
def dead(output_format: str) -> None:
    """Messages that ran out of attempts, with the last error of each failed destination."""
    from closedloop.notifications.deadletters import dead_messages

    with open_store()() as session:
        items = dead_messages(session)
    if output_format == "json":
        echo_json(items)
        return
    if not items:
        click.echo(translate("notifications.cli.none_dead"))
    for item in items:
        click.echo(f"{item['id']}\t{item['topic']}\tattempts={item['attempts']}\t{item['last_error']}")


@notify.command("retry")
@click.argument("message_id", type=int)
def retry(message_id: int) -> None:
    """Queue a dead message again (after fixing its channel)."""
    from closedloop.notifications.deadletters import requeue

    with unit_of_work(open_store()) as session:
        requeue(session=session, message_id=message_id)
    click.echo(translate("notifications.cli.requeued", id=message_id))
