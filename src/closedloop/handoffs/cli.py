"""`closedloop handoff ...`: the hand-off queue, sales' answers, SLA breaches and the two-sided ledger."""

from __future__ import annotations

import time as time_module
from datetime import date, datetime, timedelta
from typing import Any

import click

import closedloop.models  # noqa: F401 - every table registered before the first flush
from closedloop.cli.common import FORMAT_OPTION, echo_json, open_store
from closedloop.leads.cli import BY_OPTION, actor_for, local_row, reporting_zone


def _emit(rows: list[dict[str, Any]], output_format: str) -> None:
    from closedloop.i18n import translate
    from closedloop.safe_csv import to_csv

    if output_format == "json":
        echo_json(rows)
    elif output_format == "csv":
        header = list(rows[0]) if rows else []
        click.echo(to_csv(header, [list(r.values()) for r in rows]), nl=False)
    elif not rows:
        click.echo(translate("handoff.cli.none"))
    else:
        for row in rows:
            click.echo("  ".join(f"{k}={'' if v is None else v}" for k, v in row.items()))


@click.group()
def handoff() -> None:
    """Hand-offs from marketing to sales: the queue, accept/reject/qualify, SLA breaches, the ledger."""


@handoff.command("list")
@click.option("--status", type=click.Choice(["open", "accepted", "rejected", "closed"]), default=None)
@click.option("--team", default=None, help="Team name.")
@click.option("--owner", default=None, help="Owner email.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=200, show_default=True)
@FORMAT_OPTION
def list_(status: str | None, team: str | None, owner: str | None, limit: int, output_format: str) -> None:
    """List hand-offs, newest first."""
    from closedloop.handoffs import service

    with open_store()() as session:
        team_id = _team_id(session, team)
        owner_id = actor_for(session, owner).user_id if owner else None
        zone = reporting_zone(session)
        rows = [
            local_row(
                h,
                (
                    "id",
                    "lead_id",
                    "owner_id",
                    "team_id",
                    "status",
                    "assigned_at",
                    "sla_due_at",
                    "first_response_at",
                    "sla_met",
                    "breached_at",
                    "rejection_reason",
                ),
                zone,
            )
            for h in service.list_handoffs(
                session, status=status, team_id=team_id, owner_id=owner_id, limit=limit
            )
        ]
    _emit(rows, output_format)


def _period(
    session: Any, from_date: datetime | None, to_date: datetime | None, now: datetime
) -> tuple[datetime, datetime, str]:
    """[start, end) of inclusive local dates in the reporting zone (default: this month to today)."""
    zone = reporting_zone(session)
    today = now.astimezone(zone).date()
    first: date = from_date.date() if from_date else today.replace(day=1)
    last: date = to_date.date() if to_date else today
    start = datetime.combine(first, datetime.min.time(), tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    return start, end, zone.key


def _team_id(session: Any, name: str | None) -> int | None:
    if name is None:
        return None
    from sqlalchemy import select

    from closedloop.errors import NotFound
    from closedloop.users.models import Team

    team_id = session.scalar(select(Team.id).where(Team.name == name))
    if team_id is None:
        raise NotFound(f"team {name!r} not found")
    return int(team_id)


@handoff.command("accept")
@click.argument("handoff_id", type=int)
@BY_OPTION
def accept(handoff_id: int, by_email: str | None) -> None:
    """Accept a hand-off: the lead becomes an SAL."""
    from closedloop.db import unit_of_work
    from closedloop.handoffs import service
    from closedloop.i18n import translate

    with unit_of_work(open_store()) as session:
        row = service.accept(session=session, handoff_id=handoff_id, actor=actor_for(session, by_email))
        click.echo(translate("handoff.cli.accepted", id=row.id, lead=row.lead_id))


@handoff.command("reject")
@click.argument("handoff_id", type=int)
@click.option("--reason", required=True, help="Reason code: wrong_fit, no_budget, ..., spam, other.")
@click.option("--text", default=None, help="Explanation (required with 'other').")
@click.option(
    "--to",
    "to_stage",
    type=click.Choice(["recycled", "disqualified"]),
    default=None,
    help="Override where the lead goes (default follows the reason).",
)
@BY_OPTION
def reject(
    handoff_id: int, reason: str, text: str | None, to_stage: str | None, by_email: str | None
) -> None:
    """Reject a hand-off with a reason: the lead goes back to nurture or is disqualified."""
    from closedloop.db import unit_of_work
    from closedloop.handoffs import service
    from closedloop.i18n import translate
    from closedloop.leads.models import Lead

    with unit_of_work(open_store()) as session:
        row = service.reject(
            session=session,
            handoff_id=handoff_id,
            reason=reason,
            text=text,
            to_stage=to_stage,
            actor=actor_for(session, by_email),
        )
        lead = session.get(Lead, row.lead_id)
        stage = lead.stage if lead is not None else ""
        click.echo(translate("handoff.cli.rejected", id=row.id, reason=reason, lead=row.lead_id, stage=stage))


@handoff.command("qualify")
@click.argument("handoff_id", type=int)
@BY_OPTION
def qualify(handoff_id: int, by_email: str | None) -> None:
    """Qualify the hand-off's lead: it becomes an SQL."""
    from closedloop.db import unit_of_work
    from closedloop.handoffs import service
    from closedloop.i18n import translate

    with unit_of_work(open_store()) as session:
        row = service.qualify(session=session, handoff_id=handoff_id, actor=actor_for(session, by_email))
        click.echo(translate("handoff.cli.qualified", id=row.id, lead=row.lead_id))


@handoff.command("breaches")
@click.option(
    "--every",
    "every_seconds",
    type=click.FloatRange(min=1),
    default=None,
    help="Keep running, checking every N seconds (a worker); default: check once.",
)
@FORMAT_OPTION
def breaches(every_seconds: float | None, output_format: str) -> None:
    """Detect SLA breaches now: mark them and escalate each once to the team's managers."""
    from closedloop.db import unit_of_work
    from closedloop.handoffs import service
    from closedloop.i18n import translate

    factory = open_store()
    while True:
        with unit_of_work(factory) as session:
            found = service.detect_breaches(session)
        if output_format == "json":
            echo_json({"breached": found})
        else:
            click.echo(translate("handoff.cli.breaches", count=len(found)))
        if every_seconds is None:
            return
        time_module.sleep(every_seconds)


@handoff.command("needs-data")
@FORMAT_OPTION
def needs_data(output_format: str) -> None:
    """Leads held at the data-quality gate, with the reasons."""
    from closedloop.handoffs import quality

    with open_store()() as session:
        zone = reporting_zone(session)
        rows = [
            {
                "lead_id": h.lead_id,
                "held_at": h.held_at.astimezone(zone).isoformat(),
                "trigger": h.trigger,
                "reasons": "; ".join(f"{r['code']} {r['field']}" for r in h.reasons)
                if output_format != "json"
                else h.reasons,
            }
            for h in quality.needs_data(session)
        ]
    _emit(rows, output_format)


@handoff.command("activity")
@click.argument("lead_id", type=int)
@click.option(
    "--type",
    "kind",
    required=True,
    type=click.Choice(["call", "email", "meeting", "line_message", "wechat_message", "note"]),
)
@click.option("--notes", default=None)
@click.option("--deal", "deal_id", type=int, default=None, help="The deal it belongs to, if any.")
@BY_OPTION
def activity(lead_id: int, kind: str, notes: str | None, deal_id: int | None, by_email: str | None) -> None:
    """Log a sales activity on a lead (it answers the lead's hand-off)."""
    from closedloop.db import unit_of_work
    from closedloop.handoffs.activities import log_activity

    with unit_of_work(open_store()) as session:
        row = log_activity(
            session=session,
            lead_id=lead_id,
            deal_id=deal_id,
            type=kind,
            notes=notes,
            actor=actor_for(session, by_email),
        )
        click.echo(f"activity {row.id} recorded at {row.recorded_at.isoformat()}")


@handoff.command("ledger")
@click.option(
    "--from",
    "from_date",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="First local date (default: the first of this month).",
)
@click.option(
    "--to",
    "to_date",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Last local date, inclusive (default: today).",
)
@click.option("--team", default=None, help="Team name (default: every team).")
@click.option("--lang", type=click.Choice(["en", "zh-TW", "zh-CN"]), default="en", show_default=True)
@FORMAT_OPTION
def ledger(
    from_date: datetime | None, to_date: datetime | None, team: str | None, lang: str, output_format: str
) -> None:
    """The two-sided SLA ledger: marketing's and sales' commitments, actual against target, breaches."""
    from closedloop.clock import system_clock
    from closedloop.handoffs.ledger import sla_ledger
    from closedloop.i18n import translate

    now = system_clock()
    with open_store()() as session:
        start, end, zone_name = _period(session, from_date, to_date, now)
        result = sla_ledger(
            session=session,
            period_start=start,
            period_end=end,
            as_of=now,
            team_id=_team_id(session, team),
            time_zone=zone_name,
        )
    if output_format == "json":
        echo_json(result.as_dict())
        return
    rows = []
    for line in result.lines:
        verdict = "" if line.met is None else translate("ledger.met" if line.met else "ledger.missed", lang)
        rows.append(
            {
                "side": translate(f"ledger.side.{line.side}", lang),
                "commitment": translate(f"ledger.{line.name}", lang),
                "actual": None if line.actual is None else round(line.actual, 4),
                "target": line.target,
                "numerator": line.numerator,
                "denominator": line.denominator,
                "met": verdict,
                "breaches": len(line.breaches),
            }
        )
    _emit(rows, output_format)


@handoff.command("rejections")
@click.option(
    "--from", "from_date", type=click.DateTime(["%Y-%m-%d"]), default=None, help="First local date."
)
@click.option("--to", "to_date", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Last local date.")
@click.option(
    "--by",
    "dims",
    multiple=True,
    type=click.Choice(["source_type", "channel", "campaign", "utm_source", "region", "owner", "team"]),
    help="Group by (repeatable).",
)
@click.option("--team", default=None, help="Team name (default: every team).")
@FORMAT_OPTION
def rejections(
    from_date: datetime | None,
    to_date: datetime | None,
    dims: tuple[str, ...],
    team: str | None,
    output_format: str,
) -> None:
    """Sales' rejections flowing back to marketing: rate and reason mix by source, channel, campaign."""
    from closedloop.clock import system_clock
    from closedloop.handoffs.ledger import rejections as breakdown

    with open_store()() as session:
        start, end, _ = _period(session, from_date, to_date, system_clock())
        rows = breakdown(
            session=session, period_start=start, period_end=end, by=dims, team_id=_team_id(session, team)
        )
    if output_format != "json":
        rows = [
            {
                **r["group"],
                "handed_off": r["handed_off"],
                "rejected": r["rejected"],
                "rejection_rate": None if r["rejection_rate"] is None else round(r["rejection_rate"], 4),
                "reasons": "; ".join(f"{k}={v}" for k, v in sorted(r["reasons"].items())),
            }
            for r in rows
        ]
    _emit(rows, output_format)
