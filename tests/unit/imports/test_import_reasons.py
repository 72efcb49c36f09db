"""Row-level reasons in the report's language: every pattern matches the importers' wording."""

from __future__ import annotations

import pytest

from closedloop.i18n import translate
from closedloop.imports.reasons import PATTERNS, translate_reason
from closedloop.imports.report import ImportReport, RowError, render_table


@pytest.mark.parametrize(
    ("reason", "zh_tw", "zh_cn"),
    [
        ("required", "必填", "必填"),
        ("longer than 255 characters", "超過 255 個字元", "超过 255 个字符"),
        ("not a touch type (page_view, ad_click)", "不是接觸類型（page_view, ad_click）", "不是触点类型（page_view, ad_click）"),
        ("no lead with this identity (import the leads first)", "找不到此身分的名單（請先匯入名單）", "找不到此身份的线索（请先导入线索）"),
        ("no lead with this identity (import leads first)", "找不到此身分的名單（請先匯入名單）", "找不到此身份的线索（请先导入线索）"),
        ("not a date: '2025-13-40'", "不是日期：'2025-13-40'", "不是日期：'2025-13-40'"),
        ("score out of range 1-5", "分數超出範圍 1-5", "分数超出范围 1-5"),
        ("not a channel of the channel rules", "不是渠道規則中的渠道", "不是渠道规则中的渠道"),
    ],
)  # fmt: skip
def test_known_reasons_are_translated_keeping_their_values(reason: str, zh_tw: str, zh_cn: str) -> None:
    assert translate_reason(reason, "zh-TW") == zh_tw
    assert translate_reason(reason, "zh-CN") == zh_cn
    assert translate_reason(reason, "en") == reason


def test_unknown_wording_stays_english() -> None:
    text = "An email address must have an @-sign."
    assert translate_reason(text, "zh-TW") == text


def test_every_english_message_matches_its_own_pattern() -> None:
    """The English catalogue entry, filled with sample values, reads back as the same key."""
    import re

    for pattern, key in PATTERNS:
        compiled = re.compile(pattern + r"\Z")
        names = compiled.groupindex
        sample = translate(key, "en", **{n: ("7" if n in ("n", "row", "low", "top") else "x") for n in names})
        if key == "imports.reason.not_channel":
            sample = "not a channel of the channel rules"
        assert compiled.match(sample), (key, sample)


def test_the_report_table_shows_translated_reasons() -> None:
    report = ImportReport("touchpoints", "t.csv", "0" * 64, status="failed")
    report.add_error(RowError(3, "occurred_at", "", "required"))
    assert "3\toccurred_at\t\t必填" in render_table(report, "zh-TW")
    assert "3\toccurred_at\t\trequired" in render_table(report, "en")
