"""The import wizard and the quality page in a real browser (Debian's chromium): a file with errors
shows every row error and imports nothing; the fixed file imports and its leads are listed; a
duplicate pair is merged and the merge undone; the overview draws the leads-or-follow-up chart."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from tests.e2e.conftest import ARTIFACTS, LiveServer, closedloop, start_server, stop_server

PASSWORD = "closedloop-demo"
EMAIL = {
    "admin": "admin@demo.closedloop.example",
    "marketing": "marketing@demo.closedloop.example",
    "sales": "sales01@demo.closedloop.example",
}
BAD = (
    "email,name,company,created_at\r\n"
    "e2e.one@wizard.example,E2E Wizard One,E2E Wizard Co,2026-03-01 10:00\r\n"
    "not-an-email,E2E Wizard Two,E2E Wizard Co,2026-03-02 10:00\r\n"
    "e2e.three@wizard.example,E2E Wizard Three,E2E Wizard Co,2026-02-31 10:00\r\n"
)
TWINS = (
    "email,name,company,created_at\r\n"
    "twin.one@wizard.example,E2E Twin Onee,E2E Twin Co,2026-03-01 10:00\r\n"
    "twin.uno@wizard.example,E2E Twin One,E2E Twin Co,2026-03-02 10:00\r\n"
)
FIXED = BAD.replace("not-an-email", "e2e.two@wizard.example").replace("2026-02-31", "2026-02-28")


@pytest.fixture(scope="module")
def server(server_env: dict[str, str]) -> Iterator[LiveServer]:
    result = closedloop("demo", "--leads", "400", "--seed", "2", env=server_env)
    assert result.returncode == 0, result.stderr
    live = start_server(server_env, "serve")
    yield live
    stop_server(live)


def login(page, server: LiveServer, role: str) -> None:
    page.goto(f"{server.url}/login")
    page.fill("input[name=email]", EMAIL[role])
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))


def upload(page, server: LiveServer, name: str, content: str) -> None:
    page.goto(f"{server.url}/quality/import")
    page.set_input_files("input[name=file]", files=[{"name": name, "mimeType": "text/csv",
                                                     "buffer": content.encode("utf-8")}])  # fmt: skip
    page.select_option("select[name=kind]", "leads")
    with page.expect_navigation():
        page.click("form[enctype] button[type=submit]")
    # The job page reloads itself (HTTP Refresh) until the dry run is done.
    page.wait_for_selector("#preview-summary", timeout=120_000)


def commit(page) -> str:
    page.check("input[name=mode][value=all]")
    with page.expect_navigation():
        page.click("#commit")
    outcome = page.wait_for_selector("#import-outcome", timeout=120_000)
    return outcome.get_attribute("class") or ""


def test_import_wizard_with_an_error_file_then_the_fixed_file(page, server) -> None:
    login(page, server, "marketing")
    upload(page, server, "leads-with-errors.csv", BAD)
    errors = page.eval_on_selector_all(
        "#table-errors tbody tr", "rows => rows.map(r => Array.from(r.cells).map(c => c.textContent))"
    )
    assert [(e[0], e[1], e[2]) for e in errors] == [
        ("3", "email", "not-an-email"),
        ("4", "created_at", "2026-02-31 10:00"),
    ]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "quality-import-errors.png"), full_page=True)
    assert "error" in commit(page)  # all or nothing: nothing imported
    page.goto(f"{server.url}/leads?q=e2e+wizard")
    assert page.locator("#table-leads tbody a").count() == 0

    upload(page, server, "leads-fixed.csv", FIXED)
    assert page.locator("#table-errors").count() == 0
    assert "ok" in commit(page)
    page.screenshot(path=str(ARTIFACTS / "quality-import-done.png"), full_page=True)
    page.goto(f"{server.url}/leads?q=e2e+wizard")
    names = set(page.eval_on_selector_all("#table-leads tbody a", "els => els.map(e => e.textContent)"))
    assert names == {"E2E Wizard One", "E2E Wizard Two", "E2E Wizard Three"}
    assert page.console_errors == []


def test_quality_page_merge_and_undo(page, server) -> None:
    login(page, server, "admin")
    upload(page, server, "twins.csv", TWINS)
    assert "ok" in commit(page)
    page.on("dialog", lambda dialog: dialog.accept())  # the merge asks for confirmation
    page.goto(f"{server.url}/quality")
    row = page.locator("#table-duplicates tbody tr", has_text="E2E Twin Onee")
    assert row.count() == 1
    page.screenshot(path=str(ARTIFACTS / "quality-page.png"), full_page=True)
    with page.expect_navigation():
        row.locator("button[name=winner]").first.click()
    assert "done=merged" in page.url
    assert page.locator("#table-duplicates tbody tr", has_text="E2E Twin Onee").count() == 0
    with page.expect_navigation():
        page.click("#undo-last button")
    assert "done=undone" in page.url
    assert page.locator("#table-duplicates tbody tr", has_text="E2E Twin Onee").count() == 1
    assert page.console_errors == []


def test_sales_cannot_open_the_quality_pages(page, server) -> None:
    login(page, server, "sales")
    for path in ("/quality", "/quality/import"):
        response = page.goto(f"{server.url}{path}")
        assert response is not None and response.status == 403, path


def test_overview_draws_the_leads_or_follow_up_chart(page, server) -> None:
    login(page, server, "admin")
    if page.locator("#mix-sentence").count() == 0:
        pytest.skip("the demo period has no mature MQLs in one of the two periods")
    page.wait_for_selector("[data-spec=spec-mix].drawn svg", timeout=60_000)
    assert page.locator("[data-spec=spec-mix] svg .mark-rect path, [data-spec=spec-mix] svg path").count() > 0
    assert page.console_errors == []
