"""The catalogue: the union of every module in `closedloop.i18n.messages` (one per domain)."""

from __future__ import annotations

import importlib
import pkgutil

from closedloop.i18n import messages as _messages_package


def _load() -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {}
    for info in sorted(pkgutil.iter_modules(_messages_package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{_messages_package.__name__}.{info.name}")
        for key, entry in module.MESSAGES.items():
            if key in merged:
                raise RuntimeError(f"message {key!r} is defined twice (in {info.name})")
            merged[key] = entry
    return merged


MESSAGES: dict[str, dict[str, str]] = _load()
