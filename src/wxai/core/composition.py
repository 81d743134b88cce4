"""Hydra composition of a YAML config tree into a plain dict, with one-line error messages.

Labs (``configs/labs/<name>/``) and the emulator (``configs/emulator/``) both keep a
``config.yaml`` with a defaults list and one directory per config group; overrides use
Hydra's syntax (``model=graph_transformer training.lr=3e-4``). Validation against a
pydantic schema is the caller's; :func:`validation_message` turns its errors into one line.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from wxai.core.errors import ConfigError


def compose_yaml(
    config_dir: Path, overrides: Sequence[str] = (), *, config_name: str = "config", what: str
) -> dict[str, Any]:
    """Compose and resolve ``config_dir/<config_name>.yaml`` with Hydra ``overrides``.

    Parameters
    ----------
    what:
        Names the configuration in error messages (``"lab 'ddpm'"``, ``"emulator training"``).

    Raises
    ------
    ConfigError
        If the tree is missing, an override is malformed, or it names an unknown key or choice.
    """
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    if not (config_dir / f"{config_name}.yaml").is_file():
        raise ConfigError(f"{what} has no config: expected {config_dir / f'{config_name}.yaml'}")
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(config_dir.resolve()), version_base="1.3"):
            composed = compose(config_name=config_name, overrides=list(overrides))
        resolved: dict[str, Any] = OmegaConf.to_container(composed, resolve=True)  # type: ignore[assignment]
    except (HydraException, OmegaConfBaseException, ValueError) as exc:
        raise ConfigError(f"invalid configuration for {what}: {hydra_message(exc)}") from exc
    finally:
        GlobalHydra.instance().clear()
    return resolved


def hydra_message(exc: Exception) -> str:
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


def validation_message(exc: ValidationError) -> str:
    """One ``field: problem (got value)`` per pydantic error, joined with ``; ``."""
    parts = []
    for error in exc.errors():
        loc = [str(item) for item in error.get("loc", ())]
        # a union member's tag repeats the key it sits under (grid.icon.icon.n): drop it
        loc = [item for i, item in enumerate(loc) if i == 0 or item != loc[i - 1]]
        where = ".".join(loc) or "config"
        text = f"{where}: {str(error.get('msg', 'invalid')).removeprefix('Value error, ')}"
        if "input" in error and error.get("type") != "missing":
            text += f" (got {error['input']!r})"
        parts.append(text)
    return "; ".join(parts)
