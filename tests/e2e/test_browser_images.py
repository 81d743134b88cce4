"""Images in the chat, in a real Chromium: upload a radar composite, have it read, see it."""

from __future__ import annotations

import pytest
from e2e_pages import new_page, screenshot, sign_in

pytestmark = pytest.mark.e2e


def test_an_uploaded_radar_composite_is_shown_and_read(browser, cockpit_server, tmp_path):
    from playwright.sync_api import expect

    from wxai.data.synthetic.samples import write_samples

    radar = write_samples(tmp_path / "samples", seed=5)["radar"]
    page, watch = new_page(browser)
    sign_in(page, cockpit_server.login_link("admin"))
    page.get_by_test_id("new-session").click()
    page.get_by_test_id("chat-upload").set_input_files(str(radar))
    status = page.get_by_test_id("upload-status")
    expect(status).to_contain_text("press Enter to have it read", timeout=60_000)
    prompt = page.get_by_test_id("prompt")
    expect(prompt).to_have_value(f"Describe {radar.name}")  # the question names the file
    prompt.press("Enter")

    answers = page.get_by_test_id("assistant-message")
    expect(answers).to_have_count(1, timeout=90_000)
    answer = answers.first
    tool = answer.get_by_test_id("tool-read_image")
    expect(tool.locator(".tool-state")).to_have_text("done", timeout=90_000)
    text = answer.get_by_test_id("answer-text")
    figure = text.locator("img").first  # inline in the answer, not only in the tool's details
    expect(figure).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 900", arg=figure.element_handle()
    )
    expect(text).to_contain_text("MEASURED from the data")
    expect(text).to_contain_text("does not accept images")  # the offline model is honest
    screenshot(page, tmp_path, "30_assistant_radar_image")
    watch.assert_clean()
    page.context.close()
