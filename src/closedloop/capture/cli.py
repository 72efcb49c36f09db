"""`closedloop site`: register websites for capture and show their keys and snippets."""

from __future__ import annotations

from typing import Any

import click

from closedloop.cli.common import FORMAT_OPTION, echo_json, open_store
from closedloop.i18n import translate


def snippet_html(*, base_url: str, public_key: str) -> str:
    """The one-line HTML tag a site pastes into its pages."""
    base = base_url.rstrip("/")
    return f'<script async src="{base}/t/closedloop.js" data-site-key="{public_key}"></script>'


@click.group()
def site() -> None:
    """Register websites for capture (public key, allowed origins, snippet)."""


@site.command("create")
@click.option("--name", required=True, help="Site name.")
@click.option(
    "--origin",
    "origins",
    multiple=True,
    required=True,
    help="Allowed origin, e.g. https://www.example.com (repeatable).",
)
@click.option(
    "--base-url",
    default="http://127.0.0.1:8000",
    show_default=True,
    help="The public address of this closedloop server, as the site's visitors reach it.",
)
def create(name: str, origins: tuple[str, ...], base_url: str) -> None:
    """Register a site: prints its public site key, then the HTML snippet to paste."""
    import closedloop.models  # noqa: F401  (every table, so foreign keys resolve)
    from closedloop.capture import service
    from closedloop.db import unit_of_work

    with unit_of_work(open_store()) as session:
        row = service.create_site(session=session, name=name, origins=origins)
        key = row.public_key
    # stdout holds exactly the key and the snippet, each alone on its line; the labels go to stderr.
    click.echo(translate("capture.cli.site_key"), err=True)
    click.echo(key)
    click.echo(translate("capture.cli.snippet"), err=True)
    click.echo(snippet_html(base_url=base_url, public_key=key))


@site.command("list")
@FORMAT_OPTION
def list_(output_format: str) -> None:
    """List registered sites with their keys and allowed origins."""
    import closedloop.models  # noqa: F401
    from closedloop.capture import service

    with open_store()() as session:
        rows: list[dict[str, Any]] = [
            {
                "id": s.id,
                "name": s.name,
                "public_key": s.public_key,
                "origins": list(s.origins or []),
                "active": s.is_active,
            }
            for s in service.list_sites(session=session)
        ]
    if output_format == "json":
        echo_json({"sites": rows})
        return
    if output_format == "csv":
        import csv
        import sys

        writer = csv.writer(sys.stdout)
        writer.writerow(["id", "name", "public_key", "origins"])
        for r in rows:
            writer.writerow([r["id"], r["name"], r["public_key"], " ".join(r["origins"])])
        return
    if not rows:
        click.echo(translate("capture.cli.no_sites"))
        return
    header = [translate(f"capture.cli.col_{c}") for c in ("id", "name", "key", "origins")]
    click.echo("\t".join(header))
    for r in rows:
        click.echo(f"{r['id']}\t{r['name']}\t{r['public_key']}\t{' '.join(r['origins'])}")
