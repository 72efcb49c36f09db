"""Message modules, one per domain, each defining `MESSAGES: dict[key, {language: text}]`."""
