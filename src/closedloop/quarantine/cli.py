"""`closedloop quarantine list|show|fix|replay|discard`: rejected rows and events."""

from __future__ import annotations

import click

from closedloop.cli.common import FORMAT_OPTION


@click.group()
def quarantine() -> None:
    """Rejected rows and events: fix them and replay them."""


@quarantine.command("list")
@click.option(
    "--status", type=click.Choice(["open", "replayed", "discarded", "all"]), default="open", show_default=True
)
@click.option("--source", help="import, capture, webhook.")
@click.option("--kind", help="Import kind (leads, touchpoints...).")
@click.option("--job", "job_id", type=int, help="Only rows of this import job.")
@click.option("--limit", type=int, default=100, show_default=True)
@FORMAT_OPTION
def list_(
    status: str, source: str | None, kind: str | None, job_id: int | None, limit: int, output_format: str
) -> None:
    """List quarantined records."""
    from closedloop.cli.common import echo_json, open_store
    from closedloop.db import unit_of_work
    from closedloop.i18n import translate
    from closedloop.quarantine import service

    with unit_of_work(open_store()) as session:
        records, total = service.list_records(
            session=session,
            status=None if status == "all" else status,
            source=source,
            kind=kind,
            import_job_id=job_id,
            limit=limit,
        )
        rows = [service.as_dict(r) for r in records]
    if output_format == "json":
        echo_json({"total": total, "records": rows})
        return
    if output_format == "csv":
        from closedloop.safe_csv import to_csv

        header = ["id", "source", "kind", "row", "status", "reason"]
        click.echo(to_csv(header, [[r[h if h != "row" else "row"] for h in header] for r in rows]), nl=False)
        return
    if not rows:
        click.echo(translate("quarantine.none"))
        return
    for r in rows:
        click.echo(f"{r['id']}\t{r['source']}\t{r['kind']}\trow {r['row']}\t{r['status']}\t{r['reason']}")
    if total > len(rows):
        click.echo(f"... {total - len(rows)} more")


@quarantine.command("show")
@click.argument("record_id", type=int)
def show(record_id: int) -> None:
    """Show one record with its payload and errors (JSON)."""
    from closedloop.cli.common import echo_json, open_store
    from closedloop.db import unit_of_work
    from closedloop.quarantine import service

    with unit_of_work(open_store()) as session:
        echo_json(service.as_dict(service.get_record(session=session, record_id=record_id)))


@quarantine.command("fix")
@click.argument("record_id", type=int)
@click.option(
    "--set",
    "assignments",
    multiple=True,
    required=True,
    metavar="COLUMN=VALUE",
    help="Replace a cell of the rejected row (repeatable).",
)
def fix(record_id: int, assignments: tuple[str, ...]) -> None:
    """Edit a rejected row's cells before replaying it."""
    from closedloop.cli.common import open_store
    from closedloop.db import unit_of_work
    from closedloop.i18n import translate
    from closedloop.quarantine import service
    from closedloop.users.actor import Actor

    changes = {}
    for item in assignments:
        if "=" not in item:
            raise click.UsageError(f"--set expects COLUMN=VALUE, got {item!r}")
        column, value = item.split("=", 1)
        changes[column] = value
    with unit_of_work(open_store()) as session:
        service.fix_record(
            session=session,
            record_id=record_id,
            changes=changes,
            actor=Actor(user_id=None, role="admin", via="cli"),
        )
    for column, value in changes.items():
        click.echo(translate("quarantine.fixed", id=record_id, field=column, value=value))


@quarantine.command("replay")
@click.argument("record_ids", type=int, nargs=-1, required=True)
def replay(record_ids: tuple[int, ...]) -> None:
    """Process records again; a record still invalid stays open with its new reason (exit 1)."""
    from closedloop.cli.common import open_store
    from closedloop.db import unit_of_work
    from closedloop.errors import ValidationFailed
    from closedloop.i18n import translate
    from closedloop.quarantine import service
    from closedloop.users.actor import Actor

    failed = []
    for record_id in record_ids:
        with unit_of_work(open_store()) as session:
            outcome, errors = service.replay_record(
                session=session, record_id=record_id, actor=Actor(user_id=None, role="admin", via="cli")
            )
            reason = service.get_record(session=session, record_id=record_id).reason
        if errors:
            failed.append(record_id)
            click.echo(translate("quarantine.still_invalid", id=record_id, reason=reason))
        else:
            click.echo(translate("quarantine.replayed", id=record_id, outcome=outcome))
    if failed:
        raise ValidationFailed(translate("quarantine.still_invalid", id=failed[0], reason="see above"))


@quarantine.command("discard")
@click.argument("record_id", type=int)
@click.option("--reason", required=True)
def discard(record_id: int, reason: str) -> None:
    """Give up on a record (kept, marked discarded)."""
    from closedloop.cli.common import open_store
    from closedloop.db import unit_of_work
    from closedloop.i18n import translate
    from closedloop.quarantine import service
    from closedloop.users.actor import Actor

    with unit_of_work(open_store()) as session:
        service.discard_record(
            session=session,
            record_id=record_id,
            reason=reason,
            actor=Actor(user_id=None, role="admin", via="cli"),
        )
    click.echo(translate("quarantine.discarded", id=record_id))
