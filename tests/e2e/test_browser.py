"""The cockpit page in a real Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Chromium; skipped locally when it is not installed, a failure in CI."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing; install it with: apt-get install -y chromium"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def test_run_a_lab_from_the_page(browser, cockpit_server, fast_lab, tmp_path):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1360, "height": 1000})  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(cockpit_server.url + "/")
    expect(page).to_have_title("wxai cockpit")

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

    page.screenshot(path=str(tmp_path / "cockpit_home.png"), full_page=True)
    assert (tmp_path / "cockpit_home.png").stat().st_size > 10_000
    assert errors == []
    page.close()


def test_ask_the_assistant_and_see_the_answer_stream_in(browser, cockpit_server, tmp_path):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1360, "height": 1000})  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(cockpit_server.url + "/#assistant")
    model = page.get_by_test_id("assistant-model")
    expect(model).to_have_value("local-fast")  # the default alias, loaded from /api/llm/models
    page.get_by_test_id("assistant-prompt").fill("What is a cold front?")
    page.locator('input[name="max_tokens"]').fill("24")
    page.get_by_test_id("assistant-send").click()
    status = page.get_by_test_id("assistant-status")
    expect(status).to_have_text("done (length)", timeout=60_000)
    assert len(page.get_by_test_id("assistant-answer").inner_text().split()) >= 5

    model.select_option("ollama-core")  # nobody serves Ollama here: a clear error, no crash
    page.get_by_test_id("assistant-send").click()
    expect(status).to_have_attribute("data-state", "error", timeout=30_000)
    expect(status).to_contain_text("ollama")
    page.screenshot(path=str(tmp_path / "assistant.png"), full_page=True)
    assert errors == []
    page.close()


def test_upload_a_document_and_get_a_cited_answer(browser, cockpit_server, tmp_path):
    from playwright.sync_api import expect

    notes = tmp_path / "station-notes.md"
    notes.write_text(
        "# Station notes\n\n## Radar maintenance\n\nThe Feldberg radar is switched off for "
        "maintenance every first Monday of the month between 06 and 08 UTC.\n"
    )
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7 not really a pdf")
    page = browser.new_page(viewport={"width": 1360, "height": 1000})  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(cockpit_server.url + "/#assistant")

    page.get_by_test_id("upload-store").fill("station")
    page.get_by_test_id("upload-file").set_input_files(str(broken))
    page.get_by_test_id("upload-send").click()
    upload_status = page.get_by_test_id("upload-status")
    expect(upload_status).to_have_attribute("data-state", "error", timeout=60_000)
    expect(upload_status).to_contain_text("broken.pdf")

    page.get_by_test_id("upload-file").set_input_files(str(notes))
    page.get_by_test_id("upload-send").click()
    expect(upload_status).to_contain_text("station-notes.md: added", timeout=60_000)
    expect(page.get_by_test_id("assistant-store")).to_have_value("station")

    page.get_by_test_id("assistant-prompt").fill("When is the Feldberg radar switched off?")
    page.locator('input[name="max_tokens"]').fill("32")
    page.get_by_test_id("assistant-send").click()
    status = page.get_by_test_id("assistant-status")
    expect(status).to_have_text("done (from the documents)", timeout=60_000)
    sources = page.get_by_test_id("assistant-sources")
    expect(sources.locator("li").first).to_contain_text("[station-notes.md, lines")
    assert page.get_by_test_id("assistant-answer").inner_text().strip()
    page.screenshot(path=str(tmp_path / "assistant_rag.png"), full_page=True)
    assert errors == []
    page.close()
