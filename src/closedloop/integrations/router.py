"""POST /api/v1/integrations/{source}/events: signed events from an ERP, email tool or ad platform."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from closedloop.api.deps import SessionDep
from closedloop.clock import system_clock
from closedloop.integrations import service

router = APIRouter(prefix="/api/v1/integrations", tags=["integrations"])


async def raw_body(request: Request) -> bytes:
    """The exact bytes that were signed."""
    return await request.body()


@router.post("/{source}/events", status_code=202)
def receive_events(
    source: str, request: Request, session: SessionDep, body: Annotated[bytes, Depends(raw_body)]
) -> dict[str, Any]:
    """Import a signed batch of events; 401 bad signature or stale timestamp, 409 replayed delivery."""
    headers = {k.lower(): v for k, v in request.headers.items()}
    return service.receive(
        session=session,
        source_name=source,
        headers=headers,
        body=body,
        secret_key=request.app.state.secret_key,
        clock=getattr(request.app.state, "clock", system_clock),
    )


from closedloop.integrations.conversions_router import router as _conversions_router  # noqa: E402

router.include_router(_conversions_router)
