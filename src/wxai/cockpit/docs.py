"""Swagger UI at ``/docs`` without a CDN, when its assets are installed.

FastAPI's default ``/docs`` page loads Swagger UI from a CDN, which fails offline.
If a package providing :mod:`swagger_ui_bundle` is installed (``swagger-ui-bundle``
or its maintained fork ``swagger-ui-bundle-v2``), the page is served from those
files instead; otherwise FastAPI's default page is kept.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_URL = "/docs"
ASSETS_URL = "/docs-assets"


def swagger_assets_dir() -> Path | None:
    """Directory holding ``swagger-ui-bundle.js`` from an installed package, if any."""
    try:
        bundle = importlib.import_module("swagger_ui_bundle")
    except ImportError:
        return None
    path = Path(str(getattr(bundle, "swagger_ui_path", "")))
    if (path / "swagger-ui-bundle.js").is_file() and (path / "swagger-ui.css").is_file():
        return path
    return None


def install_offline_docs(app: FastAPI, assets: Path) -> None:
    """Serve Swagger UI at ``/docs`` from ``assets`` (create ``app`` with ``docs_url=None``)."""
    app.mount(ASSETS_URL, StaticFiles(directory=assets), name="docs-assets")
    oauth2_url = app.swagger_ui_oauth2_redirect_url or f"{DOCS_URL}/oauth2-redirect"

    @app.get(DOCS_URL, include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - API docs",
            oauth2_redirect_url=oauth2_url,
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )

    @app.get(oauth2_url, include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
