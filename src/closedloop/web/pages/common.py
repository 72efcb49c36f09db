"""What every page shares: who is signed in, the layout's navigation by role, rendering, formatting."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape

from closedloop.access import policy
from closedloop.access.scope import visibility
from closedloop.analytics import snapshot
from closedloop.analytics.slicing import Scope
from closedloop.api.deps import SESSION_COOKIE, SessionDep
from closedloop.errors import Forbidden, NotFound, Unauthenticated, UserError
from closedloop.i18n import LANGUAGES, normalise_language, translate
from closedloop.i18n.catalog import MESSAGES
from closedloop.users import auth
from closedloop.users.actor import Actor
from closedloop.users.models import User, UserSession
from closedloop.users.service import actor_for

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
BABEL_LOCALES = {"en": "en", "zh-TW": "zh_Hant_TW", "zh-CN": "zh_Hans_CN"}


@cache
def babel_locale(lang: str) -> Any:
    """The parsed Babel locale of a language (parsing a locale name on every number costs ~20 µs)."""
    from babel import Locale

    return Locale.parse(BABEL_LOCALES[lang])


# (path, message key, may this role open it?) in menu order; a page not allowed is not shown
# and its handler answers 403.
NAV: tuple[tuple[str, str, Callable[[Actor], bool]], ...] = (
    ("/", "web.nav.overview", lambda a: policy.allowed(a, "leads", "summary")),
    ("/funnel", "web.nav.funnel", lambda a: policy.allowed(a, "leads", "summary")),
    ("/attribution", "web.nav.attribution", lambda a: policy.allowed(a, "deals", "summary")),
    ("/campaigns", "web.nav.campaigns", lambda a: policy.allowed(a, "campaigns", "read")),
    ("/leads", "web.nav.leads", lambda a: policy.allowed(a, "leads", "read")),
    ("/queue", "web.nav.queue", lambda a: policy.allowed(a, "handoffs", "respond")),
    ("/pipeline", "web.nav.pipeline", lambda a: policy.allowed(a, "deals", "read")),
    ("/quality", "web.nav.quality", lambda a: policy.allowed(a, "quality", "read")),
    # The predictive models page: the roles that may train them (predictive.router).
    ("/models", "web.nav.models", lambda a: a.is_system or a.role in ("admin", "manager", "marketing")),
    ("/reviews", "web.nav.reviews", lambda a: policy.allowed(a, "reviews", "read")),
    ("/glossary", "web.nav.glossary", lambda a: policy.allowed(a, "reviews", "read")),
    # Settings: every role but viewers opens the areas its role owns (web/pages/settings.py).
    (
        "/settings",
        "web.nav.settings",
        lambda a: a.is_system or a.role in ("admin", "manager", "marketing", "sales"),
    ),
)


class LoginRequired(Exception):
    """No live session: the page redirects to the sign-in form."""


class PageRoute(APIRoute):
    """A page route: no session sends the browser to /login; user errors render as an HTML page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            # How fresh this request's numbers are (the layout's "Numbers as of" line): the handler's
            # thread runs in a copy of this context, so it records into this request's own record.
            try:
                with snapshot.freshness():
                    return await handler(request)
            except LoginRequired:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
            except UserError as exc:
                return error_page(request, exc)

        return run


@dataclass
class Page:
    """The signed-in person, what they may see, and helpers the templates use."""

    request: Request
    user: User
    row: UserSession
    actor: Actor
    lang: str
    tz: ZoneInfo
    url: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def csrf(self) -> str:
        return self.row.csrf_token

    def t(self, key: str, **params: object) -> str:
        """The message in the user's language (`lang` is already one of LANGUAGES: no normalising per call)."""
        entry = MESSAGES.get(key)
        if entry is None:
            return key
        text = entry.get(self.lang) or entry["en"]
        return text.format(**params) if params else text

    def require(self, resource: str, action: str) -> None:
        """403 unless the role may do this (the same rule that hides the menu entry)."""
        policy.require(self.actor, resource, action)

    def scope(self) -> tuple[Scope | None, bool]:
        """The aggregate scope for the analytics layer, and whether person-level rows may be listed."""
        seen = visibility(session=self.request.state.db, actor=self.actor)
        return (None if seen.everything else Scope(seen.owner_ids, seen.team_ids)), seen.personal_data

    def nav(self) -> list[tuple[str, str, bool]]:
        """Menu entries the role may open: (path, label, is current)."""
        path = self.request.url.path
        out = []
        for href, key, allowed in NAV:
            if allowed(self.actor):
                current = path == href if href == "/" else path.startswith(href)
                out.append((href, self.t(key), current))
        return out

    def may(self, path: str) -> bool:
        """True when the role may open the page at `path`."""
        return any(href == path and allowed(self.actor) for href, _, allowed in NAV)

    # Formatting per locale (Babel): numbers, money, percentages, dates in the user's zone.
    def num(self, value: float | int | None, digits: int = 0) -> str:
        from babel.numbers import format_decimal

        if value is None:
            return "—"
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, format=pattern, locale=babel_locale(self.lang))

    def pct(self, value: float | None, digits: int = 1) -> str:
        from babel.numbers import format_percent

        if value is None:
            return "—"
        pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
        return format_percent(value, format=pattern, locale=babel_locale(self.lang))

    def money(self, value: float | None, currency: str | None) -> str:
        from babel.numbers import format_currency

        if value is None:
            return "—"
        return format_currency(value, currency or "TWD", locale=babel_locale(self.lang))

    def minor(self, amount_minor: int | None, currency: str) -> str:
        """An amount stored in minor units, formatted in its currency."""
        from closedloop.analytics.relations import exponent

        if amount_minor is None:
            return "—"
        return self.money(amount_minor / 10 ** exponent(currency), currency)

    def when(self, value: datetime | None) -> str:
        from babel.dates import format_datetime

        if value is None:
            return "—"
        return format_datetime(value.astimezone(self.tz), "short", locale=babel_locale(self.lang))

    def day(self, value: date | None) -> str:
        from babel.dates import format_date

        return "—" if value is None else format_date(value, "medium", locale=babel_locale(self.lang))

    def left(self, due: datetime | None, now: datetime) -> str:
        """Time left until `due` (negative: overdue), in hours and minutes."""
        if due is None:
            return "—"
        seconds = int((due - now).total_seconds())
        hours, minutes = divmod(abs(seconds) // 60, 60)
        text = self.t("web.duration", hours=hours, minutes=minutes)
        return text if seconds >= 0 else self.t("web.overdue", duration=text)

    def stage(self, key: str | None) -> str:
        return "—" if not key else self.t(f"stage.{key}")

    def link(self, path: str, params: dict[str, Any]) -> str:
        """A URL with the query string built from params (lists repeat their key; empty values dropped)."""
        items = [(k, v) for k, vs in params.items() for v in (vs if isinstance(vs, list) else [vs])]
        query = urlencode([(k, v) for k, v in items if v not in (None, "")])
        return f"{path}?{query}" if query else path


def _db(request: Request, session: SessionDep) -> Any:
    request.state.db = session
    return session


def current_page(request: Request, session: Annotated[Any, Depends(_db)]) -> Page:
    """The signed-in user for a page, or LoginRequired (redirect to the sign-in form)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginRequired
    try:
        row, user = auth.resolve_session(session=session, token=token)
    except Unauthenticated as exc:
        raise LoginRequired from exc
    lang = normalise_language(user.language) if user.language in LANGUAGES else "en"
    try:
        tz = ZoneInfo(user.time_zone or "Asia/Taipei")
    except (KeyError, ValueError):
        tz = ZoneInfo("Asia/Taipei")
    url = session.get_bind().url.render_as_string(hide_password=False)
    return Page(request, user, row, actor_for(user, via="web"), lang, tz, url)


PageDep = Annotated[Page, Depends(current_page)]


def check_csrf(page: Page, presented: str | None) -> None:
    """A state-changing form must carry the session's CSRF token."""
    if not auth.csrf_matches(page.row, presented):
        raise Forbidden(translate("users.error.csrf", page.lang))


@lru_cache(maxsize=1)
def environment() -> Environment:
    """Jinja2 with autoescape on for every template."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    env.filters["json_block"] = json_block
    from closedloop.web.pages.assets import version

    env.globals["asset_version"] = version
    return env


def json_block(value: Any) -> str:
    """JSON safe inside <script type="application/json">: no '<', '>' or '&' can close the element."""
    from markupsafe import Markup

    text = json.dumps(value, ensure_ascii=False, allow_nan=False, default=str)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


def render(page: Page, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page in the base layout, never cached (it holds personal data and the CSRF token).

    Form errors (`errors`) and the notice (`flash`) may carry a service's English message: they
    are shown in the reader's language (`localise`)."""
    from closedloop.i18n import localise

    if isinstance(context.get("errors"), dict):
        context["errors"] = {
            k: localise(v, page.lang) if isinstance(v, str) else v for k, v in context["errors"].items()
        }
    if isinstance(context.get("flash"), str):
        context["flash"] = localise(context["flash"], page.lang)
    context.setdefault("data_as_of", data_as_of(page))
    html = environment().get_template(f"pages/{template}").render(p=page, t=page.t, **context)
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def data_as_of(page: Page) -> str | None:
    """The layout's "Numbers as of HH:MM (zone)" line, in the reporting time zone.

    Shown only when this request's numbers came from a snapshot older than the store's latest
    change (CLOSEDLOOP_ANALYTICS_MAX_STALENESS); None when every number was fresh.
    """
    fresh = snapshot.seen()
    if fresh is None or not fresh.stale or fresh.as_of is None:
        return None
    from closedloop.web.pages.numbers import workspace

    try:
        zone_name = workspace(page.url).time_zone
        zone = ZoneInfo(zone_name)
    except (KeyError, ValueError):
        zone_name, zone = "UTC", ZoneInfo("UTC")
    return page.t("web.data_as_of", time=fresh.as_of.astimezone(zone).strftime("%H:%M"), zone=zone_name)


def error_page(request: Request, exc: UserError) -> HTMLResponse:
    """A user error as a page: 403/404/409/422 with its message (in the reader's language) and a way back."""
    from closedloop.i18n import localise

    lang = "en"
    session = getattr(request.state, "db", None)
    token = request.cookies.get(SESSION_COOKIE)
    user = None
    if session is not None and token:
        try:
            _, user = auth.resolve_session(session=session, token=token)
            lang = user.language if user.language in LANGUAGES else "en"
        except Unauthenticated:
            user = None
    title = translate(
        {403: "web.error.forbidden", 404: "web.error.not_found"}.get(exc.http_status, "web.error.title"), lang
    )
    html = (
        environment()
        .get_template("pages/error.html")
        .render(
            lang=lang,
            title=title,
            message=localise(exc.message, lang),
            t=lambda k, **kw: translate(k, lang, **kw),
        )
    )
    return HTMLResponse(html, status_code=exc.http_status, headers={"Cache-Control": "no-store"})


def period(date_from: str | None, date_to: str | None, today: date, days: int = 365) -> tuple[date, date]:
    """The chosen period (inclusive local dates), default the `days` up to today."""

    def parse(text: str | None) -> date | None:
        try:
            return date.fromisoformat(text) if text else None
        except ValueError:
            return None

    end = parse(date_to) or today
    start = parse(date_from) or end - timedelta(days=days - 1)
    if start > end:
        start, end = end, start
    return start, end


def not_found(page: Page) -> NotFound:
    """A 404 that does not say whether the record exists."""
    return NotFound(page.t("web.error.not_found"))
