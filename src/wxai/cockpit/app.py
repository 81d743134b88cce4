"""The cockpit application factory (the server of ``wxai serve``).

``uvicorn.run("wxai.cockpit.app:create_app", factory=True)`` builds a fresh app;
importing this module starts nothing. At startup the app migrates the database,
fails the tasks of workers that are gone (no heartbeat, or their process ended), and
starts the worker; at shutdown it stops the worker.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from wxai import __version__
from wxai.cockpit import quotas as quota_api
from wxai.cockpit.accounts import AccountStore
from wxai.cockpit.auth import GuardMiddleware, parse_hosts
from wxai.cockpit.conversations import ConversationStore
from wxai.cockpit.dataspaces import open_dataspaces
from wxai.cockpit.docs import DOCS_URL, install_offline_docs, swagger_assets_dir
from wxai.cockpit.errors import install_error_handlers
from wxai.cockpit.jobs import TaskLimits, Worker
from wxai.cockpit.quotas import QuotaMiddleware, QuotaStore
from wxai.cockpit.routers import accounts, audio, dataspaces, health, labs, llm, pages, tasks
from wxai.cockpit.routers import openai as openai_api
from wxai.cockpit.routers import sessions as chat_sessions
from wxai.cockpit.storage import TaskStore
from wxai.core.settings import Settings, get_settings

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"

DESCRIPTION = """\
The cockpit of **wxai**: the course labs and long-running work as REST resources.

* **tasks**: create a task (`POST /api/tasks`), follow its state and progress
  (`GET /api/tasks/{id}`), cancel it (`PUT` with `{"action": "cancel"}`), delete it.
  States: `created -> checked -> executing -> completed | failed`, or `cancelled`.
* **labs**: the labs by course day with their last results and figures.
* **llm**: the language-model aliases (`GET /api/llm/models`) and chat
  (`POST /api/llm/chat`), streamed as server-sent events with `"stream": true`.
* **dataspaces**: private and group collections of documents and data files;
  upload (`POST /api/dataspaces/{id}/files`), download, search (`GET /api/search`).
* **openai**: the cockpit as an OpenAI-compatible server for programs (`openai`
  client, LangChain): `GET /v1/models`, `POST /v1/chat/completions` with an API key.
* **health**: liveness and version.
"""

OPENAPI_TAGS = [
    {"name": "tasks", "description": "Long-running work (lab runs) as REST resources."},
    {"name": "labs", "description": "The course labs, their last results and figures."},
    {"name": "llm", "description": "Language-model aliases and chat, streamed or not."},
    {"name": "dataspaces", "description": "Private and group dataspaces: files, search."},
    {"name": "audio", "description": "Speech input: recordings to text (German, English)."},
    {"name": "openai", "description": "OpenAI-compatible API: /v1/models, /v1/chat/completions."},
    {"name": "health", "description": "Liveness and version of the server."},
]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open the task store and run the worker for as long as the app serves."""
    settings: Settings = app.state.settings
    accounts = AccountStore(settings.resolved_database_url)
    accounts.create_tables()
    app.state.accounts = accounts
    store = TaskStore(settings.resolved_database_url)
    store.create_tables()
    spaces = open_dataspaces(settings, index_tasks=store)
    spaces.create_tables()
    app.state.dataspaces = spaces
    announce_first_login(accounts, settings)
    lost = store.fail_lost(settings.worker_heartbeat_timeout)  # workers that are gone
    if lost:
        log.warning("marked %d task(s) of stopped workers as failed", lost)
    worker = Worker(
        store,
        limits=TaskLimits.from_settings(settings),
        heartbeat_timeout=settings.worker_heartbeat_timeout,
    )
    app.state.store = store
    app.state.worker = worker
    conversations = ConversationStore(
        settings.resolved_database_url, stale_after_s=settings.chat_stale_seconds
    )
    conversations.create_tables()
    app.state.conversations = conversations
    quotas = QuotaStore(
        settings.resolved_database_url,
        requests_per_minute=settings.rate_limit_per_minute,
        tokens_per_day=settings.token_quota_per_day,
    )
    quotas.create_tables()
    app.state.quotas = quotas
    if app.state.start_worker and settings.embedded_worker:
        worker.start()
    try:
        yield
    finally:
        await asyncio.to_thread(worker.stop)
        chat_sessions.stop_turns(app)
        quotas.close()
        store.close()
        conversations.close()
        spaces.close()
        accounts.close()


def announce_first_login(accounts: AccountStore, settings: Settings) -> None:
    """On a database without users: create ``admin`` and print a one-time sign-in link.

    Like Jupyter's token link: the first start needs no set-up, and the server is
    still closed to anyone who cannot read its console.
    """
    issued = accounts.ensure_first_admin()
    if issued is None:
        return
    url = f"{settings.cockpit_url}/auth/link?token={issued.token}"
    print(  # the console is the channel: a log handler may be configured away
        "\n  wxai: first start - an admin account was created.\n"
        f"  Sign in once with this link (valid 24 h, single use):\n\n    {url}\n\n"
        "  Then set a password under Account, or run `wxai users passwd admin`.\n",
        file=sys.stderr,
        flush=True,
    )


def _openapi_with_400(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """``app.openapi`` without FastAPI's 422 answers: this app answers 400 instead."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.get("responses", {})
                if responses.pop("422", None) is not None:
                    responses.setdefault("400", {"$ref": "#/components/responses/BadRequest"})
        components = schema.setdefault("components", {})
        for name in ("HTTPValidationError", "ValidationError"):
            components.get("schemas", {}).pop(name, None)
        components.setdefault("responses", {})["BadRequest"] = {
            "description": "Malformed JSON, or a body or query that does not match the schema",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
        }
        return schema

    return openapi


def create_app(settings: Settings | None = None, *, start_worker: bool = True) -> FastAPI:
    """Build the cockpit app.

    Parameters
    ----------
    settings:
        Where the task database is (``resolved_database_url``) and the MLflow UI
        link; default: the process settings (``WXAI_*`` environment variables).
        Lab runs themselves use the process settings (``WXAI_HOME``).
    start_worker:
        Start the background worker at startup. Tests switch it off to drive the
        worker step by step (``app.state.worker.run_once()``).

    Returns
    -------
    FastAPI
        The app; its lifespan opens the database and starts the worker.
    """
    settings = settings or get_settings()
    docs_assets = swagger_assets_dir()
    app = FastAPI(
        title="wxai cockpit",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=OPENAPI_TAGS,
        docs_url=None if docs_assets else DOCS_URL,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.start_worker = start_worker
    app.openapi = _openapi_with_400(app)  # type: ignore[method-assign]
    install_error_handlers(app)
    routers = (
        health,
        accounts,
        dataspaces,
        tasks,
        labs,
        llm,
        chat_sessions,
        openai_api,
        quota_api,
        audio,
        pages,
    )
    for router in (module.router for module in routers):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(QuotaMiddleware)  # inside the guard: it reads the guard's principal
    app.add_middleware(GuardMiddleware, allowed_hosts=parse_hosts(settings.allowed_hosts))
    if docs_assets is not None:
        install_offline_docs(app, docs_assets)
    return app
