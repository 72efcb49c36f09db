"""`closedloop integration`: inbound webhook sources, example payloads and request signing."""

from __future__ import annotations

import json
import sys
import time
import uuid
from pathlib import Path

import click

from closedloop.cli.common import FORMAT_OPTION, echo_json, open_store, settings
from closedloop.db import unit_of_work


@click.group("integration")
def integration() -> None:
    """Signed inbound webhooks (ERP, email marketing, ad platforms, CSAT)."""


@integration.command("add")
@click.argument("name")
@click.option("--kind", required=True, type=click.Choice(["revenue", "touchpoints", "spend", "feedback"]))
@click.option("--secret-stdin", is_flag=True, help="Read the signing secret from standard input.")
def add(name: str, kind: str, secret_stdin: bool) -> None:
    """Register a source; prints its URL path (and a new secret unless one is given on stdin)."""
    import secrets

    from closedloop.integrations import service
    from closedloop.users.actor import system_actor

    secret = sys.stdin.readline().strip() if secret_stdin else secrets.token_urlsafe(32)
    with unit_of_work(open_store()) as session:
        service.add_source(
            session=session,
            name=name,
            kind=kind,
            secret=secret,
            secret_key=settings().require_secret(),
            actor=system_actor("cli"),
        )
    click.echo(f"POST /api/v1/integrations/{name}/events")
    if not secret_stdin:
        click.echo(f"signing secret (shown once): {secret}")


@integration.command("list")
@FORMAT_OPTION
def list_sources(output_format: str) -> None:
    """List inbound sources and how many deliveries each sent."""
    from sqlalchemy import func, select

    from closedloop.integrations.models import InboundDelivery, InboundSource

    with open_store()() as session:
        counts = dict(
            session.execute(
                select(InboundDelivery.source_id, func.count()).group_by(InboundDelivery.source_id)
            ).all()
        )
        rows = [
            {"name": s.name, "kind": s.kind, "active": s.is_active, "deliveries": counts.get(s.id, 0)}
            for s in session.scalars(select(InboundSource).order_by(InboundSource.id))
        ]
    if output_format == "json":
        echo_json(rows)
        return
    for r in rows:
        click.echo(f"{r['name']}\t{r['kind']}\t{r['deliveries']}")


@integration.command("example")
@click.argument("kind", type=click.Choice(["revenue", "touchpoints", "spend", "feedback"]))
def example(kind: str) -> None:
    """Print an example delivery body for KIND."""
    from closedloop.integrations.examples import EXAMPLES

    click.echo(json.dumps(EXAMPLES[kind], ensure_ascii=False, indent=2))


@integration.command("sign")
@click.argument("body_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--secret-stdin", is_flag=True, required=True, help="Read the signing secret from stdin.")
def sign(body_file: Path, secret_stdin: bool) -> None:
    """Print the headers that sign BODY_FILE now (for senders testing their integration)."""
    from closedloop.notifications.channels.webhook import signature

    secret = sys.stdin.readline().strip()
    timestamp = int(time.time())
    click.echo(f"X-Closedloop-Delivery: {uuid.uuid4()}")
    click.echo(f"X-Closedloop-Timestamp: {timestamp}")
    click.echo(f"X-Closedloop-Signature: {signature(secret, timestamp, body_file.read_bytes())}")


@integration.command("conversions")
@click.argument("platform", type=click.Choice(["google_ads", "meta"]))
@click.option(
    "--from", "date_from", required=True, type=click.DateTime(["%Y-%m-%d"]), help="First local date."
)
@click.option(
    "--to", "date_to", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Last local date (inclusive)."
)
@click.option("--kind", "kinds", multiple=True, type=click.Choice(["sql", "opportunity", "won"]),
              help="Conversions to send (repeatable; default all three).")  # fmt: skip
@click.option("--pixel-id", help="Meta pixel (dataset) id.")
@click.option(
    "--test-event-code", help="Meta Test Events code, to see the events in Events Manager's test tab."
)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def conversions_command(
    platform: str, date_from: object, date_to: object, kinds: tuple[str, ...], pixel_id: str | None,
    test_event_code: str | None, out: Path,
) -> None:  # fmt: skip
    """Write SQL, opportunity and won conversions with click ids: a Google Ads offline-conversion import
    file, or Meta Conversions API requests as a dry run (URL, headers, JSON bodies; nothing is sent)."""
    from closedloop.i18n import translate
    from closedloop.integrations import conversions
    from closedloop.users.actor import system_actor

    with unit_of_work(open_store()) as session:
        result = conversions.export(
            session, actor=system_actor("cli"), platform=platform, date_from=date_from.date(),  # type: ignore[attr-defined]
            date_to=date_to.date(), kinds=kinds or conversions.KINDS, pixel_id=pixel_id,  # type: ignore[attr-defined]
            test_event_code=test_event_code,
        )  # fmt: skip
    out.write_text(result.content, encoding="utf-8", newline="")
    reasons = ", ".join(f"{k} {v}" for k, v in result.skipped.items())
    click.echo(translate("integrations.conversions.written", path=str(out), exported=result.exported,
                         skipped=translate("integrations.conversions.skipped", reasons=reasons)))  # fmt: skip
