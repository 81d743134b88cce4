"""``GET /api/health``: is the server up, and which version is it."""

from __future__ import annotations

from fastapi import APIRouter

from wxai import __version__
from wxai.cockpit.schemas import Health

router = APIRouter(prefix="/api", tags=["health"])


@router.get("/health", summary="Liveness check")
def health() -> Health:
    """Answer ``{"status": "ok", "version": ...}`` while the server runs."""
    return Health(version=__version__)
