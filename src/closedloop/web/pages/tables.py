"""Tables shown beside every chart, and their injection-safe CSV download."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.responses import Response

from closedloop import safe_csv
from closedloop.web.pages.common import Page


@dataclass
class Table:
    """A table: what it shows (formatted per locale) and the raw values its CSV carries."""

    id: str
    caption: str
    header: list[str]
    rows: list[list[Any]] = field(default_factory=list)  # display cells: text, or (text, href)
    raw: list[list[Any]] = field(default_factory=list)
    numeric: set[int] = field(default_factory=set)  # right-aligned columns
    data: set[int] = field(default_factory=set)  # columns holding people's own words (names): translate="no"

    def add(self, display: list[Any], raw: list[Any]) -> None:
        self.rows.append(display)
        self.raw.append(raw)

    def csv_href(self, page: Page) -> str:
        params = [(k, v) for k, v in page.request.query_params.multi_items() if k != "csv"]
        params.append(("csv", self.id))
        from urllib.parse import urlencode

        return f"{page.request.url.path}?{urlencode(params)}"


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(ZoneInfo("UTC")).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def csv_response(page: Page, tables: list[Table]) -> Response | None:
    """The CSV of the table named by `?csv=`, if asked (UTF-8 BOM; formulas neutralised)."""
    wanted = page.request.query_params.get("csv")
    if not wanted:
        return None
    for table in tables:
        if table.id == wanted:
            body = safe_csv.to_csv(table.header, [[_cell(v) for v in row] for row in table.raw])
            return Response(
                body,
                media_type="text/csv; charset=utf-8",
                headers={
                    "Content-Disposition": f'attachment; filename="{table.id}.csv"',
                    "Cache-Control": "no-store",
                },
            )
    return None
