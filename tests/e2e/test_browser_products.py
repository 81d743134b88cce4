"""Weather products in the chat, in a real Chromium: a forecaster asks for tomorrow
morning's fronts and for the wind warnings, and gets charts with provenance."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_pages import new_page, screenshot, sign_in

from conftest import CockpitServer, _new_home

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[CockpitServer]:
    """An offline cockpit with a small untrained front detector (WXAI_FRONT_MODEL)."""
    import torch

    from wxai.products.fronts import ChartGrid, FrontDetector, save_detector, synthetic_cases
    from wxai.products.fronts.cases import ChannelStats
    from wxai.products.fronts.model import DetectorConfig

    base = tmp_path_factory.mktemp("products-chat")
    cases = synthetic_cases([0], [0.0], ChartGrid(step=1.0, n_lat=16, n_lon=16))
    torch.manual_seed(0)
    detector = FrontDetector(ChannelStats.of(cases), DetectorConfig(base_channels=4))
    env = {
        "WXAI_OLLAMA_URL": "http://127.0.0.1:9",
        "WXAI_OFFLINE": "1",
        "WXAI_FRONT_MODEL": str(save_detector(detector, base / "front-detector.pt")),
    }
    cockpit = CockpitServer(_new_home(base, request), base / "server.log", env).start()
    yield cockpit
    cockpit.stop()


def _ask(page, text: str):
    from playwright.sync_api import expect

    answers = page.get_by_test_id("assistant-message")
    before = answers.count()
    page.get_by_test_id("prompt").fill(text)
    page.get_by_test_id("send").click()
    expect(answers).to_have_count(before + 1, timeout=90_000)
    expect(page.get_by_test_id("stop")).to_be_hidden(timeout=90_000)
    return answers.nth(before)


def test_fronts_and_warnings_in_the_chat(browser, server, tmp_path: Path):
    from playwright.sync_api import expect

    page, watch = new_page(browser)
    sign_in(page, server.first_link)
    page.get_by_test_id("new-session").click()
    answer = _ask(page, "Show me the fronts over Europe tomorrow morning")
    text = answer.get_by_test_id("answer-text")
    expect(text).to_contain_text("Fronts over Europe")
    expect(text).to_contain_text("SYNTHETIC")
    expect(text).to_contain_text("front-detector.pt")
    figure = text.locator("img").first
    expect(figure).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=figure.element_handle()
    )
    screenshot(page, tmp_path, "fronts")

    warnings = _ask(page, "Which warnings would the model issue for the storm tomorrow evening?")
    warnings_text = warnings.get_by_test_id("answer-text")
    expect(warnings_text).to_contain_text("Wind warnings")
    expect(warnings_text).to_contain_text("CAP 1.2")
    expect(warnings_text.locator("img").first).to_be_visible()
    screenshot(page, tmp_path, "warnings")
    watch.assert_clean()
    page.context.close()
