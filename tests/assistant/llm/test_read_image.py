"""The vision route against local servers speaking the OpenAI and Ollama protocols."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml
from PIL import Image

from wxai.assistant.llm.registry import get_model
from wxai.assistant.read_image import MAX_IMAGE_BYTES, check_image, read_image
from wxai.core.errors import ConfigError, DataFormatError
from wxai.products.descriptors.remote_sensing import radar_descriptors
from wxai.viz.ai_readable import render_ai_readable_png


def _png(size: int = 8) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), (0, 120, 255)).save(buffer, format="PNG")
    return buffer.getvalue()


PNG = _png()


@pytest.fixture
def servers(openai_server, ollama_server):
    """The fake OpenAI-compatible and Ollama servers of this folder's conftest."""
    return {"openai": openai_server, "ollama": ollama_server}


@pytest.fixture
def models_file(tmp_path, servers) -> Path:
    """A models file whose aliases point at the fake servers; ``echo`` repeats the prompt."""
    capable = {"vision": True, "context_length": 8192}
    config = {
        "default": "text-only",
        "suppliers": {
            "fake-openai": {"backend": "openai-compatible", "base_url": servers["openai"].url},
            "fake-ollama": {"backend": "ollama", "base_url": servers["ollama"].url},
        },
        "models": {
            "see-openai": {"supplier": "fake-openai", "tier": "core", "model": "echo",
                           "capabilities": capable},
            "see-ollama": {"supplier": "fake-ollama", "tier": "core", "model": "echo",
                           "capabilities": capable},
            "text-only": {"supplier": "fake-openai", "tier": "fast", "model": "echo"},
        },
    }  # fmt: skip
    path = tmp_path / "models.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def descriptors():
    dbz = np.full((40, 40), 20.0)
    dbz[5:9, 5:9] = 45.0
    return radar_descriptors(dbz, pixel_area_km2=1.0)


def test_openai_request_carries_image_and_descriptors(servers, models_file, descriptors):
    reading = read_image(PNG, descriptors, "Describe the rain.", alias="see-openai",
                         models_path=models_file)  # fmt: skip
    content = servers["openai"].last["messages"][-1]["content"]
    texts = [p["text"] for p in content if p["type"] == "text"]
    urls = [p["image_url"]["url"] for p in content if p["type"] == "image_url"]
    assert urls == ["data:image/png;base64," + base64.b64encode(PNG).decode()]
    assert "Task: Describe the rain." in texts[0] and descriptors.text() in texts[0]
    assert reading.used_vision and reading.source == "see-openai (echo)"
    assert reading.text.startswith("You said: Task: Describe the rain.")
    assert reading.labelled().startswith("[vision model see-openai (echo);")


def test_ollama_request_carries_image_and_descriptors(servers, models_file, descriptors):
    reading = read_image(PNG, [descriptors, "extra note"], "Describe the rain.",
                         alias="see-ollama", models_path=models_file)  # fmt: skip
    message = servers["ollama"].last["messages"][-1]
    assert message["images"] == [base64.b64encode(PNG).decode()]
    assert descriptors.text() in message["content"] and "extra note" in message["content"]
    assert reading.used_vision and "see-ollama" in reading.source


def test_without_vision_the_descriptors_are_the_answer(servers, models_file, descriptors):
    before = len(servers["openai"].requests)
    reading = read_image(PNG, descriptors, "Describe.", alias="text-only", models_path=models_file)
    assert len(servers["openai"].requests) == before  # no model asked
    assert not reading.used_vision and reading.source == "measured descriptors only"
    assert descriptors.text() in reading.text and "does not accept images" in reading.text
    assert reading.labelled().startswith("[no vision model used")


def test_rendered_radar_png_is_accepted_and_ionos_alias_sees():
    lat = np.linspace(56.0, 46.0, 30)
    lon = np.linspace(3.0, 17.0, 40)
    field = xr.DataArray(
        np.full((30, 40), 25.0), dims=("latitude", "longitude"),
        coords={"latitude": lat, "longitude": lon},
    )  # fmt: skip
    png = render_ai_readable_png(field, "radar")
    assert check_image(png) == "PNG"
    assert Image.open(io.BytesIO(png)).size == (900, 640)
    ionos = get_model("ionos-vision")
    assert ionos.capabilities.vision and ionos.model == "mistralai/Mistral-Small-24B-Instruct"


def test_bad_images_and_inputs(models_file, descriptors):
    with pytest.raises(DataFormatError, match="over the limit of 20 MiB"):
        check_image(PNG + b"\0" * MAX_IMAGE_BYTES)
    with pytest.raises(DataFormatError, match="not a PNG or JPEG"):
        read_image(b"GIF89a" + b"\0" * 20, descriptors, "x", models_path=models_file)
    with pytest.raises(DataFormatError, match="not a PNG or JPEG"):
        check_image(b"%PDF-1.7 hello")
    with pytest.raises(DataFormatError, match="corrupt or truncated"):
        check_image(PNG[:20])
    with pytest.raises(DataFormatError, match="no measured descriptors"):
        read_image(PNG, [], "x", models_path=models_file)
    with pytest.raises(ConfigError, match="task is empty"):
        read_image(PNG, descriptors, "  ", models_path=models_file)
