"""`GET /metrics`: the Prometheus exposition, for an admin API key or the configured scrape token."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import Response

from closedloop.errors import Forbidden, Unauthenticated
from closedloop.i18n import translate
from closedloop.observability import metrics

router = APIRouter()


@router.get("/metrics", include_in_schema=False)
def prometheus_metrics(request: Request) -> Response:
    """Metrics for Prometheus. `Authorization: Bearer <admin API key | CLOSEDLOOP_METRICS_TOKEN>`."""
    session_factory = request.app.state.session_factory
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated(translate("operations.metrics.forbidden"))
    expected = request.app.state.settings.scrape_token()
    if not (expected and hmac.compare_digest(token.encode(), expected.encode())):
        from closedloop.users import auth

        with session_factory() as session:
            try:
                _key, user = auth.resolve_api_key(session=session, token=token)
            except Unauthenticated:
                raise Unauthenticated(translate("operations.metrics.forbidden")) from None
            if user.role != "admin" or "read" not in _key.scopes:
                raise Forbidden(translate("operations.metrics.forbidden"))
            session.commit()  # resolve_api_key records last_used_at
    return Response(metrics.exposition(session_factory), media_type=metrics.CONTENT_TYPE)
