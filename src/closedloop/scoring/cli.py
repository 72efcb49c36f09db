"""`closedloop score train|apply|explain|rollback|drift` and `closedloop churn train|apply|explain`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import click

import closedloop.models  # noqa: F401 - every table registered before the first flush
from closedloop.cli.common import echo_json, open_store

FORMAT = click.option(
    "--format", "output_format", type=click.Choice(["table", "json"]), default="table", show_default=True,
    help="Output format.",
)  # fmt: skip
LANG = click.option("--lang", type=click.Choice(["en", "zh-TW", "zh-CN"]), default="en", show_default=True)
BY = click.option(
    "--by", "by_email", default=None, help="Email of the person doing it (default: the system)."
)


def _as_of(session: Any, value: str | None) -> datetime | None:
    """An ISO moment, or an inclusive local date (its end in the reporting time zone)."""
    if not value:
        return None
    from zoneinfo import ZoneInfo

    from closedloop.errors import ValidationFailed
    from closedloop.workspace.models import WorkspaceSettings

    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValidationFailed(f"--as-of: {value!r} is not an ISO date") from exc
    zone = ZoneInfo(session.get(WorkspaceSettings, 1).reporting_time_zone)
    if len(value) == 10:
        return moment.replace(tzinfo=zone) + timedelta(days=1)
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _print_evaluation(summary: dict[str, Any], output_format: str) -> None:
    from closedloop.i18n import translate

    if output_format == "json":
        echo_json(summary)
        return
    for key in (
        "model_version",
        "target",
        "n_train",
        "n_test",
        "base_rate",
        "auc",
        "log_loss",
        "brier",
        "brier_uncalibrated",
        "baseline_auc",
        "naive_bayes_auc",
        "lift_top_decile",
        "calibration_slope",
    ):
        value = summary.get(key)
        click.echo(f"{key:20} {value:.4f}" if isinstance(value, float) else f"{key:20} {value}")
    click.echo("\ncalibration (deciles of predicted probability, lowest first)")
    click.echo("decile  n       predicted  observed")
    for cal in summary.get("calibration") or []:
        click.echo(f"{cal['decile']:<7} {cal['n']:<7} {cal['predicted']:<10.3f} {cal['observed']:.3f}")
    click.echo("\nlift and capture (deciles of score, highest first)")
    click.echo("decile  n       rate    lift   capture")
    for row in summary.get("lift") or []:
        click.echo(f"{row['decile']:<7} {row['n']:<7} {row['rate']:<7.3f} {(row['lift'] or 0):<6.2f} "
                   f"{row['capture']:.3f}")  # fmt: skip
    if summary.get("warning"):
        click.echo(translate(summary["warning"]), err=True)


@click.group()
def score() -> None:
    """Predictive lead scoring: advisory win probability with its evaluation and explanations."""


@score.command("train")
@click.option("--target", type=click.Choice(["won", "sql"]), default="won", show_default=True)
@click.option("--as-of", "as_of", default=None, help="Train on what was known then (date or ISO time).")
@click.option("--horizon", "horizon_days", type=int, default=180, show_default=True,
              help="Days after which an open lead counts as not converted.")  # fmt: skip
@BY
@FORMAT
def train_(
    target: str, as_of: str | None, horizon_days: int, by_email: str | None, output_format: str
) -> None:
    """Train a lead model and print its evaluation against the baselines."""
    from closedloop.db import unit_of_work
    from closedloop.leads.cli import actor_for
    from closedloop.predictive import registry, service

    with unit_of_work(open_store()) as session:
        model = service.train_lead_model(session=session, actor=actor_for(session, by_email), target=target,
                                         as_of=_as_of(session, as_of), horizon_days=horizon_days)  # fmt: skip
        summary = registry.summary(model)
    _print_evaluation(summary, output_format)


@score.command("apply")
@click.option("--target", type=click.Choice(["won", "sql"]), default="won", show_default=True)
@FORMAT
def apply_(target: str, output_format: str) -> None:
    """Score every open lead with the active model (advisory: stages never change)."""
    from closedloop.db import unit_of_work
    from closedloop.i18n import translate
    from closedloop.predictive import service

    with unit_of_work(open_store()) as session:
        result = service.apply_lead_model(session=session, target=target)
    if output_format == "json":
        echo_json(result)
    else:
        click.echo(translate("predictive.cli.scored", scored=result["scored"], version=result["model_version"],
                             seconds=result["seconds"]))  # fmt: skip


def _print_explanation(result: dict[str, Any], lang: str, output_format: str) -> None:
    from closedloop.i18n import translate

    if output_format == "json":
        echo_json(result)
        return
    click.echo(result["summary"])
    for heading, key in (
        ("predictive.explain.pushing_up", "up"),
        ("predictive.explain.pushing_down", "down"),
    ):
        click.echo(f"\n{translate(heading, lang)}:")
        for factor in result[key]:
            click.echo(f"  {factor['text']}")
    click.echo(f"\n{result['advisory']}")


@score.command("explain")
@click.argument("lead_id", type=int)
@click.option("--target", type=click.Choice(["won", "sql"]), default="won", show_default=True)
@LANG
@FORMAT
def explain_(lead_id: int, target: str, lang: str, output_format: str) -> None:
    """Why a lead gets its predicted probability: the top factors up and down."""
    from closedloop.predictive import service

    with open_store()() as session:
        result = service.explain_lead(session=session, lead_id=lead_id, target=target, lang=lang)
    _print_explanation(result, lang, output_format)


@score.command("rollback")
@click.option("--target", type=click.Choice(["won", "sql"]), default="won", show_default=True)
@click.option("--to", "to_version", default=None, help="A version (default: the one before the active one).")
@BY
def rollback_(target: str, to_version: str | None, by_email: str | None) -> None:
    """Make an earlier model version the active one."""
    from closedloop.db import unit_of_work
    from closedloop.i18n import translate
    from closedloop.leads.cli import actor_for
    from closedloop.predictive import registry

    with unit_of_work(open_store()) as session:
        row = registry.rollback(session=session, kind="lead", target=target, to_version=to_version,
                                actor=actor_for(session, by_email))  # fmt: skip
        click.echo(translate("predictive.cli.rolled_back", target=target, version=row.version))


@score.command("drift")
@click.option("--target", type=click.Choice(["won", "sql"]), default="won", show_default=True)
def drift_(target: str) -> None:
    """Score distribution and calibration drift of the active model (alerts through the outbox)."""
    from closedloop.db import unit_of_work
    from closedloop.predictive import service

    with unit_of_work(open_store()) as session:
        echo_json(service.check_drift(session=session, target=target))


@click.group()
def churn() -> None:
    """Customer churn risk: a monthly churn probability per account, with its evaluation."""


@churn.command("train")
@click.option("--as-of", "as_of", default=None, help="Train on what was known then (date or ISO time).")
@BY
@FORMAT
def churn_train(as_of: str | None, by_email: str | None, output_format: str) -> None:
    """Train the churn model and print its evaluation."""
    from closedloop.db import unit_of_work
    from closedloop.leads.cli import actor_for
    from closedloop.predictive import registry, service

    with unit_of_work(open_store()) as session:
        model = service.train_churn_model(session=session, actor=actor_for(session, by_email),
                                          as_of=_as_of(session, as_of))  # fmt: skip
        summary = registry.summary(model)
    _print_evaluation(summary, output_format)


@churn.command("apply")
@FORMAT
def churn_apply(output_format: str) -> None:
    """Score every active customer account's monthly churn probability."""
    from closedloop.db import unit_of_work
    from closedloop.predictive import service

    with unit_of_work(open_store()) as session:
        result = service.apply_churn_model(session=session)
    if output_format == "json":
        echo_json(result)
    else:
        for key, value in result.items():
            click.echo(f"{key:18} {value}")


@churn.command("explain")
@click.argument("account_id", type=int)
@LANG
@FORMAT
def churn_explain(account_id: int, lang: str, output_format: str) -> None:
    """Why an account gets its churn probability."""
    from closedloop.predictive import service

    with open_store()() as session:
        result = service.explain_account(session=session, account_id=account_id, lang=lang)
    _print_explanation(result, lang, output_format)
