"""Swagger UI from packaged assets (offline) when a swagger_ui_bundle package is installed."""

from __future__ import annotations

import sys
import types

from fastapi.testclient import TestClient

from wxai.cockpit.app import create_app
from wxai.cockpit.docs import swagger_assets_dir


def fake_bundle(tmp_path, monkeypatch):
    assets = tmp_path / "swagger"
    assets.mkdir()
    (assets / "swagger-ui-bundle.js").write_text("window.SwaggerUIBundle = function () {};")
    (assets / "swagger-ui.css").write_text("body {}")
    module = types.ModuleType("swagger_ui_bundle")
    module.swagger_ui_path = str(assets)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "swagger_ui_bundle", module)
    return assets


def test_no_bundle_means_fastapi_default_docs(monkeypatch):
    monkeypatch.setitem(sys.modules, "swagger_ui_bundle", None)  # import fails
    assert swagger_assets_dir() is None


def test_docs_are_served_from_the_bundle(tmp_path, monkeypatch, wxai_home):
    assets = fake_bundle(tmp_path, monkeypatch)
    assert swagger_assets_dir() == assets
    with TestClient(create_app(wxai_home, start_worker=False)) as client:
        key = client.app.state.accounts.create_api_key("admin")  # type: ignore[attr-defined]
        client.headers["Authorization"] = f"Bearer {key.token}"
        page = client.get("/docs")
        assert page.status_code == 200
        assert "/docs-assets/swagger-ui-bundle.js" in page.text
        assert "cdn." not in page.text
        script = client.get("/docs-assets/swagger-ui-bundle.js")
        assert script.status_code == 200 and "SwaggerUIBundle" in script.text
        assert "<script>" not in page.text  # no inline script: the CSP forbids it
        assert client.get("/openapi.json").status_code == 200
