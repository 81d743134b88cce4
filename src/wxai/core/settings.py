"""Process-wide settings read from ``WXAI_*`` environment variables.

Nothing here touches the file system: directories are created by
:mod:`wxai.core.paths` when they are first needed.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from wxai.core.errors import ConfigError

DeviceChoice = Literal["auto", "cpu", "cuda", "mps"]


class Settings(BaseSettings):
    """wxai settings; each field can be set as ``WXAI_<FIELD>`` (case-insensitive)."""

    model_config = SettingsConfigDict(env_prefix="WXAI_", extra="ignore")

    home: Path = Field(
        default_factory=lambda: Path.home() / ".wxai",
        description="Directory for the tracking store, lab outputs, caches and the task DB.",
    )
    tracking_uri: str | None = Field(
        default=None,
        description="MLflow tracking URI; default is a SQLite store in the wxai home.",
    )
    tracking_ui_url: str | None = Field(
        default=None,
        description="Base URL of an MLflow UI, used to link runs from reports and the cockpit.",
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL of the cockpit database (default: SQLite)."
    )
    rag_backend: Literal["auto", "files", "postgres"] = Field(
        default="auto",
        description="Where dataspaces' passages are indexed: `files` (FAISS + SQLite per "
        "dataspace, one machine), `postgres` (pgvector and full-text search in PostgreSQL, "
        "shared by every worker), `auto` (postgres when the cockpit database is PostgreSQL "
        "with the pgvector extension available, else files).",
    )
    rag_database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the PostgreSQL database for retrieval "
        "(default: the cockpit database).",
    )
    rag_hnsw_m: int = Field(
        default=16, ge=2, le=100, description="HNSW links per node of a new vector index."
    )
    rag_hnsw_ef_construction: int = Field(
        default=64, ge=4, le=1000, description="HNSW candidate list while building the index."
    )
    rag_hnsw_ef_search: int | None = Field(
        default=None,
        ge=1,
        le=1000,
        description="Least HNSW candidate list while searching (default: twice the depth).",
    )
    rag_ingest: Literal["auto", "request", "worker"] = Field(
        default="auto",
        description="Who indexes an upload: `request` (the server, before it answers), "
        "`worker` (a `dataspace-index` task run by any task worker; needs the postgres "
        "backend), `auto` (worker with the postgres backend, else request).",
    )
    device: DeviceChoice = Field(default="auto", description="Torch device for training.")
    seed: int = Field(default=42, description="Default random seed.")
    host: str = Field(default="127.0.0.1", description="Address `wxai serve` binds to.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `wxai serve` binds to.")
    configs_dir: Path | None = Field(
        default=None, description="Hydra config tree; default is the packaged `configs/`."
    )

    @property
    def resolved_tracking_uri(self) -> str:
        """The tracking URI in effect (explicit, or the local SQLite store)."""
        if self.tracking_uri:
            return self.tracking_uri
        return f"sqlite:///{(self.home / 'mlflow.db').resolve()}"

    @property
    def resolved_database_url(self) -> str:
        """The cockpit database URL in effect."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'cockpit.db').resolve()}"

    @property
    def cockpit_url(self) -> str:
        """The cockpit's base URL for links printed to people (``public_url``, else host:port)."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in {"0.0.0.0", "::"} else self.host
        return f"http://{host}:{self.port}"

    # -- the cockpit: who may reach it, and how much one request or task may take --------
    allowed_hosts: str = Field(
        default="localhost,127.0.0.1,[::1]",
        description="Comma-separated host names the cockpit answers to (DNS-rebinding guard); "
        "add the public name behind a reverse proxy.",
    )
    public_url: str | None = Field(
        default=None,
        description="The cockpit's address as users reach it (printed in the first-login link).",
    )
    user_models: str = Field(
        default="",
        description="Comma-separated model aliases ordinary users may use, in the chat and "
        "the OpenAI-compatible /v1/ API; empty: every configured alias. Admins may use all.",
    )
    session_hours: float = Field(
        default=12.0, gt=0, le=24 * 30, description="Lifetime of a browser login, in hours."
    )
    cookie_secure: bool = Field(
        default=False, description="Send cookies over HTTPS only (set behind TLS)."
    )
    upload_max_mb: float = Field(
        default=50.0, gt=0, le=2048, description="Largest file one upload may send, in MiB."
    )
    dataspace_quota_mb: float = Field(
        default=0.0, ge=0, description="Storage of one dataspace's files, in MiB; 0: unlimited."
    )
    speech_max_seconds: float = Field(
        default=120.0, gt=0, le=3600, description="Longest recording speech input accepts, in s."
    )
    speech_threads: int = Field(
        default=2, ge=1, le=64, description="CPU threads of the speech recogniser (Whisper)."
    )
    speech_cache_dir: Path | None = Field(
        default=None,
        description="Where the joined Whisper model is kept; default <home>/cache/speech.",
    )
    embedded_worker: bool = Field(
        default=True,
        description="Run the task worker inside `wxai serve`; false when `wxai worker` "
        "processes claim the tasks instead.",
    )
    worker_heartbeat_timeout: float = Field(
        default=60.0,
        gt=0,
        le=24 * 3600,
        description="A running task whose worker sent no heartbeat for this long, in s, "
        "is failed as 'worker lost' (workers beat every quarter of it).",
    )
    task_memory_mb: int = Field(
        default=4096, ge=256, le=262144, description="Address-space limit of a task, in MiB."
    )
    task_cpu_seconds: int = Field(
        default=3600, ge=10, le=7 * 24 * 3600, description="CPU-time limit of a task, in s."
    )
    task_wall_seconds: int = Field(
        default=7200, ge=10, le=7 * 24 * 3600, description="Wall-clock limit of a task, in s."
    )
    rate_limit_per_minute: int = Field(
        default=0, ge=0, description="Requests a user may make per minute (API); 0: unlimited."
    )
    token_quota_per_day: int = Field(
        default=0, ge=0, description="Model tokens a user may use per UTC day; 0: unlimited."
    )
    chat_concurrency: int = Field(
        default=4, ge=1, le=256, description="Chat answers one server process writes at once."
    )
    db_pool_size: int = Field(
        default=20, ge=1, le=500,
        description="PostgreSQL connections a process keeps open (its chat and request threads).",
    )  # fmt: skip
    db_max_overflow: int = Field(
        default=10, ge=0, le=500,
        description="Connections a process may open beyond db_pool_size, closed after use.",
    )  # fmt: skip
    chat_stale_seconds: float = Field(
        default=300.0, gt=0, description="A streaming answer not updated for this long is failed."
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the settings of this process (read once from the environment).

    Raises
    ------
    ConfigError
        A ``WXAI_*`` variable has an invalid value; the message names it.
    """
    try:
        return Settings()
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field_name = "_".join(str(item) for item in error.get("loc", ()))
            problems.append(
                f"{field_name} = {error.get('input')!r} from WXAI_{field_name.upper()}: "
                f"{error.get('msg', 'invalid')}"
            )
        raise ConfigError(
            f"invalid setting: {'; '.join(problems)}; fix or unset the environment variable"
        ) from exc


def reload_settings() -> Settings:
    """Forget the cached settings and read the environment again."""
    get_settings.cache_clear()
    return get_settings()
