"""FastAPI dependencies: one transaction per request, and the authenticated actor.

API clients send `Authorization: Bearer <key>`; browsers send the session cookie, plus the
session's CSRF token (header `X-CSRF-Token` or form field `csrf_token`) on every request that
changes state.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from closedloop.errors import Forbidden, Unauthenticated
from closedloop.i18n import translate
from closedloop.users import auth
from closedloop.users.actor import Actor
from closedloop.users.service import actor_for

SESSION_COOKIE = "cl_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def get_session(request: Request) -> Iterator[Session]:
    """A session for this request: committed when the handler returns, rolled back if it raises."""
    session = request.app.state.session_factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def presented_csrf(request: Request) -> str | None:
    """The CSRF token the browser sent: the header, else the form field of a form post."""
    header = request.headers.get(CSRF_HEADER)
    if header or request.method in SAFE_METHODS:
        return header
    if request.headers.get("content-type", "").startswith(FORM_TYPES):
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


# Declared so the OpenAPI document names both ways in; get_actor reads the headers itself.
BEARER = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer cl_<prefix>_<secret>`.")
COOKIE = APIKeyCookie(
    name=SESSION_COOKIE, auto_error=False, description="A browser session (plus X-CSRF-Token)."
)


def get_actor(
    request: Request,
    session: SessionDep,
    csrf: Annotated[str | None, Depends(presented_csrf)],
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)] = None,
    _cookie: Annotated[str | None, Depends(COOKIE)] = None,
) -> Actor:
    """The caller, from a bearer API key or a browser session; 401 without valid credentials."""
    authorization = request.headers.get("authorization")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated(translate("users.error.unauthenticated"))
        key, user = auth.resolve_api_key(session=session, token=token.strip())
        needed = "read" if request.method in SAFE_METHODS else "write"
        if needed not in key.scopes:
            raise Forbidden(translate("users.error.key_scope", scope=needed))
        return actor_for(user, via="api", api_key_id=key.id)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        row, user = auth.resolve_session(session=session, token=cookie)
        if request.method not in SAFE_METHODS and not auth.csrf_matches(row, csrf):
            raise Forbidden(translate("users.error.csrf"))
        return actor_for(user, via="web")
    raise Unauthenticated(translate("users.error.unauthenticated"))


CurrentActor = Annotated[Actor, Depends(get_actor)]
