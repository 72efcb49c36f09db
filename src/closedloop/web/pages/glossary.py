"""The in-app glossary and "how we work" page, and the printable one-page SLA agreement.

Both are generated from the rules in force (metric declarations, lifecycle transitions, rejection
reasons, the SLA policy version), in the reader's language, by the same code as the report documents.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from fastapi.responses import Response

from closedloop.reports import glossary as glossary_rules
from closedloop.reports import service as report_service
from closedloop.web.pages.common import PageDep, PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
# The printable agreement is a standalone document with its own print styles and no script.
PRINT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


@router.get("/glossary")
def glossary(page: PageDep) -> Response:
    """Stages and what moves a lead, allowed changes, metric definitions, rejection reasons, SLA terms."""
    page.require("reviews", "read")
    now = datetime.now(UTC)
    g = glossary_rules.glossary(page.request.state.db, now, page.lang)
    return render(page, "glossary.html", g=g, as_of=page.when(now))


@router.get("/glossary/sla-agreement")
def sla_agreement(page: PageDep, format: str = "html") -> Response:
    """The one-page SLA agreement between the teams with the targets in force (HTML to print, or PDF)."""
    page.require("reviews", "read")
    output = "pdf" if format == "pdf" else "html"
    body = report_service.render_sla_agreement(
        page.url, session=page.request.state.db, lang=page.lang, output_format=output
    )
    if output == "pdf":
        return Response(body, media_type="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="sla-agreement-{page.lang}.pdf"',
            "Cache-Control": "no-store"})  # fmt: skip
    return Response(body, media_type="text/html; charset=utf-8",
                    headers={"Content-Security-Policy": PRINT_CSP, "Cache-Control": "no-store"})  # fmt: skip
