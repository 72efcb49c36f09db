"""Report documents: the PDF's text in Chinese with the hand-built figures, escaping, the CLI, the glossary."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from markupsafe import escape

from closedloop.analytics.declarations import METRICS
from closedloop.config import get_settings
from closedloop.goals.models import Goal
from closedloop.handoffs.models import REJECTION_REASONS
from closedloop.i18n import LANGUAGES, translate
from closedloop.leads.lifecycle import MAIN_LINE, OFF_LINE
from closedloop.reports.service import render_glossary, render_pack, render_sla_agreement

AS_OF = "2026-03-16T12:00:00+08:00"  # a Monday: the weekly pack covers 2026-03-09..15
HEADINGS = {
    "zh-TW": ("每週行銷業務檢討資料", "最大變動", "雙方 SLA 承諾", "共同計分卡", "資料截至"),
    "zh-CN": ("每周市场销售复盘资料", "最大变动", "双方 SLA 承诺", "共同计分卡", "数据截至"),
}


def pdf_text(data: bytes, tmp_path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "pack.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout  # fmt: skip


@pytest.mark.parametrize("lang", ["zh-TW", "zh-CN"])
def test_weekly_pdf_has_chinese_headings_and_figures(history, lang, tmp_path) -> None:
    store, session = history["store"], history["session"]
    data, pack = render_pack(
        store.url, session=session, kind="weekly", lang=lang, output_format="pdf", as_of=AS_OF
    )
    assert data.startswith(b"%PDF")
    assert pack["period"] == ["2026-03-09", "2026-03-15"]
    text = pdf_text(data, tmp_path)
    for heading in HEADINGS[lang]:
        assert heading in text
    # Week 11 against week 10 (conftest): pipeline 1,500 -> 4,000 TWD, win rate 50.0% -> 100.0%, avg 2,000 TWD.
    for figure in ("4,000 TWD", "1,500 TWD", "2,000 TWD", "50.0%", "100.0%", "2026-03-16T12:00:00+08:00"):
        assert figure in text
    assert translate("stage.sql", lang) in text


def test_html_escapes_stranger_supplied_values(history) -> None:
    store, session = history["store"], history["session"]
    session.add(Goal(name="<script>alert(2)</script>", metric="win_rate", side="sales", target=Decimal("0.5"),
                     period_start=date(2026, 3, 1), period_end=date(2026, 3, 31)))  # fmt: skip
    session.commit()
    data, pack = render_pack(
        store.url, session=session, kind="weekly", lang="en", output_format="html", as_of=AS_OF
    )
    html = data.decode("utf-8")
    assert {"campaign": "<script>alert(1)</script>", "leads": 1} in pack["campaigns"]  # L6, created 03-11
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
    assert "<script>alert(2)" not in html  # the goal name, in the table and in the chart's SVG
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html


def test_monthly_and_sla_and_glossary_through_the_cli(history, monkeypatch, tmp_path) -> None:
    from closedloop.cli.main import main

    store = history["store"]
    monkeypatch.setenv("CLOSEDLOOP_DATABASE_URL", store.url)
    get_settings.cache_clear()
    try:
        for args in (("monthly", "--as-of", "2026-04-02"), ("glossary",), ("sla-agreement",)):
            out = tmp_path / f"{args[0]}.html"
            code = 0
            try:
                main(["report", *args, "--format", "html", "--lang", "zh-TW", "--out", str(out)])
            except SystemExit as exc:
                code = int(exc.code or 0)
            assert code == 0
            assert out.read_text(encoding="utf-8").startswith("<!doctype html>")
        monthly = (tmp_path / "monthly.html").read_text(encoding="utf-8")
        assert "每月閉環報告" in monthly and "2026-03-01 – 2026-03-31" in monthly
        assert (
            "3,000 TWD" not in monthly
        )  # no deal of that size was created; pipeline is 1,500 + 4,000 = 5,500
        assert "5,500 TWD" in monthly
    finally:
        get_settings.cache_clear()


def test_glossary_is_complete_in_three_languages(history) -> None:
    store, session = history["store"], history["session"]
    for lang in LANGUAGES:
        html = render_glossary(store.url, session=session, lang=lang, as_of=AS_OF).decode("utf-8")
        expected = [m.descriptions[lang] for m in METRICS.values()]
        expected += [translate(f"stage.{s.value}", lang) for s in (*MAIN_LINE, *OFF_LINE)]
        expected += [translate(f"reports.stage_when.{s.value}", lang) for s in (*MAIN_LINE, *OFF_LINE)]
        expected += [translate(f"reason.{r}", lang) for r in REJECTION_REASONS]
        expected += [translate("reports.sla.first_response", lang, hours="4")]  # the default SLA policy
        for text in expected:
            assert str(escape(text)) in html, (lang, text)
        assert "reports." not in html  # no message key left untranslated
        sla = render_sla_agreement(store.url, session=session, lang=lang, as_of=AS_OF).decode("utf-8")
        assert translate("reports.sla.default_version", lang) in sla
        assert translate("reports.sla.decision", lang, hours="24") in sla


def test_weekly_pack_of_a_reviewed_week_keeps_the_numbers_the_review_froze(history) -> None:
    from datetime import datetime

    from closedloop.analytics import api
    from closedloop.leads.models import Lead, LifecycleEvent
    from closedloop.reviews import service
    from closedloop.users.actor import Actor

    store, session = history["store"], history["session"]
    manager = Actor(user_id=history["manager"], role="manager")
    service.create_review(session=session, url=store.url, actor=manager, title="Week 11", period_start=date(2026, 3, 9),
                          period_end=date(2026, 3, 15), as_of=datetime.fromisoformat(AS_OF))  # fmt: skip
    session.commit()
    # A late import: a lead back-dated into the reviewed week.
    late = datetime.fromisoformat("2026-03-12T04:00:00+00:00")
    lead = Lead(email="late@example.com", created_at=late, recorded_at=datetime.fromisoformat(AS_OF))
    session.add(lead)
    session.flush()
    session.add(LifecycleEvent(lead_id=lead.id, to_stage="lead", occurred_at=late, recorded_at=late, implied=False,
                               source="import"))  # fmt: skip
    session.commit()
    live = api.funnel(store.url, mode="period", date_from="2026-03-09", date_to="2026-03-15", as_of=AS_OF)
    assert live["rows"][0]["counts"]["lead"] == 3  # L5, L6 and the late one
    _, pack = render_pack(store.url, session=session, kind="weekly", output_format="html",
                          as_of="2026-03-20T09:00:00+08:00")  # fmt: skip
    assert pack["data_as_of"] == AS_OF
    assert pack["agenda"]["figures"]["stage_count:lead"]["value"] == 2  # as issued
    assert pack["funnel"]["rows"][0]["counts"]["lead"] == 2
    assert pack["review"]["title"] == "Week 11"
