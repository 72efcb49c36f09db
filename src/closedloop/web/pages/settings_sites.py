"""Settings: websites registered for capture, their public site keys, allowed origins and the snippet to paste."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response

from closedloop.capture import site_settings
from closedloop.capture.cli import snippet_html
from closedloop.capture.service import list_sites, normalise_origin
from closedloop.errors import UserError, ValidationFailed
from closedloop.marketing.models import Site
from closedloop.web.pages.common import Page, PageDep, PageRoute, check_csrf, not_found, render
from closedloop.web.pages.settings import Csrf, require_section

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PATH = "/settings/sites"
Origins = Annotated[str, Form(max_length=10_000)]


def _base_url(page: Page) -> str:
    """This server's address as the browser reached it: visitors' pages load the snippet from here."""
    return str(page.request.base_url).rstrip("/")


def show(page: Page, *, errors: dict[str, str] | None = None, values: dict[str, Any] | None = None,
         status: int = 200) -> Response:  # fmt: skip
    """Every site with its key, origins and snippet; a form to add one."""
    base = _base_url(page)
    sites = [
        (s, snippet_html(base_url=base, public_key=s.public_key))
        for s in list_sites(session=page.request.state.db)
    ]
    done = page.request.query_params.get("done")
    flash = page.t(f"web.sites.done.{done}") if done in ("created", "updated") and not errors else None
    return render(page, "settings_sites.html", status, sites=sites, errors=errors or {}, values=values or {},
                  flash=flash, flash_kind="error" if errors else "ok")  # fmt: skip


@router.get(PATH)
def sites(page: PageDep) -> Response:
    """Sites and their capture snippets."""
    require_section(page, PATH)
    return show(page)


def _origins(page: Page, text: str, field: str) -> list[str]:
    items = [o for o in text.split() if o.strip()]
    for item in items:
        try:
            normalise_origin(item)
        except ValidationFailed as exc:
            raise ValidationFailed(
                page.t("capture.error.bad_origin", origin=item), detail={"field": field}
            ) from exc
    if not items:
        raise ValidationFailed(page.t("web.sites.error.origins"), detail={"field": field})
    return items


@router.post(PATH)
def create_site(page: PageDep, csrf_token: Csrf = "", name: Annotated[str, Form(max_length=200)] = "",
                origins: Origins = "") -> Response:  # fmt: skip
    """Register a site: a fresh public key and the origins its pages are served from."""
    check_csrf(page, csrf_token)
    require_section(page, PATH)
    try:
        if not name.strip():
            raise ValidationFailed(page.t("capture.error.site_name"), detail={"field": "name"})
        site_settings.create_site(session=page.request.state.db, actor=page.actor, name=name,
                                  origins=_origins(page, origins, "origins"))  # fmt: skip
    except UserError as exc:
        page.request.state.db.rollback()
        return show(page, errors={str(exc.detail.get("field") or "origins"): exc.message},
                    values={"name": name, "origins": origins}, status=exc.http_status)  # fmt: skip
    return RedirectResponse(f"{PATH}?done=created", status_code=303)


@router.post(PATH + "/{site_id}")
def update_site(page: PageDep, site_id: int, csrf_token: Csrf = "", origins: Origins = "",
                active: Annotated[str, Form(max_length=5)] = "") -> Response:  # fmt: skip
    """Change the allowed origins, or switch the site's key off."""
    check_csrf(page, csrf_token)
    require_section(page, PATH)
    site = page.request.state.db.get(Site, site_id)
    if site is None:
        raise not_found(page)
    field = f"origins-{site_id}"
    try:
        site_settings.update_site(session=page.request.state.db, actor=page.actor, site=site,
                                  origins=_origins(page, origins, field), is_active=active == "1")  # fmt: skip
    except UserError as exc:
        page.request.state.db.rollback()
        return show(page, errors={field: exc.message}, status=exc.http_status)
    return RedirectResponse(f"{PATH}?done=updated", status_code=303)
