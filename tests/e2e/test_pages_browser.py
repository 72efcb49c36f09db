"""The pages in a real browser (Debian's chromium): roles, charts drawn, languages, the sales flow, screenshots."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import pytest
from tests.e2e.conftest import ARTIFACTS, LiveServer, closedloop, start_server, stop_server
from tests.integration.web.pages_world import give_open_handoffs

from closedloop.i18n.messages.web import MESSAGES

PASSWORD = "closedloop-demo"
EMAIL = {
    "admin": "admin@demo.closedloop.example",
    "manager": "manager@demo.closedloop.example",
    "marketing": "marketing@demo.closedloop.example",
    "sales": "sales01@demo.closedloop.example",
    "viewer": "viewer@demo.closedloop.example",
}
# What each role's menu shows (worked out from the access issue's role table, not from the code).
MENU = {
    "admin": {"/", "/funnel", "/attribution", "/campaigns", "/leads", "/queue", "/pipeline", "/quality", "/models"},
    "manager": {"/", "/funnel", "/attribution", "/campaigns", "/leads", "/queue", "/pipeline", "/quality", "/models"},
    "marketing": {"/", "/funnel", "/attribution", "/campaigns", "/leads", "/quality", "/models"},
    "sales": {"/", "/funnel", "/attribution", "/campaigns", "/leads", "/queue", "/pipeline"},
    "viewer": {"/", "/funnel", "/attribution", "/campaigns"},
}
# Every role reads the reviews and the glossary ("reviews", "read" is every role's).
# Settings: every role but viewers opens the areas its role owns.
for _role, _pages in MENU.items():
    _pages |= {"/reviews", "/glossary"} | ({"/settings"} if _role != "viewer" else set())
ALL_PAGES = {"/", "/funnel", "/attribution", "/campaigns", "/leads", "/queue", "/pipeline", "/quality", "/models", "/settings"}
MAIN_PAGES = ("/", "/funnel", "/attribution", "/campaigns", "/leads", "/queue", "/pipeline")


@pytest.fixture(scope="module")
def server(server_env: dict[str, str]) -> Iterator[LiveServer]:
    result = closedloop("demo", "--leads", "600", "--seed", "1", env=server_env)
    assert result.returncode == 0, result.stderr
    from closedloop.store import session_factory_for

    give_open_handoffs(session_factory_for(server_env["CLOSEDLOOP_DATABASE_URL"]), EMAIL["sales"], 3)
    live = start_server(server_env, "serve")
    yield live
    stop_server(live)


def login(page, server: LiveServer, role: str) -> None:
    page.goto(f"{server.url}/login")
    page.fill("input[name=email]", EMAIL[role])
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))


def menu(page) -> set[str]:
    return set(page.eval_on_selector_all("header nav a", "els => els.map(e => e.getAttribute('href'))"))


@pytest.mark.parametrize("role", list(EMAIL))
def test_each_role_sees_its_menu_and_nothing_else(browser, server, role) -> None:
    context = browser.new_context()
    page = context.new_page()
    login(page, server, role)
    assert menu(page) == MENU[role]
    for path in ALL_PAGES - MENU[role]:
        response = page.goto(f"{server.url}{path}")
        assert response is not None and response.status == 403, path
    context.close()


def test_overview_draws_its_charts_without_console_errors(page, server) -> None:
    login(page, server, "admin")
    page.wait_for_selector(".chart.drawn svg", timeout=60_000)
    page.wait_for_function("document.querySelectorAll('.chart.drawn').length >= 2", timeout=60_000)
    for holder in page.query_selector_all(".chart"):
        assert holder.query_selector_all(
            "svg .mark-rect path, svg .mark-line path, svg .mark-symbol path, svg path"
        )
    assert page.console_errors == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(ARTIFACTS / "pages-overview.png"), full_page=True)


def _english_only_phrases() -> set[str]:
    """English texts of several words whose translations differ: none may show on a zh page."""
    return {
        entry["en"]
        for entry in MESSAGES.values()
        if " " in entry["en"]
        and "{" not in entry["en"]
        and entry["en"] not in (entry["zh-TW"], entry["zh-CN"])
    }


@pytest.mark.parametrize("lang,marker", [("zh-TW", "總覽"), ("zh-CN", "总览")])
def test_language_switch_leaves_no_english_on_the_main_pages(browser, server, lang, marker) -> None:
    context = browser.new_context()
    page = context.new_page()
    login(page, server, "manager")
    with page.expect_navigation():
        page.select_option("#lang-switch", lang)
    assert page.get_attribute("html", "lang") == lang
    assert marker in page.inner_text("header nav")
    phrases = _english_only_phrases()
    for path in MAIN_PAGES:
        page.goto(f"{server.url}{path}")
        # People's own words (goal, campaign and lead names) are marked translate="no" and left out.
        text = page.evaluate(
            "() => { const b = document.body.cloneNode(true);"
            " b.querySelectorAll('[translate=no], script').forEach(e => e.remove()); return b.textContent; }"
        )
        assert not re.search(r"\bweb\.[a-z_]+\.", text), path  # a message key shown raw
        found = [p for p in phrases if p in text]
        assert found == [], (path, found)
    page.screenshot(path=str(ARTIFACTS / f"pages-pipeline-{lang}.png"), full_page=True)
    with page.expect_navigation():
        page.select_option("#lang-switch", "en")
    context.close()


def _customers_reached(page, server: LiveServer) -> int:
    """Sum of the overview trend's customer column (period mode: customers reached in the period)."""
    body = page.request.get(f"{server.url}/?csv=trend").text()
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    return sum(int(r[-1] or 0) for r in rows[1:])


def test_sales_flow_from_queue_to_won_deal_shows_on_the_overview(page, server) -> None:
    login(page, server, "sales")
    before = _customers_reached(page, server)
    page.goto(f"{server.url}/queue")
    items = page.query_selector_all("article.queue-item")
    open_items = [i for i in items if i.query_selector("form[action$='/accept']")]
    assert len(open_items) >= 2, "the demo gives sales01 open hand-offs"
    reject_action = open_items[1].query_selector("form[action$='/reject']").get_attribute("action")
    accept_action = open_items[0].query_selector("form[action$='/accept']").get_attribute("action")
    handoff = accept_action.split("/")[2]
    # Reject one with a reason.
    form = page.locator(f"form[action='{reject_action}']")
    form.locator("select[name=reason]").select_option("no_budget")
    form.locator("button").click()
    page.wait_for_url(re.compile(r".*done=rejected"))
    # Accept, qualify and open a deal on another.
    page.locator(f"form[action='{accept_action}'] button").click()
    page.wait_for_url(re.compile(r".*done=accepted"))
    page.locator(f"form[action='/queue/{handoff}/qualify'] button").click()
    page.wait_for_url(re.compile(r".*done=qualified"))
    deal_form = page.locator(f"form[action='/queue/{handoff}/deal']")
    deal_form.locator("input[name=name]").fill("E2E <b>deal</b>")
    deal_form.locator("input[name=amount]").fill("120000")
    deal_form.locator("button").click()
    page.wait_for_url(re.compile(r".*done=deal_opened"))
    # Move it, then win it, on the board.
    page.goto(f"{server.url}/pipeline")
    card = page.locator("article.deal", has_text="E2E <b>deal</b>")
    card.locator("select[name=stage]").select_option("proposal")
    card.locator("form[action$='/move'] button").click()
    page.wait_for_url(re.compile(r".*done=moved"))
    assert page.locator("#col-proposal ~ article.deal", has_text="E2E <b>deal</b>").count() == 1
    page.locator("article.deal", has_text="E2E <b>deal</b>").locator("form[action$='/win'] button").click()
    page.wait_for_url(re.compile(r".*done=won"))
    assert _customers_reached(page, server) == before + 1
    assert page.console_errors == []


def test_a_stale_move_is_refused_and_said_clearly(browser, server) -> None:
    context = browser.new_context()
    first, second = context.new_page(), context.new_page()
    login(first, server, "admin")
    first.goto(f"{server.url}/pipeline")
    second.goto(f"{server.url}/pipeline")
    deal = first.locator("article.deal").first
    action = deal.locator("form[action$='/move']").get_attribute("action")
    deal.locator("form[action$='/move'] button").click()
    first.wait_for_url(re.compile(r".*done=moved"))
    stale = second.locator(f"form[action='{action}']")
    with second.expect_navigation():
        stale.locator("button").click()
    alert = second.locator("p.flash.error")
    lang = second.get_attribute("html", "lang")
    assert alert.count() == 1 and alert.inner_text() == MESSAGES["web.pipeline.conflict"][lang]
    context.close()


def test_screenshots_of_the_main_pages(browser, server) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    for width, label in ((1280, "desktop"), (390, "phone")):
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        login(page, server, "admin")
        for path in MAIN_PAGES:
            page.goto(f"{server.url}{path}")
            if page.query_selector(".chart"):
                page.wait_for_selector(".chart.drawn svg", timeout=60_000)
            name = path.strip("/") or "overview"
            page.screenshot(path=str(ARTIFACTS / f"pages-{name}-{label}.png"), full_page=True)
            assert page.evaluate("document.documentElement.scrollWidth") <= width + 1 or name == "pipeline", (
                name
            )
        context.close()
