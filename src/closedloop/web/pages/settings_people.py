"""Settings: users (create, role and team, deactivate with a successor), teams, API keys (shown once)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select

from closedloop.errors import UserError, ValidationFailed
from closedloop.users import service as user_service
from closedloop.users.models import ROLES, TEAM_KINDS, ApiKey, Team, User
from closedloop.users.passwords import MIN_PASSWORD_LENGTH
from closedloop.web.pages.common import Page, PageDep, PageRoute, check_csrf, not_found, render
from closedloop.web.pages.settings import Csrf, require_admin, require_section

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PATH = "/settings/users"
DONE = ("user_created", "user_updated", "user_deactivated", "team_created", "key_revoked")
Text = Annotated[str, Form(max_length=320)]


def show(
    page: Page,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
    new_key: str | None = None,
    flash: str | None = None,
) -> Response:
    """Users, teams and keys; the forms are for admins, managers read."""
    db = page.request.state.db
    users = list(db.scalars(select(User).order_by(User.is_active.desc(), User.email)))
    teams = list(db.scalars(select(Team).order_by(Team.name)))
    members = dict(db.execute(select(User.team_id, func.count()).where(User.is_active.is_(True))
                              .group_by(User.team_id)).all())  # fmt: skip
    is_admin = page.actor.is_system or page.actor.role == "admin"
    keys = list(db.scalars(select(ApiKey).order_by(ApiKey.id.desc()).limit(200))) if is_admin else []
    emails = {u.id: u.email for u in users}
    done = page.request.query_params.get("done")
    if flash is None and done in DONE:
        flash = page.t(f"web.people.done.{done}")
    return render(page, "settings_users.html", status, users=users, teams=teams, members=members, keys=keys,
                  emails=emails, team_names={t.id: t.name for t in teams}, roles=ROLES, team_kinds=TEAM_KINDS,
                  scopes=user_service.API_KEY_SCOPES, is_admin=is_admin, errors=errors or {}, values=values or {},
                  new_key=new_key, flash=flash, flash_kind="error" if errors else "ok")  # fmt: skip


@router.get(PATH)
def people(page: PageDep) -> Response:
    """Who uses closedloop, in which team, with which keys."""
    require_section(page, PATH)
    return show(page)


def _team_id(page: Page, text: str) -> int | None:
    if not text:
        return None
    if not text.isdigit() or page.request.state.db.get(Team, int(text)) is None:
        raise ValidationFailed(page.t("web.people.error.team"), detail={"field": "team_id"})
    return int(text)


def _user(page: Page, user_id: int) -> User:
    user = page.request.state.db.get(User, user_id)
    if user is None:
        raise not_found(page)
    return user


def _admin_form(page: Page, csrf: str) -> None:
    check_csrf(page, csrf)
    require_section(page, PATH)
    require_admin(page)


def _fail(page: Page, exc: UserError, field: str, values: dict[str, Any]) -> Response:
    page.request.state.db.rollback()
    named = str(exc.detail.get("field") or field)
    return show(page, errors={named: exc.message}, values=values, status=exc.http_status)


@router.post(f"{PATH}/new")
def create_user(
    page: PageDep,
    csrf_token: Csrf = "",
    email: Text = "",
    name: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=16)] = "",
    team_id: Annotated[str, Form(max_length=12)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Add a person with a role, a team and a first password (stored as an argon2 hash only)."""
    _admin_form(page, csrf_token)
    values = {"email": email, "name": name, "role": role, "team_id": team_id}
    db = page.request.state.db
    try:
        try:
            address = user_service.clean_email(email)
        except ValidationFailed as exc:
            raise ValidationFailed(page.t("web.people.error.email"), detail={"field": "email"}) from exc
        if role not in ROLES:
            raise ValidationFailed(page.t("web.people.error.role"), detail={"field": "role"})
        if len(password) < MIN_PASSWORD_LENGTH:
            raise ValidationFailed(page.t("users.error.short_password", min=MIN_PASSWORD_LENGTH),
                                   detail={"field": "password"})  # fmt: skip
        if db.scalar(select(User.id).where(User.email == address)) is not None:
            raise ValidationFailed(
                page.t("users.error.user_exists", email=address), detail={"field": "email"}
            )
        user_service.create_user(session=db, actor=page.actor, email=address, role=role, password=password,
                                 team_id=_team_id(page, team_id), name=name.strip() or None)  # fmt: skip
    except UserError as exc:
        return _fail(page, exc, "email", values)
    return RedirectResponse(f"{PATH}?done=user_created", status_code=303)


@router.post(PATH + "/{user_id}")
def update_user(
    page: PageDep,
    user_id: int,
    csrf_token: Csrf = "",
    role: Annotated[str, Form(max_length=16)] = "",
    team_id: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """Change a person's role or team (team membership)."""
    _admin_form(page, csrf_token)
    user = _user(page, user_id)
    try:
        if role not in ROLES:
            raise ValidationFailed(page.t("web.people.error.role"), detail={"field": f"role-{user_id}"})
        try:
            team = _team_id(page, team_id)
        except ValidationFailed as exc:
            raise ValidationFailed(exc.message, detail={"field": f"team-{user_id}"}) from exc
        user_service.update_user(session=page.request.state.db, actor=page.actor, user=user,
                                 changes={"role": role, "team_id": team})  # fmt: skip
    except UserError as exc:
        return _fail(page, exc, f"role-{user_id}", {})
    return RedirectResponse(f"{PATH}?done=user_updated", status_code=303)


@router.post(PATH + "/{user_id}/deactivate")
def deactivate_user(
    page: PageDep, user_id: int, csrf_token: Csrf = "", successor_id: Annotated[str, Form(max_length=12)] = ""
) -> Response:
    """A leaver: open leads, hand-offs and deals go to the successor; sessions and keys stop now."""
    _admin_form(page, csrf_token)
    user = _user(page, user_id)
    field = f"successor-{user_id}"
    try:
        successor = page.request.state.db.get(User, int(successor_id)) if successor_id.isdigit() else None
        if successor is None:
            raise ValidationFailed(page.t("web.people.error.successor"), detail={"field": field})
        if successor.id == user.id:
            raise ValidationFailed(page.t("users.error.successor_self"), detail={"field": field})
        user_service.deactivate_user(
            session=page.request.state.db, actor=page.actor, user=user, successor=successor
        )
    except UserError as exc:
        return _fail(page, exc, field, {})
    return RedirectResponse(f"{PATH}?done=user_deactivated", status_code=303)


@router.post(f"{PATH}/teams/new")
def create_team(
    page: PageDep,
    csrf_token: Csrf = "",
    team_name: Annotated[str, Form(max_length=200)] = "",
    kind: Annotated[str, Form(max_length=32)] = "sales",
) -> Response:
    """A new team; people join it by changing their team above."""
    _admin_form(page, csrf_token)
    values = {"team_name": team_name, "kind": kind}
    db = page.request.state.db
    try:
        if not team_name.strip():
            raise ValidationFailed(page.t("users.error.team_name"), detail={"field": "team_name"})
        if db.scalar(select(Team.id).where(Team.name == team_name.strip())) is not None:
            raise ValidationFailed(page.t("users.error.team_exists", name=team_name.strip()),
                                   detail={"field": "team_name"})  # fmt: skip
        if kind not in TEAM_KINDS:
            raise ValidationFailed(page.t("web.people.error.kind"), detail={"field": "kind"})
        user_service.create_team(session=db, actor=page.actor, name=team_name, kind=kind)
    except UserError as exc:
        return _fail(page, exc, "team_name", values)
    return RedirectResponse(f"{PATH}?done=team_created", status_code=303)


@router.post(f"{PATH}/keys/new")
def create_key(
    page: PageDep,
    csrf_token: Csrf = "",
    key_user_id: Annotated[str, Form(max_length=12)] = "",
    key_name: Annotated[str, Form(max_length=200)] = "",
    scopes: Annotated[list[str] | None, Form(max_length=16)] = None,
) -> Response:
    """A new API key: shown on this answer only, stored as a hash."""
    _admin_form(page, csrf_token)
    values = {"key_user_id": key_user_id, "key_name": key_name, "scopes": scopes or []}
    db = page.request.state.db
    try:
        owner = db.get(User, int(key_user_id)) if key_user_id.isdigit() else None
        if owner is None or not owner.is_active:
            raise ValidationFailed(page.t("web.people.error.key_user"), detail={"field": "key_user_id"})
        wanted = [s for s in (scopes or []) if s]
        if not wanted or any(s not in user_service.API_KEY_SCOPES for s in wanted):
            raise ValidationFailed(page.t("web.people.error.scopes"), detail={"field": "scopes"})
        _, key = user_service.create_api_key(session=db, actor=page.actor, user=owner, scopes=wanted,
                                             name=key_name.strip() or None)  # fmt: skip
    except UserError as exc:
        return _fail(page, exc, "key_user_id", values)
    db.commit()  # the key is shown once: only after it is stored
    return show(page, new_key=key, flash=page.t("web.people.key_once"))


@router.post(PATH + "/keys/{key_id}/revoke")
def revoke_key(page: PageDep, key_id: int, csrf_token: Csrf = "") -> Response:
    """Revoke a key: it fails from the next request on."""
    _admin_form(page, csrf_token)
    key = page.request.state.db.get(ApiKey, key_id)
    if key is None:
        raise not_found(page)
    user_service.revoke_api_key(session=page.request.state.db, actor=page.actor, key=key)
    return RedirectResponse(f"{PATH}?done=key_revoked", status_code=303)
