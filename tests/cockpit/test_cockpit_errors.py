"""Errors a user can cause become 4xx JSON answers with the message, never a 500."""

from __future__ import annotations

import pytest

from wxai.cockpit.errors import wxai_error_status
from wxai.core.errors import (
    AssetNotFound,
    ConfigError,
    DataFormatError,
    MissingExtra,
    ProviderUnavailable,
    TaskStateError,
    ToolCallError,
    UnknownNameError,
    WxaiError,
)
from wxai.data.formats import MissingFileError
from wxai.data.sources.errors import CacheMiss, SourceUnavailable


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ConfigError("epochs must be >= 1"), 400),
        (DataFormatError("f.grib2: truncated"), 400),
        (UnknownNameError("lab", "nope", ["sine-regression"]), 404),
        (MissingFileError("f.nc: no such file or directory"), 404),
        (CacheMiss("ICON-EU", "T_2M", "/cache"), 404),
        (TaskStateError("finished"), 409),
        (ToolCallError("no such tool"), 422),
        (ProviderUnavailable("ollama", "connection refused"), 502),
        (SourceUnavailable("ICON-EU", "https://x", "timeout", "T_2M"), 502),
        (MissingExtra("faiss", "rag"), 503),
        (AssetNotFound("model weights"), 503),
        (WxaiError("something else"), 500),
    ],
)
def test_status_of_each_error_kind(error, code):
    assert wxai_error_status(error) == code


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ConfigError("n_steps must be >= 1, got 0"), 400),
        (MissingFileError("/data/f.nc: no such file or directory"), 404),
        (ToolCallError("arguments invalid after a retry"), 422),
    ],
)
def test_library_errors_raised_in_a_route_are_4xx_json(app, client, error, code):
    def fail() -> None:
        raise error

    app.add_api_route("/test-raise", fail, methods=["GET"])
    response = client.get("/test-raise")
    assert response.status_code == code
    assert response.json() == {"detail": str(error)}
