"""The `closedloop` command: a lazy group, so `--help` never imports the heavy libraries.

Each command lives in its domain as `module:attribute`; a command whose module is not there
yet is simply absent. Exit codes (SPEC section 7): 0 success, 1 user error, 2 bad usage.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any

import click

# name -> (module, attribute, one-line help shown by `closedloop --help` without importing it)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": ("closedloop.cli.store", "init", "Create or upgrade the schema (migrations)."),
    "demo": ("closedloop.demo.cli", "demo", "Load realistic synthetic data into the store."),
    "serve": ("closedloop.cli.store", "serve", "Run the web app and API."),
    "worker": ("closedloop.outbox.cli", "worker", "Deliver the outbox and run schedules."),
    "notify": ("closedloop.notifications.cli", "notify", "Notification channels and subscriptions."),
    "integration": ("closedloop.integrations.cli", "integration", "Signed inbound webhooks."),
    "user": ("closedloop.users.cli", "user", "Manage users."),
    "apikey": ("closedloop.users.cli", "apikey", "Manage API keys."),
    "person": ("closedloop.users.person_cli", "person", "Personal-data export and erasure."),
    "site": ("closedloop.capture.cli", "site", "Register websites for capture."),
    "import": ("closedloop.imports.cli", "import_", "Import a CSV or XLSX file."),
    "quarantine": ("closedloop.quarantine.cli", "quarantine", "Rejected rows and events."),
    "lead": ("closedloop.leads.cli", "lead", "Work with leads and their lifecycle."),
    "handoff": ("closedloop.handoffs.cli", "handoff", "Hand-offs: accept, reject, qualify, SLA breaches, ledger."),
    "funnel": ("closedloop.analytics.spark_cli", "funnel", "The lifecycle waterfall."),
    "metrics": ("closedloop.analytics.spark_cli", "metrics", "Any metric of the shared scorecard."),
    "attribution": ("closedloop.analytics.spark_cli", "attribution", "Multi-touch attribution."),
    "plan": ("closedloop.analytics.cli", "plan", "Reverse waterfall: what a revenue target takes."),
    "score": ("closedloop.scoring.cli", "score", "Predictive lead scoring."),
    "churn": ("closedloop.scoring.cli", "churn", "Customer churn risk."),
    "export": ("closedloop.datamove.cli", "export", "Export the store's data (parquet)."),
    "backup": ("closedloop.datamove.cli", "backup", "Back up the store to a file."),
    "restore": ("closedloop.datamove.cli", "restore", "Restore the store from a backup."),
    "migrate-store": ("closedloop.datamove.cli", "migrate_store", "Copy this store into another one."),
    "report": ("closedloop.reports.cli", "report", "Review packs and closed-loop reports."),
}


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


class LazyGroup(click.Group):
    """A group that imports a command's module only when that command runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name, (module, _, _) in COMMANDS.items() if _module_exists(module))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None or not _module_exists(entry[0]):
            return None
        command = getattr(importlib.import_module(entry[0]), entry[1], None)
        if not isinstance(command, click.Command):
            return None
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="closedloop")
def cli() -> None:
    """closedloop: one shared record and one set of numbers for marketing and sales."""


def main(argv: list[str] | None = None) -> Any:
    """Entry point: run the CLI, mapping user errors to exit code 1 with a one-line summary."""
    from closedloop.errors import ClosedloopError

    try:
        return cli.main(args=argv, standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except ClosedloopError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
