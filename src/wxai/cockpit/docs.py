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


DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{title}</title>
  <link rel="stylesheet" href="{assets}/swagger-ui.css">
  <link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
</head>
<body>
  <div id="swagger-ui" data-openapi-url="{openapi}"></div>
  <script src="{assets}/swagger-ui-bundle.js"></script>
  <script src="/static/swagger-init.js"></script>
</body>
</html>
"""


def install_offline_docs(app: FastAPI, assets: Path) -> None:
    """Serve Swagger UI at ``/docs`` from ``assets`` (create ``app`` with ``docs_url=None``).

    The page starts Swagger UI from a script file (``static/swagger-init.js``), not
    an inline script, so it works under the cockpit's Content-Security-Policy.
    """
    app.mount(ASSETS_URL, StaticFiles(directory=assets), name="docs-assets")
    page = DOCS_PAGE.format(
        title=f"{app.title} - API docs", assets=ASSETS_URL, openapi=app.openapi_url
    )

    @app.get(DOCS_URL, include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return HTMLResponse(page)
