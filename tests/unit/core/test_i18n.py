"""The catalogue: every message in all three languages, and language tags mapped sensibly."""

from __future__ import annotations

import copy
import pickle

from closedloop.i18n import missing_translations, normalise_language, translate


def test_catalogue_is_complete() -> None:
    assert missing_translations() == []


def test_language_tags() -> None:
    assert normalise_language("zh_TW") == "zh-TW"
    assert normalise_language("zh-Hant-HK") == "zh-TW"
    assert normalise_language("zh-Hans") == "zh-CN"
    assert normalise_language("zh-cn") == "zh-CN"
    assert normalise_language("fr") == "en"
    assert translate("stage.customer", "zh-TW") == "成交客戶"
    assert translate("stage.customer", "zh-CN") == "成交客户"
    assert translate("no.such.key", "en") == "no.such.key"


def test_a_translated_error_can_be_worded_again_in_another_language() -> None:
    from closedloop.i18n import localise

    inner = translate("validator.channels.empty")
    outer = translate("validator.sla.malformed", detail=inner)  # a message inside a message
    assert outer == "SLA policy: channel rules must be a non-empty list"
    assert localise(outer, "zh-CN") == "SLA 规则格式不正确：渠道规则不能是空列表"
    assert localise(outer, "en") == outer
    # Copies and pickles (a worker process, a deep-copied context) keep what localise needs.
    for copied in (pickle.loads(pickle.dumps(outer)), copy.deepcopy(outer)):
        assert (
            localise(copied, "zh-TW")
            == localise(outer, "zh-TW")
            == "SLA 規則格式不正確：管道規則不能是空的清單"
        )
    # Text the catalogue did not make (a library's message) stays as it came.
    assert localise("disk full", "zh-TW") == "disk full"
