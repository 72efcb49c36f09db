"""Public capture endpoints under /t/: no login, a per-site public key and its allowed origins.

Every answer to an allowed origin carries CORS headers for that origin only. A 2xx means the
events are committed. Rejected input is kept in quarantine with its reason; a request refused
by the rate limits (429) is not: the snippet keeps it and retries with the same event ids.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from closedloop.capture import forms, identify_api, replay  # noqa: F401  (replay registers the quarantine replayer)
from closedloop.capture import service as capture_service
from closedloop.capture.events import VISITOR_ID, BatchError, FieldError, parse_batch
from closedloop.capture.ratelimit import RateLimiter, limits_path
from closedloop.capture.settings import CaptureSettings, get_capture_settings
from closedloop.capture.writer import GroupWriter, Job
from closedloop.clock import system_clock
from closedloop.db import unit_of_work
from closedloop.i18n import normalise_language, translate

public = APIRouter(prefix="/t", tags=["capture"])
SNIPPET = Path(__file__).parent / "static" / "closedloop.js"
COOKIE = "cl_vid"
COOKIE_MAX_AGE = 400 * 24 * 3600
PROBLEM = "application/problem+json"


@dataclass(frozen=True, slots=True)
class SiteInfo:
    id: int
    origins: frozenset[str]


class _State:
    """Per-app capture state: settings, limits, the site cache and the group writer."""

    def __init__(self, app: Any) -> None:
        # Tests and embedders may put their own CaptureSettings on app.state.capture_settings.
        self.settings: CaptureSettings = (
            getattr(app.state, "capture_settings", None) or get_capture_settings()
        )
        s = self.settings
        url = getattr(getattr(app.state, "settings", None), "database_url", None)
        shared = limits_path(url, s.limits_dir) if s.shared_limits and url else None
        self.limiter = RateLimiter(
            key_rate=s.key_rate,
            key_burst=s.key_burst,
            ip_rate=s.ip_rate,
            ip_burst=s.ip_burst,
            shared_path=shared,
        )
        self.factory = app.state.session_factory
        self.sites: dict[str, tuple[float, SiteInfo | None]] = {}
        self.writer = GroupWriter(self.factory)

    def site(self, key: str) -> SiteInfo | None:
        cached = self.sites.get(key)
        now = time.monotonic()
        if cached is not None and cached[0] > now:
            return cached[1]
        with self.factory() as session:
            row = capture_service.site_by_key(session=session, public_key=key)
            info = SiteInfo(row.id, frozenset(row.origins or ())) if row is not None else None
        if len(self.sites) > 10_000:
            self.sites.clear()
        self.sites[key] = (now + self.settings.site_cache_seconds, info)
        return info


def state_for(app: Any) -> _State:
    """The app's capture state, built on first use."""
    state = getattr(app.state, "capture", None)
    if state is None:
        state = _State(app)
        app.state.capture = state
    return state


def _state(request: Request) -> _State:
    return state_for(request.app)


def _cors(response: Response, origin: str | None) -> Response:
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
    response.headers["Vary"] = "Origin"
    return response


def _problem(status: int, title: str, detail: str, origin: str | None = None, **extra: Any) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return _cors(JSONResponse(body, status_code=status, media_type=PROBLEM), origin)


def _lang(request: Request) -> str:
    return normalise_language(request.headers.get("accept-language", "").split(",")[0])


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The body, or None when it is larger than `limit` bytes (never reading more than that)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _allowed_origin(request: Request) -> str | None:
    """The request's origin when the query's site key allows it (so the snippet can read a 413)."""
    key = request.query_params.get("k")
    origin = request.headers.get("origin")
    site = _state(request).site(key) if key else None
    return origin if site is not None and capture_service.origin_allowed(site.origins, origin) else None


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _quarantine(
    request: Request, kind: str, payload: dict[str, Any], errors: list[FieldError], reason: str
) -> None:
    factory = _state(request).factory

    def write() -> None:
        with unit_of_work(factory) as session:
            capture_service.quarantine(
                session=session, kind=kind, payload=payload, errors=errors, reason=reason
            )

    await anyio.to_thread.run_sync(write)


class _Refused(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


async def _gate(request: Request, key: str | None, body: Any, kind: str) -> tuple[_State, SiteInfo, str]:
    """The site for the key, the checked origin; raises _Refused with the answer otherwise."""
    state = _state(request)
    origin = request.headers.get("origin")
    lang = _lang(request)
    site = state.site(key) if key else None
    if site is None or not capture_service.origin_allowed(site.origins, origin):
        _guard_refusals(request)
    if site is None:
        detail = translate("capture.error.unknown_key", lang)
        await _quarantine(
            request,
            kind,
            {"key": key, "origin": origin, "body": body},
            [FieldError(None, "k", detail)],
            detail,
        )
        raise _Refused(_problem(404, "Not found", detail))
    if not capture_service.origin_allowed(site.origins, origin):
        # Kept so the events can be replayed once the origin is added to the site.
        detail = translate("capture.error.origin", lang, origin=origin or "(none)")
        payload = {"site_id": site.id, "origin": origin, "body": body}
        await _quarantine(request, kind, payload, [FieldError(None, "origin", detail)], detail)
        raise _Refused(_problem(403, "Forbidden", detail))
    return state, site, str(origin)


def _guard_refusals(request: Request) -> None:
    """Refused requests spend the client IP's tokens too, so they cannot flood the quarantine."""
    wait = _state(request).limiter.by_ip.take(_client_ip(request), 1)
    if wait:
        seconds = max(1, int(wait + 0.999))
        response = _problem(
            429, "Too many requests", translate("capture.error.rate", _lang(request), seconds=seconds)
        )
        response.headers["Retry-After"] = str(seconds)
        raise _Refused(response)


def _limited(state: _State, key: str, request: Request, cost: int, origin: str) -> Response | None:
    wait = state.limiter.check(key=key, ip=_client_ip(request), cost=cost)
    if not wait:
        return None
    seconds = max(1, int(wait + 0.999))
    response = _problem(
        429, "Too many requests", translate("capture.error.rate", _lang(request), seconds=seconds), origin
    )
    response.headers["Retry-After"] = str(seconds)
    return response


def _set_visitor_cookie(
    request: Request, response: Response, vid: str | None, settings: CaptureSettings
) -> None:
    """The first-party `cl_vid` cookie, 400 days, readable by the snippet (not HttpOnly)."""
    if not vid or not settings.set_cookie or not VISITOR_ID.match(vid) or request.cookies.get(COOKIE) == vid:
        return
    # Built by hand (the id is already checked to be cookie-safe): SimpleCookie is slow on the hot path.
    secure = "; Secure" if request.url.scheme == "https" else ""
    value = f"{COOKIE}={vid}; Max-Age={COOKIE_MAX_AGE}; Path=/; SameSite=Lax{secure}"
    response.raw_headers.append((b"set-cookie", value.encode("latin-1")))


@public.options("/{path:path}", include_in_schema=False)
async def preflight(request: Request, path: str) -> Response:
    """CORS preflight: answered with the origin only when the key's site allows it."""
    key = request.query_params.get("k")
    origin = request.headers.get("origin")
    site = _state(request).site(key) if key else None
    allowed = site is not None and capture_service.origin_allowed(site.origins, origin)
    response = Response(status_code=204)
    if allowed:
        response.headers["Access-Control-Allow-Methods"] = "POST, GET, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
        response.headers["Access-Control-Max-Age"] = "86400"
    return _cors(response, origin if allowed else None)


@public.post("/events")
async def capture_events(request: Request) -> Response:
    """A batch of page views, ad clicks and custom events; retries of an event id count once."""
    state = _state(request)
    settings = state.settings
    lang = _lang(request)
    raw = await _read_body(request, settings.max_body_bytes)
    if raw is None:
        try:
            _guard_refusals(request)
        except _Refused as refused:
            return refused.response
        detail = translate("capture.error.too_large", lang, limit=settings.max_body_bytes)
        await _quarantine(
            request,
            "event",
            {"key": request.query_params.get("k"), "truncated": True},
            [FieldError(None, "(body)", detail)],
            detail,
        )
        return _problem(413, "Payload too large", detail, _allowed_origin(request))
    try:
        body: Any = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        body = None
        text = raw[:8192].decode("utf-8", "replace")
    key = request.query_params.get("k") or (body.get("k") if isinstance(body, dict) else None)
    try:
        state, site, origin = await _gate(
            request, key if isinstance(key, str) else None, body if body is not None else text, "event"
        )
    except _Refused as refused:
        return refused.response
    count = (
        len(body.get("events") or ())
        if isinstance(body, dict) and isinstance(body.get("events"), list)
        else 1
    )
    # Charged before any quarantine write, so malformed floods are limited like good traffic.
    limited = _limited(state, str(key), request, max(1, min(count, settings.max_batch)), origin)
    if limited is not None:
        return limited
    if body is None:
        detail = translate("capture.error.not_json", lang)
        await _quarantine(
            request, "event", {"site_id": site.id, "body": text}, [FieldError(None, "(body)", detail)], detail
        )
        return _problem(400, "Bad request", detail, origin)
    received_at = system_clock()
    try:
        parsed = parse_batch(body, now=received_at, max_events=settings.max_batch)
    except BatchError as exc:
        detail = str(exc)
        await _quarantine(request, "event", {"site_id": site.id, "body": body}, [exc.error], detail)
        status = 413 if "at most" in exc.error.reason else 422
        return _problem(status, "Validation failed", detail, origin, errors=[exc.error.as_dict()])
    flags = await state.writer.write(Job(site.id, parsed.events, parsed.rejected, received_at))
    accepted = sum(flags)
    summary = {"accepted": accepted, "duplicates": len(flags) - accepted, "quarantined": len(parsed.rejected)}
    vid = body.get("vid") if isinstance(body.get("vid"), str) else None
    if parsed.rejected:
        errors = [e for _, _, errs in parsed.rejected for e in errs]
        detail = translate(
            "capture.error.invalid", lang, count=len(parsed.rejected), detail=capture_service.describe(errors)
        )
        response = _problem(
            422,
            translate("capture.title.rejected", lang),
            detail,
            origin,
            errors=[e.as_dict() for e in errors],
            **summary,
        )
    else:
        response = _cors(JSONResponse(summary), origin)
    _set_visitor_cookie(request, response, vid, settings)
    return response


async def _form_data(request: Request, limit: int) -> dict[str, Any] | None:
    """Form fields from a urlencoded, multipart or JSON body; None when too large."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            return None
        form = await request.form()
        return {k: v for k, v in form.items() if isinstance(v, str)}
    raw = await _read_body(request, limit)
    if raw is None:
        return None
    text = raw.decode("utf-8", "replace")
    if content_type == "application/x-www-form-urlencoded":
        return dict(parse_qsl(text, keep_blank_values=True))
    try:
        body = json.loads(text)
    except ValueError:
        return {"(body)": text[:8192]}
    if isinstance(body, dict):
        nested = body.get("fields")
        fields: dict[str, Any] = nested if isinstance(nested, dict) else {}
        return {**{k: v for k, v in body.items() if k != "fields"}, **fields}
    return {"(body)": body}


async def _submission(request: Request, *, record_touch: bool) -> Response:
    state = _state(request)
    settings = state.settings
    lang = _lang(request)
    kind = "form" if record_touch else "identify"
    data = await _form_data(request, settings.max_body_bytes)
    if data is None:
        try:
            _guard_refusals(request)
        except _Refused as refused:
            return refused.response
        detail = translate("capture.error.too_large", lang, limit=settings.max_body_bytes)
        await _quarantine(
            request,
            kind,
            {"key": request.query_params.get("k")},
            [FieldError(None, "(body)", detail)],
            detail,
        )
        return _problem(413, "Payload too large", detail, _allowed_origin(request))
    key = request.query_params.get("k") or data.get("k") or data.get("cl_site")
    try:
        state, site, origin = await _gate(request, key if isinstance(key, str) else None, data, kind)
    except _Refused as refused:
        return refused.response
    limited = _limited(state, str(key), request, 1, origin)
    if limited is not None:
        return limited
    now = system_clock()
    required = settings.required if record_touch else ()
    parsed = forms.parse_submission(data, now=now, required=required)
    if isinstance(parsed, list):
        detail = capture_service.describe(parsed)
        await _quarantine(request, kind, {"site_id": site.id, "fields": data}, parsed, detail)
        return _problem(422, "Validation failed", detail, origin, errors=[e.as_dict() for e in parsed])

    def write() -> forms.FormResult:
        with unit_of_work(state.factory) as session:
            return forms.submit_form(
                session=session, site_id=site.id, submission=parsed, record_touch=record_touch
            )

    await anyio.to_thread.run_sync(write)
    response = _form_answer(request, data, site, origin, lang)
    _set_visitor_cookie(request, response, parsed.visitor_key, settings)
    return response


def _form_answer(request: Request, data: dict[str, Any], site: SiteInfo, origin: str, lang: str) -> Response:
    """JSON for scripts; for a plain HTML form post, a redirect to `cl_redirect` or a thank-you page."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return _cors(JSONResponse({"status": "ok"}), origin)
    target = data.get("cl_redirect")
    if isinstance(target, str) and target:
        parts = urlsplit(target)
        if capture_service.origin_allowed(site.origins, f"{parts.scheme}://{parts.netloc}"):
            return RedirectResponse(target, status_code=303)
    title = translate("capture.form.thanks_title", lang)
    page = (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title></head>'
        f"<body><h1>{title}</h1><p>{translate('capture.form.thanks', lang)}</p></body></html>"
    )
    return HTMLResponse(page)


@public.post("/form")
async def capture_form(request: Request) -> Response:
    """A form submission: create the lead or fill its empty fields, stitch the visitor, record the touch."""
    return await _submission(request, record_touch=True)


@public.post("/identify")
async def capture_identify(request: Request) -> Response:
    """The visitor says who they are: the same lead matching and stitching as a form, without a touch."""
    return await _submission(request, record_touch=False)


@public.get("/closedloop.js", include_in_schema=False)
def snippet(request: Request) -> Response:
    """The capture snippet, cacheable for an hour, revalidated by ETag."""
    content = SNIPPET.read_bytes()
    etag = '"' + hashlib.sha256(content).hexdigest()[:16] + '"'
    headers = {
        "Cache-Control": "public, max-age=3600",
        "ETag": etag,
        "X-Content-Type-Options": "nosniff",
        "Access-Control-Allow-Origin": "*",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(content, media_type="text/javascript; charset=utf-8", headers=headers)


# The app includes `router`: the public /t/ endpoints and the authenticated identify API call.
router = APIRouter()
router.include_router(public)
router.include_router(identify_api.router)
