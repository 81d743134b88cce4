"""Images in the chat: uploads of pictures, radar composites and cloud-top height files,
shown inline and read by the session's model when it sees images, else by measurement."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import h5py
import numpy as np
import pytest
from PIL import Image

from wxai.assistant.llm.types import Capabilities, ChatResponse, Message
from wxai.cockpit.image_tools import image_call
from wxai.data.formats.odim import read_odim
from wxai.data.synthetic.samples import write_samples
from wxai.products.descriptors.remote_sensing import NO_ECHO_DBZ, radar_descriptors

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _png(width: int = 64, height: int = 48, fmt: str = "PNG") -> bytes:
    """A sky-blue picture with a white band (a stand-in for a photo of clouds)."""
    pixels = np.zeros((height, width, 3), np.uint8)
    pixels[...] = (90, 150, 220)
    pixels[height // 3 : height // 2] = 255
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format=fmt)
    return out.getvalue()


class SeeingModel:
    """A vision model that keeps what it was sent and answers with a fixed sentence."""

    name = "fake"
    model = "fake-vision-1"
    capabilities = Capabilities(native_tools=True, vision=True, context_length=8192)

    def __init__(self) -> None:
        self.sent: list[Message] = []

    def chat(self, messages: Sequence[Message], **_: Any) -> ChatResponse:
        self.sent.extend(messages)
        return ChatResponse(content="A band of cloud lies across the middle of the picture.")

    def stream(self, messages: Sequence[Message], **_: Any):
        raise AssertionError("the image reader asks once, it does not stream")


def _parts(response) -> list[dict[str, Any]]:
    return [json.loads(line[5:]) for line in response.text.splitlines() if line.startswith("data:")]


def _private(client) -> str:
    spaces = client.get("/api/dataspaces").json()
    return next(space["id"] for space in spaces if space["kind"] == "private")


def _upload(client, space: str, name: str, data: bytes):
    return client.post(
        f"/api/dataspaces/{space}/files",
        files={"file": (name, io.BytesIO(data), "application/octet-stream")},
    )


def _ask(client, session: str, text: str) -> list[dict[str, Any]]:
    response = client.post(f"/api/sessions/{session}/messages", json={"text": text})
    assert response.status_code == 200, response.text
    return _parts(response)


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> dict[str, Path]:
    return write_samples(tmp_path_factory.mktemp("samples"), seed=3)


def test_the_rule_reads_named_or_pointed_at_images():
    files = [
        SimpleNamespace(name="sky.png", kind="image", summary={"format": "png"}, created_at="1"),
        SimpleNamespace(name="radar.h5", kind="data", summary={"format": "odim"}, created_at="2"),
        SimpleNamespace(
            name="era5.nc",
            kind="data",
            summary={"format": "netcdf", "variables": {"t2m": {}}},
            created_at="3",
        ),
        SimpleNamespace(
            name="cth.nc",
            kind="data",
            summary={"format": "netcdf", "variables": {"CTH": {}}},
            created_at="0",
        ),
    ]
    assert image_call("what does radar.h5 show?", files) == (
        "read_image", {"file": "radar.h5", "task": "what does radar.h5 show?"},
    )  # fmt: skip
    assert image_call("describe sky.png", files)[1]["file"] == "sky.png"
    assert image_call("describe the uploaded image", files)[1]["file"] == "radar.h5"  # newest
    assert image_call("highest cloud tops in cth.nc", files)[1]["file"] == "cth.nc"
    assert image_call("CTH at Frankfurt in cth.nc", files) is None  # a value: field_value
    assert image_call("map of t2m in era5.nc", files) is None  # not an image
    assert image_call("what does the radar show now?", files) is None  # live radar, no file
    assert image_call("describe the image", files[2:3]) is None  # no image uploaded
    assert image_call("describe x.png", files[2:3])[1]["file"] == "x.png"  # the tool says why


def test_an_uploaded_picture_is_shown_and_read_by_a_vision_model(client):
    space = _private(client)
    stored = _upload(client, space, "sky.png", _png())
    assert stored.status_code in (200, 201), stored.text
    file = stored.json()["file"]
    assert file["kind"] == "image" and file["media_type"] == "image/png"
    assert file["summary"] == {"format": "png", "width": 64, "height": 48}

    model = SeeingModel()
    client.app.state.chat_provider = lambda alias: model
    session = client.post("/api/sessions", json={"title": "img", "model": "openai-fast"}).json()
    parts = _ask(client, session["id"], "Describe the uploaded image sky.png")
    call = next(p for p in parts if p["type"] == "tool_call")
    assert call["name"] == "read_image" and call["arguments"]["file"] == "sky.png"
    result = next(p for p in parts if p["type"] == "tool_result")
    assert result["summary"]["used_vision"] is True
    assert "band of cloud" in result["html"] and "fake-vision-1" in result["html"]
    sent = [m for m in model.sent if m.images]
    assert len(sent) == 1 and sent[0].images[0] == _png()  # the picture as uploaded
    assert "sky.png" in sent[0].content and "64 x 48" in sent[0].content
    shown = client.get(result["figures"][0])
    assert shown.status_code == 200 and shown.content.startswith(PNG_MAGIC)
    assert parts[-1]["status"] == "complete"


def test_without_a_vision_model_the_chat_says_so_and_shows_the_picture(client):
    space = _private(client)
    assert _upload(client, space, "webcam.jpg", _png(fmt="JPEG")).status_code in (200, 201)
    session = client.post("/api/sessions", json={"title": "img"}).json()  # default: local-fast
    parts = _ask(client, session["id"], "what is in this picture?")
    result = next(p for p in parts if p["type"] == "tool_result")
    assert result["summary"]["used_vision"] is False
    assert "does not accept images" in result["html"] and "local-fast" in result["html"]
    assert "openai-fast" in result["html"]  # names models that could read it
    shown = client.get(result["figures"][0])  # the JPEG is shown as a PNG
    assert shown.content.startswith(PNG_MAGIC)
    assert Image.open(io.BytesIO(shown.content)).size == (64, 48)


def test_a_radar_composite_is_rendered_and_measured(client, samples):
    space = _private(client)
    data = samples["radar"].read_bytes()
    stored = _upload(client, space, "radar.h5", data)
    assert stored.status_code in (200, 201), stored.text
    file = stored.json()["file"]
    assert file["summary"]["format"] == "odim" and "DBZH" in str(file["summary"]["variables"])
    session = client.post("/api/sessions", json={"title": "radar"}).json()
    parts = _ask(client, session["id"], "What does radar.h5 show?")
    result = next(p for p in parts if p["type"] == "tool_result")
    assert result["name"] == "read_image"
    expected = radar_descriptors(read_odim(samples["radar"], undetect_value=NO_ECHO_DBZ))
    assert result["summary"]["descriptors"] == expected.text()
    assert f"{100 * expected.coverage:.1f}%" in result["html"]
    png = client.get(result["figures"][0]).content
    assert Image.open(io.BytesIO(png)).size == (900, 640)  # the fixed AI-readable map


def test_a_cloud_top_height_file_is_rendered_and_measured(client, samples):
    space = _private(client)
    assert _upload(client, space, "cth.nc", samples["cth"].read_bytes()).status_code in (200, 201)
    session = client.post("/api/sessions", json={"title": "cth"}).json()
    parts = _ask(client, session["id"], "Where are the highest cloud tops in cth.nc?")
    result = next(p for p in parts if p["type"] == "tool_result")
    assert result["name"] == "read_image" and "cloud" in result["html"].lower()
    assert result["summary"]["what"] == "cloud-top height" and result["figures"]


def test_bad_images_and_radar_files_get_clear_errors(client, tmp_path):
    space = _private(client)
    not_image = _upload(client, space, "photo.png", b"this is text, not a picture\n")
    assert not_image.status_code == 400 and "rename it to end in" in not_image.text
    truncated = _upload(client, space, "cut.png", _png()[:60])
    assert truncated.status_code == 400 and "corrupt or truncated" in truncated.text
    jpeg_named_png = _upload(client, space, "x.png", _png(fmt="JPEG"))
    assert jpeg_named_png.status_code == 400 and "JPEG" in jpeg_named_png.text
    # 50 MB: under the upload limit (50 MiB) but over the image limit (20 MiB)
    big = _png() + b"\x00" * (50 * 10**6)
    too_big = _upload(client, space, "huge.png", big)
    assert too_big.status_code == 400 and "over the limit of 20 MiB" in too_big.text
    with h5py.File(tmp_path / "other.h5", "w") as h5:  # HDF5, but no ODIM datasets
        h5.create_dataset("values", data=np.zeros((4, 4)))
    not_radar = _upload(client, space, "other.h5", (tmp_path / "other.h5").read_bytes())
    assert not_radar.status_code == 400 and "ODIM" in not_radar.text
    names = [f["name"] for f in client.get(f"/api/dataspaces/{space}/files").json()]
    assert not {"photo.png", "cut.png", "x.png", "huge.png", "other.h5"} & set(names)


def test_another_users_image_cannot_be_read(client):
    space = _private(client)
    assert _upload(client, space, "secret.png", _png()).status_code in (200, 201)
    accounts = client.app.state.accounts
    accounts.add_user("bob")
    key = accounts.create_api_key("bob", "tests")
    headers = {"Authorization": f"Bearer {key.token}"}
    session = client.post("/api/sessions", json={"title": "b"}, headers=headers).json()
    response = client.post(
        f"/api/sessions/{session['id']}/messages",
        json={"text": "describe the image secret.png"},
        headers=headers,
    )
    parts = _parts(response)
    assert not [p for p in parts if p["type"] == "tool_result"]
    assert not any("/api/figures/" in json.dumps(p) for p in parts)
    error = next(p for p in parts if p["type"] == "error")
    assert "no data file or image 'secret.png' in your dataspaces" in error["message"]


def test_the_chat_reads_the_radar_as_a_tool(client, monkeypatch):
    monkeypatch.setenv("WXAI_OFFLINE", "1")  # no server: the cache, then the synthetic one
    session = client.post("/api/sessions", json={"title": "radar now"}).json()
    parts = _ask(client, session["id"], "What does the radar show now?")
    call = next(p for p in parts if p["type"] == "tool_call")
    assert call["name"] == "radar_reading" and call["arguments"] == {"when": "now"}
    result = next(p for p in parts if p["type"] == "tool_result")
    assert "SYNTHETIC radar" in result["html"] and "local-fast" in result["html"]
    assert client.get(result["figures"][0]).content.startswith(PNG_MAGIC)
