"""The sign-in and sign-out pages: server-rendered, autoescaped, CSRF-protected."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader

from closedloop.api.deps import CSRF_FIELD, SESSION_COOKIE, SessionDep
from closedloop.errors import Unauthenticated
from closedloop.i18n import normalise_language, translate
from closedloop.users import auth
from closedloop.users.passwords import tokens_equal

router = APIRouter(include_in_schema=False)
TEMPLATES = Path(__file__).parent / "templates"
LOGIN_CSRF_COOKIE = "cl_login_csrf"


@lru_cache(maxsize=1)
def templates() -> Environment:
    """The Jinja2 environment: autoescape on for every template, whatever its name."""
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)


def _lang(request: Request) -> str:
    return normalise_language(request.query_params.get("lang") or request.headers.get("accept-language"))


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never an absolute URL or a scheme-relative `//host`."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _render(request: Request, status: int = 200, **context: Any) -> HTMLResponse:
    lang = _lang(request)

    def t(key: str, **params: object) -> str:
        return translate(key, lang, **params)

    html = templates().get_template("auth/login.html").render(lang=lang, t=t, **context)
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def _signed_in(request: Request, session: Any) -> tuple[Any, Any] | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        return auth.resolve_session(session=session, token=cookie)
    except Unauthenticated:
        return None


def _login_form(
    request: Request, *, status: int = 200, email: str = "", message: str | None = None
) -> Response:
    token = secrets.token_urlsafe(32)
    response = _render(
        request,
        status,
        csrf_token=token,
        next=_safe_next(request.query_params.get("next")),
        email=email,
        message=message,
        user=None,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/login",
        max_age=3600,
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, session: SessionDep) -> Response:
    """The sign-in form, or who is signed in with a sign-out button."""
    current = _signed_in(request, session)
    if current is not None:
        row, user = current
        return _render(request, csrf_token=row.csrf_token, user=user, message=None, email="", next="/")
    return _login_form(request)


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=200)] = "",
    next_: Annotated[str, Form(alias="next", max_length=2000)] = "/",
    code: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Check the password (argon2, lock-out after repeated failures) and start a 12-hour session."""
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not tokens_equal(expected, csrf_token):
        return _login_form(
            request, status=400, email=email, message=translate("auth.expired_form", _lang(request))
        )
    result = auth.check_login(
        session=session,
        email=email,
        password=password,
        totp_code=code or None,
        secret_key=request.app.state.secret_key,
    )
    if result.user is None:
        return _login_form(request, status=401, email=email, message=translate("auth.failed", _lang(request)))
    _row, token = auth.start_session(session=session, user=result.user)
    response = RedirectResponse(_safe_next(next_), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
        max_age=int(auth.SESSION_LIFETIME.total_seconds()),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(
    request: Request,
    session: SessionDep,
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=200)] = "",
) -> Response:
    """End the session (the form carries the session's CSRF token) and go back to the sign-in page."""
    current = _signed_in(request, session)
    if current is not None:
        row, _ = current
        if not auth.csrf_matches(row, csrf_token):
            return _render(
                request,
                403,
                csrf_token=row.csrf_token,
                user=current[1],
                email="",
                next="/",
                message=translate("users.error.csrf", _lang(request)),
            )
        auth.end_session(session=session, token=request.cookies[SESSION_COOKIE])
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
