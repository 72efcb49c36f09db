"""Quarantine: rejected rows are kept, fixed and replayed; the CLI speaks the contract."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from closedloop.cli.main import cli
from closedloop.db import unit_of_work
from closedloop.errors import Conflict
from closedloop.leads.models import Lead
from closedloop.quarantine import service
from closedloop.quarantine.models import QuarantinedRecord
from closedloop.users.actor import Actor

ADMIN = Actor(user_id=None, role="admin", via="cli")
ROWS = [["external_id", "email", "created_at"], ["Q1", "ok@example.com", "2025-01-01"],
        ["Q2", "broken@", "2025-01-02"], ["Q3", "", "yesterday"]]  # fmt: skip


def test_fix_and_replay(store, run_file, csv_file) -> None:
    report = run_file("leads", csv_file("leads.csv", ROWS), skip_invalid=True)
    assert report.inserted == 1 and sorted(report.rejected_rows) == [3, 4]
    with unit_of_work(store.session_factory) as session:
        records, total = service.list_records(session=session, kind="leads")
        assert total == 2 and [r.row_number for r in records] == [3, 4]
        first, second = records
        # Replaying unchanged fails again, writes nothing, and keeps the record open with its reason.
        outcome, errors = service.replay_record(session=session, record_id=first.id, actor=ADMIN)
        assert outcome == "invalid" and errors[0].column == "email"
        service.fix_record(
            session=session, record_id=first.id, changes={"email": "fixed@example.com"}, actor=ADMIN
        )
        outcome, errors = service.replay_record(session=session, record_id=first.id, actor=ADMIN)
        assert (outcome, errors) == ("inserted", [])
        service.discard_record(session=session, record_id=second.id, actor=ADMIN, reason="test row")
        first_id = first.id
    with unit_of_work(store.session_factory) as session:
        assert session.scalar(select(Lead.external_id).where(Lead.email == "fixed@example.com")) == "Q2"
        assert service.list_records(session=session)[1] == 0
        with pytest.raises(Conflict):
            service.replay_record(session=session, record_id=first_id, actor=ADMIN)


def test_cli_contract(store, csv_file, monkeypatch, tmp_path) -> None:
    from closedloop.config import get_settings

    monkeypatch.setenv("CLOSEDLOOP_DATABASE_URL", store.url)
    get_settings.cache_clear()
    runner = CliRunner()
    path = csv_file("leads.csv", ROWS)
    errors_file = tmp_path / "errors.csv"
    result = runner.invoke(
        cli, ["import", "leads", str(path), "--errors", str(errors_file)], standalone_mode=False
    )
    assert result.exit_code != 0 or result.exception is not None
    assert "row 3" in str(result.exception) and "email" in str(result.exception)
    lines = errors_file.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "row,column,value,reason" and lines[1].startswith("3,email,broken@,")
    assert lines[2].startswith("4,created_at,yesterday,") and len(lines) == 3
    result = runner.invoke(cli, ["import", "leads", str(path), "--skip-invalid", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["status"], data["inserted"], data["rejected"]) == ("done", 1, 2)
    result = runner.invoke(cli, ["quarantine", "list", "--format", "json"])
    records = json.loads(result.stdout)["records"]
    assert [r["row"] for r in records] == [3, 4]
    result = runner.invoke(cli, ["quarantine", "fix", str(records[1]["id"]), "--set", "created_at=114/01/02",
                                 "--set", "email=q3@example.com"])  # fmt: skip
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["quarantine", "replay", str(records[1]["id"])])
    assert result.exit_code == 0 and "inserted" in result.output
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Lead)) == 2
        assert (
            session.scalar(select(QuarantinedRecord.status).where(QuarantinedRecord.row_number == 4))
            == "replayed"
        )
    get_settings.cache_clear()
