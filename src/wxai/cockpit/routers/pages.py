"""The HTML pages: assistant (home), labs and tasks, dataspaces, account, admin."""

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
from wxai.cockpit.accounts import Principal
from wxai.cockpit.auth import AccountsDep, AdminDep, UserDep
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


def _page(
    request: Request, template: str, page: str, user: Principal, **context: object
) -> HTMLResponse:
    settings = request.app.state.settings
    return templates().TemplateResponse(
        request,
        template,
        {
            "version": __version__,
            "user": user,
            "page": page,
            "tracking_ui_url": settings.tracking_ui_url,
            **context,
        },
    )


@router.get("/", response_class=HTMLResponse)
def assistant(request: Request, user: UserDep) -> HTMLResponse:
    """The assistant: sessions on the left, the conversation, a composer with uploads."""
    return _page(request, "assistant.html", "assistant", user)


@router.get("/labs", response_class=HTMLResponse)
def labs_page(request: Request, user: UserDep, settings: SettingsDep) -> HTMLResponse:
    """The course labs by day with their last results, and the caller's tasks."""
    labs = all_labs(settings)
    days = [(day, list(group)) for day, group in groupby(labs, key=lambda lab: lab.day)]
    return _page(request, "labs.html", "labs", user, days=days, lab_count=len(labs))


@router.get("/dataspaces", response_class=HTMLResponse)
def dataspaces_page(request: Request, user: UserDep) -> HTMLResponse:
    """The caller's dataspaces: files, uploads, search and sharing."""
    return _page(request, "dataspaces.html", "dataspaces", user)


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, user: UserDep, accounts: AccountsDep) -> HTMLResponse:
    """Password and API keys of the caller."""
    groups = accounts.user_info(user.id).groups
    return _page(request, "account.html", "account", user, groups=groups)


@router.get("/admin", response_class=HTMLResponse)
def admin_page(request: Request, user: AdminDep) -> HTMLResponse:
    """Users and groups (admins only; 404 for others)."""
    return _page(request, "admin.html", "admin", user)


@router.get("/partials/labs/{name}", response_class=HTMLResponse)
def lab_card(request: Request, name: str, settings: SettingsDep) -> HTMLResponse:
    """The card of one lab, re-rendered after a run completes."""
    return templates().TemplateResponse(request, "lab_card.html", {"lab": one_lab(name, settings)})
