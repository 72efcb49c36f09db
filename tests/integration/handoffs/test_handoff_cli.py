"""`closedloop lead ...` and `closedloop handoff ...` against a real store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from tests.integration.handoffs.handoff_world import World

from closedloop.cli.main import cli, main
from closedloop.config import get_settings


@pytest.fixture
def cli_store(store, monkeypatch):
    monkeypatch.setenv("CLOSEDLOOP_DATABASE_URL", store.url)
    get_settings.cache_clear()
    with store.session() as session:
        w = World(session)
        north = w.team("north", manager="boss@x.tw")
        w.user("amy@x.tw", team=north)
        recent = datetime.now(UTC) - timedelta(minutes=5)
        for _ in range(2):
            lead = w.lead(region="北區", created_at=recent)
            w.touch(lead, "form_submit", recent, landing_page="/demo")
        session.commit()
    yield store
    get_settings.cache_clear()


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_score_accept_qualify_reject_and_ledger(cli_store, capsys):
    code, out = run("lead", "score", "1", "--format", "json")
    assert code == 0
    scored = json.loads(out)
    assert scored["score"] == 25 and scored["handoff_id"] == 1
    assert run("lead", "score", "2")[0] == 0
    assert run("handoff", "activity", "1", "--type", "call", "--by", "amy@x.tw")[0] == 0
    code, out = run("handoff", "accept", "1", "--by", "amy@x.tw")
    assert code == 0 and "SAL" in out
    assert run("handoff", "qualify", "1", "--by", "amy@x.tw")[0] == 0
    assert run("handoff", "reject", "2", "--reason", "no_budget", "--by", "amy@x.tw")[0] == 0
    code, out = run("lead", "show", "1", "--format", "json")
    shown = json.loads(out)
    assert shown["stage"] == "sql"
    assert [e["to_stage"] for e in shown["events"]] == ["lead", "mql", "sal", "sql"]
    assert shown["created_at"].endswith("+08:00")
    code, out = run("handoff", "list", "--status", "rejected", "--format", "json")
    assert [(h["id"], h["rejection_reason"]) for h in json.loads(out)] == [(2, "no_budget")]
    code, out = run("handoff", "ledger", "--format", "json")
    lines = {line["commitment"]: line for line in json.loads(out)["lines"]}
    assert lines["mql_volume"]["actual"] == 2
    assert (lines["mql_to_sql_rate"]["numerator"], lines["mql_to_sql_rate"]["denominator"]) == (1, 2)
    code, out = run("handoff", "breaches", "--format", "json")
    assert json.loads(out) == {"breached": []}
    # A user error is one line on stderr and exit code 1.
    with pytest.raises(SystemExit) as leaving:
        main(["handoff", "reject", "2", "--reason", "spam"])
    assert leaving.value.code == 1
    assert capsys.readouterr().err.startswith("error: Hand-off 2 is rejected")
    with pytest.raises(SystemExit) as leaving:
        main(["lead", "stage", "1", "--to", "customer"])
    assert leaving.value.code == 1
