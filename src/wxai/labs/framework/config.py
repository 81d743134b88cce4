"""Composition of a lab's configuration with Hydra, validated by its schema.

Each lab has a config tree ``configs/labs/<name>/``: ``config.yaml`` holds the
defaults and a defaults list; every choice is a config group (``preset/`` with
``smoke.yaml`` and ``full.yaml``, and e.g. ``model/`` with one file per model).
Command-line overrides use Hydra's syntax: ``preset=smoke epochs=50 model=deep``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from wxai.core.errors import ConfigError
from wxai.core.paths import configs_dir
from wxai.labs.framework.registry import LabSpec
from wxai.labs.framework.schema import LabConfig


def compose_config(spec: LabSpec, overrides: Sequence[str] = ()) -> tuple[LabConfig, dict]:
    """Compose, resolve and validate the configuration of lab ``spec``.

    Returns
    -------
    tuple
        The validated config object and the resolved plain dict (as stored with the run).

    Raises
    ------
    ConfigError
        If the config tree is missing, an override is malformed or names an unknown
        key or choice, or the result does not satisfy the lab's schema.
    """
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    lab_dir = configs_dir() / "labs" / spec.name
    if not (lab_dir / "config.yaml").is_file():
        raise ConfigError(f"lab {spec.name!r} has no config: expected {lab_dir / 'config.yaml'}")
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(lab_dir), version_base="1.3"):
            composed = compose(config_name="config", overrides=list(overrides))
        resolved: dict[str, Any] = OmegaConf.to_container(composed, resolve=True)  # type: ignore[assignment]
    except (HydraException, OmegaConfBaseException, ValueError) as exc:
        raise ConfigError(
            f"invalid configuration for lab {spec.name!r}: {_hydra_message(exc)}"
        ) from exc
    finally:
        GlobalHydra.instance().clear()
    try:
        config = spec.config.model_validate(resolved)
    except ValidationError as exc:
        raise ConfigError(
            f"invalid configuration for lab {spec.name!r}: {_validation_message(exc)}; "
            f"see `wxai lab list` and configs/labs/{spec.name}/ for the valid settings"
        ) from exc
    return config, config.model_dump(mode="json")


def _hydra_message(exc: Exception) -> str:
    """Hydra's multi-line message on one line, without the config search path."""
    parts: list[str] = []
    options: list[str] = []
    for raw in str(exc).splitlines():
        if raw.startswith("Config search path"):
            break
        line = raw.strip()
        if not line:
            continue
        if raw.startswith(("\t", "    ")) and parts and parts[-1].endswith(":"):
            options.append(line)  # an indented list of available options
            continue
        if options:
            parts[-1] += " " + ", ".join(options)
            options = []
        parts.append(line)
    if options:
        parts[-1] += " " + ", ".join(options)
    return " ".join(parts)


def _validation_message(exc: ValidationError) -> str:
    """One ``field: problem (got value)`` per pydantic error, joined with ``; ``."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(item) for item in error.get("loc", ())) or "config"
        text = f"{where}: {error.get('msg', 'invalid')}"
        if "input" in error and error.get("type") != "missing":
            text += f" (got {error['input']!r})"
        parts.append(text)
    return "; ".join(parts)
