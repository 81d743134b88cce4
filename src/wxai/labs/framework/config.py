"""Composition of a lab's configuration with Hydra, validated by its schema.

Each lab has a config tree ``configs/labs/<name>/``: ``config.yaml`` holds the
defaults and a defaults list; every choice is a config group (``preset/`` with
``smoke.yaml`` and ``full.yaml``, and e.g. ``model/`` with one file per model).
Command-line overrides use Hydra's syntax: ``preset=smoke epochs=50 model=deep``.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError

from wxai.core.composition import compose_yaml, validation_message
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
    lab_dir = configs_dir() / "labs" / spec.name
    resolved = compose_yaml(lab_dir, overrides, what=f"lab {spec.name!r}")
    try:
        config = spec.config.model_validate(resolved)
    except ValidationError as exc:
        raise ConfigError(
            f"invalid configuration for lab {spec.name!r}: {validation_message(exc)}; "
            f"see `wxai lab list` and configs/labs/{spec.name}/ for the valid settings"
        ) from exc
    return config, config.model_dump(mode="json")
