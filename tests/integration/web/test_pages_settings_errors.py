"""Every error on the settings pages reads in the user's language (en, zh-TW, zh-CN), the validators' too."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from tests.integration.web.settings_world import make_world, signed_in

from closedloop.errors import ValidationFailed
from closedloop.i18n import localise

# Each validator's own English message (raised below) and the zh-TW / zh-CN texts worked out by hand.
BAD_PAYLOADS: list[tuple[str, Any, str, str]] = [
    ("scoring", {"bands": {"A": 10, "B": 50}}, "評分規則：A 級的門檻分數必須最高，其次是 B，再來是 C",
     "评分规则：A 级的门槛分数必须最高，其次是 B，再次是 C"),
    ("scoring", {"bands": {"E": 10}}, "評分規則：等級只有 A、B、C（其餘為 D）", "评分规则：等级只有 A、B、C（其余为 D）"),
    ("scoring", {"mql_threshold": 1.5}, "評分規則：mql_threshold 必須是整數", "评分规则：mql_threshold 必须是整数"),
    ("scoring", {"fit": [{"field": "shoe_size", "value": 1, "points": 1}]}, "評分規則：未知的契合度欄位 'shoe_size'",
     "评分规则：未知的契合度字段 'shoe_size'"),
    ("scoring", {"half_life_days": 0}, "評分規則：衰減半衰期（half_life_days）必須大於 0",
     "评分规则：衰减半衰期（half_life_days）必须大于 0"),
    ("quality_gate", {"required": ["shoe_size"]}, "資料品質關卡：未知的欄位 'shoe_size'", "数据质量关卡：未知的字段 'shoe_size'"),
    ("routing", {"rules": [{"team": "north"}]}, "分派規則：每條規則都需要比對條件（match）與團隊（team）",
     "分配规则：每条规则都需要匹配条件（match）与团队（team）"),
    ("routing", {"rules": [{"team": "north", "match": {"shoe": "x"}}]}, "分派規則：不能依 'shoe' 比對",
     "分配规则：不能按 'shoe' 匹配"),
    ("sla", {"marketing": {"mql_to_sql_rate": 2}}, "SLA 規則：mql_to_sql_rate 是介於 0 到 1 之間的比例",
     "SLA 规则：mql_to_sql_rate 是介于 0 到 1 之间的比例"),
    ("sla", {"sales": {"first_response_hours": 0}}, "SLA 規則：小時數與天數必須大於 0", "SLA 规则：小时数与天数必须大于 0"),
    ("sla", {"sales": {"attempts": -1}}, "SLA 規則：數量不得為負數", "SLA 规则：数量不得为负数"),
]  # fmt: skip


def _raise(kind: str, payload: Any) -> str:
    from closedloop.policies import service as policy_service

    with pytest.raises(ValidationFailed) as raised:
        policy_service.validate_payload(kind, payload)
    return raised.value.message


@pytest.mark.parametrize(("kind", "payload", "tw", "cn"), BAD_PAYLOADS)
def test_each_validator_message_reads_in_three_languages(kind, payload, tw, cn) -> None:
    english = _raise(kind, payload)
    assert localise(english, "en") == english
    assert (localise(english, "zh-TW"), localise(english, "zh-CN")) == (tw, cn)


def test_channel_rule_messages_read_in_three_languages() -> None:
    from closedloop.marketing.channels import validate_rules

    cases = [
        ([], "管道規則不能是空的清單", "渠道规则不能是空列表"),
        ([{"channel": ""}], "第 1 條規則沒有指定管道", "第 1 条规则没有指定渠道"),
        ([{"channel": "A"}, {"channel": "B", "when": [{"shoe_in": ["x"]}]}], "第 2 條規則：未知的條件 'shoe_in'",
         "第 2 条规则：未知的条件 'shoe_in'"),
    ]  # fmt: skip
    for rules, tw, cn in cases:
        with pytest.raises(ValidationFailed) as raised:
            validate_rules(rules)
        assert (localise(raised.value.message, "zh-TW"), localise(raised.value.message, "zh-CN")) == (tw, cn)
    with pytest.raises(ValidationFailed) as raised:
        validate_rules([{"channel": "A", "when": [{"source_regex": "("}]}])
    assert localise(raised.value.message, "zh-TW").startswith("第 1 條規則：正規表示式 '(' 有誤：")


def test_text_no_template_made_stays_as_it_came() -> None:
    assert (
        localise("something nobody wrote in the catalogue", "zh-TW")
        == "something nobody wrote in the catalogue"
    )


@pytest.fixture
def world(store):
    return make_world(store, leads=60)


def _language(client, csrf: str, lang: str) -> None:
    saved = client.post("/preferences", data={"csrf_token": csrf, "language": lang, "next": "/preferences"},
                        follow_redirects=False)  # fmt: skip
    assert saved.status_code == 303


def _error_texts(html: str) -> list[str]:
    """The texts of the form errors and the notice shown on a page."""
    found = re.findall(r'<[^>]*class="[^"]*(?:error|flash)[^"]*"[^>]*>(.*?)</', html, re.S)
    return [re.sub(r"\s+", " ", text).strip() for text in found if text.strip()]


@pytest.mark.parametrize(
    ("lang", "band_order", "past"),
    [
        ("en", "scoring: band A needs the highest minimum, then B, then C",
         "A policy version never applies to the past: effective_from must not be earlier than now"),
        ("zh-TW", "評分規則：A 級的門檻分數必須最高，其次是 B，再來是 C", "規則版本不可回溯套用：生效時間不得早於現在"),
        ("zh-CN", "评分规则：A 级的门槛分数必须最高，其次是 B，再次是 C", "规则版本不可追溯适用：生效时间不得早于现在"),
    ],
)  # fmt: skip
def test_settings_pages_show_errors_in_the_users_language(world, lang, band_order, past) -> None:
    manager, csrf = signed_in(world, "manager")
    _language(manager, csrf, lang)
    form = {"csrf_token": csrf, "kind": "scoring", "payload": json.dumps({"bands": {"A": 10, "B": 50}}),
            "effective_from": "2099-01-01T00:00", "reason": "test"}  # fmt: skip
    bad = manager.post("/settings/policies", data=form)
    assert bad.status_code == 422
    assert band_order in _error_texts(bad.text)
    past_form = {**form, "payload": "{}", "effective_from": "2001-01-01T00:00"}
    late = manager.post("/settings/policies", data=past_form)
    assert late.status_code == 422 and past in _error_texts(late.text)

    # The service refuses the proposer's own approval; the page says so in the user's language.
    made = manager.post("/settings/policies", data={**form, "payload": "{}"}, follow_redirects=False)
    assert made.status_code == 303
    page = manager.get("/settings/policies?kind=scoring").text
    version_id = re.findall(r'/settings/policies/(\d+)/reject"', page)[0]
    own = manager.post(f"/settings/policies/{version_id}/approve", data={"csrf_token": csrf})
    assert own.status_code == 403
    expected = {
        "en": "a second person has to approve it",
        "zh-TW": "必須由另一人核准",
        "zh-CN": "必须由另一人批准",
    }
    assert any(expected[lang] in text for text in _error_texts(own.text)), _error_texts(own.text)
