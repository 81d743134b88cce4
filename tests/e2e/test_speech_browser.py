"""The assistant's microphone in a real Chromium: a fake microphone plays a German question.

Chromium's fake capture device reads a WAV file (espeak-ng speech); the test clicks
the microphone, stops, and the recognised words must land in the input box, not sent.
(Through Chromium's Opus encoding Whisper hears espeak's German less well than from the
WAV file: the place name is checked, not every word.)
"""

from __future__ import annotations

import io
import re
import shutil
import wave
from pathlib import Path

import numpy as np
import pytest
from e2e_pages import CHROMIUM, CHROMIUM_ARGS, new_page, sign_in

from conftest import CockpitServer
from wxai.assistant.speech import SAMPLE_RATE, load_audio, whisper_available
from wxai.assistant.speech.phrases import synthesise

pytestmark = pytest.mark.e2e

QUESTION = "Wie wird das Wetter morgen in Hamburg?"


def _fake_microphone_wav(path: Path) -> float:
    """The question with 0.5 s of silence around it, as 16 kHz 16-bit WAV; its length in s."""
    speech = load_audio(synthesise(QUESTION, "de")).samples
    pause = np.zeros(SAMPLE_RATE // 2, dtype=np.float32)
    samples = np.concatenate([pause, speech, pause])
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(SAMPLE_RATE)
        writer.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    path.write_bytes(buffer.getvalue())
    return samples.size / SAMPLE_RATE


def test_speech_microphone_fills_the_prompt(cockpit_server: CockpitServer, tmp_path: Path) -> None:
    if not CHROMIUM.exists() or shutil.which("espeak-ng") is None or not whisper_available():
        pytest.skip("needs chromium, espeak-ng and the speech extra (scripts/system-deps.sh)")
    from playwright.sync_api import expect, sync_playwright

    wav = tmp_path / "question.wav"
    seconds = _fake_microphone_wav(wav)
    cockpit_server.admin_key()  # the first link is used up here; later links come from the API
    fake_microphone = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={wav}%noloop",
    ]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *fake_microphone]
        )
        try:
            page, watch = new_page(browser)
            sign_in(page, cockpit_server.login_link())
            mic, status = page.get_by_test_id("mic"), page.get_by_test_id("mic-status")
            expect(mic).to_be_enabled()
            page.get_by_test_id("mic-language").select_option("de")
            mic.click()
            expect(mic).to_have_attribute("aria-pressed", "true")
            expect(status).to_contain_text("recording")
            page.wait_for_timeout(int((seconds + 0.7) * 1000))
            mic.click()
            prompt = page.get_by_test_id("prompt")
            expect(status).to_contain_text("check the text", timeout=120_000)
            expect(prompt).to_have_value(re.compile("Hamburg", re.IGNORECASE))
            words = set(re.findall(r"\w+", prompt.input_value().lower()))
            # Opus in the browser costs Whisper some words of espeak's German; the place stays
            assert "hamburg" in words, prompt.input_value()
            expect(status).to_contain_text("recognised (German)")
            expect(mic).to_have_attribute("aria-pressed", "false")
            assert page.get_by_test_id("user-message").count() == 0  # checked first, not sent
            watch.assert_clean()
        finally:
            browser.close()
