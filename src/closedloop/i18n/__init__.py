"""The translation catalogue: every user-visible string, in en, zh-TW and zh-CN.

Messages live in `catalog.py` keyed by a stable id. `translate` falls back to English, so a
missing translation is visible in the completeness test, never a crash.
"""

from __future__ import annotations

from closedloop.i18n.catalog import MESSAGES

LANGUAGES = ("en", "zh-TW", "zh-CN")
DEFAULT_LANGUAGE = "en"


def normalise_language(lang: str | None) -> str:
    """Map a browser or CLI language tag onto one of the three supported languages."""
    if not lang:
        return DEFAULT_LANGUAGE
    tag = lang.replace("_", "-").lower()
    if tag.startswith("zh"):
        if any(part in tag for part in ("cn", "hans", "sg")):
            return "zh-CN"
        return "zh-TW"
    return DEFAULT_LANGUAGE


def translate(key: str, lang: str = DEFAULT_LANGUAGE, **params: object) -> str:
    """The message `key` in `lang`, with `{name}` placeholders filled from `params`."""
    entry = MESSAGES.get(key)
    if entry is None:
        return key
    text = entry.get(normalise_language(lang)) or entry["en"]
    return text.format(**params) if params else text


def missing_translations() -> list[tuple[str, str]]:
    """Every (key, language) pair without a translation."""
    return [(key, lang) for key, entry in MESSAGES.items() for lang in LANGUAGES if not entry.get(lang)]
