"""GET /api/v1/integrations/conversions/{platform}: conversions for Google Ads or Meta (a dry run for Meta)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from closedloop.api.deps import CurrentActor, SessionDep
from closedloop.api.types import Day
from closedloop.clock import system_clock
from closedloop.integrations import conversions

# Relative paths: `integrations.router` includes this router under /api/v1/integrations.
router = APIRouter(tags=["integrations"])
Kind = Literal["sql", "opportunity", "won"]


@router.get("/conversions/{platform}")
def export_conversions(
    platform: Literal["google_ads", "meta"], request: Request, session: SessionDep, actor: CurrentActor,
    date_from: Annotated[Day, Query(alias="from")], date_to: Annotated[Day, Query(alias="to")],
    kind: Annotated[list[Kind] | None, Query(max_length=3)] = None,
    pixel_id: Annotated[str | None, Query(max_length=32)] = None,
    test_event_code: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:  # fmt: skip
    """Google Ads: the offline-conversion import CSV. Meta: the Conversions API requests (URL, headers,
    JSON bodies with hashed identifiers), not sent. Admins, managers (their teams) and marketing; audited."""
    result = conversions.export(
        session, actor=actor, platform=platform, date_from=date_from, date_to=date_to,
        kinds=tuple(kind or conversions.KINDS), pixel_id=pixel_id, test_event_code=test_event_code,
        clock=getattr(request.app.state, "clock", system_clock),
    )  # fmt: skip
    headers = {"Cache-Control": "no-store", "X-Closedloop-Exported": str(result.exported)}
    if platform == "google_ads":
        headers["Content-Disposition"] = (
            f'attachment; filename="google-ads-conversions-{date_from}-{date_to}.csv"'
        )
    return Response(result.content, media_type=result.media_type, headers=headers)
