"""Data-movement commands: export parquet, backup, restore, migrate-store."""

from __future__ import annotations

from pathlib import Path

import click

from closedloop.cli.common import echo_json, open_store, settings


@click.group()
def export() -> None:
    """Export the store's data."""


@export.command("parquet")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table")
def export_parquet_command(directory: Path, output_format: str) -> None:
    """Write every table as Parquet under DIRECTORY, partitioned by month; re-runs add only new rows."""
    from closedloop.datamove.parquet import export_parquet

    open_store()
    reports = export_parquet(settings().database_url, directory)
    if output_format == "json":
        echo_json([r.__dict__ for r in reports])
        return
    for report in reports:
        click.echo(f"{report.table:<24} {report.rows:>10} rows  {report.mode}")


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup(file: Path) -> None:
    """Write a consistent backup of the store to FILE while it keeps serving."""
    from closedloop.datamove.backup import backup as run_backup

    open_store()
    run_backup(settings().database_url, file)
    click.echo(f"backup written to {file}")


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore(file: Path, yes: bool) -> None:
    """Replace the store's contents with the backup in FILE."""
    from closedloop.analytics import engine
    from closedloop.datamove.backup import restore as run_restore

    url = settings().database_url
    if not yes:
        click.confirm(f"Replace everything in {url} with {file}?", abort=True)
    engine.close(url)
    run_restore(url, file)
    click.echo(f"restored {file}")


@click.command("migrate-store")
@click.option("--to", "target_url", required=True, help="SQLAlchemy URL of the (empty) target store.")
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table")
def migrate_store(target_url: str, output_format: str) -> None:
    """Copy this store into another one (e.g. SQLite to PostgreSQL), verified by counts and checksums."""
    from closedloop.datamove.migrate import migrate_store as run_migrate
    from closedloop.db import make_engine
    from closedloop.store import engine_for

    open_store()
    target = make_engine(target_url)
    try:
        reports = run_migrate(engine_for(settings().database_url), target)
    finally:
        target.dispose()
    if output_format == "json":
        echo_json([r.__dict__ for r in reports])
        return
    for report in reports:
        click.echo(f"{report.table:<24} {report.rows:>10} rows  sha256 {report.checksum[:16]}  verified")
