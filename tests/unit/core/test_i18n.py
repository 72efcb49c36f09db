"""The catalogue: every message in all three languages, and language tags mapped sensibly."""

from __future__ import annotations

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
