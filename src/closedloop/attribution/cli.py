"""`closedloop attribution`: credits by model on the store's journeys or on a path table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from closedloop.cli.common import FORMAT_OPTION, echo_json, settings

MODEL_CHOICES = (
    "first_touch",
    "last_touch",
    "linear",
    "time_decay",
    "position_based",
    "w_shaped",
    "markov",
    "shapley",
)


@click.command("attribution")
@click.option("--model", type=click.Choice(MODEL_CHOICES), default="first_touch", show_default=True)
@click.option("--order", type=click.IntRange(1, 4), default=1, show_default=True, help="Markov order.")
@click.option(
    "--half-life", "half_life", type=float, default=7.0, show_default=True, help="Time-decay half life, days."
)
@click.option(
    "--lookback",
    type=click.IntRange(min=1),
    default=None,
    help="Days (default 365 for opportunity/won, else 90).",
)
@click.option(
    "--conversion",
    type=click.Choice(["lead", "mql", "sql", "opportunity", "won"]),
    default="won",
    show_default=True,
)
@click.option(
    "--by",
    type=click.Choice(["channel", "utm_source", "campaign", "utm_content"]),
    default="channel",
    show_default=True,
)
@click.option(
    "--paths",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Path table CSV.",
)
@click.option("--sep", default=">", show_default=True, help="Channel separator inside a path.")
@click.option("--delimiter", default=",", show_default=True, help="CSV delimiter of the path table.")
@click.option(
    "--bootstrap", type=click.IntRange(min=0), default=0, help="Resamples for confidence intervals."
)
@click.option("--compare", is_flag=True, help="Every model side by side, with the spread between them.")
@FORMAT_OPTION
def attribution(
    model: str,
    order: int,
    half_life: float,
    lookback: int | None,
    conversion: str,
    by: str,
    paths: Path | None,
    sep: str,
    delimiter: str,
    bootstrap: int,
    compare: bool,
    output_format: str,
) -> None:
    """Multi-touch attribution (SPEC section 6)."""
    from closedloop.attribution import journeys as store_journeys
    from closedloop.attribution.aggregated import journeys_for
    from closedloop.attribution.bootstrap import with_intervals
    from closedloop.attribution.compare import compare_models
    from closedloop.attribution.paths import read_path_table
    from closedloop.attribution.service import attribute, model_runner, to_document

    url = settings().database_url
    if paths is not None:
        data = read_path_table(paths, sep=sep, delimiter=delimiter)
        conversion_name = "path_table"
    else:
        from closedloop.cli.common import open_store

        open_store()
        if compare:
            data = store_journeys.build_journeys(url, conversion=conversion, by=by, lookback_days=lookback)
        else:  # only what the model reads (its credits are those of the full journeys)
            data = journeys_for(
                model, url, conversion=conversion, by=by, lookback_days=lookback, resampled=bool(bootstrap)
            )
        conversion_name = conversion
    currency = store_journeys.reporting_currency(url)
    if compare:
        _print_comparison(compare_models(data, order=order, half_life_days=half_life), output_format)
        return
    credits = attribute(data, model, order=order, half_life_days=half_life)
    if bootstrap:
        runner = model_runner(model, order=order, half_life_days=half_life)
        credits = with_intervals(data, runner, resamples=bootstrap, point=credits)
    document = to_document(credits, data, conversion=conversion_name, currency=currency)
    _print_credits(document, output_format)


def _print_credits(document: dict[str, Any], output_format: str) -> None:
    from closedloop.i18n import translate
    from closedloop.safe_csv import to_csv

    if output_format == "json":
        echo_json(document)
        return
    columns = ["key", "conversions", "value"]
    extra = [
        c
        for c in ("removal_effect", "low", "high", "value_low", "value_high")
        if document["credits"] and c in document["credits"][0]
    ]
    columns += extra
    rows = [[row[c] for c in columns] for row in document["credits"]]
    if output_format == "csv":
        click.echo(to_csv(columns, rows), nl=False)
        return
    click.echo(
        translate(
            "attribution.summary",
            model=translate(f"attribution.model.{document['model']}"),
            conversions=f"{document['total_conversions']:,.2f}",
            conversion=document["conversion"],
            value=f"{document['total_value']:,.2f}",
            currency=document["currency"],
        )
    )
    headings = {
        c: translate(f"attribution.heading.{c}")
        for c in ("key", "conversions", "value", "removal_effect", "low", "high")
    }
    headings["value_low"] = f"{headings['value']} {headings['low']}"
    headings["value_high"] = f"{headings['value']} {headings['high']}"
    _echo_table([headings[c] for c in columns], [[_fmt(v) for v in r] for r in rows])


def _print_comparison(comparison: Any, output_format: str) -> None:
    from closedloop.i18n import translate
    from closedloop.safe_csv import to_csv

    if output_format == "json":
        echo_json({"models": comparison.models, "rows": comparison.rows()})
        return
    header = ["key", *comparison.models, "spread", "cv"]
    rows = []
    for row in comparison.rows():
        rows.append(
            [row["key"], *(row["conversions"][m] for m in comparison.models), row["spread"], row["cv"]]
        )
    if output_format == "csv":
        click.echo(to_csv(header, rows), nl=False)
        return
    labels = [
        translate("attribution.heading.key"),
        *(translate(f"attribution.model.{m}") for m in comparison.models),
        translate("attribution.heading.spread"),
        translate("attribution.heading.cv"),
    ]
    _echo_table(labels, [[_fmt(v) for v in r] for r in rows])


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) >= 1 or value == 0 else f"{value:.4f}"
    return str(value)


def _echo_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [
        max(len(str(h)), *(len(r[i]) for r in rows)) if rows else len(str(h)) for i, h in enumerate(header)
    ]
    click.echo("  ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True)))
    for r in rows:
        click.echo(
            "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
        )
