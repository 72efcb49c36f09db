"""JSON API for people: users, teams, API keys, the caller's session, personal-data requests."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, status
from sqlalchemy import func, select

from closedloop.access import policy
from closedloop.access.scope import get_visible, scoped
from closedloop.api.deps import SESSION_COOKIE, CurrentActor, SessionDep
from closedloop.api.schemas_people import (
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyOut,
    DeactivatedOut,
    DeactivateIn,
    ErasedOut,
    PersonIn,
    SessionOut,
    TeamIn,
    TeamOut,
    UserIn,
    UserOut,
    UserPatch,
)
from closedloop.api.types import IdPath, Limit, Offset, Page
from closedloop.users import auth, privacy, service
from closedloop.users.models import ApiKey, Team, User

router = APIRouter(prefix="/api/v1", tags=["people"])


@router.get("/session", response_model=SessionOut)
def current_session(request: Request, session: SessionDep, actor: CurrentActor) -> SessionOut:
    """Who is calling, and (for browsers) the CSRF token to send with changes."""
    user = session.get(User, actor.user_id)
    csrf = None
    cookie = request.cookies.get(SESSION_COOKIE)
    if actor.via == "web" and cookie:
        row, _ = auth.resolve_session(session=session, token=cookie)
        csrf = row.csrf_token
    return SessionOut(user=UserOut.model_validate(user), csrf_token=csrf, via=actor.via)


@router.get("/users", response_model=Page[UserOut])
def list_users(session: SessionDep, actor: CurrentActor, limit: Limit = 100, offset: Offset = 0) -> Any:
    """Users the caller may see (admins: all; managers: their team)."""
    policy.require(actor, "users", "read")
    stmt = scoped(select(User), User, actor)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    items = session.scalars(stmt.order_by(User.id).limit(limit).offset(offset)).all()
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def create_user(body: UserIn, session: SessionDep, actor: CurrentActor) -> Any:
    """Create a user (admins)."""
    policy.require(actor, "users", "write")
    return service.create_user(
        session=session,
        actor=actor,
        email=body.email,
        role=body.role,
        password=body.password,
        team_id=body.team_id,
        name=body.name,
    )


@router.get("/users/{user_id}", response_model=UserOut)
def get_user(user_id: IdPath, session: SessionDep, actor: CurrentActor) -> Any:
    """One user."""
    policy.require(actor, "users", "read")
    return get_visible(session, User, user_id, actor)


@router.patch("/users/{user_id}", response_model=UserOut)
def update_user(user_id: IdPath, body: UserPatch, session: SessionDep, actor: CurrentActor) -> Any:
    """Change a user's name, role, team, language or time zone (admins)."""
    policy.require(actor, "users", "write")
    user = get_visible(session, User, user_id, actor)
    return service.update_user(
        session=session, actor=actor, user=user, changes=body.model_dump(exclude_unset=True)
    )


@router.post("/users/{user_id}/deactivate", response_model=DeactivatedOut)
def deactivate_user(user_id: IdPath, body: DeactivateIn, session: SessionDep, actor: CurrentActor) -> Any:
    """A leaver: its open work passes to the successor; its sessions and keys stop at once (admins)."""
    policy.require(actor, "users", "write")
    user = get_visible(session, User, user_id, actor)
    successor = get_visible(session, User, body.successor_id, actor)
    moved = service.deactivate_user(session=session, actor=actor, user=user, successor=successor)
    return {"user": user, "moved": moved}


@router.get("/teams", response_model=Page[TeamOut])
def list_teams(session: SessionDep, actor: CurrentActor, limit: Limit = 100, offset: Offset = 0) -> Any:
    """Teams (no personal data: every role)."""
    policy.require(actor, "teams", "read")
    total = session.scalar(select(func.count(Team.id)))
    items = session.scalars(select(Team).order_by(Team.id).limit(limit).offset(offset)).all()
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.post("/teams", response_model=TeamOut, status_code=status.HTTP_201_CREATED)
def create_team(body: TeamIn, session: SessionDep, actor: CurrentActor) -> Any:
    """Create a team (admins)."""
    policy.require(actor, "teams", "write")
    return service.create_team(
        session=session, actor=actor, name=body.name, kind=body.kind, region=body.region
    )


@router.get("/api-keys", response_model=Page[ApiKeyOut])
def list_api_keys(session: SessionDep, actor: CurrentActor, limit: Limit = 100, offset: Offset = 0) -> Any:
    """API keys (never their secrets; admins)."""
    policy.require(actor, "api_keys", "read")
    total = session.scalar(select(func.count(ApiKey.id)))
    items = session.scalars(select(ApiKey).order_by(ApiKey.id.desc()).limit(limit).offset(offset)).all()
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.post("/api-keys", response_model=ApiKeyCreated, status_code=status.HTTP_201_CREATED)
def create_api_key(body: ApiKeyIn, session: SessionDep, actor: CurrentActor) -> Any:
    """Create a key for a user; the response carries the key this once (admins)."""
    policy.require(actor, "api_keys", "write")
    owner = get_visible(session, User, body.user_id, actor)
    row, key = service.create_api_key(
        session=session, actor=actor, user=owner, scopes=body.scopes, name=body.name
    )
    return ApiKeyCreated.model_validate({**ApiKeyOut.model_validate(row).model_dump(), "key": key})


@router.delete("/api-keys/{key_id}", response_model=ApiKeyOut)
def revoke_api_key(key_id: IdPath, session: SessionDep, actor: CurrentActor) -> Any:
    """Revoke a key; it fails from the next request on (admins)."""
    policy.require(actor, "api_keys", "write")
    row = service.api_key_by_ref(session=session, ref=str(key_id))
    return service.revoke_api_key(session=session, actor=actor, key=row)


@router.post("/persons/export")
def export_person(body: PersonIn, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    """Everything held about a person, as JSON (admins; audited)."""
    policy.require(actor, "persons", "export")
    return privacy.export_person(session=session, actor=actor, email=body.email)


@router.post("/persons/erase", response_model=ErasedOut)
def erase_person(body: PersonIn, request: Request, session: SessionDep, actor: CurrentActor) -> Any:
    """Erase a person's identities and free text everywhere; counts stay (admins; audited)."""
    policy.require(actor, "persons", "erase")
    secret = request.app.state.secret_key
    return privacy.erase_person(session=session, actor=actor, email=body.email, secret_key=secret)
