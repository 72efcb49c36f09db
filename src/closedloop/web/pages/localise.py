"""Service errors worded in the reader's language.

Domain services raise user errors worded in English: most through the catalogue
(`translate(key)` without a language), the policy validators of other domains as plain text
(`"scoring: ... must be a whole number"`; those texts are in the catalogue too, under
`web.validator.*`). A page shows such an error in the reader's language by finding the
catalogue entry whose English template produced the message, reading its parameters back from
the text, and formatting the same entry in the reader's language. A message no template
matches is shown as it came.
"""

from __future__ import annotations

import re
import string
from functools import lru_cache

from closedloop.i18n import normalise_language
from closedloop.i18n.catalog import MESSAGES

# A template with less literal text than this matches too much ("{value}×") to be read back.
MIN_LITERAL = 10
_FORMATTER = string.Formatter()


def _pattern(template: str) -> tuple[re.Pattern[str], int] | None:
    """A regular expression reading `template`'s parameters back, and its literal length."""
    parts: list[str] = []
    names: set[str] = set()
    literal = 0
    try:
        parsed = list(_FORMATTER.parse(template))
    except ValueError:
        return None
    for text, name, spec, conversion in parsed:
        parts.append(re.escape(text))
        literal += len(text)
        if name is None:
            continue
        if not name.isidentifier() or spec:
            return None  # positional, attribute or formatted fields cannot be read back
        if name in names:
            parts.append(f"(?P={name})")
        elif conversion == "r":
            parts.append(f"'(?P<{name}>.*?)'")  # a short string's repr: the text in single quotes
        else:
            parts.append(f"(?P<{name}>.*?)")
        names.add(name)
    if literal < MIN_LITERAL:
        return None
    return re.compile("".join(parts) + r"\Z", re.S), literal


@lru_cache(maxsize=1)
def _patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    found = []
    for key, entry in MESSAGES.items():
        compiled = _pattern(entry.get("en", ""))
        if compiled is not None:
            found.append((compiled[1], key, compiled[0]))
    # The most specific template first: "SLA policy: counts must not be negative" before "SLA policy: {detail}".
    found.sort(key=lambda item: -item[0])
    return tuple((key, pattern) for _, key, pattern in found)


def localise(message: str, lang: str) -> str:
    """`message` (an English service error) in `lang`, or as it came when no catalogue entry made it."""
    if lang == "en" or not message:
        return message
    for key, pattern in _patterns():
        match = pattern.match(message)
        if match is None:
            continue
        entry = MESSAGES[key]
        try:
            # Formatted here, not by `translate`: a placeholder may be called `key` or `lang`.
            return (entry.get(normalise_language(lang)) or entry["en"]).format(**match.groupdict())
        except (KeyError, IndexError, ValueError):
            continue
    return message
