"""The user's own preferences: language and time zone (stored on the user)."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import available_timezones

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response

from closedloop.errors import ValidationFailed
from closedloop.i18n import LANGUAGES
from closedloop.users.service import update_user
from closedloop.web.pages.common import PageDep, PageRoute, check_csrf, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
COMMON_ZONES = ("Asia/Taipei", "Asia/Shanghai", "Asia/Hong_Kong", "Asia/Singapore", "Asia/Tokyo",
                "Europe/London", "America/New_York", "America/Los_Angeles", "UTC")  # fmt: skip


def _safe_next(target: str) -> str:
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/preferences")
def preferences(page: PageDep) -> Response:
    """Language and time zone."""
    zones = list(COMMON_ZONES) + sorted(z for z in available_timezones() if z not in COMMON_ZONES)
    return render(page, "preferences.html", zones=zones)


@router.post("/preferences")
def save_preferences(
    page: PageDep,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    language: Annotated[str | None, Form(max_length=8)] = None,
    time_zone: Annotated[str | None, Form(max_length=64)] = None,
    next_: Annotated[str, Form(alias="next", max_length=2000)] = "/preferences",
) -> Response:
    """Store the language and/or time zone on the user, then go back where the form was."""
    check_csrf(page, csrf_token)
    changes: dict[str, str] = {}
    if language:
        if language not in LANGUAGES:
            raise ValidationFailed(page.t("web.error.language"))
        changes["language"] = language
    if time_zone:
        if time_zone not in available_timezones():
            raise ValidationFailed(page.t("web.error.time_zone"))
        changes["time_zone"] = time_zone
    if changes:
        update_user(session=page.request.state.db, actor=page.actor, user=page.user, changes=changes)
    return RedirectResponse(_safe_next(next_), status_code=303)
