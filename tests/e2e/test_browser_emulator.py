"""The emulator in the chat, in a real Chromium: a forecaster asks for 850 hPa temperature
from the latest analysis, for the scorecard and for the ensemble's spread, and gets maps,
numbers and provenance."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_pages import ask, first_loaded_image, new_page, screenshot, sign_in

from conftest import CockpitServer, _new_home
from emulator_fixture import build_inputs

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[CockpitServer]:
    """A cockpit whose emulator is a tiny untrained model (WXAI_EMULATOR_MODEL)."""
    base = tmp_path_factory.mktemp("emulator-chat")
    inputs = build_inputs(base / "emulator")
    env = {
        "WXAI_OLLAMA_URL": "http://127.0.0.1:9",
        "WXAI_OFFLINE": "1",
        "WXAI_EMULATOR_MODEL": str(inputs["checkpoint"]),
    }
    cockpit = CockpitServer(_new_home(base, request), base / "server.log", env).start()
    yield cockpit
    cockpit.stop()


def test_emulator_forecast_and_scorecard_in_the_chat(browser, server, tmp_path: Path):
    from playwright.sync_api import expect

    page, watch = new_page(browser)
    sign_in(page, server.first_link)
    page.get_by_test_id("new-session").click()
    answer = ask(
        page, "Run the emulator from the latest analysis and show me 850 hPa temperature at day 3"
    )
    text = answer.get_by_test_id("answer-text")
    expect(text).to_contain_text("t_8")  # the nearest model level to 850 hPa
    expect(text).to_contain_text("sigma")
    expect(text).to_contain_text("checkpoint")
    first_loaded_image(page, text)
    screenshot(page, tmp_path, "emulator_forecast")

    card = ask(page, "How good is the emulator at day 1?")
    card_text = card.get_by_test_id("answer-text")
    expect(card_text).to_contain_text("persistence")
    expect(card_text).to_contain_text("climatology")
    screenshot(page, tmp_path, "emulator_scorecard")

    spread = ask(
        page, "How likely is surface pressure below 100000 Pa in the emulator ensemble at day 2?"
    )
    spread_text = spread.get_by_test_id("answer-text")
    expect(spread_text).to_contain_text("Emulator ensemble of sp")
    expect(spread_text).to_contain_text("calibrated")
    ensemble_map = first_loaded_image(page, spread_text)
    # three wide panels shrink to the answer column: nothing scrolls sideways
    image, column = ensemble_map.bounding_box(), spread.bounding_box()
    assert image["x"] + image["width"] <= column["x"] + column["width"] + 1
    assert page.evaluate(
        "() => { const m = document.querySelector('.messages');"
        " return m.scrollWidth <= m.clientWidth; }"
    )
    screenshot(page, tmp_path, "emulator_ensemble")
    watch.assert_clean()
    page.context.close()
