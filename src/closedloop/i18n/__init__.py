"""The translation catalogue: every user-visible string, in en, zh-TW and zh-CN.

Messages live in `catalog.py` keyed by a stable id. `translate` falls back to English, so a
missing translation is visible in the completeness test, never a crash. Its result remembers
its key and parameters (`Message`), so an error a service worded in English can be shown in
each reader's language by `localise`.
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


class Message(str):
    """A translated text that remembers the catalogue key and parameters it was made from."""

    key: str
    params: dict[str, object]

    def __new__(cls, text: str, key: str, params: dict[str, object]) -> Message:
        message = super().__new__(cls, text)
        message.key, message.params = key, params
        return message

    def __reduce__(self) -> tuple[type[Message], tuple[str, str, dict[str, object]]]:
        return Message, (str(self), self.key, self.params)  # copies and pickles keep the key


def translate(key: str, lang: str = DEFAULT_LANGUAGE, **params: object) -> str:
    """The message `key` in `lang`, with `{name}` placeholders filled from `params`."""
    entry = MESSAGES.get(key)
    if entry is None:
        return key
    text = entry.get(normalise_language(lang)) or entry["en"]
    return Message(text.format(**params) if params else text, key, params)


def localise(text: str, lang: str) -> str:
    """`text` in `lang` when it came from the catalogue (parameters that did too are localised);
    other text (a library's or the operating system's) as it came."""
    if not isinstance(text, Message):
        return text
    params = {
        name: localise(value, lang) if isinstance(value, str) else value
        for name, value in text.params.items()
    }
    return translate(text.key, lang, **params)


def missing_translations() -> list[tuple[str, str]]:
    """Every (key, language) pair without a translation."""
    return [(key, lang) for key, entry in MESSAGES.items() for lang in LANGUAGES if not entry.get(lang)]
