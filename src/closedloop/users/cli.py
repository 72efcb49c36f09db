"""`closedloop user ...` and `closedloop apikey ...`: people, teams and keys from the command line."""

from __future__ import annotations

import sys

import click

from closedloop.cli.common import FORMAT_OPTION, echo_json, open_store
from closedloop.db import unit_of_work
from closedloop.i18n import translate
from closedloop.safe_csv import to_csv
from closedloop.users.actor import system_actor
from closedloop.users.models import ROLES, TEAM_KINDS


def _read_password() -> str:
    """The password from stdin when piped (first line), else prompted twice."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt(translate("users.prompt.password"), hide_input=True, confirmation_prompt=True)


def _print(rows: list[dict[str, object]], output_format: str) -> None:
    if output_format == "json":
        echo_json(rows)
        return
    header = list(rows[0]) if rows else []
    if output_format == "csv":
        click.echo(to_csv(header, [list(r.values()) for r in rows]), nl=False)
        return
    for row in rows:
        click.echo("  ".join("" if v is None else str(v) for v in row.values()))


@click.group()
def user() -> None:
    """Manage users and teams."""


@user.command("create")
@click.option("--email", required=True, help="Login email.")
@click.option("--role", required=True, type=click.Choice(ROLES), help="Role.")
@click.option("--team", default=None, help="Team name.")
@click.option("--name", default=None, help="Display name.")
def create_user(email: str, role: str, team: str | None, name: str | None) -> None:
    """Create a user; the password comes from stdin when piped, else a prompt (at least 10 characters)."""
    from closedloop.users import service

    password = _read_password()
    with unit_of_work(open_store()) as session:
        team_id = service.team_by_name(session=session, name=team).id if team else None
        row = service.create_user(
            session=session,
            actor=system_actor("cli"),
            email=email,
            role=role,
            password=password,
            team_id=team_id,
            name=name,
        )
        click.echo(translate("users.created", email=row.email, role=row.role, id=row.id))


@user.command("list")
@FORMAT_OPTION
def list_users(output_format: str) -> None:
    """List users (never their passwords)."""
    from sqlalchemy import select

    from closedloop.users.models import Team, User

    with unit_of_work(open_store()) as session:
        teams = dict(session.execute(select(Team.id, Team.name)).all())
        rows = [
            {
                "id": u.id,
                "email": u.email,
                "name": u.name,
                "role": u.role,
                "team": teams.get(u.team_id),
                "active": u.is_active,
            }
            for u in session.scalars(select(User).order_by(User.id))
        ]
    _print(rows, output_format)


@user.command("deactivate")
@click.option("--email", required=True, help="The leaver.")
@click.option("--successor", required=True, help="Who takes over open leads, hand-offs and deals.")
def deactivate(email: str, successor: str) -> None:
    """Deactivate a leaver: work passes to the successor, sessions and keys stop at once."""
    from closedloop.users import service

    with unit_of_work(open_store()) as session:
        leaver = service.user_by_email(session=session, email=email)
        heir = service.user_by_email(session=session, email=successor)
        moved = service.deactivate_user(
            session=session, actor=system_actor("cli"), user=leaver, successor=heir
        )
    click.echo(translate("users.deactivated", email=email, successor=successor, **moved))


@user.command("totp")
@click.option("--email", required=True, help="The user (meant for admins).")
@click.option("--disable", is_flag=True, help="Remove the second factor instead.")
def totp_command(email: str, disable: bool) -> None:
    """Require a one-time code from an authenticator app at sign-in; prints the otpauth URI once."""
    from closedloop.cli.common import settings
    from closedloop.users import service

    with unit_of_work(open_store()) as session:
        row = service.user_by_email(session=session, email=email)
        if disable:
            service.disable_totp(session=session, actor=system_actor("cli"), user=row)
            uri = None
        else:
            uri = service.enable_totp(
                session=session, actor=system_actor("cli"), user=row, secret_key=settings().require_secret()
            )
    if uri:
        click.echo(uri)
    click.echo(translate("users.totp_disabled" if disable else "users.totp_enabled", email=email), err=True)


@user.group()
def team() -> None:
    """Manage teams."""


@team.command("create")
@click.option("--name", required=True, help="Team name (unique).")
@click.option("--kind", type=click.Choice(TEAM_KINDS), default="sales", show_default=True, help="Kind.")
@click.option("--region", default=None, help="Sales territory.")
def create_team(name: str, kind: str, region: str | None) -> None:
    """Create a team."""
    from closedloop.users import service

    with unit_of_work(open_store()) as session:
        row = service.create_team(
            session=session, actor=system_actor("cli"), name=name, kind=kind, region=region
        )
        click.echo(translate("users.team_created", name=row.name, id=row.id))


@team.command("list")
@FORMAT_OPTION
def list_teams(output_format: str) -> None:
    """List teams."""
    from sqlalchemy import select

    from closedloop.users.models import Team

    with unit_of_work(open_store()) as session:
        rows = [
            {"id": t.id, "name": t.name, "kind": t.kind, "region": t.region}
            for t in session.scalars(select(Team).order_by(Team.id))
        ]
    _print(rows, output_format)


@click.group()
def apikey() -> None:
    """Manage API keys."""


@apikey.command("create")
@click.option("--user", "email", required=True, help="The key acts as this user, with its role.")
@click.option(
    "--scopes", default="read,write", show_default=True, help="Comma-separated: read,write,capture."
)
@click.option("--name", default=None, help="What the key is for.")
def create_key(email: str, scopes: str, name: str | None) -> None:
    """Create a key and print it once (only its hash is kept)."""
    from closedloop.users import service

    with unit_of_work(open_store()) as session:
        owner = service.user_by_email(session=session, email=email)
        row, key = service.create_api_key(
            session=session, actor=system_actor("cli"), user=owner, scopes=scopes.split(","), name=name
        )
        prefix = row.prefix
    click.echo(key)
    click.echo(translate("users.key_created", prefix=prefix), err=True)


@apikey.command("revoke")
@click.argument("key_ref")
def revoke_key(key_ref: str) -> None:
    """Revoke a key by id or prefix; it fails from the next request on."""
    from closedloop.users import service

    with unit_of_work(open_store()) as session:
        row = service.api_key_by_ref(session=session, ref=key_ref)
        service.revoke_api_key(session=session, actor=system_actor("cli"), key=row)
        prefix = row.prefix
    click.echo(translate("users.key_revoked", prefix=prefix))


@apikey.command("list")
@click.option("--user", "email", default=None, help="Only this user's keys.")
@FORMAT_OPTION
def list_keys(email: str | None, output_format: str) -> None:
    """List keys: prefix, owner, scopes, last use (never the secret)."""
    from closedloop.users import service

    with unit_of_work(open_store()) as session:
        user_id = service.user_by_email(session=session, email=email).id if email else None
        rows = [
            {
                "id": k.id,
                "prefix": k.prefix,
                "user_id": k.user_id,
                "name": k.name,
                "scopes": ",".join(k.scopes),
                "created_at": k.created_at.isoformat(),
                "last_used_at": k.last_used_at and k.last_used_at.isoformat(),
                "revoked_at": k.revoked_at and k.revoked_at.isoformat(),
            }
            for k in service.list_api_keys(session=session, user_id=user_id)
        ]
    _print(rows, output_format)
