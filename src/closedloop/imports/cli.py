"""`closedloop import KIND FILE`: one job, all rows or none, with a row-level error report."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import IO, Any

import click

from closedloop.imports.presets import KINDS, PRESET_NAMES


@click.command("import")
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--preset",
    type=click.Choice(PRESET_NAMES),
    default="auto",
    show_default=True,
    help="Column mapping; auto recognises it from the header.",
)
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option("--skip-invalid", is_flag=True, help="Import the valid rows; keep rejected ones in quarantine.")
@click.option(
    "--errors",
    "errors_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the row-level error report (CSV) to this file.",
)
@click.option(
    "--period-start", type=click.DateTime(formats=["%Y-%m-%d"]), help="Report period start (spend)."
)
@click.option("--period-end", type=click.DateTime(formats=["%Y-%m-%d"]), help="Report period end (spend).")
@click.option("--force", is_flag=True, help="Process a file even if this exact file was imported before.")
@click.option(
    "--format", "output_format", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.option("--lang", default="en", show_default=True, help="Language of the report: en, zh-TW, zh-CN.")
def import_(
    kind: str,
    file: Path,
    preset: str,
    dry_run: bool,
    skip_invalid: bool,
    errors_file: Path | None,
    period_start: Any,
    period_end: Any,
    force: bool,
    output_format: str,
    lang: str,
) -> None:
    """Import a CSV or XLSX file of KIND (SPEC section 7)."""
    from closedloop.cli.common import echo_json, open_store
    from closedloop.errors import ValidationFailed
    from closedloop.i18n import translate
    from closedloop.imports.reasons import translate_reason
    from closedloop.imports.report import RowError, render_table
    from closedloop.imports.service import import_file
    from closedloop.users.actor import Actor

    handle: IO[str] | None = None
    writer: Any = None
    if errors_file is not None:
        handle = errors_file.open("w", encoding="utf-8-sig", newline="")
        writer = csv.writer(handle)
        writer.writerow(["row", "column", "value", "reason"])

    def on_error(error: RowError) -> None:
        if writer is not None:
            from closedloop.safe_csv import neutralise

            reason = translate_reason(error.reason, lang)
            writer.writerow([error.row, error.column or "", neutralise(error.value or ""), reason])

    factory = open_store()
    actor = Actor(user_id=None, role="admin", via="import")
    try:
        report = import_file(
            session_factory=factory,
            kind=kind,
            path=file,
            actor=actor,
            preset=preset,
            dry_run=dry_run,
            skip_invalid=skip_invalid,
            period_start=period_start.date() if period_start else None,
            period_end=period_end.date() if period_end else None,
            force=force,
            progress=True,
            on_error=on_error,
        )
    finally:
        if handle is not None:
            handle.close()
    shown = report
    if errors_file is not None:
        from dataclasses import replace

        shown = replace(report, errors=[])
    if output_format == "json":
        data = report.as_dict()
        for error in data["errors"]:
            error["reason"] = translate_reason(error["reason"], lang)
        if errors_file is not None:
            data["errors"] = []
            data["errors_file"] = str(errors_file)
        echo_json(data)
    else:
        click.echo(render_table(shown, lang))
    first = report.first_error()
    if first is not None:
        key = "imports.failed_summary" if report.failed else "imports.skipped_summary"
        summary = translate(
            key,
            lang,
            n=len(report.rejected_rows),
            row=first.row,
            column=first.column or "-",
            reason=translate_reason(first.reason, lang),
        )
        if report.failed and not dry_run:
            raise ValidationFailed(summary, detail={"row": first.row, "column": first.column})
        click.echo(summary, err=True)
        if report.failed:
            raise SystemExit(1)
