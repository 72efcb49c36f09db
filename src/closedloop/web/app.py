"""The FastAPI application factory: routers, error handlers, health check."""

from __future__ import annotations

import html
import importlib
import importlib.util
import logging
import os
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from closedloop import __version__
from closedloop.config import Settings, get_settings
from closedloop.errors import (
    STORE_RETRY_AFTER,
    StoreUnavailable,
    UserError,
    store_unavailable,
    store_unavailable_problem,
)
from closedloop.i18n import localise, normalise_language

log = logging.getLogger(__name__)

# Domain routers, included when their module exists: "module" exposing `router`.
ROUTER_MODULES = (
    "closedloop.users.router",
    "closedloop.leads.router",
    "closedloop.marketing.router",
    "closedloop.capture.router",
    "closedloop.deals.router",
    "closedloop.handoffs.router",
    "closedloop.goals.router",
    "closedloop.policies.router",
    "closedloop.reviews.router",
    "closedloop.audit.router",
    "closedloop.quarantine.router",
    "closedloop.imports.router",
    "closedloop.analytics.router",
    "closedloop.attribution.router",
    "closedloop.integrations.router",
    "closedloop.predictive.router",
    "closedloop.web.pages",
    "closedloop.web.auth_pages",
    "closedloop.observability.router",
)

# A closed loop: two arcs, marketing blue and sales green.
FAVICON_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
    '<path d="M16 4a12 12 0 0 1 0 24" fill="none" stroke="#2a6fdb" stroke-width="5"/>'
    '<path d="M16 28a12 12 0 0 1 0-24" fill="none" stroke="#1f9d55" stroke-width="5"/></svg>'
)


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # its parent package does not exist yet
        return False


def _is_api(request: Request) -> bool:
    """JSON callers (the API and the capture endpoints) get problem+json; pages keep HTML errors."""
    return request.url.path.startswith(("/api/", "/t/"))


def problem(status: int, title: str, detail: str, **extra: object) -> JSONResponse:
    """An RFC 9457 problem+json response."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def _language(request: Request) -> str:
    """An API caller's language for error messages: `?lang=`, else Accept-Language, else English."""
    return normalise_language(
        request.query_params.get("lang")
        or request.headers.get("accept-language", "").split(",")[0].split(";")[0]
    )


def _unavailable(request: Request, exc: BaseException) -> Response:
    """The database is down or restarting: a clear 503 with Retry-After, never a traceback."""
    lang = _language(request)
    log.warning("database unavailable: %s", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    body = store_unavailable_problem(lang)
    headers = {"Retry-After": str(STORE_RETRY_AFTER), "Cache-Control": "no-store"}
    if _is_api(request):
        return JSONResponse(body, 503, headers, media_type="application/problem+json")
    title, detail = html.escape(body["title"]), html.escape(body["detail"])
    page = f'<!doctype html><html lang="{lang}"><meta charset="utf-8"><title>{title}</title>'
    return HTMLResponse(f"{page}<h1>{title}</h1><p>{detail}</p></html>", 503, headers)


class DatabaseGuard:
    """ASGI middleware answering 503 for a database outage met by middleware (the idempotency
    claim), which the app's exception handlers never see; anything else passes through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            if started or not store_unavailable(exc):
                raise
            await _unavailable(Request(scope), exc)(scope, receive, send)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for the configured store; refuses to start without a valid secret key."""
    settings = settings or get_settings()
    demo = os.environ.get("CLOSEDLOOP_DEMO_MODE") == "1"
    secret = settings.require_secret(demo=demo)

    from closedloop.store import session_factory_for

    # No Swagger/ReDoc pages: they load their scripts from a CDN, and the machine may be offline.
    app = FastAPI(
        title="closedloop", version=__version__, openapi_url="/openapi.json", docs_url=None, redoc_url=None
    )
    app.state.settings = settings
    settings.scrape_token()  # a weak metrics token stops the start, like a weak secret key
    app.state.secret_key = secret
    app.state.session_factory = session_factory_for(settings.database_url)

    @app.exception_handler(UserError)
    async def user_error(request: Request, exc: UserError) -> JSONResponse:
        detail = localise(exc.message, _language(request))
        return problem(exc.http_status, exc.title, detail, **({"errors": exc.detail} if exc.detail else {}))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        if not _is_api(request):
            return await request_validation_exception_handler(request, exc)
        errors = [
            {"field": ".".join(str(part) for part in e.get("loc", ())), "reason": e.get("msg", "")}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"field": "", "reason": "invalid"}
        return problem(422, "Validation failed", f"{first['field']}: {first['reason']}", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if not _is_api(request):
            return await http_exception_handler(request, exc)
        response = problem(exc.status_code, HTTPStatus(exc.status_code).phrase, str(exc.detail))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(StoreUnavailable)
    @app.exception_handler(sa_exc.DBAPIError)
    @app.exception_handler(sa_exc.TimeoutError)
    async def database_unavailable(request: Request, exc: Exception) -> Response:
        if not store_unavailable(exc):
            raise exc  # a real bug: the server's 500 handler logs it
        return _unavailable(request, exc)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        try:
            with app.state.session_factory() as session:
                session.execute(text("SELECT 1"))
        except Exception as exc:  # the store is unreachable: report it, do not crash
            answer = problem(503, "Store unavailable", type(exc).__name__)
            answer.headers["Retry-After"] = str(STORE_RETRY_AFTER)
            return answer
        return JSONResponse({"status": "ok", "version": __version__})

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(FAVICON_SVG, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})

    for name in ROUTER_MODULES:
        if _module_exists(name):
            app.include_router(importlib.import_module(name).router)
    from closedloop.api import idempotency
    from closedloop.web import security

    idempotency.install(app)
    app.add_middleware(DatabaseGuard)  # outside the idempotency claim: a database outage there is a 503
    security.install(app)
    from closedloop.capture import fastpath

    fastpath.install(app)  # common capture requests skip the other middleware
    from closedloop.observability import middleware as observability

    observability.install(app)  # outermost: counts and logs every answer, the fast path's too
    return app
