"""Weather products in the chat, in a real Chromium: a forecaster asks for tomorrow
morning's fronts and for the wind warnings, and gets charts with provenance."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_pages import ask, first_loaded_image, new_page, screenshot, sign_in

from conftest import CockpitServer, _new_home
from products_fixture import save_tiny_detector

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[CockpitServer]:
    """An offline cockpit with a small untrained front detector (WXAI_FRONT_MODEL)."""
    base = tmp_path_factory.mktemp("products-chat")
    env = {
        "WXAI_OLLAMA_URL": "http://127.0.0.1:9",
        "WXAI_OFFLINE": "1",
        "WXAI_FRONT_MODEL": str(save_tiny_detector(base / "front-detector.pt")),
    }
    cockpit = CockpitServer(_new_home(base, request), base / "server.log", env).start()
    yield cockpit
    cockpit.stop()


def test_fronts_and_warnings_in_the_chat(browser, server, tmp_path: Path):
    from playwright.sync_api import expect

    page, watch = new_page(browser)
    sign_in(page, server.first_link)
    page.get_by_test_id("new-session").click()
    answer = ask(page, "Show me the fronts over Europe tomorrow morning")
    text = answer.get_by_test_id("answer-text")
    expect(text).to_contain_text("Fronts over Europe")
    expect(text).to_contain_text("SYNTHETIC")
    expect(text).to_contain_text("front-detector.pt")
    first_loaded_image(page, text)
    screenshot(page, tmp_path, "fronts")

    warnings = ask(page, "Which warnings would the model issue for the storm tomorrow evening?")
    warnings_text = warnings.get_by_test_id("answer-text")
    expect(warnings_text).to_contain_text("Wind warnings")
    expect(warnings_text).to_contain_text("CAP 1.2")
    expect(warnings_text.locator("img").first).to_be_visible()
    screenshot(page, tmp_path, "warnings")
    watch.assert_clean()
    page.context.close()
