"""`closedloop funnel` and `closedloop metrics` (SPEC section 7)."""

from __future__ import annotations

from typing import Any

import click

from closedloop.cli.common import FORMAT_OPTION, echo_json, open_store, settings
from closedloop.i18n import translate

LANG_OPTION = click.option(
    "--lang",
    type=click.Choice(["en", "zh-TW", "zh-CN"]),
    default="en",
    show_default=True,
    help="Language of table headers.",
)


def _slicing(options: dict[str, Any]) -> dict[str, Any]:
    return {
        "date_from": options["date_from"],
        "date_to": options["date_to"],
        "as_of": options["as_of"],
        "by": tuple(options["by"]),
        "where": tuple(options["where"]),
        "window": options["window"],
    }


def _common(f: Any) -> Any:
    for decorator in reversed(
        (
            click.option("--by", multiple=True, metavar="DIM", help="Group by a dimension (repeatable)."),
            click.option(
                "--where", multiple=True, metavar="DIM=V", help="Keep rows where DIM is V (repeatable)."
            ),
            click.option(
                "--from",
                "date_from",
                metavar="DATE",
                help="First local date of the period (inclusive), or a fiscal period such as FY2026-Q2.",
            ),
            click.option(
                "--to",
                "date_to",
                metavar="DATE",
                help="Last local date of the period (inclusive), or a fiscal period.",
            ),
            click.option(
                "--as-of", "as_of", metavar="T", help="Count only events at or before T (default now)."
            ),
            click.option(
                "--window", type=int, default=None, help="Cohort maturity window in days (default 90)."
            ),
            FORMAT_OPTION,
            LANG_OPTION,
        )
    ):
        f = decorator(f)
    return f


@click.command()
@click.option("--stages", default=None, help="Comma-separated main-line stages (default lead..customer).")
@click.option("--mode", type=click.Choice(["cohort", "period"]), default="cohort", show_default=True)
@_common
def funnel(stages: str | None, mode: str, output_format: str, lang: str, **options: Any) -> None:
    """The lifecycle waterfall, by any dimensions."""
    from closedloop.analytics import api

    open_store()
    result = api.funnel(settings().database_url, stages=stages, mode=mode, **_slicing(options))
    by = list(options["by"])
    rate_keys = list(result["rows"][0]["rates"]) if result["rows"] else []
    header = [
        *by,
        *result["stages"],
        *(f"{k} {p}" for k in rate_keys for p in ("value", "low", "high")),
        "immature",
    ]
    rows = []
    for row in result["rows"]:
        rates = [row["rates"][k][p] for k in rate_keys for p in ("value", "low", "high")]
        rows.append([*(row["group"][d] for d in by), *row["counts"].values(), *rates, row["immature"]])
    _emit(result, header, rows, output_format, lang)


@click.command()
@click.argument("names", nargs=-1, required=True)
@click.option("--from-stage", default=None, help="From stage (conversion, velocity, stage_count).")
@click.option("--to-stage", default=None, help="To stage (conversion, velocity).")
@click.option(
    "--model",
    default="first_touch",
    show_default=True,
    help="Attribution model crediting channels and campaigns in cac, roi, roas and cost per lead/MQL/SQL.",
)
@_common
def metrics(
    names: tuple[str, ...],
    from_stage: str | None,
    to_stage: str | None,
    model: str,
    output_format: str,
    lang: str,
    **options: Any,
) -> None:
    """Any metric of the shared scorecard."""
    from closedloop.analytics import api

    open_store()
    result = api.metrics(
        settings().database_url,
        list(names),
        from_stage=from_stage,
        to_stage=to_stage,
        model=model,
        **_slicing(options),
    )
    by = list(options["by"])
    keys = ["value", "unit", "currency", "numerator", "denominator", "low", "high", "immature"]
    header = ["metric", *by, *keys]
    rows = [
        [r["metric"], *(r["group"].get(d) for d in by), *(r.get(k) for k in keys)] for r in result["results"]
    ]
    _emit(result, header, rows, output_format, lang)


def _emit(
    result: dict[str, Any], header: list[str], rows: list[list[Any]], output_format: str, lang: str
) -> None:
    if output_format == "json":
        echo_json(result)
        return
    if output_format == "csv":
        from closedloop.safe_csv import to_csv

        click.echo(to_csv(header, rows), nl=False)
        return
    click.echo(translate("analytics.as_of", lang, as_of=result["as_of"]))
    cells = [[_cell(v) for v in row] for row in [header, *rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    for row in cells:
        click.echo(
            "  ".join(c.rjust(w) if c[:1].isdigit() else c.ljust(w) for c, w in zip(row, widths, strict=True))
        )


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 10 else f"{value:,.2f}"
    return str(value)


@click.command()
@click.option("--target", type=float, required=True, help="Revenue target in the reporting currency.")
@click.option(
    "--from", "date_from", required=True, metavar="DATE", help="First local date of the plan period."
)
@click.option("--to", "date_to", required=True, metavar="DATE", help="Last local date of the plan period.")
@click.option(
    "--basis-from", default=None, metavar="DATE", help="Measure from this date (default: 365 days back)."
)
@click.option(
    "--basis-to", default=None, metavar="DATE", help="Measure up to this date (default: the as-of date)."
)
@click.option("--as-of", "as_of", metavar="T", help="Measure with what was known at T (default now).")
@FORMAT_OPTION
@LANG_OPTION
def plan(
    target: float,
    date_from: str,
    date_to: str,
    basis_from: str | None,
    basis_to: str | None,
    as_of: str | None,
    output_format: str,
    lang: str,
) -> None:
    """Reverse waterfall: the leads, MQLs, SQLs, opportunities and budget a revenue target takes."""
    from closedloop.analytics import plan as plan_mod

    open_store()
    result = plan_mod.plan(settings().database_url, target=target, date_from=date_from, date_to=date_to,
                           basis_from=basis_from, basis_to=basis_to, as_of=as_of)  # fmt: skip
    stages = list(result["required"])
    header = ["month", "revenue", *stages, "leads_by"]
    rows = [[m["month"], m["revenue"], *(m[s] for s in stages), m["leads_by"]] for m in result["per_month"]]
    rows.append(["total", result["target"], *(result["required"][s] for s in stages), ""])
    if output_format == "json":
        echo_json(result)
        return
    if output_format == "csv":
        from closedloop.safe_csv import to_csv

        channel_rows = [
            [f"channel:{c['channel']}", c["budget"], *([""] * len(stages)), ""] for c in result["channels"]
        ]
        click.echo(to_csv(header, rows + channel_rows), nl=False)
        return
    heading = translate("analytics.plan.heading", lang, target=_cell(result["target"]), currency=result["currency"],
                        start=result["period"]["from"], end=result["period"]["to"], basis_from=result["basis"]["from"],
                        basis_to=result["basis"]["to"], days=round(result["lead_time_days"]))  # fmt: skip
    click.echo(heading)
    _table(header, rows)
    click.echo("")
    _table(
        ["channel", "share", "leads", "cpl", "budget"],
        [[c["channel"], c["share"], c["leads"], c["cpl"], c["budget"]] for c in result["channels"]],
    )
    click.echo(
        translate("analytics.plan.budget", lang, budget=_cell(result["budget"]), currency=result["currency"])
    )


def _table(header: list[str], rows: list[list[Any]]) -> None:
    cells = [[_cell(v) for v in row] for row in [header, *rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    for row in cells:
        click.echo(
            "  ".join(c.rjust(w) if c[:1].isdigit() else c.ljust(w) for c, w in zip(row, widths, strict=True))
        )
