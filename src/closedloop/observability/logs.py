"""Structured logs: one JSON object per line, with a fixed set of fields and no personal data.

Every record carries `ts` (UTC, ISO 8601), `level`, `logger` and `msg`; request records add
`request_id`, `method`, `route` (the route template, never the concrete path or its query),
`status` and `duration_ms`. Client addresses, cookies, headers, bodies and user identities are
never logged: the request id ties a log line to the proxy's own log when one is needed.
"""

from __future__ import annotations

import json
import logging
import logging.config
from datetime import UTC, datetime
from typing import Any

# The only `extra` fields copied into a line (anything else passed as extra is dropped).
FIELDS = ("request_id", "method", "route", "status", "duration_ms", "worker", "job", "outcome", "count")


class JsonFormatter(logging.Formatter):
    """A log record as one line of JSON."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name in FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["error"] = record.exc_info[0].__name__ if record.exc_info[0] else "Exception"
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def config(level: str = "INFO", *, json_lines: bool = True) -> dict[str, Any]:
    """A logging dictConfig for the server and worker: our loggers plus uvicorn's, to stderr.

    uvicorn's own access log is left out (it prints client addresses and full paths with query
    strings); `closedloop.request` replaces it.
    """
    formatter = (
        {"()": f"{__name__}.JsonFormatter"}
        if json_lines
        else {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    )
    handler = {"class": "logging.StreamHandler", "formatter": "main", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"main": formatter},
        "handlers": {"main": handler},
        "loggers": {
            "closedloop": {"handlers": ["main"], "level": level.upper(), "propagate": False},
            "uvicorn": {"handlers": ["main"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
        "root": {"handlers": ["main"], "level": "WARNING"},
    }


def configure(level: str = "INFO", *, json_lines: bool = True) -> None:
    logging.config.dictConfig(config(level, json_lines=json_lines))
