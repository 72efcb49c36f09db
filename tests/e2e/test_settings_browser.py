"""Settings in a real browser (Debian's chromium): a proposal approved by a second person, an API key shown once."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from tests.e2e.conftest import ARTIFACTS, LiveServer, closedloop, start_server, stop_server

from closedloop.i18n.messages.web_settings import MESSAGES

PASSWORD = "closedloop-demo"
EMAIL = {
    "admin": "admin@demo.closedloop.example",
    "manager": "manager@demo.closedloop.example",
    "sales": "sales01@demo.closedloop.example",
}
SETTINGS_PAGES = ("/settings", "/settings/policies", "/settings/users", "/settings/sites", "/settings/pipeline",
                  "/settings/sla", "/settings/routing", "/settings/scoring", "/settings/channels")  # fmt: skip


@pytest.fixture(scope="module")
def server(server_env: dict[str, str]) -> Iterator[LiveServer]:
    result = closedloop("demo", "--leads", "200", "--seed", "2", env=server_env)
    assert result.returncode == 0, result.stderr
    live = start_server(server_env, "serve")
    yield live
    stop_server(live)


def login(browser, server: LiveServer, role: str):
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.console_errors = errors
    page.goto(f"{server.url}/login")
    page.fill("input[name=email]", EMAIL[role])
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))
    return context, page


def test_a_proposal_is_approved_by_a_second_person_and_a_key_is_shown_once(browser, server) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    # Sales proposes a faster SLA from the settings hub.
    context, page = login(browser, server, "sales")
    page.click("header nav a[href='/settings']")
    page.click("a[href='/settings/sla']")
    page.fill("input[name=first_response_hours]", "2")
    page.fill("input[name=reason]", "Answer MQLs within two business hours")
    with page.expect_navigation():
        page.click("#sla-form button[type=submit]")
    assert page.url.endswith("/settings/sla?done=proposed")
    page.goto(f"{server.url}/settings/policies")
    proposal = page.locator(".queue-item", has_text="Answer MQLs within two business hours")
    assert proposal.count() == 1
    # The proposer is not offered the approval.
    assert proposal.locator("button.ok").count() == 0
    vid = proposal.get_attribute("id").removeprefix("proposal-")
    page.screenshot(path=str(ARTIFACTS / "settings-proposal.png"), full_page=True)
    assert page.console_errors == []
    context.close()

    # A manager approves (for both sides): the version is approved, with its history.
    context, page = login(browser, server, "manager")
    page.goto(f"{server.url}/settings/policies")
    with page.expect_navigation():
        page.click(f"#proposal-{vid} button.ok")
    assert page.url.endswith("/settings/policies?done=approved")
    assert page.locator(f"#proposal-{vid}").count() == 0
    row = page.locator("#table-policy-history tbody tr", has_text="Answer MQLs within two business hours")
    assert row.count() == 1 and EMAIL["manager"] in row.inner_text() and EMAIL["sales"] in row.inner_text()
    assert page.console_errors == []
    context.close()

    # An admin creates a read key for the sales rep: shown once, and it works as a Bearer key.
    context, page = login(browser, server, "admin")
    page.goto(f"{server.url}/settings/users")
    page.select_option("select[name=key_user_id]", label=EMAIL["sales"])
    page.fill("input[name=key_name]", "spreadsheet sync")
    page.check("input[name=scopes][value=read]")
    page.uncheck("input[name=scopes][value=write]")
    page.click("#new-key-form button[type=submit]")
    page.wait_for_selector("#new-key-value")
    key = page.input_value("#new-key-value")
    assert key.startswith("cl_")
    page.screenshot(path=str(ARTIFACTS / "settings-new-key.png"), full_page=True)
    answer = httpx.get(f"{server.url}/api/v1/leads", headers={"Authorization": f"Bearer {key}"}, timeout=30)
    assert answer.status_code == 200
    page.goto(f"{server.url}/settings/users")
    assert key not in page.content() and "spreadsheet sync" in page.inner_text("#table-keys")
    assert page.console_errors == []
    context.close()


def test_settings_pages_in_chinese_leave_no_english(browser, server) -> None:
    phrases = {e["en"] for e in MESSAGES.values() if " " in e["en"] and "{" not in e["en"]
               and e["en"] not in (e["zh-TW"], e["zh-CN"])}  # fmt: skip
    context, page = login(browser, server, "admin")
    for lang in ("zh-CN", "zh-TW"):
        page.goto(f"{server.url}/settings")
        with page.expect_navigation():
            page.select_option("#lang-switch", lang)
        for path in SETTINGS_PAGES:
            response = page.goto(f"{server.url}{path}")
            assert response is not None and response.status == 200, path
            text = page.evaluate(
                "() => { const b = document.body.cloneNode(true);"
                " b.querySelectorAll('[translate=no], script, textarea').forEach(e => e.remove()); return b.textContent; }"
            )
            assert not re.search(r"\bweb\.[a-z_]+\.", text), path
            assert [p for p in phrases if p in text] == [], (lang, path)
    page.screenshot(path=str(ARTIFACTS / "settings-sla-zh-TW.png"), full_page=True)
    assert page.console_errors == []
    context.close()


# Every form control has a name a screen reader can say: a <label>, aria-label or aria-labelledby.
UNLABELLED = """() => [...document.querySelectorAll('main input:not([type=hidden]), main select, main textarea, main button')]
  .filter(e => e.offsetParent !== null)
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby')
               && !(e.tagName === 'BUTTON' && e.textContent.trim()))
  .map(e => e.outerHTML.slice(0, 120))"""


def test_admin_adds_and_moves_a_stage_with_the_keyboard_at_phone_width(browser, server) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{server.url}/login")
    page.fill("input[name=email]", EMAIL["admin"])
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))
    for path in (*SETTINGS_PAGES, "/quality", "/reviews"):
        response = page.goto(f"{server.url}{path}")
        assert response is not None and response.status == 200, path
        # Usable at phone width: wide tables scroll inside their own region, never the page.
        assert page.evaluate("document.documentElement.scrollWidth") <= 391, path
        assert page.evaluate(UNLABELLED) == [], path

    page.goto(f"{server.url}/settings/pipeline")
    before = page.locator("#table-stages tbody tr").evaluate_all("rows => rows.map(r => r.id)")
    # Fill the add-stage form with the keyboard only: focus the key field, then Tab from field to field.
    page.focus("#add-stage input[name=key]")
    page.keyboard.type("technical_review")
    for text in ("Technical review", "技術審查", "技术审查"):
        page.keyboard.press("Tab")
        page.keyboard.type(text)
    page.select_option("#add-stage select[name=after]", "needs_analysis")
    page.focus("#add-stage button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/settings/pipeline?done=added")
    after = page.locator("#table-stages tbody tr").evaluate_all("rows => rows.map(r => r.id)")
    assert after == [*before[:2], "stage-technical_review", *before[2:]]
    # Move it up with the keyboard: its button says what it does to a screen reader.
    up = page.locator("#stage-technical_review button[value='technical_review:up']")
    assert "Technical review" in (up.get_attribute("aria-label") or "") or "技術審查" in (
        up.get_attribute("aria-label") or ""
    )
    up.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    moved = page.locator("#table-stages tbody tr").evaluate_all("rows => rows.map(r => r.id)")
    assert moved == [before[0], "stage-technical_review", before[1], *before[2:]]
    assert (
        page.locator("input[name='prob-technical_review']").count() == 1
    )  # its probability is proposed below
    assert page.evaluate("document.documentElement.scrollWidth") <= 391
    page.screenshot(path=str(ARTIFACTS / "settings-pipeline-phone.png"), full_page=True)
    assert errors == []
    context.close()
