"""The labs page in a real Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

import pytest
from e2e_pages import new_page, screenshot, sign_in

pytestmark = pytest.mark.e2e


def test_run_a_lab_from_the_page(browser, cockpit_server, fast_lab, tmp_path):
    from playwright.sync_api import expect

    page, watch = new_page(browser)
    sign_in(page, cockpit_server.login_link("admin"))
    page.get_by_test_id("nav-labs").click()
    expect(page).to_have_title("Labs and tasks - wxai")

    card = page.get_by_test_id("card-sine-regression")
    expect(card.get_by_test_id("preset-sine-regression")).to_have_value("smoke")
    card.get_by_test_id("overrides-sine-regression").fill(" ".join(fast_lab[1:]))
    card.get_by_test_id("run-sine-regression").click()

    status = page.get_by_test_id("status-sine-regression")
    expect(status).to_be_visible()
    expect(status.get_by_test_id("task-state")).to_have_text("completed", timeout=90_000)
    progress = page.get_by_test_id("progress-sine-regression")
    expect(progress).to_have_attribute("aria-valuenow", "100")
    card = page.get_by_test_id("card-sine-regression")  # reloaded with the new result
    expect(card.get_by_test_id("acceptance-badge")).to_have_text("PASS")
    expect(card.get_by_test_id("figure-sine-regression").first).to_be_visible()

    tasks = page.get_by_test_id("tasks-table")
    expect(tasks.get_by_test_id("task-state").first).to_have_text("completed", timeout=10_000)

    card.get_by_test_id("figure-sine-regression").first.click()  # full size in a lightbox
    expect(page.locator("dialog#lightbox")).to_be_visible()
    page.keyboard.press("Escape")

    screenshot(page, tmp_path, "labs_after_run", min_bytes=10_000)
    watch.assert_clean()
    page.context.close()
