"""`closedloop demo`: load realistic synthetic data, print how to sign in, optionally serve it."""

from __future__ import annotations

import os
from datetime import date, datetime
from zoneinfo import ZoneInfo

import click

from closedloop.cli.common import settings
from closedloop.errors import ValidationFailed
from closedloop.i18n import normalise_language, translate

LOCAL_ONLY = "127.0.0.1"
SCALES = {"s": 10_000, "m": 100_000, "l": 1_000_000}
MIN_LEADS, MAX_LEADS = 100, 2_000_000


@click.command()
@click.option(
    "--scale",
    type=click.Choice(sorted(SCALES)),
    default=None,
    help="s: 10k leads, m: 100k, l: 1M (default s).",
)
@click.option("--leads", type=int, default=None, help="Exact number of leads (instead of --scale).")
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed and anchor: same data.")
@click.option(
    "--anchor",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Last day covered (default today).",
)
@click.option("--replace", is_flag=True, help="Clear the data tables of a store that already holds leads.")
@click.option("--serve", is_flag=True, help="Start the web app after loading.")
@click.option("--host", default=LOCAL_ONLY, show_default=True, help="Address to bind with --serve.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to bind with --serve.")
def demo(
    scale: str | None,
    leads: int | None,
    seed: int,
    anchor: datetime | None,
    replace: bool,
    serve: bool,
    host: str,
    port: int,
) -> None:
    """Load realistic synthetic data (two years of a B2B business) into the store."""
    from closedloop.demo.service import load_demo
    from closedloop.store import engine_for

    lang = normalise_language(os.environ.get("LC_ALL") or os.environ.get("LANG"))
    if scale and leads is not None:
        raise ValidationFailed(translate("demo.error.scale_and_leads", lang))
    count = leads if leads is not None else SCALES[scale or "s"]
    if not MIN_LEADS <= count <= MAX_LEADS:
        raise ValidationFailed(translate("demo.error.leads_range", lang, low=MIN_LEADS, high=MAX_LEADS))
    config = settings()
    if serve and not config.secret_key and host != LOCAL_ONLY:
        raise ValidationFailed(translate("demo.error.local_only", lang, host=host))
    day: date = anchor.date() if anchor else datetime.now(ZoneInfo("Asia/Taipei")).date()
    click.echo(
        translate("demo.generating", lang, leads=f"{count:,}", seed=seed, anchor=day.isoformat()), err=True
    )
    result = load_demo(
        engine=engine_for(config.database_url),
        leads=count,
        seed=seed,
        anchor=day,
        replace=replace,
        progress=True,
    )
    click.echo(
        translate(
            "cli.demo.loaded",
            lang,
            leads=f"{result.counts['leads']:,}",
            touchpoints=f"{result.counts['touchpoints']:,}",
            deals=f"{result.counts['deals']:,}",
            seconds=result.seconds,
        )
    )
    url = f"http://{host}:{port}"
    click.echo(translate("demo.login_header", lang, url=url, password=result.password))
    for role, email in result.logins.items():
        click.echo(f"  {translate(f'demo.role.{role}', lang):<20} {email}")
    if not serve:
        click.echo(translate("demo.start_server", lang))
        return
    from closedloop.cli.store import run_server

    click.echo(translate("demo.serving", lang, url=url))
    run_server(host=host, port=port, demo=True)
