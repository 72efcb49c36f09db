"""`closedloop person export|erase`: personal-data requests (PDPA, PIPL, GDPR), run as an administrator."""

from __future__ import annotations

import click

from closedloop.cli.common import echo_json, open_store, settings
from closedloop.db import unit_of_work
from closedloop.i18n import translate
from closedloop.users.actor import system_actor


@click.group()
def person() -> None:
    """Personal-data export and erasure."""


@person.command("export")
@click.option("--email", required=True, help="The person's email.")
def export_(email: str) -> None:
    """Print everything held about the person as JSON (the export is audited)."""
    from closedloop.users import privacy

    with unit_of_work(open_store()) as session:
        data = privacy.export_person(session=session, actor=system_actor("cli"), email=email)
    echo_json(data)


@person.command()
@click.option("--email", required=True, help="The person's email.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def erase(email: str, yes: bool) -> None:
    """Remove the person's identities and free text everywhere; counts stay, re-imports are refused."""
    from closedloop.users import privacy

    if not yes:
        click.confirm(translate("privacy.confirm_erase", email=email), abort=True)
    secret = settings().require_secret()
    with unit_of_work(open_store()) as session:
        result = privacy.erase_person(
            session=session, actor=system_actor("cli"), email=email, secret_key=secret
        )
    click.echo(translate("privacy.erased", **result))
