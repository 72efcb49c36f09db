"""`closedloop report weekly|monthly|glossary|sla-agreement --format html|pdf --lang L --out FILE`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from closedloop.cli.common import open_store, settings
from closedloop.errors import ValidationFailed
from closedloop.i18n import translate

LANGS = ("en", "zh-TW", "zh-CN")


def _options(f: Any) -> Any:
    for decorator in reversed((
        click.option("--format", "output_format", type=click.Choice(["html", "pdf"]), default="html",
                     show_default=True, help="Output format."),
        click.option("--lang", type=click.Choice(LANGS), default="en", show_default=True,
                     help="The recipient's language."),
        click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="File to write."),
        click.option("--as-of", "as_of", metavar="T", help="Freeze the numbers at T (default now)."),
    )):  # fmt: skip
        f = decorator(f)
    return f


def _write(path: str, data: bytes, lang: str) -> None:
    try:
        Path(path).write_bytes(data)
    except OSError as exc:
        raise ValidationFailed(
            translate("reports.error.out", lang, path=path, error=exc.strerror or exc)
        ) from exc
    click.echo(translate("reports.cli.written", lang, path=path))


@click.group()
def report() -> None:
    """Review packs, the closed-loop report, the glossary and the SLA agreement."""


def _pack(kind: str, output_format: str, lang: str, out: str, as_of: str | None) -> None:
    from closedloop.reports.service import render_pack

    factory = open_store()
    with factory() as session:
        data, _ = render_pack(settings().database_url, session=session, kind=kind, lang=lang,
                              output_format=output_format, as_of=as_of)  # fmt: skip
    _write(out, data, lang)


@report.command()
@_options
def weekly(output_format: str, lang: str, out: str, as_of: str | None) -> None:
    """The weekly review pack: last complete ISO week, agenda, SLA, goals, action items."""
    _pack("weekly", output_format, lang, out, as_of)


@report.command()
@_options
def monthly(output_format: str, lang: str, out: str, as_of: str | None) -> None:
    """The monthly closed-loop report: last complete calendar month."""
    _pack("monthly", output_format, lang, out, as_of)


@report.command()
@_options
def glossary(output_format: str, lang: str, out: str, as_of: str | None) -> None:
    """The glossary and "how we work" page: stages, metrics, rejection reasons, SLA terms."""
    from closedloop.reports.service import render_glossary

    factory = open_store()
    with factory() as session:
        data = render_glossary(settings().database_url, session=session, lang=lang, output_format=output_format,
                               as_of=as_of)  # fmt: skip
    _write(out, data, lang)


@report.command("sla-agreement")
@_options
def sla_agreement(output_format: str, lang: str, out: str, as_of: str | None) -> None:
    """The printable one-page SLA agreement between marketing and sales, with the targets in force."""
    from closedloop.reports.service import render_sla_agreement

    factory = open_store()
    with factory() as session:
        data = render_sla_agreement(settings().database_url, session=session, lang=lang,
                                    output_format=output_format, as_of=as_of)  # fmt: skip
    _write(out, data, lang)
