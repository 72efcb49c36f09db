"""`closedloop lead ...`: look at a lead and move it along the lifecycle."""

from __future__ import annotations

from typing import Any

import click

import closedloop.models  # noqa: F401 - every table registered before the first flush
from closedloop.cli.common import FORMAT_OPTION, echo_json, open_store

BY_OPTION = click.option(
    "--by", "by_email", default=None, help="Act as this user (email); default: the system, as an admin."
)


def reporting_zone(session: Any) -> Any:
    """The workspace's reporting time zone (timestamps in JSON carry its offset, SPEC section 7)."""
    from zoneinfo import ZoneInfo

    from closedloop.workspace.models import WorkspaceSettings

    settings = session.get(WorkspaceSettings, 1)
    return ZoneInfo(settings.reporting_time_zone if settings else "Asia/Taipei")


def local_row(obj: Any, fields: tuple[str, ...], zone: Any) -> dict[str, Any]:
    """Chosen columns of a row, timestamps as ISO 8601 in `zone`."""
    from datetime import datetime

    values = {name: getattr(obj, name) for name in fields}
    return {k: v.astimezone(zone).isoformat() if isinstance(v, datetime) else v for k, v in values.items()}


def actor_for(session: Any, email: str | None, via: str = "cli") -> Any:
    """The acting user named by email, or the system actor."""
    from sqlalchemy import select

    from closedloop.errors import NotFound
    from closedloop.i18n import translate
    from closedloop.users.actor import Actor, system_actor
    from closedloop.users.models import User

    if email is None:
        return system_actor(via)
    user = session.scalars(select(User).where(User.email == email.strip().lower())).first()
    if user is None or not user.is_active:
        raise NotFound(translate("leadcli.unknown_user", email=email))
    return Actor(user_id=user.id, role=user.role, team_id=user.team_id, via=via)


@click.group()
def lead() -> None:
    """Work with leads and their lifecycle."""


@lead.command("show")
@click.argument("lead_id", type=int)
@FORMAT_OPTION
def show(lead_id: int, output_format: str) -> None:
    """Show a lead: identities, stage, score with its explanation, lifecycle events, hand-offs."""
    from sqlalchemy import select

    from closedloop.handoffs.models import Handoff
    from closedloop.leads import service
    from closedloop.leads.models import LifecycleEvent
    from closedloop.scoring.service import score_history

    with open_store()() as session:
        row = service.get_lead(session=session, lead_id=lead_id)
        zone = reporting_zone(session)
        fields = (
            "id",
            "email",
            "phone",
            "name",
            "title",
            "industry",
            "company_size",
            "region",
            "country",
            "lead_type",
            "source_type",
            "owner_id",
            "team_id",
            "stage",
            "score",
            "score_band",
            "first_channel",
            "created_at",
        )
        events = session.scalars(
            select(LifecycleEvent).where(LifecycleEvent.lead_id == lead_id).order_by(LifecycleEvent.id)
        ).all()
        history = score_history(session, lead_id)
        handoffs = session.scalars(
            select(Handoff).where(Handoff.lead_id == lead_id).order_by(Handoff.id)
        ).all()
        data = {
            **local_row(row, fields, zone),
            "score_explanation": history[-1].explanation if history else [],
            "events": [
                local_row(
                    e,
                    (
                        "id",
                        "from_stage",
                        "to_stage",
                        "occurred_at",
                        "recorded_at",
                        "source",
                        "reason",
                        "implied",
                        "voids_id",
                    ),
                    zone,
                )
                for e in events
            ],
            "handoffs": [
                local_row(
                    h,
                    (
                        "id",
                        "owner_id",
                        "team_id",
                        "assigned_at",
                        "sla_due_at",
                        "first_response_at",
                        "status",
                        "rejection_reason",
                    ),
                    zone,
                )
                for h in handoffs
            ],
        }
    if output_format == "json":
        echo_json(data)
        return
    for key in fields:
        click.echo(f"{key}: {'' if data[key] is None else data[key]}")
    if data["score_explanation"]:
        click.echo("score: " + ", ".join(f"{i['points']:+d} {i['label']}" for i in data["score_explanation"]))
    for e in data["events"]:
        mark = " (implied)" if e["implied"] else ""
        click.echo(
            f"event {e['id']}: {e['from_stage'] or '-'} -> {e['to_stage']}{mark} at {e['occurred_at']}"
            + (f" [{e['reason']}]" if e["reason"] else "")
        )
    for h in data["handoffs"]:
        click.echo(f"hand-off {h['id']}: {h['status']} owner={h['owner_id']} due={h['sla_due_at']}")


@lead.command("stage")
@click.argument("lead_id", type=int)
@click.option("--to", "to_stage", required=True, help="Target stage (lead, mql, sal, sql, ..., recycled).")
@click.option("--reason", default=None, help="Reason code (needed for recycled, disqualified, lost).")
@click.option("--text", default=None, help="Free text with the reason.")
@BY_OPTION
def stage(lead_id: int, to_stage: str, reason: str | None, text: str | None, by_email: str | None) -> None:
    """Move a lead to another lifecycle stage (the SPEC section 2 rules apply)."""
    from closedloop.db import unit_of_work
    from closedloop.i18n import translate
    from closedloop.leads import service

    with unit_of_work(open_store()) as session:
        actor = actor_for(session, by_email)
        row = service.get_lead(session=session, lead_id=lead_id)
        before = row.stage
        service.change_stage(
            session=session, lead=row, to_stage=to_stage, actor=actor, reason=reason, reason_text=text
        )
        click.echo(translate("leadcli.stage_changed", id=lead_id, from_stage=before, to_stage=row.stage))


@lead.command("score")
@click.argument("lead_id", type=int)
@FORMAT_OPTION
def score(lead_id: int, output_format: str) -> None:
    """Score a lead now under the rules in force (may make it an MQL and hand it off)."""
    from closedloop.db import unit_of_work
    from closedloop.scoring.service import score_lead

    with unit_of_work(open_store()) as session:
        outcome = score_lead(session=session, lead_id=lead_id)
        data: dict[str, Any] = {
            "lead_id": lead_id,
            "score": outcome.result.score,
            "band": outcome.result.band,
            "explanation": [item.as_dict() for item in outcome.result.items],
            "handoff_id": outcome.handoff.id if outcome.handoff else None,
            "needs_data": outcome.hold.reasons if outcome.hold else None,
        }
    if output_format == "json":
        echo_json(data)
        return
    click.echo(f"{data['score']} ({data['band']}): {outcome.result.explanation()}")
    if data["handoff_id"]:
        click.echo(f"hand-off {data['handoff_id']}")
    if data["needs_data"]:
        click.echo("needs data: " + ", ".join(f"{r['code']} {r['field']}" for r in data["needs_data"]))
