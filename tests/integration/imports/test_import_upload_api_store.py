"""POST /api/v1/imports: multipart uploads of real files on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from closedloop.config import Settings
from closedloop.db import unit_of_work
from closedloop.leads.models import Lead
from closedloop.quarantine.models import ImportJob, QuarantinedRecord
from closedloop.users import service as user_service
from closedloop.users.actor import system_actor
from closedloop.web.app import create_app

from .conftest import write_csv

ROLES = ("marketing", "sales", "viewer")
BIG5_ROWS = [
    ["email", "name", "company", "created_at", "region"],
    ["lin@example.tw", "林志明", "台灣精密股份有限公司", "114/03/05 下午 03:30", "北區"],
    ["chen@example.tw", "陳美玲", "大同貿易", "114/03/06 上午 09:00", "南區"],
]


@pytest.fixture
def api(store) -> Iterator:
    keys = {}
    with unit_of_work(store.session_factory) as session:
        for role in ROLES:
            user = user_service.create_user(
                session=session, actor=system_actor(), email=f"{role}@example.com", role=role, password=None
            )
            keys[role] = user_service.create_api_key(
                session=session, actor=system_actor(), user=user, scopes=["read", "write"]
            )[1]
    app = create_app(Settings(database_url=store.url, secret_key=secrets.token_urlsafe(40)))
    with TestClient(app) as client:

        def upload(role: str, kind: str, name: str, content: bytes, **fields: str):
            return client.post(
                "/api/v1/imports",
                data={"kind": kind, **fields},
                files={"file": (name, io.BytesIO(content), "application/octet-stream")},
                headers={"Authorization": f"Bearer {keys[role]}"},
            )

        upload.client = client  # type: ignore[attr-defined]
        upload.keys = keys  # type: ignore[attr-defined]
        yield upload


def _count(store, model) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_big5_csv_upload_imports_once_and_reports_like_the_cli(store, api, tmp_path) -> None:
    content = write_csv(tmp_path / "leads.csv", BIG5_ROWS, encoding="cp950").read_bytes()
    dry = api("marketing", "leads", "名單.csv", content, dry_run="true")
    assert dry.status_code == 200, dry.text
    assert (dry.json()["status"], dry.json()["encoding"], dry.json()["inserted"]) == ("dry_run", "cp950", 2)
    assert _count(store, Lead) == 0
    first = api("marketing", "leads", "名單.csv", content, lang="zh-TW")
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["status"], body["inserted"], body["rows"]) == ("done", 2, 2)
    assert body["summary"] == "已匯入" and "共 2 列" in body["text"]
    with store.session() as session:
        lin = session.scalars(select(Lead).where(Lead.email == "lin@example.tw")).one()
        assert (lin.name, lin.region, lin.created_at) == (
            "林志明",
            "北區",
            datetime(2025, 3, 5, 7, 30, tzinfo=UTC),
        )
    again = api("marketing", "leads", "名單.csv", content)
    assert (again.json()["status"], again.json()["job_id"]) == ("unchanged", body["job_id"])
    assert _count(store, Lead) == 2
    listed = api.client.get("/api/v1/imports", headers={"Authorization": f"Bearer {api.keys['marketing']}"})
    assert [j["id"] for j in listed.json()["items"]] == [body["job_id"]]


def test_xlsx_upload_with_invalid_rows_all_or_nothing_then_skip_invalid(store, api, tmp_path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["email", "name", "created_at"])
    book.active.append(["ok@example.tw", "王大同", datetime(2025, 3, 6, 9, 0)])
    book.active.append(["not-an-email", "Bad Row", datetime(2025, 3, 7, 9, 0)])
    book.active.append(["ok2@example.tw", "李小華", datetime(2025, 3, 8, 9, 0)])
    path = tmp_path / "leads.xlsx"
    book.save(path)
    content = path.read_bytes()
    failed = api("marketing", "leads", "leads.xlsx", content)
    assert failed.status_code == 422
    assert failed.headers["content-type"].startswith("application/problem+json")
    report = failed.json()["report"]
    assert report["status"] == "failed" and report["inserted"] == 0
    assert [(e["row"], e["column"], e["value"]) for e in report["errors"]] == [(3, "email", "not-an-email")]
    assert "3" in failed.json()["detail"]
    assert _count(store, Lead) == 0
    skipped = api("marketing", "leads", "leads.xlsx", content, skip_invalid="true")
    assert skipped.status_code == 200, skipped.text
    assert (skipped.json()["inserted"], skipped.json()["rejected"]) == (2, 1)
    with store.session() as session:
        kept = session.scalars(select(QuarantinedRecord).where(QuarantinedRecord.source == "import")).one()
        assert kept.row_number == 3 and kept.kind == "leads"
        statuses = sorted(session.scalars(select(ImportJob.status)).all())
        assert statuses == ["done", "failed"]


def test_upload_is_role_checked_and_validated(store, api, tmp_path) -> None:
    content = write_csv(tmp_path / "leads.csv", BIG5_ROWS[:2], encoding="utf-8").read_bytes()
    assert api("viewer", "leads", "leads.csv", content).status_code == 403
    assert api("sales", "spend", "spend.csv", content).status_code == 403
    assert api("marketing", "deals", "deals.csv", content).status_code == 403
    assert api("marketing", "nonsense", "x.csv", content).status_code == 422
    assert api("marketing", "leads", "x.csv", content, preset="nope").status_code == 422
    no_file = api.client.post(
        "/api/v1/imports",
        data={"kind": "leads"},
        headers={"Authorization": f"Bearer {api.keys['marketing']}"},
    )
    assert no_file.status_code == 422
    assert api.client.post("/api/v1/imports", data={"kind": "leads"}).status_code == 401
    assert _count(store, Lead) == 0 and _count(store, ImportJob) == 0


def test_row_reasons_come_back_in_the_requested_language(store, api, tmp_path) -> None:
    rows = [["lead_email", "occurred_at", "type"], ["nobody@example.com", "", "page_view"]]
    content = write_csv(tmp_path / "touches.csv", rows).read_bytes()
    response = api("marketing", "touchpoints", "touches.csv", content, lang="zh-CN")
    assert response.status_code == 422
    reasons = {(e["row"], e["column"]): e["reason"] for e in response.json()["report"]["errors"]}
    assert reasons == {(2, "occurred_at"): "必填", (2, "lead_email"): "找不到此身份的线索（请先导入线索）"}
    assert "必填" in response.json()["report"]["text"]
