"""The HTML pages: the cockpit home page and the lab card fragment it reloads."""

from __future__ import annotations

import math
from datetime import datetime
from functools import lru_cache
from itertools import groupby
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from wxai import __version__
from wxai.cockpit.catalog import all_labs, one_lab
from wxai.cockpit.deps import SettingsDep

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates"

router = APIRouter(tags=["pages"], include_in_schema=False)


def format_number(value: float | None) -> str:
    """A metric for people: four significant digits, '-' for a missing value."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{value:.4g}"


def format_time(value: str) -> str:
    """An ISO timestamp as ``YYYY-MM-DD HH:MM UTC`` (the text itself if it does not parse)."""
    try:
        return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return value


@lru_cache(maxsize=1)
def templates() -> Jinja2Templates:
    """The Jinja2 environment of the cockpit pages."""
    env = Jinja2Templates(directory=TEMPLATES_DIR)
    env.env.filters["num"] = format_number
    env.env.filters["when"] = format_time
    return env


@router.get("/", response_class=HTMLResponse)
def home(request: Request, settings: SettingsDep) -> HTMLResponse:
    """The cockpit: labs by course day with their last results, and the task list."""
    labs = all_labs(settings)
    days = [(day, list(group)) for day, group in groupby(labs, key=lambda lab: lab.day)]
    return templates().TemplateResponse(
        request,
        "index.html",
        {
            "version": __version__,
            "days": days,
            "lab_count": len(labs),
            "tracking_ui_url": settings.tracking_ui_url,
        },
    )


@router.get("/partials/labs/{name}", response_class=HTMLResponse)
def lab_card(request: Request, name: str, settings: SettingsDep) -> HTMLResponse:
    """The card of one lab, re-rendered after a run completes."""
    return templates().TemplateResponse(request, "lab_card.html", {"lab": one_lab(name, settings)})
