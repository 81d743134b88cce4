"""Model aliases and capability tiers, read from ``configs/models.yaml``.

Callers ask for a model by alias (``local-fast``, ``ollama-core``,
``openai-pro``, ...) and never see which backend, URL or key serves it: that
mapping lives in the configuration on the server side. Each alias names a
*supplier* (how to reach a service) and adds the model id, a tier
(``fast`` | ``core`` | ``pro`` | ``ultra``) and the model's capabilities.

Environment variables, all read when a provider is made (never at import):

``WXAI_LLM_MODEL``
    The alias used when none is given (default: ``default:`` in the file).
``<supplier>.base_url_env`` (``WXAI_OLLAMA_URL``, ``WXAI_OPENAI_BASE_URL``, ...)
    Replaces that supplier's base URL.
``<supplier>.api_key_env`` (``OPENAI_API_KEY``, ``MISTRAL_API_KEY``, ...)
    Holds the API key; the file only names the variable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from wxai.assistant.llm.types import Capabilities, LLMProvider
from wxai.core.errors import ConfigError, UnknownNameError

__all__ = [
    "DEFAULT_ALIAS_ENV",
    "TIERS",
    "ModelAlias",
    "default_alias",
    "get_model",
    "get_provider",
    "list_models",
    "load_models",
    "models_file",
]

DEFAULT_ALIAS_ENV = "WXAI_LLM_MODEL"
TIERS = ("fast", "core", "pro", "ultra")

Tier = Literal["fast", "core", "pro", "ultra"]
Backend = Literal["local", "ollama", "openai-compatible"]


class _Capabilities(BaseModel):
    model_config = ConfigDict(extra="forbid")

    native_tools: bool = False
    vision: bool = False
    constrained_output: bool = False
    context_length: int = Field(default=2048, ge=256)


class _Supplier(BaseModel):
    model_config = ConfigDict(extra="forbid")

    backend: Backend
    base_url: str | None = None
    base_url_env: str | None = None
    api_key_env: str | None = None
    api_key_required: bool = False
    max_tokens_field: Literal["max_tokens", "max_completion_tokens"] = "max_tokens"
    timeout: float = Field(default=60.0, gt=0)
    description: str = ""

    @model_validator(mode="after")
    def _needs_url(self) -> _Supplier:
        if self.backend != "local" and not self.base_url:
            raise ConfigError(f"a {self.backend!r} supplier needs a base_url")
        if self.base_url and not self.base_url.startswith(("http://", "https://")):
            raise ConfigError(f"base_url {self.base_url!r} must start with http:// or https://")
        return self


class _Alias(BaseModel):
    model_config = ConfigDict(extra="forbid")

    supplier: str
    tier: Tier
    model: str = Field(min_length=1)
    capabilities: _Capabilities = Field(default_factory=_Capabilities)
    send_temperature: bool = True
    description: str = ""


class _ModelsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default: str
    suppliers: dict[str, _Supplier]
    models: dict[str, _Alias]

    @model_validator(mode="after")
    def _references(self) -> _ModelsFile:
        for alias, entry in self.models.items():
            if entry.supplier not in self.suppliers:
                raise ConfigError(
                    f"models.{alias}.supplier: unknown supplier {entry.supplier!r} "
                    f"(suppliers: {', '.join(sorted(self.suppliers))})"
                )
        if self.default not in self.models:
            raise ConfigError(f"default: {self.default!r} is not one of the aliases under models")
        return self


@dataclass(frozen=True)
class ModelAlias:
    """One alias, resolved: everything needed to make its provider.

    ``base_url`` already has the environment override applied; ``api_key_env`` is
    the *name* of the variable holding the key (the key itself is read only when the
    provider is made).
    """

    alias: str
    tier: str
    supplier: str
    backend: str
    model: str
    capabilities: Capabilities
    base_url: str | None = None
    base_url_env: str | None = None
    api_key_env: str | None = None
    api_key_required: bool = False
    max_tokens_field: str = "max_tokens"
    send_temperature: bool = True
    timeout: float = 60.0
    description: str = ""

    @property
    def api_key_set(self) -> bool | None:
        """Whether the API key variable is set; ``None`` when the alias needs no key."""
        if not self.api_key_env:
            return None
        return bool(os.environ.get(self.api_key_env))


def models_file() -> Path:
    """``models.yaml`` in the config tree (:func:`wxai.core.paths.configs_dir`)."""
    from wxai.core.paths import configs_dir

    return configs_dir() / "models.yaml"


def load_models(path: Path | None = None) -> dict[str, ModelAlias]:
    """Read and validate the models file; return the aliases in file order.

    Raises
    ------
    ConfigError
        The file is missing, is not YAML, or an entry is invalid (the message names
        the alias or supplier and the field).
    """
    path = models_file() if path is None else Path(path)
    config = _read(path)
    aliases = {}
    for alias, entry in config.models.items():
        supplier = config.suppliers[entry.supplier]
        base_url = supplier.base_url
        if supplier.base_url_env and os.environ.get(supplier.base_url_env):
            base_url = os.environ[supplier.base_url_env].strip()
        aliases[alias] = ModelAlias(
            alias=alias,
            tier=entry.tier,
            supplier=entry.supplier,
            backend=supplier.backend,
            model=entry.model,
            capabilities=Capabilities(**entry.capabilities.model_dump()),
            base_url=base_url,
            base_url_env=supplier.base_url_env,
            api_key_env=supplier.api_key_env,
            api_key_required=supplier.api_key_required,
            max_tokens_field=supplier.max_tokens_field,
            send_temperature=entry.send_temperature,
            timeout=supplier.timeout,
            description=entry.description or supplier.description,
        )
    return aliases


def default_alias(path: Path | None = None) -> str:
    """The alias used when none is given: ``WXAI_LLM_MODEL``, else the file's ``default``."""
    from_env = os.environ.get(DEFAULT_ALIAS_ENV, "").strip()
    if from_env:
        return from_env
    path = models_file() if path is None else Path(path)
    return _read(path).default


def list_models(path: Path | None = None) -> list[ModelAlias]:
    """All aliases of the models file, in file order."""
    return list(load_models(path).values())


def get_model(alias: str | None = None, path: Path | None = None) -> ModelAlias:
    """The resolved alias ``alias`` (default: :func:`default_alias`).

    Raises
    ------
    UnknownNameError
        ``alias`` is not in the file; the message lists the valid aliases and
        suggests the nearest.
    """
    name = alias or default_alias(path)
    aliases = load_models(path)
    if name not in aliases:
        raise UnknownNameError("model alias", name, aliases)
    return aliases[name]


def get_provider(
    alias: str | None = None, *, path: Path | None = None, timeout: float | None = None
) -> LLMProvider:
    """A ready :class:`~wxai.assistant.llm.types.LLMProvider` for ``alias``.

    Parameters
    ----------
    alias:
        Model alias; ``None`` takes ``WXAI_LLM_MODEL`` or the file's default.
    path:
        Models file to read instead of ``configs/models.yaml``.
    timeout:
        Replaces the supplier's timeout (seconds) for remote backends.

    Raises
    ------
    UnknownNameError
        Unknown alias.
    ConfigError
        The alias needs an API key and its environment variable is not set.
    """
    entry = get_model(alias, path)
    if entry.backend == "local":
        from wxai.assistant.llm.local import LocalProvider

        return LocalProvider(entry.model, context_length=entry.capabilities.context_length)
    wait = entry.timeout if timeout is None else timeout
    if entry.backend == "ollama":
        from wxai.assistant.llm.ollama import OllamaProvider

        return OllamaProvider(
            entry.model,
            entry.base_url or "",
            timeout=wait,
            capabilities=entry.capabilities,
            base_url_env=entry.base_url_env,
        )
    from wxai.assistant.llm.openai_compat import OpenAICompatibleProvider

    api_key = os.environ.get(entry.api_key_env, "").strip() if entry.api_key_env else ""
    if entry.api_key_required and not api_key:
        raise ConfigError(
            f"model alias {entry.alias!r} needs an API key: set the environment variable "
            f"{entry.api_key_env} (or choose another alias, see `wxai llm models`)"
        )
    return OpenAICompatibleProvider(
        entry.model,
        entry.base_url or "",
        api_key or None,
        timeout=wait,
        capabilities=entry.capabilities,
        api_key_env=entry.api_key_env,
        max_tokens_field=entry.max_tokens_field,  # type: ignore[arg-type]
        send_temperature=entry.send_temperature,
        base_url_env=entry.base_url_env,
    )


def _missing(path: Path) -> ConfigError:
    return ConfigError(
        f"models file {path} not found; set WXAI_CONFIGS_DIR to a config tree that has models.yaml"
    )


def _read(path: Path) -> _ModelsFile:
    """The validated models file; parsed again only when its size or mtime changed.

    The cockpit asks for aliases several times per request; parsing the YAML each
    time cost more CPU than the rest of a chat turn's bookkeeping.
    """
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise _missing(path) from None
    return _parse(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _parse(path_name: str, mtime_ns: int, size: int) -> _ModelsFile:
    """Parse and validate the models file at ``path_name`` (cached by mtime and size)."""
    path = Path(path_name)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _missing(path) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} must hold a mapping with default, suppliers and models")
    try:
        return _ModelsFile.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"])
            message = error["msg"].removeprefix("Value error, ")
            problems.append(f"{where}: {message}" if where else message)
        raise ConfigError(f"invalid models file {path}: " + "; ".join(problems)) from None
